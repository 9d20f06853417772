"""Hypothesis properties: incremental == full recompute, batching-invariance, rebasing continuity."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import reference


@st.composite
def universes_and_ticks(draw, max_stocks=40, max_ticks=200):
    n = draw(st.integers(1, max_stocks))
    shares = draw(st.lists(st.integers(0, 6_000_000_000), min_size=n, max_size=n))
    if not any(shares):
        shares[0] = 1
    prices = draw(st.lists(st.integers(1, 3_000_000), min_size=n, max_size=n))
    m = draw(st.integers(0, max_ticks))
    ids = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    new_prices = draw(st.lists(st.integers(1, 3_000_000), min_size=m, max_size=m))
    u = kf.Universe([f"{i:06d}" for i in range(n)], [f"S{i}" for i in range(n)], shares, prices)
    return u, np.array(ids, dtype=np.intp), np.array(new_prices, dtype=np.int64)


@given(universes_and_ticks(), st.floats(1.0, 1e6))
def test_incremental_equals_full_recompute(data, level):
    u, ids, prices = data
    e = kf.IndexEngine(u, level=level, price_band=None)
    levels = e.update_many(ids, prices)
    assert e.level == e.recompute()
    assert e.cap == reference.aggregate_cap(e.prices.tolist(), u.shares.tolist())
    if len(ids):
        assert levels[-1] == e.level
    # and single-trade updates agree with the batch, tick by tick
    e2 = kf.IndexEngine(u, level=level, price_band=None)
    singles = [e2.update_id(int(i), int(p)) for i, p in zip(ids, prices)]
    assert singles == levels.tolist()


@given(universes_and_ticks(), st.lists(st.integers(0, 200), max_size=6))
def test_batching_does_not_matter(data, cuts):
    u, ids, prices = data
    whole = kf.replay(u.shares, u.base_prices, 123.0, ids, prices)
    e = kf.IndexEngine(u, base_cap=123.0 * 100, price_band=None)
    bounds = sorted({0, len(ids), *[c for c in cuts if c <= len(ids)]})
    parts = [e.update_many(ids[a:b], prices[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    joined = np.concatenate(parts) if parts else np.empty(0)
    np.testing.assert_array_equal(joined, whole)


@settings(max_examples=150)
@given(
    universes_and_ticks(max_ticks=50),
    st.data(),
)
def test_rebasing_never_moves_the_level(data, draw):
    u, ids, prices = data
    e = kf.IndexEngine(u, level=2500.0, price_band=None)
    e.update_many(ids, prices)
    n = len(u)
    k = draw.draw(st.integers(1, n))
    changed = draw.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    new_p = draw.draw(st.lists(st.integers(1, 3_000_000), min_size=k, max_size=k))
    new_s = draw.draw(st.lists(st.integers(0, 6_000_000_000), min_size=k, max_size=k))
    cur_s = e.index_shares
    cur_s[changed] = new_s
    if not cur_s.any():
        return  # would empty the index: covered by the bad-input tests
    before = e.level
    rec = e.apply_changes(changed, prices=new_p, index_shares=new_s)
    after = e.level
    assert abs(after - before) <= 4 * np.spacing(before)
    assert rec.level_before == before and rec.level_after == after
    assert e.level == e.recompute()
    # the reference rebases to the same divisor
    assert rec.divisor_after == reference.rebase_divisor(rec.divisor_before, rec.cap_before, rec.cap_after)
    assert rec.cap_after == reference.aggregate_cap(e.prices.tolist(), e.index_shares.tolist())
