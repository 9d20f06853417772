"""Durable book state: checkpoints, a write-ahead tick journal, and crash recovery.

Any index book (an :class:`~kospi_fast.IndexEngine`, an :class:`~kospi_fast.IndexFamily`)
is saved from its :class:`~kospi_fast.state.BookState` and rebuilt from it: this module
imports no book class (``state.BOOK_TYPES`` names them).

Checkpoint file (``save`` / ``load``; the same bytes in memory with ``dumps`` / ``loads``,
e.g. to ship a book to another process; ``save_engine`` … are the same functions), format
version 2, all integers little-endian::

    offset 0   magic      8 bytes  b"\\x89KFSTAT\\n"
           8   version    uint32   2
          12   flags      uint32   0
          16   hdr_len    uint64   length of the JSON header (a multiple of 8)
          24   header     hdr_len bytes of ASCII JSON, space-padded
               data       the arrays' raw bytes, each 8-byte aligned (offsets in the header
                          are relative to the start of this section)
               trailer    48 bytes: b"KFSTEND\\n", uint64 body length (everything before
                          the trailer), SHA-256 of the body

The header holds the metadata (book kind, checkpoint sequence number, stream id, library
version), the universe's codes/names/sectors, the index definitions, the exact caps (JSON
integers) and levels (``float.hex``) as checks, one entry per array (dtype ``<i8``, ``<f8``
or ``|u1``, shape, offset, byte length, CRC-32: universe shares and base prices, prices,
reference prices, listed shares, market membership, the (K, n) index shares and factors,
the K divisors and previous closes) and the Python-level state: the audit log, the
dividends and the set of applied events. Values there are typed JSON: ``int`` and ``str``
as themselves, everything else tagged (``{"$float": "0x1.8p+1"}``, ``{"$fraction": [1,
10]}``, ``{"$date": ...}``, ``{"$event": "kospi_fast.events.Split", "fields": {...}}``, ...),
so ints, floats, Fractions and event objects come back exactly. There is no pickle: loading
never imports or calls anything but the event classes of :mod:`kospi_fast.events` (and
those passed in ``event_types``).

A reader refuses (:class:`CorruptStateError`, a ``ValueError``, naming the file and the
problem) a file with a bad magic, an unknown version, no end marker or a wrong length
(truncated/torn), a SHA-256 mismatch, or a header inconsistent with its arrays or itself.

Writes are atomic: the bytes go to ``<path>.tmp-<pid>-<n>``, are flushed and fsynced, the
temporary file is renamed onto ``path`` (``os.replace``) and the directory is fsynced. A
crash leaves either the previous file or the new one (plus, possibly, a stray temporary
file, which is never read, and which the next write of that path or
:meth:`JournaledBook.recover` removes once its process is gone).

Journal file (:class:`Journal`, format version 2): a 48-byte header (magic
b"\\x89KFJRNL\\n", version, base sequence number, 16-byte stream id, CRC-32) followed by
records, each a 32-byte header (b"KFRC", flags, sequence number, tick count, CRC-32 of the
payload, CRC-32 of the header), the payload (ids, prices and optionally times, each ``n``
little-endian int64) and an 8-byte commit marker (b"KFOK", low 32 bits of the sequence
number). A record cut short, or whose marker never reached the disk (reads as zeros), is a
torn tail: a write that never completed, never acknowledged, ignored and cut off. A record
whose header and marker are on disk was written completely: a bad checksum there (also in
the last record) is corruption, refused with :class:`CorruptStateError`.

Recovery rule: every journal record carries a sequence number (1, 2, ... over the life of a
stream, never reset); a checkpoint stores the sequence number of the last record whose
effect it contains. After a crash, load the checkpoint and replay, in order, the records
whose sequence number is greater than the checkpoint's (:func:`recover`). A checkpoint is
written first and made durable; only then is the journal replaced by an empty one whose
base is that sequence number. A crash between the two leaves a journal whose records are
all covered by the checkpoint: they are skipped, never applied twice.

Write-ahead ordering of :class:`JournaledEngine`: apply, then journal, then acknowledge.
``update_many`` validates and applies the batch all-or-nothing in memory; if it is
rejected, nothing is journaled. If it was applied, the record is appended and fsynced
before ``update_many`` returns; should that write fail, the in-memory batch is rolled back
and the error raised, so the journal holds exactly the applied batches. A crash between the
apply and the fsync loses a batch that was never acknowledged (the process that held it is
gone with it); a batch whose call returned is durable. Events (``apply_events``, ``roll``,
``apply_changes``) are not journaled: the wrapper checkpoints right after each.

POSIX-oriented (directory fsync, advisory journal lock); on other systems those two steps
are skipped.
"""

from kospi_fast.persist._files import (
    CorruptStateError,
    DurabilityError,
    StateMismatchError,
)
from kospi_fast.persist.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    dumps,
    dumps_engine,
    encode_state,
    load,
    load_engine,
    loads,
    loads_engine,
    read_checkpoint,
    save,
    save_engine,
)
from kospi_fast.persist.journal import (
    JOURNAL_VERSION,
    Journal,
    JournalRecord,
    ReplayReport,
    checkpoint,
    recover,
)
from kospi_fast.persist.journaled import JournaledBook, JournaledEngine

__all__ = [
    "FORMAT_VERSION",
    "JournaledBook",
    "JOURNAL_VERSION",
    "Checkpoint",
    "CorruptStateError",
    "DurabilityError",
    "Journal",
    "JournalRecord",
    "JournaledEngine",
    "ReplayReport",
    "StateMismatchError",
    "checkpoint",
    "dumps",
    "dumps_engine",
    "encode_state",
    "load",
    "load_engine",
    "loads",
    "loads_engine",
    "read_checkpoint",
    "recover",
    "save",
    "save_engine",
]
