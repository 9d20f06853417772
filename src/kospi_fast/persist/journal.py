"""The write-ahead tick journal (records of applied batches with sequence numbers), its scan
(torn tails, corrupt records), ``checkpoint`` (checkpoint, then reset the journal) and
``recover`` (checkpoint + the newer records). See :mod:`kospi_fast.persist` for the layout
and the recovery rule."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import struct
import uuid
import zlib
from collections.abc import Sequence
from typing import Self

import numpy as np

from kospi_fast import _validation
from kospi_fast.persist import _files
from kospi_fast.persist._files import (
    CorruptStateError,
    StateMismatchError,
    _atomic_write,
    _write_all,
)
from kospi_fast.persist.checkpoint import read_checkpoint, save

try:  # advisory single-writer lock on the journal (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["JOURNAL_VERSION", "Journal", "JournalRecord", "ReplayReport", "checkpoint", "recover"]

JOURNAL_VERSION = 2

_JMAGIC = b"\x89KFJRNL\n"
_JHEADER = struct.Struct("<8sIIQ16sI")  # magic, version, flags, base seq, stream id, reserved
_JHEADER_SIZE = _JHEADER.size + 4  # + crc32 of the above = 48
_RMAGIC = b"KFRC"
_RHEADER = struct.Struct("<4sIQQI")  # magic, flags, seq, n ticks, payload crc32
_RHEADER_SIZE = _RHEADER.size + 4  # + crc32 of the above = 32
_R_TIMES = 1  # record flag: the payload carries times
_R_FLOAT = 2  # record flag: the prices are float64 (a float64 book's trades), stored bit for bit
_RCOMMIT = struct.Struct("<4sI")  # after the payload: b"KFOK", low 32 bits of the sequence number
_RCOMMIT_MAGIC = b"KFOK"
_MAX_TICKS = 1 << 40


# ---------------------------------------------------------------------------- journal
@dataclasses.dataclass(frozen=True)
class JournalRecord:
    """One journaled batch: sequence number and the trades (little-endian int64 views; the
    prices float64 for a float64 book's batch)."""

    seq: int
    ids: np.ndarray
    prices: np.ndarray
    times: np.ndarray | None

    def __repr__(self) -> str:
        return (f"JournalRecord(seq {self.seq}, {self.ids.shape[0]:,} trades, "
                f"times={self.times is not None})")


@dataclasses.dataclass(frozen=True)
class _Scan:
    base_seq: int
    stream_id: str
    records: list  # (offset, seq, n, flags)
    valid_end: int
    torn_bytes: int
    data: bytes


@dataclasses.dataclass(frozen=True)
class ReplayReport:
    """What :meth:`Journal.replay` did.

    ``records``/``ticks`` were applied; ``skipped`` records were already in the checkpoint;
    ``last_seq`` is the sequence number the engine now reflects; ``torn_tail`` tells whether
    an incomplete last record (``torn_bytes`` long, never acknowledged) was ignored.
    """

    records: int
    ticks: int
    skipped: int
    last_seq: int
    torn_tail: bool
    torn_bytes: int


def _journal_header(base_seq: int, stream_id: str) -> bytes:
    raw = _JHEADER.pack(_JMAGIC, JOURNAL_VERSION, 0, base_seq, uuid.UUID(stream_id).bytes, 0)
    return raw + struct.pack("<I", zlib.crc32(raw))


def _lock(lock_path: str, path: str) -> int:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RuntimeError(f"{path}: the journal is open for writing elsewhere") from None
    return fd


def _record_header_ok(data: bytes, off: int) -> bool:
    hdr = data[off:off + _RHEADER_SIZE]
    return (len(hdr) == _RHEADER_SIZE and hdr[:4] == _RMAGIC
            and struct.unpack_from("<I", hdr, _RHEADER.size)[0] == zlib.crc32(hdr[:_RHEADER.size]))


def _read_checked(path: str, magic: bytes, what: str) -> bytes:
    """The whole file, read only after its first 8 bytes proved to be ``magic``."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if head != magic[: len(head)]:
            raise CorruptStateError(path, f"not a kospi_fast {what} (bad magic {head!r})")
        return head + fh.read()


def _commit_marker(seq: int) -> bytes:
    return _RCOMMIT.pack(_RCOMMIT_MAGIC, seq & 0xFFFFFFFF)


def _record_end(off: int, flags: int, n: int) -> int:
    return off + _RHEADER_SIZE + n * 8 * (3 if flags & _R_TIMES else 2) + _RCOMMIT.size


def _scan(path: str) -> _Scan:
    """Read a journal and locate its complete records; raise on damage other than a torn tail.

    Torn tail (a write that never completed, never acknowledged): the last record is cut short,
    or its bytes from some point on never reached the disk (its commit marker reads as zeros),
    or what follows the last record is not the start of one. Everything else that fails a check
    is corruption (:class:`CorruptStateError`), also in the last record: a record whose header
    and commit marker are on disk was written completely, so a bad checksum there is damage to
    an acknowledged batch, not a crash mid-write."""
    data = _read_checked(path, _JMAGIC, "journal")
    size = len(data)
    if size < _JHEADER_SIZE:
        raise CorruptStateError(path, f"truncated journal header ({size} bytes)")
    _, version, flags, base_seq, sid, _ = _JHEADER.unpack_from(data, 0)
    if version != JOURNAL_VERSION:
        raise CorruptStateError(path, f"unsupported journal format version {version} "
                                      f"(this kospi_fast reads version {JOURNAL_VERSION})")
    if struct.unpack_from("<I", data, _JHEADER.size)[0] != zlib.crc32(data[:_JHEADER.size]):
        raise CorruptStateError(path, "journal header checksum mismatch: the file is corrupted")
    if flags:
        raise CorruptStateError(path, f"inconsistent journal header: unknown flags {flags}")
    records = []
    off, expect, torn = _JHEADER_SIZE, base_seq + 1, 0
    while off < size:
        if not _record_header_ok(data, off):
            if size - off >= _RHEADER_SIZE:
                magic, rflags, seq, n, _ = _RHEADER.unpack_from(data, off)
                end = _record_end(off, rflags, n) if n <= _MAX_TICKS else -1
                written = (magic == _RMAGIC and seq == expect) or (
                    end == size and data[end - _RCOMMIT.size:end] == _commit_marker(expect))
                if written:
                    raise CorruptStateError(path, f"journal record {expect} at byte {off}: header checksum "
                                                  "mismatch in a completely written record (corrupted, not torn)")
            # An unreadable header is a torn tail only if nothing valid follows it.
            nxt = data.find(_RMAGIC, off + 1)
            while nxt != -1 and not _record_header_ok(data, nxt):
                nxt = data.find(_RMAGIC, nxt + 1)
            if nxt != -1:
                raise CorruptStateError(path, f"corrupt journal record at byte {off} (followed by valid records)")
            torn = size - off
            break
        _, rflags, seq, n, pcrc = _RHEADER.unpack_from(data, off)
        if rflags & ~(_R_TIMES | _R_FLOAT) or n > _MAX_TICKS:
            raise CorruptStateError(path, f"journal record at byte {off}: bad flags {rflags} or count {n}")
        if seq != expect:
            raise CorruptStateError(path, f"journal record at byte {off} has sequence number {seq}, expected "
                                          f"{expect}: records are missing or out of order")
        end = _record_end(off, rflags, n)
        if end > size:  # cut short while being written
            torn = size - off
            break
        marker = data[end - _RCOMMIT.size:end]
        if zlib.crc32(memoryview(data)[off + _RHEADER_SIZE:end - _RCOMMIT.size]) != pcrc \
                or marker != _commit_marker(seq):
            if end == size and marker == bytes(_RCOMMIT.size):  # its end never reached the disk
                torn = size - off
                break
            raise CorruptStateError(path, f"journal record {seq} at byte {off}: payload checksum or commit marker "
                                          "mismatch in a completely written record (corrupted, not a torn tail)")
        records.append((off, seq, n, rflags))
        off, expect = end, expect + 1
    return _Scan(base_seq=base_seq, stream_id=str(uuid.UUID(bytes=sid)), records=records,
                 valid_end=size - torn, torn_bytes=torn, data=data)


def _record(scan: _Scan, rec: tuple) -> JournalRecord:
    off, seq, n, flags = rec
    start = off + _RHEADER_SIZE
    cols = [np.frombuffer(scan.data, dtype="<i8", count=n, offset=start + k * 8 * n)
            for k in range(3 if flags & _R_TIMES else 2)]
    prices = cols[1].view("<f8") if flags & _R_FLOAT else cols[1]
    return JournalRecord(seq=seq, ids=cols[0], prices=prices, times=cols[2] if len(cols) == 3 else None)


def _whole(prices: object) -> bool:
    """True when float prices are all whole numbers that int64 holds (an exact book's batch
    given as floats: journaled as int64, as before)."""
    a = np.asarray(prices)
    with np.errstate(invalid="ignore"):
        return bool(np.isfinite(a).all() and (a == np.floor(a)).all() and (np.abs(a) < 2.0**63).all())


class Journal:
    """Append-only journal of applied trade batches since the last checkpoint.

    ``Journal(path)`` opens an existing journal for appending (a torn tail left by a crash is
    cut off first) or creates an empty one. One writer at a time: on POSIX an advisory lock
    on ``<path>.lock`` (kept for the object's life, across :meth:`reset`) enforces it. With
    ``fsync=True`` (default) each :meth:`append` is on stable storage when it returns;
    ``fsync=False`` survives a process crash but not an OS crash or power loss.
    """

    def __init__(self, path: str | os.PathLike, *, fsync: bool = True, _new: tuple | None = None) -> None:
        self.path = os.fspath(path)
        self.fsync = bool(fsync)
        self._fd = self._lock_fd = -1
        self._broken: str | None = None
        self._lock_fd = _lock(self.path + ".lock", self.path)
        try:
            if _new is not None or not os.path.exists(self.path):
                base_seq, sid = _new if _new is not None else (0, str(uuid.uuid4()))
                _atomic_write(self.path, _journal_header(base_seq, sid))
            self._open()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        where = "closed" if self._fd < 0 else f"records {self.base_seq}..{self.last_seq}"
        return f"Journal({self.path!r}, {where}, fsync={self.fsync})"

    @classmethod
    def create(cls, path: str | os.PathLike, *, base_seq: int = 0, stream_id: str | None = None,
               fsync: bool = True) -> Journal:
        """Atomically replace ``path`` with an empty journal following sequence ``base_seq``."""
        sid = str(uuid.uuid4()) if stream_id is None else str(uuid.UUID(stream_id))
        if isinstance(base_seq, bool) or not isinstance(base_seq, int) or not 0 <= base_seq < 2**63:
            raise ValueError(f"`base_seq` must be an int in [0, 2**63), got {base_seq!r}")
        return cls(path, fsync=fsync, _new=(base_seq, sid))

    def _open(self) -> None:
        fd = os.open(self.path, os.O_RDWR | getattr(os, "O_BINARY", 0))
        try:
            scan = _scan(self.path)
            if scan.torn_bytes:  # never acknowledged: cut it so new records follow valid ones
                os.ftruncate(fd, scan.valid_end)
                os.fsync(fd)
            os.lseek(fd, scan.valid_end, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._size = scan.valid_end
        self.base_seq = scan.base_seq
        self.stream_id = scan.stream_id
        self.last_seq = scan.records[-1][1] if scan.records else scan.base_seq
        self.truncated_tail = scan.torn_bytes

    def append(self, ids: object, prices: object, times: object = None) -> int:
        """Append one batch (ids, prices and optional times, as int64; float prices, a float64
        book's, as float64 bit for bit) and return its sequence
        number; flushed and (with ``fsync``) fsynced before returning. A failed write is cut
        back off the file; if even that fails the journal refuses further appends."""
        if self._fd < 0:
            raise ValueError(f"{self.path}: the journal is closed")
        if self._broken:
            raise OSError(f"{self.path}: the journal is unusable after an earlier failure ({self._broken}); "
                          "recover from the checkpoint")
        a = np.asarray(ids)
        if a.ndim != 1 or (a.dtype.kind not in "iu" and a.size):
            raise TypeError(f"`ids` must be a 1-d integer array, got {a.dtype} {a.shape}")
        floats = np.asarray(prices).dtype.kind == "f" and not _whole(prices)
        px = (_validation.float64_array(prices, "prices").astype("<f8").view("<i8") if floats
              else _validation.int64_array(prices, "prices").astype("<i8"))
        cols = [a.astype("<i8"), px]
        if times is not None:
            cols.append(_validation.int64_array(times, "times").astype("<i8"))
        for c, name in zip(cols[1:], ("prices", "times")):
            _validation.check_same_length(cols[0], "ids", c, name)
        n = cols[0].shape[0]
        payload = b"".join(c.tobytes() for c in cols)
        seq = self.last_seq + 1
        flags = (_R_TIMES if times is not None else 0) | (_R_FLOAT if floats else 0)
        hdr = _RHEADER.pack(_RMAGIC, flags, seq, n, zlib.crc32(payload))
        rec = hdr + struct.pack("<I", zlib.crc32(hdr)) + payload + _commit_marker(seq)
        try:
            half = len(rec) // 2
            _write_all(self._fd, memoryview(rec)[:half])
            _files._hook("record-half-written", self.path)
            _write_all(self._fd, memoryview(rec)[half:])
            if self.fsync:
                os.fsync(self._fd)
        except BaseException as exc:
            try:
                os.ftruncate(self._fd, self._size)
                os.lseek(self._fd, self._size, os.SEEK_SET)
                if self.fsync:
                    os.fsync(self._fd)
            except OSError:
                self._broken = repr(exc)
            if isinstance(exc, OSError):  # fsync errors leave the page cache state unknown
                self._broken = repr(exc)
            raise
        self._size += len(rec)
        self.last_seq = seq
        return seq

    def reset(self, base_seq: int) -> None:
        """Atomically replace the journal by an empty one following ``base_seq`` (call only
        once a checkpoint covering ``base_seq`` is durable) and reopen it."""
        if base_seq < self.last_seq:
            raise ValueError(f"cannot reset the journal to {base_seq}: it holds records up to {self.last_seq}")
        if self._lock_fd < 0:
            raise ValueError(f"{self.path}: the journal is closed")
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        _atomic_write(self.path, _journal_header(base_seq, self.stream_id))
        self._broken = None
        self._open()

    def close(self) -> None:
        """Close the journal and release its lock."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if hasattr(self, "_lock_fd"):
            with contextlib.suppress(OSError):
                self.close()

    # ------------------------------------------------------------------ reading
    @staticmethod
    def read(path: str | os.PathLike) -> list[JournalRecord]:
        """The complete, checksum-valid records of a journal, in order (a torn tail is
        skipped; a corrupt record elsewhere raises :class:`CorruptStateError`)."""
        scan = _scan(os.fspath(path))
        return [_record(scan, rec) for rec in scan.records]

    @staticmethod
    def replay(path: str | os.PathLike, engine: object, *, after_seq: int | None = None,
               stream_id: str | None = None) -> ReplayReport:
        """Apply, in order via ``engine.update_many``, the records with a sequence number above
        ``after_seq`` (default: all of them). Stops cleanly at a torn tail.

        Raises
        ------
        CorruptStateError
            The journal is damaged other than by a torn tail (e.g. a corrupt record in the middle).
        StateMismatchError
            ``stream_id`` differs from the journal's; the journal starts after ``after_seq``
            (records are missing); or a record does not apply to the engine (the engine then
            holds the records before it).
        """
        p = os.fspath(path)
        scan = _scan(p)
        if stream_id is not None and stream_id != scan.stream_id:
            raise StateMismatchError(f"{p}: journal stream {scan.stream_id} does not belong to the checkpoint "
                                     f"(stream {stream_id})")
        after = scan.base_seq if after_seq is None else int(after_seq)
        if scan.base_seq > after:
            raise StateMismatchError(f"{p}: the journal starts after sequence {scan.base_seq}, the checkpoint "
                                     f"covers only up to {after}: records {after + 1}..{scan.base_seq} are missing")
        applied = ticks = skipped = 0
        last = after
        for rec in scan.records:
            r = _record(scan, rec)
            if r.seq <= after:
                skipped += 1
                continue
            try:
                engine.update_many(r.ids, r.prices)
            except (TypeError, ValueError) as exc:
                raise StateMismatchError(f"{p}: journal record {r.seq} does not apply to the engine: {exc}") from exc
            applied += 1
            ticks += r.ids.shape[0]
            last = r.seq
        return ReplayReport(records=applied, ticks=ticks, skipped=skipped, last_seq=last,
                            torn_tail=scan.torn_bytes > 0, torn_bytes=scan.torn_bytes)


# ---------------------------------------------------------------------------- checkpoint + recovery
def checkpoint(engine: object, state_path: str | os.PathLike, journal: str | os.PathLike | Journal,
               *, seq: int | None = None) -> int:
    """Save ``engine`` atomically as the checkpoint of ``journal``, then reset the journal.

    The checkpoint records the sequence number of the journal's last record (or ``seq``) and
    the journal's stream id; only after it is durable is the journal atomically replaced by
    an empty one following that sequence number. ``engine`` must reflect every record of the
    journal. Returns the checkpoint's sequence number.
    """
    owned = not isinstance(journal, Journal)
    j = Journal(journal) if owned else journal
    try:
        s = j.last_seq if seq is None else int(seq)
        if s < j.last_seq:
            raise ValueError(f"`seq` {s} is older than the journal's last record {j.last_seq}")
        save(engine, state_path, seq=s, stream_id=j.stream_id)
        _files._hook("checkpoint-saved", os.fspath(state_path))
        j.reset(s)
    finally:
        if owned:
            j.close()
    return s


def recover(state_path: str | os.PathLike, journal_path: str | os.PathLike, *, cls: type | None = None,
            event_types: Sequence[type] = ()) -> tuple[object, ReplayReport]:
    """Restart after a crash: load the checkpoint and replay the journal records newer than it.
    Read-only (files are not modified). Returns the engine and the replay report."""
    ck = read_checkpoint(state_path, cls=cls, event_types=event_types)
    report = Journal.replay(journal_path, ck.engine, after_seq=ck.seq, stream_id=ck.stream_id)
    return ck.engine, report
