"""Other index designs on the stateful layer, each against an independent computation (Python
ints and Fractions, written here): a US-style cap-weighted index (prices in cents,
float-adjusted shares, quarterly reviews), a price-weighted (Dow-style) index with a split, an
equal-weighted index with its own notional, and corporate-action price rounding to another
market's grid. All inputs are integers, so every comparison is exact. The data are synthetic
stand-ins (made-up tickers' sizes), not real market data."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import krx, reference
from kospi_fast.definitions import EQUAL_NOTIONAL, IndexDefinition
from kospi_fast.events import BonusIssue, RightsIssue, Split

TICKERS = ["AAPL", "MSFT", "BRK.B", "NVDA", "AMZN", "GOOGL", "JPM", "XOM"]


def _us(seed=0):
    rng = np.random.default_rng(seed)
    out = rng.integers(10**9, 2 * 10**10, len(TICKERS))
    prices = rng.integers(5_000, 90_000, len(TICKERS))  # cents
    return kf.Universe(TICKERS, TICKERS, out, prices), out, prices


def _level(prices, shares, divisor):
    return float(Fraction(sum(int(p) * int(s) for p, s in zip(prices, shares))) / Fraction(divisor))


def test_us_style_cap_weighted_with_quarterly_reviews_is_exact():
    u, out, p0 = _us()
    iwf = [Fraction(85, 100), Fraction(1), Fraction(6, 10), Fraction(1), Fraction(9, 10), Fraction(1), Fraction(1),
           Fraction(95, 100)]
    float_sh = [int((o * f).__round__()) for o, f in zip(out, iwf)]  # the user's own rint(out × IWF)
    fam = kf.IndexFamily(u, [IndexDefinition("US", TICKERS[:6], weighting="fixed", shares=float_sh[:6], level=4000.0)])
    rng = np.random.default_rng(1)
    shares = float_sh[:6] + [0, 0]
    divisor = fam.divisors[0]
    prices = [int(x) for x in p0]
    for quarter in range(4):
        ids = rng.integers(0, 8, 2_000)
        px = (np.asarray(prices)[ids] * rng.uniform(0.98, 1.02, ids.shape[0])).astype(np.int64)
        rows = fam.update_many(ids, px, sample_at=np.arange(0, 2_000, 250))
        for j, t in enumerate(range(0, 2_000, 250)):
            cur = list(prices)
            for k in range(t + 1):
                cur[ids[k]] = int(px[k])
            assert rows[j, 0] == _level(cur, shares, divisor)
        for i, pp in zip(ids.tolist(), px.tolist()):
            prices[i] = pp
        # the review: new IWFs for two names, JPM in, a name out; the level is kept
        new_members = [t for t in TICKERS[:7] if t != TICKERS[quarter]]
        new_sh = [int(out[TICKERS.index(t)] * Fraction(9 if t == "JPM" else 10, 10) + Fraction(1, 2))
                  for t in new_members]
        before = _level(prices, shares, divisor)
        fam.rebalance({"US": IndexDefinition("US", new_members, weighting="fixed", shares=new_sh, level=4000.0)})
        cap_before = sum(p * s for p, s in zip(prices, shares))
        shares = [new_sh[new_members.index(t)] if t in new_members else 0 for t in TICKERS]
        cap_after = sum(p * s for p, s in zip(prices, shares))
        divisor = float(Fraction(divisor) * cap_after / cap_before)
        assert fam.divisors[0] == divisor and fam.levels[0] == _level(prices, shares, divisor)
        assert abs(fam.levels[0] - before) <= 1e-12 * before
    assert fam.levels.tobytes() == fam.recompute().tobytes()


def test_price_weighted_index_with_a_split_to_the_cent():
    u, _, p0 = _us(2)
    fam = kf.IndexFamily(u, [IndexDefinition("DOW8", TICKERS, weighting="price", level=40_000.0)])
    ids, sh = fam.index_shares("DOW8")
    assert sh.tolist() == [1] * 8
    prices = [int(x) for x in p0]
    divisor = float(sum(prices)) / 40_000.0
    assert fam.divisors[0] == divisor
    fam.update_many([0, 3], [prices[0] + 77, prices[3] - 13])
    prices[0] += 77
    prices[3] -= 13
    assert fam.levels[0] == float(sum(prices)) / divisor
    # AAPL splits 4:1; a US split rounds the base price to the cent (grid=1), not KRX's tick
    exact = Fraction(prices[0], 4)
    fam.apply_events([Split("AAPL", 4, rounding="nearest", grid=1)])
    new_p = int(exact + Fraction(1, 2))  # nearest, half up
    assert fam.prices[0] == new_p == krx.split_price(prices[0], 4, rounding="nearest", grid=1)
    before = sum(prices)
    prices[0] = new_p
    divisor = float(Fraction(divisor) * sum(prices) / before)
    assert fam.divisors[0] == divisor and fam.levels[0] == float(sum(prices)) / divisor
    # the same through the slow twin
    r = reference.ReferenceFamily(TICKERS, [1] * 8, [int(x) for x in p0],
                                  [{"name": "DOW8", "members": TICKERS, "weighting": "price", "level": 40_000.0}])
    assert r.levels[0] == _level(p0, [1] * 8, r.divisors[0])


def test_equal_weighted_index_takes_its_own_notional():
    u, _, p0 = _us(3)
    small = IndexDefinition("EW", TICKERS, weighting="equal", notional=10**6, base_value=1000.0)
    big = IndexDefinition("EWBIG", TICKERS, weighting="equal", base_value=1000.0)
    fam = kf.IndexFamily(u, [small, big])
    want_small = [max(1, round(Fraction(10**6, int(p)))) for p in p0]
    want_big = [max(1, round(Fraction(EQUAL_NOTIONAL, int(p)))) for p in p0]
    assert fam.index_shares("EW")[1].tolist() == want_small
    assert fam.index_shares("EWBIG")[1].tolist() == want_big
    # weights: each member's value within 1 share of notional
    w = np.asarray(want_small) * p0
    assert (np.abs(w - 10**6) <= p0).all()
    r = reference.ReferenceFamily(TICKERS, [1] * 8, [int(x) for x in p0],
                                  [{"name": "EW", "members": TICKERS, "weighting": "equal", "notional": 10**6,
                                    "base_value": 1000.0}])
    assert list(r.index_shares("EW").values()) == want_small
    fam.update_many([1, 2], [int(p0[1]) + 5, int(p0[2]) - 5])
    assert fam.levels.tobytes() == fam.recompute().tobytes()
    with pytest.raises(ValueError, match="`notional` is for an equal-weighted index only"):
        IndexDefinition("X", TICKERS, notional=10)
    with pytest.raises(ValueError, match=r"`notional` must be > 0, got -1"):
        IndexDefinition("X", TICKERS, weighting="equal", notional=-1)
    with pytest.raises(ValueError, match="a price-weighted index takes no"):
        IndexDefinition("X", TICKERS, weighting="price", float_ratios=[1.0] * 8)


@pytest.mark.parametrize("event,krx_price,grid_price", [
    (Split("AAPL", 4, rounding="nearest"), 5_680, 5_678),          # 22,713 / 4 = 5,678.25
    (BonusIssue("AAPL", 50, 100, rounding="down"), 15_140, 15_142),  # 22,713 × 100/150 = 15,142
    (RightsIssue("AAPL", 10_000, 20, 100, rounding="up"), 20_600, 20_595),  # (22,713×100+10,000×20)/120
])
def test_corporate_action_price_rounding_is_a_parameter(event, krx_price, grid_price):
    u = kf.Universe(["AAPL", "MSFT"], ["a", "m"], [1_000, 2_000], [22_713, 41_000])
    e = kf.IndexEngine(u, level=6000.0)
    e.apply_events([event])
    assert e.prices[0] == krx_price  # KRX's tick table (default)
    cls = type(event)
    fields = {f: getattr(event, f) for f in event.__dataclass_fields__}
    e2 = kf.IndexEngine(u, level=6000.0)
    e2.apply_events([cls(**{**fields, "grid": 1})])
    assert e2.prices[0] == grid_price  # to the cent
    e3 = kf.IndexEngine(u, level=6000.0)
    e3.apply_events([cls(**{**fields, "grid": 100})])
    assert e3.prices[0] % 100 == 0  # to the dollar
    with pytest.raises(ValueError, match=r"`grid` must be None \(KRX's tick table\) or a whole number"):
        cls(**{**fields, "grid": 0})


def test_a_finer_price_unit_makes_a_split_exact():
    # 1/10,000 $ units: 22,713 cents = 2,271,300; / 4 = 567,825 exactly: the cap does not move
    u = kf.Universe(["AAPL", "MSFT"], ["a", "m"], [1_000, 2_000], [2_271_300, 4_100_000])
    e = kf.IndexEngine(u, level=6000.0)
    rec = e.apply_events([Split("AAPL", 4, grid=1)])
    assert e.prices[0] == 567_825 and rec.cap_before == rec.cap_after and rec.divisor_after == rec.divisor_before
