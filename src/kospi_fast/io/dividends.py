"""Dividend tables: a schedule of cash dividends (code, ex-date, amount, estimated or final)
read from a DataFrame, CSV or Parquet file into the events a book applies on each date.

KRX's flow (methodology §7.5): a total-return index takes a dividend on its ex-date as an
ESTIMATE (the previous fiscal year's dividend per share) and CORRECTS it when the final amount
is approved. A table row is either:

* ``estimated``: a :class:`~kospi_fast.events.CashDividend` (``estimated=True``) effective
  on the ex-date;
* ``final`` for a (code, ex-date) that also has an estimated row: a
  :class:`~kospi_fast.events.DividendCorrection` effective on the row's ``effective`` date
  (the approval date; default the ex-date);
* ``final`` alone: a :class:`~kospi_fast.events.CashDividend` with ``estimated=False`` on the
  ex-date.

Columns (names matched case- and space-insensitively): ``code`` (or ``Code``, ``종목코드``,
``ISU_SRT_CD``), ``ex_date`` (or ``ExDate``, ``배당락일``), ``amount`` (or ``dividend``,
``DPS``, ``주당배당금``; won per share, decimals allowed), optional ``status`` (or
``estimated``: ``estimated``/``final``, ``true``/``false``, ``1``/``0``, ``예상``/``확정``;
default estimated) and optional ``effective``. A bad cell is an error naming the file and line
(or the DataFrame row).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kospi_fast import _validation
from kospi_fast.events import CashDividend, DividendCorrection, Event
from kospi_fast.io.loaders import _cell_date, _read_table, _Table, _text, normalize_code

__all__ = [
    "AMOUNT_NAMES",
    "CODE_NAMES",
    "EFFECTIVE_NAMES",
    "EX_DATE_NAMES",
    "STATUS_NAMES",
    "DividendSchedule",
    "load_dividends",
]

CODE_NAMES = ("code", "Code", "종목코드", "ISU_SRT_CD")
EX_DATE_NAMES = ("ex_date", "ExDate", "배당락일")
AMOUNT_NAMES = ("amount", "dividend", "DPS", "주당배당금")
STATUS_NAMES = ("status", "estimated")
EFFECTIVE_NAMES = ("effective",)

_ESTIMATED = {"estimated": True, "estimate": True, "true": True, "1": True, "예상": True,
              "final": False, "false": False, "0": False, "확정": False}


@dataclass(frozen=True)
class DividendSchedule:
    """Dividend events by date, read by :func:`load_dividends`.

    Attributes
    ----------
    events : tuple of Event
        CashDividend and DividendCorrection events, by effective date (each date's cash
        dividends before its corrections).
    source : str
        The file path, or ``"DataFrame"``.
    """

    events: tuple[Event, ...]
    source: str

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        dates = self.dates
        span = f" on {len(dates)} dates {dates[0]}..{dates[-1]}" if dates else ""
        source = self.source if self.source == "DataFrame" else Path(self.source).name  # one line
        return f"DividendSchedule({len(self.events)} events{span}, source {source!r})"

    @property
    def dates(self) -> tuple[str, ...]:
        """The effective dates (ISO), ascending."""
        return tuple(sorted({e.effective for e in self.events}))  # type: ignore[attr-defined]

    def on(self, date: object) -> list[Event]:
        """The events effective on ``date`` (ISO string or date): pass them to ``roll`` into that
        day (or ``apply_events``)."""
        d = _validation.iso_date(date)
        return [e for e in self.events if e.effective == d]  # type: ignore[attr-defined]

    def expected(self, date: object) -> dict[str, float]:
        """{code: amount} of the cash dividends going ex on ``date`` (for
        :meth:`~kospi_fast.IndexBook.theoretical_ex_dividend_level`)."""
        return {e.code: e.amount for e in self.on(date) if isinstance(e, CashDividend)}


def load_dividends(df_or_path: object) -> DividendSchedule:
    """Read a dividend table (see the module docstring for the columns and rules).

    Parameters
    ----------
    df_or_path : pandas.DataFrame or str or Path
        A DataFrame, or a CSV (UTF-8 or CP949) or Parquet file.

    Returns
    -------
    DividendSchedule

    Raises
    ------
    ValueError
        A missing column; a cell that is not a code, a date, an amount >= 0 or a status; a
        repeated (code, ex-date, status); a final row dated before its ex-date. The message
        names the file and line (or the DataFrame row).
    FileNotFoundError, TypeError
        No such file; not a DataFrame or a path.

    Examples
    --------
    >>> import pandas as pd
    >>> s = load_dividends(pd.DataFrame({"code": ["005930", "005930"], "ex_date": ["2026-12-28"] * 2,
    ...     "amount": [1444, 1500], "status": ["estimated", "final"], "effective": ["2026-12-28", "2027-03-20"]}))
    >>> [type(e).__name__ for e in s.events], s.dates
    (['CashDividend', 'DividendCorrection'], ('2026-12-28', '2027-03-20'))
    """
    t = _read_table(df_or_path, "load_dividends")
    layout = "dividend table"
    codes = _codes(t, t.need(CODE_NAMES, layout))
    ex = _dates(t, t.need(EX_DATE_NAMES, layout))
    amounts = _amounts(t, t.need(AMOUNT_NAMES, layout))
    col = t.find(STATUS_NAMES)
    estimated = [True] * len(t) if col is None else _statuses(t, col)
    col = t.find(EFFECTIVE_NAMES)
    effective = list(ex) if col is None else _dates(t, col, blank=ex)
    seen: dict[tuple[str, str, bool], int] = {}
    for k, key in enumerate(zip(codes, ex, estimated)):
        if key in seen:
            first = t.where(seen[key]).removeprefix(f"{t.source}: ")
            raise ValueError(f"{t.where(k)}: a second {'estimated' if key[2] else 'final'} dividend of "
                             f"{key[0]!r} going ex on {key[1]} (first at {first})")
        seen[key] = k
        if key[2] and effective[k] != ex[k]:
            raise ValueError(f"{t.where(k)}: an estimated dividend is effective on its ex-date {ex[k]}, "
                             f"got effective {effective[k]}")
        if effective[k] < ex[k]:
            raise ValueError(f"{t.where(k)}: effective {effective[k]} is before the ex-date {ex[k]}")
    events: list[tuple[str, int, int, Event]] = []
    for k in range(len(t)):
        c, a = codes[k], amounts[k]
        if estimated[k]:
            ev: Event = CashDividend(c, a, effective=ex[k], estimated=True)
        elif (c, ex[k], True) in seen:
            ev = DividendCorrection(c, a, effective=effective[k])
        else:
            ev = CashDividend(c, a, effective=ex[k], estimated=False)
        events.append((ev.effective, 0 if isinstance(ev, CashDividend) else 1, k, ev))  # type: ignore[attr-defined]
    events.sort(key=lambda x: x[:3])
    return DividendSchedule(tuple(e for *_, e in events), t.source)


def _codes(t: _Table, col: str) -> list[str]:
    out = []
    for k, v in enumerate(_cells(t, col)):
        c = normalize_code(v) if v != "" else None
        if c is None:
            raise ValueError(f"{t.where(k)}: column {col!r} is not a 6-character KRX code such as '005930': {v!r}")
        out.append(c)
    return out


def _dates(t: _Table, col: str, blank: Iterable[str] | None = None) -> list[str]:
    fallback = list(blank) if blank is not None else None
    out = []
    for k, v in enumerate(_cells(t, col)):
        if v == "" and fallback is not None:
            out.append(fallback[k])
            continue
        d = _cell_date(v)
        if d is None:
            raise ValueError(f"{t.where(k)}: column {col!r} is not a date: {v!r}")
        out.append(d)
    return out


def _amounts(t: _Table, col: str) -> list[int | float]:
    out: list[int | float] = []
    for k, v in enumerate(_cells(t, col)):
        text = str(v).replace(",", "").strip()
        try:
            x = float(text)
        except ValueError:
            raise ValueError(f"{t.where(k)}: column {col!r} is not an amount in won: {v!r}") from None
        if not math.isfinite(x) or x < 0:
            raise ValueError(f"{t.where(k)}: column {col!r} must be a finite amount >= 0, got {v!r}")
        out.append(int(x) if x == int(x) and abs(x) < 2**53 else x)
    return out


def _statuses(t: _Table, col: str) -> list[bool]:
    out = []
    for k, v in enumerate(_cells(t, col)):
        s = _ESTIMATED.get(str(v).strip().casefold()) if v != "" else True
        if s is None:
            raise ValueError(f"{t.where(k)}: column {col!r} must be 'estimated' or 'final', got {v!r}")
        out.append(s)
    return out


def _cells(t: _Table, col: str) -> list:
    """A column's cells: numbers as themselves, text stripped, missing as ''."""
    s = t.df[col]
    if s.dtype.kind in "iuf":
        vals = s.to_list()
        return ["" if isinstance(x, float) and math.isnan(x) else x for x in vals]
    if s.dtype.kind == "b":
        return [str(x).casefold() for x in s.to_list()]
    return list(_text(s))
