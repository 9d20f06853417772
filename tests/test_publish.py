"""kospi_fast.publish: the grids, the step-function sampler against a slow twin (every way in:
per-trade batches, deferred or not, kernel-sampled rows, reads mid-stream; explicit,
fixed and lazily anchored arithmetic grids; one or K step functions), published_series."""

from __future__ import annotations

import doctest
from types import SimpleNamespace

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import io, publish, session
from kospi_fast.publish import (
    StepSampler,
    grid_times,
    parse_step,
    publication_grid,
    publication_times,
)

NS = 10**9


def test_docstring_examples():
    result = doctest.testmod(publish, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_one_home_for_grids_and_sampling():
    # the old homes re-export the one implementation
    assert session.grid_times is grid_times and session.publication_grid is publication_grid
    assert session.published_series is publish.published_series
    assert session.PublishedSeries is publish.PublishedSeries and session.IndexEvent is publish.IndexEvent
    assert io.parse_step is parse_step and io.publication_times is publication_times


# --------------------------------------------------------------------------- grids
def test_grid_times():
    assert grid_times(0, 30, 10).tolist() == [0, 10, 20, 30]
    assert grid_times(0, 30, 10, close=True).tolist() == [0, 10, 20, 30]  # the close on the grid: once
    assert grid_times(0, 29, 10, close=True).tolist() == [0, 10, 20, 29]
    assert grid_times(5, 4, 1).tolist() == [] and grid_times(5, 4, 1).dtype == np.int64
    assert grid_times(5, 4, 1, close=True).tolist() == [4]
    with pytest.raises(ValueError, match="step_ns"):
        grid_times(0, 10, 0)


def test_publication_grid_takes_any_session_like():
    s = SimpleNamespace(first_print=9 * 3600 * NS + 10 * NS, close=15 * 3600 * NS + 1800 * NS)
    g = publication_grid(s, 10)
    assert len(g) == 2340 and g[0] == s.first_print and g[-1] == s.close
    odd = publication_grid(s, 7)  # the close off the 7 s step: printed once more at the end
    assert odd[-1] == s.close and (np.diff(odd[:-1]) == 7 * NS).all() and odd[-1] - odd[-2] < 7 * NS
    for bad in (0, -1, 2.5, True, "10"):
        with pytest.raises(ValueError, match="interval_s"):
            publication_grid(s, bad)


def test_publication_times_and_steps():
    assert publication_times("1s").shape == (23391,)
    assert publication_times("1m", start="09:00:00", end="09:03:30").tolist() == [
        (9 * 3600 + 60 * k) * NS for k in range(4)]
    assert parse_step("10s") == 10 * NS and parse_step("1.5s") == 1_500_000_000 and parse_step(" TICK ") is None
    assert parse_step(None) is None and parse_step(np.float64(0.25)) == NS // 4 and parse_step("2min") == 120 * NS
    for bad in ("0ms", "-1s", "1h", True, 0):
        with pytest.raises(ValueError, match="grid"):
            parse_step(bad)
    with pytest.raises(ValueError, match="needs a step"):
        publication_times("tick")
    with pytest.raises(ValueError, match="before"):
        publication_times(start="10:00", end="09:00")


# --------------------------------------------------------------------------- the sampler
def twin(trades, initial, *, grid=None, step=None, start=None, end=None):
    """The slow twin: (times, values) from every trade fed so far, in plain Python."""
    ts = [t for t, _ in trades]
    if grid is not None:
        points = list(grid)
    else:
        s = start if start is not None else (ts[0] // step * step if ts else end)
        points = []
        if s is not None:
            hi = end if end is not None else None
            if ts and ts[-1] > s:  # on to the first grid time at or after the last trade
                ext = s + -(-(ts[-1] - s) // step) * step
                hi = ext if hi is None else max(hi, ext)
            p = s
            while hi is not None and p <= hi:
                points.append(p)
                p += step
    values = []
    for g in points:
        v = initial
        for t, lv in trades:
            if t <= g:
                v = lv
        values.append(v)
    return points, values


def make_batches(rng, n, k, t_lo, t_hi):
    """Sorted trade times (many repeats, so batches split inside a timestamp) and levels."""
    t = np.sort(rng.integers(t_lo, t_hi, n)).astype(np.int64)
    t[rng.random(n) < 0.3] = 0
    t = np.maximum.accumulate(np.where(t == 0, t_lo, t))  # runs of equal times
    lv = 100 + rng.normal(0, 1, (n, k) if k else n)
    cuts = np.sort(rng.choice(np.arange(1, n), min(n - 1, int(rng.integers(0, 12))), replace=False)) if n > 1 else []
    return [(t[a:b], lv[a:b]) for a, b in zip([0, *cuts], [*cuts, n])]


GRIDS = [
    {"grid": np.arange(0, 1000, 37, dtype=np.int64)},
    {"grid": np.array([5, 5, 100, 400, 999], dtype=np.int64)},  # a repeated time
    {"grid": np.array([], dtype=np.int64)},
    {"step": 50, "start": 100, "end": 600},
    {"step": 50, "start": 100, "end": 50},  # end before start: only what the trades extend to
    {"step": 30, "end": 400},  # lazily anchored (the replay's 1 s chart)
    {"step": 30, "end": None},
    {"step": 7, "start": 1200, "end": 1300},  # every trade before the grid
]


@pytest.mark.parametrize("spec", range(len(GRIDS)))
@pytest.mark.parametrize("k", [0, 1, 3])
@pytest.mark.parametrize("seed", range(6))
def test_sampler_against_its_twin(spec, k, seed):
    rng = np.random.default_rng(seed * 100 + spec * 10 + k)
    kw = GRIDS[spec]
    initial = 100.0 if k == 0 else 100.0 + np.arange(k, dtype=float)
    n = int(rng.choice([0, 1, 5, 60, 400]))
    batches = make_batches(rng, n, k, 0, 1000) if n else []
    explicit = "grid" in kw
    samplers = {mode: StepSampler(initial, **kw) for mode in ("eager", "rows")}
    fed = []

    def check():
        for mode, s in samplers.items():
            tw_t, tw_v = twin(fed, initial, **kw)
            got_t, got_v = s.read()
            assert got_t.dtype == np.int64 and got_t.tolist() == tw_t, mode
            assert got_v.shape == ((len(tw_t),) if k == 0 else (len(tw_t), k)), mode
            assert got_v.tolist() == [np.asarray(v).tolist() for v in tw_v] if tw_v else got_v.size == 0, mode

    for t, lv in batches:
        rows_sampler = samplers["rows"]
        anchored = explicit or kw.get("start") is not None or rows_sampler.last_time is not None
        if anchored and rng.random() < 0.7:  # a kernel samples the open grid times itself
            open_t = rows_sampler.open_times(int(t[0]), None if explicit else int(t[-1]))
            fed_now = fed + [(int(a), b) for a, b in zip(t.tolist(), lv.tolist())]
            rows = np.array(twin(fed_now, initial, grid=open_t.tolist())[1], dtype=float)
            rows = rows.reshape((len(open_t),) if k == 0 else (len(open_t), k))
            rows_sampler.feed_rows(open_t, rows, until=int(t[-1]), after=lv[-1])
        else:
            rows_sampler.feed(t, lv)
        samplers["eager"].feed(t, lv)
        fed += [(int(a), b) for a, b in zip(t.tolist(), lv.tolist())]
        if rng.random() < 0.3:
            check()  # reading mid-stream changes nothing
    check()


def test_sampler_a_print_includes_a_trade_stamped_at_its_time_across_batches():
    s = StepSampler(1.0, grid=[10, 20])
    s.feed(np.array([5, 10]), np.array([2.0, 3.0]))  # 10 not final: more trades at 10 may follow
    s.feed(np.array([10, 15]), np.array([4.0, 5.0]))
    assert s.read()[1].tolist() == [4.0, 5.0]


def test_sampler_checks_its_inputs():
    with pytest.raises(ValueError, match="either"):
        StepSampler(1.0)
    with pytest.raises(ValueError, match="either"):
        StepSampler(1.0, grid=[1], step=1)
    with pytest.raises(ValueError, match="ascending"):
        StepSampler(1.0, grid=[2, 1])
    with pytest.raises(ValueError, match="step"):
        StepSampler(1.0, step=0)
    with pytest.raises(ValueError, match="arithmetic"):
        StepSampler(1.0, grid=[1], end=3)
    with pytest.raises(ValueError, match="initial"):
        StepSampler(np.ones((2, 2)), grid=[1])
    s = StepSampler(np.ones(3), grid=[1, 2])
    with pytest.raises(ValueError, match="rows for"):
        s.feed(np.array([1, 2]), np.ones((3, 3)))
    with pytest.raises(ValueError, match="shape"):
        s.feed(np.array([1, 2]), np.ones(2))
    with pytest.raises(ValueError, match="anchored"):
        StepSampler(1.0, step=10, end=100).open_times()
    with pytest.raises(ValueError, match="cover"):
        StepSampler(1.0, grid=[1, 2, 3]).feed_rows(np.array([1]), np.array([5.0]), until=3, after=5.0)


# --------------------------------------------------------------------------- published series
def test_published_series_on_an_unsorted_grid_prints_in_the_grid_order():
    t = np.array([10, 30], dtype=np.int64) * NS
    grid = np.array([40, 20, 5], dtype=np.int64) * NS
    ps = publish.published_series(t, np.array([101.0, 102.0]), grid, 100.0)
    assert ps.times.tolist() == grid.tolist() and ps.values.tolist() == [102.0, 101.0, 100.0]


def test_published_series_without_levels_prints_the_start():
    ps = publish.published_series(np.array([5], dtype=np.int64), np.array([]), np.array([10, 20]), 99.995)
    assert ps.values.tolist() == [100.0, 100.0] and ps.events == []


def test_published_series_of_matches_sampling_on_its_own_grid():
    grid = kf.io.publication_times("10s")
    rng = np.random.default_rng(7)
    t = np.sort(rng.integers(grid[0] - 60 * NS, grid[-1] + 60 * NS, 5000))
    lv = 5000 + np.cumsum(rng.normal(0, 0.3, 5000))
    a = publish.published_series(t, lv, grid, 5000.0, round_numbers=(5000,))
    pos = np.searchsorted(t, grid, side="right") - 1
    raw = np.where(pos >= 0, lv[np.maximum(pos, 0)], 5000.0)
    b = publish.PublishedSeries.of(grid, raw, 5000.0, round_numbers=(5000,))
    assert a.values.tolist() == b.values.tolist() and a.events == b.events
    assert (a.open, a.high, a.low, a.close) == (b.open, b.high, b.low, b.close)
