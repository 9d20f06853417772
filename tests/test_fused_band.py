"""Issue 16: the price band checked inside the batch kernel's loop, and the single trade's C-level
range checks.

``IndexEngine.update_many`` with a band ran a separate scan for the first out-of-band trade
(``first_outside_band``) before the tick kernel; now one kernel (``_ticks.apply_ticks_band``)
tests each trade's id, band and the cap's overflow in the same loop. Its results must be those
of a plain-Python model of the engine (exact int cap, the first bad trade of any kind named,
nothing applied on an error) and, for a good batch, bit-identical to the old two-pass path.
``update``/``update_id`` take their range checks in C; they must agree with ``update_many`` of
one trade for every input, good or bad.
"""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast._engine import first_outside_band
from kospi_fast._ticks import apply_ticks_inplace

INT64_MAX = 2**63 - 1


def _engine(shares, prices, lo=None, hi=None):
    n = len(shares)
    u = kf.Universe([f"{i:06d}" for i in range(n)], [f"S{i}" for i in range(n)],
                    np.asarray(shares, dtype=np.int64), np.asarray(prices, dtype=np.int64))
    e = kf.IndexEngine(u, level=1000.0, index_shares=np.asarray(shares, dtype=np.int64))
    if lo is not None:
        e._core_set_band(np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64))
    return e


def _model(e, ids, prices):
    """Plain-Python update_many: ("ok", levels, prices after) or ("err", position, kind)."""
    lo, hi = e._core_band()
    px = [int(x) for x in e.prices]
    sh = [int(x) for x in e.index_shares]
    cap = sum(p * s for p, s in zip(px, sh))
    assert cap == e.cap
    out = []
    for k, (i, p) in enumerate(zip(ids, prices)):
        i, p = int(i), int(p)
        if not 0 <= i < len(px):
            return "err", k, "id"
        if p <= 0:
            return "err", k, "price"
        if p < lo[i] or p > hi[i]:
            return "err", k, "band"
        new = cap + (p - px[i]) * sh[i]
        if new > INT64_MAX:
            return "err", k, "overflow"
        cap, px[i] = new, p
        out.append(float(cap) / e.divisor)
    return "ok", out, px


def _kind(msg):
    for pattern, kind in ((r"`ids\[(\d+)\]` is out of range", "id"), (r"`prices\[(\d+)\]` must be > 0", "price"),
                          (r"`prices\[(\d+)\]` = [\d,]+ for stock .* is outside its price band", "band"),
                          (r"`prices\[(\d+)\]` = \d+ would overflow", "overflow")):
        m = re.search(pattern, msg)
        if m:
            return int(m.group(1)), kind
    raise AssertionError(f"unrecognised error: {msg}")


def _run(e, ids, prices):
    before = (e.cap, e.prices.tobytes())
    want = _model(e, ids, prices)
    if want[0] == "ok":
        got = e.update_many(ids, prices)
        np.testing.assert_array_equal(got, np.array(want[1], dtype=np.float64))
        assert got.tobytes() == np.array(want[1], dtype=np.float64).tobytes()  # bit for bit
        assert e.prices.tolist() == want[2]
        assert e.cap == sum(int(p) * int(s) for p, s in zip(e.prices, e.index_shares))
    else:
        with pytest.raises(ValueError) as exc:
            e.update_many(ids, prices)
        assert _kind(str(exc.value)) == (want[1], want[2])
        assert (e.cap, e.prices.tobytes()) == before  # all or nothing
    return want


def _old_two_pass(e, ids, prices):
    """The path before issue 16: the band scan, then the plain kernel on a copy."""
    lo, hi = e._core_band()
    ids = np.ascontiguousarray(ids)
    prices = np.ascontiguousarray(prices, dtype=np.int64)
    k = first_outside_band(ids, prices, lo, hi, INT64_MAX)
    levels = np.empty(len(prices))
    bad, cap = apply_ticks_inplace(e.prices, e.index_shares, ids, prices, INT64_MAX, e.cap, e.divisor, levels)
    return k, bad, levels


@st.composite
def books(draw):
    n = draw(st.integers(1, 6))
    big = draw(st.booleans())  # huge shares and bands: the overflow guard and band_fits() false
    top_s, top_p = (2**40, 2**45) if big else (10**9, 10**7)
    shares = draw(st.lists(st.integers(0, top_s), min_size=n, max_size=n))
    if not any(shares):
        shares[0] = 1
    prices = draw(st.lists(st.integers(1, 2**20), min_size=n, max_size=n))
    lo = draw(st.lists(st.integers(-3, top_p), min_size=n, max_size=n))
    hi = draw(st.lists(st.integers(-3, top_p), min_size=n, max_size=n))
    if draw(st.booleans()):  # mostly non-empty bands, some empty ones (hi < lo) kept
        lo, hi = [min(a, b) for a, b in zip(lo, hi)], [max(a, b) for a, b in zip(lo, hi)]
    m = draw(st.integers(0, 4 * n + 4))  # both sides of n_ticks > n_stocks
    ids = draw(st.lists(st.integers(-1, n), min_size=m, max_size=m))
    px = draw(st.lists(st.one_of(st.integers(-2, top_p), st.sampled_from(lo + hi)), min_size=m, max_size=m))
    wide = draw(st.booleans())
    return shares, prices, lo, hi, np.array(ids, dtype=np.int64 if wide else np.int32), np.array(px, dtype=np.int64)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_banded_batch_equals_the_model_and_the_old_two_pass_path(book):
    shares, prices, lo, hi, ids, px = book
    e = _engine(shares, prices, lo, hi)
    k_old, bad_old, levels_old = _old_two_pass(e, ids, px)
    want = _run(e, ids, px)
    if want[0] == "ok":  # a good batch: the old path took it too, with the same levels bit for bit
        assert k_old == -1 and bad_old == -1
        assert levels_old.tobytes() == np.array(want[1]).tobytes()
    elif want[2] == "band" and k_old != -1:  # the old band scan named the same trade
        assert k_old == want[1]


def test_default_band_batch_on_the_sample_day(sample):
    day = kf.simulate_day(sample, n_ticks=50_000, seed=7)
    banded = kf.IndexEngine(sample, level=5781.2)
    free = kf.IndexEngine(sample, level=5781.2, price_band=None)
    a = banded.update_many(day.ids, day.prices)
    b = free.update_many(day.ids, day.prices)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() == kf.replay(sample.shares, sample.base_prices, banded.divisor, day.ids, day.prices).tobytes()


def test_out_of_band_trade_in_a_long_batch_names_position_value_and_band(sample):
    e = kf.IndexEngine(sample, level=5781.2)
    day = kf.simulate_day(sample, n_ticks=5_000, seed=3)
    ids, prices = day.ids.copy(), day.prices.copy()
    lo, hi = e.band_limits()
    i = int(ids[4321])
    prices[4321] = int(hi[i]) + 1
    before = (e.cap, e.prices.tobytes())
    with pytest.raises(ValueError, match=rf"`prices\[4321\]` = {int(hi[i]) + 1:,} for stock '{sample.codes[i]}' "
                                         rf"\(id {i}\) is outside its price band \[{int(lo[i]):,}, {int(hi[i]):,}\]"):
        e.update_many(ids, prices)
    assert (e.cap, e.prices.tobytes()) == before


def test_worked_example_every_refusal_and_the_first_one_wins():
    # two stocks, shares 10 and 5, prices 100 and 200: cap 2000; bands [90, 110] and [150, 250]
    e = _engine([10, 5], [100, 200], [90, 150], [110, 250])
    assert e.update_many([0, 1, 0], [110, 250, 90]).tolist() == [
        (2000 + 100) / e.divisor, (2100 + 250) / e.divisor, (2350 - 200) / e.divisor]
    for ids, px, k, kind in (([0, 2], [100, 200], 1, "id"), ([0, 1], [100, 0], 1, "price"),
                             ([1, 0, 0], [200, 111, 2], 1, "band"), ([1, 0], [149, 5], 0, "band"),
                             ([-1, 0], [100, 89], 0, "id")):
        before = (e.cap, e.prices.tobytes())
        with pytest.raises(ValueError) as exc:
            e.update_many(np.array(ids), np.array(px))
        assert _kind(str(exc.value)) == (k, kind)
        assert (e.cap, e.prices.tobytes()) == before


def test_overflow_before_a_later_band_miss_is_named_first():
    # the fused kernel reports the first bad trade of any kind (the old scan named the band miss)
    e = _engine([2**40, 1], [1, 1], [1, 1], [2**30, 10])
    with pytest.raises(ValueError) as exc:
        e.update_many([0, 0, 1, 1, 1], [2**22, 2**30, 3, 11, 4])  # 2**70 overflows at trade 1
    assert _kind(str(exc.value)) == (1, "overflow")
    assert e.prices.tolist() == [1, 1]


ODD = [True, -1, 2**64, 2**70, -(2**70), 1.0, 2.5, "1", None, np.int64(1), np.int32(0), 0, 3]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4), st.one_of(st.integers(-2, 5), st.sampled_from(ODD)),
       st.one_of(st.integers(-2, 400), st.sampled_from(ODD + [2**63 - 1, 2**63, 150, 250, 251])))
def test_single_trade_equals_a_batch_of_one(n, stock_id, price):
    e = _engine([10, 5, 7, 1][:n], [100, 200, 150, 3][:n], [90, 150, 100, 1][:n], [110, 250, 2**62, 5][:n])
    f = _engine([10, 5, 7, 1][:n], [100, 200, 150, 3][:n], [90, 150, 100, 1][:n], [110, 250, 2**62, 5][:n])
    before = (e.cap, e.prices.tobytes())
    try:
        want = float(f.update_many(np.array([stock_id], dtype=np.int64), np.array([price], dtype=np.int64))[0])
    except (TypeError, ValueError, OverflowError):
        want = None
    if isinstance(stock_id, (bool, float, str)) or stock_id is None \
            or isinstance(price, (bool, str)) or price is None:
        want = None  # update_id refuses a non-integer id / price outright; update_many's arrays cast them
    if isinstance(price, float) and want is not None and price != int(price):
        want = None
    if want is None:
        with pytest.raises((TypeError, ValueError, OverflowError)):
            e.update_id(stock_id, price)
        assert (e.cap, e.prices.tobytes()) == before
    else:
        assert e.update_id(stock_id, price) == want
        assert e.prices.tobytes() == f.prices.tobytes() and e.cap == f.cap
        if isinstance(stock_id, int) and not isinstance(stock_id, bool):
            g = _engine([10, 5, 7, 1][:n], [100, 200, 150, 3][:n], [90, 150, 100, 1][:n], [110, 250, 2**62, 5][:n])
            assert g.update(f"{stock_id:06d}", price) == want
