"""Publishing the index as it happens: :class:`Publisher` turns a stream of trades into KRX's
prints, one index at a time on its own grid, for callbacks and ``async for``.

One code path for replay and live. The trades go through a :class:`~kospi_fast.TradingDay`
(the KRX rules kernel: validation, application, and the sampling of every index on the 1 s
publication grid — the one home of the prints); the publisher only *emits* the prints that
the day has made final, on each index's grid (every 1 s for the KOSPI 200 family, every 10 s
for KOSPI, first print at open + 10 s, :func:`~kospi_fast.publish.print_interval_s`):

* driven by trade time (replay): a print is final once a trade stamped after it has come;
* driven by the clock (live): :meth:`Publisher.advance_to` says no trade stamped before a time
  will come, so the prints before it are due even when no trade came;
  :meth:`Publisher.run_clock` calls it from the wall clock.

The official close (the last print, at the close) is emitted once the closing auction's
window (close + 30 s of random end) has passed, or at :meth:`Publisher.close`.

KRX's multi-venue day (methodology 7.6): the official indices use KRX regular-session prices
only. Trades may carry a venue tag; trades of another venue (e.g. Nextrade, ``"NXT"``) never
reach the official series. With ``indicative=True`` a second, clearly labelled series
(``series="indicative"``, index names suffixed ``" (indicative)"``) runs over the extended
hours (08:00-20:00 by default) on a copy of the book from every venue's trades; it is never
mixed into the official one, and KRX publishes no such index.

Logs go to ``logging.getLogger("kospi_fast")``; nothing is printed.
"""

from __future__ import annotations

import datetime
import logging
import time as _time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kospi_fast import _session, _validation
from kospi_fast._clock import DAY_NS, NS_PER_S, kst_datetime, kst_now_ns, parse_clock
from kospi_fast.publish import print_interval_s, publication_grid, published
from kospi_fast.session import RANDOM_END_NS, SessionTimes, TradingDay, _clock_arg

__all__ = ["EXTENDED_HOURS", "OFFICIAL_VENUE", "MinuteBar", "Print", "Publisher"]

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger("kospi_fast")

#: The venue whose regular session makes the official indices.
OFFICIAL_VENUE = "KRX"
#: The indicative series' default window: NXT's pre-market open to the end of the after-markets.
EXTENDED_HOURS = ("08:00:00", "20:00:00")
INDICATIVE_SUFFIX = " (indicative)"


@dataclass(frozen=True, slots=True)
class Print:
    """One published print of one index.

    ``time`` is tz-aware (Asia/Seoul) with the date; ``time_ns`` the same instant in ns since
    midnight KST. ``level`` is the published level (half-up, 2 decimals), ``change`` and
    ``change_pct`` against the previous close. ``stale``: members without a trade in the
    ``stale_after_s`` seconds up to the print (never traded today included); ``halted``: members
    halted at the print. ``close`` marks the official close (the day's last print);
    ``series`` is ``"official"`` or ``"indicative"``.
    """

    index: str
    time: datetime.datetime  # tz-aware, Asia/Seoul
    time_ns: int
    level: float
    change: float
    change_pct: float
    stale: int
    halted: int
    members: int
    close: bool = False
    series: str = "official"

    def __repr__(self) -> str:
        flags = "".join([", close" if self.close else "", f", {self.series}" if self.series != "official" else ""])
        return (f"Print({self.index!r}, {self.time:%Y-%m-%d %H:%M:%S} KST, {self.level:,.2f} "
                f"({self.change_pct:+.2f}%), {self.stale} of {self.members} stale, {self.halted} halted{flags})")

    def to_dict(self) -> dict:
        """The print as JSON-ready plain data (``time`` in ISO 8601 with its +09:00 offset)."""
        return {"index": self.index, "time": self.time.isoformat(), "time_ns": self.time_ns,
                "level": self.level, "change": self.change, "change_pct": self.change_pct, "stale": self.stale,
                "halted": self.halted, "members": self.members, "close": self.close, "series": self.series}


@dataclass(frozen=True, slots=True)
class MinuteBar:
    """OHLC of one index's prints within one minute (``time``: the minute's start, tz-aware)."""

    index: str
    time: datetime.datetime  # the minute's start, tz-aware
    open: float
    high: float
    low: float
    close: float
    n_prints: int

    def __repr__(self) -> str:
        return (f"MinuteBar({self.index!r}, {self.time:%Y-%m-%d %H:%M} KST, open {self.open:,.2f}, "
                f"high {self.high:,.2f}, low {self.low:,.2f}, close {self.close:,.2f}, {self.n_prints} prints)")


class _Track:
    """One series of prints: a trading day over a book, and which of its 1 s grid rows each
    index prints on."""

    def __init__(self, day: TradingDay, indices: Sequence[str], intervals: dict[str, int], label: str,
                 stale_after_ns: int, suffix: str) -> None:
        self.day = day
        self.label = label
        book = day.book
        self.date = day.session.date
        self.grid = publication_grid(day.session, 1)
        self.close_due = int(day.session.window[1])  # the close print waits for the auction's end
        self.names = [n + suffix for n in indices]
        self.cols = [book.index_of(n) for n in indices]
        self.on_grid = [np.isin(self.grid, publication_grid(day.session, intervals[n])) for n in indices]
        self.members = [_member_ids(book, n) for n in indices]
        prev = np.asarray(getattr(book, "previous_levels", day.start_levels), dtype=np.float64)
        self.previous = [published(float(prev[k])) for k in self.cols]
        self.last_trade = np.full(len(book.universe), -(2**62), dtype=np.int64)
        self.codes = book.universe.code_index
        self.stale_after_ns = stale_after_ns
        self.emitted = 0  # rows of the 1 s grid emitted

    def halted_mask(self) -> np.ndarray:
        m = np.zeros(self.last_trade.shape[0], dtype=bool)
        ids = [i for i in self.day._halted_ids if i < m.shape[0]]
        m[ids] = True
        return m

    def rows(self, closing: bool) -> tuple[np.ndarray, np.ndarray]:
        """(print times, values) of the rows due now: final in the day's sampler (which samples
        the close at the end of its auction's window), or every row left when ``closing``."""
        if closing:
            values = self.day._sampled()[1]
        else:  # the day samples the close at the end of the auction's window (sampling_grid)
            values = self.day._prints.final(self.emitted)[1]
        values = values[self.emitted:] if closing else values
        return self.grid[self.emitted:self.emitted + values.shape[0]], values

    def make(self, times: np.ndarray, values: np.ndarray, trade_t: np.ndarray | None,
             trade_i: np.ndarray | None) -> list[Print]:
        """Prints of the rows ``times``/``values``; trades (applied, time order) not yet in
        ``last_trade`` are folded in up to each print's time (for its staleness)."""
        out: list[Print] = []
        halted = self.halted_mask()
        cut_prev = 0
        last_row = self.grid.shape[0] - 1
        # the time each row was sampled at: the close at the end of its auction's window
        sampled = times.copy()
        if times.shape[0] and self.emitted + times.shape[0] - 1 == last_row:
            sampled[-1] = self.close_due
        cuts = np.searchsorted(trade_t, sampled, side="right") if trade_t is not None else None
        for j in range(times.shape[0]):
            g = int(times[j])
            gs = int(sampled[j])
            if cuts is not None:
                c = int(cuts[j])
                if c > cut_prev:
                    self.last_trade[trade_i[cut_prev:c]] = trade_t[cut_prev:c]  # type: ignore[index]
                    cut_prev = c
            row = self.emitted + j
            for k in range(len(self.names)):
                if not self.on_grid[k][row]:
                    continue
                mem = self.members[k]
                level = published(float(values[j, self.cols[k]]))
                prev = self.previous[k]
                out.append(Print(
                    self.names[k], kst_datetime(self.date, g), g, level, round(level - prev, 2),
                    round(100.0 * (level - prev) / prev, 4),
                    int(np.count_nonzero(self.last_trade[mem] <= gs - self.stale_after_ns)),
                    int(np.count_nonzero(halted[mem])), int(mem.shape[0]), row == last_row, self.label))
        if trade_t is not None and cut_prev < trade_t.shape[0]:
            self.last_trade[trade_i[cut_prev:]] = trade_t[cut_prev:]  # type: ignore[index]
        self.emitted += times.shape[0]
        return out


def _member_ids(book: Any, name: str) -> np.ndarray:
    inner = getattr(book, "engine", book)  # a JournaledBook's book
    if hasattr(inner, "index_shares") and callable(inner.index_shares):  # IndexFamily
        return np.sort(np.asarray(inner.index_shares(name)[0], dtype=np.intp))
    return np.flatnonzero(np.asarray(inner.index_shares) > 0)


def _extended_session(date, start: object, end: object) -> SessionTimes:
    s, e = parse_clock(start), parse_clock(end)
    if not s < e <= DAY_NS - RANDOM_END_NS:
        raise ValueError(f"`extended_hours` must be a (start, end) with start < end, got {(start, end)!r}")
    return SessionTimes(date, s, e, e)  # no closing call


class Publisher:
    """Emits KRX's prints of a book's indices as trades come in, by trade time or by the clock.

    Parameters
    ----------
    book : IndexEngine, IndexFamily or JournaledBook
        Its indices' previous closes (``previous_levels``) give each print's change.
    date : date or ISO str
        The trading day (its session: :func:`~kospi_fast.session.session_times`).
    indices : sequence of str, optional
        The indices to print (default: every index of the book).
    intervals : dict of {str: int}, optional
        Print interval in seconds per index, overriding KRX's (1 s for the KOSPI 200 family,
        10 s otherwise).
    policy : {"reject", "raise"}
        As :class:`~kospi_fast.TradingDay`: "reject" (default, for a live feed) skips a bad
        trade and counts it; "raise" raises on it (nothing of its batch applied).
    stale_after_s : float
        A member is stale at a print when it has had no trade in this many seconds.
    indicative : bool
        Also run an indicative extended-hours series over every venue's trades (labelled;
        never mixed into the official series).
    extended_hours : (str, str)
        The indicative series' window (default 08:00-20:00).
    check_calendar, late_open
        As :class:`~kospi_fast.TradingDay`.

    Examples
    --------
    >>> import kospi_fast as kf
    >>> u = kf.sample_universe(); day = kf.simulate_day(u, seed=1)
    >>> pub = kf.Publisher(kf.IndexEngine(u, level=5781.20), day.date, check_calendar=False)
    >>> got = []
    >>> pub.on_print(got.append)
    >>> pub.feed(day.times, day.ids, day.prices); pub.close()
    >>> got[0].time.isoformat(), len(got), got[-1].close
    ('2026-03-23T09:00:10+09:00', 2340, True)
    """

    def __init__(self, book, date: object, *, indices: Sequence[str] | None = None,
                 intervals: dict[str, int] | None = None, policy: str = "reject", stale_after_s: float = 60.0,
                 indicative: bool = False, extended_hours: tuple[object, object] = EXTENDED_HOURS,
                 check_calendar: bool = True, late_open: bool | None = None) -> None:
        day = TradingDay(book, date, policy=policy, check_calendar=check_calendar, late_open=late_open)
        names = list(book.names) if indices is None else list(indices)
        if isinstance(indices, str) or not names:
            raise ValueError(f"`indices` must be a non-empty sequence of index names, got {indices!r}")
        for n in names:
            book.index_of(n)  # KeyError naming the known ones
        iv = {n: print_interval_s(n) for n in names}
        for n, v in (intervals or {}).items():
            if n not in iv:
                raise KeyError(f"`intervals` names {n!r}, which is not printed; printing {names}")
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"`intervals[{n!r}]` must be a positive int of seconds, got {v!r}")
            iv[n] = int(v)
        stale_ns = round(_validation.positive_float(stale_after_s, "stale_after_s") * NS_PER_S)
        self.day = day
        self.session = day.session
        self.intervals = iv
        self._tracks = [_Track(day, names, iv, "official", stale_ns, "")]
        self.indicative_day: TradingDay | None = None
        if indicative:
            shadow = type(book).from_state(book.to_state()) if hasattr(book, "to_state") else None
            if shadow is None:
                raise TypeError(f"an indicative series needs a book with to_state/from_state, got {type(book).__name__}")
            ext = _extended_session(day.session.date, *extended_hours)
            self.indicative_day = TradingDay(shadow, day.session.date, policy="reject", session=ext,
                                             limit_rate=day.limit_rate)
            self._tracks.append(_Track(self.indicative_day, names, iv, "indicative", stale_ns, INDICATIVE_SUFFIX))
        self._callbacks: list[Callable[[Print], object]] = []
        self._queues: list[asyncio.Queue] = []
        self._closed = False
        self.prints_emitted = 0
        self.other_venue = 0  # trades kept out of the official series (another venue)

    def __repr__(self) -> str:
        names = list(self.intervals)
        shown = ", ".join(f"{n} every {self.intervals[n]} s" for n in names[:3])
        more = f", ... ({len(names)} indices)" if len(names) > 3 else ""
        extra = ", indicative" if self.indicative_day is not None else ""
        state = "closed" if self._closed else "open"
        return (f"Publisher({self.session.date.isoformat()}, {shown}{more}{extra}; "
                f"{self.prints_emitted:,} prints emitted, {state})")

    # ------------------------------------------------------------------ subscribers
    def on_print(self, callback: Callable[[Print], object]) -> None:
        """Call ``callback(print)`` for every print from now on, in time order (an exception in a
        callback is logged and does not stop the others)."""
        if not callable(callback):
            raise TypeError(f"`callback` must be callable, got {callback!r}")
        self._callbacks.append(callback)

    async def prints(self) -> AsyncIterator[Print]:
        """``async for p in publisher.prints()``: every print from now on, until :meth:`close`.
        Emitted on the thread that feeds the publisher (run it in the event loop's thread)."""
        import asyncio  # lazily: importing kospi_fast does not import asyncio

        q: asyncio.Queue = asyncio.Queue()
        self._queues.append(q)
        try:
            while True:
                p = await q.get()
                if p is None:
                    return
                yield p
        finally:
            self._queues.remove(q)

    def _emit(self, prints: list[Print]) -> None:
        for p in prints:
            for cb in self._callbacks:
                try:
                    cb(p)
                except Exception:
                    log.exception("print callback %r failed on %s %s", cb, p.index, p.time)
            for q in self._queues:
                q.put_nowait(p)
        self.prints_emitted += len(prints)

    def _publish(self, track: _Track, trade_t: np.ndarray | None = None, trade_i: np.ndarray | None = None,
                 closing: bool = False) -> None:
        times, values = track.rows(closing)
        self._emit(track.make(times, values, trade_t, trade_i))

    # ------------------------------------------------------------------ halts
    def halt(self, code: object = None, *, id: object = None) -> None:  # noqa: A002 - the stock id
        """Trading halt of a stock (every series): its later trades are rejected, and it counts
        in the prints' ``halted``. The stock by its code (a str) or its row (``id=``), as
        :meth:`TradingDay.halt <kospi_fast.TradingDay.halt>`."""
        for track in self._tracks:
            track.day.halt(code, id=id)

    def resume(self, code: object = None, *, id: object = None) -> None:  # noqa: A002 - the stock id
        """End a halt (every series; ``code`` or ``id=``, as :meth:`halt`)."""
        for track in self._tracks:
            track.day.resume(code, id=id)

    # ------------------------------------------------------------------ input
    def feed(self, times: object, ids: object, prices: object, venues: object = None) -> None:
        """A batch of trades (time order; ids int, see :meth:`TradingDay.feed`), optionally with
        each trade's venue (str, e.g. ``"KRX"``/``"NXT"``; default all KRX). The prints it
        makes final are emitted before it returns."""
        self._check_open()
        t = _validation.int64_array(times, "times", allow_float=False)
        i = np.asarray(ids)
        p = np.asarray(prices)
        official = None
        if venues is not None:
            # a str array as is; anything else element by element (np.asarray would turn 5 into '5')
            v = venues if isinstance(venues, np.ndarray) and venues.dtype.kind == "U" else np.asarray(venues, dtype=object)
            if v.shape != t.shape:
                raise ValueError(f"`venues` must have one entry per trade ({t.shape[0]}), got shape {v.shape}")
            if v.dtype.kind != "U":
                for k, x in enumerate(v.tolist()):
                    if type(x) is not str:
                        raise TypeError(f"`venues[{k}]` must be a venue name (str, e.g. 'KRX', 'NXT'), got {x!r}")
            official = v == OFFICIAL_VENUE
            self.other_venue += int(t.shape[0] - np.count_nonzero(official))
        if self.indicative_day is not None:
            self._feed_track(self._tracks[1], t, i, p)
        if official is not None and not official.all():
            t, i, p = t[official], i[official], p[official]
        self._feed_track(self._tracks[0], t, i, p)

    def _feed_track(self, track: _Track, t: np.ndarray, i: np.ndarray, p: np.ndarray) -> None:
        res = track.day.feed(t, i, p)
        ok = res.status == _session.APPLIED
        ti = np.asarray(i, dtype=np.intp)
        self._publish(track, t[ok] if not ok.all() else t, ti[ok] if not ok.all() else ti)

    def on_trade(self, time_ns: int, code_or_id: str | int, price: int, venue: str = OFFICIAL_VENUE) -> int:
        """One trade (:meth:`TradingDay.on_trade`: a str is a code, an int an id); returns the
        official day's status code (``-1`` for a trade of another venue, kept out of it)."""
        if self._closed:
            self._check_open()
        if type(venue) is not str:
            raise TypeError(f"`venue` must be a venue name (str, e.g. 'KRX', 'NXT'), got {venue!r}")
        st = -1
        for track in self._tracks:
            if venue != OFFICIAL_VENUE and track.label == "official":
                self.other_venue += 1
                continue
            k = track.day._single
            before = k.next_print
            s = k.on_trade(time_ns, code_or_id, price)
            # new prints are final exactly when the day moved its next print (or the close is due)
            if k.next_print != before:
                self._publish(track)
            if s == 0:  # APPLIED
                row = code_or_id if type(code_or_id) is not str else track.codes[code_or_id]
                track.last_trade[row] = time_ns  # type: ignore[index]
            if track.label == "official":
                st = s
        return st

    def advance_to(self, time_ns: int) -> None:
        """No trade stamped before ``time_ns`` (ns since midnight KST) will come: the prints
        before it are emitted, even when no trade came (the wall clock of a live feed)."""
        self._check_open()
        t = _clock_arg(time_ns if isinstance(time_ns, bool) or not isinstance(time_ns, (int, np.integer))
                      else min(int(time_ns), DAY_NS))  # a time after midnight: the day is over
        for track in self._tracks:
            track.day.advance_to(t)
            self._publish(track)

    def now_ns(self) -> int:
        """The wall clock as ns since midnight KST of the publisher's date."""
        return kst_now_ns(self.session.date, _time.time_ns())

    async def run_clock(self, *, clock: Callable[[], int] | None = None, lag_s: float = 0.0,
                        sleep: Callable[[float], object] | None = None) -> None:
        """Drive the publisher by the wall clock until the day is over: at each print time (plus
        ``lag_s``, the feed's delay), :meth:`advance_to` it, so a print is due even when no trade
        came; then :meth:`close`. ``clock()``: ns since midnight KST (default :meth:`now_ns`)."""
        import asyncio

        clock = clock or self.now_ns
        sleep = sleep or asyncio.sleep
        lag = round(float(lag_s) * NS_PER_S)
        end = max(tr.close_due for tr in self._tracks)
        while not self._closed:
            now = int(clock()) - lag
            if now > end:
                self.advance_to(end + 1)
                break
            self.advance_to(now)
            nxt = min((int(tr.grid[tr.emitted]) for tr in self._tracks if tr.emitted < tr.grid.shape[0]),
                      default=end)
            wait = max(nxt + 1 - now, 1_000_000) / NS_PER_S  # at least 1 ms
            await sleep(min(wait, 1.0))  # type: ignore[misc]
        if not self._closed:
            self.close()

    def close(self) -> None:
        """End the day: every print not emitted yet (the close included) is emitted at the
        levels now, and ``prints()`` iterators end. Idempotent."""
        if self._closed:
            return
        for track in self._tracks:
            self._publish(track, closing=True)
        self._closed = True
        for q in self._queues:
            q.put_nowait(None)
        log.info("publisher closed: %d prints, counts %s", self.prints_emitted, self.day.counts)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the publisher is closed (the day is over)")

    # ------------------------------------------------------------------ reading
    @property
    def closed(self) -> bool:
        return self._closed

    def minute_bars(self, index: str | None = None, *, series: str = "official") -> list[MinuteBar]:
        """OHLC of each minute of an index's published prints emitted so far (default: the
        first index): ``time`` is the minute's start; a print at hh:mm:00 opens its minute."""
        track = self._tracks[0] if series == "official" else self._tracks[-1]
        if series not in ("official", "indicative") or (series == "indicative" and len(self._tracks) < 2):
            raise ValueError(f"`series` must be 'official' or (with indicative=True) 'indicative', got {series!r}")
        name = track.names[0] if index is None else index
        if name not in track.names:
            raise KeyError(f"unknown index {name!r}; printing {track.names}")
        k = track.names.index(name)
        values = track.day._sampled()[1]
        n = track.emitted
        sel = np.flatnonzero(track.on_grid[k][:n])
        t, lv = track.grid[sel], values[sel, track.cols[k]]
        bars: list[MinuteBar] = []
        minute = t // (60 * NS_PER_S)
        for m in np.unique(minute).tolist():
            v = [published(float(x)) for x in lv[minute == m]]
            bars.append(MinuteBar(name, kst_datetime(track.date, m * 60 * NS_PER_S), v[0], max(v), min(v), v[-1],
                                  len(v)))
        return bars
