"""KOSPI 200 as KRX runs it: float ratios with effective dates, capped variants from the review
window, regular reviews and special changes as a dated :class:`Schedule`, and point-in-time
membership.

Everything here only *plans*: a :class:`Schedule` turns what is due on a date into market
events (:mod:`kospi_fast.events`) and new index definitions, and
:meth:`IndexFamily.roll(..., schedule=...) <kospi_fast.IndexFamily.roll>` applies both through
the book's one rebasing path (events first, then the definitions, in one all-or-nothing step;
every index keeps its level). The dates come from :mod:`kospi_fast.krx` (XKRX calendar).

Facts and decisions: methodology.md §2.3–2.4 and §7.1–7.3; docs/methodology-notes.md,
"KOSPI 200 schedules".
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from kospi_fast import _validation, krx
from kospi_fast._optional import require
from kospi_fast.definitions import IndexDefinition, cap_weights
from kospi_fast.events import Event

__all__ = [
    "FloatRatio",
    "FloatRatioTable",
    "read_float_ratios",
    "capping_factors",
    "cap_window",
    "WeightWindow",
    "ReserveList",
    "FloatRatioChange",
    "Review",
    "Removal",
    "Addition",
    "Schedule",
    "Composition",
    "as_of",
    "Interval",
    "membership_intervals",
    "write_membership",
    "read_membership",
    "members_on",
    "snapshot",
    "day_record",
]


def _day(value: object, name: str) -> datetime.date:
    return _validation.as_date(value, name)


def _code(value: object, name: str) -> str:
    """A stock code: a non-empty str; an int is KRX's 6-digit code without its zeros."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` must be a stock code, got {value!r}")
        return f"{int(value):06d}"
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"`{name}` must be a stock code (a non-empty str), got {value!r}")
    return value.strip()


# ============================================================================ float ratios
@dataclass(frozen=True)
class FloatRatio:
    """One row of a float-ratio table: ``code``'s float ratio is ``ratio`` from ``effective``."""

    code: str
    ratio: float
    effective: datetime.date


class FloatRatioTable:
    """Float ratios (유동비율) per stock with their effective dates (methodology 7.1).

    ``ratio(code, date)`` is the ratio in force on ``date`` (the latest row effective on or
    before it); ``changes_on(date)`` the rows that take effect that day.
    """

    def __init__(self, rows: Iterable[FloatRatio]) -> None:
        rows = list(rows)
        for k, r in enumerate(rows):
            if not isinstance(r, FloatRatio):
                raise TypeError(f"`rows[{k}]` must be a FloatRatio, got {r!r}")
        self.rows = tuple(sorted(rows, key=lambda r: (r.effective, r.code)))
        self._by_code: dict[str, list[FloatRatio]] = {}
        for r in self.rows:
            self._by_code.setdefault(r.code, []).append(r)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        span = f", effective {self.rows[0].effective}..{self.rows[-1].effective}" if self.rows else ""
        return f"FloatRatioTable({len(self.rows)} rows, {len(self._by_code)} stocks{span})"

    def ratio(self, code: str, date: object, default: float | None = None) -> float | None:
        d = _day(date, "date")
        out = default
        for r in self._by_code.get(code, ()):
            if r.effective <= d:
                out = r.ratio
        return out

    def changes_on(self, date: object) -> dict[str, float]:
        d = _day(date, "date")
        return {r.code: r.ratio for r in self.rows if r.effective == d}

    def dates(self) -> list[datetime.date]:
        return sorted({r.effective for r in self.rows})


_FLOAT_COLUMNS = {"code": ("code", "Code", "종목코드"), "ratio": ("ratio", "float_ratio", "FloatRatio", "유동비율"),
                  "effective": ("effective", "Effective", "date", "Date", "적용일")}


def _float_row(where: str, code: object, ratio: object, effective: object, round_up: bool) -> FloatRatio:
    try:
        c = _code(code, "code")
        if isinstance(ratio, str):
            try:
                ratio = Fraction(ratio.strip())
            except ValueError:
                raise ValueError(f"`ratio` is not a number: {ratio!r}") from None
        if round_up:
            r = krx.round_float_ratio(ratio)
        else:
            x = _validation.exact_number(ratio, "ratio", "in (0, 1]")
            r = float(x)
            if not 0 <= x <= 1:
                raise ValueError(f"`ratio` must be in (0, 1], got {ratio!r}")
        if r <= 0:
            raise ValueError(f"`ratio` must be > 0 (a member needs index shares), got {ratio!r}")
        eff = _day(effective, "effective")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    return FloatRatio(c, r, eff)


def read_float_ratios(source: object, *, round_up: bool = False) -> FloatRatioTable:
    """Read a float-ratio table: columns ``code``, ``ratio``, ``effective`` (also ``Code`` /
    ``float_ratio`` / ``date`` and the Korean headers 종목코드 / 유동비율 / 적용일).

    Parameters
    ----------
    source : str, path, pandas.DataFrame or iterable of (code, ratio, effective)
        A CSV file (UTF-8, with a header), a Parquet file (``.parquet``/``.pq``; needs the
        ``io`` extra), a frame, or rows.
    round_up : bool
        False (default): the ratios are KRX's applied ones, taken as given (in (0, 1]). True: raw
        survey ratios, rounded UP to 5% steps (:func:`kospi_fast.krx.round_float_ratio`).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A missing column, a bad cell (naming the file and line, or the row), a ratio outside
        (0, 1], a bad date, or a code given twice for one effective date.
    """
    rows: list[FloatRatio] = []
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"float-ratio table {str(path)!r} does not exist")
        if path.suffix.lower() in (".parquet", ".pq"):
            pq = require("pyarrow.parquet", "io", package="pyarrow", what="reading a Parquet float-ratio table")
            frame = pq.read_table(path).to_pandas()
            rows = _rows_from_frame(frame, f"{path}")
        else:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                cols = _columns(reader.fieldnames or [], str(path))
                for line, rec in enumerate(reader, start=2):
                    rows.append(_float_row(f"{path}: line {line}", rec[cols["code"]], rec[cols["ratio"]],
                                           rec[cols["effective"]], round_up))
            return _checked_table(rows, str(path), offset=2)
    elif hasattr(source, "columns") and hasattr(source, "itertuples"):
        rows = _rows_from_frame(source, "frame")
    else:
        if isinstance(source, (bytes, Mapping)):
            raise TypeError(f"`source` must be a path, a frame or rows (code, ratio, effective), got {source!r}")
        for k, rec in enumerate(source):  # type: ignore[attr-defined]
            if not isinstance(rec, (tuple, list, FloatRatio)) or (not isinstance(rec, FloatRatio) and len(rec) != 3):
                raise ValueError(f"row {k}: must be (code, ratio, effective), got {rec!r}")
            if isinstance(rec, FloatRatio):
                rec = (rec.code, rec.ratio, rec.effective)
            rows.append(_float_row(f"row {k}", *rec, round_up))
        return _checked_table(rows, "rows", offset=0)
    if round_up:
        rows = [FloatRatio(r.code, krx.round_float_ratio(r.ratio), r.effective) for r in rows]
    return _checked_table(rows, str(source) if isinstance(source, (str, Path)) else "frame", offset=0)


def _columns(have: Sequence[str], where: str) -> dict[str, str]:
    out = {}
    for key, names in _FLOAT_COLUMNS.items():
        hit = [c for c in names if c in have]
        if not hit:
            raise ValueError(f"{where}: needs a {key!r} column (one of {list(names)}); have {list(have)}")
        out[key] = hit[0]
    return out


def _rows_from_frame(frame, where: str) -> list[FloatRatio]:
    cols = _columns(list(frame.columns), where)
    out = []
    for k, (c, r, e) in enumerate(zip(frame[cols["code"]], frame[cols["ratio"]], frame[cols["effective"]])):
        if isinstance(r, np.floating):
            r = float(r)
        out.append(_float_row(f"{where}: row {k}", c, r, e, False))
    return out


def _checked_table(rows: list[FloatRatio], where: str, offset: int) -> FloatRatioTable:
    seen: dict[tuple[str, datetime.date], int] = {}
    for k, r in enumerate(rows):
        key = (r.code, r.effective)
        if key in seen:
            what = "line" if offset else "row"
            raise ValueError(f"{where}: {what} {k + offset}: {r.code!r} already has a float ratio effective "
                             f"{r.effective.isoformat()} ({what} {seen[key] + offset})")
        seen[key] = k
    return FloatRatioTable(rows)


# ============================================================================ capping
def capping_factors(average_weights: object, cap: float) -> np.ndarray:
    """KRX-style capping factors from AVERAGE weights (methodology 7.2).

    The target weights are :func:`~kospi_fast.definitions.cap_weights` of the average weights
    (names above ``cap`` set to it, the excess shared pro rata among the rest, repeated until
    none breaches). A name's factor is its target / average weight, scaled so uncapped names
    get exactly 1; so a capped name's factor is ``cap × (1 − W_c) / (w × (1 − C))`` with ``W_c``
    the capped names' total average weight and ``C`` their total cap (one capped name:
    ``0.3 (1 − w) / (0.7 w)``). No name above ``cap``: all 1.

    Examples
    --------
    >>> capping_factors([0.40, 0.35, 0.25], 0.50).tolist()
    [1.0, 1.0, 1.0]
    >>> round(float(capping_factors([0.40, 0.60], 0.50)[1]), 12)  # 0.5 × 0.4 / (0.6 × 0.5)
    0.666666666667
    """
    w = _validation.float64_array(average_weights, "average_weights")
    _validation.check_positive(w, "average_weights")
    c = _validation.positive_float(cap, "cap")
    if c > 1:
        raise ValueError(f"`cap` must be in (0, 1], got {cap!r}")
    w = w / w.sum()
    if c * w.shape[0] < 1:
        raise ValueError(f"a cap of {c} cannot be met by {w.shape[0]} names (cap × names < 1)")
    if not (w > c * (1 + 1e-12)).any():
        return np.ones_like(w)
    target = cap_weights(w, c)
    ratio = target / w
    capped = target >= c * (1 - 1e-12)
    uncapped = ~capped
    scale = ratio[uncapped].max() if uncapped.any() else ratio.max()
    out = np.minimum(ratio / scale, 1.0)
    out[uncapped] = 1.0  # exactly: they share one ratio, the scale
    return out


def cap_window(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    """The three-month window of the June (December) review's cap: the first trading day of
    March (September) through the last trading day of May (November) (methodology 7.2)."""
    if month not in (6, 12):
        raise ValueError(f"capped reviews are in June and December, got `month` {month!r}")
    start = krx.next_trading_day(datetime.date(year, month - 3, 1) - datetime.timedelta(days=1))
    end = krx.previous_trading_day(datetime.date(year, month, 1))
    return start, end


class WeightWindow:
    """Daily closing weights of some indices, recorded from a book, for review-window averages.

    ``record(book, date)`` after each day's close; ``average(name, start, end)`` the mean weight
    of each stock over the recorded days in [start, end] (a day it was not a member counts 0).
    """

    def __init__(self, names: Sequence[str]) -> None:
        if isinstance(names, str):
            names = [names]
        self.names = tuple(names)
        self._days: dict[str, dict[datetime.date, dict[str, float]]] = {n: {} for n in self.names}

    def __repr__(self) -> str:
        days = {len(v) for v in self._days.values()}
        return f"WeightWindow({', '.join(map(repr, self.names))}; {max(days, default=0)} days recorded)"

    def record(self, book, date: object) -> None:
        d = _day(date, "date")
        for name in self.names:
            comp = _composition(book, book.index_of(name), book.prices)
            self._days[name][d] = dict(zip(comp.codes, comp.weights.tolist()))

    def average(self, name: str, start: object, end: object) -> dict[str, float]:
        a, b = _day(start, "start"), _day(end, "end")
        if name not in self._days:
            raise KeyError(f"no weights recorded for index {name!r}; have {list(self.names)}")
        days = [w for d, w in self._days[name].items() if a <= d <= b]
        if not days:
            raise ValueError(f"no weights of {name!r} recorded between {a.isoformat()} and {b.isoformat()}")
        total: dict[str, float] = {}
        for w in days:
            for c, x in w.items():
                total[c] = total.get(c, 0.0) + x
        return {c: x / len(days) for c, x in total.items()}


# ============================================================================ reserve list
class ReserveList:
    """The reserve list (예비종목) of a regular review: per industry group, codes in order
    (methodology 7.3). A special change's replacement is the first eligible one."""

    def __init__(self, groups: Mapping[str, Sequence[str]]) -> None:
        if not isinstance(groups, Mapping):
            raise TypeError(f"`groups` must map an industry group to codes, got {groups!r}")
        self.groups = {str(g): tuple(_code(c, f"groups[{g!r}][{k}]") for k, c in enumerate(cs))
                       for g, cs in groups.items()}

    def __repr__(self) -> str:
        return f"ReserveList({', '.join(f'{g!r}: {len(cs)}' for g, cs in self.groups.items())})"

    def first_eligible(self, group: str, exclude: Iterable[str], eligible=lambda code: True) -> str | None:
        if group not in self.groups:
            raise KeyError(f"the reserve list has no industry group {group!r}; have {sorted(self.groups)}")
        skip = set(exclude)
        for c in self.groups[group]:
            if c not in skip and eligible(c):
                return c
        return None


# ============================================================================ scheduled changes
@dataclass(frozen=True)
class FloatRatioChange:
    """``code``'s float ratio becomes ``ratio`` from ``effective`` in every float-adjusted index
    holding it (its capping factor is kept: it is held until the next review)."""

    effective: datetime.date
    code: str
    ratio: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "effective", _day(self.effective, "effective"))
        object.__setattr__(self, "code", _code(self.code, "code"))
        r = _validation.exact_number(self.ratio, "ratio", "in (0, 1]")
        if not 0 < r <= 1:
            raise ValueError(f"`ratio` must be in (0, 1], got {self.ratio!r}")


@dataclass(frozen=True)
class Review:
    """A regular review of ``index`` from ``effective``: the members become ``members`` (in this
    order), with ``float_ratios`` ({code: ratio}; a code not given keeps its ratio, or takes
    the schedule's float table's, or 1), and, for a capped index (``cap`` in its definition),
    capping factors from ``window``'s average weights over ``window_dates``. One atomic step."""

    effective: datetime.date
    index: str
    members: tuple[str, ...]
    float_ratios: Mapping[str, float] | None = None
    window: WeightWindow | None = field(default=None, compare=False)
    window_dates: tuple[datetime.date, datetime.date] | None = None

    def __repr__(self) -> str:
        fr = "" if self.float_ratios is None else f", {len(self.float_ratios)} float ratios"
        win = "" if self.window_dates is None else f", capping window {self.window_dates[0]}..{self.window_dates[1]}"
        return f"Review({self.index!r}, effective {self.effective}, {len(self.members)} members{fr}{win})"

    def __post_init__(self) -> None:
        object.__setattr__(self, "effective", _day(self.effective, "effective"))
        if isinstance(self.members, str):
            raise TypeError(f"`members` must be a sequence of codes, got the string {self.members!r}")
        object.__setattr__(self, "members", tuple(_code(c, f"members[{k}]") for k, c in enumerate(self.members)))
        if self.float_ratios is not None:
            object.__setattr__(self, "float_ratios", dict(self.float_ratios))


@dataclass(frozen=True)
class Removal:
    """Special change: ``code`` leaves ``index`` from ``effective`` (관리종목 designation or a
    delisting decision; the date from :func:`kospi_fast.krx.special_change_removal_date`). Its
    replacement is ``replacement``, or the first eligible stock of ``group`` on the schedule's
    reserve list (``group`` given, ``replacement`` None), or none (KRX 300 may leave a gap)."""

    effective: datetime.date
    index: str
    code: str
    replacement: str | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "effective", _day(self.effective, "effective"))
        object.__setattr__(self, "code", _code(self.code, "code"))
        if self.replacement is not None:
            object.__setattr__(self, "replacement", _code(self.replacement, "replacement"))


@dataclass(frozen=True)
class Addition:
    """``code`` joins ``index`` from ``effective`` with float ratio ``float_ratio`` (None: the
    schedule's float table's, or 1): a spin-off the day after its relisting, a large new
    listing at the next quarterly expiry (:func:`kospi_fast.krx.quarterly_entry_date`)."""

    effective: datetime.date
    index: str
    code: str
    float_ratio: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "effective", _day(self.effective, "effective"))
        object.__setattr__(self, "code", _code(self.code, "code"))


Change = FloatRatioChange | Review | Removal | Addition


class Schedule:
    """Dated changes an :class:`~kospi_fast.IndexFamily` applies in :meth:`roll` on their
    effective date (pass ``schedule=``): market events (:mod:`kospi_fast.events`) and index
    changes (:class:`FloatRatioChange`, :class:`Review`, :class:`Removal`, :class:`Addition`).

    On a date, the market events go first (a spin-off's new listing must exist before it joins
    KOSPI 200), then the index changes in this order: float-ratio changes, reviews, removals
    (with their replacements), additions; all in the roll's one all-or-nothing step.

    Parameters
    ----------
    changes : iterable of index changes, optional
    events : mapping of date -> sequence of Event, optional
    float_ratios : FloatRatioTable, optional
        Its rows become :class:`FloatRatioChange` s, and it gives the float ratio of a joining
        stock whose ratio is not given.
    reserve : ReserveList, optional
        For removals that name a ``group``.
    """

    def __init__(self, changes: Iterable[Change] = (), *, events: Mapping[object, Sequence[Event]] | None = None,
                 float_ratios: FloatRatioTable | None = None, reserve: ReserveList | None = None) -> None:
        if float_ratios is not None and not isinstance(float_ratios, FloatRatioTable):
            raise TypeError(f"`float_ratios` must be a FloatRatioTable, got {type(float_ratios).__name__}")
        if reserve is not None and not isinstance(reserve, ReserveList):
            raise TypeError(f"`reserve` must be a ReserveList, got {type(reserve).__name__}")
        self.float_ratios = float_ratios
        self.reserve = reserve
        self._changes: list[Change] = []
        self._events: dict[datetime.date, list[Event]] = {}
        for ch in changes:
            self.add(ch)
        for d, evs in (events or {}).items():
            self.add_events(d, evs)
        if float_ratios is not None:
            for r in float_ratios.rows:
                self.add(FloatRatioChange(r.effective, r.code, r.ratio))

    def __repr__(self) -> str:
        kinds: dict[str, int] = {}
        for ch in self._changes:
            kinds[type(ch).__name__] = kinds.get(type(ch).__name__, 0) + 1
        what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no index changes"
        n_events = sum(len(v) for v in self._events.values())
        return f"Schedule({what}; {n_events} market events on {len(self._events)} dates)"

    # ---------------------------------------------------------------- building
    def add(self, change: Change) -> None:
        if not isinstance(change, (FloatRatioChange, Review, Removal, Addition)):
            raise TypeError(f"`change` must be a FloatRatioChange, Review, Removal or Addition, got {change!r}")
        self._changes.append(change)

    def add_events(self, date: object, events: Sequence[Event]) -> None:
        d = _day(date, "date")
        if isinstance(events, Event):
            events = [events]
        for k, ev in enumerate(events):
            if not isinstance(ev, Event):
                raise TypeError(f"`events[{k}]` must be a kospi_fast.events.Event, got {ev!r}")
        self._events.setdefault(d, []).extend(events)

    def review(self, index: str, year: int, month: int, members: Sequence[str], *,
               float_ratios: Mapping[str, float] | None = None, window: WeightWindow | None = None) -> Review:
        """Add the regular review of (``year``, ``month``): effective
        :func:`~kospi_fast.krx.review_effective_date`, capping from ``window`` over
        :func:`cap_window`. Returns it."""
        r = Review(krx.review_effective_date(year, month), index, tuple(members), float_ratios, window,
                   cap_window(year, month) if window is not None else None)
        self.add(r)
        return r

    def special_change(self, index: str, code: str, designated: object, resumed: object = None, *,
                       halted: bool = False, replacement: str | None = None, group: str | None = None) -> Removal:
        """Add the removal of a member designated 관리종목 (or given a delisting decision) on
        ``designated``, effective :func:`~kospi_fast.krx.special_change_removal_date`."""
        r = Removal(krx.special_change_removal_date(designated, resumed, halted=halted), index, code,
                    replacement, group)
        self.add(r)
        return r

    # ---------------------------------------------------------------- reading
    def dates(self) -> list[datetime.date]:
        return sorted({c.effective for c in self._changes} | set(self._events))

    def events_on(self, date: object) -> list[Event]:
        return list(self._events.get(_day(date, "date"), []))

    def changes_on(self, date: object) -> list[Change]:
        d = _day(date, "date")
        order = (FloatRatioChange, Review, Removal, Addition)
        due = [c for c in self._changes if c.effective == d]
        return sorted(due, key=lambda c: order.index(type(c)))

    # ---------------------------------------------------------------- applying
    def definitions_for(self, book, date: object) -> dict[str, IndexDefinition]:
        """The new definitions of the indices the changes due on ``date`` touch, from
        ``book``'s current ones (the book's state after the day's market events)."""
        d = _day(date, "date")
        defs = {x.name: x for x in book.definitions}
        touched: dict[str, IndexDefinition] = {}
        for ch in self.changes_on(d):
            if isinstance(ch, FloatRatioChange):
                for name, defn in list(touched.items()) + [(n, x) for n, x in defs.items() if n not in touched]:
                    if defn.float_ratios is not None and ch.code in defn.members:
                        touched[name] = _with_ratio(defn, ch.code, float(ch.ratio))
                continue
            name = ch.index
            if name not in defs:
                raise KeyError(f"{type(ch).__name__} on {d.isoformat()}: unknown index {name!r}; have {list(defs)}")
            defn = touched.get(name, defs[name])
            if isinstance(ch, Review):
                touched[name] = self._review(defn, ch, book, d)
            elif isinstance(ch, Removal):
                touched[name] = self._remove(defn, ch, book, d)
            else:
                touched[name] = self._add(defn, ch.code, ch.float_ratio, d, f"Addition on {d.isoformat()}")
        return touched

    def _ratio_of(self, defn: IndexDefinition, code: str, given: float | None, d: datetime.date) -> float:
        if given is not None:
            return float(given)
        if code in defn.members and defn.float_ratios is not None:
            return defn.float_ratios[defn.members.index(code)]
        if self.float_ratios is not None:
            r = self.float_ratios.ratio(code, d)
            if r is not None:
                return r
        return 1.0

    def _review(self, defn: IndexDefinition, ch: Review, book, d: datetime.date) -> IndexDefinition:
        given = ch.float_ratios or {}
        unknown = sorted(set(given) - set(ch.members))
        if unknown:
            raise ValueError(f"Review of {ch.index!r} on {d.isoformat()}: float ratios for non-members {unknown}")
        ratios = tuple(self._ratio_of(defn, c, given.get(c), d) for c in ch.members)
        factors = None
        if defn.cap is not None:
            if ch.window is None:
                raise ValueError(f"Review of capped index {ch.index!r} on {d.isoformat()} needs a `window` of "
                                 "average weights (the cap is never taken from one day)")
            avg = ch.window.average(ch.index, *ch.window_dates)  # type: ignore[misc]
            # new members have no history in the index: factor 1 (methodology notes)
            held = [c for c in ch.members if avg.get(c, 0.0) > 0]
            cf = dict(zip(held, capping_factors([avg[c] for c in held], defn.cap).tolist())) if held else {}
            factors = tuple(cf.get(c, 1.0) for c in ch.members)
        fr = ratios if defn.float_ratios is not None or any(r != 1.0 for r in ratios) else None
        return replace(defn, members=ch.members, float_ratios=fr, cap_factors=factors)

    def _remove(self, defn: IndexDefinition, ch: Removal, book, d: datetime.date) -> IndexDefinition:
        where = f"Removal of {ch.code!r} from {ch.index!r} on {d.isoformat()}"
        if ch.code not in defn.members:
            raise ValueError(f"{where}: it is not a member")
        keep = [k for k, c in enumerate(defn.members) if c != ch.code]
        out = replace(defn, members=tuple(defn.members[k] for k in keep),
                      float_ratios=None if defn.float_ratios is None else tuple(defn.float_ratios[k] for k in keep),
                      cap_factors=None if defn.cap_factors is None else tuple(defn.cap_factors[k] for k in keep))
        repl = ch.replacement
        if repl is None and ch.group is not None:
            if self.reserve is None:
                raise ValueError(f"{where}: a replacement from group {ch.group!r} needs the schedule's `reserve`")
            member = book.members
            index = book.universe.code_index

            def eligible(code: str) -> bool:  # listed, in the market, and float >= 10% when known
                i = index.get(code)
                if i is None or not member[i]:
                    return False
                r = self.float_ratios.ratio(code, d) if self.float_ratios is not None else None
                return r is None or krx.float_eligible(r)

            repl = self.reserve.first_eligible(ch.group, set(defn.members), eligible)
            if repl is None:
                raise ValueError(f"{where}: no eligible stock of group {ch.group!r} left on the reserve list")
        if repl is not None:
            out = self._add(out, repl, None, d, where)
        return out

    def _add(self, defn: IndexDefinition, code: str, ratio: float | None, d: datetime.date,
             where: str) -> IndexDefinition:
        if code in defn.members:
            raise ValueError(f"{where}: {code!r} is already a member of {defn.name!r}")
        r = self._ratio_of(defn, code, ratio, d)
        fr = None
        if defn.float_ratios is not None or r != 1.0:
            fr = (defn.float_ratios or (1.0,) * len(defn.members)) + (r,)
        cf = None if defn.cap_factors is None else defn.cap_factors + (1.0,)
        return replace(defn, members=defn.members + (code,), float_ratios=fr, cap_factors=cf)


def _with_ratio(defn: IndexDefinition, code: str, ratio: float) -> IndexDefinition:
    fr = list(defn.float_ratios)  # type: ignore[arg-type]
    fr[defn.members.index(code)] = ratio
    return replace(defn, float_ratios=tuple(fr))


# ============================================================================ point in time
@dataclass(frozen=True)
class Composition:
    """One index on one date: members (codes), float ratios, capping factors, index shares and
    the prices (the day's close) the weights are taken at."""

    codes: tuple[str, ...]
    float_ratios: np.ndarray
    cap_factors: np.ndarray
    shares: np.ndarray
    prices: np.ndarray

    @property
    def weights(self) -> np.ndarray:
        mv = self.prices.astype(np.float64) * self.shares
        return mv / mv.sum()

    def __repr__(self) -> str:
        n = len(self.codes)
        top = f", largest weight {float(self.weights.max()):.2%}" if n else ""
        return f"Composition({n} members{top})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Composition):
            return NotImplemented
        return (self.codes == other.codes and np.array_equal(self.float_ratios, other.float_ratios)
                and np.array_equal(self.cap_factors, other.cap_factors)
                and np.array_equal(self.shares, other.shares) and np.array_equal(self.prices, other.prices))

    __hash__ = None  # type: ignore[assignment]


def _composition(book, k: int, prices: np.ndarray) -> Composition:
    """Index ``k`` of ``book`` now: its members in stock-id order."""
    defn = book.definitions[k]
    factors = book._factors[k]
    ids = np.flatnonzero(factors > 0)
    codes_all = book.universe.codes
    index = book.universe.code_index
    n = factors.shape[0]
    in_def = np.zeros(n, dtype=bool)
    fr = np.ones(n)
    cf = np.ones(n)
    pos = np.array([index[c] for c in defn.members], dtype=np.intp)
    in_def[pos] = True
    if defn.float_ratios is not None:
        fr[pos] = defn.float_ratios
    if defn.cap_factors is not None:
        cf[pos] = defn.cap_factors
    if defn.weighting == "cap":  # a member that joined as a new listing: its factor is its float ratio
        joined = ~in_def
        fr[joined] = factors[joined]
    shares = book._shares[k]  # the family's (read-only) index shares
    num = _num_dtype(shares)  # int64, or float64 for a float64 family
    return Composition(tuple(codes_all[i] for i in ids.tolist()), fr[ids], cf[ids],
                       np.asarray(shares[ids], dtype=num), np.asarray(prices, dtype=num)[ids])


def _num_dtype(values: object) -> type:
    """float64 for a float64 family's prices/shares (floats), else int64."""
    if isinstance(values, np.ndarray):
        return np.float64 if values.dtype.kind == "f" else np.int64
    return np.float64 if any(type(v) is float for v in values) else np.int64  # type: ignore[attr-defined]


def snapshot(book, prices: np.ndarray | None = None) -> dict[str, Composition]:
    """Every index's :class:`Composition` now (at ``prices``, default the book's)."""
    px = book.prices if prices is None else prices
    return {d.name: _composition(book, k, px) for k, d in enumerate(book.definitions)}


# A family's history (``BookState.history``) is a list of ``(day, record)``, the last one
# ``(day, None)`` for the live day. A record is plain data, diffed against the days before it so
# a year stays small: ``{"codes": universe codes or None (unchanged), "prices": closing prices
# by stock id, "indices": {name: (members, float ratios, capping factors, index shares)}}``,
# each of the four None when unchanged since the previous record.
_FIELDS = 4


def _index_fields(book, k: int) -> tuple:
    comp = _composition(book, k, book.prices)
    return comp.codes, tuple(comp.float_ratios.tolist()), tuple(comp.cap_factors.tolist()), tuple(comp.shares.tolist())


def day_record(book, hist: list, prices: np.ndarray) -> dict:
    """The record of the day now closing (``book``'s state at ``prices``), diffed against the
    records in ``hist`` (all but its last, live, entry)."""
    known = _resolve(hist, len(hist) - 2) if len(hist) >= 2 else None
    codes = tuple(book.universe.codes)
    rec: dict = {"codes": None if known is not None and known[0] == codes else codes,
                 "prices": tuple(np.asarray(prices, dtype=_num_dtype(prices)).tolist()), "indices": {}}
    for k, name in enumerate(book.names):
        fields = _index_fields(book, k)
        old = None if known is None else known[2].get(name)
        rec["indices"][name] = tuple(None if old is not None and old[j] == fields[j] else fields[j]
                                     for j in range(_FIELDS))
    return rec


def _check_record(rec: object, where: str) -> dict:
    if type(rec) is not dict or set(rec) != {"codes", "prices", "indices"} or type(rec["indices"]) is not dict:
        raise ValueError(f"{where}: not a day record of a family's history")
    return rec


def _resolve(hist: list, pos: int) -> tuple:
    """(universe codes, prices, {name: four fields}) of record ``pos``, filling each unchanged
    field from the latest earlier record that has it."""
    rec = _check_record(hist[pos][1], f"history[{pos}]")
    codes = rec["codes"]
    fields = {name: list(t) for name, t in rec["indices"].items()}
    j = pos
    while codes is None or any(v is None for t in fields.values() for v in t):
        j -= 1
        if j < 0:
            raise ValueError(f"history[{pos}]: a field refers to a day before the first record")
        prev = _check_record(hist[j][1], f"history[{j}]")
        if codes is None:
            codes = prev["codes"]
        for name, t in fields.items():
            old = prev["indices"].get(name)
            if old is not None:
                for f in range(_FIELDS):
                    if t[f] is None:
                        t[f] = old[f]
    return codes, rec["prices"], {name: tuple(t) for name, t in fields.items()}


def _compositions(resolved: tuple) -> dict[str, Composition]:
    codes, prices, fields = resolved
    index = {c: i for i, c in enumerate(codes)}
    px = np.asarray(prices, dtype=_num_dtype(list(prices)))
    out = {}
    for name, (members, fr, cf, sh) in fields.items():
        if not (len(members) == len(fr) == len(cf) == len(sh)):
            raise ValueError(f"history: the fields of {name!r} have different lengths")
        out[name] = Composition(tuple(members), np.array(fr, dtype=np.float64), np.array(cf, dtype=np.float64),
                                np.array(sh, dtype=_num_dtype(list(sh))), px[[index[c] for c in members]])
    return out


def as_of(book, date: object) -> dict[str, Composition]:
    """What ``book`` (an :class:`~kospi_fast.IndexFamily`) held on ``date``: every index's
    members, float ratios, capping factors, index shares and weights, at that day's close.

    Dates at or after the book's last roll get the live state (current prices); a date before
    the book's first dated state raises ``ValueError``. The history is part of the book's
    state (:attr:`BookState.history <kospi_fast.state.BookState>`): saved and loaded with it."""
    d = _day(date, "date")
    hist = getattr(book, "_history", [(None, None)])
    pos = None
    for j, (day, _) in enumerate(hist):
        if day is None or day <= d:
            pos = j
    if pos is None:
        raise ValueError(f"`date` {d.isoformat()} is before the book's first state "
                         f"({hist[0][0].isoformat() if hist and hist[0][0] else 'unknown'})")
    if pos == len(hist) - 1:
        return snapshot(book)
    return _compositions(_resolve(hist, pos))


# ============================================================================ membership intervals
@dataclass(frozen=True)
class Interval:
    """``code`` was a member of ``index`` from ``start`` through ``end`` (both trading days,
    inclusive; ``end`` is the last day held, the book's latest day for a current member)."""

    code: str
    index: str
    start: datetime.date
    end: datetime.date


def membership_intervals(book, names: Sequence[str] | None = None) -> list[Interval]:
    """Membership intervals of the book's indices (default all) from its dated history."""
    hist = getattr(book, "_history", [])
    dated = [j for j, (d, _) in enumerate(hist) if d is not None]
    if not dated:
        raise ValueError("the book has no dated history: construct it with `date=` or roll it with `date=`")
    days = [hist[j][0] for j in dated]
    members_by_day = [{n: f[0] for n, f in _resolve(hist, j)[2].items()} if j < len(hist) - 1
                      else {n: c.codes for n, c in snapshot(book).items()} for j in dated]
    names = list(book.names if names is None else names)
    out: list[Interval] = []
    for name in names:
        book.index_of(name)
        open_: dict[str, datetime.date] = {}
        for j, (d, members) in enumerate(zip(days, members_by_day)):
            now = set(members.get(name, ()))
            for c in list(open_):
                if c not in now:
                    out.append(Interval(c, name, open_.pop(c), days[j - 1]))
            for c in members.get(name, ()):
                open_.setdefault(c, d)
        out.extend(Interval(c, name, s, days[-1]) for c, s in open_.items())
    return sorted(out, key=lambda r: (r.index, r.code, r.start))


def write_membership(intervals: Sequence[Interval], path: object, *, format: str = "csv",
                     index: str | None = None) -> None:
    """Write intervals as CSV (``code,index,start,end``), Parquet (same columns; the ``io``
    extra) or qlib's instruments layout (``code<TAB>start<TAB>end``, one index per file:
    give ``index`` when the intervals hold several)."""
    rows = list(intervals)
    for k, r in enumerate(rows):
        if not isinstance(r, Interval):
            raise TypeError(f"`intervals[{k}]` must be an Interval, got {r!r}")
    p = Path(path)  # type: ignore[arg-type]
    if format == "qlib":
        idx = {r.index for r in rows}
        if index is None and len(idx) > 1:
            raise ValueError(f"the qlib layout holds one index per file: give `index` (one of {sorted(idx)})")
        sel = [r for r in rows if index is None or r.index == index]
        p.write_text("".join(f"{r.code}\t{r.start.isoformat()}\t{r.end.isoformat()}\n" for r in sel),
                     encoding="utf-8")
    elif format == "csv":
        with p.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["code", "index", "start", "end"])
            for r in rows:
                w.writerow([r.code, r.index, r.start.isoformat(), r.end.isoformat()])
    elif format == "parquet":
        pa = require("pyarrow", "io", what="writing Parquet membership")
        pq = require("pyarrow.parquet", "io", package="pyarrow", what="writing Parquet membership")
        table = pa.table({"code": [r.code for r in rows], "index": [r.index for r in rows],
                          "start": [r.start for r in rows], "end": [r.end for r in rows]})
        pq.write_table(table, p)
    else:
        raise ValueError(f"`format` must be 'csv', 'parquet' or 'qlib', got {format!r}")


def read_membership(path: object, *, format: str = "csv", index: str | None = None) -> list[Interval]:
    """Read intervals written by :func:`write_membership` (qlib: give the file's ``index``).
    Errors name the file and line (row for Parquet)."""
    p = Path(path)  # type: ignore[arg-type]
    if not p.is_file():
        raise FileNotFoundError(f"membership file {str(p)!r} does not exist")
    out: list[Interval] = []

    def row(where: str, code, name, start, end) -> Interval:
        try:
            s, e = _day(start, "start"), _day(end, "end")
            if e < s:
                raise ValueError(f"`end` {e.isoformat()} is before `start` {s.isoformat()}")
            if not isinstance(name, str) or not name:
                raise ValueError(f"`index` must be a non-empty name, got {name!r}")
            return Interval(_code(code, "code"), name, s, e)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{p}: {where}: {exc}") from None

    if format == "qlib":
        if not isinstance(index, str) or not index:
            raise ValueError("reading the qlib layout needs `index` (the file holds one index, unnamed)")
        for line, text in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            parts = text.split("\t")
            if len(parts) != 3:
                raise ValueError(f"{p}: line {line}: expected code<TAB>start<TAB>end, got {text!r}")
            out.append(row(f"line {line}", parts[0], index, parts[1], parts[2]))
    elif format == "csv":
        with p.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            need = {"code", "index", "start", "end"}
            if not need <= set(reader.fieldnames or []):
                raise ValueError(f"{p}: needs columns {sorted(need)}; have {reader.fieldnames}")
            for line, rec in enumerate(reader, start=2):
                out.append(row(f"line {line}", rec["code"], rec["index"], rec["start"], rec["end"]))
    elif format == "parquet":
        pq = require("pyarrow.parquet", "io", package="pyarrow", what="reading Parquet membership")
        t = pq.read_table(p).to_pydict()
        need = {"code", "index", "start", "end"}
        if not need <= set(t):
            raise ValueError(f"{p}: needs columns {sorted(need)}; have {sorted(t)}")
        for k, vals in enumerate(zip(t["code"], t["index"], t["start"], t["end"])):
            out.append(row(f"row {k}", *vals))
    else:
        raise ValueError(f"`format` must be 'csv', 'parquet' or 'qlib', got {format!r}")
    return out


def members_on(intervals: Iterable[Interval], index: str, date: object) -> list[str]:
    """Codes of ``index`` on ``date`` from membership intervals (sorted)."""
    d = _day(date, "date")
    return sorted(r.code for r in intervals if r.index == index and r.start <= d <= r.end)

