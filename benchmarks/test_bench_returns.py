"""pytest-benchmark timings of the return variants (issue 14): KOSPI with its TR and NTR twins
against KOSPI alone, both an ``IndexFamily`` after an ex-date (so the three divisors differ),
on the 2M-tick day: final levels only and the 10-s KOSPI publication grid (goal: <= 1.1x).

Run from the repository root::

    PYTHONPATH=src python -m pytest benchmarks/ --benchmark-only -k returns

Every round gets a fresh family (built in the untimed setup). Each result is checked once,
outside the timed part: the KOSPI column equals KOSPI alone's, every level equals a recount.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import scenarios  # noqa: E402  (benchmarks/ is put on sys.path by conftest.py)

import kospi_fast as kf  # noqa: E402
from kospi_fast import session  # noqa: E402
from kospi_fast.events import CashDividend  # noqa: E402
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE  # noqa: E402

GROUP = "KOSPI + TR + NTR vs KOSPI alone, 2M ticks"
BOOKS = {"KOSPI alone": ("price",), "KOSPI + TR + NTR": ("price", "total", "net")}


def book(universe, returns):
    fam = kf.IndexFamily.kospi(universe, sectors=False, size=False, returns=returns,
                               levels={"KOSPI": SAMPLE_PREVIOUS_CLOSE})
    top = np.argsort(-universe.base_prices * universe.shares)[:50]
    dividends = [CashDividend(universe.codes[i], int(universe.base_prices[i]) // 100) for i in top]
    fam.roll(dividends)  # an earlier ex-date, folded at its close: the divisors differ
    fam.roll()
    fam.roll(dividends, date=scenarios.DAY_DATE)  # today is an ex-date too: dividends carried
    return fam


@pytest.fixture(scope="module")
def grid_at(day):
    grid = session.publication_grid(session.session_times(scenarios.DAY_DATE, check_calendar=False), 10)
    pos = np.searchsorted(day.times, grid, side="right") - 1
    return pos[pos >= 0]


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("variant", ["final only", "10-s grid"])
@pytest.mark.parametrize("which", list(BOOKS))
def test_returns_update_many(benchmark, universe, day, grid_at, variant, which):
    at = [] if variant == "final only" else grid_at
    used = []

    def fresh():  # not timed
        used[:] = [book(universe, BOOKS[which])]
        return (used[0],), {}

    out = benchmark.pedantic(lambda f: f.update_many(day.ids, day.prices, sample_at=at),
                             setup=fresh, rounds=20, warmup_rounds=1)
    fam = used[0]
    alone = book(universe, ("price",))
    want = alone.update_many(day.ids, day.prices, sample_at=at)
    assert np.array_equal(out[:, :1], want) and fam.levels[0] == alone.levels[0]
    assert fam.levels.tobytes() == fam.recompute().tobytes() == fam.recompute_levels().tobytes()
