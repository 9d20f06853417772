"""How a level is published: the rounding, the publication grids, and the sampling of a level
series on a grid (the one home of each).

* :func:`published`: KRX rounds half-up to 2 decimals (internal state never is).
* Grids, int64 ns since midnight KST: :func:`grid_times` is the one builder;
  :func:`publication_grid` is KRX's grid of a session (first print to the close, the close
  itself the last print) and :func:`publication_times` an arbitrary step grid between two
  clock times (``parse_step`` reads its step).
* :class:`StepSampler` samples step functions (one index or K) on a grid as batches of trades
  arrive: the value at grid time ``g`` is the level after the last trade stamped at or before
  ``g`` (the starting level before any). :func:`published_series` is the one-shot use of it,
  :class:`PublishedSeries` the prints of a day with their OHLC and notable events.
* :class:`DaySummary` is the one home of a replayed day's summary of one index: OHLC per
  trade with their times, the sampled grid series, and each stock's contribution (points,
  pct, membership; ``top_contributors``, ``sector_points``, ``breadth``).
  :class:`~kospi_fast.io.ReplayResult` and :class:`~kospi_fast.distributed.DayResult` hold
  one (run metadata beside it) and read its attributes as their own (:class:`SummaryView`).

:mod:`kospi_fast.session` (``TradingDay``) and :mod:`kospi_fast.io` (``replay_file``) use these;
this module imports neither.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from kospi_fast._clock import NS_PER_S, format_clock, parse_clock

if TYPE_CHECKING:
    from kospi_fast.universe import Universe

__all__ = [
    "DaySummary", "IndexEvent", "PublishedSeries", "StepSampler", "SummaryView", "grid_times", "parse_step",
    "print_interval_s", "publication_grid", "publication_times", "published", "published_array", "published_series",
]


def published(level: float) -> float:
    """KRX's published form of a level: rounded half-up to 2 decimals (internal state is never
    rounded). The exact binary value of ``level`` is rounded, not its shortest repr.

    >>> published(5781.2051)
    5781.21
    """
    return float(Decimal(level).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def published_array(levels: object) -> np.ndarray:
    """:func:`published` of each level: float64, shape (n,).

    >>> published_array([5781.2051, 2500.125]).tolist()
    [5781.21, 2500.13]
    """
    lv = np.asarray(levels, dtype=np.float64).reshape(-1)
    return np.array([published(x) for x in lv.tolist()], dtype=np.float64)


# =========================================================================== grids
def grid_times(start_ns: int, end_ns: int, step_ns: int, *, close: bool = False) -> np.ndarray:
    """Arithmetic time grid, int64 ns: ``start_ns``, ``start_ns + step_ns``, ... up to
    ``end_ns`` inclusive (empty when ``end_ns < start_ns``). With ``close``, ``end_ns`` itself
    is the last time even when it is off the step (KRX prints its official close).

    >>> grid_times(0, 25, 10).tolist(), grid_times(0, 25, 10, close=True).tolist()
    ([0, 10, 20], [0, 10, 20, 25])
    """
    start_ns, end_ns, step_ns = int(start_ns), int(end_ns), int(step_ns)
    if step_ns <= 0:
        raise ValueError(f"`step_ns` must be > 0, got {step_ns}")
    grid = start_ns + step_ns * np.arange(max((end_ns - start_ns) // step_ns + 1, 0), dtype=np.int64)
    if close and not (grid.shape[0] and grid[-1] == end_ns):
        grid = np.append(grid, np.int64(end_ns))
    return grid


class _Session(Protocol):  # a kospi_fast.session.SessionTimes
    @property
    def first_print(self) -> int: ...
    @property
    def close(self) -> int: ...


def publication_grid(session: _Session, interval_s: int) -> np.ndarray:
    """KRX print times (ns) of a session (a :class:`kospi_fast.session.SessionTimes`: anything
    with ``first_print`` and ``close``): from the first print (open + 10 s) to the close, every
    ``interval_s`` seconds, with the official close itself as the last print."""
    if isinstance(interval_s, bool) or not isinstance(interval_s, (int, np.integer)) or interval_s <= 0:
        raise ValueError(f"`interval_s` must be a positive int, got {interval_s!r}")
    return grid_times(session.first_print, session.close, int(interval_s) * NS_PER_S, close=True)


#: Indices KRX prints every second (the KOSPI 200 family); every other index every 10 s.
ONE_SECOND_FAMILY = ("KOSPI 200", "KOSPI 100", "KOSPI 50")


def print_interval_s(name: str) -> int:
    """KRX's print interval of an index, in seconds: 1 for the KOSPI 200 family (KOSPI 200,
    100, 50 and their variants), 10 for KOSPI and the other KOSPI indices (decision 8).

    >>> print_interval_s("KOSPI"), print_interval_s("KOSPI 200"), print_interval_s("KOSPI 200 EW")
    (10, 1, 1)
    """
    return 1 if any(name == f or name.startswith(f + " ") for f in ONE_SECOND_FAMILY) else 10


_STEP_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|min)?$")


def parse_step(value: object) -> int | None:
    """A grid step: ``'tick'`` -> None (every trade), ``'10s'``, ``'1s'``, ``'500ms'``, ``'1m'``,
    or a number of seconds -> ns.

    >>> parse_step("500ms"), parse_step("tick"), parse_step(2)
    (500000000, None, 2000000000)
    """
    if value is None or (isinstance(value, str) and value.strip().lower() == "tick"):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        ns = round(float(value) * NS_PER_S)
    else:
        m = _STEP_RE.match(str(value).strip().lower())
        if not m:
            raise ValueError(f"`grid` must be 'tick' or a step such as '10s', '1s', '500ms', got {value!r}")
        mult = {"ms": 10**6, "s": NS_PER_S, None: NS_PER_S, "m": 60 * NS_PER_S, "min": 60 * NS_PER_S}[m.group(2)]
        ns = round(float(m.group(1)) * mult)
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
    return grid_times(s, e, st)


# =========================================================================== sampling
class StepSampler:
    """Samples step functions on a time grid as batches of trades arrive.

    The value at grid time ``g`` is the level after the last trade stamped at or before ``g``
    (so a print at ``g`` includes a trade stamped exactly ``g``), ``initial`` before any trade.
    Trades arrive in time order across batches (a later trade is never stamped before an
    earlier one). A grid time becomes final once a trade stamped after it has been fed; the
    grid times after the last trade are not final yet and read as the latest level.

    Parameters
    ----------
    initial : float or array_like of float, shape (K,)
        The level before any trade. A float: one step function, values of shape (n,); an array:
        K of them (every index of a book), values of shape (n, K).
    grid : array_like of int64, ascending, optional
        An explicit grid (e.g. :func:`publication_grid`).
    step, start, end : int (ns), optional
        Or an arithmetic grid: ``start``, ``start + step``, ... through ``end``, and on to the
        first grid time at or after the last trade (so the close is always printed). ``start``
        None anchors it at the first trade's whole step (``t0 // step * step``); ``end`` None
        means the grid ends at the first grid time at or after the last trade.

    Notes
    -----
    Two ways in, mixed freely: :meth:`feed` takes a batch of trades' times and the level after
    each; :meth:`feed_rows` takes levels a kernel already sampled at :meth:`open_times`.

    >>> s = StepSampler(100.0, grid=[10, 20, 30, 40])
    >>> s.feed(np.array([5, 20, 25]), np.array([101.0, 102.0, 103.0]))
    >>> s.read()[1].tolist()  # 40: no trade after 25 yet, so the latest level
    [101.0, 102.0, 103.0, 103.0]
    >>> chart = StepSampler(100.0, step=10, end=20)  # anchored at the first trade's whole step
    >>> chart.feed(np.array([13, 37]), np.array([101.0, 102.0]))
    >>> [x.tolist() for x in chart.read()]  # extended to 40, the first grid time >= 37
    [[10, 20, 30, 40], [100.0, 101.0, 101.0, 102.0]]
    """

    def __init__(self, initial: object, *, grid: object = None, step: int | None = None,
                 start: int | None = None, end: int | None = None) -> None:
        init = np.asarray(initial, dtype=np.float64)
        if init.ndim > 1:
            raise ValueError(f"`initial` must be a float or a 1-d array of K levels, got shape {init.shape}")
        self._vector = init.ndim == 1
        self._carry: Any = init.copy() if self._vector else float(init)  # the latest level
        if (grid is None) == (step is None):
            raise ValueError("give either `grid` (explicit times) or `step` (an arithmetic grid)")
        self._grid: np.ndarray | None = None
        self._step = 0  # an arithmetic grid's
        self._start: int | None = None
        self._end: int | None = None
        if grid is not None:
            if start is not None or end is not None:
                raise ValueError("`start` and `end` belong to an arithmetic grid (`step`), not to `grid`")
            g = np.array(grid, dtype=np.int64).reshape(-1)
            if g.shape[0] > 1 and (np.diff(g) < 0).any():
                raise ValueError("`grid` must be ascending")
            self._grid = g
        else:
            if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step <= 0:
                raise ValueError(f"`step` must be a positive int of ns, got {step!r}")
            self._step = int(step)
            self._start = None if start is None else int(start)
            self._end = None if end is None else int(end)
        self._next = 0  # grid times before this index are final
        self._chunks: list[np.ndarray] = []  # their values, in order
        self.last_time: int | None = None  # the latest trade time fed

    def __repr__(self) -> str:
        k = f"{self._width()} step functions" if self._vector else "1 step function"
        grid = (f"{self._grid.shape[0]:,} grid times" if self._grid is not None
                else f"step {self._step:,} ns")
        last = "no trade yet" if self.last_time is None else f"last trade {format_clock(self.last_time)}"
        return f"StepSampler({k}, {grid}, {self._next:,} final, {last})"

    # -------------------------------------------------------------------- grid arithmetic
    def _origin(self) -> int:
        """An arithmetic grid's first time."""
        if self._start is None:
            raise ValueError("the grid is anchored at the first trade: feed one before sampling rows")
        return self._start

    def _below(self, t: int) -> int:
        """How many grid times are before ``t`` (the index of the first at or after it)."""
        if self._grid is not None:
            return int(self._grid.searchsorted(t, side="left"))
        return max(0, -((self._origin() - t) // self._step))

    def _times(self, k0: int, k1: int) -> np.ndarray:
        if self._grid is not None:
            return self._grid[k0:k1]
        return self._origin() + self._step * np.arange(k0, k1, dtype=np.int64)

    def _length(self) -> int:
        """The grid's length now (an arithmetic grid grows with the last trade)."""
        if self._grid is not None:
            return int(self._grid.shape[0])
        start = self._start if self._start is not None else self._end  # nothing fed: at the end
        if start is None:
            return 0
        k_end = -1 if self._end is None else max((self._end - start) // self._step, -1)
        if self.last_time is not None and self.last_time > start:
            k_end = max(k_end, -((start - self.last_time) // self._step))
        return k_end + 1

    def _width(self) -> int:
        return int(self._carry.shape[0]) if self._vector else 1

    # -------------------------------------------------------------------- feeding
    def feed(self, times: np.ndarray, levels: np.ndarray) -> None:
        """A batch of trades: ``times`` (int64, non-decreasing, none before the previous batch's
        last) and ``levels``, the level after each trade (shape (n,), or (n, K) / (n,) with
        K = 1 for K step functions). Trades that did not move the level may be included (their
        level is the current one)."""
        n = times.shape[0]
        if levels.shape[0] != n:
            raise ValueError(f"`levels` has {levels.shape[0]} rows for {n} times")
        k = self._width()
        if not ((levels.ndim == 1 and k == 1) or (self._vector and levels.shape[1:] == (k,))):
            raise ValueError(f"`levels` of shape {levels.shape} for {self._width()} step function(s)")
        if n == 0:
            return
        self._sample(times, levels)

    def _sample(self, t: np.ndarray, lv: np.ndarray) -> None:
        if self._vector:
            lv = lv.reshape(t.shape[0], -1)
        if self._grid is None and self._start is None:  # lazily anchored at the first trade's whole step
            self._start = int(t[0]) // self._step * self._step
        last = int(t[-1])
        # only grid times strictly before the batch's last trade are final: more trades stamped
        # at exactly that time may follow in the next batch
        k_hi = self._below(last)
        if k_hi > self._next:
            g = self._times(self._next, k_hi)
            pos = np.searchsorted(t, g, side="right") - 1
            vals = lv[np.maximum(pos, 0)]
            n_before = int(np.searchsorted(pos, 0))  # grid times before the batch's first trade
            if n_before:
                vals[:n_before] = self._carry
            self._chunks.append(vals)
            self._next = k_hi
        self._carry = lv[-1].copy() if self._vector else float(lv[-1])
        self.last_time = last

    def open_times(self, since: int | None = None, until: int | None = None) -> np.ndarray:
        """The grid times a batch can still move, for a kernel that samples while it applies the
        batch (:meth:`feed_rows`): those not final, at or after ``since`` (the batch's first
        trade), before ``until`` (default: to the grid's end)."""
        k0 = self._next if since is None else max(self._next, self._below(int(since)))
        k1 = self._length() if until is None else self._below(int(until))
        return self._times(k0, max(k0, k1))

    def feed_rows(self, times: np.ndarray, rows: np.ndarray, *, until: int, after: object) -> None:
        """A batch already sampled: ``rows[j]`` is the level after the last trade stamped at or
        before ``times[j]`` (consecutive grid times from :meth:`open_times`); ``until`` the
        latest trade time so far (no later trade is stamped before it); ``after`` the level
        after the batch. Grid times before ``times[0]`` keep the level before the batch."""
        m = times.shape[0]
        if rows.shape[0] != m:
            raise ValueError(f"`rows` has {rows.shape[0]} rows for {m} times")
        k_hi = self._below(int(until))
        k0 = self._below(int(times[0])) if m else k_hi  # no rows: every grid time is before the batch
        if k_hi > self._next:
            if k_hi > k0 + m:
                raise ValueError("`rows` must cover every grid time before `until`")
            parts = []
            if k0 > self._next:  # grid times before the batch's first trade
                parts.append(np.broadcast_to(self._carry, (min(k0, k_hi) - self._next,) + np.shape(self._carry)))
            if k_hi > k0:
                parts.append(np.asarray(rows[max(self._next, k0) - k0:k_hi - k0], dtype=np.float64))
            vals = np.concatenate(parts) if len(parts) > 1 else np.array(parts[0], dtype=np.float64)
            self._chunks.append(vals.reshape(k_hi - self._next, -1) if self._vector else vals.reshape(-1))
            self._next = k_hi
        after = np.asarray(after, dtype=np.float64)
        self._carry = after.reshape(-1).copy() if self._vector else float(after)
        self.last_time = int(until) if self.last_time is None else max(self.last_time, int(until))

    # -------------------------------------------------------------------- reading
    @property
    def n_final(self) -> int:
        """How many grid times are final (they never change again)."""
        return self._next

    def final(self, since: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(times, values)`` of the final grid times from position ``since`` on: for a
        consumer that takes the prints as they become final (costs what is new, not the day).

        >>> s = StepSampler(100.0, grid=[10, 20, 30])
        >>> s.feed(np.array([15, 25]), np.array([101.0, 102.0]))
        >>> [x.tolist() for x in s.final(1)]
        [[20], [101.0]]
        """
        since, hi = max(0, int(since)), self._next
        shape = (self._carry.shape[0],) if self._vector else ()
        if since >= hi:
            return self._times(hi, hi), np.empty((0,) + shape)
        parts, end = [], hi
        for chunk in reversed(self._chunks):
            start = end - chunk.shape[0]
            parts.append(chunk[max(since - start, 0):])
            if start <= since:
                break
            end = start
        values = parts[0] if len(parts) == 1 else np.concatenate(parts[::-1])
        return self._times(since, hi), values

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """``(times, values)`` on the grid so far (an arithmetic grid through its end, or on to
        the first grid time at or after the last trade); grid times that are not final yet
        carry the latest level. Feeding may go on after a read."""
        n = self._length()
        if len(self._chunks) > 1:  # once: a day's series is read again and again
            self._chunks = [np.concatenate(self._chunks)]
        shape = (self._carry.shape[0],) if self._vector else ()
        tail = np.empty((n - self._next,) + shape)
        tail[...] = self._carry
        values = np.concatenate([*self._chunks, tail])
        if self._grid is not None:
            return self._grid[:n].copy(), values
        if self._start is None:  # nothing fed: anchored at the end
            return (np.empty(0, np.int64) if self._end is None else np.array([self._end], np.int64)), values
        return self._times(0, n), values

    finish = read


# =========================================================================== published series
@dataclass
class IndexEvent:
    """A notable print: at ``time`` (ns since midnight KST) the published ``level`` made a new
    intraday high or low, a new all-time high (``detail``: the previous one) or crossed a round
    number (``detail``: the number)."""

    time: int
    kind: str  # "intraday_high", "intraday_low", "all_time_high", "crossed_up", "crossed_down"
    level: float
    detail: float | None = None

    def __repr__(self) -> str:
        detail = "" if self.detail is None else f", {self.detail:,.2f}"
        return f"IndexEvent({format_clock(self.time)}, {self.kind!r}, {self.level:,.2f}{detail})"


@dataclass
class PublishedSeries:
    """An index's published prints for one day, with OHLC and notable events."""

    times: np.ndarray
    values: np.ndarray  # rounded half-up to 2 decimals, as published
    open: float
    high: float
    low: float
    close: float
    events: list[IndexEvent] = field(default_factory=list)

    def __repr__(self) -> str:
        n = int(self.times.shape[0])
        span = f" {format_clock(int(self.times[0]))}..{format_clock(int(self.times[-1]))}" if n else ""
        return (f"PublishedSeries({n:,} prints{span}, open {self.open:,.2f}, high {self.high:,.2f}, "
                f"low {self.low:,.2f}, close {self.close:,.2f}, {len(self.events):,} events)")

    @classmethod
    def of(cls, times: np.ndarray, levels: np.ndarray, start_level: float, *, all_time_high: float | None = None,
           round_numbers: Sequence[float] = ()) -> PublishedSeries:
        """The prints of the (unrounded) ``levels`` sampled at ``times``, rounded half-up to 2
        decimals; see :func:`published_series` for OHLC and the events."""
        values = published_array(levels)
        events: list[IndexEvent] = []
        hi = lo = values[0]
        ath = all_time_high
        prev = published(start_level)
        for k in range(values.shape[0]):
            v = values[k]
            if k > 0 and v > hi:
                events.append(IndexEvent(int(times[k]), "intraday_high", float(v)))
            if k > 0 and v < lo:
                events.append(IndexEvent(int(times[k]), "intraday_low", float(v)))
            hi, lo = max(hi, v), min(lo, v)
            if ath is not None and v > ath:
                events.append(IndexEvent(int(times[k]), "all_time_high", float(v), float(ath)))
                ath = v
            for r in round_numbers:
                if prev < r <= v:
                    events.append(IndexEvent(int(times[k]), "crossed_up", float(v), float(r)))
                elif prev >= r > v:
                    events.append(IndexEvent(int(times[k]), "crossed_down", float(v), float(r)))
            prev = v
        return cls(np.array(times, dtype=np.int64), values, float(values[0]), float(values.max()),
                   float(values.min()), float(values[-1]), events)


def published_series(
    tick_times: np.ndarray,
    levels: np.ndarray,
    grid: np.ndarray,
    start_level: float,
    *,
    all_time_high: float | None = None,
    round_numbers: Sequence[float] = (),
) -> PublishedSeries:
    """Sample a per-trade level series on a publication grid: each print is the level after the
    last trade at or before its time (``start_level`` before any trade), rounded half-up to
    2 decimals. OHLC are taken over the prints (the last print is the close). Events: a new
    intraday high/low (from the second print on), a new all-time high above ``all_time_high``,
    and crossings of each of ``round_numbers`` (e.g. 5000), each at its print time."""
    t = np.asarray(tick_times, dtype=np.int64).reshape(-1)
    lv = np.asarray(levels, dtype=np.float64).reshape(-1)
    g = np.asarray(grid, dtype=np.int64).reshape(-1)
    order = None
    if g.shape[0] > 1 and (np.diff(g) < 0).any():  # sampled in time order, printed in the grid's
        order = np.argsort(g, kind="stable")
    sampler = StepSampler(float(start_level), grid=g if order is None else g[order])
    if lv.size:
        sampler.feed(t, lv)
    raw = sampler.read()[1]
    if order is not None:
        raw = raw[np.argsort(order, kind="stable")]
    return PublishedSeries.of(g, raw, float(start_level), all_time_high=all_time_high, round_numbers=round_numbers)


# =========================================================================== a day's summary
def _empty_i8() -> np.ndarray:
    return np.empty(0, np.int64)


def _empty_f8() -> np.ndarray:
    return np.empty(0, np.float64)


@dataclass(frozen=True, eq=False)
class DaySummary:
    """One index's replayed day: the one home of a day's summary (plain data, pickles).

    ``open`` is the level after every trade stamped at the first trade's time (the opening
    auction), ``high`` / ``low`` the extremes over every trade's level and ``close`` the level
    after the last, each with its time (int64 ns since midnight KST; 0 and the start level
    when no trade came). ``grid_times`` / ``grid_levels``: the level series on the day's grid
    (``grid``: its step, e.g. ``'10s'``, or ``'tick'``). Per stock of ``universe``: ``points``
    (Δprice × index shares / divisor, in index points; they sum to ``close −
    previous_close`` when nothing was rebased), ``pct`` (% move from the reference price) and
    ``member`` (in the index). :meth:`empty` is a failed day's (NaN levels, empty arrays).

    >>> s = DaySummary("KOSPI", 100.0, 100.0, 101.0, 10, 102.0, 20, 99.0, 30, 100.5, 40,
    ...                grid_times=np.array([10, 20]), grid_levels=np.array([101.004, 102.125]))
    >>> round(s.change, 2), s.grid_published.tolist()
    (0.5, [101.0, 102.13])
    """

    index: str
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
    n_ticks: int = 0
    volume: int | None = None
    grid: str = ""
    grid_times: np.ndarray = field(default_factory=_empty_i8, repr=False)
    grid_levels: np.ndarray = field(default_factory=_empty_f8, repr=False)
    universe: Universe | None = field(default=None, repr=False)
    points: np.ndarray = field(default_factory=_empty_f8, repr=False)
    pct: np.ndarray = field(default_factory=_empty_f8, repr=False)
    member: np.ndarray = field(default_factory=lambda: np.empty(0, bool), repr=False)

    def __repr__(self) -> str:
        return f"DaySummary({_day_line(self)})"

    @classmethod
    def empty(cls, index: str = "") -> DaySummary:
        """A day that did not run: NaN levels, zero times and counts, empty arrays."""
        nan = float("nan")
        return cls(index, nan, nan, nan, 0, nan, 0, nan, 0, nan, 0)

    @property
    def change(self) -> float:
        return self.close - self.previous_close

    @property
    def change_pct(self) -> float:
        return 100.0 * (self.close - self.previous_close) / self.previous_close

    @cached_property
    def grid_published(self) -> np.ndarray:
        """The grid series as published (:func:`published_array`; computed once, pickled with
        the summary once computed)."""
        return published_array(self.grid_levels)

    def prints(self, **kwargs: Any) -> PublishedSeries:
        """The grid series as a :class:`PublishedSeries` (OHLC over the prints, events; see
        :func:`published_series` for ``all_time_high`` and ``round_numbers``)."""
        if not self.grid_times.shape[0]:
            raise ValueError("the day has no grid series to print")
        return PublishedSeries.of(self.grid_times, self.grid_levels, self.start_level, **kwargs)

    def top_contributors(self, n: int = 10) -> list[dict]:
        """The ``n`` stocks with the largest absolute points: code, name, sector, points, pct."""
        order = np.argsort(-np.abs(self.points), kind="stable")[:n]
        u = self.universe
        if u is None:
            return []
        return [{"code": u.codes[i], "name": u.names[i], "sector": u.sectors[i] if u.sectors else "",
                 "points": float(self.points[i]), "pct": float(self.pct[i])} for i in order]

    def sector_points(self) -> dict[str, float]:
        """{sector: points}, largest absolute points first (empty without sector labels)."""
        u = self.universe
        if u is None or u.sectors is None:
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


def _day_line(s: DaySummary) -> str:
    """A day's summary in one line (the reprs of the summary and of the results holding one)."""
    if s.n_ticks == 0 and s.close != s.close:  # NaN: a day that did not run
        return f"{s.index!r}, no trades"
    grid = f", grid {s.grid} x {int(s.grid_times.shape[0]):,}" if s.grid else ""
    return (f"{s.index!r}, close {s.close:,.2f} ({s.change:+,.2f}, {s.change_pct:+.2f}%), "
            f"open {s.open:,.2f}, high {s.high:,.2f}, low {s.low:,.2f}, {s.n_ticks:,} trades{grid}")


T = TypeVar("T")


class _Held(Generic[T]):
    """A read-only attribute of the held :class:`DaySummary` (``self.summary``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.__doc__ = f"``summary.{name}`` (see :class:`DaySummary`)."

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]  # the class attribute: the descriptor
        return getattr(obj.summary, self.name)

    def __set__(self, obj: Any, value: object) -> None:
        raise AttributeError(f"`{self.name}` is the day summary's (read-only; `summary` is a frozen DaySummary)")


class SummaryView:
    """Reads a held :class:`DaySummary` (``self.summary``) as one's own attributes: a result
    that holds a day's summary beside its run metadata (:class:`~kospi_fast.io.ReplayResult`,
    :class:`~kospi_fast.distributed.DayResult`) is read as before (``res.open``,
    ``res.high_time``, ``res.grid_levels``, ``res.sector_points()``, ...)."""

    __slots__ = ()
    summary: DaySummary

    index = _Held[str]()
    previous_close = _Held[float]()
    start_level = _Held[float]()
    open = _Held[float]()
    open_time = _Held[int]()
    high = _Held[float]()
    high_time = _Held[int]()
    low = _Held[float]()
    low_time = _Held[int]()
    close = _Held[float]()
    close_time = _Held[int]()
    n_ticks = _Held[int]()
    volume = _Held["int | None"]()
    grid = _Held[str]()
    grid_times = _Held[np.ndarray]()
    grid_levels = _Held[np.ndarray]()
    grid_published = _Held[np.ndarray]()
    universe = _Held["Universe | None"]()
    points = _Held[np.ndarray]()
    pct = _Held[np.ndarray]()
    member = _Held[np.ndarray]()
    change = _Held[float]()
    change_pct = _Held[float]()

    def top_contributors(self, n: int = 10) -> list[dict]:
        """The ``n`` stocks with the largest absolute points (:meth:`DaySummary.top_contributors`)."""
        return self.summary.top_contributors(n)

    def sector_points(self) -> dict[str, float]:
        """{sector: points} (:meth:`DaySummary.sector_points`)."""
        return self.summary.sector_points()

    def breadth(self) -> tuple[int, int, int]:
        """(advancers, decliners, unchanged) among the members (:meth:`DaySummary.breadth`)."""
        return self.summary.breadth()
