"""replay(..., return_state=True) and share changes at trade positions: a quarter with
rebalances in one call, equal to the slow twin, to the same replay run in segments, and to an
exact recount at every trade."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import reference


def _quarter(seed=0, n=60, m=20_000):
    """A US-style stand-in: prices in cents, float-adjusted shares (rint(shares_out × IWF)),
    three quarterly reviews with new IWFs and a name swapped out (0 shares) and in."""
    rng = np.random.default_rng(seed)
    out = rng.integers(10**8, 10**10, n)
    iwf = rng.choice([0.6, 0.85, 1.0], n)
    shares = np.rint(out * iwf).astype(np.int64)
    shares[-3:] = 0  # future entrants
    prices = rng.integers(500, 300_000, n).astype(np.int64)  # $5 .. $3,000 in cents
    ids = rng.integers(0, n, m)
    px = np.maximum(1, (prices[ids] * rng.uniform(0.95, 1.05, m))).astype(np.int64)
    rebal = []
    for q, at in enumerate((m // 4, m // 2, 3 * m // 4)):
        changed = np.sort(rng.choice(n - 3, 8, replace=False))
        new = np.rint(out[changed] * rng.choice([0.6, 0.85, 1.0], 8)).astype(np.int64)
        new[0] = 0  # a name leaves
        ids_q = np.append(changed, n - 3 + q)  # a name joins
        new_q = np.append(new, int(out[n - 3 + q]))
        rebal.append((at, ids_q, new_q))
    divisor = kf.aggregate_cap(prices, shares) / 1000.0
    return shares, prices, divisor, ids, px, rebal


def test_a_quarter_with_rebalances_is_one_call_equal_to_segments_and_the_slow_twin():
    shares, prices, d, ids, px, rebal = _quarter()
    st_ = kf.replay(shares, prices, d, ids, px, rebalances=rebal, return_state=True)
    # the same by hand: replay a segment, take the state, rebase exactly, go on
    sh, cur, div, parts, start = shares.copy(), prices.copy(), d, [], 0
    for at, r_ids, r_new in rebal + [(len(px), np.empty(0, np.intp), np.empty(0, np.int64))]:
        seg = kf.replay(sh, cur, div, ids[start:at], px[start:at], return_state=True)
        parts.append(seg.levels)
        cur, start = seg.prices, at
        if r_ids.size:
            before = seg.cap
            sh = sh.copy()
            sh[r_ids] = r_new
            after = kf.aggregate_cap(cur, sh)
            div = float(Fraction(div) * after / before)  # the exact rule, rounded once
            assert div == kf.rebase_divisor(seg.divisor, before, after)
            assert abs(after / div - before / seg.divisor) <= 2e-16 * (before / seg.divisor)  # level kept
    levels = np.concatenate(parts)
    assert st_.levels.tobytes() == levels.tobytes()
    assert st_.divisor == div and st_.shares.tolist() == sh.tolist() and st_.prices.tolist() == cur.tolist()
    assert st_.cap == sum(int(a) * int(b) for a, b in zip(cur, sh))
    # the slow twin, every trade recounted in full
    slow = reference.replay(shares.tolist(), prices.tolist(), d, ids[:6000].tolist(), px[:6000].tolist(),
                            rebalances=[(a, i.tolist(), s.tolist()) for a, i, s in rebal if a <= 6000],
                            return_state=True)
    fast = kf.replay(shares, prices, d, ids[:6000], px[:6000], rebalances=[r for r in rebal if r[0] <= 6000],
                     return_state=True)
    assert fast.levels.tolist() == slow[0] and fast.prices.tolist() == slow[1] and fast.shares.tolist() == slow[2]
    assert fast.cap == slow[3] and fast.divisor == slow[4]


def test_a_rebalance_keeps_the_level():
    sh, p = np.array([10, 20, 0]), np.array([100, 50, 70])
    st_ = kf.replay(sh, p, 20.0, np.array([0, 0]), np.array([110, 110]), rebalances=[(1, [1, 2], [5, 40])],
                    return_state=True)
    # after trade 0 the cap is 2100 at divisor 20 (level 105); the change makes it 110*10+50*5+70*40
    assert st_.levels.tolist() == [105.0, 4150 / kf.rebase_divisor(20.0, 2100, 4150)]
    assert abs(st_.levels[1] - 105.0) < 1e-12
    # at position 0 and at the end
    st0 = kf.replay(sh, p, 20.0, np.array([0]), np.array([110]), rebalances=[(0, [2], [1]), (1, [0], [0])],
                    return_state=True)
    assert st0.shares.tolist() == [0, 20, 1] and st0.cap == 50 * 20 + 70


@pytest.mark.parametrize("rebal,exc,msg", [
    ([(3, [0], [1])], ValueError, r"`rebalances\[0\]` position must be ascending in \[0, 2\], got 3"),
    ([(1, [0], [1]), (0, [1], [1])], ValueError, r"`rebalances\[1\]` position must be ascending in \[1, 2\], got 0"),
    ([(1, [5], [1])], ValueError, r"`rebalances\[0\] ids\[0\]` is out of range"),
    ([(1, [0], [-1])], ValueError, r"`rebalances\[0\] new_shares\[0\]` must be >= 0, got -1"),
    ([(1, [0, 0], [1, 2])], ValueError, r"`rebalances\[0\]` names a stock more than once"),
    ([(1, [0, 1], [0, 0])], ValueError, r"`rebalances\[0\]`: the cap before and after must be > 0"),
    ([(1, [0], [2**62])], ValueError, r"`rebalances\[0\]` would overflow the int64 aggregate cap"),
    ([(1.0, [0], [1])], TypeError, r"`rebalances\[0\]` position must be an int"),
    ([(1, [0])], TypeError, r"`rebalances\[0\]` must be a \(position, ids, new_shares\) triple"),
    ("1", TypeError, r"`rebalances` must be a sequence"),
])
def test_bad_rebalances_are_refused_naming_them(rebal, exc, msg):
    sh, p = np.array([10, 20]), np.array([100, 50])
    with pytest.raises(exc, match=msg):
        kf.replay(sh, p, 20.0, np.array([0, 1]), np.array([110, 40]), rebalances=rebal)
    assert sh.tolist() == [10, 20] and p.tolist() == [100, 50]  # inputs never mutated


@settings(max_examples=60, deadline=None, database=None)
@given(st.data())
def test_rebalanced_replay_equals_the_slow_twin(data):
    n = data.draw(st.integers(1, 6))
    m = data.draw(st.integers(0, 25))
    sh = data.draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n))
    p0 = data.draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n))
    ids = data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    px = data.draw(st.lists(st.integers(1, 10**6), min_size=m, max_size=m))
    pos = sorted(data.draw(st.lists(st.integers(0, m), max_size=3)))
    rebal = [(a, [data.draw(st.integers(0, n - 1))], [data.draw(st.integers(1, 10**6))]) for a in pos]
    fast = kf.replay(np.array(sh), np.array(p0), 7.5, np.array(ids, np.int64), np.array(px, np.int64),
                     rebalances=rebal, return_state=True)
    slow = reference.replay(sh, p0, 7.5, ids, px, rebalances=rebal, return_state=True)
    assert fast.levels.tolist() == slow[0] and fast.prices.tolist() == slow[1] and fast.shares.tolist() == slow[2]
    assert fast.cap == slow[3] and fast.divisor == slow[4]
