"""replay's float64 path (exact=False): prices and shares that are not whole numbers (crypto,
FX), the running cap compensated (Neumaier). Checked against an exact rational recount of the
same float inputs, and against the exact int64 path on integer data; the bound asserted here is
the documented one (docs/methodology-notes.md, "Float path")."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import kospi_fast as kf

#: The documented bound on a float-path level's relative error (measured: see the notes).
DRIFT_BOUND = 1e-13


def _crypto(m=40_000, seed=3):
    """A crypto-like stand-in (made-up supplies and prices of the right magnitudes): BTC-,
    ETH-, SOL-, DOGE- and PEPE-like coins, fractional supply, random-walk prices."""
    rng = np.random.default_rng(seed)
    supply = np.array([19_700_000.123, 120_100_000.5, 460_000_000.25, 1.44e11 + 0.75, 4.2e14 + 0.5])
    price = np.array([67_123.45, 3_456.78, 150.125, 0.16234, 0.0000123])
    ids = rng.integers(0, 5, m)
    steps = np.exp(rng.normal(0, 0.002, m))
    px = np.empty(m)
    cur = price.copy()
    for k in range(m):
        cur[ids[k]] *= steps[k]
        px[k] = cur[ids[k]]
    return supply, price, ids, px


def _exact_levels(supply, price, d, ids, px, every):
    cur = [Fraction(float(p)) for p in price]
    sh = [Fraction(float(s)) for s in supply]
    out = {}
    for k in range(len(ids)):
        cur[ids[k]] = Fraction(float(px[k]))
        if k % every == 0 or k == len(ids) - 1:
            out[k] = sum(p * s for p, s in zip(cur, sh)) / Fraction(d)
    return out


def test_crypto_levels_stay_within_the_documented_bound_of_an_exact_recount():
    supply, price, ids, px = _crypto()
    d = float(np.dot(price, supply)) / 1000.0
    st = kf.replay(supply, price, d, ids, px, exact=False, return_state=True)
    exact = _exact_levels(supply, price, d, ids, px, every=97)
    worst = max(abs(Fraction(float(st.levels[k])) - v) / v for k, v in exact.items())
    assert worst <= DRIFT_BOUND
    assert st.prices.tolist() == [float(px[np.flatnonzero(ids == j)[-1]]) for j in range(5)]
    assert abs(Fraction(st.cap) - sum(Fraction(float(p)) * Fraction(float(s)) for p, s in zip(st.prices, supply))) \
        <= DRIFT_BOUND * Fraction(st.cap)


def test_on_integer_data_the_float_path_stays_within_the_bound_of_the_exact_path():
    u = kf.sample_universe()
    day = kf.simulate_day(u, n_ticks=200_000, seed=5)
    sh, p0 = np.asarray(u.shares), np.asarray(u.base_prices)
    d = kf.aggregate_cap(p0, sh) / 2500.0
    exact = kf.replay(sh, p0, d, day.ids, day.prices)
    approx = kf.replay(sh.astype(float), p0.astype(float), d, day.ids, day.prices.astype(float), exact=False)
    rel = np.abs(approx - exact) / exact
    assert rel.max() <= DRIFT_BOUND


def test_a_worked_example():
    # binary fractions: every product and sum is exact, so the levels are too
    lv = kf.replay([0.5, 2.25], [10.0, 0.125], 1.0, [0, 1, 0], [11.0, 0.25, 10.5], exact=False)
    assert lv.tolist() == [5.78125, 6.0625, 5.8125]


@pytest.mark.parametrize("ids,px,msg", [
    ([0, 2], [1.0, 2.0], r"`ids\[1\]` is out of range: ids must be in \[0, 2\), got 2"),
    ([0, 1], [1.0, np.nan], r"`new_prices\[1\]` must be a finite number, got nan"),
    ([0, 1], [-1.0, 1.0], r"`new_prices\[0\]` must be a finite number > 0, got -1.0"),
    ([0, 1], [1.0, np.inf], r"`new_prices\[1\]` must be a finite number, got inf"),
    ([0, 1], [1.0, 0.0], r"`new_prices\[1\]` must be a finite number > 0, got 0.0"),
])
def test_bad_float_trades_are_refused_naming_them(ids, px, msg):
    p = np.array([1.5, 2.5])
    with pytest.raises(ValueError, match=msg):
        kf.replay([1.0, 2.0], p, 1.0, np.array(ids), np.array(px), exact=False)
    assert p.tolist() == [1.5, 2.5]


def test_a_non_numeric_float_price_array_is_a_type_error():
    with pytest.raises(TypeError, match=r"`new_prices` must be a numeric array"):
        kf.replay([1.0, 2.0], [1.5, 2.5], 1.0, [0, 1], ["a", "b"], exact=False)


def test_the_exact_path_refuses_fractions_and_names_the_float_path():
    with pytest.raises(ValueError, match=r"`prices\[0\]` must be a whole number"):
        kf.replay([1, 2], [1.5, 2.0], 1.0, [0], [2])
    with pytest.raises(ValueError, match="rebalances"):
        kf.replay([1.0], [1.5], 1.0, [0], [2.0], exact=False, rebalances=[(0, [0], [1])])
