"""The exact overflow guard: every input whose true aggregate fits in int64 is admitted, a trade
whose true cap after it would exceed int64 is refused (naming the argument, the price and the
cap it would have made), and the refusal leaves every book exactly as it was.

The worked examples are the drop-in trial's (../shared/reviews/drop-in-trial.md, section 1):
under the old uniform bound ``9.0e18 // Σ shares`` a $700,000 share priced in cents and a
$5,000 share priced in 1/10,000 $, in S&P-500-sized universes, were refused although their caps
were 0.7% and 6% of int64. The universes here are synthetic stand-ins of that size (their
share counts are made up, only the totals follow the trial).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast.definitions import IndexDefinition

I64_MAX = 2**63 - 1


def _us_universe(n: int, total_shares: int, unit: int, seed: int = 0):
    """n names with Σ shares = total_shares, prices $20-$400 in units of 1/unit $; stock 0
    is the expensive one (its price is set by the caller)."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.2, 1.0, n)
    shares = np.floor(w / w.sum() * total_shares).astype(np.int64)
    shares[0] = 1_600_000  # an expensive name has few shares (BRK.A-like)
    prices = (rng.uniform(20, 400, n) * unit).astype(np.int64)
    codes = [f"S{i:05d}" for i in range(n)]
    return kf.Universe(codes, codes, shares, prices)


def _exact_level(prices, shares, divisor) -> float:
    return float(sum(int(p) * int(s) for p, s in zip(prices, shares))) / divisor


@pytest.mark.parametrize("unit,price_usd,n", [(100, 700_000, 100), (10_000, 5_000, 500)],
                         ids=["brk-a-in-cents", "5000-usd-in-1e-4-usd"])
def test_the_trials_refused_prices_are_admitted(unit, price_usd, n):
    u = _us_universe(n, 260_000_000_000, unit)
    shares = np.asarray(u.shares)
    price = price_usd * unit
    assert price > 9 * 10**18 // int(shares.sum())  # the old uniform bound refused it
    base = np.asarray(u.base_prices)
    cap0 = kf.aggregate_cap(base, shares)
    divisor = cap0 / 1000.0
    rng = np.random.default_rng(1)
    ids = rng.integers(0, n, 5_000)
    px = (base[ids] * rng.uniform(0.9, 1.1, ids.shape[0])).astype(np.int64)
    ids[100], px[100] = 0, price
    ids[4000], px[4000] = 0, price + unit  # and it trades again
    # replay: exact against a Python-int recount at every 500th trade
    levels = kf.replay(shares, base, divisor, ids, px)
    cur = base.copy()
    for k in range(ids.shape[0]):
        cur[ids[k]] = px[k]
        if k % 500 == 0 or k == ids.shape[0] - 1:
            assert levels[k] == _exact_level(cur, shares, divisor)
    cap = sum(int(p) * int(s) for p, s in zip(cur, shares))
    assert cap < I64_MAX // 10  # far from overflow: 0.7% / 6% of int64 as in the trial
    # engine, one trade and a batch: incremental == recompute, bit for bit
    e = kf.IndexEngine(u, index_shares=shares, base_cap=cap0, base_value=1000.0, price_band=None)
    e.update_many(ids[:4000], px[:4000])
    e.update_id(0, price + unit)
    e.update_many(ids[4001:], px[4001:])
    assert e.cap == cap and e.level == e.recompute() == levels[-1]
    # family (two indices: the whole universe and the first ten names, fixed shares)
    codes = list(u.codes)
    fam = kf.IndexFamily(u, price_band=None, definitions=[IndexDefinition("ALL", codes, weighting="fixed", shares=shares.tolist(), base_cap=cap0,
                                             base_value=1000.0),
                             IndexDefinition("TOP10", codes[:10], weighting="fixed", shares=shares[:10].tolist(),
                                             level=100.0)])
    rows = fam.update_many(ids, px)
    assert rows[-1, 0] == levels[-1]
    assert fam.levels.tobytes() == fam.recompute().tobytes()
    assert int(fam.caps[0]) == cap


def _near_limit():
    """Two stocks whose cap is 2**62 + small: stock 0 has 2**40 shares."""
    shares = np.array([2**40, 3], dtype=np.int64)
    prices = np.array([2**22, 1_000], dtype=np.int64)
    return shares, prices


def test_replay_refuses_exactly_the_first_trade_whose_true_cap_overflows():
    shares, prices = _near_limit()
    cap0 = int(prices @ shares)
    fit = (I64_MAX - (cap0 - int(prices[0]) * 2**40)) // 2**40  # the largest price of stock 0 that fits
    d = 1e12
    levels = kf.replay(shares, prices, d, np.array([0, 1]), np.array([fit, 1]))  # fits: admitted
    assert levels[0] == float(fit * 2**40 + 3000) / d
    assert fit * 2**40 + 3000 <= I64_MAX < (fit + 1) * 2**40 + 3000
    with pytest.raises(ValueError, match=rf"`new_prices\[1\]` = {fit + 1} would overflow the int64 aggregate cap: "
                                         rf"Σ price × shares after it would be {(fit + 1) * 2**40 + 3000}, beyond the "
                                         rf"maximum {I64_MAX}") as info:
        kf.replay(shares, prices, d, np.array([1, 0]), np.array([1_000, fit + 1]))
    assert info.value.overflow_position == 1
    # the same price is fine once another stock made room: the guard follows the real cap
    kf.replay(shares, prices, d, np.array([1, 0]), np.array([1, fit]))
    # the starting cap itself must fit
    with pytest.raises(ValueError, match="overflows int64"):
        kf.replay(shares, np.array([fit + 1, 1_000]), d, np.array([1]), np.array([5]))


def test_aggregate_cap_admits_int64_max_exactly():
    a = np.array
    assert kf.aggregate_cap(a([1, 1]), a([I64_MAX - 5, 5])) == I64_MAX
    assert kf.aggregate_cap(a([2**31, 1]), a([2**32 - 1, 2**31 - 1])) == I64_MAX
    with pytest.raises(ValueError, match=rf"overflows int64: it is {I64_MAX + 1}"):
        kf.aggregate_cap(a([1, 1]), a([I64_MAX - 5, 6]))


def _engine_near_limit():
    shares, prices = _near_limit()
    u = kf.Universe(["A", "B"], ["A", "B"], shares, prices)
    return kf.IndexEngine(u, level=1000.0, price_band=None)


def _state(book):
    return (book.prices.tobytes(), np.asarray(book.levels).tobytes(), book.divisor if hasattr(book, "divisor") else 0)


def test_engine_refuses_an_overflowing_trade_and_changes_nothing():
    e = _engine_near_limit()
    fit = (I64_MAX - 3000) // 2**40
    before = _state(e)
    with pytest.raises(ValueError, match=rf"`price` = {fit + 1} would overflow the int64 aggregate cap: Σ price × "
                                         rf"shares after it would be {(fit + 1) * 2**40 + 3000}"):
        e.update_id(0, fit + 1)
    assert _state(e) == before and e.cap == 2**62 + 3000
    with pytest.raises(ValueError, match=r"`prices\[2\]` = .* would overflow"):
        e.update_many([1, 1, 0, 1], [5, 6, fit + 1, 7])
    assert _state(e) == before
    assert e.update("A", fit) == e.recompute()  # the largest price that fits is admitted
    assert e.cap == fit * 2**40 + 3000
    room = (I64_MAX - e.cap) // 3  # B (3 shares) may now rise by at most this much
    with pytest.raises(ValueError, match=rf"`price` = {1_000 + room + 1} would overflow"):
        e.update("B", 1_000 + room + 1)
    e.update("B", 1_000 + room)
    assert e.level == e.recompute() and e.cap > I64_MAX - 3


def _family_near_limit():
    shares, prices = _near_limit()
    u = kf.Universe(["A", "B", "C"], ["A", "B", "C"], [*shares, 10], [*prices, 50])
    return kf.IndexFamily(u, price_band=None, definitions=[IndexDefinition("SMALL", ["B", "C"], weighting="fixed", shares=[3, 10], level=100.0),
                              IndexDefinition("BIG", ["A", "B"], weighting="fixed", shares=[2**40, 3], level=1000.0)])


@pytest.mark.parametrize("sample", [None, "every", "dense", "sparse"])
def test_family_refuses_an_overflowing_trade_on_every_kernel_path(sample):
    fam = _family_near_limit()
    fit = (I64_MAX - 3000) // 2**40
    m = 600
    ids = np.full(m, 1)
    px = np.full(m, 1_000)
    ids[300], px[300] = 0, fit + 1
    samples = {None: None, "every": None, "dense": np.arange(0, m, 2), "sparse": np.array([0, m - 1])}[sample]
    before = (fam.prices.tobytes(), fam.levels.tobytes(), fam.caps.tobytes())
    call = (lambda: fam.update_many(ids, px)) if sample == "every" else (lambda: fam.update_many(ids, px, sample_at=samples))
    if sample is None:
        call = lambda: fam.update_many(ids, px, sample_at=np.empty(0, np.int64))  # noqa: E731  (final only)
    with pytest.raises(ValueError, match=rf"`prices\[300\]` = {fit + 1} would overflow the int64 aggregate cap of "
                                         r"index 'BIG': Σ price × shares after it would be \d+"):
        call()
    assert (fam.prices.tobytes(), fam.levels.tobytes(), fam.caps.tobytes()) == before
    px[300] = fit  # fits: admitted on the same path, exact
    call()
    assert int(fam.caps[1]) == fit * 2**40 + 3000
    assert fam.levels.tobytes() == fam.recompute().tobytes()


def _times(n):
    return (9 * 3600 + 1) * 10**9 + np.arange(n, dtype=np.int64) * 10**6


@pytest.mark.parametrize("book", ["engine", "family"])
def test_a_validated_feed_refuses_an_overflowing_trade(book):
    b = _engine_near_limit() if book == "engine" else _family_near_limit()
    fit = (I64_MAX - 3000) // 2**40
    ids, px = np.array([1, 0, 1]), np.array([1_001, fit + 1, 1_002])
    day = kf.TradingDay(b, "2026-03-23", validate=False, check_calendar=False)
    before = np.asarray(b.levels).tobytes()
    with pytest.raises(ValueError, match=r"trade 1 .*rejected: .*int64"):
        day.feed(_times(3), ids, px)
    assert np.asarray(b.levels).tobytes() == before
    res = day.feed(_times(3), ids, px, policy="reject")
    assert res.status.tolist() == [0, 3, 0]
    assert b.prices.tolist()[:2] == [2**22, 1_002]
    assert np.asarray(b.levels).tobytes() == np.asarray(b.recompute_levels()).tobytes()


@st.composite
def _streams(draw):
    n = draw(st.integers(1, 5))
    shares = draw(st.lists(st.integers(0, 2**45), min_size=n, max_size=n))
    if not any(shares):
        shares[0] = 1
    total = sum(shares)
    hi = max(1, I64_MAX // total)
    prices = draw(st.lists(st.integers(1, hi), min_size=n, max_size=n))
    m = draw(st.integers(0, 30))
    trades = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, min(4 * hi, I64_MAX))), min_size=m, max_size=m))
    return shares, prices, trades


@settings(max_examples=150, deadline=None, database=None)
@given(_streams())
@example(([1], [1], [(0, I64_MAX)]))  # the cap lands exactly on int64's maximum: accepted
@example(([1], [1], [(0, I64_MAX), (0, 1), (0, I64_MAX)]))
def test_replay_and_engine_refuse_exactly_where_python_ints_overflow(stream):
    shares, prices, trades = stream
    sh, p0 = np.array(shares, np.int64), np.array(prices, np.int64)
    ids = np.array([t[0] for t in trades], np.int64)
    px = np.array([t[1] for t in trades], np.int64)
    cur, first_bad, caps = list(prices), None, []
    for k, (i, p) in enumerate(trades):
        old, cur[i] = cur[i], p
        c = sum(a * b for a, b in zip(cur, shares))
        if c > I64_MAX:
            first_bad, cur[i] = k, old
            break
        caps.append(c)
    d = 12345.678
    u = kf.Universe([f"C{i}" for i in range(len(shares))], ["x"] * len(shares), sh, p0)
    e = kf.IndexEngine(u, index_shares=sh, base_cap=d * 100.0, price_band=None)
    if first_bad is None:
        levels = kf.replay(sh, p0, d, ids, px)
        assert levels.tolist() == [float(c) / d for c in caps]
        e.update_many(ids, px)
        assert e.level == e.recompute() and (not caps or e.cap == caps[-1])
    else:
        with pytest.raises(ValueError, match="would overflow") as info:
            kf.replay(sh, p0, d, ids, px)
        assert info.value.overflow_position == first_bad
        with pytest.raises(ValueError, match="would overflow") as info:
            e.update_many(ids, px)
        assert info.value.overflow_position == first_bad
        assert e.prices.tolist() == prices  # nothing of the batch applied
        e.update_many(ids[:first_bad], px[:first_bad])  # the trades before it are fine, one by one too
        with pytest.raises(ValueError, match="would overflow"):
            e.update_id(int(ids[first_bad]), int(px[first_bad]))
        assert e.level == e.recompute()
