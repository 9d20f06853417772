"""pytest-benchmark timings of validated feeding (issue 5): ``TradingDay.feed`` (KRX rules checked
per trade) against ``IndexEngine.update_many`` (no validation) on the 2M-tick day, in one group,
and the rules kernel alone (``_session.feed_engine``, ``_session.classify``) on the same day.

Run from the repository root::

    PYTHONPATH=src python -m pytest benchmarks/ --benchmark-only -k session

Every round gets a fresh engine (built in the untimed setup). Each result is checked once,
outside the timed part, against the NumPy peer's levels (conftest ``expected``).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import scenarios  # noqa: E402  (benchmarks/ is put on sys.path by conftest.py)

import kospi_fast as kf  # noqa: E402
from kospi_fast import _session, krx, session  # noqa: E402
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE  # noqa: E402

GROUP = "session 2M ticks (validation on vs off)"
ROUNDS = 20


def _engine(universe):
    return kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)


def _trading_day(engine, **kw):
    return session.TradingDay(engine, scenarios.DAY_DATE, check_calendar=False, **kw)


def _check_feed(result, engine, expected):
    assert result.applied == expected.shape[0] and not result.status.any(), result.reasons()
    assert np.array_equal(result.levels, expected)
    assert engine.level == expected[-1] == engine.recompute()


@pytest.mark.benchmark(group=GROUP)
def test_session_update_many_validation_off(benchmark, universe, day, expected):
    used = []

    def fresh():  # not timed
        used[:] = [_engine(universe)]
        return (used[0],), {}

    levels = benchmark.pedantic(lambda e: e.update_many(day.ids, day.prices), setup=fresh, rounds=ROUNDS,
                                warmup_rounds=1)
    assert np.array_equal(levels, expected)
    assert used[0].level == expected[-1] == used[0].recompute()


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("validate", [True, False], ids=["validation on", "validate=False"])
def test_session_trading_day_feed(benchmark, universe, day, expected, validate):
    """``TradingDay(engine, date).feed(times, ids, prices)``, construction of the day included."""
    _trading_day(_engine(universe))  # warm-up, untimed: builds the day's tick-grid bitmap once
    used = []

    def fresh():  # not timed
        used[:] = [_engine(universe)]
        return (used[0],), {}

    result = benchmark.pedantic(
        lambda e: _trading_day(e, validate=validate).feed(day.times, day.ids, day.prices),
        setup=fresh, rounds=ROUNDS, warmup_rounds=1)
    _check_feed(result, used[0], expected)


@pytest.mark.benchmark(group=GROUP)
def test_session_feed_only(benchmark, universe, day, expected):
    """``.feed`` alone, the TradingDay built in the untimed setup."""
    used = []

    def fresh():  # not timed
        used[:] = [_trading_day(_engine(universe))]
        return (used[0],), {}

    result = benchmark.pedantic(lambda d: d.feed(day.times, day.ids, day.prices), setup=fresh, rounds=ROUNDS,
                                warmup_rounds=1)
    _check_feed(result, used[0].engine, expected)


# ---------------------------------------------------------------------------- the rules kernel alone
I64_MAX = int(np.iinfo(np.int64).max)
GRID_PRICES = 1 << 23


@pytest.fixture(scope="module")
def day_rules(universe):
    """The kernel's arguments for the day, built from krx's public tables (as a trading day
    builds them): per-stock limits folded with p > 0 (no price ceiling: the cap's overflow is
    guarded exactly in the kernel), the tick table,
    the on-grid bitmap, the fast-path rows and the session window."""
    engine = _engine(universe)
    date = scenarios.DAY_DATE
    pmax = I64_MAX
    lower, upper = krx.price_limits(engine.reference_prices, date=date)
    lower = np.maximum(np.asarray(lower, dtype=np.int64), 1)
    upper = np.minimum(np.asarray(upper, dtype=np.int64), pmax)
    thresholds, ticks = (np.ascontiguousarray(a, dtype=np.int64) for a in krx.tick_table(date))
    on = np.zeros(GRID_PRICES, dtype=bool)
    on[1:] = krx.is_on_tick(np.arange(1, GRID_PRICES, dtype=np.int64), date=date)
    grid = np.packbits(on, bitorder="little")
    hi = np.minimum(upper, GRID_PRICES - 1)
    fast = np.ascontiguousarray(np.stack([lower, hi - lower], axis=1))
    s = session.session_times(date, check_calendar=False)
    window = (s.window[0], s.close_call, s.close, s.window[1])
    return (lower, upper, np.zeros(len(universe), dtype=np.uint8), thresholds, ticks, grid, fast, *window)


@pytest.mark.benchmark(group=GROUP)
def test_session_rules_kernel_feed_engine(benchmark, universe, day, expected, day_rules):
    """``_session.feed_engine``: the rules kernel on the engine's scratch prices, then the swap."""
    used = []

    def fresh():  # not timed
        used[:] = [_engine(universe)]
        return (used[0],), {}

    bad, levels, status, counts, _ = benchmark.pedantic(
        lambda e: _session.feed_engine(e, day.times, day.ids, day.prices, *day_rules, -1, True),
        setup=fresh, rounds=ROUNDS, warmup_rounds=1)
    assert bad == -1 and counts[_session.APPLIED] == expected.shape[0] and not status.any()
    assert np.array_equal(levels, expected)
    assert used[0].level == expected[-1] == used[0].recompute()


@pytest.mark.benchmark(group=GROUP)
def test_session_rules_kernel_classify(benchmark, universe, day, expected, day_rules):
    """``_session.classify``: the same verdicts, nothing applied (books with their own kernel)."""
    engine = _engine(universe)
    status = np.empty(expected.shape[0], dtype=np.uint8)
    counts = np.zeros(len(_session.STATUS_NAMES), dtype=np.int64)

    def run():
        counts[:] = 0
        return _session.classify(day.times, day.ids, day.prices, *day_rules, I64_MAX, len(engine), -1,
                                 status, counts, True)

    bad, last = benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1)
    assert bad == -1 and last == day.times.max() and not status.any()
    assert counts[_session.APPLIED] == expected.shape[0]


SINGLE = "one trade from Python (validated on_trade vs update)"


@pytest.mark.benchmark(group=SINGLE)
def test_single_trade_validated_on_trade(benchmark, universe, day):
    """``TradingDay.on_trade`` of one valid trade, repeated (goal <= 300 ns/call, issue 15)."""
    e = _engine(universe)
    td = _trading_day(e)
    t, i, p = int(day.times[0]), int(day.ids[0]), int(day.prices[0])
    assert benchmark(td.on_trade, t, i, p) == session.APPLIED
    assert e.level == e.recompute() and set(td.counts) == {session.STATUS[session.APPLIED]}


@pytest.mark.benchmark(group=SINGLE)
def test_single_trade_unvalidated_update(benchmark, universe, day):
    """``IndexEngine.update_id`` of the same trade: no KRX rules (the peer in the same run)."""
    e = _engine(universe)
    i, p = int(day.ids[0]), int(day.prices[0])
    level = benchmark(e.update_id, i, p)
    assert level == e.level == e.recompute()
