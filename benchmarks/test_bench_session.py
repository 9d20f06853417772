"""pytest-benchmark timings of validated feeding (issue 5): ``TradingDay.feed`` (KRX rules checked
per trade) against ``IndexEngine.update_many`` (no validation) on the 2M-tick day, in one group.

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
from kospi_fast import session  # noqa: E402
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
