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
file, which is never read).

Journal file (:class:`Journal`): a 48-byte header (magic b"\\x89KFJRNL\\n", version, base
sequence number, 16-byte stream id, CRC-32) followed by records, each a 32-byte header
(b"KFRC", flags, sequence number, tick count, CRC-32 of the payload, CRC-32 of the header)
and the payload: ids, prices and optionally times, each ``n`` little-endian int64.

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

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import itertools
import json
import os
import struct
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Self

import numpy as np

from kospi_fast import _validation
from kospi_fast._version import __version__
from kospi_fast.definitions import IndexDefinition
from kospi_fast.events import ALL_EVENTS, Event
from kospi_fast.state import BOOK_TYPES, BookState, RebaseRecord
from kospi_fast.universe import Universe

try:  # advisory single-writer lock on the journal (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

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

FORMAT_VERSION = 2
JOURNAL_VERSION = 1

_MAGIC = b"\x89KFSTAT\n"
_END = b"KFSTEND\n"
_PREFIX = struct.Struct("<8sIIQ")  # magic, version, flags, header length
_TRAILER = struct.Struct("<8sQ32s")  # end tag, body length, sha256(body)

_JMAGIC = b"\x89KFJRNL\n"
_JHEADER = struct.Struct("<8sIIQ16sI")  # magic, version, flags, base seq, stream id, reserved
_JHEADER_SIZE = _JHEADER.size + 4  # + crc32 of the above = 48
_RMAGIC = b"KFRC"
_RHEADER = struct.Struct("<4sIQQI")  # magic, flags, seq, n ticks, payload crc32
_RHEADER_SIZE = _RHEADER.size + 4  # + crc32 of the above = 32
_R_TIMES = 1  # record flag: the payload carries times
_MAX_TICKS = 1 << 40

#: TEST HOOK ONLY. When set, called as ``hook(stage, path)`` at the crash points of the
#: write paths ("tmp-half-written", "tmp-synced", "replaced", "checkpoint-saved",
#: "record-half-written") so a test can stop (and kill) a process there. Never set it in
#: production code.
_crash_test_hook: Callable[[str, str], None] | None = None

_tmp_counter = itertools.count()


def _hook(stage: str, path: str) -> None:
    if _crash_test_hook is not None:
        _crash_test_hook(stage, path)


# ---------------------------------------------------------------------------- errors
class CorruptStateError(ValueError):
    """A checkpoint or journal file is damaged, torn or not one of ours; it is refused."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class StateMismatchError(ValueError):
    """A journal does not belong to (or does not follow) the checkpoint it is replayed on."""


class DurabilityError(OSError):
    """A write reached the point of no return (the rename) but its durability is unknown
    (e.g. the directory fsync failed). The new file may or may not survive a power loss."""


# ---------------------------------------------------------------------------- low-level I/O
def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(path: str) -> None:
    if os.name != "posix":  # pragma: no cover - directory fsync is a POSIX notion
        return
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file, fsync, rename, fsync the directory.

    Any failure before the rename leaves ``path`` untouched (the temporary file is removed);
    a failure after it raises :class:`DurabilityError`.
    """
    tmp = f"{path}.tmp-{os.getpid()}-{next(_tmp_counter)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
    try:
        try:
            half = len(data) // 2
            _write_all(fd, memoryview(data)[:half])
            _hook("tmp-half-written", tmp)
            _write_all(fd, memoryview(data)[half:])
            os.fsync(fd)
        finally:
            os.close(fd)
        _hook("tmp-synced", tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _hook("replaced", path)
    try:
        _fsync_dir(path)
    except OSError as exc:
        raise DurabilityError(exc.errno, f"{path} was replaced but its directory could not be fsynced: {exc}") from exc


# ---------------------------------------------------------------------------- typed values
_SIMPLE_TAGS = ("$float", "$fraction", "$decimal", "$date", "$datetime", "$tuple", "$list", "$np",
                "$event", "$record", "$definition", "$dict")


def _event_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _enc(v: object, where: str) -> object:
    """Encode a value as typed JSON that decodes back to an equal value of the same type."""
    if v is None or type(v) in (bool, str, int):
        return v
    if isinstance(v, np.generic):
        if v.dtype.kind not in "biuf":
            raise TypeError(f"{where}: cannot persist the NumPy scalar {v!r} (dtype {v.dtype})")
        return {"$np": v.dtype.str, "hex": v.tobytes().hex()}
    t = type(v)
    if t is float:
        return {"$float": v.hex()}  # type: ignore[attr-defined]
    if t is Fraction:
        return {"$fraction": [v.numerator, v.denominator]}  # type: ignore[attr-defined]
    if t is Decimal:
        return {"$decimal": str(v)}
    if t is _dt.datetime:
        if v.tzinfo is not None and type(v.tzinfo) is not _dt.timezone:  # type: ignore[attr-defined]
            raise TypeError(f"{where}: cannot persist {v!r}: only naive or fixed-offset datetimes round-trip")
        return {"$datetime": v.isoformat()}  # type: ignore[attr-defined]
    if t is _dt.date:
        return {"$date": v.isoformat()}  # type: ignore[attr-defined]
    if t is tuple:
        return {"$tuple": [_enc(x, f"{where}[{k}]") for k, x in enumerate(v)]}  # type: ignore[arg-type]
    if t is list:
        return {"$list": [_enc(x, f"{where}[{k}]") for k, x in enumerate(v)]}  # type: ignore[arg-type]
    if isinstance(v, Event) and dataclasses.is_dataclass(v):
        return {
            "$event": _event_name(t),
            "fields": {f.name: _enc(getattr(v, f.name), f"{where}.{f.name}") for f in dataclasses.fields(v)},
        }
    if t is RebaseRecord:
        return {"$record": {f.name: _enc(getattr(v, f.name), f"{where}.{f.name}")
                            for f in dataclasses.fields(RebaseRecord)}}
    if t is IndexDefinition:
        return {"$definition": {f.name: _enc(getattr(v, f.name), f"{where}.{f.name}")
                                for f in dataclasses.fields(IndexDefinition)}}
    if t is dict and all(type(k) is str for k in v):  # type: ignore[attr-defined]
        return {"$dict": {k: _enc(x, f"{where}[{k!r}]") for k, x in v.items()}}  # type: ignore[attr-defined]
    raise TypeError(
        f"{where}: cannot persist a value of type {t.__module__}.{t.__qualname__} ({v!r}); "
        "supported: None, bool, int, float, str, Fraction, Decimal, date, datetime, tuple, list, "
        "NumPy numeric scalars, kospi_fast events"
    )


class _UnknownEventType(ValueError):
    pass


class _Decoder:
    def __init__(self, event_types: Iterable[type]) -> None:
        self.events: dict[str, type] = {}
        for cls in (*ALL_EVENTS, *event_types):
            if not (isinstance(cls, type) and issubclass(cls, Event) and dataclasses.is_dataclass(cls)):
                raise TypeError(f"`event_types` must hold Event dataclasses, got {cls!r}")
            self.events[_event_name(cls)] = cls

    def __call__(self, v: object, where: str) -> object:
        if v is None or type(v) in (bool, str, int):
            return v
        if type(v) is not dict or len(v) == 0:
            raise ValueError(f"{where}: unexpected JSON value {v!r}")
        tag = next(iter(v))
        if tag not in _SIMPLE_TAGS:
            raise ValueError(f"{where}: unknown value tag {tag!r}")
        x = v[tag]
        if tag == "$float":
            return float.fromhex(_str(x, where))
        if tag == "$fraction":
            if not (type(x) is list and len(x) == 2 and all(type(y) is int for y in x)):
                raise ValueError(f"{where}: bad fraction {x!r}")
            return Fraction(x[0], x[1])
        if tag == "$decimal":
            return Decimal(_str(x, where))
        if tag == "$datetime":
            return _dt.datetime.fromisoformat(_str(x, where))
        if tag == "$date":
            return _dt.date.fromisoformat(_str(x, where))
        if tag in ("$tuple", "$list"):
            if type(x) is not list:
                raise ValueError(f"{where}: bad sequence {x!r}")
            items = [self(y, f"{where}[{k}]") for k, y in enumerate(x)]
            return tuple(items) if tag == "$tuple" else items
        if tag == "$np":
            dt = np.dtype(_str(x, where))
            raw = bytes.fromhex(_str(v.get("hex"), where))
            if dt.kind not in "biuf" or len(raw) != dt.itemsize:
                raise ValueError(f"{where}: bad NumPy scalar {v!r}")
            return np.frombuffer(raw, dtype=dt)[0]
        if tag == "$event":
            return self.event(v, where)
        if tag == "$dict":
            if type(x) is not dict:
                raise ValueError(f"{where}: bad dict {x!r}")
            return {k: self(y, f"{where}[{k!r}]") for k, y in x.items()}
        if tag == "$definition":
            return self.definition(x, where)
        return self.record(x, where)

    def definition(self, x: object, where: str) -> IndexDefinition:
        decl = {f.name for f in dataclasses.fields(IndexDefinition)}
        if type(x) is not dict or set(x) != decl:
            raise ValueError(f"{where}: index definition fields do not match IndexDefinition")
        return IndexDefinition(**{k: self(fv, f"{where}.{k}") for k, fv in x.items()})

    def event(self, v: dict, where: str) -> Event:
        name = _str(v["$event"], where)
        cls = self.events.get(name)
        if cls is None:
            raise _UnknownEventType(f"{where}: unknown event type {name!r} (pass its class in `event_types`)")
        fields = v.get("fields")
        if type(fields) is not dict:
            raise ValueError(f"{where}: event {name} has no fields")
        decl = {f.name: f for f in dataclasses.fields(cls)}
        if set(fields) != set(decl):
            raise ValueError(f"{where}: event {name} fields {sorted(fields)} do not match the class's {sorted(decl)}")
        values = {k: self(fv, f"{where}.{k}") for k, fv in fields.items()}
        ev = cls(**{k: x for k, x in values.items() if decl[k].init})
        for k, x in values.items():
            if not decl[k].init:
                object.__setattr__(ev, k, x)
        return ev

    def record(self, x: object, where: str) -> RebaseRecord:
        decl = {f.name for f in dataclasses.fields(RebaseRecord)}
        if type(x) is not dict or set(x) != decl:
            raise ValueError(f"{where}: audit record fields do not match RebaseRecord")
        return RebaseRecord(**{k: self(fv, f"{where}.{k}") for k, fv in x.items()})


def _str(x: object, where: str) -> str:
    if type(x) is not str:
        raise ValueError(f"{where}: expected a string, got {x!r}")
    return x


def _reject_json_float(s: str) -> float:
    raise ValueError(f"untagged JSON float {s!r}")


# ---------------------------------------------------------------------------- checkpoint
@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the book, the journal sequence number it covers, the stream id
    of its journal (or None for a plain :func:`save`) and the raw JSON header."""

    engine: object
    seq: int
    stream_id: str | None
    header: dict

    @property
    def book(self) -> object:
        """The loaded book (``engine`` is its older name)."""
        return self.engine


def _to_state(book: object) -> BookState:
    if isinstance(book, JournaledBook):  # its state, taken under the writer's lock
        with book._lock:
            return _to_state(book.book)
    to_state = getattr(book, "to_state", None)
    if not callable(to_state) or not isinstance(book, tuple(BOOK_TYPES.values())):
        raise TypeError(f"`book` must be an index book (IndexEngine, IndexFamily), got {type(book).__name__}")
    state = to_state()
    if type(state) is not BookState:
        raise TypeError(f"cannot persist: {type(book).__name__}.to_state() returned {type(state).__name__}")
    if type(state.audit) is not list or type(state.dividends) is not list or type(state.applied) is not set:
        raise TypeError("cannot persist: `audit`/`dividends` must be lists and `applied` a set")
    state.check()
    return state


_ARRAY_DTYPES = {"<i8": np.int64, "<f8": np.float64, "|u1": np.uint8}


def encode_state(book: object, *, seq: int = 0, stream_id: str | None = None) -> bytes:
    """The checkpoint bytes of ``book`` (what :func:`save` writes)."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63:
        raise ValueError(f"`seq` must be an int in [0, 2**63), got {seq!r}")
    st = _to_state(book)
    if isinstance(book, JournaledBook):
        book = book.book
    levels_now = np.asarray(book.levels, dtype=np.float64)  # type: ignore[attr-defined]
    u = st.universe
    caps = _exact_caps(st.prices, st.index_shares)
    levels = [c / d for c, d in zip(caps, st.divisors.tolist())]
    if [x.hex() for x in levels] != [float(x).hex() for x in levels_now]:
        raise RuntimeError("the book changed while it was being saved: save it under the writer's lock")
    arrays = [
        ("universe.shares", u.shares), ("universe.base_prices", u.base_prices),
        ("prices", st.prices), ("reference_prices", st.reference_prices), ("listed", st.listed),
        ("member", st.member.astype(np.uint8)), ("index_shares", st.index_shares), ("factors", st.factors),
        ("divisors", st.divisors), ("previous_levels", st.previous_levels),
    ]
    parts: list[bytes] = []
    meta: dict[str, dict] = {}
    off = 0
    for name, arr in arrays:
        dtype = {"i": "<i8", "f": "<f8", "u": "|u1"}[arr.dtype.kind]
        raw = np.ascontiguousarray(arr, dtype=dtype).tobytes()
        meta[name] = {"dtype": dtype, "shape": [int(x) for x in arr.shape], "offset": off, "nbytes": len(raw),
                      "crc32": zlib.crc32(raw)}
        pad = -len(raw) % 8
        parts += [raw, b"\0" * pad]
        off += len(raw) + pad
    applied = [_enc(ev, "applied") for ev in st.applied]
    applied.sort(key=lambda x: json.dumps(x, sort_keys=True))  # deterministic order of a set
    header = {
        "format": "kospi_fast index book checkpoint",
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "kind": st.kind,
        "book_class": f"{type(book).__module__}.{type(book).__qualname__}",
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(),
        "seq": seq,
        "stream_id": stream_id,
        "n_stocks": len(u),
        "n_indices": len(st.definitions),
        "universe": {"codes": list(u.codes), "names": list(u.names),
                     "sectors": None if u.sectors is None else list(u.sectors)},
        "definitions": [_enc(d, f"definitions[{k}]") for k, d in enumerate(st.definitions)],
        "caps": caps,
        "levels": [_enc(x, "levels") for x in levels],
        "arrays": meta,
        "audit": [_enc(r, f"audit[{k}]") for k, r in enumerate(st.audit)],
        "dividends": [_enc(d, f"dividends[{k}]") for k, d in enumerate(st.dividends)],
        "applied": applied,
    }
    hdr = json.dumps(header, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
    hdr += b" " * (-len(hdr) % 8)
    body = b"".join([_PREFIX.pack(_MAGIC, FORMAT_VERSION, 0, len(hdr)), hdr, *parts])
    return body + _TRAILER.pack(_END, len(body), hashlib.sha256(body).digest())


def _exact_caps(prices: np.ndarray, shares: np.ndarray) -> list[int]:
    return [int(np.dot(row.astype(object), prices.astype(object))) if row.size else 0 for row in shares]


def save(book: object, path: str | os.PathLike, *, seq: int = 0, stream_id: str | None = None) -> None:
    """Write the whole state of ``book`` (an IndexEngine or IndexFamily) to ``path``
    atomically (temp file, fsync, rename, directory fsync). ``seq``/``stream_id`` tie the
    checkpoint to a journal (see :func:`checkpoint`); a plain save leaves them at 0/None.

    Not safe against a concurrent writer thread on the same book: hold the writer's lock
    (a change during the save is detected and raises ``RuntimeError``).
    """
    _atomic_write(os.fspath(path), encode_state(book, seq=seq, stream_id=stream_id))


save_engine = save


def _verify(path: str, data: bytes) -> tuple[dict, memoryview]:
    """Check framing and checksum; return the parsed header and the data section."""
    size = len(data)
    if data[: min(size, 8)] != _MAGIC[: min(size, 8)]:
        raise CorruptStateError(path, f"not a kospi_fast checkpoint (bad magic {bytes(data[:8])!r})")
    if size < _PREFIX.size:
        raise CorruptStateError(path, f"truncated: {size} bytes, shorter than the fixed prefix")
    _, version, flags, hdr_len = _PREFIX.unpack_from(data, 0)
    if version != FORMAT_VERSION:
        raise CorruptStateError(path, f"unsupported checkpoint format version {version} "
                                      f"(this kospi_fast reads version {FORMAT_VERSION})")
    if size < _PREFIX.size + _TRAILER.size:
        raise CorruptStateError(path, f"truncated: {size} bytes, no room for the trailer")
    end, body_len, digest = _TRAILER.unpack_from(data, size - _TRAILER.size)
    if end != _END:
        raise CorruptStateError(path, "truncated or torn: no end marker (the file was cut short or not "
                                      "completely written)")
    if body_len != size - _TRAILER.size:
        raise CorruptStateError(path, f"truncated or torn: the trailer records {body_len} body bytes, the "
                                      f"file holds {size - _TRAILER.size}")
    body = memoryview(data)[:body_len]
    if hashlib.sha256(body).digest() != digest:
        raise CorruptStateError(path, "checksum mismatch (SHA-256): the file is corrupted")
    if flags != 0 or hdr_len % 8 or _PREFIX.size + hdr_len > body_len:
        raise CorruptStateError(path, f"inconsistent header: flags {flags}, header length {hdr_len}")
    try:
        header = json.loads(bytes(body[_PREFIX.size:_PREFIX.size + hdr_len]).decode("ascii"),
                            parse_float=_reject_json_float, parse_constant=_reject_json_float)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptStateError(path, f"inconsistent header: not valid JSON ({exc})") from None
    if type(header) is not dict or header.get("format_version") != FORMAT_VERSION:
        raise CorruptStateError(path, "inconsistent header: format_version does not match the prefix")
    return header, body[_PREFIX.size + hdr_len:]


def _array(header: dict, section: memoryview, name: str, shape: tuple[int, ...]) -> np.ndarray:
    m = header["arrays"][name]
    dtype, got, off, nbytes, crc = m["dtype"], m["shape"], m["offset"], m["nbytes"], m["crc32"]
    if dtype not in _ARRAY_DTYPES or type(got) is not list or tuple(got) != shape \
            or not all(type(x) is int for x in got):
        raise ValueError(f"array {name!r}: dtype/shape {dtype!r} {got!r}, expected shape {list(shape)}")
    size = int(np.prod(shape, dtype=np.int64))
    if type(off) is not int or off < 0 or off % 8 or nbytes != size * np.dtype(dtype).itemsize \
            or off + nbytes > len(section):
        raise ValueError(f"array {name!r}: offset {off}/length {nbytes} do not fit the data section")
    raw = section[off:off + nbytes]
    if zlib.crc32(raw) != crc:
        raise ValueError(f"array {name!r}: CRC-32 mismatch")
    return np.frombuffer(raw, dtype=dtype).astype(_ARRAY_DTYPES[dtype]).reshape(shape)


def _decode_state(header: dict, section: memoryview, decode: _Decoder) -> BookState:
    n, K = header["n_stocks"], header["n_indices"]
    if type(n) is not int or n < 0 or type(K) is not int or K < 1:
        raise ValueError(f"bad n_stocks {n!r} or n_indices {K!r}")
    uh = header["universe"]
    codes, names, sectors = uh["codes"], uh["names"], uh["sectors"]
    if len(codes) != n:
        raise ValueError(f"{len(codes)} codes for {n} stocks")
    universe = Universe(codes, names, _array(header, section, "universe.shares", (n,)),
                        _array(header, section, "universe.base_prices", (n,)), sectors)
    definitions = [decode(d, f"definitions[{k}]") for k, d in enumerate(header["definitions"])]
    if len(definitions) != K or not all(type(d) is IndexDefinition for d in definitions):
        raise ValueError(f"expected {K} index definitions")
    member_u8 = _array(header, section, "member", (n,))
    if member_u8.size and member_u8.max() > 1:
        raise ValueError("member flags must be 0 or 1")
    kind = header["kind"]
    if type(kind) is not str:
        raise ValueError(f"bad book kind {kind!r}")
    state = BookState(
        kind=kind,
        universe=universe,
        prices=_array(header, section, "prices", (n,)),
        reference_prices=_array(header, section, "reference_prices", (n,)),
        listed=_array(header, section, "listed", (n,)),
        member=member_u8.astype(bool),
        definitions=definitions,
        index_shares=_array(header, section, "index_shares", (K, n)),
        factors=_array(header, section, "factors", (K, n)),
        divisors=_array(header, section, "divisors", (K,)),
        previous_levels=_array(header, section, "previous_levels", (K,)),
        audit=[decode(r, f"audit[{k}]") for k, r in enumerate(header["audit"])],
        dividends=[decode(d, f"dividends[{k}]") for k, d in enumerate(header["dividends"])],
        applied={decode(e, f"applied[{k}]") for k, e in enumerate(header["applied"])},
    )
    state.check()
    _validation.check_price_bound(state.prices, "prices",
                                  min(_validation.price_bound(row) for row in state.index_shares))
    caps = _exact_caps(state.prices, state.index_shares)
    if caps != header["caps"]:
        raise ValueError(f"the prices and index shares give caps {caps[:3]}…, the header records "
                         f"{header['caps'][:3]}…")
    levels = [decode(x, "levels") for x in header["levels"]]
    want = [c / d for c, d in zip(caps, state.divisors.tolist())]
    if len(levels) != K or any(type(x) is not float or x.hex() != w.hex() for x, w in zip(levels, want)):
        raise ValueError("the levels differ from the recorded ones")
    return state


def _book_class(kind: str, cls: type | None) -> type:
    base = BOOK_TYPES.get(kind)
    if base is None:
        raise ValueError(f"unknown book kind {kind!r} (known: {sorted(BOOK_TYPES)})")
    if cls is None:
        return base
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"the checkpoint holds a {kind}; `cls` {cls!r} is not {kind} or a subclass")
    return cls


def read_checkpoint(path: str | os.PathLike, *, cls: type | None = None,
                    event_types: Sequence[type] = ()) -> Checkpoint:
    """Read and verify a checkpoint; return the book with its sequence number and stream id.

    ``cls``: the class to build (default: the kind recorded in the file, ``IndexEngine`` or
    ``IndexFamily``; a subclass of it may be given).

    Raises
    ------
    CorruptStateError
        Bad magic, unknown version, truncated or torn file, checksum mismatch, inconsistent
        header. The message names the file and the problem.
    TypeError
        ``cls`` is not the recorded kind of book (or a subclass).
    OSError
        The file cannot be read (e.g. ``FileNotFoundError``).
    """
    _check_cls(cls)
    decode = _Decoder(event_types)
    p = os.fspath(path)
    with open(p, "rb") as fh:
        data = fh.read()
    return _parse_checkpoint(p, data, cls, decode)


def _check_cls(cls: object) -> None:
    if cls is not None and not (isinstance(cls, type) and issubclass(cls, tuple(BOOK_TYPES.values()))):
        raise TypeError(f"`cls` must be a book class (IndexEngine, IndexFamily or a subclass), got {cls!r}")


def _parse_checkpoint(p: str, data: bytes, cls: type | None, decode: _Decoder) -> Checkpoint:
    """Verify and decode checkpoint bytes; ``p`` names their source in errors."""
    header, section = _verify(p, data)
    try:
        state = _decode_state(header, section, decode)
        book_cls = _book_class(state.kind, cls) if cls is None or state.kind in BOOK_TYPES else None
        seq, stream_id = header["seq"], header["stream_id"]
        if type(seq) is not int or seq < 0 or not (stream_id is None or type(stream_id) is str):
            raise ValueError(f"bad seq {seq!r} or stream id {stream_id!r}")
    except _UnknownEventType as exc:
        raise CorruptStateError(p, f"cannot be loaded: {exc}") from None
    except TypeError:
        raise
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        raise CorruptStateError(p, f"inconsistent header: {type(exc).__name__}: {exc}") from None
    if book_cls is None:
        book_cls = _book_class(state.kind, cls)
    return Checkpoint(engine=book_cls.from_state(state), seq=seq, stream_id=stream_id, header=header)


def load(path: str | os.PathLike, *, cls: type | None = None, event_types: Sequence[type] = ()) -> object:
    """Load a book saved by :func:`save` (or a :func:`checkpoint`), bit for bit: an
    ``IndexEngine`` or ``IndexFamily``, as recorded.

    ``event_types``: extra ``Event`` subclasses (outside :mod:`kospi_fast.events`) that the
    audit log may hold. Raises :class:`CorruptStateError` on a damaged file.
    """
    return read_checkpoint(path, cls=cls, event_types=event_types).engine


load_engine = load


def dumps(book: object) -> bytes:
    """The whole state of ``book`` as bytes, in the checkpoint format (what :func:`save`
    writes, with sequence number 0 and no stream id): versioned, checksummed, no pickle. For
    shipping a book to another process (e.g. a Dask worker) or storing it elsewhere than a
    local file; :func:`loads` reads it back bit for bit.

    Parameters
    ----------
    book : IndexEngine or IndexFamily

    Returns
    -------
    bytes

    Raises
    ------
    TypeError, ValueError
        Not an index book, or one whose state does not fit together.

    Examples
    --------
    >>> import kospi_fast as kf
    >>> e = kf.IndexEngine(kf.sample_universe(), level=5781.2)
    >>> loads(dumps(e)).level == e.level
    True
    """
    return encode_state(book)


dumps_engine = dumps


def loads(data: bytes | bytearray | memoryview, *, cls: type | None = None,
          event_types: Sequence[type] = ()) -> object:
    """A book from the bytes of :func:`dumps` (or of a checkpoint file), bit for bit.

    Parameters
    ----------
    data : bytes-like
    cls : type, optional
        The class to build (default: the recorded kind).
    event_types : sequence of Event subclasses
        Extra event classes (outside :mod:`kospi_fast.events`) that the audit log may hold.

    Returns
    -------
    IndexEngine or IndexFamily

    Raises
    ------
    TypeError
        ``data`` is not bytes-like.
    CorruptStateError
        The bytes are not a complete, intact checkpoint (bad magic, truncated, checksum
        mismatch, inconsistent header); the message starts with ``<bytes>``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"`data` must be bytes (from dumps), got {type(data).__name__}")
    _check_cls(cls)
    decode = _Decoder(event_types)
    return _parse_checkpoint("<bytes>", bytes(data), cls, decode).engine


loads_engine = loads


# ---------------------------------------------------------------------------- journal
@dataclasses.dataclass(frozen=True)
class JournalRecord:
    """One journaled batch: sequence number and the trades (little-endian int64 views)."""

    seq: int
    ids: np.ndarray
    prices: np.ndarray
    times: np.ndarray | None


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


def _scan(path: str) -> _Scan:
    """Read a journal and locate its complete records; raise on damage other than a torn tail."""
    with open(path, "rb") as fh:
        data = fh.read()
    size = len(data)
    if data[: min(size, 8)] != _JMAGIC[: min(size, 8)]:
        raise CorruptStateError(path, f"not a kospi_fast journal (bad magic {data[:8]!r})")
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
            # An unreadable header is a torn tail only if nothing valid follows it.
            nxt = data.find(_RMAGIC, off + 1)
            while nxt != -1 and not _record_header_ok(data, nxt):
                nxt = data.find(_RMAGIC, nxt + 1)
            if nxt != -1:
                raise CorruptStateError(path, f"corrupt journal record at byte {off} (followed by valid records)")
            torn = size - off
            break
        _, rflags, seq, n, pcrc = _RHEADER.unpack_from(data, off)
        if rflags & ~_R_TIMES or n > _MAX_TICKS:
            raise CorruptStateError(path, f"journal record at byte {off}: bad flags {rflags} or count {n}")
        if seq != expect:
            raise CorruptStateError(path, f"journal record at byte {off} has sequence number {seq}, expected "
                                          f"{expect}: records are missing or out of order")
        end = off + _RHEADER_SIZE + n * 8 * (3 if rflags & _R_TIMES else 2)
        if end > size:  # cut short while being written
            torn = size - off
            break
        if zlib.crc32(memoryview(data)[off + _RHEADER_SIZE:end]) != pcrc:
            if end == size:  # the last record, not completely on disk when the writer died
                torn = size - off
                break
            raise CorruptStateError(path, f"journal record {seq} at byte {off}: payload checksum mismatch "
                                          "(corrupted, and not at the tail)")
        records.append((off, seq, n, rflags))
        off, expect = end, expect + 1
    return _Scan(base_seq=base_seq, stream_id=str(uuid.UUID(bytes=sid)), records=records,
                 valid_end=size - torn, torn_bytes=torn, data=data)


def _record(scan: _Scan, rec: tuple) -> JournalRecord:
    off, seq, n, flags = rec
    start = off + _RHEADER_SIZE
    cols = [np.frombuffer(scan.data, dtype="<i8", count=n, offset=start + k * 8 * n)
            for k in range(3 if flags & _R_TIMES else 2)]
    return JournalRecord(seq=seq, ids=cols[0], prices=cols[1], times=cols[2] if len(cols) == 3 else None)


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
        """Append one batch (ids, prices and optional times, as int64) and return its sequence
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
        cols = [a.astype("<i8"), _validation.int64_array(prices, "prices").astype("<i8")]
        if times is not None:
            cols.append(_validation.int64_array(times, "times").astype("<i8"))
        for c, name in zip(cols[1:], ("prices", "times")):
            _validation.check_same_length(cols[0], "ids", c, name)
        n = cols[0].shape[0]
        payload = b"".join(c.tobytes() for c in cols)
        seq = self.last_seq + 1
        hdr = _RHEADER.pack(_RMAGIC, _R_TIMES if times is not None else 0, seq, n, zlib.crc32(payload))
        rec = hdr + struct.pack("<I", zlib.crc32(hdr)) + payload
        try:
            half = len(rec) // 2
            _write_all(self._fd, memoryview(rec)[:half])
            _hook("record-half-written", self.path)
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
        _hook("checkpoint-saved", os.fspath(state_path))
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


class JournaledBook:
    """An index book (IndexEngine or IndexFamily) whose trades are journaled and whose events
    are checkpointed.

    Ordering (see the module docstring): ``update_many`` applies the batch (all or nothing),
    appends it to the journal and fsyncs, and only then returns; a failed journal write rolls
    the batch back. ``apply_events``/``apply_changes``/``rebalance``/``roll`` apply and then
    checkpoint (a failed checkpoint rolls the change back, unless the new checkpoint may
    already be in place, in which case the wrapper refuses further writes until
    :meth:`recover`). Writers are serialised by a lock; reads go to ``.book`` (or the
    delegated read-only names). A :class:`~kospi_fast.TradingDay` and the replays take the
    wrapper like any book: what they apply is journaled.

    Build with :meth:`create` (new stream) or :meth:`recover` (after a restart).
    """

    _READ = frozenset({
        "level", "levels", "cap", "caps", "divisor", "divisors", "prices", "index_shares", "published_level",
        "base_cap", "universe", "audit", "audit_table", "recompute", "recompute_levels", "ids_of",
        "listed_shares", "members", "reference_prices", "previous_close", "previous_levels", "dividends",
        "base_value", "price_bound", "names", "name", "definitions", "definition", "index_of", "version",
        "attribution", "attribution_frame", "to_state",
    })

    def __init__(self, book: object, state_path: str | os.PathLike, journal: Journal) -> None:
        if not isinstance(book, tuple(BOOK_TYPES.values())):
            raise TypeError(f"`book` must be an index book (IndexEngine, IndexFamily), got {type(book).__name__}")
        self.book = book
        self.state_path = os.fspath(state_path)
        self.journal = journal
        self._lock = threading.RLock()
        self._broken: str | None = None

    @property
    def engine(self) -> object:
        """The wrapped book (older name of :attr:`book`)."""
        return self.book

    @classmethod
    def create(cls, book: object, state_path: str | os.PathLike, journal_path: str | os.PathLike,
               *, fsync: bool = True) -> Self:
        """Start a new stream: an empty journal (first), then a checkpoint of ``book`` at 0."""
        if not isinstance(book, tuple(BOOK_TYPES.values())):
            raise TypeError(f"`book` must be an index book (IndexEngine, IndexFamily), got {type(book).__name__}")
        journal = Journal.create(journal_path, base_seq=0, fsync=fsync)
        try:
            checkpoint(book, state_path, journal, seq=0)
        except BaseException:
            journal.close()
            raise
        return cls(book, state_path, journal)

    @classmethod
    def recover(cls, state_path: str | os.PathLike, journal_path: str | os.PathLike, *, fsync: bool = True,
                engine_cls: type | None = None, event_types: Sequence[type] = ()
                ) -> tuple[Self, ReplayReport]:
        """Load the checkpoint, replay the journal, then (if anything was replayed or the journal
        still holds covered records) take a fresh checkpoint; continue journaling."""
        if not os.path.exists(journal_path):
            raise FileNotFoundError(f"{os.fspath(journal_path)}: no journal to recover from")
        journal = Journal(journal_path, fsync=fsync)  # takes the writer's lock; cuts a torn tail
        try:
            book, report = recover(state_path, journal_path, cls=engine_cls, event_types=event_types)
            if journal.truncated_tail:
                report = dataclasses.replace(report, torn_tail=True, torn_bytes=journal.truncated_tail)
            if report.records or report.skipped or journal.base_seq != report.last_seq:
                checkpoint(book, state_path, journal, seq=report.last_seq)
        except BaseException:
            journal.close()
            raise
        return cls(book, state_path, journal), report

    # ------------------------------------------------------------------ writes
    def _check(self) -> None:
        if self._broken:
            raise OSError(f"{self.state_path}: unusable after a failed checkpoint ({self._broken}); "
                          "use JournaledBook.recover")

    @property
    def seq(self) -> int:
        """Sequence number of the last journaled batch."""
        return self.journal.last_seq

    def __len__(self) -> int:
        return len(self.book)  # type: ignore[arg-type]

    def update_many(self, ids: object, prices: object, times: object = None, *, sample_at: object = None) -> np.ndarray:
        """Apply a batch (all or nothing), journal it durably, then return its levels."""
        with self._lock:
            self._check()
            book = self.book
            before = book.to_state()  # type: ignore[attr-defined]
            if sample_at is None:
                levels = book.update_many(ids, prices)  # type: ignore[attr-defined]
            else:
                levels = book.update_many(ids, prices, sample_at=sample_at)  # type: ignore[attr-defined]
            try:
                self.journal.append(ids, prices, times)
            except BaseException:
                book.restore(before)  # type: ignore[attr-defined]
                raise
            return levels

    def update(self, code_or_id: object, price: object) -> object:
        """One trade, journaled (one record: fsync per trade; prefer :meth:`update_many`)."""
        i = self.book.universe.id_of(code_or_id)  # type: ignore[attr-defined]
        out = self.update_many(np.array([i]), np.array([_validation.price_scalar(price)]))[0]
        return float(out) if np.ndim(out) == 0 else out

    def _feed_validated(self, times: np.ndarray, ids: np.ndarray, prices: np.ndarray, rules: object,
                        last_time: int, stop_at_bad: bool, sample_times: np.ndarray) -> tuple:
        """The book's validated path (for TradingDay), journaling the applied trades."""
        with self._lock:
            self._check()
            book = self.book
            before = book.to_state()  # type: ignore[attr-defined]
            out = book._feed_validated(times, ids, prices, rules, last_time, stop_at_bad, sample_times)  # type: ignore[attr-defined]
            bad, status = out[0], out[1]
            if bad == -1:
                keep = status == 0
                try:
                    self.journal.append(ids[keep], prices[keep], times[keep])
                except BaseException:
                    book.restore(before)  # type: ignore[attr-defined]
                    raise
            return out

    def _mutate(self, fn: Callable[[], object]) -> object:
        with self._lock:
            self._check()
            saved = self.book.to_state()  # type: ignore[attr-defined]
            result = fn()
            try:
                self._checkpoint_locked()
            except BaseException as exc:
                if isinstance(exc, DurabilityError) or self._broken:
                    self._broken = self._broken or repr(exc)
                else:  # the previous checkpoint stands: so does the previous state
                    self.book.restore(saved)  # type: ignore[attr-defined]
                raise
            return result

    def apply_events(self, events: object, *, date: object = None) -> object:
        return self._mutate(lambda: self.book.apply_events(events, date=date))  # type: ignore[attr-defined]

    def apply_changes(self, ids: object, **kwargs: object) -> object:
        return self._mutate(lambda: self.book.apply_changes(ids, **kwargs))  # type: ignore[attr-defined]

    def rebalance(self, changes: object, **kwargs: object) -> object:
        return self._mutate(lambda: self.book.rebalance(changes, **kwargs))  # type: ignore[attr-defined]

    def roll(self, events: object = (), *, closes: object = None, date: object = None) -> object:
        return self._mutate(lambda: self.book.roll(events, closes=closes, date=date))  # type: ignore[attr-defined]

    def _checkpoint_locked(self) -> int:
        s = self.journal.last_seq
        save(self.book, self.state_path, seq=s, stream_id=self.journal.stream_id)
        _hook("checkpoint-saved", self.state_path)
        try:
            self.journal.reset(s)
        except BaseException as exc:  # the new checkpoint is durable; the old journal is covered by it
            self._broken = repr(exc)
            raise
        return s

    def checkpoint(self) -> int:
        """Checkpoint now and start an empty journal; returns the checkpoint's sequence number."""
        with self._lock:
            self._check()
            try:
                return self._checkpoint_locked()
            except DurabilityError as exc:
                self._broken = repr(exc)
                raise

    def close(self) -> None:
        self.journal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> object:
        if name in JournaledBook._READ:
            return getattr(self.book, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r} (the book is `.book`; "
                             "write through the journaled methods)")


#: The older name (it journals any book now).
JournaledEngine = JournaledBook
