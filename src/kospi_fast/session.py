"""The trading day as KRX runs it: session times, validated feeding, published series.

Times are int64 nanoseconds since midnight KST throughout (the ``SimulatedDay`` convention).

Session (methodology 1.9, 3.3 and decision 8): the opening call auction matches at 09:00
(with KRX's random end its result may print up to 30 s later), continuous trading runs to
15:20, the closing call auction collects orders 15:20–15:30 and its result is the official
close (again up to 30 s of random end). Off-hours trades (pre-market 08:30–08:40, post-market,
after-hours single price) do not move the index: they are *ignored*, not rejected. No trade
can execute inside the closing call before its result, so one stamped there is rejected.
Special days: the first trading day of the year opens at 10:00 (close unchanged, from the
XKRX calendar of ``exchange-calendars``); on the college-entrance-exam (CSAT) day the open and
the close move one hour later (10:00 / 16:30).

Published series (decision 8): KOSPI every 10 s, KOSPI 200 and its family every 1 s, first
print of the day at 09:00:10 (an hour later on a late-open day).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from kospi_fast import _session, _validation, krx
from kospi_fast._clock import DAY_NS, NS_PER_S, format_clock
from kospi_fast._ticks import prepare_ticks
from kospi_fast.publish import (  # grids, sampling and prints live there; re-exported
    IndexEvent,
    PublishedSeries,
    StepSampler,
    grid_times,
    publication_grid,
    published_series,
)

NS = NS_PER_S
H = 3600 * NS
M = 60 * NS

# A regular KOSPI day (the one place these live; session_times() gives the special days).
OPEN_NS = 9 * H  # 09:00:00, opening call auction result
CLOSE_CALL_NS = 15 * H + 20 * M  # 15:20:00, closing call auction starts
CLOSE_NS = 15 * H + 30 * M  # 15:30:00, official close
FIRST_PRINT_NS = OPEN_NS + 10 * NS  # 09:00:10, first published print
RANDOM_END_NS = 30 * NS

#: CSAT (수능) days, on which KRX opens at 10:00 and closes at 16:30. Dates from Korean press
#: reports of each year's exam. In 2017 the exam was postponed from 11-16 to 11-23 (Pohang
#: earthquake) the evening before; KRX kept the announced late hours on 11-16 (Seoul Shinmun
#: 2017-11-15, Kookmin Ilbo 2017-11-16) and shifted again on 11-23, so both are listed.
#: Pass ``late_open=True`` to :func:`session_times` for a day not listed.
CSAT_DAYS = frozenset(
    _dt.date.fromisoformat(d)
    for d in (
        "2016-11-17", "2017-11-16", "2017-11-23", "2018-11-15", "2019-11-14", "2020-12-03", "2021-11-18",
        "2022-11-17", "2023-11-16", "2024-11-14", "2025-11-13", "2026-11-19",
    )
)

#: Status code -> reason of a validated trade, as the rules kernel defines them (its one home).
STATUS = dict(enumerate(_session.STATUS_NAMES))
APPLIED, IGNORED = _session.APPLIED, _session.IGNORED

GRID_BITMAP_PRICES = 1 << 23  # prices below 8,388,608 won are checked by bitmap (1 MiB)
_GRIDS: dict[tuple[int, ...], np.ndarray] = {}


def _tick_rules(date: _dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The day's tick table for the kernel, from :func:`kospi_fast.krx.tick_table` (the one
    place the tables live), passed to the kernel as data: the band thresholds, the tick size of
    each band, and a uint8 bitmap with bit p set when price p is on the grid (built once per
    table)."""
    bounds, ticks = krx.tick_table(date)
    key = tuple(int(b) for b in bounds) + (-1,) + tuple(int(t) for t in ticks)
    if key not in _GRIDS:
        # Band by band: in [lo, hi) with tick t the grid is every multiple of t (the first band
        # starts at 0, and price 0 is no price). Slicing a bool array costs 8 MiB and ~10 ms,
        # where testing every price with krx.is_on_tick cost 64 MiB of int64 temporaries.
        on = np.zeros(GRID_BITMAP_PRICES, dtype=bool)
        edges = [0, *(int(b) for b in bounds), GRID_BITMAP_PRICES]
        for lo, hi, t in zip(edges[:-1], edges[1:], (int(t) for t in ticks)):
            lo, hi = min(lo, GRID_BITMAP_PRICES), min(hi, GRID_BITMAP_PRICES)
            on[-(-lo // t) * t:hi:t] = True
        on[0] = False
        _GRIDS[key] = np.packbits(on, bitorder="little")
    return (np.ascontiguousarray(bounds, dtype=np.int64), np.ascontiguousarray(ticks, dtype=np.int64),
            _GRIDS[key])


@dataclass(frozen=True)
class SessionTimes:
    """One trading day's session, in ns since midnight KST."""

    date: _dt.date
    open: int
    close_call: int
    close: int

    def __repr__(self) -> str:
        return (f"SessionTimes({self.date.isoformat()}, open {format_clock(self.open)}, closing call "
                f"{format_clock(self.close_call)}, close {format_clock(self.close)} KST)")

    @property
    def first_print(self) -> int:
        """The first publication time: the open + 10 s."""
        return self.open + 10 * NS

    @property
    def window(self) -> tuple[int, int]:
        """Index-relevant trades: [open, close + random end]."""
        return self.open, self.close + RANDOM_END_NS


def is_trading_day(date: object) -> bool:
    """True when XKRX (``exchange-calendars``) lists ``date`` as a session."""
    cal = _calendar()
    return bool(cal.is_session(_validation.as_date(date).isoformat()))


def _calendar():
    """The XKRX calendar (one home: :func:`kospi_fast.krx.xkrx_calendar`)."""
    return krx.xkrx_calendar()


def session_times(date: object, *, late_open: bool | None = None, check_calendar: bool = True) -> SessionTimes:
    """KRX regular-session times for ``date``.

    Parameters
    ----------
    date : date or ISO str
    late_open : bool, optional
        Force the CSAT-day schedule (10:00–16:30) on or off; default: from :data:`CSAT_DAYS`.
    check_calendar : bool
        Check with XKRX that ``date`` is a trading day and whether it is the year's first (10:00
        open). Needs ``exchange-calendars``; with False the day is taken as a regular one.

    Raises
    ------
    ValueError
        ``date`` is not a KRX trading day.
    """
    d = _validation.as_date(date)
    open_ns, close_ns = OPEN_NS, CLOSE_NS
    if check_calendar:
        cal = _calendar()
        if not cal.is_session(d.isoformat()):
            raise ValueError(f"`date` {d.isoformat()} is not a KRX trading day (XKRX calendar)")
        opened = cal.session_open(d.isoformat()).tz_convert("Asia/Seoul")
        closed = cal.session_close(d.isoformat()).tz_convert("Asia/Seoul")
        open_ns = opened.hour * H + opened.minute * M
        close_ns = closed.hour * H + closed.minute * M  # 15:00 before 2016-08-01
    if late_open if late_open is not None else d in CSAT_DAYS:
        open_ns, close_ns = 10 * H, 16 * H + 30 * M
    return SessionTimes(d, open_ns, close_ns - 10 * M, close_ns)


# --------------------------------------------------------------------------- results
@dataclass
class FeedResult:
    """What a validated batch did. ``levels[k]`` is the level after trade ``k`` (unchanged for
    an ignored or rejected trade) for a one-index book; ``final`` every index's level after
    the batch; ``status[k]`` a code of :data:`STATUS`."""

    levels: np.ndarray | None  # per trade, for a one-index book (None for a family)
    status: np.ndarray
    counts: np.ndarray  # trades per status code
    final: np.ndarray | None = None  # every index's level after the batch

    def __repr__(self) -> str:
        n = int(self.status.shape[0])
        last = "" if self.final is None or not self.final.shape[0] else f", level {float(self.final[0]):,.2f}"
        return (f"FeedResult({n:,} trades: {self.applied:,} applied, {self.ignored:,} ignored, "
                f"{n - self.applied - self.ignored:,} rejected{last})")

    @property
    def applied(self) -> int:
        return int(self.counts[APPLIED])

    @property
    def ignored(self) -> int:
        return int(self.counts[IGNORED])

    @property
    def rejected(self) -> np.ndarray:
        """Positions of the rejected trades."""
        return np.flatnonzero(self.status > IGNORED)

    def reasons(self) -> dict[str, int]:
        """{reason: number of trades} for every status that occurred."""
        return {STATUS[c]: int(self.counts[c]) for c in np.flatnonzero(self.counts).tolist()}


# --------------------------------------------------------------------------- trading day
@dataclass(frozen=True)
class DayRules:
    """What the validating kernel checks, per stock and for the day (built by TradingDay)."""

    lower: np.ndarray  # int64 (n,), halts and p > 0 folded in
    upper: np.ndarray  # int64 (n,)
    halted: np.ndarray  # uint8 (n,)
    thresholds: np.ndarray  # int64: prices where the tick size steps up
    ticks: np.ndarray  # int64: the tick size of each band (len(thresholds) + 1)
    grid: np.ndarray  # uint8 bitmap, bit p set: p is on the tick grid
    fast: np.ndarray  # int64 (n, 2): per stock (lo, span) of the fast path
    window: tuple[int, int, int, int]  # open, closing call start, close, last index-relevant time


def _clock_arg(time_ns: object) -> int:
    """``time_ns`` of :meth:`TradingDay.advance_to` (and the Publisher's): an int of ns since
    midnight KST in [0, 24:00], else TypeError / ValueError naming it."""
    if isinstance(time_ns, bool) or not isinstance(time_ns, (int, np.integer)):
        raise TypeError(f"`time_ns` must be an int of ns since midnight KST, got {time_ns!r}")
    t = int(time_ns)
    if not 0 <= t <= DAY_NS:
        raise ValueError(f"`time_ns` must be in [0, {DAY_NS}] (ns since midnight KST), got {t}")
    return t


def _rejected(k: int, t: np.ndarray, ids: np.ndarray, prices: np.ndarray, status: np.ndarray,
              tail: str = "") -> ValueError:
    """The error for trade ``k`` of a batch rejected under policy "raise"."""
    return ValueError(f"trade {k} (time {format_clock(int(t[k]), digits=3)}, id {int(ids[k])}, "
                      f"price {int(prices[k])}) rejected: {STATUS[int(status[k])]}{tail}")


class TradingDay:
    """Feeds one trading day's trades into an index book under KRX rules.

    Any book: an :class:`~kospi_fast.IndexEngine`, an :class:`~kospi_fast.IndexFamily`, or
    either wrapped in a :class:`~kospi_fast.persist.JournaledBook` (what is applied is
    journaled). The day's base prices are the book's reference prices (the previous close,
    adjusted by the day's ex-events via ``book.roll``); the ±30% band and the tick table
    follow ``date``. The day follows the book as it changes: a stock listed during the day
    (``NewListing``) is validated against limits from its own base price, a split moves its
    stock's limits with its base price.

    Parameters
    ----------
    book : IndexEngine, IndexFamily or JournaledBook
    date : date or ISO str
    policy : {"raise", "reject"}
        "raise": the first bad trade raises and nothing of the batch is applied; "reject": bad
        trades are skipped and reported (``FeedResult.status``), good ones applied. Off-hours
        trades are ignored under both (never an error).
    limit_rate : float
        Daily price-limit rate (0.30 since 2015-06-15).
    check_calendar : bool
        Use XKRX to check the day and its opening time (needs ``exchange-calendars``).
    validate : bool
        False skips the KRX checks (ids and prices are still checked): for benchmarks.
    session : SessionTimes, optional
        Another window than KRX's regular session (``date``, ``check_calendar`` and
        ``late_open`` are then not used for it): e.g. the extended hours of an indicative
        index (:class:`~kospi_fast.live.Publisher`). The official index always uses the default.
    """

    def __init__(self, book, date: object, *, policy: str = "raise", limit_rate: float = 0.30,
                 check_calendar: bool = True, late_open: bool | None = None, validate: bool = True,
                 session: SessionTimes | None = None) -> None:
        if not callable(getattr(book, "_feed_validated", None)) or not hasattr(book, "reference_prices"):
            raise TypeError(f"`book` must be an index book (IndexEngine, IndexFamily or a JournaledBook of "
                            f"one), got {type(book).__name__}")
        if not getattr(book, "exact", True):
            raise ValueError("`book` is a float64 book (exact=False): a TradingDay applies KRX's rules (integer won "
                             "prices on the tick grid, ±30% limits); feed a float64 book with update_many")
        self.book = book
        if session is None:
            self.session = session_times(date, late_open=late_open, check_calendar=check_calendar)
        elif not isinstance(session, SessionTimes):
            raise TypeError(f"`session` must be a SessionTimes, got {type(session).__name__}")
        else:  # another session of the day (e.g. an indicative extended-hours series)
            self.session = session
        self.policy = _check_policy(policy)
        self.validate = bool(validate)
        self.limit_rate = _validation.positive_float(limit_rate, "limit_rate")
        self._halted_ids: set[int] = set()
        self._halts_version = 0
        self._rules_key: tuple | None = None
        self._rules: DayRules | None = None
        self._thresholds, self._ticks, self._grid = _tick_rules(self.session.date)
        # the feed state shared by batches and single trades (latest time, counts per status,
        # the first print not final yet) lives in the single-trade kernel
        self._single = _session.SingleTrade(book, self._refresh_single, self._due, self._one_as_batch,
                                            self._reject_one, self.policy == "raise")
        self.start_levels = np.asarray(book.levels, dtype=np.float64).copy()
        # every index's level on the publication grid at 1 s (every KRX grid is a subset of it):
        # per-trade levels are kept as batches arrive and sampled when the series is read; a
        # family's kernel samples its prints itself (rows)
        self._prints = StepSampler(self.start_levels, grid=sampling_grid(self.session))
        self._single.next_print = self._next_due()

    @property
    def _last_time(self) -> int:
        """The latest trade time seen (ns; -1 before any)."""
        return int(self._single.last_time)

    @property
    def counts(self) -> dict[str, int]:
        """{reason: number of trades} of the day so far, batches and single trades."""
        c = self._single.counts
        return {STATUS[k]: int(c[k]) for k in np.flatnonzero(c).tolist()}

    def __repr__(self) -> str:
        last = f", last trade {format_clock(self._last_time)}" if self._last_time >= 0 else ", no trade yet"
        book = type(self.book).__name__
        names = self.book.names
        what = names[0] if len(names) == 1 else f"{len(names)} indices"
        return (f"TradingDay({self.session.date.isoformat()}, {book} of {what}, policy={self.policy!r}"
                f"{last}, {len(self._halted_ids)} halted)")

    @property
    def engine(self):
        """The book (older name, from when a day took an IndexEngine only)."""
        return self.book

    @property
    def start_level(self) -> float:
        """The first index's level when the day was made (the KOSPI of a KOSPI book)."""
        return float(self.start_levels[0])

    # halts ------------------------------------------------------------------------------
    def halt(self, code: object = None, *, id: object = None) -> None:  # noqa: A002 - the stock id
        """Trading halt: later trades of this stock are rejected; it stays at its last price.
        Name the stock by its code (a str), or by its row with ``id=`` (an integer code is
        refused: it may be a code whose leading zeros were lost)."""
        self._halted_ids.add(self._id(code, id))
        self._halts_version += 1
        self._single.stale = True

    def resume(self, code: object = None, *, id: object = None) -> None:  # noqa: A002 - the stock id
        """End a halt: the stock trades again under the day's rules (``code`` or ``id=``, as
        :meth:`halt`)."""
        self._halted_ids.discard(self._id(code, id))
        self._halts_version += 1
        self._single.stale = True

    @property
    def halted(self) -> tuple[str, ...]:
        """Codes of the stocks halted now."""
        codes = self.book.universe.codes
        return tuple(codes[i] for i in sorted(self._halted_ids))

    def _id(self, code: object, stock_id: object) -> int:
        u = self.book.universe
        if (code is None) == (stock_id is None):
            raise TypeError(f"name the stock by its code or by `id=`, exactly one, got code={code!r}, id={stock_id!r}")
        return u.id_of(code) if stock_id is None else u.check_id(stock_id)

    # feeding ----------------------------------------------------------------------------
    def _batch(self, times: object, ids: object, prices: object, policy: str | None):
        """A batch checked at the boundary (one home for :meth:`feed` and :meth:`check`): the
        policy, and the times, ids and prices as the kernels take them."""
        pol = self.policy if policy is None else _check_policy(policy)
        ids_a, prices_a = prepare_ticks(ids, prices, len(self.book.universe), "prices")
        t = _validation.int64_array(times, "times", allow_float=False)
        _validation.check_same_length(t, "times", prices_a, "prices")
        _check_clock(t)
        return pol, t, ids_a, prices_a

    def feed(self, times: object, ids: object, prices: object, *, policy: str | None = None, threads: int = 1,
             out: np.ndarray | None = None) -> FeedResult:
        """Apply a batch of timestamped trades under the day's rules.

        Parameters
        ----------
        times : array_like of int64, shape (n,)
            ns since midnight KST, non-decreasing.
        ids, prices : array_like, shape (n,)
        policy : {"raise", "reject"}, optional
            This batch's policy (default: the day's).
        threads : int
            1 (default): one thread. 2 (or more: at most 2 are used) lets a batch under policy
            "raise" of an :class:`~kospi_fast.IndexEngine` book check the rules on a second
            core while the batch is applied on a scratch copy, committed only when every trade
            passed; the same results, errors and book as one thread. Below a batch size where
            it stops paying, under "reject", and for other books it runs on one thread.
        out : ndarray of float64, shape (n,), optional
            Write the per-trade levels here (C-contiguous, writeable, sharing no memory with the
            inputs) and return it as ``FeedResult.levels``: for a one-index IndexEngine book.
            On an error ``out`` may be partly written.

        Returns
        -------
        FeedResult

        Raises
        ------
        ValueError
            With policy "raise", on the first rejected trade (its position, values and reason);
            the book and the day are then unchanged.
        """
        pol, t, ids_a, prices_a = self._batch(times, ids, prices, policy)
        n_threads = _validation.thread_count(threads)
        out = _validation.out_array(out, (t.shape[0],), (t, ids_a, prices_a))
        rules = self.rules()
        self._sync_prints()
        # the prints this batch can make final (a view of the grid; the kernel samples them while
        # it applies the trades): a print is final once a trade stamped after it has come
        sample_times = self._prints.open_times(int(t[0])) if t.shape[0] else _NO_TIMES
        bad, status, counts, last, levels, rows = self.book._feed_validated(
            t, ids_a, prices_a, rules, self._last_time, pol == "raise", sample_times, n_threads, out)
        if bad != -1:
            raise _rejected(int(bad), t, ids_a, prices_a, status, "; nothing of the batch was applied")
        self._single.last_time = int(last)
        final = self.book.levels  # a fresh array (every book's `levels` is a copy)
        # final now: the prints before the latest trade time seen (no later trade is stamped
        # before it: one would be rejected as out of order)
        self._prints.feed_rows(sample_times, rows, until=self._last_time, after=final)
        self._single.next_print = self._next_due()
        self._single.add_counts(counts)
        return FeedResult(levels, status, counts, final)

    def on_trade(self, time_ns: int, code_or_id: str | int, price: int) -> int:
        """Apply one trade under the day's rules; return its status code (:data:`STATUS`).

        The same checks, statuses and prints as :meth:`feed` of a batch of one, without any
        array: for a feed handled trade by trade. An :class:`~kospi_fast.IndexEngine` book takes
        the compiled path (a few hundred ns from Python); any other book (a family, a journaled
        book) goes through :meth:`feed` with one trade.

        Parameters
        ----------
        time_ns : int
            ns since midnight KST, not before the previous trade's (else ``OUT_OF_ORDER``).
        code_or_id : str or int
            A str is a stock code (an unknown code is ``BAD_ID``); an int is always a row id of
            the universe, never a code (a code read as a number has lost its leading zeros:
            pass codes as str).
        price : int
            Won.

        Returns
        -------
        int
            ``APPLIED`` (0), ``IGNORED`` (1, off-hours) or, with policy "reject", the code of
            the reason the trade was rejected (nothing applied).

        Raises
        ------
        TypeError
            ``time_ns``, ``code_or_id`` or ``price`` of the wrong kind (e.g. a float).
        ValueError
            ``time_ns`` outside 06:00-24:00 (another time encoding); with policy "raise", a
            rejected trade (its values and reason; nothing changed).
        """
        return self._single.on_trade(time_ns, code_or_id, price)

    def advance_to(self, time_ns: int) -> None:
        """Declare that no trade stamped before ``time_ns`` will come (the wall clock of a
        live feed): the prints before it become final at the levels now, and a later trade
        stamped before it is out of order. Never moves back."""
        t = _clock_arg(time_ns)
        k = self._single
        if t > k.next_print:
            k.next_print = self._due(t)
        if t > k.last_time:
            k.last_time = t

    def _due(self, t: int) -> int:
        """The prints stamped before ``t`` are final at the levels now (no trade before ``t``
        is to come); returns the first print that is not final (``INT64_MAX`` past the close)."""
        s = self._prints
        times = s.open_times(until=t)
        lv = np.asarray(self.book.levels, dtype=np.float64)
        s.feed_rows(times, np.broadcast_to(lv, (times.shape[0], lv.shape[0])), until=t, after=lv)
        return self._next_due()

    def _next_due(self) -> int:
        g = self._prints.open_times()
        return int(g[0]) if g.shape[0] else _validation.INT64_MAX

    def _refresh_single(self) -> None:
        self.rules()  # installs them in the single-trade kernel when rebuilt
        if self._single.stale or self._single.version != getattr(self.book, "version", 0):
            self._install_single(self._rules)  # type: ignore[arg-type]

    def _install_single(self, r: DayRules) -> None:
        w = r.window
        self._single.set_rules(getattr(self.book, "version", 0), r.lower, r.upper, r.halted, r.thresholds,
                               r.ticks, r.grid, r.fast, w[0], w[1], w[2], w[3], _validation.INT64_MAX)

    def _one_as_batch(self, time_ns: object, code_or_id: object, price: object) -> int:
        """A single trade for a book without the compiled path: a batch of one."""
        if isinstance(code_or_id, str):
            i = self.book.universe.code_index.get(code_or_id, -1)
        elif isinstance(code_or_id, bool) or not isinstance(code_or_id, (int, np.integer)):
            raise TypeError(f"`code_or_id` must be a str code or an int id (an int is always an id), "
                            f"got {code_or_id!r}")
        else:
            i = int(code_or_id)
        if isinstance(time_ns, bool) or not isinstance(time_ns, (int, np.integer)):
            raise TypeError(f"`time_ns` must be an int of ns since midnight KST, got {time_ns!r}")
        if not EARLIEST_TRADE_NS <= int(time_ns) < DAY_NS:  # the kernel's message
            raise ValueError(f"`time_ns` = {time_ns!r} is not a KRX trade time in ns since midnight KST "
                             "(06:00 <= t < 24:00): it looks like another encoding")
        if isinstance(price, bool) or not isinstance(price, (int, np.integer)):
            raise TypeError(f"`price` must be an int number of won, got {price!r}")
        if not 0 <= i < len(self.book.universe):  # reported as the kernel would (an array can't hold it)
            return self._bad_one(int(time_ns), code_or_id, price, _session.BAD_ID)
        if not 0 < int(price) < 2**63:
            return self._bad_one(int(time_ns), code_or_id, price, _session.BAD_PRICE)
        res = self.feed(np.array([int(time_ns)], dtype=np.int64), np.array([i], dtype=np.int64),
                        np.array([int(price)], dtype=np.int64))
        return int(res.status[0])

    def _bad_one(self, t: int, code_or_id: object, price: object, st: int) -> int:
        _check_clock(np.array([t], dtype=np.int64))
        if t < self._last_time:
            st = _session.OUT_OF_ORDER
        elif not self.session.window[0] <= t <= self.session.window[1]:
            st = IGNORED
        if st != IGNORED and self.policy == "raise":
            self._reject_one(t, code_or_id, price, st)
        c = np.zeros(len(STATUS), dtype=np.int64)
        c[st] = 1
        self._single.add_counts(c)
        self.advance_to(t)
        return st

    def _reject_one(self, t: int, code_or_id: object, price: object, st: int) -> None:
        raise ValueError(f"trade (time {format_clock(int(t), digits=3)}, stock {code_or_id!r}, price {price!r}) "
                         f"rejected: {STATUS[int(st)]}; nothing was applied")

    def check(self, times: object, ids: object, prices: object, *, policy: str | None = None) -> FeedResult:
        """Classify a batch of timestamped trades under the day's rules without applying them
        (``status``, ``counts``; ``levels`` and ``final`` are None): for a caller that applies
        the accepted trades (``status == 0``) itself, e.g. a file replay. The day's clock and
        :attr:`counts` advance as with :meth:`feed`. With policy "raise" a rejected trade raises
        (its position, values and reason) and the day is unchanged."""
        pol, t, ids_a, prices_a = self._batch(times, ids, prices, policy)
        r = self.rules()
        status = np.empty(t.shape[0], dtype=np.uint8)
        counts = np.zeros(len(_session.STATUS_NAMES), dtype=np.int64)
        w = r.window
        bad, last = _session.classify(t, ids_a, prices_a, r.lower, r.upper, r.halted, r.thresholds, r.ticks, r.grid,
                                      r.fast, w[0], w[1], w[2], w[3], _validation.INT64_MAX, len(self.book.universe),
                                      self._last_time, status, counts, pol == "raise")
        if bad != -1:
            raise _rejected(int(bad), t, ids_a, prices_a, status)
        self._single.last_time = int(last)
        self._single.next_print = self._next_due()
        self._single.add_counts(counts)
        return FeedResult(None, status, counts, None)

    def rules(self) -> DayRules:
        """The kernel's per-stock bounds and day rules, rebuilt only when the book changed
        shape or limits (an event, a new listing), a halt or resume, or the overflow bound
        moved — not per batch: a live feed sends small batches, and rebuilding these arrays
        would cost more than the trades."""
        book = self.book
        pmax = _validation.INT64_MAX  # no price ceiling: the cap's overflow is checked exactly per trade
        n = len(book.universe)
        key = (getattr(book, "version", 0), n, self._halts_version)
        if self._rules_key != key:
            s = self.session
            win = (s.window[0], s.close_call, s.close, s.window[1])
            base = np.asarray(book.reference_prices, dtype=np.int64)
            lower, upper = krx.price_limits(base, date=s.date, rate=self.limit_rate)
            halted = np.zeros(n, dtype=np.uint8)
            halted[[i for i in self._halted_ids if i < n]] = 1
            th, ticks, grid = self._thresholds, self._ticks, self._grid
            # fold p > 0, the overflow bound and halts into the per-stock bounds (fast path)
            lower = np.where(halted != 0, _validation.INT64_MAX, np.maximum(lower, 1)).astype(np.int64)
            upper = np.minimum(upper, pmax).astype(np.int64)
            # the book's own price band (default KRX's ±30% too; (1, pmax) without one): the
            # limits are checked here once for both, an outside trade is "outside the limits"
            band_lo, band_hi = book.band_limits()
            lower = np.maximum(lower, band_lo)
            upper = np.minimum(upper, band_hi)
            if not self.validate:  # keep id/price/overflow checks and the book's band, drop KRX rules
                lower = np.maximum(band_lo, 1).astype(np.int64)
                upper = np.minimum(band_hi, pmax).astype(np.int64)
                th = np.full_like(th, _validation.INT64_MAX)
                grid = _ALL_ON
                win = (-(2**62), 2**62, 2**62, 2**62)
            # fast-path bounds per stock: lo <= p <= lo + span also keeps p inside the bitmap
            hi = np.minimum(upper, 8 * grid.shape[0] - 1)
            empty = hi < lower  # halted, or no price allowed: (INT64_MAX, 0) never passes
            fast = np.empty((n, 2), dtype=np.int64)
            fast[:, 0] = np.where(empty, _validation.INT64_MAX, lower)
            fast[:, 1] = np.where(empty, 0, hi - np.where(empty, 0, lower))
            self._rules = DayRules(np.ascontiguousarray(lower), np.ascontiguousarray(upper), halted, th, ticks,
                                   grid, fast, win)
            self._rules_key = key
            self._install_single(self._rules)
        return self._rules  # type: ignore[return-value]

    # outputs ----------------------------------------------------------------------------
    def series(self, interval_s: int = 10, *, index: str | None = None, **kwargs) -> PublishedSeries:
        """The day's published series so far on the KRX grid (10 s for KOSPI, 1 s for the
        KOSPI 200 family) of ``index`` (default: the book's first index); see
        :func:`published_series` for ``all_time_high`` and ``round_numbers``."""
        k = 0 if index is None else self.book.index_of(index)
        grid = publication_grid(self.session, interval_s)
        times, levels = self._sampled()  # every index, on the 1 s grid
        raw = levels[np.searchsorted(times, grid), k]
        return PublishedSeries.of(grid, raw, float(self.start_levels[k]), **kwargs)

    def _sampled(self) -> tuple[np.ndarray, np.ndarray]:
        """Every index's level on the 1 s publication grid so far (:meth:`StepSampler.read`),
        the prints not final yet at the levels now (single trades move the book between
        batches)."""
        self._sync_prints()
        return self._prints.read()

    def _sync_prints(self) -> None:
        """The sampler's latest level (what the prints not final yet read, and what a batch
        starting after some of them gives them) set to the book's now: single trades
        (:meth:`on_trade`) move the book without the sampler."""
        self._prints.feed_rows(_NO_TIMES, np.empty((0, self.start_levels.shape[0])), until=max(self._last_time, 0),
                               after=self.book.levels)


def sampling_grid(session: SessionTimes) -> np.ndarray:
    """The times the day samples its prints at: the 1 s publication grid (every KRX grid is a
    subset of it), except that the official close is sampled at the end of the closing
    auction's window (close + 30 s of random end), so the close print is the auction's result
    even when the auction matched after the close time (KRX's random end). Only the closing
    auction's trades are stamped in that window (continuous trading stopped at the closing
    call), so no other print changes. ``grid[k]`` of :func:`publication_grid` is printed with
    the value sampled at ``sampling_grid[k]``."""
    g = publication_grid(session, 1).copy()
    g[-1] = session.window[1]
    return g


_ALL_ON = np.full(GRID_BITMAP_PRICES // 8, 0xFF, dtype=np.uint8)
_NO_TIMES = np.empty(0, dtype=np.int64)


#: No KRX trade is stamped before this (the earliest session, pre-market, opens at 08:30).
EARLIEST_TRADE_NS = 6 * H


def _check_clock(t: np.ndarray) -> None:
    """Times are ns since midnight KST. A batch starting before 06:00 or ending after midnight is
    another encoding (epoch seconds/ms/ns, KRX HHMMSSfff integers), which the rules would
    otherwise ignore as off-hours in silence. Two reads per batch (a feed is in time order)."""
    if not t.shape[0]:
        return
    first, last = int(t[0]), int(t[-1])
    for k, x in ((0, first), (t.shape[0] - 1, last)):
        if not EARLIEST_TRADE_NS <= x < DAY_NS:
            raise ValueError(
                f"`times[{k}]` = {x} is not a KRX trade time in ns since midnight KST (06:00 <= t < 24:00): "
                "it looks like another encoding (epoch seconds/ms/ns, or KRX HHMMSSfff integers); convert "
                "the times to ns since midnight KST (kospi_fast.io.iter_ticks reads tick files in any of these "
                "encodings with time_format=, e.g. 'epoch-ms' or 'krx-hhmmssfff')")


def _check_policy(policy: object) -> str:
    if policy not in ("raise", "reject"):
        raise ValueError(f"`policy` must be 'raise' or 'reject', got {policy!r}")
    return str(policy)


__all__ = [
    "CSAT_DAYS", "DayRules", "FeedResult", "IndexEvent", "PublishedSeries", "STATUS", "SessionTimes", "TradingDay",
    "grid_times", "is_trading_day", "publication_grid", "published_series", "sampling_grid", "session_times",
]
