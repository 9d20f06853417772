"""pytest-benchmark timings of the KOSPI family (issue 4): 26 indices over the 850-stock sample
universe replay the 2M-tick day, against the single-index ``kospi_fast.replay`` in the same group
(pytest-benchmark's table shows each test's time relative to the fastest of its group).

Run from the repository root::

    PYTHONPATH=src python -m pytest benchmarks/ --benchmark-only -k family

Every round gets a fresh ``IndexFamily`` (built in the untimed setup). Each result is checked
once, outside the timed part: every per-tick column against the single-index replay of its
index, the KOSPI column against ``IndexEngine``, sampled rows against the per-tick rows, and
every final level against an exact Python-int recount and ``recompute()``.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import scenarios  # noqa: E402  (benchmarks/ is put on sys.path by conftest.py)

import kospi_fast as kf  # noqa: E402

GROUP = "family 2M ticks, 26 indices (vs single replay)"


@pytest.fixture(scope="module")
def sample_at(day):
    """Trade positions of the KOSPI 200 1-second publication grid."""
    pos = scenarios.publication_samples(day.times)
    assert pos.shape[0] > 20_000 and (np.diff(pos) >= 0).all()
    return pos


@pytest.fixture(scope="module")
def per_tick(universe, day, expected):
    """The family's levels after every tick (n_ticks x 26), checked column by column."""
    family = scenarios.kospi_family(universe)
    assert len(family) == 26
    levels = family.update_many(day.ids, day.prices)
    assert np.array_equal(levels[:, family.index_of("KOSPI")], expected)  # == IndexEngine (NumPy peer)
    scenarios.check_family_per_tick(levels, scenarios.kospi_family(universe), universe, day.ids, day.prices)
    scenarios.check_family(family)
    return levels


@pytest.mark.benchmark(group=GROUP)
def test_family_single_replay(benchmark, universe, day, divisor, expected):
    """The baseline: KOSPI alone, level after every tick."""
    levels = benchmark(kf.replay, universe.shares, universe.base_prices, divisor, day.ids, day.prices)
    assert np.array_equal(levels, expected)


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("variant", ["per tick", "1-s grid", "final only"])
def test_family_update_many(benchmark, universe, day, sample_at, per_tick, variant):
    kwargs = {"per tick": {}, "1-s grid": {"sample_at": sample_at}, "final only": {"sample_at": []}}[variant]
    used = []

    def fresh_family():  # not timed: every round starts from the opening state
        family = scenarios.kospi_family(universe)
        used[:] = [family]
        return (family,), {}

    rounds = 5 if variant == "per tick" else 20  # per tick writes a ~0.5 GB matrix per round
    out = benchmark.pedantic(lambda family: family.update_many(day.ids, day.prices, **kwargs),
                             setup=fresh_family, rounds=rounds, warmup_rounds=1)
    family = used[0]
    if variant == "per tick":
        assert np.array_equal(out, per_tick)
    elif variant == "1-s grid":
        assert np.array_equal(out, per_tick[sample_at])
    else:
        assert out.shape == (0, len(family))
    assert np.array_equal(family.levels, per_tick[-1])
    scenarios.check_family(family)
