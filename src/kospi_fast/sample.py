"""The bundled sample universe and a deterministic synthetic KOSPI trading day.

Neither is official KRX data: see ``data/SAMPLE_README.md``. The sample's 30 largest names are
real (codes, names, listed shares and closes of 2026-03-20); the rest is synthetic.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

from kospi_fast import _validation, krx
from kospi_fast.session import CLOSE_CALL_NS, CLOSE_NS, OPEN_NS
from kospi_fast.universe import Universe

__all__ = ["SAMPLE_DATE", "SAMPLE_PREVIOUS_CLOSE", "SimulatedDay", "sample_universe", "simulate_day"]

#: KOSPI's published close on 2026-03-20 (KRX, index 1001), the sample's previous close.
SAMPLE_PREVIOUS_CLOSE = 5781.20
SAMPLE_DATE = "2026-03-23"  # the simulated day: the trading day after the sample's closes



def sample_universe() -> Universe:
    """The bundled ~850-stock sample universe (a SAMPLE, not official KRX data).

    Returns
    -------
    Universe
        Codes, names, listed shares, base prices (closes of 2026-03-20 for the 30 real names)
        and sector labels.
    """
    text = resources.files("kospi_fast").joinpath("data/sample_universe.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return Universe(
        codes=[r["code"] for r in rows],
        names=[r["name"] for r in rows],
        shares=np.array([int(r["shares"]) for r in rows], dtype=np.int64),
        base_prices=np.array([int(r["base_price"]) for r in rows], dtype=np.int64),
        sectors=[r["sector"] for r in rows],
    )


@dataclass(frozen=True)
class SimulatedDay:
    """A synthetic trading day: trades in time order.

    ``times`` are int64 nanoseconds since midnight KST; ``ids`` int32 rows of the universe;
    ``prices`` int64 won on the KRX tick grid inside each stock's ±30% band. The first trade of
    every stock is the opening auction at 09:00:00 and its last the closing auction at 15:30:00.
    """

    universe: Universe
    date: str
    seed: int
    times: np.ndarray
    ids: np.ndarray
    prices: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __repr__(self) -> str:
        return f"SimulatedDay({self.date}, {len(self):,} trades, seed {self.seed}, {len(self.universe)} stocks)"


def simulate_day(
    universe: Universe,
    n_ticks: int = 2_000_000,
    seed: int = 20260323,
    *,
    market_vol: float = 0.015,
    idio_vol: float = 0.02,
    date: str = SAMPLE_DATE,
    base_prices: object = None,
) -> SimulatedDay:
    """Simulate one KOSPI trading day of trades, reproducibly from ``seed``.

    Busier (bigger) names trade more (intensity ∝ cap^0.6). Each stock's log price follows a
    common market factor (daily volatility ``market_vol``) times a beta, plus its own random
    walk (daily volatility ``idio_vol``); prices are snapped to the KRX tick grid and kept
    inside the ±30% daily band of the base price.

    Parameters
    ----------
    universe : Universe
    n_ticks : int
        Total trades, >= 2 × number of stocks (opening and closing auctions).
    seed : int
    market_vol, idio_vol : float
        Daily volatilities (fractions), >= 0.
    date : str
        ISO date the day stands for (for the tick-size table).
    base_prices : array_like of int, optional
        The day's base prices (default: the universe's), e.g. ``engine.reference_prices``
        after a roll.

    Returns
    -------
    SimulatedDay
    """
    if not isinstance(universe, Universe):
        raise TypeError(f"`universe` must be a kospi_fast.Universe, got {type(universe).__name__}")
    n = len(universe)
    if isinstance(n_ticks, bool) or not isinstance(n_ticks, (int, np.integer)):
        raise TypeError(f"`n_ticks` must be an int, got {n_ticks!r}")
    if n_ticks < 2 * n:
        raise ValueError(f"`n_ticks` must be >= 2 × n_stocks ({2 * n}), got {n_ticks}")
    for name, v in (("market_vol", market_vol), ("idio_vol", idio_vol)):
        if not (np.isfinite(v) and 0 <= v < 1):
            raise ValueError(f"`{name}` must be in [0, 1), got {v!r}")
    rng = np.random.default_rng(seed)
    if base_prices is None:
        base = universe.base_prices
    else:
        base = _validation.int64_array(base_prices, "base_prices")
        if base.shape[0] != n:
            raise ValueError(f"`base_prices` must have one entry per stock ({n}), got {base.shape[0]}")
        _validation.check_positive(base, "base_prices")
    cap = base.astype(np.float64) * universe.shares.astype(np.float64)
    weight = np.maximum(cap, 1.0) ** 0.6
    weight /= weight.sum()

    # Continuous-session trades: who trades, and when (uniform over 09:00–15:20).
    m = n_ticks - 2 * n
    ids_c = rng.choice(n, size=m, p=weight).astype(np.int32)
    t_c = np.sort(rng.integers(OPEN_NS + 1, CLOSE_CALL_NS, size=m, dtype=np.int64))
    ids_all = np.concatenate([np.arange(n, dtype=np.int32), ids_c, np.arange(n, dtype=np.int32)])
    t_all = np.concatenate([np.full(n, OPEN_NS), t_c, np.full(n, CLOSE_NS)])

    # Market factor: Brownian motion over the session, sampled at each trade's time.
    day_len = float(CLOSE_NS - OPEN_NS)
    frac = (t_all - OPEN_NS) / day_len
    dfrac = np.diff(frac, prepend=0.0)
    market = np.cumsum(rng.standard_normal(t_all.shape[0]) * np.sqrt(dfrac)) * market_vol
    beta = rng.uniform(0.6, 1.4, n)

    # Idiosyncratic walk per stock: cumulative sum of its own shocks in its own trade order.
    order = np.argsort(ids_all, kind="stable")
    counts = np.bincount(ids_all, minlength=n)
    shocks = rng.standard_normal(t_all.shape[0]) * (idio_vol / np.sqrt(np.maximum(counts, 1)))[ids_all[order]]
    walk_sorted = np.cumsum(shocks)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    walk_sorted -= np.repeat(np.concatenate([[0.0], walk_sorted])[starts], counts)
    walk = np.empty_like(walk_sorted)
    walk[order] = walk_sorted

    logp = np.log(base[ids_all].astype(np.float64)) + beta[ids_all] * market + walk
    raw = np.exp(logp)
    lower, upper = krx.price_limits(base, date=date)
    raw = np.clip(raw, lower[ids_all], upper[ids_all])
    prices = krx.round_to_tick(np.rint(raw).astype(np.int64), mode="nearest", date=date)
    prices = np.clip(prices, lower[ids_all], upper[ids_all]).astype(np.int64)
    prices = _validation.int64_array(prices, "prices")
    return SimulatedDay(universe=universe, date=date, seed=int(seed), times=t_all, ids=ids_all, prices=prices)
