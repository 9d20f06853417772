"""Wrong uses that the stubs must reject: mypy has to report an error on every line marked
``# E``, and on no other line (see tests/typing/test_mypy.py)."""

from __future__ import annotations

import numpy as np

import kospi_fast as kf

u = kf.sample_universe()
engine = kf.IndexEngine(u, level=2500.0)
as_text: str = engine.update("005930", 70_000)  # E
levels: list[float] = kf.replay(u.shares, u.base_prices, 1.0, [0], [70_000])  # E
kf.replay(u.shares, u.base_prices, "1.0", [0], [70_000])  # E
kf.aggregate_cap(u.base_prices)  # E
kf.IndexEngine(u, 2500.0)  # E
kf.simulate_day(u, n_ticks="many")  # E
ok: float = engine.level + float(np.float64(1.0))
