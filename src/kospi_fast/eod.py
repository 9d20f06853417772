"""The data-driven path: KOSPI from end-of-day tables, checked against published closes.

Input layout: FinanceDataReader's ``StockListing('KRX')`` columns (``Code``, ``Name``,
``Close``, ``Changes``, ``Stocks``, ...) plus ``Date`` and ``InKOSPIIndex`` (1 for members), one
row per stock per day. From two consecutive days the day's events follow (methodology,
decision 10): each member's reference price is its base price ``Close − Changes``, its shares
today's ``Stocks``; stocks joining or leaving the membership list are listings and delistings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from kospi_fast._optional import require
from kospi_fast.engine import IndexEngine
from kospi_fast.events import Delisting, Event, NewListing, SetListedShares, SetReferencePrice
from kospi_fast.io.loaders import _DATE_NAMES, _date_cells, _read_table, universes_from_fdr
from kospi_fast.universe import Universe

__all__ = [
    "EOD_COLUMNS",
    "EodDay",
    "PairResult",
    "close_day",
    "engine_from_eod",
    "events_for_day",
    "read_eod_csv",
    "read_index_csv",
    "report",
    "verify",
    "exceeding",
    "PublishedCloses",
    "read_published",
    "tolerance_bp",
]

EOD_COLUMNS = ("Date", "Code", "Name", "Close", "Changes", "Stocks", "InKOSPIIndex")


@dataclass(frozen=True)
class EodDay:
    """One day of end-of-day rows, as arrays aligned on ``codes``."""

    date: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    close: np.ndarray  # int64
    changes: np.ndarray  # int64, close − base price
    stocks: np.ndarray  # int64 listed shares
    member: np.ndarray  # bool

    def __repr__(self) -> str:
        return f"EodDay({self.date}, {len(self.codes)} stocks)"

    @property
    def base_price(self) -> np.ndarray:
        return self.close - self.changes

    def row(self, code: str) -> int:
        return self.codes.index(code)


def read_eod_csv(source: object, *, members: object = None) -> list[EodDay]:
    """Read an end-of-day table (FinanceDataReader ``StockListing('KRX')`` layout + ``Date`` and
    ``InKOSPIIndex``, or KRX's all-stock download with a date column) into days in date order.
    Codes are 6-character strings ('5930' -> '005930').

    The reader is :func:`kospi_fast.io.universes_from_fdr` (one reader for the layout; it needs
    pandas, the ``io`` extra), with the columns of :data:`EOD_COLUMNS` required and every market
    kept: a CSV (UTF-8 or CP949, any delimiter) or Parquet file, or a DataFrame (pandas, polars
    or any Arrow stream).

    Parameters
    ----------
    source : path or DataFrame
    members : codes, path or DataFrame of members, optional
        The KOSPI members instead of an ``InKOSPIIndex`` column (then not required): codes (the
        same every day), or a KRX constituents download / frame with a ``Date`` column (each day
        its own members); see :func:`kospi_fast.io.universe_from_fdr`.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, missing column, a missing, non-numeric or fractional cell, a close or base
        price (Close − Changes) that is not > 0, an InKOSPIIndex other than 0/1, a day without
        members, or a duplicate code within a day (the file's line is named).
    """
    required = EOD_COLUMNS if members is None else tuple(c for c in EOD_COLUMNS if c != "InKOSPIIndex")
    days = universes_from_fdr(source, market=None, check_marcap=False, required=required, members=members)
    return [
        EodDay(
            date=lu.date,
            codes=tuple(lu.universe.codes),
            names=tuple(lu.universe.names),
            close=lu.close.copy(),
            changes=lu.close - lu.previous,
            stocks=np.array(lu.universe.shares, dtype=np.int64),
            member=lu.members.copy(),
        )
        for lu in days
    ]


@dataclass(frozen=True)
class PublishedCloses:
    """An index's published daily closes, as read by :func:`read_published`.

    ``closes``: {ISO date: close}; ``marcap``: {ISO date: the series' market cap} when the file
    has that column (KRX's KOSPI file: every KOSPI-market listing), else None; ``source``: the
    file, or ``'DataFrame'``."""

    closes: dict[str, float]
    marcap: dict[str, int] | None
    source: str


#: Column names of a published index series (FinanceDataReader ``DataReader('KS11')``, KRX's index
#: download, pykrx ``get_index_ohlcv``); the date may also be the frame's (named) index.
INDEX_COLUMNS = {
    "close": ("Close", "종가", "CLSPRC_IDX"),
    "marcap": ("MarCap", "Marcap", "상장시가총액", "MKTCAP"),
}


def read_published(source: object) -> PublishedCloses:
    """Published index closes from a CSV (UTF-8 or CP949, any delimiter) or Parquet file, or a
    DataFrame (pandas, polars, any Arrow stream; FDR's ``DataReader('KS11')`` frame with its
    ``Date`` index as it comes) or a pandas Series of closes indexed by date. Columns: a date
    (``Date``, ``날짜``, ``일자``), ``Close`` (or ``종가``) and, optional, ``MarCap``.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        Missing file or column, a cell that is not a date or a number, a date twice: the
        message names the file and line (the frame's row)."""
    pd = require("pandas", "io")
    if isinstance(source, pd.Series):
        source = source.rename("Close").to_frame()
    t = _read_table(source, "published index")
    date_col = t.find(_DATE_NAMES)
    if date_col is None:
        raise ValueError(f"{t.source}: no date column (Date, 날짜, 일자); the columns are "
                         f"{[str(c) for c in t.df.columns]}")
    close_col = t.need(INDEX_COLUMNS["close"], "published index")
    dates = _date_cells(t, date_col)
    closes = _float_cells(t, close_col, required=True)
    seen: dict[str, int] = {}
    for k, d in enumerate(dates.tolist()):
        if d in seen:
            raise ValueError(f"{t.where(k)}: the date {d} repeats {t.where(seen[d]).removeprefix(t.source + ': ')}")
        seen[d] = k
    marcap = None
    mc_col = t.find(INDEX_COLUMNS["marcap"])
    if mc_col is not None:
        caps = _float_cells(t, mc_col, required=False)
        marcap = {d: int(c) for d, c in zip(dates.tolist(), caps.tolist()) if np.isfinite(c)}
    return PublishedCloses(dict(zip(dates.tolist(), closes.tolist())), marcap, t.source)


def _float_cells(t, col: str, *, required: bool) -> np.ndarray:
    """A column as float64 (thousands separators allowed); a cell that is not a number names its
    line; an empty cell is an error when ``required``, else NaN."""
    pd = require("pandas", "io")
    raw = t.df[col]
    text = raw.astype(str).str.strip().str.replace(",", "", regex=False)
    empty = (raw.isna() | (text == "") | (text.str.lower() == "nan")).to_numpy()
    num = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(dtype=np.float64)
    bad = (np.isnan(num) & ~empty) | (required & empty) | np.isinf(num)
    if bad.any():
        k = int(np.argmax(bad))
        what = "has no value" if empty[k] else f"is not a number: {raw.iloc[k]!r}"
        raise ValueError(f"{t.where(k)}: column {col!r} {what}")
    if required and (num <= 0).any():
        k = int(np.argmax(num <= 0))
        raise ValueError(f"{t.where(k)}: column {col!r} must be > 0, got {num[k]}")
    return num


def read_index_csv(source: object) -> dict[str, float]:
    """Published index closes -> {ISO date: close}: :func:`read_published`'s ``closes``."""
    return read_published(source).closes


def engine_from_eod(day: EodDay, level: float, extra: Iterable[EodDay] = ()) -> IndexEngine:
    """An engine at ``day``'s close, calibrated to ``level``, over the members of ``day``.

    Stocks that appear only in ``extra`` days are added as non-members (so later joiners have
    an id from the start); their shares/price are placeholders until they join.
    """
    codes, names = list(day.codes), list(day.names)
    shares, prices = day.stocks.tolist(), day.close.tolist()
    known = set(codes)
    for other in extra:
        for k, c in enumerate(other.codes):
            if c not in known:
                known.add(c)
                codes.append(c)
                names.append(other.names[k])
                shares.append(int(other.stocks[k]))
                prices.append(int(other.close[k]))
    member = np.zeros(len(codes), dtype=bool)
    member[: len(day.codes)] = day.member
    universe = Universe(codes, names, np.maximum(np.array(shares, dtype=np.int64), 0), prices)
    return IndexEngine(universe, level=level, members=member)


def events_for_day(engine: IndexEngine, day: EodDay) -> list[Event]:
    """The events that take ``engine`` (at the previous close) to ``day``'s opening state:
    reference prices to ``Close − Changes``, listed shares to ``Stocks``, joiners and leavers."""
    index = engine.universe.code_index
    prices, listed, member = engine.prices, engine.listed_shares, engine.members
    base = day.base_price
    events: list[Event] = []
    today = set()
    for k, code in enumerate(day.codes):
        if not day.member[k]:
            continue
        today.add(code)
        i = index.get(code)
        if i is None or not member[i]:
            events.append(NewListing(code, int(day.stocks[k]), int(base[k]), name=day.names[k]))
            continue
        if base[k] != prices[i]:
            events.append(SetReferencePrice(code, int(base[k])))
        if day.stocks[k] != listed[i]:
            events.append(SetListedShares(code, int(day.stocks[k])))
    for code, i in index.items():
        if member[i] and code not in today:
            events.append(Delisting(code))
    return events


def close_day(book, day: EodDay) -> float:
    """Apply ``day``'s closing prices of its members as trades to any book (an IndexEngine,
    an IndexFamily); return the level of its first index (KOSPI)."""
    index = book.universe.code_index
    rows = np.flatnonzero(np.asarray(day.member, dtype=bool))
    ids = np.array([index[day.codes[k]] for k in rows], dtype=np.intp)
    book.update_many(ids, np.asarray(day.close)[rows])
    return float(book.levels[0])


@dataclass(frozen=True)
class PairResult:
    date: str
    published: float
    computed: float
    error_bp: float
    n_events: int

    def __repr__(self) -> str:
        return (f"PairResult({self.date}, published {float(self.published):,.2f}, computed "
                f"{float(self.computed):,.4f}, error {float(self.error_bp):+.3f} bp, {self.n_events} events)")


#: A pair error this large (in bp) is not drift: the published series is not KOSPI over these
#: members (KOSPI 200's file gave 4 to 76 bp on the real March 2026 data; KOSPI's own, 0.154 bp).
SERIES_BP = 10.0


def verify(days: list[EodDay], published: Mapping[str, float] | PublishedCloses, *, chain: bool = False,
           check_series: bool = True) -> list[PairResult]:
    """For each consecutive pair of days: calibrate to the previous published close, rebase with
    the day's events, compute the close; compare with the published close.

    With ``chain=True`` the engine is calibrated once, on the first day, and carried through
    every day (drift accumulates; a stricter test of the rebasing).

    The published series must be KOSPI's (``check_series``, default True): a
    :class:`PublishedCloses` with a market cap column whose cap is below the members' cap (the
    KOSPI file's cap is every KOSPI-market listing's, so at least the members'), or a pair error
    above :data:`SERIES_BP`, is refused as another index's series (KOSPI 200's, KOSDAQ's) or
    wrong members, instead of a table of large errors.
    """
    source = published.source if isinstance(published, PublishedCloses) else "published"
    closes = published.closes if isinstance(published, PublishedCloses) else published
    if len(days) < 2:
        raise ValueError(f"need at least two days of end-of-day data, got {len(days)}")
    for d in days:
        if d.date not in closes:
            raise ValueError(f"{source}: no published index close for {d.date}"
                             + ("" if closes else " (the series is empty)"))
    if check_series and isinstance(published, PublishedCloses) and published.marcap:
        _check_marcap(days, published)
    out = []
    engine = None
    for prev, day in zip(days[:-1], days[1:]):
        if engine is None or not chain:
            engine = engine_from_eod(prev, closes[prev.date], extra=[day])
        events = events_for_day(engine, day)
        engine.roll(events, date=day.date)
        level = close_day(engine, day)
        pub = closes[day.date]
        out.append(PairResult(day.date, pub, level, (level / pub - 1.0) * 1e4, len(events)))
    worst = max(out, key=lambda r: abs(r.error_bp))
    if check_series and abs(worst.error_bp) > SERIES_BP:
        raise ValueError(
            f"{source}: the published closes do not follow KOSPI over these members: {worst.date} is off by "
            f"{worst.error_bp:+.1f} bp (published {worst.published:,.2f}, computed {worst.computed:,.2f}), where "
            f"KOSPI's own series is within 0.2 bp. Is it another index's series (KOSPI 200, KOSDAQ), or are the "
            "members or the end-of-day rows wrong? (check_series=False reports the errors anyway)")
    return out


def _check_marcap(days: list[EodDay], published: PublishedCloses) -> None:
    """KOSPI's published market cap covers every KOSPI-market listing, so never less than the
    members' cap at the close: a smaller cap is another index's series."""
    for d in days:
        cap = published.marcap.get(d.date)
        if cap is None:
            continue
        members = sum(int(c) * int(n) for c, n, m in zip(d.close.tolist(), d.stocks.tolist(), d.member.tolist()) if m)
        if cap < members * (1 - 1e-9):
            raise ValueError(
                f"{published.source}: not the KOSPI series: its market cap on {d.date} is {cap:,} won, "
                f"{100 * (1 - cap / members):.1f}% below the {int(d.member.sum())} KOSPI members' {members:,} won "
                "(KOSPI's own cap covers every KOSPI-market listing); is it KOSPI 200's or another index's file?")


def tolerance_bp(k: int, tolerance: float, *, chain: bool = False) -> float:
    """The error bound of the ``k``-th day pair (1-based), in bp: ``tolerance`` for independent
    pairs; with ``chain``, ``tolerance × √k``. Chained, the error after ``k`` days is the sum of
    the ``k`` day errors (measured on the real March 2026 data: equal to the cumulative sum of the
    pair errors within 0.001 bp), a random walk whose spread grows as √k."""
    return tolerance * math.sqrt(k) if chain else tolerance


def exceeding(results: list[PairResult], tolerance: float, *, chain: bool = False) -> list[tuple[PairResult, float]]:
    """The pairs whose absolute error exceeds their bound (:func:`tolerance_bp`), with the bound."""
    out = []
    for k, r in enumerate(results, start=1):
        bound = tolerance_bp(k, tolerance, chain=chain)
        if abs(r.error_bp) > bound:
            out.append((r, bound))
    return out


def report(results: list[PairResult], *, as_json: bool = False) -> str:
    max_abs = max(abs(r.error_bp) for r in results)
    if as_json:
        return json.dumps(
            {
                "pairs": [
                    {"date": r.date, "published": r.published, "computed": round(r.computed, 6),
                     "error_bp": round(r.error_bp, 6), "events": r.n_events}
                    for r in results
                ],
                "max_abs_error_bp": round(max_abs, 6),
            },
            indent=2,
        )
    lines = [f"{'date':<12}{'published':>12}{'computed':>14}{'error bp':>10}{'events':>8}"]
    for r in results:
        lines.append(f"{r.date:<12}{r.published:>12,.2f}{r.computed:>14,.4f}{r.error_bp:>10.3f}{r.n_events:>8}")
    lines.append(f"max |error| {max_abs:.3f} bp over {len(results)} day pairs")
    return "\n".join(lines)
