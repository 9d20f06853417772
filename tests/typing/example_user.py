"""A user's script, type-checked by mypy --strict against the installed package's stubs.

Never imported by the test suite (pytest collects only test_*.py); tests/typing/test_mypy.py
runs mypy on it. Every public name used here must resolve to a precise type, not Any: the
annotated assignments below fail type-checking if a stub returns the wrong type.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import kospi_fast as kf


def replay_day(n_ticks: int = 20_000) -> npt.NDArray[np.float64]:
    u: kf.Universe = kf.sample_universe()
    engine: kf.IndexEngine = kf.IndexEngine(u, level=5781.20)
    one: float = engine.update("005930", 200_000)
    by_id: float = engine.update_id(0, 200_000)
    day: kf.SimulatedDay = kf.simulate_day(u, n_ticks=n_ticks, seed=1)
    batch: npt.NDArray[np.float64] = engine.update_many(day.ids, day.prices)
    assert engine.level == engine.recompute()
    assert one > 0 and by_id > 0 and batch.shape == (len(day),)
    cap: int = engine.cap
    divisor: float = engine.divisor
    assert cap > 0 and divisor > 0
    return kf.replay(u.shares, u.base_prices, engine.divisor, day.ids, day.prices)


def exact_cap(prices: list[int], shares: list[int]) -> int | float:
    return kf.aggregate_cap(np.asarray(prices, dtype=np.int64), np.asarray(shares, dtype=np.int64))


def custom_universe() -> kf.Universe:
    return kf.Universe(["005930", "000660"], ["Samsung", "SK hynix"], [10, 5], [70_000, 150_000])


if __name__ == "__main__":
    levels = replay_day()
    total = exact_cap([70_000, 1_500], [10, 200])
    print(f"{levels[-1]:.2f}", total, len(custom_universe()))
