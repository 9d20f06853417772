"""pytest-benchmark timings of corporate actions (issue 3) on the 850-stock sample universe: a
batch of 50 events of six kinds rebased at once, an end-of-day roll with the same batch, and the
EOD-driven path (``kospi_fast.eod.verify``) on the real KRX files of ../shared/data (skipped with
a message when they are absent).

Run from the repository root::

    PYTHONPATH=src python -m pytest benchmarks/ --benchmark-only -k "events or eod"

Every round gets a fresh engine (built in the untimed setup). Each result is checked once,
outside the timed part: prices and shares against each kind's rule, caps against exact
Python-int recounts, the level kept by the rebase; verify's errors within 0.2 bp.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import scenarios  # noqa: E402  (benchmarks/ is put on sys.path by conftest.py)

import kospi_fast as kf  # noqa: E402
from kospi_fast import eod  # noqa: E402
from kospi_fast.sample import CLOSE_NS, SAMPLE_PREVIOUS_CLOSE  # noqa: E402

ROUNDS = 300


@pytest.fixture(scope="module")
def closing(universe, day):
    """(prices just before the closing auction's result, the day's closes)."""
    k = int(np.searchsorted(day.times, CLOSE_NS, side="left"))
    engine = kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)
    engine.update_many(day.ids[:k], day.prices[:k])
    before = engine.prices
    engine.update_many(day.ids[k:], day.prices[k:])
    return before, engine.prices


@pytest.fixture(scope="module")
def events(universe, closing):
    batch = scenarios.event_batch(universe, closing[1])
    assert len(batch) == 50 and len({ev.code for ev in batch}) == 50
    return batch


def _fresh(universe, prices, used):
    def setup():  # not timed
        used[:] = [kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE, prices=prices)]
        return (used[0],), {}

    return setup


@pytest.mark.benchmark(group="corporate actions, 850 stocks")
def test_events_apply_50(benchmark, universe, closing, events):
    used = []
    record = benchmark.pedantic(lambda e: e.apply_events(events, date=scenarios.NEXT_DATE),
                                setup=_fresh(universe, closing[1], used), rounds=ROUNDS, warmup_rounds=10)
    scenarios.check_event_batch(used[0], record, closing[1], universe.shares, events)


@pytest.mark.benchmark(group="corporate actions, 850 stocks")
def test_events_roll_50(benchmark, universe, closing, events):
    before, closes = closing
    used = []
    record = benchmark.pedantic(lambda e: e.roll(events, closes=closes, date=scenarios.NEXT_DATE),
                                setup=_fresh(universe, before, used), rounds=ROUNDS, warmup_rounds=10)
    engine = used[0]
    scenarios.check_event_batch(engine, record, closes, universe.shares, events)
    assert engine.previous_close == record.level_before
    assert np.array_equal(engine.reference_prices, engine.prices)


@pytest.mark.benchmark(group="corporate actions, 850 stocks")
def test_events_roll_closes_only(benchmark, universe, closing):
    before, closes = closing
    used = []
    record = benchmark.pedantic(lambda e: e.roll([], closes=closes, date=scenarios.NEXT_DATE),
                                setup=_fresh(universe, before, used), rounds=ROUNDS, warmup_rounds=10)
    engine = used[0]
    assert record is None
    assert np.array_equal(engine.prices, closes) and np.array_equal(engine.reference_prices, closes)
    assert engine.cap == sum(int(p) * int(s) for p, s in zip(closes, universe.shares))


@pytest.fixture(scope="module")
def real_eod():
    real = scenarios.real_eod()
    if real is None:
        pytest.skip(f"real KRX files not found in {scenarios.SHARED / 'data'}: EOD-driven path not benchmarked")
    return real


@pytest.mark.benchmark(group="eod verify, real KRX data")
def test_eod_verify_real(benchmark, real_eod):
    days, published, _ = real_eod
    results = benchmark(eod.verify, days, published)
    assert [r.date for r in results] == [d.date for d in days[1:]]
    assert max(abs(r.error_bp) for r in results) <= 0.2  # as tests/test_verify.py
    benchmark.extra_info["day_pairs"] = len(results)
    if benchmark.stats is not None:  # None under --benchmark-disable (the CI smoke run)
        benchmark.extra_info["ms_per_day"] = benchmark.stats.stats.min * 1e3 / len(results)
