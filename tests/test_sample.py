"""The bundled sample universe and the synthetic day meet their stated properties."""

import numpy as np

import kospi_fast as kf
from kospi_fast import krx


def test_sample_universe_shape(sample):
    assert len(sample) == 850
    caps = sample.base_prices.astype(float) * sample.shares
    top2 = (caps[sample.index_of("005930")] + caps[sample.index_of("000660")]) / caps.sum()
    assert 0.34 <= top2 <= 0.36
    assert all(len(c) == 6 for c in sample.codes)
    assert sample.sectors is not None and len(set(sample.sectors)) >= 15
    assert krx.is_on_tick(sample.base_prices, date="2026-03-20").all()


def test_simulated_day_properties(sample):
    day = kf.simulate_day(sample, n_ticks=200_000, seed=11)
    assert len(day) == 200_000
    assert day.ids.dtype == np.int32 and day.prices.dtype == np.int64
    assert np.all(np.diff(day.times) >= 0)  # time order
    assert krx.is_on_tick(day.prices, date=day.date).all()
    lower, upper = krx.price_limits(sample.base_prices, date=day.date)
    assert np.all(day.prices >= lower[day.ids]) and np.all(day.prices <= upper[day.ids])
    counts = np.bincount(day.ids, minlength=len(sample))
    assert counts.min() >= 2  # opening and closing auction for every stock
    caps = sample.base_prices.astype(float) * sample.shares
    big, small = np.argsort(caps)[-50:], np.argsort(caps)[:50]
    assert counts[big].mean() > 5 * counts[small].mean()  # busier names trade more


def test_simulated_day_is_reproducible(sample):
    a = kf.simulate_day(sample, n_ticks=50_000, seed=5)
    b = kf.simulate_day(sample, n_ticks=50_000, seed=5)
    c = kf.simulate_day(sample, n_ticks=50_000, seed=6)
    np.testing.assert_array_equal(a.prices, b.prices)
    np.testing.assert_array_equal(a.ids, b.ids)
    assert not np.array_equal(a.prices, c.prices)
