"""The data-driven path: KOSPI from end-of-day tables, checked against published closes.

Input layout: FinanceDataReader's ``StockListing('KRX')`` columns (``Code``, ``Name``,
``Close``, ``Changes``, ``Stocks``, ...) plus ``Date`` and ``InKOSPIIndex`` (1 for members), one
row per stock per day. From two consecutive days the day's events follow (methodology,
decision 10): each member's reference price is its base price ``Close − Changes``, its shares
today's ``Stocks``; stocks joining or leaving the membership list are listings and delistings.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kospi_fast._validation import iso_date
from kospi_fast.engine import IndexEngine
from kospi_fast.events import Delisting, Event, NewListing, SetListedShares, SetReferencePrice
from kospi_fast.io.loaders import universes_from_fdr
from kospi_fast.universe import Universe

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

    @property
    def base_price(self) -> np.ndarray:
        return self.close - self.changes

    def row(self, code: str) -> int:
        return self.codes.index(code)


def read_eod_csv(path: str | Path) -> list[EodDay]:
    """Read an end-of-day table (FinanceDataReader ``StockListing('KRX')`` layout + ``Date`` and
    ``InKOSPIIndex``) into days in date order. Codes are 6-character strings ('5930' -> '005930').

    The reader is :func:`kospi_fast.io.universes_from_fdr` (one reader for the layout; it needs
    pandas, the ``io`` extra), with the columns of :data:`EOD_COLUMNS` required and every market
    kept: a CSV (UTF-8 or CP949) or Parquet file.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, missing column, a missing, non-numeric or fractional cell, a close or base
        price (Close − Changes) that is not > 0, an InKOSPIIndex other than 0/1, a day without
        members, or a duplicate code within a day (the file's line is named).
    """
    days = universes_from_fdr(Path(path), market=None, check_marcap=False, required=EOD_COLUMNS)
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


def read_index_csv(path: str | Path) -> dict[str, float]:
    """Published index closes: a CSV with ``Date`` and ``Close`` columns -> {ISO date: close}
    (dates as :func:`kospi_fast._validation.as_date` reads them, like :func:`read_eod_csv`'s)."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"Date", "Close"} <= set(reader.fieldnames or []):
            raise ValueError(f"{path}: needs columns Date and Close; have {reader.fieldnames}")
        out = {}
        for rownum, r in enumerate(reader, start=2):
            try:
                date = iso_date(r["Date"], "Date")
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}: row {rownum}: {exc}") from None
            try:
                out[date] = float(r["Close"])
            except (TypeError, ValueError):
                raise ValueError(f"{path}: row {rownum}: `Close` is not a number: {r['Close']!r}") from None
    return out


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


def verify(days: list[EodDay], published: Mapping[str, float], *, chain: bool = False) -> list[PairResult]:
    """For each consecutive pair of days: calibrate to the previous published close, rebase with
    the day's events, compute the close; compare with the published close.

    With ``chain=True`` the engine is calibrated once, on the first day, and carried through
    every day (drift accumulates; a stricter test of the rebasing).
    """
    if len(days) < 2:
        raise ValueError(f"need at least two days of end-of-day data, got {len(days)}")
    for d in days:
        if d.date not in published:
            raise ValueError(f"no published index close for {d.date}")
    out = []
    engine = None
    for prev, day in zip(days[:-1], days[1:]):
        if engine is None or not chain:
            engine = engine_from_eod(prev, published[prev.date], extra=[day])
        events = events_for_day(engine, day)
        engine.roll(events, date=day.date)
        level = close_day(engine, day)
        pub = published[day.date]
        out.append(PairResult(day.date, pub, level, (level / pub - 1.0) * 1e4, len(events)))
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
