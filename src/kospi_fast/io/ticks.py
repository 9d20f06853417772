"""Tick files in and out: the tick layout (column names, time encodings, prices, codes) on top
of the containers of :mod:`kospi_fast.io.formats`, streamed in batches with pyarrow, codes mapped
to ids in C (see :mod:`kospi_fast.io`).

A new container (file format) is an entry in :mod:`kospi_fast.io.formats`; a new column name or
time encoding is a change here (:data:`TICK_COLUMNS`, :func:`_times_ns`, :func:`_prices`).
"""

from __future__ import annotations

import os
import re
import sys
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from kospi_fast import _validation
from kospi_fast._clock import DAY_NS, KST_OFFSET_NS, NS_PER_S, format_clock
from kospi_fast._optional import require
from kospi_fast.io._common import DEFAULT_BATCH
from kospi_fast.io.formats import TickFormat, TickSource, locate, tick_format
from kospi_fast.io.formats import write_batches as _write_table_batches  # noqa: F401 - io/replay.py's name
from kospi_fast.session import EARLIEST_TRADE_NS, OPEN_NS, RANDOM_END_NS
from kospi_fast.universe import Universe

__all__ = [
    "DEFAULT_TZ",
    "MIN_SESSION_SHARE",
    "TICK_COLUMNS",
    "TIME_FORMATS",
    "TickBatch",
    "batches_from_arrays",
    "count_ticks",
    "iter_ticks",
    "read_ticks",
    "write_ticks",
    "arrow_table",
    "check_time_options",
]

#: Accepted names of the tick columns (matched case-insensitively, surrounding spaces ignored): English, and the
#: Korean headers of KRX and broker exports (체결시각 = trade time, 종목코드 / 단축코드 = short code,
#: 체결가 / 현재가 = trade price, 체결량 / 거래량 = quantity).
TICK_COLUMNS = {
    "time": ("time", "timestamp", "ts", "체결시각", "체결시간", "시각", "시간", "trd_tm"),
    "code": ("code", "ticker", "symbol", "종목코드", "단축코드", "티커", "isu_srt_cd"),
    "price": ("price", "trade_price", "px", "체결가", "체결가격", "현재가", "가격", "trd_prc"),
    "volume": ("volume", "qty", "quantity", "size", "체결량", "체결수량", "거래량", "trd_qty"),
}

_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

#: The encodings of the time column, by the name ``time_format=`` (CLI: ``--time-format``) takes.
#: ``'auto'`` reads integers as ns since midnight KST and converts tz-aware timestamps; the others
#: say what an integer (or a text of digits) means. See the README's "Input layouts".
TIME_FORMATS = {
    "auto": "integers: ns since midnight KST; tz-aware timestamps converted to KST; naive timestamps and "
            "date-times without an offset: wall clock in `tz`; time-of-day types; text 'HH:MM:SS[.f]', "
            "'YYYY-MM-DD HH:MM:SS[.f]', ISO 8601 with an offset",
    **{f"{u}-since-midnight": f"integers: {u} since midnight KST" for u in _UNITS},
    **{f"epoch-{u}": f"integers: {u} since 1970-01-01 00:00 UTC (converted to KST)" for u in _UNITS},
    "krx-hhmmss": "integers HHMMSS, KST (KRX's clock: 90001 = 09:00:01)",
    "krx-hhmmssfff": "integers HHMMSSfff, KST (milliseconds: 90001250 = 09:00:01.250)",
    "krx-hhmmssffffff": "integers HHMMSSffffff, KST (microseconds: 90001250000 = 09:00:01.250000)",
}

#: The default zone of naive timestamps and of date-times written without an offset.
DEFAULT_TZ = "Asia/Seoul"

#: A tick file whose trades are mostly outside the session is another time encoding: at least this
#: share of its ticks must fall inside 09:00:00 .. 16:30:30 KST (the regular session, the late
#: session of CSAT and first-trading days, and the close's 30 s random end).
MIN_SESSION_SHARE = 0.5
_SESSION_END_NS = 16 * 3600 * NS_PER_S + 30 * 60 * NS_PER_S + RANDOM_END_NS


# =========================================================================== tick files
@dataclass(frozen=True)
class TickBatch:
    """A run of consecutive ticks of a file, as kernel-ready arrays.

    ``offset`` is the row (0-based, header excluded) of the first tick in the file; ``times``
    int64 ns since midnight KST; ``ids`` int32 rows of the universe; ``prices`` int64 won;
    ``volumes`` int64 or None.
    """

    offset: int
    times: np.ndarray
    ids: np.ndarray
    prices: np.ndarray
    volumes: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __repr__(self) -> str:
        n = len(self)
        span = f", {format_clock(int(self.times[0]))}..{format_clock(int(self.times[-1]))}" if n else ""
        return f"TickBatch({n:,} ticks from row {self.offset:,}{span}, volumes={self.volumes is not None})"


class _CodeMap:
    """Codes -> universe ids, batch at a time, in C (pyarrow hash look-up on the dictionary or
    on the codes)."""

    def __init__(self, universe: Universe) -> None:
        pa = require("pyarrow", "io")
        self.pa = pa
        self.pc = require("pyarrow.compute", "io")
        self.value_set = pa.array(universe.codes, type=pa.string())

    def ids(self, arr, where: Callable[[int], str]) -> np.ndarray:
        pa = self.pa
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        typ = arr.type
        if pa.types.is_dictionary(typ):
            if arr.null_count:
                k = int(np.argmax(arr.is_null().to_numpy(zero_copy_only=False)))
                raise ValueError(f"{where(k)}: missing stock code")
            dictionary = arr.dictionary
            if not (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)):
                dictionary = self._as_code_strings(dictionary, where)
            looked = self._look_up(dictionary)
            dict_ids = looked.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
            idx = arr.indices.to_numpy(zero_copy_only=False)
            ids = dict_ids[idx]
            if looked.null_count:
                bad = ids < 0
                if bad.any():
                    k = int(np.argmax(bad))
                    raise KeyError(f"{where(k)}: unknown stock code {dictionary[int(idx[k])].as_py()!r} "
                                   "(not in the universe)")
            return ids
        if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            arr = self._as_code_strings(arr, where)
        looked = self._look_up(arr)
        if looked.null_count:
            k = int(np.argmax(looked.is_null().to_numpy(zero_copy_only=False)))
            code = arr[k].as_py()
            if code is None:
                raise ValueError(f"{where(k)}: missing stock code")
            raise KeyError(f"{where(k)}: unknown stock code {code!r} (not in the universe)")
        return looked.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)

    def _look_up(self, strings):
        """Ids (int32, null where unknown) of code strings; short digit strings such as '5930'
        (a CSV whose codes lost their leading zeros) are retried zero-filled."""
        pc = self.pc
        looked = pc.index_in(strings, value_set=self.value_set)
        if looked.null_count:
            padded = pc.utf8_lpad(strings, width=6, padding="0")
            short = pc.and_(pc.less(pc.utf8_length(strings), 6), pc.utf8_is_digit(strings))
            retry = pc.if_else(short, pc.index_in(padded, value_set=self.value_set), None)
            # 'A005930': the 'A' that Korean broker APIs put before the short code
            prefixed = pc.and_(pc.equal(pc.utf8_length(strings), 7), pc.starts_with(strings, "A"))
            stripped = pc.utf8_slice_codeunits(strings, 1)
            retry_a = pc.if_else(prefixed, pc.index_in(stripped, value_set=self.value_set), None)
            looked = pc.coalesce(looked, retry, retry_a)
        return looked

    def _as_code_strings(self, arr, where: Callable[[int], str]):
        pa, pc = self.pa, self.pc
        if pa.types.is_integer(arr.type):
            return pc.utf8_lpad(arr.cast(pa.string()), width=6, padding="0")
        if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
            return arr.cast(pa.string())
        raise TypeError(f"{where(0)}: the code column must hold strings such as '005930' (or integers), "
                        f"got {arr.type}")


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def check_time_options(time_format: object, tz: object) -> tuple[str, str]:
    """``time_format`` and ``tz`` checked (ValueError / TypeError naming the argument)."""
    if not isinstance(time_format, str) or time_format not in TIME_FORMATS:
        raise ValueError(f"`time_format` must be one of {', '.join(repr(k) for k in TIME_FORMATS)}, "
                         f"got {time_format!r}")
    if not isinstance(tz, str):
        raise TypeError(f"`tz` must be a time zone name such as 'Asia/Seoul' or 'UTC', got {tz!r}")
    if tz in (DEFAULT_TZ, "UTC"):  # fixed offsets, read without a zone database (Windows has none built in)
        return time_format, tz
    try:
        zoneinfo.ZoneInfo(tz)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ValueError(f"`tz` is not a time zone name (such as 'Asia/Seoul' or 'UTC'): {tz!r}") from None
    return time_format, tz


def _times_ns(pa, pc, arr, where: Callable[[int], str], time_format: str = "auto",
              tz: str = DEFAULT_TZ) -> np.ndarray:
    """A time column as int64 ns since midnight KST, read as ``time_format`` (a key of
    :data:`TIME_FORMATS`); naive timestamps are wall clock in ``tz``."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError(f"{where(_first(arr.is_null().to_numpy(zero_copy_only=False)))}: missing time")
    typ = arr.type
    if time_format != "auto":
        return _coded_times(pa, arr, where, time_format)
    if pa.types.is_integer(typ):
        t = arr.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        bad = (t < 0) | (t >= DAY_NS)
        if bad.any():
            k = _first(bad)
            raise ValueError(f"{where(k)}: an integer time is read as ns since midnight KST (0 <= time < "
                             f"{DAY_NS}), got {t[k]}; {_encoding_hint(pa, pc, arr, time_format, tz)}")
        return t
    if pa.types.is_timestamp(typ):
        if typ.tz is None and tz == "UTC":  # naive UTC: the epoch as it stands
            raw = arr.cast(pa.timestamp("ns")).view(pa.int64()).to_numpy(zero_copy_only=False)
            return (raw + KST_OFFSET_NS) % DAY_NS
        if typ.tz is None and tz != DEFAULT_TZ:  # naive wall clock in `tz` -> UTC
            try:
                arr = pc.assume_timezone(arr.cast(pa.timestamp("ns")), timezone=tz)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValueError(f"{where(0)}: cannot read the naive timestamps as {tz} time: {exc}") from None
            typ = arr.type
        raw = arr.cast(pa.timestamp("ns", tz=typ.tz)).view(pa.int64()).to_numpy(zero_copy_only=False)
        # tz-aware: UTC epoch -> KST clock; naive: the wall clock is KST (tz == DEFAULT_TZ)
        shift = KST_OFFSET_NS if typ.tz else 0
        return (raw + shift) % DAY_NS
    if pa.types.is_time(typ):
        return arr.cast(pa.time64("ns")).view(pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        has_date = pc.any(pc.match_substring(arr, "-")).as_py()
        text = arr if has_date else pc.binary_join_element_wise("1970-01-01T", arr, "")
        for target in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
            try:
                return _times_ns(pa, pc, text.cast(target), where, "auto", tz)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        for k in range(len(arr)):  # error path only: find the first cell that does not parse
            one = text.slice(k, 1)
            try:
                one.cast(pa.timestamp("ns"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                try:
                    one.cast(pa.timestamp("ns", tz="UTC"))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise ValueError(f"{where(k)}: time is not a time of day or a timestamp: "
                                     f"{arr[k].as_py()!r}") from None
        raise ValueError(f"{where(0)}: mixed time formats in one batch")  # pragma: no cover
    raise TypeError(f"{where(0)}: the time column must be int64 ns since midnight KST, a timestamp, a time of day "
                    f"or text, got {typ}")


def _coded_times(pa, arr, where: Callable[[int], str], time_format: str) -> np.ndarray:
    """Integers (or text of digits) in an explicit encoding -> ns since midnight KST."""
    typ = arr.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        try:
            arr = arr.cast(pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cells = arr.to_pylist()
            k = next(k for k, c in enumerate(cells) if not re.fullmatch(r"\s*[+-]?\d+\s*", c))
            raise ValueError(f"{where(k)}: time is not an integer ({time_format}): {cells[k]!r}") from None
        typ = arr.type
    if not pa.types.is_integer(typ):
        raise TypeError(f"{where(0)}: time_format={time_format!r} reads integers (or text of digits), but the time column "
                        f"holds {typ}; use time_format='auto' for timestamps, times of day and date text")
    v = arr.to_numpy(zero_copy_only=False)
    if v.dtype.kind == "u" and v.size and v.max() > _validation.INT64_MAX:
        k = _first(v > _validation.INT64_MAX)
        raise ValueError(f"{where(k)}: time does not fit in int64: {v[k]}")
    v = v.astype(np.int64, copy=False)
    if time_format.endswith("-since-midnight"):
        u = _UNITS[time_format.split("-", 1)[0]]
        bad = (v < 0) | (v >= DAY_NS // u)
        t = v * u
    elif time_format.startswith("epoch-"):
        u = _UNITS[time_format.split("-", 1)[1]]
        lim = (_validation.INT64_MAX - KST_OFFSET_NS) // u
        bad = np.abs(v) > lim
        t = (np.where(bad, 0, v) * u + KST_OFFSET_NS) % DAY_NS
    else:  # krx-hhmmss[fff[fff]]
        digits = len(time_format) - len("krx-hhmmss")
        scale = 10**digits
        hh, rest = np.divmod(v, 10_000 * scale)
        mm, rest = np.divmod(rest, 100 * scale)
        ss, frac = np.divmod(rest, scale)
        bad = (v < 0) | (hh > 23) | (mm > 59) | (ss > 59)
        t = ((hh * 60 + mm) * 60 + ss) * NS_PER_S + frac * (NS_PER_S // scale)
    if bad.any():
        k = _first(bad)
        raise ValueError(f"{where(k)}: time {v[k]} is not {time_format} ({TIME_FORMATS[time_format]})")
    return np.ascontiguousarray(t, dtype=np.int64)


def _session_share(t: np.ndarray) -> float:
    inside = (t >= OPEN_NS) & (t <= _SESSION_END_NS)
    return float(np.count_nonzero(inside)) / t.shape[0] if t.shape[0] else 1.0


def _encoding_hint(pa, pc, arr, time_format: str, tz: str) -> str:
    """What the time column probably holds, as the option to set (error path only): the first
    encoding that puts most of a sample of its cells inside the session."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    sample = arr.slice(0, 2000)
    typ = arr.type
    naive = (pa.types.is_timestamp(typ) and typ.tz is None) or pa.types.is_string(typ) or \
        pa.types.is_large_string(typ)
    candidates: list[tuple[str, str]] = []
    if pa.types.is_integer(typ) or pa.types.is_string(typ) or pa.types.is_large_string(typ):
        candidates += [(f, tz) for f in TIME_FORMATS if f != time_format]
    if naive and time_format == "auto":
        candidates += [("auto", z) for z in ("UTC",) if z != tz]

    def quiet(k: int) -> str:
        raise ValueError
    for fmt, zone in candidates:
        try:
            t = _times_ns(pa, pc, sample, quiet, fmt, zone)
            if fmt.startswith("epoch-"):  # a plausible date too: 1990 .. 2100
                ns = sample.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64) * \
                    _UNITS[fmt.split("-", 1)[1]]
                if not ((ns >= 6.3e17) & (ns <= 4.1e18)).all():
                    continue
        except (ValueError, TypeError, pa.ArrowException):
            continue
        if t.shape[0] and t.min() >= EARLIEST_TRADE_NS and _session_share(t) >= MIN_SESSION_SHARE:
            if zone != tz:
                return (f"they look like naive {zone} timestamps: pass tz={zone!r} (CLI: --tz {zone}), or give "
                        "tz-aware timestamps")
            return f"they look like {fmt}: pass time_format={fmt!r} (CLI: --time-format {fmt})"
    return ("set the encoding with time_format= (CLI: --time-format; one of "
            f"{', '.join(TIME_FORMATS)}) and, for naive timestamps, tz= (CLI: --tz)")


def _describe(time_format: str, tz: str, typ) -> str:
    if time_format != "auto":
        return time_format
    if str(typ).startswith(("int", "uint")):
        return "ns since midnight KST (time_format='auto')"
    if str(typ).startswith("timestamp") and "tz=" in str(typ):
        return f"{typ} converted to KST"
    return f"wall clock in {tz} (time_format='auto', tz={tz!r})"


def _prices(pa, arr, where: Callable[[int], str]) -> np.ndarray:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError(f"{where(_first(arr.is_null().to_numpy(zero_copy_only=False)))}: missing price")
    typ = arr.type
    if pa.types.is_integer(typ):
        p = arr.to_numpy(zero_copy_only=False)
        if p.dtype.kind == "u" and p.size and p.max() > _validation.INT64_MAX:
            k = _first(p > _validation.INT64_MAX)
            raise ValueError(f"{where(k)}: price does not fit in int64: {p[k]}")
        p = p.astype(np.int64, copy=False)
    elif pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        f = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        bad = ~np.isfinite(f) | (f != np.floor(f)) | (np.abs(f) > 2.0**53)
        if bad.any():
            k = _first(bad)
            raise ValueError(f"{where(k)}: price must be a whole number of won, got {f[k].item()!r}")
        p = f.astype(np.int64)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
        pc = require("pyarrow.compute", "io")
        plain = pc.replace_substring(arr, ",", "")  # '199,400': thousands separators, as in KRX's files
        for target in (pa.int64(), pa.float64()):
            try:
                return _prices(pa, plain.cast(target), where)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        for k in range(len(arr)):  # error path only: the first cell that is not a number
            try:
                plain.slice(k, 1).cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ValueError(f"{where(k)}: price is not a number: {arr[k].as_py()!r}") from None
        raise ValueError(f"{where(0)}: the price column is not numeric")  # pragma: no cover
    else:
        raise TypeError(f"{where(0)}: the price column must be numeric (int64 won), got {typ}")
    if p.size and (p <= 0).any():
        k = _first(p <= 0)
        raise ValueError(f"{where(k)}: price must be > 0, got {p[k]}")
    return np.ascontiguousarray(p)


def _resolve_tick_columns(names: Sequence[str], columns: Mapping[str, str] | None, source: str) -> dict[str, str]:
    """Map 'time', 'code', 'price', 'volume' to the file's column names."""
    out: dict[str, str] = {}
    lower = {n.strip().casefold(): n for n in names}
    for role, aliases in TICK_COLUMNS.items():
        if columns and role in columns:
            if columns[role] not in names:
                raise ValueError(f"{source}: no column {columns[role]!r} (given for {role!r}); "
                                 f"the columns are {list(names)}")
            out[role] = columns[role]
            continue
        for a in aliases:
            if a in lower:
                out[role] = lower[a]
                break
        else:
            if role != "volume":
                raise ValueError(f"{source}: missing tick column {role!r} (or {', '.join(aliases[1:])}); "
                                 f"the columns are {list(names)}; expected time, code, price[, volume]")
    return out


def count_ticks(path: str | os.PathLike, *, format: str | None = None,
                storage_options: Mapping | None = None) -> int | None:
    """Number of ticks in a tick file from its metadata (Parquet, Arrow IPC file), or None
    when only reading it would tell (CSV, an Arrow stream). ``path`` may be an fsspec URL."""
    require("pyarrow", "io")
    src = locate(path, storage_options)
    fmt = tick_format(src.filename, format)
    if not src.exists():
        raise FileNotFoundError(f"no such tick file: {src.name!r}")
    return fmt.count(src)


def iter_ticks(
    source: object,
    universe: Universe,
    *,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    columns: Mapping[str, str] | None = None,
    check_order: bool = True,
    storage_options: Mapping | None = None,
    time_format: str = "auto",
    tz: str = DEFAULT_TZ,
    check_session: bool = True,
) -> Iterator[TickBatch]:
    """Stream a tick file (or an in-memory table) as :class:`TickBatch` es.

    Columns (case-insensitive; Korean headers 체결시각, 종목코드, 체결가, 체결량 too, see
    :data:`TICK_COLUMNS`; rename with ``columns={'time': 'ts', ...}``):

    - ``time``: as ``time_format`` says (default ``'auto'``: int64 ns since midnight KST; an
      Arrow timestamp, tz-aware in any zone (converted to KST) or naive (wall clock in ``tz``);
      a time of day (``time32``/``time64``); text ``'09:00:00.123456789'``,
      ``'2026-03-23 09:00:00'``, ISO with an offset). Epoch integers and KRX's ``HHMMSSfff``
      clock need their ``time_format`` (:data:`TIME_FORMATS`);
    - ``code``: 6-character codes (strings; integers are zero-filled; ``'A005930'`` is read as
      ``'005930'``);
    - ``price``: int64 won (floats must be whole);
    - ``volume``: optional, integer.

    Parameters
    ----------
    source : path or URL, or a ``pyarrow.Table`` or ``pandas.DataFrame``
        A .parquet / .csv (.csv.gz) / .arrow (.feather, .arrows) file (the containers of
        :data:`kospi_fast.io.formats.TICK_FORMATS`): a local path, a ``file://`` URL or an
        fsspec URL (``s3://bucket/2026-03-10.parquet``; needs fsspec).
    universe : Universe
        Codes are mapped to its ids.
    format : {'parquet', 'csv', 'arrow'}, optional
        Overrides the suffix (a key of ``TICK_FORMATS``).
    batch_size : int
        Ticks per batch (at most).
    columns : mapping role -> column name, optional
    check_order : bool
        Require non-decreasing times across the whole file.
    storage_options : mapping, optional
        Passed to fsspec for a URL (credentials, endpoint, ...).
    time_format : str
        The encoding of the time column, a key of :data:`TIME_FORMATS`: ``'auto'`` (default),
        ``'ns-since-midnight'`` (or ``'s-'``, ``'ms-'``, ``'us-since-midnight'``),
        ``'epoch-s'`` / ``'epoch-ms'`` / ``'epoch-us'`` / ``'epoch-ns'`` (UTC epoch integers),
        ``'krx-hhmmss'`` / ``'krx-hhmmssfff'`` / ``'krx-hhmmssffffff'`` (KRX clock integers).
    tz : str
        The zone of naive timestamps and of date-times without an offset (default
        ``'Asia/Seoul'``: KRX's wall clock); tz-aware values carry their own.
    check_session : bool
        Refuse times that cannot be KRX trades (default True): every batch's ticks must lie in
        06:00 .. 24:00 KST, and at least :data:`MIN_SESSION_SHARE` of the file's ticks inside
        09:00:00 .. 16:30:30 KST. A file that fails is in another time encoding; the error names
        the likely one and the option to set. The share is known at the end of the file: it is
        checked before the last batch is yielded (before anything for a file of one batch).
        False for ticks of another market.

    Yields
    ------
    TickBatch

    Raises
    ------
    FileNotFoundError, ValueError, KeyError, TypeError
        Missing file, missing column, an unknown code (``KeyError`` naming the code and its
        row), a missing / non-numeric / non-positive price, a bad time, ticks out of order,
        times outside the session (above).
    """
    pa = require("pyarrow", "io")
    time_format, tz = check_time_options(time_format, tz)
    clock = _Clock(time_format, tz, check_session)
    if not isinstance(universe, Universe):
        raise TypeError(f"`universe` must be a kospi_fast.Universe, got {type(universe).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
    batch_size = int(batch_size)
    if isinstance(source, (str, os.PathLike)):
        src = locate(source, storage_options)
        fmt = tick_format(src.filename, format)
        if not src.exists():
            raise FileNotFoundError(f"no such tick file: {src.name!r}")
        with fmt.open(src, batch_size) as reader:
            roles = _resolve_tick_columns(reader.names, columns, src.name)
            raw = reader.batches(list(roles.values()), roles["code"])
            unreadable = partial(_locate_bad_cell, fmt, src, roles)  # pyarrow names the value, not the row
            yield from _tick_batches(raw, roles, universe, src.name, fmt.line0, batch_size, check_order,
                                     unreadable, clock)
        return
    source = arrow_table(source, "source", "a path, ")
    roles = _resolve_tick_columns(source.schema.names, columns, "table")
    table = source.select(list(roles.values()))
    parts = table.to_batches(max_chunksize=batch_size) if isinstance(table, pa.Table) else [table]
    yield from _tick_batches(parts, roles, universe, "table", None, batch_size, check_order, None, clock)


def arrow_table(source: object, what: str, paths: str = ""):
    """A pyarrow Table (or RecordBatch) of an in-memory table: a pandas DataFrame (its index
    dropped), a pyarrow Table / RecordBatch, or any object with the Arrow PyCapsule stream
    protocol ``__arrow_c_stream__`` (polars, DuckDB relations, ...). TypeError naming ``what``
    and the qualified type otherwise."""
    pa = require("pyarrow", "io")
    pd = sys.modules.get("pandas")  # a DataFrame implies pandas is imported
    if pd is not None and isinstance(source, pd.DataFrame):
        return pa.Table.from_pandas(source, preserve_index=False)
    if isinstance(source, (pa.Table, pa.RecordBatch)):
        return source
    if hasattr(source, "__arrow_c_stream__"):
        try:
            table = pa.table(source)
            # polars exports text as string_view: the kernels' readers take plain strings
            is_view = getattr(pa.types, "is_string_view", lambda t: False)  # pyarrow >= 16
            schema = pa.schema([f.with_type(pa.string()) if is_view(f.type) else f for f in table.schema])
            return table.cast(schema) if schema != table.schema else table
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise TypeError(f"`{what}`: cannot read the {_qualname(source)} through its Arrow stream: {exc}") from None
    raise TypeError(f"`{what}` must be {paths}a pandas DataFrame, a pyarrow Table or a table with the Arrow "
                    f"stream protocol (__arrow_c_stream__: polars, DuckDB, ...), got {_qualname(source)}")


def _qualname(obj: object) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


class _Clock:
    """The time options of a read and the session check's running count (see :func:`iter_ticks`)."""

    def __init__(self, time_format: str, tz: str, check: bool) -> None:
        self.time_format, self.tz, self.check = time_format, tz, check
        self.inside = self.total = 0

    def times(self, pa, pc, arr, where: Callable[[int], str], sorted_: bool) -> np.ndarray:
        t = _times_ns(pa, pc, arr, where, self.time_format, self.tz)
        if not self.check or not t.shape[0]:
            return t
        lo = int(t[0]) if sorted_ else int(t.min())
        if lo < EARLIEST_TRADE_NS:
            k = _first(t < EARLIEST_TRADE_NS)
            raw = str(arr[k])  # pyarrow's text of the cell (a timestamp keeps its nanoseconds)
            raise ValueError(
                f"{where(k)}: time {raw}, read as {_describe(self.time_format, self.tz, arr.type)}, is "
                f"{format_clock(int(t[k]), digits=3)}: not a KRX trade time (06:00 .. 24:00 KST); "
                f"{_encoding_hint(pa, pc, arr, self.time_format, self.tz)}")
        if sorted_:
            self.inside += int(np.searchsorted(t, _SESSION_END_NS, side="right")
                               - np.searchsorted(t, OPEN_NS, side="left"))
        else:
            self.inside += int(np.count_nonzero((t >= OPEN_NS) & (t <= _SESSION_END_NS)))
        self.total += t.shape[0]
        return t

    def finish(self, name: str, first_raw, pa, pc, streamed: bool) -> None:
        """The whole-file check: enough ticks inside the session."""
        if not self.check or not self.total or self.inside >= MIN_SESSION_SHARE * self.total:
            return
        typ = first_raw.type if first_raw is not None else None
        hint = _encoding_hint(pa, pc, first_raw, self.time_format, self.tz) if first_raw is not None else ""
        done = " (the ticks of the earlier batches were streamed already)" if streamed else ""
        raise ValueError(
            f"{name}: only {self.inside:,} of {self.total:,} ticks ({100 * self.inside / self.total:.1f}%) fall "
            f"inside the session (09:00:00 .. 16:30:30 KST) with the times read as "
            f"{_describe(self.time_format, self.tz, typ)}; {hint}{done}")


def _tick_batches(raw: Iterable, roles: Mapping[str, str], universe: Universe, name: str, line0: int | None,
                  batch_size: int, check_order: bool,
                  unreadable: Callable[[int, str], None] | None, clock: _Clock) -> Iterator[TickBatch]:
    """The batches of :func:`_read_batches`, each held back until the next is read, so that the
    whole-file session check runs before the last one is yielded."""
    pa = require("pyarrow", "io")
    pc = require("pyarrow.compute", "io")
    held: TickBatch | None = None
    first_raw = None
    yielded = False
    for batch, raw_time in _read_batches(raw, roles, universe, name, line0, batch_size, check_order,
                                         unreadable, clock):
        if first_raw is None:
            first_raw = raw_time
        if held is not None:
            yield held
            yielded = True
        held = batch
    clock.finish(name, first_raw, pa, pc, yielded)
    if held is not None:
        yield held


def _read_batches(raw: Iterable, roles: Mapping[str, str], universe: Universe, name: str, line0: int | None,
                  batch_size: int, check_order: bool,
                  unreadable: Callable[[int, str], None] | None, clock: _Clock) -> Iterator[tuple[TickBatch, object]]:
    """Record batches of the tick columns (``roles``: role -> column) as :class:`TickBatch` es:
    the tick layout, whatever the container. ``unreadable(row, message)`` may raise a better
    error when the container fails to read a batch starting at ``row``."""
    pa = require("pyarrow", "io")
    pc = require("pyarrow.compute", "io")
    codes = _CodeMap(universe)
    offset = 0
    last_t = None
    it = iter(raw)
    while True:
        try:
            rb = next(it)
        except StopIteration:
            break
        except pa.ArrowException as exc:
            if unreadable is not None:
                unreadable(offset, str(exc))
            raise ValueError(f"{name}: {exc}") from None
        for start in range(0, rb.num_rows, batch_size):
            b = rb.slice(start, batch_size) if rb.num_rows > batch_size else rb
            m = b.num_rows
            if m == 0:
                continue
            base = offset

            def where(k: int, base: int = base) -> str:
                row = base + k
                return f"{name}: tick row {row}" + (f" (line {row + line0})" if line0 else "")

            cols = dict(zip(b.schema.names, b.columns))
            raw_time = cols[roles["time"]]
            times = clock.times(pa, pc, raw_time, where, check_order)
            ids = codes.ids(cols[roles["code"]], where)
            prices = _prices(pa, cols[roles["price"]], where)
            vols = None
            if "volume" in roles:
                v = cols[roles["volume"]]
                if not (pa.types.is_integer(v.type) or pa.types.is_floating(v.type)):
                    raise TypeError(f"{name}: the volume column must be numeric, got {v.type}")
                vols = v.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
            if check_order:
                if last_t is not None and times[0] < last_t:
                    raise ValueError(f"{where(0)}: ticks must be in time order: {format_clock(times[0])} "
                                     f"comes after {format_clock(last_t)}")
                back = times[1:] < times[:-1]
                if back.any():
                    k = _first(back) + 1
                    raise ValueError(f"{where(k)}: ticks must be in time order: {format_clock(times[k])} "
                                     f"comes after {format_clock(times[k - 1])}")
            last_t = int(times[-1])
            offset += m
            yield TickBatch(base, times, np.ascontiguousarray(ids), prices, vols), raw_time


def _locate_bad_cell(fmt: TickFormat, src: TickSource, roles: Mapping[str, str], start: int, message: str) -> None:
    """Raise a ValueError naming the first tick row at or after ``start`` whose price, volume or
    integer time cell is not a number, in a text container (error path only: a plain Python
    scan of the rest of the file)."""
    cells = fmt.cells(src, list(roles.values()), start)
    if cells is None:
        return
    with closing(cells):  # the scan's file is closed whether a cell is found or not
        for row, values in cells:
            for role in ("price", "time", "volume"):
                cell = values.get(roles.get(role, ""))
                if cell is None:
                    continue
                if role == "time" and not re.fullmatch(r"[+-]?\d+", cell):
                    continue  # text times are checked by pyarrow's cast with their own message
                try:
                    float(cell)
                except ValueError:
                    where = f"{src}: tick row {row}" + (f" (line {row + fmt.line0})" if fmt.line0 is not None else "")
                    raise ValueError(f"{where}: {role} is not a number: {cell!r} ({message})") from None


def read_ticks(source: object, universe: Universe, **kwargs) -> TickBatch:
    """A whole tick file as one :class:`TickBatch` (see :func:`iter_ticks`)."""
    parts = list(iter_ticks(source, universe, **kwargs))
    if not parts:
        return TickBatch(0, np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int64))
    vols = None if parts[0].volumes is None else np.concatenate([p.volumes for p in parts])
    return TickBatch(0, np.concatenate([p.times for p in parts]), np.concatenate([p.ids for p in parts]),
                     np.concatenate([p.prices for p in parts]), vols)


def batches_from_arrays(times: object, ids: object, prices: object, *, batch_size: int = DEFAULT_BATCH,
                        volumes: object = None) -> Iterator[TickBatch]:
    """In-memory arrays (e.g. a :class:`~kospi_fast.SimulatedDay`) as :class:`TickBatch` es."""
    t = _validation.int64_array(times, "times", allow_float=False)
    i = np.asarray(ids)
    if i.dtype not in (np.int32, np.int64, np.intp):
        i = _validation.id_array(i, "ids", np.iinfo(np.int32).max)
    p = _validation.int64_array(prices, "prices")
    v = None if volumes is None else _validation.int64_array(volumes, "volumes")
    for arr, name in ((i, "ids"), (p, "prices")) + (((v, "volumes"),) if v is not None else ()):
        _validation.check_same_length(t, "times", arr, name)
    for s in range(0, t.shape[0], batch_size):
        yield TickBatch(s, t[s:s + batch_size], np.ascontiguousarray(i[s:s + batch_size]), p[s:s + batch_size],
                        None if v is None else v[s:s + batch_size])


def write_ticks(day: object, path: str | Path, *, time: str = "ns", format: str | None = None,
                batch_size: int = DEFAULT_BATCH, volume: object = None) -> Path:
    """Write a :class:`~kospi_fast.SimulatedDay` as a tick file that :func:`iter_ticks` reads.

    Columns: ``time``, ``code``, ``price`` (int64 won) and, when ``volume`` is given, ``volume``.
    The container follows the suffix (:data:`kospi_fast.io.formats.TICK_FORMATS`):
    ``.parquet`` (code dictionary-encoded), ``.csv`` (``.csv.gz``: gzipped), ``.arrow`` /
    ``.feather`` (Arrow IPC file, code dictionary-encoded).

    Parameters
    ----------
    day : SimulatedDay
        Or any object with ``universe``, ``times``, ``ids``, ``prices`` (and ``date`` for
        ``time='timestamp'``).
    path : str or Path
        A local path.
    time : {'ns', 'timestamp'}
        ``'ns'``: int64 ns since midnight KST. ``'timestamp'``: an Arrow ``timestamp[ns,
        tz=Asia/Seoul]`` on ``day.date``.
    format : {'parquet', 'csv', 'arrow'}, optional
    batch_size : int
        Rows per record batch / row group.
    volume : array_like of int, optional

    Returns
    -------
    Path
    """
    pa = require("pyarrow", "io")
    path = Path(path)
    fmt = tick_format(path, format)
    if time not in ("ns", "timestamp"):
        raise ValueError(f"`time` must be 'ns' or 'timestamp', got {time!r}")
    universe = getattr(day, "universe", None)
    if not isinstance(universe, Universe):
        raise TypeError(f"`day` must be a SimulatedDay (with a universe), got {type(day).__name__}")
    times = _validation.int64_array(day.times, "day.times", allow_float=False)
    ids = _validation.id_array(day.ids, "day.ids", len(universe)).astype(np.int32)
    prices = _validation.int64_array(day.prices, "day.prices")
    vol = None if volume is None else _validation.int64_array(volume, "volume")
    for arr, name in ((ids, "day.ids"), (prices, "day.prices")) + (((vol, "volume"),) if vol is not None else ()):
        _validation.check_same_length(times, "day.times", arr, name)
    if time == "timestamp":
        if getattr(day, "date", None) is None:
            raise ValueError("time='timestamp' needs `day.date` (an ISO date)")
        d = _validation.iso_date(day.date, "day.date")
        midnight_utc = int(np.datetime64(d, "ns").astype(np.int64)) - KST_OFFSET_NS
        t_type = pa.timestamp("ns", tz="Asia/Seoul")
    else:
        t_type = pa.int64()
    dictionary = pa.array(universe.codes, type=pa.string())
    fields = [pa.field("time", t_type), pa.field("code", pa.dictionary(pa.int32(), pa.string())),
              pa.field("price", pa.int64())]
    if vol is not None:
        fields.append(pa.field("volume", pa.int64()))
    schema = pa.schema(fields)

    with fmt.writer(path, schema) as w:
        for s in range(0, times.shape[0], batch_size):
            sl = slice(s, s + batch_size)
            t = times[sl]
            t_arr = pa.array(t + midnight_utc, type=pa.int64()).view(t_type) if time == "timestamp" else pa.array(t)
            cols = [t_arr, pa.DictionaryArray.from_arrays(pa.array(ids[sl]), dictionary), pa.array(prices[sl])]
            if vol is not None:
                cols.append(pa.array(vol[sl]))
            w.write_batch(pa.RecordBatch.from_arrays(cols, schema=schema))
    return path
