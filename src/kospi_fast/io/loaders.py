"""Universes from end-of-day tables: FinanceDataReader, pykrx and KRX constituent layouts
(see :mod:`kospi_fast.io`)."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kospi_fast import _validation
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._optional import require
from kospi_fast.engine import IndexEngine
from kospi_fast.io.formats import csv_dialect
from kospi_fast.io.ticks import _qualname, arrow_table
from kospi_fast.krx import KRX_CODE_RE
from kospi_fast.universe import Universe


__all__ = [
    "FDR_COLUMNS",
    "KRX_CONSTITUENT_COLUMNS",
    "PYKRX_COLUMNS",
    "LoadedUniverse",
    "detect_layout",
    "load_universe",
    "normalize_code",
    "table_layout",
    "universe_frame",
    "universe_from_fdr",
    "universe_from_krx_constituents",
    "universe_from_pykrx",
    "universes_from_fdr",
    "write_universe",
    "member_codes",
    "read_code_list",
]

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
        ``"fdr"``, ``"krx_stocks"``, ``"pykrx"`` or ``"krx_constituents"``.
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
        px = self.universe.base_prices if prices is None else _validation.int64_array(prices, "prices")
        sh = np.where(self.members, self.universe.shares, 0).astype(np.int64)
        return aggregate_cap(np.ascontiguousarray(px), sh) if len(self) else 0

    def engine(self, level: float | None = None, **kwargs):
        """An :class:`~kospi_fast.IndexEngine` over this universe and membership, calibrated to
        ``level`` (e.g. the previous published close; default: the base value 100)."""
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

    def take(self, mask: np.ndarray) -> _Table:
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


def _frame(df, index_col_name: str | None = None):
    """A DataFrame with a named index (pykrx's ``티커``, FDR's ``Date``) turned into a column, so
    that a frame, its CSV and its Parquet file read the same; with ``index_col_name``, an unnamed
    non-default index becomes that column (a pykrx frame whose index lost its name)."""
    pd = require("pandas", "io")
    if isinstance(df.index, pd.RangeIndex) and df.index.name is None:
        return df
    named = any(n is not None for n in df.index.names)
    if not named and index_col_name is None:
        return df
    if named and all(n in df.columns for n in df.index.names if n is not None):
        return df.reset_index(drop=True)  # set_index(..., drop=False): the column is there already
    out = df.reset_index()
    if not named and index_col_name not in out.columns and "index" in out.columns:
        out = out.rename(columns={"index": index_col_name})
    return out


def _open_binary(path: Path):
    """A function opening ``path`` as bytes, gunzipped for ``.gz``."""
    if path.suffix.lower() == ".gz":
        return lambda: gzip.open(path, "rb")
    return lambda: path.open("rb")


def _read_table(source: object, what: str, *, index_col_name: str | None = None) -> _Table:
    """A DataFrame (pandas, polars or any ``__arrow_c_stream__`` table) or a CSV / Parquet path
    as a :class:`_Table` (CSV cells read as text; UTF-8 or CP949, delimiter sniffed)."""
    pd = require("pandas", "io")
    if not isinstance(source, (str, Path, pd.DataFrame)) and hasattr(source, "__arrow_c_stream__"):
        source = arrow_table(source, what).to_pandas()
    if isinstance(source, pd.DataFrame):
        labels = list(source.index)
        df = _frame(source, index_col_name)
        return _Table(df, "DataFrame", None, labels)
    if not isinstance(source, (str, Path)):
        raise TypeError(f"{what}: expected a DataFrame (pandas, polars or any Arrow stream) or a path to a "
                        f"CSV/Parquet file, got {_qualname(source)}")
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{what}: no such file: {str(path)!r}")
    if path.suffix.lower() in (".parquet", ".pq"):
        pa = require("pyarrow", "io")
        try:
            df = pd.read_parquet(path)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise ValueError(f"{what}: {path}: not a readable Parquet file: {exc}") from None
        return _Table(_frame(df, index_col_name), str(path), None)
    _, enc, sep = csv_dialect(_open_binary(path), path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what}: {path}: {str(exc).strip()}") from None
    return _Table(df, str(path), 2)


def _text(series) -> np.ndarray:
    """Cells as an object array of stripped strings ('' for missing)."""
    pd = require("pandas", "io")
    vals = series.to_numpy(dtype=object)
    miss = pd.isna(series).to_numpy()
    return np.array(["" if m else str(v).strip() for v, m in zip(vals, miss)], dtype=object)


def _int_column(t: _Table, col: str, *, check: str | None = None, label: str | None = None) -> np.ndarray:
    """A whole-number column as int64; a missing, non-numeric or fractional cell is an error
    naming its row. ``check``: ``"positive"`` or ``"non_negative"``."""
    pd = require("pandas", "io")
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


_CODE_RE = KRX_CODE_RE  # KRX files: KRX's own code rule (kospi_fast.krx)


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
    pd = require("pandas", "io")
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
            first = t.where(seen[c]).removeprefix(f"{t.source}: ")
            raise ValueError(f"{t.where(k)}: duplicate code {c!r} (first at {first})")
        seen[c] = k
        codes.append(c)
    return codes


_DATE_NAMES = ("Date", "날짜", "일자", "TRD_DD")


def _cell_date(value: object) -> str | None:
    """A table cell as an ISO date (an integer cell is read as its text: 20260320), or None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = str(value)
    try:
        return _validation.iso_date(value)
    except (TypeError, ValueError):
        return None


def _date_cells(t: _Table, col: str) -> np.ndarray:
    """The ISO date of every row (object array); a cell that is not a date names its row."""
    cells = t.df[col].to_numpy(dtype=object)
    uniq = {v: _cell_date(v) for v in set(cells.tolist())}
    iso = np.array([uniq[v] for v in cells], dtype=object)
    bad = np.array([v is None for v in iso], dtype=bool)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{t.where(k)}: column {col!r} is not a date: {cells[k]!r}")
    return iso


def _split_dates(t: _Table) -> list[tuple[str | None, _Table]]:
    """(date, rows of that date) for every date of the table, in date order; one (None, t)
    when the table has no date column."""
    col = t.find(_DATE_NAMES)
    if col is None:
        return [(None, t)]
    iso = _date_cells(t, col)
    return [(d, t.take(iso == d)) for d in sorted(set(iso.tolist()))]


def _select_date(t: _Table, date: object, what: str) -> tuple[_Table, str | None]:
    """Keep the rows of one date when the table has a date column."""
    col = t.find(_DATE_NAMES)
    want = None
    if date is not None and not (isinstance(date, str) and date == "last"):
        try:
            want = _validation.iso_date(date)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{what}: {exc}") from None
    if col is None:
        return t, want
    iso = _date_cells(t, col)
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


#: Column names that hold a member's code in a list of members (a CSV of codes, a frame).
_CODE_HEADERS = ("code", "codes", "symbol", "ticker", "종목코드", "단축코드", "티커", "isu_srt_cd")


def read_code_list(path: str | Path) -> tuple[str, ...]:
    """Codes from a text or CSV file: one per line, or a column named Code / 종목코드 / ...
    (blank lines and lines starting with '#' skipped; UTF-8 or CP949); a bad or repeated code
    names its line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"members: no such file: {str(path)!r}")
    _, enc, sep = csv_dialect(_open_binary(path), path)
    with _open_binary(path)() as fh:
        text = fh.read().decode(enc)
    rows = [(k, r) for k, r in enumerate(csv.reader(text.splitlines(), delimiter=sep), start=1)
            if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise ValueError(f"members {path}: no codes")
    col = 0
    head = [re.sub(r"\s+", "", c).casefold() for c in rows[0][1]]
    hits = [j for j, c in enumerate(head) if c in _CODE_HEADERS]
    if hits:
        col, rows = hits[0], rows[1:]
    elif normalize_code(rows[0][1][0]) is None:
        if len(head) > 1:
            raise ValueError(f"members {path}: line {rows[0][0]}: no code column (Code, 종목코드) among "
                             f"{rows[0][1]}")
        rows = rows[1:]  # a one-column header
    codes: list[str] = []
    seen: dict[str, int] = {}
    for line, r in rows:
        cell = r[col] if col < len(r) else ""
        c = normalize_code(cell)
        if c is None:
            raise ValueError(f"members {path}: line {line}: not a 6-character KRX code such as '005930': {cell!r}")
        if c in seen:
            raise ValueError(f"members {path}: line {line}: {c!r} repeats line {seen[c]}")
        seen[c] = line
        codes.append(c)
    if not codes:
        raise ValueError(f"members {path}: no codes")
    return tuple(codes)


def member_codes(source: object, *, date: object = None) -> tuple[str, ...]:
    """The member codes of a members source (see :class:`_Members`): a table
    :func:`load_universe` reads (a KRX constituents download or frame: every row; a table with
    ``InKOSPIIndex``: its members), of the day ``date`` when it holds several; else a text /
    CSV list of codes (:func:`read_code_list`)."""
    m = _Members(source)
    if m.codes is not None:
        return tuple(m.codes)
    if m.by_date is None:
        raise TypeError(f"members: expected codes, a path or a DataFrame of members, got {source!r}")
    days = sorted(m.by_date)
    day = days[-1] if date == "last" or (date is None and len(days) == 1) else (
        None if date is None else _validation.iso_date(date))
    if day not in m.by_date:
        m.mask([], day, "members")  # raises, naming the table's dates
    return m.by_date[day]


class _Members:
    """The ``members=`` of a loader, resolved once for every day of a table: ``'all'``, codes,
    a :class:`LoadedUniverse`, or a file / frame of members (read once; a table with dates gives
    each day its own members)."""

    def __init__(self, members: object) -> None:
        pd = require("pandas", "io")
        self.all = isinstance(members, str) and members == "all"
        self.codes: tuple | None = None
        self.by_date: dict[str, tuple[str, ...]] | None = None
        self.name = "members"
        if self.all or members is None:
            return
        if isinstance(members, LoadedUniverse):
            self.codes = members.member_codes
        elif isinstance(members, (str, Path, pd.DataFrame)) or (
                hasattr(members, "__arrow_c_stream__") and hasattr(members, "columns")):  # a table, not a Series
            self._read(members)
        elif isinstance(members, (bytes, np.ndarray)) and getattr(members, "dtype", None) == bool:
            raise TypeError("`members` must be codes, not a boolean mask")
        elif isinstance(members, Iterable) and not isinstance(members, (bytes, Mapping)):
            self.codes = tuple(members)
        else:
            raise TypeError(f"`members` must be codes, a LoadedUniverse, a path or a DataFrame of members, or "
                            f"'all', got {_qualname(members)}")

    def _read(self, members: object) -> None:
        if isinstance(members, (str, Path)):
            try:
                table_layout(members)
            except ValueError:
                if Path(members).suffix.lower() in (".parquet", ".pq"):
                    raise
                self.codes = read_code_list(members)
                return
        t = _read_table(members, "members")
        self.name = t.source
        col = t.find(_DATE_NAMES)
        if col is None:
            self.codes = load_universe(t.df).member_codes
            return
        self.by_date = {d: load_universe(rows.df).member_codes for d, rows in _split_dates(t)}

    def mask(self, codes: list[str], day: str | None, source: str) -> np.ndarray:
        if self.all:
            return np.ones(len(codes), dtype=bool)
        want = self.codes
        if self.by_date is not None:
            if day is None:
                if len(self.by_date) != 1:
                    raise ValueError(f"members {self.name}: holds the members of {len(self.by_date)} days, and the "
                                     "table has no date to pick them by (pass date=)")
                want = next(iter(self.by_date.values()))
            elif day not in self.by_date:
                known = sorted(self.by_date)
                raise ValueError(f"members {self.name}: no members dated {day} (its dates are {known[0]} .. "
                                 f"{known[-1]})")
            else:
                want = self.by_date[day]
        return _member_mask(codes, want, source)


def _no_membership(source: str, layout: str) -> ValueError:
    return ValueError(
        f"{source}: the {layout} table says nothing of index membership, and KOSPI counts only its members "
        "(the KOSPI market's common stocks: no preferreds, REITs, funds or foreign listings; taking every row "
        "was -9.1 bp in one day on real data). Pass members=: codes, a KRX constituents download or frame, or a "
        "file listing the codes (pykrx: stock.get_index_portfolio_deposit_file('1001', date)); CLI: --members "
        "FILE. members='all' (CLI: --members all) takes every row on purpose")


def _member_mask(codes: list[str], members: object, source: str) -> np.ndarray:
    if isinstance(members, LoadedUniverse):
        members = members.member_codes
    if isinstance(members, str):
        raise TypeError(f"`members` must be a sequence of codes, got the string {members!r}")
    if not isinstance(members, Iterable):
        raise TypeError(f"`members` must be a sequence of codes, got {_qualname(members)}")
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
#: The Korean names are those of KRX's own all-stock download ([12001] 전종목 시세: 종목코드, 종목명,
#: 시장구분, 소속부, 종가, 대비, 등락률, 시가, 고가, 저가, 거래량, 거래대금, 시가총액, 상장주식수), the
#: data FDR's listing renames: such a file is read by the same loader (layout ``'krx_stocks'``).
FDR_COLUMNS = {
    "code": ("Code", "Symbol", "종목코드", "ISU_SRT_CD"),
    "name": ("Name", "종목명", "ISU_ABBRV"),
    "close": ("Close", "종가", "TDD_CLSPRC"),
    "changes": ("Changes", "대비", "CMPPREVDD_PRC"),
    "stocks": ("Stocks", "상장주식수", "LIST_SHRS"),
    "marcap": ("Marcap", "시가총액", "MKTCAP"),
    "market": ("Market", "시장구분", "MKT_NM"),
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
    members : codes, LoadedUniverse, path or DataFrame of members, or 'all'
        The membership, overriding ``InKOSPIIndex``: codes (e.g. pykrx's
        ``get_index_portfolio_deposit_file('1001', date)``), a :class:`LoadedUniverse` or a KRX
        constituents download / frame (with a ``Date`` column: each day its own members), a
        text file of codes. FDR's own listing has no membership column: without ``members`` it is
        refused (a ValueError saying how to pass them), since its rows include preferreds, REITs,
        funds and foreign listings that KOSPI excludes; ``'all'`` takes every row on purpose.
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
    >>> lu = universe_from_fdr(df, members="all")
    >>> lu.universe.codes, lu.member_cap()
    (('005930', '000660'), 1450000)
    """
    t = _read_table(df_or_path, "universe_from_fdr")
    t, day = _select_date(t, date, "universe_from_fdr")
    return _fdr_universe(t, day, members_only=members_only, members=_Members(members), market=market, base=base,
                         check_marcap=check_marcap)


def universes_from_fdr(
    df_or_path: object,
    *,
    members_only: bool = False,
    members: object = None,
    market: str | None = "KOSPI",
    base: str = "close",
    check_marcap: bool = True,
    required: Sequence[str] = (),
) -> list[LoadedUniverse]:
    """Every day of a FinanceDataReader-layout table: one :class:`LoadedUniverse` per ``Date``,
    in date order (a table without a ``Date`` column is one day, dated None).

    The table is read once; each day is then what :func:`universe_from_fdr` with ``date=`` that
    day returns (same columns, same checks, error messages naming the file's line).
    :func:`kospi_fast.eod.read_eod_csv` is this function with the end-of-day columns required.

    Parameters
    ----------
    df_or_path, members_only, members, market, base, check_marcap
        As in :func:`universe_from_fdr`.
    required : sequence of str
        Columns that must be present (beyond ``Code``, ``Close`` and ``Stocks``), such as
        ``("Date", "Changes", "InKOSPIIndex")``.

    Returns
    -------
    list of LoadedUniverse

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        As :func:`universe_from_fdr`; a missing `required` column is a ValueError naming it.
    """
    t = _read_table(df_or_path, "universes_from_fdr")
    missing = [c for c in required if t.find(FDR_COLUMNS.get(c.lower(), (c,))) is None and t.find((c,)) is None]
    if missing:
        raise ValueError(f"{t.source}: missing column(s) {missing}; the columns are "
                         f"{[str(c) for c in t.df.columns]}")
    resolved = _Members(members)
    return [_fdr_universe(rows, day, members_only=members_only, members=resolved, market=market, base=base,
                          check_marcap=check_marcap) for day, rows in _split_dates(t)]


def _fdr_universe(t: _Table, day: str | None, *, members_only: bool, members: _Members, market: str | None,
                  base: str, check_marcap: bool) -> LoadedUniverse:
    krx = t.find(("종목코드",)) is not None and t.find(FDR_COLUMNS["code"][:2]) is None
    layout = "KRX all-stock download [12001]" if krx else "FinanceDataReader StockListing('KRX')"
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
    if members.all or members.codes is not None or members.by_date is not None:
        mask = members.mask(codes, day, t.source)
    else:
        mem_col = t.find(FDR_COLUMNS["member"])
        if mem_col is None:
            raise _no_membership(t.source, layout)
        else:
            flag = _int_column(t, mem_col)
            if ((flag != 0) & (flag != 1)).any():
                k = int(np.argmax((flag != 0) & (flag != 1)))
                raise ValueError(f"{t.where(k)}: column {mem_col!r} must be 0 or 1, got {flag[k]}")
            mask = flag == 1
    if not mask.any():
        raise ValueError(f"{t.source}: no index members among the {len(codes)} rows")
    names = _names(t, t.find(FDR_COLUMNS["name"]), codes)
    return _finish(t, "krx_stocks" if krx else "fdr", day, codes, names, close, shares, changes, mask, _sectors(t),
                   base, members_only)


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
    code), ``members`` gives the index members, and is required: pykrx's frame holds every
    listing of the market asked for (``market="ALL"``, its default, mixes in KOSDAQ and KONEX),
    preferreds and funds included; pass ``members='all'`` to take every row on purpose. Base
    prices are the day's ``종가`` (no change column, so no ``previous``).

    Parameters
    ----------
    df_or_path : pandas.DataFrame or path to a CSV / Parquet file saved from one
        (``df.to_csv(path)`` keeps the ticker as the first column).
    date : date or ISO str, optional
        Recorded as the table's date (pykrx's frame carries none).
    names : mapping code -> name, optional
    members : codes, LoadedUniverse, path or DataFrame of members, or 'all'
        As in :func:`universe_from_fdr` (required here).
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
    pd = require("pandas", "io")
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
    if members is None:
        raise _no_membership(t.source, layout)
    mask = _Members(members).mask(codes, day, t.source)
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
    """``'fdr'``, ``'krx_stocks'`` (KRX's all-stock download, read as FDR's layout),
    ``'pykrx'`` or ``'krx_constituents'`` from a table's column names."""
    cols = {re.sub(r"\s+", "", str(c)).casefold() for c in columns}
    if "stocks" in cols and ("code" in cols or "symbol" in cols):
        return "fdr"
    if "상장주식수" in cols and "종목코드" in cols:
        return "krx_stocks"
    if "상장주식수" in cols:
        return "pykrx"
    if "종목코드" in cols or "상장시가총액" in cols or "isu_srt_cd" in cols or (
        "code" in cols and "marcap" in cols
    ):
        return "krx_constituents"
    raise ValueError(
        "cannot tell the layout from the columns "
        f"{sorted(str(c) for c in columns)}: expected FinanceDataReader's (Code, Name, Close, Stocks, ...), "
        "KRX's all-stock download (종목코드, 종목명, 종가, 대비, ..., 상장주식수), pykrx get_market_cap's (종가, 시가총액, 상장주식수, ...) or KRX's constituents "
        "(종목코드, 종목명, 종가, 대비, 등락률, 상장시가총액)"
    )


def table_layout(df_or_path: object) -> str:
    """The layout of a DataFrame (pandas, polars, any Arrow stream) or CSV / Parquet file: see
    :func:`detect_layout`."""
    pd = require("pandas", "io")
    if isinstance(df_or_path, pd.DataFrame):
        cols = list(df_or_path.columns) + [n for n in df_or_path.index.names if n is not None]
        return detect_layout(cols)
    if not isinstance(df_or_path, (str, Path)):
        if hasattr(df_or_path, "__arrow_c_stream__"):
            return detect_layout(arrow_table(df_or_path, "df_or_path").schema.names)
        raise TypeError(f"expected a DataFrame (pandas, polars or any Arrow stream) or a path to a CSV/Parquet "
                        f"file, got {_qualname(df_or_path)}")
    path = Path(df_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if path.suffix.lower() in (".parquet", ".pq"):
        pa = require("pyarrow", "io")
        try:
            cols = list(require("pyarrow.parquet", "io").read_schema(path).names)
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"{path}: not a readable Parquet file: {exc}") from None
    else:
        cols = csv_dialect(_open_binary(path), path)[0]
    try:
        return detect_layout(cols)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_universe(df_or_path: object, **kwargs) -> LoadedUniverse:
    """Any of the three layouts, told apart by their columns (:func:`table_layout`); ``kwargs``
    go to :func:`universe_from_fdr`, :func:`universe_from_pykrx` or
    :func:`universe_from_krx_constituents`."""
    layout = table_layout(df_or_path)
    loader = {"fdr": universe_from_fdr, "krx_stocks": universe_from_fdr, "pykrx": universe_from_pykrx,
              "krx_constituents": universe_from_krx_constituents}[layout]
    return loader(df_or_path, **kwargs)


def universe_frame(universe: Universe, members: object = None, *, date: object = None):
    """``universe`` as a pandas DataFrame in FinanceDataReader's layout (Code, Name, Market,
    Close, Stocks, Marcap, InKOSPIIndex, [Sector], [Date]), which :func:`universe_from_fdr`
    reads back to the same universe."""
    pd = require("pandas", "io")
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
        df.insert(0, "Date", _validation.iso_date(date))
    return df


def write_universe(universe: Universe, path: str | Path, members: object = None, *, date: object = None) -> Path:
    """Write ``universe`` as an FDR-layout CSV (or Parquet, by suffix); see :func:`universe_frame`."""
    path = Path(path)
    df = universe_frame(universe, members, date=date)
    if path.suffix.lower() in (".parquet", ".pq"):
        require("pyarrow", "io")
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path

