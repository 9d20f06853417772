"""pytest setup for the benchmarks: make ``peers`` and ``scenarios`` (and, from a source checkout,
``kospi_fast``) importable, and share the 2M-tick day between the benchmark modules.
Run with ``python -m pytest benchmarks/ --benchmark-only``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

# Fall back to the in-place build under src/ when kospi_fast is not installed or on PYTHONPATH.
_SRC = _HERE.parent / "src"
if importlib.util.find_spec("kospi_fast") is None and _SRC.is_dir():
    sys.path.insert(0, str(_SRC))

@pytest.fixture(scope="session")
def universe():
    import kospi_fast as kf

    u = kf.sample_universe()
    assert len(u) == 850
    return u


@pytest.fixture(scope="session")
def day(universe):
    """The simulated 2M-tick day of 2026-03-23 (the sample's next trading day)."""
    import kospi_fast as kf
    import scenarios

    return kf.simulate_day(universe, n_ticks=scenarios.N_TICKS, seed=scenarios.DAY_SEED, date=scenarios.DAY_DATE)


@pytest.fixture(scope="session")
def divisor(universe):
    import kospi_fast as kf
    from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE

    return kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE).divisor


@pytest.fixture(scope="session")
def expected(universe, day, divisor):
    """KOSPI levels after every tick from the NumPy peer (independent of the Cython kernels),
    with its last level checked against an exact recount of the closing prices."""
    import peers

    levels = peers.replay_numpy_flat(universe.shares, universe.base_prices, divisor, day.ids, day.prices)
    last = universe.base_prices.copy()
    last[day.ids] = day.prices  # fancy assignment: the last write per stock wins
    cap = sum(int(p) * int(s) for p, s in zip(last, universe.shares))
    assert levels[-1] == cap / divisor
    return levels
