"""The checkpoint format (version 2) of any index book's :class:`~kospi_fast.state.BookState`:
``save``/``load`` (files, atomic) and ``dumps``/``loads`` (bytes). See
:mod:`kospi_fast.persist` for the layout."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Sequence

import numpy as np

from kospi_fast._version import __version__
from kospi_fast.definitions import IndexDefinition
from kospi_fast.persist._files import CorruptStateError, _atomic_write
from kospi_fast.persist.codec import (
    _Decoder,
    _enc,
    _reject_json_float,
    _UnknownEventType,
)
from kospi_fast.state import BOOK_TYPES, BookState, exact_caps
from kospi_fast.universe import Universe

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "dumps",
    "dumps_engine",
    "encode_state",
    "load",
    "load_engine",
    "loads",
    "loads_engine",
    "read_checkpoint",
    "save",
    "save_engine",
]

FORMAT_VERSION = 2

_MAGIC = b"\x89KFSTAT\n"
_END = b"KFSTEND\n"
_PREFIX = struct.Struct("<8sIIQ")  # magic, version, flags, header length
_TRAILER = struct.Struct("<8sQ32s")  # end tag, body length, sha256(body)


# ---------------------------------------------------------------------------- checkpoint
@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the book, the journal sequence number it covers, the stream id
    of its journal (or None for a plain :func:`save`) and the raw JSON header."""

    engine: object
    seq: int
    stream_id: str | None
    header: dict

    def __repr__(self) -> str:
        return f"Checkpoint({self.engine!r}, seq {self.seq}, stream {self.stream_id!r})"

    @property
    def book(self) -> object:
        """The loaded book (``engine`` is its older name)."""
        return self.engine


def _to_state(book: object) -> BookState:
    locked = getattr(book, "locked_book", None)
    if callable(locked) and not isinstance(book, tuple(BOOK_TYPES.values())):
        with locked() as inner:  # a journaled book: its state, taken under the writer's lock
            return _to_state(inner)
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
    book = getattr(book, "book", book) if not isinstance(book, tuple(BOOK_TYPES.values())) else book
    levels_now = np.asarray(book.levels, dtype=np.float64)  # type: ignore[attr-defined]
    u = st.universe
    caps = exact_caps(st.prices, st.index_shares)
    levels = st.levels()
    if [x.hex() for x in levels] != [float(x).hex() for x in levels_now]:
        raise RuntimeError("the book changed while it was being saved: save it under the writer's lock")
    arrays = [
        ("universe.shares", u.shares), ("universe.base_prices", u.base_prices),
        ("prices", st.prices), ("reference_prices", st.reference_prices), ("listed", st.listed),
        ("member", st.member.astype(np.uint8)), ("index_shares", st.index_shares), ("factors", st.factors),
        ("divisors", st.divisors), ("previous_levels", st.previous_levels), ("carries", st.carries),
    ]
    if st.running is not None:  # a float64 book's running caps (absent: an exact book)
        arrays.append(("running", st.running))
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
        "caps": [_enc(c, "caps") for c in caps],  # ints (exact book) as themselves; Fractions tagged
        "levels": [_enc(x, "levels") for x in levels],
        "arrays": meta,
        "audit": [_enc(r, f"audit[{k}]") for k, r in enumerate(st.audit)],
        "dividends": [_enc(d, f"dividends[{k}]") for k, d in enumerate(st.dividends)],
        "applied": applied,
        "history": _enc(st.history, "history"),
        "price_band": _enc(st.price_band, "price_band"),
    }
    hdr = json.dumps(header, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
    hdr += b" " * (-len(hdr) % 8)
    body = b"".join([_PREFIX.pack(_MAGIC, FORMAT_VERSION, 0, len(hdr)), hdr, *parts])
    return body + _TRAILER.pack(_END, len(body), hashlib.sha256(body).digest())


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
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CorruptStateError(path, f"inconsistent header: not valid JSON ({type(exc).__name__}: {exc})") from None
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
        # a file written before total-return indices existed has no carries: zeros
        carries=_array(header, section, "carries", (K,)) if "carries" in header["arrays"] else None,
        audit=[decode(r, f"audit[{k}]") for k, r in enumerate(header["audit"])],
        dividends=[decode(d, f"dividends[{k}]") for k, d in enumerate(header["dividends"])],
        applied={decode(e, f"applied[{k}]") for k, e in enumerate(header["applied"])},
        history=decode(header["history"], "history") if "history" in header else [],
        price_band=decode(header.get("price_band"), "price_band"),  # absent: written before bands
        # a float64 book's running caps; absent in an exact book's checkpoint (and in older files)
        running=_array(header, section, "running", (K, 2)) if "running" in header["arrays"] else None,
    )
    state.check()
    caps = exact_caps(state.prices, state.index_shares, [d.name for d in state.definitions])
    recorded = [decode(c, "caps") for c in header["caps"]] if type(header["caps"]) is list else header["caps"]
    if caps != recorded:
        raise ValueError(f"the prices and index shares give caps {caps[:3]}…, the header records "
                         f"{header['caps'][:3]}…")
    levels = [decode(x, "levels") for x in header["levels"]]
    want = state.levels()
    if len(levels) != K or any(type(x) is not float or x.hex() != w.hex() for x, w in zip(levels, want)):
        raise ValueError("the levels differ from the recorded ones")
    return state


class _WrongClass(TypeError):
    """The checkpoint is fine, but ``cls`` is another kind of book (the caller's error)."""


def _book_class(kind: str, cls: type | None) -> type:
    base = BOOK_TYPES[kind]
    if cls is None:
        return base
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise _WrongClass(f"the checkpoint holds a {kind}; `cls` {cls!r} is not {kind} or a subclass")
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
        head = fh.read(len(_MAGIC))  # the magic first: a large file that is not ours is never read whole
        if head != _MAGIC[: len(head)]:
            raise CorruptStateError(p, f"not a kospi_fast checkpoint (bad magic {head!r})")
        data = head + fh.read()
    return _parse_checkpoint(p, data, cls, decode)


def _check_cls(cls: object) -> None:
    if cls is not None and not (isinstance(cls, type) and issubclass(cls, tuple(BOOK_TYPES.values()))):
        raise TypeError(f"`cls` must be a book class (IndexEngine, IndexFamily or a subclass), got {cls!r}")


def _parse_checkpoint(p: str, data: bytes, cls: type | None, decode: _Decoder) -> Checkpoint:
    """Verify and decode checkpoint bytes; ``p`` names their source in errors. Every way the
    content can be wrong (also in a header re-signed with a fresh checksum) is a
    :class:`CorruptStateError`; only a ``cls`` of another kind of book is a ``TypeError``."""
    header, section = _verify(p, data)
    try:
        state = _decode_state(header, section, decode)
        if state.kind not in BOOK_TYPES:
            raise ValueError(f"unknown book kind {state.kind!r} (known: {sorted(BOOK_TYPES)})")
        seq, stream_id = header["seq"], header["stream_id"]
        if type(seq) is not int or not 0 <= seq < 2**63 or not (stream_id is None or type(stream_id) is str):
            raise ValueError(f"bad seq {seq!r} or stream id {stream_id!r}")
        book_cls = _book_class(state.kind, cls)
    except _UnknownEventType as exc:
        raise CorruptStateError(p, f"cannot be loaded: {exc}") from None
    except _WrongClass:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError, RecursionError) as exc:
        raise CorruptStateError(p, f"inconsistent header: {type(exc).__name__}: {exc}") from None
    try:
        book = book_cls.from_state(state)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise CorruptStateError(p, f"inconsistent state: {type(exc).__name__}: {exc}") from None
    return Checkpoint(engine=book, seq=seq, stream_id=stream_id, header=header)


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
