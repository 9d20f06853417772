"""Real data in and out: universes from end-of-day tables, tick files streamed through an engine,
level series out.

Offline by design: nothing here touches the network. pykrx and FinanceDataReader are *not*
called; their DataFrame layouts are accepted as they come (or as CSV files saved from them).

Optional dependencies (not needed by the core package), imported only when used:

- ``pandas`` for the end-of-day tables and DataFrame output,
- ``pyarrow`` for tick files (CSV, Parquet, Arrow IPC) and level files,

both in the ``io`` extra: ``pip install 'kospi-fast[io]'``.

Universes
---------
:func:`universe_from_fdr` (FinanceDataReader ``StockListing('KRX')``), :func:`universe_from_pykrx`
(pykrx ``get_market_cap``), :func:`universe_from_krx_constituents` (KRX index constituent
download) and :func:`load_universe` (picks the layout from the columns) each return a
:class:`LoadedUniverse`: the :class:`~kospi_fast.Universe`, the index membership mask, and the
day's closes. The universe's base prices are the day's ``Close`` (``base="close"``): the state
from which the NEXT trading day's ticks are replayed. With ``base="previous"`` they are
``Close − Changes``, the day's own base prices (to replay the ticks of that same day).

Ticks
-----
A tick file has the columns ``time``, ``code``, ``price`` and optionally ``volume`` (names
matched case-insensitively; see :func:`iter_ticks` for the time encodings). It is read in
batches with pyarrow (``ParquetFile.iter_batches``, ``pyarrow.csv.open_csv``, ``pyarrow.ipc``)
and each batch's codes are mapped to ids in C (dictionary / hash look-up), never one Python
call per tick. :func:`replay_file` streams a file through an :class:`~kospi_fast.IndexEngine`
(or one index of an :class:`~kospi_fast.IndexFamily`) and samples the level per tick or on the
publication grid (KOSPI: every 10 s from 09:00:10).

Times are int64 nanoseconds since midnight KST everywhere (the :class:`~kospi_fast.SimulatedDay`
convention).
"""

from __future__ import annotations

import csv
import datetime as _dt
import importlib
import re
import sys
import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from kospi_fast import _validation
from kospi_fast.universe import Universe

NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S
KST_OFFSET_NS = 9 * 3600 * NS_PER_S  # UTC+9, no daylight saving since 1988
OPEN_NS = 9 * 3600 * NS_PER_S
CLOSE_NS = (15 * 3600 + 30 * 60) * NS_PER_S
FIRST_PRINT_NS = OPEN_NS + 10 * NS_PER_S  # KOSPI's first print of the day, 09:00:10

#: Rows per batch when streaming a tick file (bounds the memory per step: ~40 bytes a tick).
DEFAULT_BATCH = 1 << 20

def _require(module: str, package: str | None = None, extra: str = "io"):
    """Import an optional dependency, or raise an ImportError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module.split(".")[0]
        raise ImportError(
            f"kospi_fast.io needs the optional dependency {pkg!r} for this: "
            f"pip install 'kospi-fast[{extra}]' (or: pip install {pkg})"
        ) from exc


# =========================================================================== tables -> universe
@dataclass(frozen=True, eq=False)
class LoadedUniverse:
    """A universe read from an end-of-day table, with the index membership and the day's closes.

    Attributes
    ----------
    universe : Universe
        Row ``i`` is stock id ``i``; base prices are ``close`` (``base="close"``) or
        ``previous`` (``base="previous"``).
    members : ndarray of bool, shape (n,)
        Index (KOSPI) membership.
    close : ndarray of int64, shape (n,)
        The day's closing prices.
    previous : ndarray of int64, shape (n,), or None
        ``Close − Changes``: the day's base prices (the previous close, adjusted), when the
        table has a change column.
    date : str or None
        ISO date of the rows (``None`` when the table has no date and none was given).
    layout : str
        ``"fdr"``, ``"pykrx"`` or ``"krx_constituents"``.
    source : str
        The file path, or ``"DataFrame"``.
    """

    universe: Universe
    members: np.ndarray
    close: np.ndarray
    previous: np.ndarray | None
    date: str | None
    layout: str
    source: str

    def __len__(self) -> int:
        return len(self.universe)

    def __repr__(self) -> str:
        return (f"LoadedUniverse({self.layout}, {self.source}, date={self.date}, n={len(self)}, "
                f"members={self.n_members})")

    @property
    def n_members(self) -> int:
        return int(self.members.sum())

    @property
    def member_codes(self) -> tuple[str, ...]:
        return tuple(c for c, m in zip(self.universe.codes, self.members) if m)

    def member_cap(self, prices: object = None) -> int:
        """Σ price × listed shares over the members, exact (default prices: the base prices)."""
        from kospi_fast._aggregate import aggregate_cap

        px = self.universe.base_prices if prices is None else _validation.int64_array(prices, "prices")
        sh = np.where(self.members, self.universe.shares, 0).astype(np.int64)
        return aggregate_cap(np.ascontiguousarray(px), sh) if len(self) else 0

    def engine(self, level: float | None = None, **kwargs):
        """An :class:`~kospi_fast.IndexEngine` over this universe and membership, calibrated to
        ``level`` (e.g. the previous published close; default: the base value 100)."""
        from kospi_fast.engine import IndexEngine

        return IndexEngine(self.universe, level=level, members=self.members, **kwargs)


class _Table:
    """A pandas DataFrame plus where each row came from, for error messages."""

    def __init__(self, df, source: str, first_line: int | None, labels: list | None = None) -> None:
        self.df = df.reset_index(drop=True)
        self.source = source
        self.first_line = first_line  # file line of the first data row (CSV), else None
        self.pos = np.arange(len(df))  # original position of each row
        self.labels = labels if labels is not None else (list(df.index) if first_line is None else None)

    def where(self, k: int) -> str:
        """Human-readable location of (current) row ``k``."""
        p = int(self.pos[k])
        if self.first_line is not None:
            return f"{self.source}: line {p + self.first_line}"
        label = self.labels[p] if self.labels is not None else p
        extra = "" if label == p else f" (index {label!r})"
        return f"{self.source}: row {p}{extra}"

    def take(self, mask: np.ndarray) -> "_Table":
        out = _Table.__new__(_Table)
        out.df = self.df[mask].reset_index(drop=True)
        out.source, out.first_line, out.labels = self.source, self.first_line, self.labels
        out.pos = self.pos[mask]
        return out

    def __len__(self) -> int:
        return len(self.df)

    def find(self, names: Sequence[str]) -> str | None:
        """The first of ``names`` (or a case/space-insensitive match) among the columns."""
        cols = [str(c) for c in self.df.columns]
        for n in names:
            if n in cols:
                return n
        norm = {re.sub(r"\s+", "", c).casefold(): c for c in cols}
        for n in names:
            c = norm.get(re.sub(r"\s+", "", n).casefold())
            if c is not None:
                return c
        return None

    def need(self, names: Sequence[str], layout: str) -> str:
        col = self.find(names)
        if col is None:
            alias = f" (or {', '.join(repr(n) for n in names[1:])})" if len(names) > 1 else ""
            raise ValueError(
                f"{self.source}: missing column {names[0]!r}{alias} of the {layout} layout; "
                f"the columns are {[str(c) for c in self.df.columns]}"
            )
        return col


def _read_table(source: object, what: str, *, index_col_name: str | None = None) -> _Table:
    """A DataFrame or a CSV/Parquet path as a :class:`_Table` (CSV cells read as text)."""
    pd = _require("pandas")
    if isinstance(source, pd.DataFrame):
        df = source
        labels = list(df.index)
        if index_col_name is not None and not isinstance(df.index, pd.RangeIndex):
            df = df.reset_index()
            if index_col_name not in df.columns and "index" in df.columns:
                df = df.rename(columns={"index": index_col_name})
        return _Table(df, "DataFrame", None, labels)
    if not isinstance(source, (str, Path)):
        raise TypeError(f"{what}: expected a pandas DataFrame or a path to a CSV/Parquet file, got "
                        f"{type(source).__name__}")
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{what}: no such file: {str(path)!r}")
    if path.suffix.lower() in (".parquet", ".pq"):
        _require("pyarrow")
        return _Table(pd.read_parquet(path), str(path), None)
    for enc in ("utf-8-sig", "cp949"):  # KRX downloads are often EUC-KR / CP949
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"{what}: {path} is neither UTF-8 nor CP949 text")
    return _Table(df, str(path), 2)


def _text(series) -> np.ndarray:
    """Cells as an object array of stripped strings ('' for missing)."""
    pd = _require("pandas")
    vals = series.to_numpy(dtype=object)
    miss = pd.isna(series).to_numpy()
    return np.array(["" if m else str(v).strip() for v, m in zip(vals, miss)], dtype=object)


def _int_column(t: _Table, col: str, *, check: str | None = None, label: str | None = None) -> np.ndarray:
    """A whole-number column as int64; a missing, non-numeric or fractional cell is an error
    naming its row. ``check``: ``"positive"`` or ``"non_negative"``."""
    pd = _require("pandas")
    s = t.df[col]
    label = label or col
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise ValueError(f"{t.source}: column {label!r} must hold numbers, got booleans")
    miss = pd.isna(s).to_numpy()
    if pd.api.types.is_numeric_dtype(dtype):
        num = s
        raw = None
    else:
        raw = _text(s)
        miss = miss | (raw == "")
        cleaned = pd.Series([r.replace(",", "") for r in raw], dtype=object)
        num = pd.to_numeric(cleaned, errors="coerce")
        bad = pd.isna(num).to_numpy() & ~miss
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(f"{t.where(k)}: column {label!r} is not a number: {raw[k]!r}")
    if miss.any():
        k = int(np.argmax(miss))
        raise ValueError(f"{t.where(k)}: column {label!r} has no value")
    arr = np.asarray(num.to_numpy())
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and arr.max() > _validation.INT64_MAX:
            k = int(np.argmax(arr > _validation.INT64_MAX))
            raise ValueError(f"{t.where(k)}: column {label!r} does not fit in int64: {arr[k]}")
        out = arr.astype(np.int64)
    elif arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.floor(arr)) | (np.abs(arr) > 2.0**53)
        if bad.any():
            k = int(np.argmax(bad))
            shown = raw[k] if raw is not None else arr[k].item()
            raise ValueError(f"{t.where(k)}: column {label!r} must be a whole number "
                             f"(exact below 2**53), got {shown!r}")
        out = arr.astype(np.int64)
    else:
        raise ValueError(f"{t.source}: column {label!r} must hold numbers, got dtype {arr.dtype}")
    if check == "positive" and (out <= 0).any():
        k = int(np.argmax(out <= 0))
        raise ValueError(f"{t.where(k)}: column {label!r} must be > 0, got {out[k]}")
    if check == "non_negative" and (out < 0).any():
        k = int(np.argmax(out < 0))
        raise ValueError(f"{t.where(k)}: column {label!r} must be >= 0, got {out[k]}")
    return out


_CODE_RE = re.compile(r"^[0-9A-Z]{6}$")


def normalize_code(value: object) -> str | None:
    """A KRX short code as a 6-character string: ints zero-filled (``5930`` -> ``'005930'``),
    digit strings shorter than 6 zero-filled, a leading ``'A'`` of ``'A005930'`` dropped.
    Returns None when the value cannot be a code."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, np.integer)):
        v = int(value)
        return f"{v:06d}" if 0 <= v <= 999_999 else None
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if np.isfinite(f) and f == int(f):
            return normalize_code(int(f))
        return None
    s = str(value).strip().upper()
    if len(s) == 7 and s[0] == "A" and _CODE_RE.match(s[1:]):
        s = s[1:]
    if s.isdigit() and len(s) < 6:
        s = s.zfill(6)
    return s if _CODE_RE.match(s) else None


def _code_column(t: _Table, col: str) -> list[str]:
    pd = _require("pandas")
    s = t.df[col]
    vals = s.to_numpy(dtype=object)
    miss = pd.isna(s).to_numpy()
    codes = []
    seen: dict[str, int] = {}
    for k, v in enumerate(vals):
        c = None if miss[k] else normalize_code(v)
        if c is None:
            raise ValueError(f"{t.where(k)}: column {col!r} is not a 6-character KRX code such as "
                             f"'005930': {v!r}")
        if c in seen:
            raise ValueError(f"{t.where(k)}: duplicate code {c!r} (first at {t.where(seen[c])})")
        seen[c] = k
        codes.append(c)
    return codes


def _iso_date(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime) or hasattr(value, "to_pydatetime"):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    s = str(value).strip()
    if re.fullmatch(r"\d{8}", s):
        return f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = re.match(r"^(\d{4})[-/.](\d{2})[-/.](\d{2})", s)
    if m:
        return "-".join(m.groups())
    return None


_DATE_NAMES = ("Date", "날짜", "일자", "TRD_DD")


def _select_date(t: _Table, date: object, what: str) -> tuple[_Table, str | None]:
    """Keep the rows of one date when the table has a date column."""
    col = t.find(_DATE_NAMES)
    want = None
    if date is not None and not (isinstance(date, str) and date == "last"):
        want = _iso_date(date)
        if want is None:
            raise ValueError(f"{what}: `date` must be a date or an ISO string, got {date!r}")
    if col is None:
        return t, want
    cells = t.df[col].to_numpy(dtype=object)
    uniq = {v: _iso_date(v) for v in set(cells.tolist())}
    iso = np.array([uniq[v] for v in cells], dtype=object)
    bad = np.array([v is None for v in iso])
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{t.where(k)}: column {col!r} is not a date: {cells[k]!r}")
    dates = sorted(set(iso.tolist()))
    if want is None:
        if len(dates) > 1 and date != "last":
            raise ValueError(f"{t.source}: holds {len(dates)} dates ({dates[0]} .. {dates[-1]}); "
                             "pass `date=` (an ISO date, or 'last')")
        want = dates[-1] if dates else None
    if want not in dates:
        raise ValueError(f"{t.source}: no rows dated {want} (the dates are {dates[0]} .. {dates[-1]})"
                         if dates else f"{t.source}: the table is empty")
    return t.take(iso == want), want


def _member_mask(codes: list[str], members: object, source: str) -> np.ndarray:
    if isinstance(members, LoadedUniverse):
        members = members.member_codes
    if isinstance(members, str):
        raise TypeError(f"`members` must be a sequence of codes, got the string {members!r}")
    want = []
    for k, c in enumerate(members):  # type: ignore[union-attr]
        n = normalize_code(c)
        if n is None:
            raise ValueError(f"`members[{k}]` is not a 6-character KRX code: {c!r}")
        want.append(n)
    index = {c: i for i, c in enumerate(codes)}
    missing = [c for c in want if c not in index]
    if missing:
        raise ValueError(f"{source}: {len(missing)} member code(s) are not in the table, e.g. {missing[:5]}")
    mask = np.zeros(len(codes), dtype=bool)
    mask[[index[c] for c in want]] = True
    return mask


def _names(t: _Table, col: str | None, codes: list[str]) -> list[str]:
    if col is None:
        return list(codes)
    return [v if v else c for v, c in zip(_text(t.df[col]).tolist(), codes)]


def _finish(t: _Table, layout: str, date: str | None, codes, names, close, shares, changes, members,
            sectors, base: str, members_only: bool) -> LoadedUniverse:
    if base not in ("close", "previous"):
        raise ValueError(f"`base` must be 'close' or 'previous', got {base!r}")
    previous = None
    if changes is not None:
        previous = close - changes
        if (previous <= 0).any():
            k = int(np.argmax(previous <= 0))
            raise ValueError(f"{t.where(k)}: Close − Changes = {previous[k]} is not a valid base price (> 0)")
    if base == "previous" and previous is None:
        raise ValueError(f"{t.source}: base='previous' needs a change column (Close − Changes), "
                         "which this table does not have")
    if members_only:
        keep = members
        codes = [c for c, m in zip(codes, keep) if m]
        names = [c for c, m in zip(names, keep) if m]
        sectors = None if sectors is None else [s for s, m in zip(sectors, keep) if m]
        close, shares = close[keep], shares[keep]
        previous = None if previous is None else previous[keep]
        members = np.ones(len(codes), dtype=bool)
    bp = close if base == "close" else previous
    universe = Universe(codes, names, shares, bp, sectors)
    close.flags.writeable = False
    members.flags.writeable = False
    if previous is not None:
        previous.flags.writeable = False
    return LoadedUniverse(universe, members, close, previous, date, layout, t.source)


def _sectors(t: _Table) -> list[str] | None:
    col = t.find(("Sector", "업종", "업종명", "Industry"))
    return None if col is None else _text(t.df[col]).tolist()


#: Column names of FinanceDataReader's ``StockListing('KRX')`` layout (first name is canonical).
FDR_COLUMNS = {
    "code": ("Code", "Symbol"),
    "name": ("Name",),
    "close": ("Close",),
    "changes": ("Changes",),
    "stocks": ("Stocks",),
    "marcap": ("Marcap",),
    "market": ("Market",),
    "member": ("InKOSPIIndex",),
}


def universe_from_fdr(
    df_or_path: object,
    *,
    date: object = None,
    members_only: bool = False,
    members: object = None,
    market: str | None = "KOSPI",
    base: str = "close",
    check_marcap: bool = True,
) -> LoadedUniverse:
    """A universe from FinanceDataReader's ``StockListing('KRX')`` layout.

    Columns used (matched by name): ``Code``, ``Name``, ``Close``, ``Stocks`` (listed shares);
    optional ``Changes`` (Close − base price), ``Marcap`` (checked == Close × Stocks),
    ``Market`` (rows filtered to ``market``), ``Sector``, and the two columns the project's
    EOD files add: ``Date`` (one day is selected) and ``InKOSPIIndex`` (1 = KOSPI member).

    Parameters
    ----------
    df_or_path : pandas.DataFrame or path to a CSV / Parquet file
    date : date or ISO str or 'last', optional
        The day to take when the table has a ``Date`` column holding several days (required
        then; ``'last'`` takes the latest).
    members_only : bool
        Keep only the index members in the universe (default: every row, members flagged).
    members : sequence of codes or LoadedUniverse, optional
        The membership (e.g. from :func:`universe_from_krx_constituents`), overriding
        ``InKOSPIIndex``. Without either, every row is a member (FDR's own listing has no
        membership column: it then includes preferreds, REITs and foreign listings that KOSPI
        excludes).
    market : str or None
        Keep rows whose ``Market`` is this (default ``'KOSPI'``; None keeps all).
    base : {'close', 'previous'}
        Base prices of the universe: the day's ``Close`` (to replay the NEXT day), or
        ``Close − Changes`` (to replay this day).
    check_marcap : bool
        Check ``Marcap == Close × Stocks`` on every row when ``Marcap`` is present.

    Returns
    -------
    LoadedUniverse

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        Missing file, missing column, a non-numeric / missing / non-positive cell, a bad or
        duplicate code: the message names the column and the row (file line for a CSV).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"Code": ["005930", 660], "Name": ["Samsung", "SK hynix"],
    ...                    "Close": [70000, 150000], "Stocks": [10, 5]})
    >>> lu = universe_from_fdr(df)
    >>> lu.universe.codes, lu.member_cap()
    (('005930', '000660'), 1450000)
    """
    layout = "FinanceDataReader StockListing('KRX')"
    t = _read_table(df_or_path, "universe_from_fdr")
    t, day = _select_date(t, date, "universe_from_fdr")
    if market is not None:
        mcol = t.find(FDR_COLUMNS["market"])
        if mcol is not None:
            mk = _text(t.df[mcol])
            keep = np.array([m.upper() == market.upper() for m in mk], dtype=bool)
            if not keep.any():
                raise ValueError(f"{t.source}: no rows with Market == {market!r} "
                                 f"(markets: {sorted(set(mk.tolist()))}); pass market=None to keep all")
            t = t.take(keep)
    code_col = t.need(FDR_COLUMNS["code"], layout)
    close_col = t.need(FDR_COLUMNS["close"], layout)
    stocks_col = t.need(FDR_COLUMNS["stocks"], layout)
    codes = _code_column(t, code_col)
    close = _int_column(t, close_col, check="positive")
    shares = _int_column(t, stocks_col, check="non_negative")
    ch_col = t.find(FDR_COLUMNS["changes"])
    changes = None if ch_col is None else _int_column(t, ch_col)
    mc_col = t.find(FDR_COLUMNS["marcap"])
    if check_marcap and mc_col is not None:
        marcap = _int_column(t, mc_col)
        _check_marcap(t, close, shares, marcap, "Close × Stocks", mc_col)
    if members is not None:
        mask = _member_mask(codes, members, t.source)
    else:
        mem_col = t.find(FDR_COLUMNS["member"])
        if mem_col is None:
            mask = np.ones(len(codes), dtype=bool)
        else:
            flag = _int_column(t, mem_col)
            if ((flag != 0) & (flag != 1)).any():
                k = int(np.argmax((flag != 0) & (flag != 1)))
                raise ValueError(f"{t.where(k)}: column {mem_col!r} must be 0 or 1, got {flag[k]}")
            mask = flag == 1
    if not mask.any():
        raise ValueError(f"{t.source}: no index members among the {len(codes)} rows")
    names = _names(t, t.find(FDR_COLUMNS["name"]), codes)
    return _finish(t, "fdr", day, codes, names, close, shares, changes, mask, _sectors(t), base, members_only)


def _check_marcap(t: _Table, close, shares, marcap, what: str, col: str) -> None:
    # exact: Python ints, no int64 overflow
    for k, (c, s, m) in enumerate(zip(close.tolist(), shares.tolist(), marcap.tolist())):
        if c * s != m:
            raise ValueError(f"{t.where(k)}: {col} = {m} but {what} = {c} × {s} = {c * s}; "
                             f"the table is inconsistent (pass check_marcap=False to skip this check)")


#: pykrx ``stock.get_market_cap(date)`` columns (Korean names; the ticker is the index).
PYKRX_COLUMNS = {
    "code": ("티커", "ticker", "Ticker"),
    "name": ("종목명", "Name"),
    "close": ("종가",),
    "marcap": ("시가총액",),
    "stocks": ("상장주식수",),
}


def universe_from_pykrx(
    df_or_path: object,
    *,
    date: object = None,
    names: Mapping[str, str] | None = None,
    members: object = None,
    members_only: bool = False,
    check_marcap: bool = True,
) -> LoadedUniverse:
    """A universe from pykrx's ``stock.get_market_cap(date)`` layout: indexed by ticker
    (``티커``), columns ``종가`` (close), ``시가총액`` (market cap), ``상장주식수`` (listed
    shares); ``거래량`` / ``거래대금`` may be present and are ignored.

    The layout has neither names nor membership: ``names`` maps codes to names (default: the
    code), ``members`` lists the index members (default: every row). Base prices are the day's
    ``종가`` (no change column, so no ``previous``).

    Parameters
    ----------
    df_or_path : pandas.DataFrame or path to a CSV / Parquet file saved from one
        (``df.to_csv(path)`` keeps the ticker as the first column).
    date : date or ISO str, optional
        Recorded as the table's date (pykrx's frame carries none).
    names : mapping code -> name, optional
    members : sequence of codes or LoadedUniverse, optional
    members_only : bool
    check_marcap : bool
        Check ``시가총액 == 종가 × 상장주식수`` on every row.

    Returns
    -------
    LoadedUniverse

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        As :func:`universe_from_fdr`.
    """
    layout = "pykrx get_market_cap"
    pd = _require("pandas")
    if isinstance(df_or_path, pd.DataFrame) and isinstance(df_or_path.index, pd.DatetimeIndex):
        raise ValueError("universe_from_pykrx: the frame is indexed by date (pykrx's per-ticker "
                         "history); expected get_market_cap(date), indexed by ticker")
    t = _read_table(df_or_path, "universe_from_pykrx", index_col_name="티커")
    t, day = _select_date(t, date, "universe_from_pykrx")
    code_col = t.need(PYKRX_COLUMNS["code"], layout)
    close_col = t.need(PYKRX_COLUMNS["close"], layout)
    stocks_col = t.need(PYKRX_COLUMNS["stocks"], layout)
    codes = _code_column(t, code_col)
    close = _int_column(t, close_col, check="positive")
    shares = _int_column(t, stocks_col, check="non_negative")
    mc_col = t.find(PYKRX_COLUMNS["marcap"])
    if check_marcap and mc_col is not None:
        _check_marcap(t, close, shares, _int_column(t, mc_col), "종가 × 상장주식수", mc_col)
    if names is not None:
        name_list = [str(names.get(c, c)) for c in codes]
    else:
        name_list = _names(t, t.find(PYKRX_COLUMNS["name"]), codes)
    mask = np.ones(len(codes), dtype=bool) if members is None else _member_mask(codes, members, t.source)
    return _finish(t, "pykrx", day, codes, name_list, close, shares, None, mask, _sectors(t), "close",
                   members_only)


#: KRX constituent download columns (Korean, as downloaded), with the English names of KRX's
#: JSON/API fields and of the FinanceData cache files accepted as aliases.
KRX_CONSTITUENT_COLUMNS = {
    "code": ("종목코드", "ISU_SRT_CD", "Code"),
    "name": ("종목명", "ISU_ABBRV", "Name"),
    "close": ("종가", "TDD_CLSPRC", "Close"),
    "changes": ("대비", "CMPPREVDD_PRC", "STR_CMP_PRC", "Changes"),
    "marcap": ("상장시가총액", "MKTCAP", "Marcap"),
}


def universe_from_krx_constituents(
    df_or_path: object,
    *,
    date: object = None,
    base: str = "close",
) -> LoadedUniverse:
    """A universe of an index's members from KRX's constituent download (종목코드, 종목명, 종가,
    대비, 등락률, 상장시가총액). Every row is a member.

    The layout has no share count: listed shares are ``상장시가총액 / 종가``, which must divide
    exactly (KRX's cap is close × listed shares), else a ``ValueError`` names the row.

    Parameters
    ----------
    df_or_path : pandas.DataFrame or path to a CSV (UTF-8 or CP949) / Parquet file
    date : date or ISO str or 'last', optional
        The day to take when the table has a ``Date`` column with several days.
    base : {'close', 'previous'}
        Base prices: ``종가`` or ``종가 − 대비``.

    Returns
    -------
    LoadedUniverse

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        As :func:`universe_from_fdr`, and a cap that is not a multiple of the close.
    """
    layout = "KRX index constituents"
    t = _read_table(df_or_path, "universe_from_krx_constituents")
    t, day = _select_date(t, date, "universe_from_krx_constituents")
    code_col = t.need(KRX_CONSTITUENT_COLUMNS["code"], layout)
    close_col = t.need(KRX_CONSTITUENT_COLUMNS["close"], layout)
    cap_col = t.need(KRX_CONSTITUENT_COLUMNS["marcap"], layout)
    codes = _code_column(t, code_col)
    close = _int_column(t, close_col, check="positive")
    cap = _int_column(t, cap_col, check="non_negative")
    shares, rem = np.divmod(cap, close)
    if (rem != 0).any():
        k = int(np.argmax(rem != 0))
        raise ValueError(f"{t.where(k)}: {cap_col} {cap[k]} is not a multiple of {close_col} {close[k]}: "
                         f"cannot derive the listed shares ({cap[k]} / {close[k]} = {cap[k] / close[k]:.4f})")
    ch_col = t.find(KRX_CONSTITUENT_COLUMNS["changes"])
    changes = None if ch_col is None else _int_column(t, ch_col)
    names = _names(t, t.find(KRX_CONSTITUENT_COLUMNS["name"]), codes)
    mask = np.ones(len(codes), dtype=bool)
    return _finish(t, "krx_constituents", day, codes, names, close, shares.astype(np.int64), changes, mask,
                   _sectors(t), base, False)


def detect_layout(columns: Iterable[object]) -> str:
    """``'fdr'``, ``'pykrx'`` or ``'krx_constituents'`` from a table's column names."""
    cols = {re.sub(r"\s+", "", str(c)).casefold() for c in columns}
    if "stocks" in cols and ("code" in cols or "symbol" in cols):
        return "fdr"
    if "상장주식수" in cols:
        return "pykrx"
    if "종목코드" in cols or "상장시가총액" in cols or "isu_srt_cd" in cols or (
        "code" in cols and "marcap" in cols
    ):
        return "krx_constituents"
    raise ValueError(
        "cannot tell the layout from the columns "
        f"{sorted(str(c) for c in columns)}: expected FinanceDataReader's (Code, Name, Close, Stocks, ...), "
        "pykrx get_market_cap's (종가, 시가총액, 상장주식수, ...) or KRX's constituents "
        "(종목코드, 종목명, 종가, 대비, 등락률, 상장시가총액)"
    )


def table_layout(df_or_path: object) -> str:
    """The layout of a DataFrame or CSV / Parquet file: see :func:`detect_layout`."""
    pd = _require("pandas")
    if isinstance(df_or_path, pd.DataFrame):
        cols = list(df_or_path.columns)
        if df_or_path.index.name:
            cols.append(df_or_path.index.name)
        return detect_layout(cols)
    if not isinstance(df_or_path, (str, Path)):
        raise TypeError(f"expected a pandas DataFrame or a path to a CSV/Parquet file, got {type(df_or_path).__name__}")
    path = Path(df_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if path.suffix.lower() in (".parquet", ".pq"):
        cols = list(_require("pyarrow.parquet", "pyarrow").read_schema(path).names)
    else:
        cols = _csv_header(path)
    try:
        return detect_layout(cols)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_universe(df_or_path: object, **kwargs) -> LoadedUniverse:
    """Any of the three layouts, told apart by their columns (:func:`table_layout`); ``kwargs``
    go to :func:`universe_from_fdr`, :func:`universe_from_pykrx` or
    :func:`universe_from_krx_constituents`."""
    layout = table_layout(df_or_path)
    loader = {"fdr": universe_from_fdr, "pykrx": universe_from_pykrx,
              "krx_constituents": universe_from_krx_constituents}[layout]
    return loader(df_or_path, **kwargs)


def _csv_header(path: Path) -> list[str]:
    for enc in ("utf-8-sig", "cp949"):
        try:
            with path.open(encoding=enc, newline="") as fh:
                return next(csv.reader(fh), [])
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path} is neither UTF-8 nor CP949 text")


def universe_frame(universe: Universe, members: object = None, *, date: object = None):
    """``universe`` as a pandas DataFrame in FinanceDataReader's layout (Code, Name, Market,
    Close, Stocks, Marcap, InKOSPIIndex, [Sector], [Date]), which :func:`universe_from_fdr`
    reads back to the same universe."""
    pd = _require("pandas")
    if not isinstance(universe, Universe):
        raise TypeError(f"`universe` must be a kospi_fast.Universe, got {type(universe).__name__}")
    n = len(universe)
    if members is None:
        mask = universe.shares > 0
    elif isinstance(members, np.ndarray) and members.dtype == bool:
        mask = members
    else:
        mask = _member_mask(list(universe.codes), members, "universe")
    marcap = [int(p) * int(s) for p, s in zip(universe.base_prices, universe.shares)]
    data = {
        "Code": list(universe.codes),
        "Name": list(universe.names),
        "Market": ["KOSPI"] * n,
        "Close": universe.base_prices.copy(),
        "Stocks": universe.shares.copy(),
        "Marcap": np.array(marcap, dtype=np.int64),
        "InKOSPIIndex": mask.astype(np.int64),
    }
    if universe.sectors is not None:
        data["Sector"] = list(universe.sectors)
    df = pd.DataFrame(data)
    if date is not None:
        df.insert(0, "Date", _iso_date(date))
    return df


def write_universe(universe: Universe, path: str | Path, members: object = None, *, date: object = None) -> Path:
    """Write ``universe`` as an FDR-layout CSV (or Parquet, by suffix); see :func:`universe_frame`."""
    path = Path(path)
    df = universe_frame(universe, members, date=date)
    if path.suffix.lower() in (".parquet", ".pq"):
        _require("pyarrow")
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


# =========================================================================== tick files
#: Accepted names of the tick columns (matched case-insensitively).
TICK_COLUMNS = {
    "time": ("time", "timestamp", "ts"),
    "code": ("code", "ticker", "symbol"),
    "price": ("price", "trade_price", "px"),
    "volume": ("volume", "qty", "quantity", "size"),
}

_FORMATS = {
    ".parquet": "parquet", ".pq": "parquet",
    ".csv": "csv", ".txt": "csv", ".gz": "csv", ".bz2": "csv", ".zst": "csv",
    ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow", ".arrows": "arrow",
}


def file_format(path: str | Path, fmt: str | None = None) -> str:
    """``'parquet'``, ``'csv'`` or ``'arrow'`` (IPC file or stream) from the suffix, or ``fmt``."""
    if fmt is not None:
        if fmt not in ("parquet", "csv", "arrow"):
            raise ValueError(f"`format` must be 'parquet', 'csv' or 'arrow', got {fmt!r}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix in (".gz", ".bz2", ".zst") and not str(path).lower().endswith((".csv" + suffix, ".txt" + suffix)):
        suffix = "?"
    try:
        return _FORMATS[suffix]
    except KeyError:
        raise ValueError(f"cannot tell the format of {str(path)!r} from its suffix: use .parquet, .csv "
                         "(.csv.gz), .arrow / .feather / .arrows, or pass format=") from None


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


class _CodeMap:
    """Codes -> universe ids, batch at a time, in C (pyarrow hash look-up on the dictionary or
    on the codes)."""

    def __init__(self, universe: Universe) -> None:
        pa = _require("pyarrow")
        self.pa = pa
        self.pc = _require("pyarrow.compute")
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
                dictionary = self._as_code_strings(dictionary)
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
            arr = self._as_code_strings(arr)
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
            looked = pc.coalesce(looked, retry)
        return looked

    def _as_code_strings(self, arr):
        pa, pc = self.pa, self.pc
        if pa.types.is_integer(arr.type):
            return pc.utf8_lpad(arr.cast(pa.string()), width=6, padding="0")
        if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
            return arr.cast(pa.string())
        raise TypeError(f"the code column must hold strings such as '005930' (or integers), got {arr.type}")


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _times_ns(pa, pc, arr, where: Callable[[int], str]) -> np.ndarray:
    """A time column as int64 ns since midnight KST."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError(f"{where(_first(arr.is_null().to_numpy(zero_copy_only=False)))}: missing time")
    typ = arr.type
    if pa.types.is_integer(typ):
        t = arr.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        bad = (t < 0) | (t >= DAY_NS)
        if bad.any():
            k = _first(bad)
            raise ValueError(f"{where(k)}: an integer time must be ns since midnight KST "
                             f"(0 <= time < {DAY_NS}), got {t[k]}")
        return t
    if pa.types.is_timestamp(typ):
        raw = arr.cast(pa.timestamp("ns", tz=typ.tz)).view(pa.int64()).to_numpy(zero_copy_only=False)
        # tz-aware: UTC epoch -> KST clock; naive: the wall clock is taken as KST
        shift = KST_OFFSET_NS if typ.tz else 0
        return (raw + shift) % DAY_NS
    if pa.types.is_time(typ):
        return arr.cast(pa.time64("ns")).view(pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        has_date = pc.any(pc.match_substring(arr, "-")).as_py()
        text = arr if has_date else pc.binary_join_element_wise("1970-01-01T", arr, "")
        for target in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
            try:
                return _times_ns(pa, pc, text.cast(target), where)
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
    raise TypeError(f"the time column must be int64 ns since midnight KST, a timestamp, a time of day "
                    f"or text, got {typ}")


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
            raise ValueError(f"{where(k)}: price must be a whole number of won, got {f[k]!r}")
        p = f.astype(np.int64)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
        for target in (pa.int64(), pa.float64()):
            try:
                return _prices(pa, arr.cast(target), where)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        for k in range(len(arr)):  # error path only: the first cell that is not a number
            try:
                arr.slice(k, 1).cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ValueError(f"{where(k)}: price is not a number: {arr[k].as_py()!r}") from None
        raise ValueError(f"{where(0)}: the price column is not numeric")  # pragma: no cover
    else:
        raise TypeError(f"the price column must be numeric (int64 won), got {typ}")
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


def _raw_batches(path: Path, fmt: str, batch_size: int, columns: Mapping[str, str] | None):
    """(column roles, iterator of pyarrow RecordBatches) of a tick file."""
    pa = _require("pyarrow")
    source = str(path)
    if fmt == "parquet":
        pq = _require("pyarrow.parquet", "pyarrow")
        try:
            names = pq.read_schema(path).names
        except pa.ArrowException as exc:
            raise ValueError(f"{source}: not a readable Parquet file: {exc}") from None
        roles = _resolve_tick_columns(names, columns, source)
        pf = pq.ParquetFile(path, read_dictionary=[roles["code"]])
        return roles, pf.iter_batches(batch_size=batch_size, columns=list(roles.values()))
    if fmt == "csv":
        pacsv = _require("pyarrow.csv", "pyarrow")
        if path.suffix.lower() in (".gz", ".bz2", ".zst"):
            with pa.input_stream(str(path), compression="detect") as fh:
                first = fh.readline().decode("utf-8-sig")
            names = next(csv.reader([first]), [])
        else:
            names = _csv_header(path)
        roles = _resolve_tick_columns(names, columns, source)
        types = {roles["code"]: pa.dictionary(pa.int32(), pa.string())}
        opts = pacsv.ConvertOptions(column_types=types, include_columns=list(roles.values()))
        ropts = pacsv.ReadOptions(block_size=max(batch_size * 32, 1 << 20))
        try:
            reader = pacsv.open_csv(str(path), read_options=ropts, convert_options=opts)
        except pa.ArrowException as exc:
            raise ValueError(f"{source}: {exc}") from None
        return roles, reader
    # Arrow IPC: the file format (random access, memory-mapped), else the stream format
    ipc = _require("pyarrow.ipc", "pyarrow")
    mm = pa.memory_map(str(path), "r")
    try:
        reader = ipc.open_file(mm)
        names = reader.schema.names
        batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
    except pa.ArrowInvalid:
        mm.seek(0)
        try:
            reader = ipc.open_stream(mm)
        except pa.ArrowInvalid as exc:
            raise ValueError(f"{source}: not an Arrow IPC file or stream: {exc}") from None
        names = reader.schema.names
        batches = iter(reader)
    roles = _resolve_tick_columns(names, columns, source)
    return roles, (b.select(list(roles.values())) for b in batches)


def count_ticks(path: str | Path, *, format: str | None = None) -> int | None:
    """Number of ticks in a Parquet or Arrow IPC file from its metadata (None for CSV or an
    Arrow stream, whose length is only known once read)."""
    pa = _require("pyarrow")
    path = Path(path)
    fmt = file_format(path, format)
    if not path.is_file():
        raise FileNotFoundError(f"no such tick file: {str(path)!r}")
    if fmt == "parquet":
        return _require("pyarrow.parquet", "pyarrow").ParquetFile(path).metadata.num_rows
    if fmt == "arrow":
        try:
            with pa.memory_map(str(path), "r") as mm:
                r = _require("pyarrow.ipc", "pyarrow").open_file(mm)
                return sum(r.get_batch(i).num_rows for i in range(r.num_record_batches))
        except pa.ArrowInvalid:
            return None
    return None


def iter_ticks(
    source: object,
    universe: Universe,
    *,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    columns: Mapping[str, str] | None = None,
    check_order: bool = True,
) -> Iterator[TickBatch]:
    """Stream a tick file (or an in-memory table) as :class:`TickBatch` es.

    Columns (case-insensitive; rename with ``columns={'time': 'ts', ...}``):

    - ``time``: int64 ns since midnight KST; or an Arrow timestamp (tz-aware: converted to KST;
      naive: taken as KST wall clock); or a time of day (``time32``/``time64``); or text
      (``'09:00:00.123456789'``, ``'2026-03-23 09:00:00'``, ISO with offset);
    - ``code``: 6-character codes (strings; integers are zero-filled);
    - ``price``: int64 won (floats must be whole);
    - ``volume``: optional, integer.

    Parameters
    ----------
    source : path to .parquet / .csv (.csv.gz) / .arrow (.feather, .arrows), or a
        ``pyarrow.Table`` or ``pandas.DataFrame``
    universe : Universe
        Codes are mapped to its ids.
    format : {'parquet', 'csv', 'arrow'}, optional
        Overrides the suffix.
    batch_size : int
        Ticks per batch (at most).
    columns : mapping role -> column name, optional
    check_order : bool
        Require non-decreasing times across the whole file.

    Yields
    ------
    TickBatch

    Raises
    ------
    FileNotFoundError, ValueError, KeyError, TypeError
        Missing file, missing column, an unknown code (``KeyError`` naming the code and its
        row), a missing / non-numeric / non-positive price, a bad time, ticks out of order.
    """
    pa = _require("pyarrow")
    pc = _require("pyarrow.compute", "pyarrow")
    if not isinstance(universe, Universe):
        raise TypeError(f"`universe` must be a kospi_fast.Universe, got {type(universe).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
    batch_size = int(batch_size)
    fmt = None
    if isinstance(source, (str, Path)):
        path = Path(source)
        fmt = file_format(path, format)
        if not path.is_file():
            raise FileNotFoundError(f"no such tick file: {str(path)!r}")
        name = str(path)
        roles, raw = _raw_batches(path, fmt, batch_size, columns)
    else:
        pd = sys.modules.get("pandas")  # a DataFrame implies pandas is imported
        if pd is not None and isinstance(source, pd.DataFrame):
            source = pa.Table.from_pandas(source, preserve_index=False)
        if not isinstance(source, (pa.Table, pa.RecordBatch)):
            raise TypeError(f"`source` must be a path, a pyarrow.Table or a pandas.DataFrame, got "
                            f"{type(source).__name__}")
        name = "table"
        roles = _resolve_tick_columns(source.schema.names, columns, name)
        table = source.select(list(roles.values()))
        raw = table.to_batches(max_chunksize=batch_size) if isinstance(table, pa.Table) else [table]
    line0 = 2 if fmt == "csv" else None
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
            if fmt == "csv":  # pyarrow names the value, not the row: find the row
                _locate_csv_error(path, roles, offset, str(exc))
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
            times = _times_ns(pa, pc, cols[roles["time"]], where)
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
            yield TickBatch(base, times, np.ascontiguousarray(ids), prices, vols)


def _locate_csv_error(path: Path, roles: Mapping[str, str], start: int, message: str) -> None:
    """Raise a ValueError naming the first tick row at or after ``start`` whose price or time
    cell does not parse (error path only: a plain Python scan of the rest of the file)."""
    if path.suffix.lower() in (".gz", ".bz2", ".zst"):
        return
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        where = {role: header.index(col) for role, col in roles.items() if col in header}
        for row, cells in enumerate(reader):
            if row < start:
                continue
            for role in ("price", "time", "volume"):
                j = where.get(role)
                if j is None or j >= len(cells):
                    continue
                cell = cells[j].strip()
                if role == "time" and not re.fullmatch(r"[+-]?\d+", cell):
                    continue  # text times are checked by pyarrow's cast with their own message
                try:
                    float(cell)
                except ValueError:
                    raise ValueError(f"{path}: tick row {row} (line {row + 2}): {role} is not a number: "
                                     f"{cell!r} ({message})") from None


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


def _write_table_batches(path: Path, fmt: str, schema, batches: Iterable, *, compression: str | None = None):
    pa = _require("pyarrow")
    if fmt == "parquet":
        pq = _require("pyarrow.parquet", "pyarrow")
        with pq.ParquetWriter(path, schema, compression=compression or "snappy") as w:
            for b in batches:
                w.write_batch(b)
    elif fmt == "csv":
        pacsv = _require("pyarrow.csv", "pyarrow")
        with pacsv.CSVWriter(str(path), schema) as w:
            for b in batches:
                w.write_batch(b)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as w:
            for b in batches:
                w.write_batch(b)


def write_ticks(day: object, path: str | Path, *, time: str = "ns", format: str | None = None,
                batch_size: int = DEFAULT_BATCH, volume: object = None) -> Path:
    """Write a :class:`~kospi_fast.SimulatedDay` as a tick file that :func:`iter_ticks` reads.

    Columns: ``time``, ``code``, ``price`` (int64 won) and, when ``volume`` is given, ``volume``.
    The format follows the suffix: ``.parquet`` (code dictionary-encoded), ``.csv``,
    ``.arrow`` / ``.feather`` (Arrow IPC file, code dictionary-encoded).

    Parameters
    ----------
    day : SimulatedDay
        Or any object with ``universe``, ``times``, ``ids``, ``prices`` (and ``date`` for
        ``time='timestamp'``).
    path : str or Path
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
    pa = _require("pyarrow")
    path = Path(path)
    fmt = file_format(path, format)
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
        d = _iso_date(getattr(day, "date", None))
        if d is None:
            raise ValueError("time='timestamp' needs `day.date` (an ISO date)")
        midnight_utc = int(np.datetime64(d, "ns").astype(np.int64)) - KST_OFFSET_NS
        t_type = pa.timestamp("ns", tz="Asia/Seoul")
    else:
        t_type = pa.int64()
    dictionary = pa.array(universe.codes, type=pa.string())
    code_type = pa.string() if fmt == "csv" else pa.dictionary(pa.int32(), pa.string())
    fields = [pa.field("time", t_type), pa.field("code", code_type), pa.field("price", pa.int64())]
    if vol is not None:
        fields.append(pa.field("volume", pa.int64()))
    schema = pa.schema(fields)

    def batches():
        for s in range(0, times.shape[0], batch_size):
            sl = slice(s, s + batch_size)
            t = times[sl]
            t_arr = pa.array(t + midnight_utc, type=pa.int64()).view(t_type) if time == "timestamp" else pa.array(t)
            code = pa.DictionaryArray.from_arrays(pa.array(ids[sl]), dictionary)
            if fmt == "csv":
                code = code.dictionary_decode()
            cols = [t_arr, code, pa.array(prices[sl])]
            if vol is not None:
                cols.append(pa.array(vol[sl]))
            yield pa.RecordBatch.from_arrays(cols, schema=schema)

    _write_table_batches(path, fmt, schema, batches())
    return path


# =========================================================================== grid and replay
_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")


def parse_clock(value: object) -> int:
    """``'09:00:10'`` (or ``'09:00:10.5'``, ``'9:00'``) -> ns since midnight; ints pass through."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    m = _CLOCK_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"not a time of day 'HH:MM[:SS[.fff]]': {value!r}")
    h, mi, s, frac = m.groups()
    ns = ((int(h) * 60 + int(mi)) * 60 + int(s or 0)) * NS_PER_S + int((frac or "0").ljust(9, "0"))
    if ns >= DAY_NS:
        raise ValueError(f"not a time of day: {value!r}")
    return ns


def format_clock(ns: int, *, digits: int = 0) -> str:
    """ns since midnight -> ``'HH:MM:SS'`` (with ``digits`` decimals of the second)."""
    ns = int(ns)
    s, rem = divmod(ns, NS_PER_S)
    out = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if digits:
        out += "." + f"{rem:09d}"[:digits]
    return out


_STEP_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|min)?$")


def parse_step(value: object) -> int | None:
    """A grid step: ``'tick'`` -> None (every trade), ``'10s'``, ``'1s'``, ``'500ms'``, ``'1m'``,
    or a number of seconds -> ns."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "tick"):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        ns = int(round(float(value) * NS_PER_S))
    else:
        m = _STEP_RE.match(str(value).strip().lower())
        if not m:
            raise ValueError(f"`grid` must be 'tick' or a step such as '10s', '1s', '500ms', got {value!r}")
        mult = {"ms": 10**6, "s": NS_PER_S, None: NS_PER_S, "m": 60 * NS_PER_S, "min": 60 * NS_PER_S}[m.group(2)]
        ns = int(round(float(m.group(1)) * mult))
    if ns <= 0:
        raise ValueError(f"`grid` step must be > 0, got {value!r}")
    return ns


def publication_times(step: object = "10s", *, start: object = "09:00:10", end: object = "15:30:00") -> np.ndarray:
    """Publication grid, int64 ns since midnight KST: ``start``, ``start + step``, ... up to
    ``end`` inclusive. KOSPI (default): every 10 s from 09:00:10 to 15:30:00; KOSPI 200: ``'1s'``.

    >>> g = publication_times()
    >>> format_clock(g[0]), format_clock(g[-1]), len(g)
    ('09:00:10', '15:30:00', 2340)
    """
    s, e, st = parse_clock(start), parse_clock(end), parse_step(step)
    if st is None:
        raise ValueError("a publication grid needs a step, not 'tick'")
    if e < s:
        raise ValueError(f"`end` {end!r} is before `start` {start!r}")
    return s + st * np.arange((e - s) // st + 1, dtype=np.int64)


class _Sampler:
    """Streaming sampler of a step function on an arithmetic grid: the value at grid time ``g``
    is the level after the last tick at or before ``g`` (the starting level before any tick).
    The grid runs from ``start`` to ``end`` and on, if ticks come later, to the first grid time
    at or after the last tick (so the close is always printed)."""

    def __init__(self, start: int | None, step: int, end: int, initial: float) -> None:
        self.start, self.step, self.end = start, step, end
        self.next_k = 0
        self.carry = initial
        self.times: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.last_tick: int | None = None

    def feed(self, t: np.ndarray, lv: np.ndarray) -> None:
        if self.start is None:  # lazily anchored at the first tick's whole step
            self.start = int(t[0]) // self.step * self.step
        last = int(t[-1])
        self.last_tick = last
        # only grid times strictly before the batch's last tick are final: more trades stamped
        # at exactly that time may follow in the next batch
        if last > self.start:
            k_hi = (last - 1 - self.start) // self.step
            if k_hi >= self.next_k:
                g = self.start + self.step * np.arange(self.next_k, k_hi + 1, dtype=np.int64)
                pos = np.searchsorted(t, g, side="right") - 1
                vals = np.where(pos >= 0, lv[np.maximum(pos, 0)], self.carry)
                self.times.append(g)
                self.values.append(vals)
                self.next_k = k_hi + 1
        self.carry = float(lv[-1])

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        if self.start is None:
            self.start = self.end
        k_end = max((self.end - self.start) // self.step, -1)
        if self.last_tick is not None and self.last_tick > self.start:
            k_end = max(k_end, -(-(self.last_tick - self.start) // self.step))
        if k_end >= self.next_k:
            g = self.start + self.step * np.arange(self.next_k, k_end + 1, dtype=np.int64)
            self.times.append(g)
            self.values.append(np.full(g.shape[0], self.carry))
            self.next_k = k_end + 1
        if not self.times:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        return np.concatenate(self.times), np.concatenate(self.values)


class _EngineTarget:
    """An IndexEngine seen by the replay loop."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.name = "KOSPI"
        self.universe = engine.universe
        self.start_level = engine.level
        self.previous_close = engine.previous_close

    def update(self, ids, prices) -> np.ndarray:
        return self.engine.update_many(ids, prices)

    @property
    def level(self) -> float:
        return self.engine.level

    def exact(self) -> bool:
        return self.engine.level == self.engine.recompute()

    def state(self):
        e = self.engine
        return e.prices, e.reference_prices, e.index_shares, e.divisor


class _FamilyTarget:
    """One index of an IndexFamily seen by the replay loop."""

    def __init__(self, family, name: str) -> None:
        self.family = family
        self.k = family.index_of(name)
        self.name = name
        self.universe = family.universe
        self.start_level = float(family.levels[self.k])
        self.previous_close = float(family.previous_levels[self.k])

    def update(self, ids, prices) -> np.ndarray:
        return np.ascontiguousarray(self.family.update_many(ids, prices)[:, self.k])

    @property
    def level(self) -> float:
        return float(self.family.levels[self.k])

    def exact(self) -> bool:
        return bool(self.family.levels[self.k] == self.family.recompute()[self.k])

    def state(self):
        f = self.family
        ids, sh = f.index_shares(self.name)
        shares = np.zeros(len(f.universe), dtype=np.int64)
        shares[ids] = sh
        return f.prices, f.reference_prices, shares, float(f.divisors[self.k])


@dataclass
class ReplayResult:
    """What a replay did: OHLC, timing, the sampled series and each stock's contribution.

    ``grid_times`` / ``grid_levels``: the level series on the publication grid (or per tick
    with ``grid='tick'`` and ``keep_ticks``); ``chart_times`` / ``chart_levels``: a 1-second
    series for plotting; ``points``: per stock, Δprice × index shares / divisor (index points;
    they sum to ``close − previous_close`` when nothing was rebased).
    """

    index: str
    universe: Universe
    n_ticks: int
    previous_close: float
    start_level: float
    open: float
    open_time: int
    high: float
    high_time: int
    low: float
    low_time: int
    close: float
    close_time: int
    seconds: float
    kernel_seconds: float
    exact: bool
    grid: str
    grid_times: np.ndarray
    grid_levels: np.ndarray
    chart_times: np.ndarray
    chart_levels: np.ndarray
    points: np.ndarray
    pct: np.ndarray
    member: np.ndarray
    volume: int | None = None
    tick_codes: np.ndarray | None = field(default=None, repr=False)
    tick_prices: np.ndarray | None = field(default=None, repr=False)
    source: str = ""

    @property
    def change(self) -> float:
        return self.close - self.previous_close

    @property
    def change_pct(self) -> float:
        return 100.0 * self.change / self.previous_close

    @property
    def ticks_per_second(self) -> float:
        return self.n_ticks / self.seconds if self.seconds > 0 else float("inf")

    def top_contributors(self, n: int = 10) -> list[dict]:
        """The ``n`` stocks with the largest |points|: code, name, sector, points, pct."""
        order = np.argsort(-np.abs(self.points), kind="stable")[:n]
        u = self.universe
        return [{"code": u.codes[i], "name": u.names[i], "sector": u.sectors[i] if u.sectors else "",
                 "points": float(self.points[i]), "pct": float(self.pct[i])} for i in order]

    def sector_points(self) -> dict[str, float]:
        """{sector: points}, largest |points| first (empty without sector labels)."""
        u = self.universe
        if u.sectors is None:
            return {}
        labels, inv = np.unique(np.array(u.sectors, dtype=str), return_inverse=True)
        sums = np.bincount(inv, weights=self.points, minlength=len(labels))
        has_member = np.bincount(inv, weights=self.member, minlength=len(labels)) > 0
        order = np.argsort(-np.abs(sums), kind="stable")
        return {(str(labels[j]) or "(none)"): float(sums[j]) for j in order if has_member[j]}

    def breadth(self) -> tuple[int, int, int]:
        """(advancers, decliners, unchanged) among the members."""
        m = self.member
        return int((self.pct[m] > 0).sum()), int((self.pct[m] < 0).sum()), int((self.pct[m] == 0).sum())

    def to_frame(self, *, date: object = None):
        """The sampled level series as a pandas DataFrame: ``time`` (int64 ns since midnight
        KST), ``clock`` ('HH:MM:SS'), ``level`` (float64, exact), ``published`` (2 decimals,
        half-up); with ``date``, a ``timestamp`` column (tz Asia/Seoul); per tick also
        ``code`` and ``price`` when they were kept."""
        pd = _require("pandas")
        return pd.DataFrame(_series_columns(self, date, as_numpy=True))

    def write(self, path: str | Path, *, format: str | None = None, date: object = None) -> Path:
        """Write the sampled series (see :meth:`to_frame`) to Parquet / CSV / Arrow by suffix."""
        pa = _require("pyarrow")
        path = Path(path)
        fmt = file_format(path, format)
        table = pa.table(_series_columns(self, date, as_numpy=False))
        _write_table_batches(path, fmt, table.schema, table.to_batches())
        return path


def _series_columns(res: ReplayResult, date: object, *, as_numpy: bool) -> dict:
    from kospi_fast.engine import published

    pa = None if as_numpy else _require("pyarrow")
    t = res.grid_times
    cols: dict = {"time": t}
    if date is not None:
        d = _iso_date(date)
        midnight_utc = int(np.datetime64(d, "ns").astype(np.int64)) - KST_OFFSET_NS
        if as_numpy:
            pd = _require("pandas")
            cols["timestamp"] = pd.to_datetime(t + midnight_utc, unit="ns", utc=True).tz_convert("Asia/Seoul")
        else:
            cols["timestamp"] = pa.array(t + midnight_utc, pa.int64()).view(pa.timestamp("ns", tz="Asia/Seoul"))
    if res.grid != "tick":
        cols["clock"] = [format_clock(x) for x in t.tolist()]
    if res.tick_codes is not None:
        codes = np.array(res.universe.codes, dtype=object)[res.tick_codes]
        cols["code"] = codes if as_numpy else pa.DictionaryArray.from_arrays(
            pa.array(res.tick_codes), pa.array(res.universe.codes, pa.string()))
        cols["price"] = res.tick_prices
    cols["level"] = res.grid_levels
    if res.grid != "tick":
        cols["published"] = np.array([published(x) for x in res.grid_levels.tolist()], dtype=np.float64)
    return cols


class _TickWriter:
    """Per-tick levels streamed to a file as batches arrive (time, code, price, level)."""

    def __init__(self, path: Path, fmt: str, universe: Universe) -> None:
        pa = _require("pyarrow")
        self.pa, self.fmt = pa, fmt
        self.dictionary = pa.array(universe.codes, type=pa.string())
        code_type = pa.string() if fmt == "csv" else pa.dictionary(pa.int32(), pa.string())
        self.schema = pa.schema([("time", pa.int64()), ("code", code_type), ("price", pa.int64()),
                                 ("level", pa.float64())])
        if fmt == "parquet":
            self.w = _require("pyarrow.parquet", "pyarrow").ParquetWriter(path, self.schema)
        elif fmt == "csv":
            self.w = _require("pyarrow.csv", "pyarrow").CSVWriter(str(path), self.schema)
        else:
            self.sink = pa.OSFile(str(path), "wb")
            self.w = pa.ipc.new_file(self.sink, self.schema)

    def write(self, b: TickBatch, levels: np.ndarray) -> None:
        pa = self.pa
        code = pa.DictionaryArray.from_arrays(pa.array(b.ids), self.dictionary)
        if self.fmt == "csv":
            code = code.dictionary_decode()
        self.w.write_batch(pa.RecordBatch.from_arrays(
            [pa.array(b.times), code, pa.array(b.prices), pa.array(levels)], schema=self.schema))

    def close(self) -> None:
        self.w.close()
        if self.fmt == "arrow":
            self.sink.close()


def replay_batches(
    batches: Iterable[TickBatch],
    engine: object,
    *,
    index: str | None = None,
    grid: object = "10s",
    grid_start: object = "09:00:10",
    grid_end: object = "15:30:00",
    out: str | Path | None = None,
    out_format: str | None = None,
    keep_ticks: bool = False,
    on_batch: Callable[[int], None] | None = None,
    source: str = "",
) -> ReplayResult:
    """Run tick batches through an engine and summarise the day (see :func:`replay_file`)."""
    from kospi_fast.engine import IndexEngine
    from kospi_fast.family import IndexFamily

    if isinstance(engine, IndexEngine):
        if index not in (None, "KOSPI"):
            raise ValueError(f"`index` {index!r} needs an IndexFamily; an IndexEngine computes one index")
        target: object = _EngineTarget(engine)
    elif isinstance(engine, IndexFamily):
        target = _FamilyTarget(engine, index or engine.names[0])
    else:
        raise TypeError(f"`engine` must be an IndexEngine or an IndexFamily, got {type(engine).__name__}")
    step = parse_step(grid)
    grid_name = "tick" if step is None else str(grid)
    start_level = target.level
    sampler = None if step is None else _Sampler(parse_clock(grid_start), step, parse_clock(grid_end), start_level)
    chart = _Sampler(None, NS_PER_S, CLOSE_NS, start_level)
    writer = None
    if out is not None and step is None:
        out = Path(out)
        writer = _TickWriter(out, file_format(out, out_format), target.universe)
    keep_t: list[np.ndarray] = []
    keep_l: list[np.ndarray] = []
    keep_i: list[np.ndarray] = []
    keep_p: list[np.ndarray] = []
    n = 0
    vol_total = None
    first_time = None
    open_level, open_done = start_level, False
    hi, hi_t, lo, lo_t = -np.inf, 0, np.inf, 0
    last_time = 0
    kernel = 0.0
    t0 = _time.perf_counter()
    try:
        for b in batches:
            m = len(b)
            if m == 0:
                continue
            k0 = _time.perf_counter()
            try:
                levels = target.update(b.ids, b.prices)
            except ValueError as exc:
                raise ValueError(f"{source or 'ticks'}: in ticks {b.offset}..{b.offset + m - 1}: {exc}") from None
            kernel += _time.perf_counter() - k0
            t = b.times
            if first_time is None:
                first_time = int(t[0])
            if not open_done:  # the open: level after every trade stamped at the first time
                j = int(np.searchsorted(t, first_time, side="right"))
                if j > 0:
                    open_level = float(levels[j - 1])
                open_done = j < m
            a, z = int(np.argmax(levels)), int(np.argmin(levels))
            if levels[a] > hi:
                hi, hi_t = float(levels[a]), int(t[a])
            if levels[z] < lo:
                lo, lo_t = float(levels[z]), int(t[z])
            if sampler is not None:
                sampler.feed(t, levels)
            chart.feed(t, levels)
            if writer is not None:
                writer.write(b, levels)
            if keep_ticks and step is None:
                keep_t.append(t)
                keep_l.append(levels)
                keep_i.append(b.ids)
                keep_p.append(b.prices)
            if b.volumes is not None:
                vol_total = (vol_total or 0) + int(b.volumes.sum())
            last_time = int(t[-1])
            n += m
            if on_batch is not None:
                on_batch(m)
    finally:
        if writer is not None:
            writer.close()
    seconds = _time.perf_counter() - t0
    close = target.level
    if n == 0:
        hi = lo = close
        hi_t = lo_t = 0
    if step is None:
        if keep_ticks and keep_t:
            gt, gl = np.concatenate(keep_t), np.concatenate(keep_l)
        else:
            gt, gl = np.empty(0, np.int64), np.empty(0, np.float64)
    else:
        gt, gl = sampler.finish()
    ct, cl = chart.finish()
    prices, ref, shares, divisor = target.state()
    points = (prices - ref).astype(np.float64) * shares / divisor
    pct = 100.0 * (prices / ref - 1.0)
    result = ReplayResult(
        index=target.name, universe=target.universe, n_ticks=n,
        previous_close=target.previous_close, start_level=start_level,
        open=open_level, open_time=first_time or 0, high=hi, high_time=hi_t, low=lo, low_time=lo_t,
        close=close, close_time=last_time, seconds=seconds, kernel_seconds=kernel, exact=target.exact(),
        grid=grid_name, grid_times=gt, grid_levels=gl, chart_times=ct, chart_levels=cl,
        points=points, pct=pct, member=shares > 0, volume=vol_total,
        tick_codes=np.concatenate(keep_i) if keep_ticks and keep_i else None,
        tick_prices=np.concatenate(keep_p) if keep_ticks and keep_p else None,
        source=source,
    )
    if out is not None and step is not None:
        result.write(out, format=out_format)
    return result


def replay_file(
    path: str | Path,
    engine: object,
    *,
    index: str | None = None,
    grid: object = "10s",
    out: str | Path | None = None,
    out_format: str | None = None,
    keep_ticks: bool = False,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    columns: Mapping[str, str] | None = None,
    on_batch: Callable[[int], None] | None = None,
    grid_start: object = "09:00:10",
    grid_end: object = "15:30:00",
) -> ReplayResult:
    """Stream a tick file through ``engine`` batch by batch and summarise the day.

    The levels are exactly those of :func:`kospi_fast.replay` on the whole arrays (the running
    cap is an exact integer, so batching changes nothing).

    Parameters
    ----------
    path : path to a .parquet / .csv / .arrow tick file (see :func:`iter_ticks`)
    engine : IndexEngine or IndexFamily
        Calibrated and at the day's starting prices; it is advanced by the ticks.
    index : str, optional
        With an IndexFamily, which index to follow (default: its first).
    grid : 'tick' or a step such as '10s' (default, KOSPI's publication grid from 09:00:10)
        or '1s' (KOSPI 200's)
    out : path, optional
        Write the series: per tick (time, code, price, level; streamed as it is computed) with
        ``grid='tick'``, else the grid (time, clock, level, published). Format by suffix
        (.parquet, .csv, .arrow) or ``out_format``.
    keep_ticks : bool
        With ``grid='tick'``, keep the per-tick series in the result (memory: ~28 bytes a tick).
    format, batch_size, columns :
        See :func:`iter_ticks`.
    on_batch : callable(int), optional
        Called with the number of ticks after each batch (progress bars).
    grid_start, grid_end : 'HH:MM:SS'
        Grid bounds (default 09:00:10 .. 15:30:00; extended to the last tick if later).

    Returns
    -------
    ReplayResult

    Raises
    ------
    FileNotFoundError, ValueError, KeyError, TypeError
        From :func:`iter_ticks`, or a tick the engine rejects; ticks before the bad batch have
        been applied to ``engine``.
    """
    if isinstance(engine, Universe):
        raise TypeError("`engine` must be an IndexEngine or IndexFamily; build one from the universe, "
                        "e.g. LoadedUniverse.engine(level=...)")
    universe = getattr(engine, "universe", None)
    batches = iter_ticks(path, universe, format=format, batch_size=batch_size, columns=columns)
    return replay_batches(batches, engine, index=index, grid=grid, out=out, out_format=out_format,
                          keep_ticks=keep_ticks, on_batch=on_batch, source=str(path),
                          grid_start=grid_start, grid_end=grid_end)


def family_index(universe: Universe, members: np.ndarray, name: str, level: float | None = None):
    """An :class:`~kospi_fast.IndexFamily` over ``universe`` computing one index of the KOSPI
    family (``'KOSPI'``, ``'KOSPI Large'`` / ``'Mid'`` / ``'Small'``, or a sector name) over the
    members, calibrated to ``level`` (default: the base value 100)."""
    from kospi_fast.family import IndexFamily

    mem_u = Universe([c for c, m in zip(universe.codes, members) if m],
                     [c for c, m in zip(universe.names, members) if m],
                     universe.shares[members], universe.base_prices[members],
                     None if universe.sectors is None else [s for s, m in zip(universe.sectors, members) if m])
    fam = IndexFamily.kospi(mem_u)
    try:
        defn = fam.definition(name)
    except KeyError:
        raise KeyError(f"unknown index {name!r}; this universe has {list(fam.names)}") from None
    return IndexFamily(universe, [replace(defn, level=level)])
