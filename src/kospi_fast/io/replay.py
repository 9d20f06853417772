"""The replay of tick batches through any index book (see :mod:`kospi_fast.io`); the grids
(``parse_step``, ``publication_times``) and the sampler it uses live in :mod:`kospi_fast.publish`.

The replay loop speaks the book protocol only (:class:`~kospi_fast.book.IndexBook`): an
:class:`~kospi_fast.IndexEngine`, an :class:`~kospi_fast.IndexFamily` or a
:class:`~kospi_fast.JournaledBook` around either is advanced with ``update_many`` and read
through ``levels``, ``previous_levels``, ``recompute_levels`` and ``to_state``; ``index=``
picks which of the book's indices the result follows.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kospi_fast._optional import require
from kospi_fast._validation import iso_date
from kospi_fast.io._common import (
    CLOSE_NS,
    DEFAULT_BATCH,
    KST_OFFSET_NS,
    NS_PER_S,
    file_format,
    format_clock,
    parse_clock,
)
from kospi_fast.io.formats import TickFormat, tick_format
from kospi_fast.io.ticks import TickBatch, _write_table_batches, iter_ticks
from kospi_fast.publish import (  # noqa: F401 - the grids', the sampler's and the summary's home; re-exported
    DaySummary,
    StepSampler,
    SummaryView,
    _day_line,
    parse_step,
    publication_times,
    published,
)
from kospi_fast.session import APPLIED, IGNORED, STATUS
from kospi_fast.universe import Universe


__all__ = ["ReplayResult", "replay_batches", "replay_file"]

# =========================================================================== replay
@dataclass(eq=False)
class ReplayResult(SummaryView):
    """What a replay did: the day's :class:`~kospi_fast.publish.DaySummary` (``summary``:
    OHLC with times, the grid series, each stock's contribution) and how the run went.

    The summary's attributes and methods read as the result's own (``res.open``,
    ``res.high_time``, ``res.grid_levels``, ``res.points``, ``res.sector_points()``, ...; see
    :class:`~kospi_fast.publish.SummaryView`). Beside it: ``chart_times`` / ``chart_levels``,
    a 1-second series for plotting; ``seconds`` / ``kernel_seconds``, the wall and kernel
    time; ``exact``, the level equals a full recompute; with ``grid='tick'`` and
    ``keep_ticks``, each tick's ``tick_codes`` / ``tick_prices``; ``source``, the file.
    """

    summary: DaySummary
    seconds: float
    kernel_seconds: float
    exact: bool
    chart_times: np.ndarray = field(repr=False)
    chart_levels: np.ndarray = field(repr=False)
    tick_codes: np.ndarray | None = field(default=None, repr=False)
    tick_prices: np.ndarray | None = field(default=None, repr=False)
    source: str = ""
    checks: dict[str, int] | None = None  # trades per status of the KRX checks (None: unchecked)

    @property
    def rejected(self) -> dict[str, int]:
        """{reason: trades} of the trades the KRX checks refused (not applied; off-hours trades,
        ignored, are not among them); empty when the replay was unchecked."""
        return {k: v for k, v in (self.checks or {}).items() if k not in (STATUS[APPLIED], STATUS[IGNORED])}

    def __repr__(self) -> str:
        src = f", source {Path(self.source).name!r}" if self.source else ""  # the file name: one line
        return (f"ReplayResult({_day_line(self.summary)}; {self.seconds * 1e3:,.1f} ms, "
                f"exact={self.exact}{src})")

    @property
    def ticks_per_second(self) -> float:
        return self.n_ticks / self.seconds if self.seconds > 0 else float("inf")

    def to_frame(self, *, date: object = None):
        """The sampled level series as a pandas DataFrame: ``time`` (int64 ns since midnight
        KST), ``clock`` ('HH:MM:SS'), ``level`` (float64, exact), ``published`` (2 decimals,
        half-up); with ``date``, a ``timestamp`` column (tz Asia/Seoul); per tick also
        ``code`` and ``price`` when they were kept."""
        pd = require("pandas", "io", what="ReplayResult.to_frame")
        return pd.DataFrame(_series_columns(self, date, as_numpy=True))

    def write(self, path: str | Path, *, format: str | None = None, date: object = None) -> Path:
        """Write the sampled series (see :meth:`to_frame`) to Parquet / CSV / Arrow by suffix."""
        pa = require("pyarrow", "io", what="ReplayResult.write")
        path = Path(path)
        fmt = file_format(path, format)
        table = pa.table(_series_columns(self, date, as_numpy=False))
        _write_table_batches(path, fmt, table.schema, table.to_batches())
        return path


def _series_columns(res: ReplayResult, date: object, *, as_numpy: bool) -> dict:
    pa = None if as_numpy else require("pyarrow", "io", what="ReplayResult.write")
    t = res.grid_times
    cols: dict = {"time": t}
    if date is not None:
        d = iso_date(date)
        midnight_utc = int(np.datetime64(d, "ns").astype(np.int64)) - KST_OFFSET_NS
        if as_numpy:
            pd = require("pandas", "io", what="ReplayResult.to_frame")
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
        cols["published"] = res.grid_published
    return cols


class _TickWriter:
    """Per-tick levels streamed to a file as batches arrive (time, code, price, level), in any
    container of :data:`kospi_fast.io.formats.TICK_FORMATS`."""

    def __init__(self, path: Path, fmt: TickFormat, universe: Universe) -> None:
        pa = require("pyarrow", "io", what="writing the per-tick levels")
        self.pa = pa
        self.dictionary = pa.array(universe.codes, type=pa.string())
        self.schema = pa.schema([("time", pa.int64()), ("code", pa.dictionary(pa.int32(), pa.string())),
                                 ("price", pa.int64()), ("level", pa.float64())])
        self.w = fmt.writer(path, self.schema)

    def write(self, b: TickBatch, levels: np.ndarray) -> None:
        pa = self.pa
        code = pa.DictionaryArray.from_arrays(pa.array(b.ids), self.dictionary)
        self.w.write_batch(pa.RecordBatch.from_arrays(
            [pa.array(b.times), code, pa.array(b.prices), pa.array(levels)], schema=self.schema))

    def close(self) -> None:
        self.w.close()


def _followed(book: Any, index: str | None) -> tuple[str, int]:
    """The name and position of the index a replay follows in ``book`` (default: its first)."""
    names = getattr(book, "names", None)
    if not isinstance(names, tuple) or not callable(getattr(book, "update_many", None)):
        raise TypeError(f"`book` must be an index book (IndexEngine, IndexFamily, or a JournaledBook around "
                        f"one), got {type(book).__name__}; build one from the universe, e.g. "
                        "LoadedUniverse.engine(level=...)")
    if index is not None and not isinstance(index, str):
        raise TypeError(f"`index` must be an index name (str) or None, got {index!r}")
    name = names[0] if index is None else index
    return name, book.index_of(name)


def replay_batches(
    batches: Iterable[TickBatch],
    book: Any,
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
    day: Any = None,
) -> ReplayResult:
    """Run tick batches through an index book and summarise the day of one of its indices
    (see :func:`replay_file`)."""
    name, k = _followed(book, index)
    if day is not None and (not callable(getattr(day, "check", None)) or getattr(day, "book", None) is not book):
        raise TypeError(f"`day` must be a kospi_fast.TradingDay of this book, got {day!r}")
    universe = book.universe
    step = parse_step(grid)
    grid_name = "tick" if step is None else str(grid)
    start_level = float(book.levels[k])
    previous_close = float(book.previous_levels[k])
    sampler = None if step is None else StepSampler(start_level, step=step, start=parse_clock(grid_start),
                                                    end=parse_clock(grid_end))
    chart = StepSampler(start_level, step=NS_PER_S, end=CLOSE_NS)  # anchored at the first tick's second
    writer = None
    if out is not None and step is None:
        out = Path(out)
        writer = _TickWriter(out, tick_format(out, out_format), universe)
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
                if day is not None:  # the KRX checks first: only the accepted trades are applied
                    status = day.check(b.times, b.ids, b.prices).status
                    if not (status == APPLIED).all():
                        keep = status == APPLIED
                        b = TickBatch(b.offset, b.times[keep], b.ids[keep], b.prices[keep],
                                      None if b.volumes is None else b.volumes[keep])
                        m = len(b)
                        if m == 0:
                            if on_batch is not None:
                                on_batch(len(status))
                            continue
                out_levels = book.update_many(b.ids, b.prices)
            except ValueError as exc:
                raise ValueError(f"{source or 'ticks'}: in ticks {b.offset}..{b.offset + m - 1}: {exc}") from None
            # one level per trade (IndexEngine) or one row of K levels per trade: this index's column
            levels = np.ascontiguousarray(np.asarray(out_levels).reshape(m, -1)[:, k])
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
                on_batch(m if day is None else len(status))
    finally:
        if writer is not None:
            writer.close()
    seconds = _time.perf_counter() - t0
    close = float(book.levels[k])
    exact = bool(close == book.recompute_levels()[k])
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
    state = book.to_state()
    prices, ref = state.prices, state.reference_prices
    shares, divisor = state.index_shares[k], float(state.divisors[k])
    points = (prices - ref).astype(np.float64) * shares / divisor
    pct = 100.0 * (prices / ref - 1.0)
    summary = DaySummary(
        index=name, previous_close=previous_close, start_level=start_level,
        open=open_level, open_time=first_time or 0, high=hi, high_time=hi_t, low=lo, low_time=lo_t,
        close=close, close_time=last_time, n_ticks=n, volume=vol_total,
        grid=grid_name, grid_times=gt, grid_levels=gl,
        universe=state.universe, points=points, pct=pct, member=shares > 0,
    )
    result = ReplayResult(
        summary=summary, seconds=seconds, kernel_seconds=kernel, exact=exact, chart_times=ct, chart_levels=cl,
        tick_codes=np.concatenate(keep_i) if keep_ticks and keep_i else None,
        tick_prices=np.concatenate(keep_p) if keep_ticks and keep_p else None,
        source=source, checks=None if day is None else dict(day.counts),
    )
    if out is not None and step is not None:
        result.write(out, format=out_format)
    return result


def replay_file(
    path: str | Path,
    book: Any,
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
    time_format: str = "auto",
    tz: str = "Asia/Seoul",
    check_session: bool = True,
    day: Any = None,
) -> ReplayResult:
    """Stream a tick file through an index book batch by batch and summarise the day of one
    of its indices.

    The levels are exactly those of :func:`kospi_fast.replay` on the whole arrays (the running
    cap is an exact integer, so batching changes nothing).

    Parameters
    ----------
    path : path to a .parquet / .csv / .arrow tick file (see :func:`iter_ticks`)
    book : IndexEngine, IndexFamily or JournaledBook
        Calibrated and at the day's starting prices; it is advanced by the ticks (every index
        of a family moves; a JournaledBook journals each batch it applies).
    index : str, optional
        The name of the index the result follows (default: the book's first, ``book.names[0]``);
        ``KeyError`` naming the book's indices when it has no such index.
    grid : 'tick' or a step such as '10s' (default, KOSPI's publication grid from 09:00:10)
        or '1s' (KOSPI 200's)
    out : path, optional
        Write the series: per tick (time, code, price, level; streamed as it is computed) with
        ``grid='tick'``, else the grid (time, clock, level, published). Format by suffix
        (.parquet, .csv, .arrow) or ``out_format``.
    keep_ticks : bool
        With ``grid='tick'``, keep the per-tick series in the result (memory: ~28 bytes a tick).
    format, batch_size, columns, time_format, tz, check_session :
        See :func:`iter_ticks` (``time_format``: how the time column is encoded, e.g.
        ``'epoch-ms'`` or ``'krx-hhmmssfff'``; ``tz``: the zone of naive timestamps).
    on_batch : callable(int), optional
        Called with the number of ticks after each batch (progress bars).
    grid_start, grid_end : 'HH:MM:SS'
        Grid bounds (default 09:00:10 .. 15:30:00; extended to the last tick if later).
    day : TradingDay, optional
        A :class:`~kospi_fast.TradingDay` of ``book``: every trade is first checked under KRX's
        rules (:meth:`TradingDay.check`: session, order, halts, tick grid, daily limits and the
        book's price band); under its policy "reject" only the accepted trades are applied and
        the rest counted by reason (``ReplayResult.checks`` / ``rejected``), under "raise" the
        first rejected trade raises. Without it every trade is applied as given.

    Returns
    -------
    ReplayResult

    Raises
    ------
    FileNotFoundError, ValueError, KeyError, TypeError
        From :func:`iter_ticks`, or a tick the book rejects; ticks before the bad batch have
        been applied to ``book``.
    """
    _followed(book, index)  # a wrong book or index fails before the file is opened
    batches = iter_ticks(path, book.universe, format=format, batch_size=batch_size, columns=columns,
                         time_format=time_format, tz=tz, check_session=check_session)
    return replay_batches(batches, book, index=index, grid=grid, out=out, out_format=out_format,
                          keep_ticks=keep_ticks, on_batch=on_batch, source=str(path),
                          grid_start=grid_start, grid_end=grid_end, day=day)

