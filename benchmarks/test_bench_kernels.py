"""pytest-benchmark timings of the kospi_fast kernels on the 850-stock sample universe.

Not part of the main test run (``testpaths = ["tests"]``). Run from the repository root::

    PYTHONPATH=src python -m pytest benchmarks/ --benchmark-only

Every benchmark checks its own result once, outside the timed part, against an independent
computation (the NumPy peer, a pure-Python engine, or an exact Python-int recount).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import peers  # noqa: E402  (benchmarks/ is put on sys.path by conftest.py)
from scenarios import N_TICKS  # noqa: E402

import kospi_fast as kf  # noqa: E402
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE  # noqa: E402

N_CHANGED = 50  # stocks whose index shares change in the rebase benchmark

# The fixtures universe, day (2M ticks), divisor and expected (NumPy-peer levels, checked against
# an exact recount) come from conftest.py, shared with the other benchmark modules.


# ---------------------------------------------------------------------------- 2M-tick replays


@pytest.mark.benchmark(group="replay 2M ticks")
def test_replay(benchmark, universe, day, divisor, expected):
    levels = benchmark(kf.replay, universe.shares, universe.base_prices, divisor, day.ids, day.prices)
    assert np.array_equal(levels, expected)


@pytest.mark.benchmark(group="replay 2M ticks")
def test_update_many(benchmark, universe, day, expected):
    def fresh_engine():  # not timed: every round starts from the same opening state
        return (kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE), day.ids, day.prices), {}

    levels = benchmark.pedantic(
        lambda engine, ids, prices: engine.update_many(ids, prices),
        setup=fresh_engine, rounds=20, warmup_rounds=1,
    )
    assert np.array_equal(levels, expected)


@pytest.mark.benchmark(group="replay 2M ticks")
def test_update_many_float64_book(benchmark, universe, day, expected):
    """Issue 18: the float64 engine (exact=False) on the same day, prices as float64: on integer
    data below 2**53 it gives the exact engine's levels bit for bit (compare with
    test_update_many, same group)."""
    prices = day.prices.astype(np.float64)

    def fresh_engine():
        return (kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE, exact=False), day.ids, prices), {}

    levels = benchmark.pedantic(lambda engine, ids, px: engine.update_many(ids, px),
                                setup=fresh_engine, rounds=20, warmup_rounds=1)
    assert np.array_equal(levels, expected)


@pytest.mark.benchmark(group="replay 2M ticks")
@pytest.mark.parametrize("band", [0.30, None], ids=["band", "no-band"])
def test_update_many_band(benchmark, universe, day, expected, band):
    """Issue 16: the default ±30% band checked in the kernel's loop vs no band."""
    def fresh_engine():
        return (kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE, price_band=band), day.ids, day.prices), {}

    levels = benchmark.pedantic(lambda engine, ids, prices: engine.update_many(ids, prices),
                                setup=fresh_engine, rounds=20, warmup_rounds=1)
    assert np.array_equal(levels, expected)


@pytest.mark.benchmark(group="replay 2M ticks")
def test_replay_out(benchmark, universe, day, divisor, expected):
    """Issue 16: replay into a reused buffer (out=), no fresh array's page faults."""
    buf = np.empty(len(day))
    levels = benchmark(kf.replay, universe.shares, universe.base_prices, divisor, day.ids, day.prices, out=buf)
    assert levels is buf and np.array_equal(levels, expected)


@pytest.mark.benchmark(group="replay 2M ticks")
@pytest.mark.parametrize("peer", ["replay_numpy", "replay_numpy_flat"])
def test_numpy_peer_replay(benchmark, universe, day, divisor, expected, peer):
    fn = getattr(peers, peer)
    levels = benchmark(fn, universe.shares, universe.base_prices, divisor, day.ids, day.prices)
    assert np.array_equal(levels, expected)


# ---------------------------------------------------------------------------- per-call kernels


@pytest.mark.benchmark(group="one trade")
def test_update_single(benchmark, universe):
    engine = kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)
    ref = peers.PyEngine(universe.base_prices, universe.shares, engine.divisor)
    i = 0
    price = int(universe.base_prices[i]) + 100  # on the tick grid for a 5-figure price
    level = benchmark(engine.update_id, i, price)
    assert level == ref.update(i, price)
    assert level == engine.recompute()


@pytest.mark.benchmark(group="aggregate 850 stocks")
def test_aggregate_cap(benchmark, universe):
    prices, shares = universe.base_prices, universe.shares
    cap = benchmark(kf.aggregate_cap, prices, shares)
    assert type(cap) is int
    assert cap == sum(int(p) * int(s) for p, s in zip(prices, shares))


@pytest.mark.benchmark(group="rebase 50 stocks")
def test_rebase_apply_changes(benchmark, universe, day):
    rng = np.random.default_rng(7)
    ids = np.sort(rng.choice(len(universe), size=N_CHANGED, replace=False)).astype(np.intp)
    new_shares = universe.shares[ids] + rng.integers(1, 1_000_000, size=N_CHANGED)
    # A mid-day state: the morning's trades applied, then the changes land.
    morning = slice(0, N_TICKS // 2)
    template = kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)
    template.update_many(day.ids[morning], day.prices[morning])
    mid_prices = template.prices

    def fresh_engine():  # not timed
        engine = kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE, prices=mid_prices)
        return (engine,), {}

    engines = []

    def rebase(engine):
        engines.append(engine)
        return engine.apply_changes(ids, index_shares=new_shares)

    record = benchmark.pedantic(rebase, setup=fresh_engine, rounds=2000, warmup_rounds=10)
    engine = engines[-1]
    all_shares = universe.shares.copy()
    all_shares[ids] = new_shares
    exact_after = sum(int(p) * int(s) for p, s in zip(mid_prices, all_shares))
    assert record.ids == tuple(int(i) for i in ids)
    assert record.cap_after == exact_after == engine.cap
    assert record.cap_before == sum(int(p) * int(s) for p, s in zip(mid_prices, universe.shares))
    assert record.level_after == pytest.approx(record.level_before, rel=1e-12, abs=0)
    assert np.array_equal(engine.index_shares, all_shares)
