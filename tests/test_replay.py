"""replay and IndexEngine against the plain-Python reference: exact equality on int64."""

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import reference

from conftest import random_ticks, random_universe


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n", [1, 7, 120])
def test_replay_equals_reference(seed, n):
    rng = np.random.default_rng(seed)
    u = random_universe(rng, n)
    ids, prices = random_ticks(rng, u, 400)
    divisor = float(rng.uniform(1e6, 1e12))
    got = kf.replay(u.shares, u.base_prices, divisor, ids, prices)
    want = reference.replay(u.shares.tolist(), u.base_prices.tolist(), divisor, ids.tolist(), prices.tolist())
    assert got.dtype == np.float64 and got.shape == (400,)
    assert got.tolist() == want  # bit for bit


def test_replay_hand_example():
    # caps: 10*100 + 20*50 = 2000 -> trade 0 at 110: 2100 -> trade 1 at 40: 1900
    got = kf.replay(np.array([10, 20]), np.array([100, 50]), 20.0, np.array([0, 1]), np.array([110, 40]))
    assert got.tolist() == [105.0, 95.0]


@pytest.mark.parametrize("id_dtype", [np.int32, np.int64, np.intp, np.uint16, np.int8])
def test_replay_id_dtypes(id_dtype):
    rng = np.random.default_rng(1)
    u = random_universe(rng, 50)
    ids, prices = random_ticks(rng, u, 300)
    want = kf.replay(u.shares, u.base_prices, 7.0, ids, prices)
    got = kf.replay(u.shares, u.base_prices, 7.0, ids.astype(id_dtype), prices)
    np.testing.assert_array_equal(got, want)


def test_replay_accepts_integral_floats_and_lists():
    got = kf.replay([10, 20], [100.0, 50.0], 20, [0, 1], [110.0, 40.0])
    assert got.tolist() == [105.0, 95.0]


def test_replay_does_not_mutate_inputs(rng):
    u = random_universe(rng, 30)
    ids, prices = random_ticks(rng, u, 100)
    sh, bp, i2, p2 = u.shares.copy(), u.base_prices.copy(), ids.copy(), prices.copy()
    kf.replay(sh, bp, 3.0, i2, p2)
    np.testing.assert_array_equal(sh, u.shares)
    np.testing.assert_array_equal(bp, u.base_prices)
    np.testing.assert_array_equal(i2, ids)
    np.testing.assert_array_equal(p2, prices)


def test_replay_empty_stream():
    out = kf.replay([1], [1], 1.0, np.array([], dtype=np.intp), np.array([], dtype=np.int64))
    assert out.shape == (0,) and out.dtype == np.float64


def test_replay_non_contiguous_inputs(rng):
    u = random_universe(rng, 40)
    ids, prices = random_ticks(rng, u, 200)
    want = kf.replay(u.shares, u.base_prices, 3.0, ids[::2].copy(), prices[::2].copy())
    got = kf.replay(u.shares, u.base_prices, 3.0, ids[::2], prices[::2])
    np.testing.assert_array_equal(got, want)


def test_engine_matches_reference_engine_on_sample(sample):
    day = kf.simulate_day(sample, n_ticks=20_000, seed=7)
    e = kf.IndexEngine(sample, level=5781.20)
    r = reference.ReferenceEngine(sample.codes, sample.shares.tolist(), sample.base_prices.tolist(), level=5781.20)
    assert e.divisor == r.divisor
    for k in range(0, 2000):
        got = e.update(int(day.ids[k]), int(day.prices[k]))
        want = r.update(sample.codes[day.ids[k]], int(day.prices[k]))
        assert got == want
    levels = e.update_many(day.ids[2000:], day.prices[2000:])
    want = reference.replay(sample.shares.tolist(), list(r.prices.values()), r.divisor,
                            day.ids[2000:2300].tolist(), day.prices[2000:2300].tolist())
    assert levels[:300].tolist() == want
    assert e.level == e.recompute() == levels[-1]


def test_engine_update_by_code_and_numpy_ints(sample):
    e = kf.IndexEngine(sample, level=5781.20)
    i = sample.index_of("005930")
    a = e.update("005930", 200_000)
    b = e.update(np.int64(i), np.int64(200_000))
    c = e.update(i, 200_000.0)
    assert a == b == c == e.recompute()
    assert e.prices[i] == 200_000


def test_engine_level_cap_divisor_consistent(sample):
    e = kf.IndexEngine(sample, level=5781.20)
    assert e.level == pytest.approx(5781.20, rel=1e-15)
    assert e.cap == sample.base_cap_won()
    assert e.base_cap == e.divisor * 100.0
    assert e.published_level == 5781.20


def test_engine_base_cap_calibration(sample):
    cap = sample.base_cap_won()
    e = kf.IndexEngine(sample, base_cap=cap / 50.0)  # level = 100 × 50
    assert e.level == pytest.approx(5000.0, rel=1e-15)
    e2 = kf.IndexEngine(sample)  # today is the base date
    assert e2.level == pytest.approx(100.0, rel=1e-15)


def test_published_rounds_half_up():
    assert kf.published(5781.205) in (5781.2, 5781.21)  # binary 5781.205 is just below/above .205
    assert kf.published(0.125) == 0.13  # exactly representable tie -> up
    assert kf.published(2.675) == 2.67  # binary 2.675 is 2.67499999...
    assert kf.published(1234.5650000001) == 1234.57
    assert kf.published(1234.564999) == 1234.56
    assert reference.published(0.125) == 0.13
