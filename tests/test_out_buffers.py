"""Issue 16: ``out=`` on every batch entry point that returns a per-trade array (``replay``,
``IndexEngine.update_many``, ``IndexFamily.update_many``): the levels written into the caller's
float64 buffer, bit-identical to the fresh-array result, and a wrong buffer refused (naming
``out``) before anything is applied."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kospi_fast as kf

from conftest import random_ticks, random_universe


def _entry_points(u, ids, prices):
    """(name, call(out) -> result, expected shape) for each batch entry point, fresh state each call."""
    divisor = kf.IndexEngine(u, level=1000.0, price_band=None).divisor
    samples = np.arange(0, len(ids), 3)
    return [
        ("replay", lambda out: kf.replay(u.shares, u.base_prices, divisor, ids, prices, out=out), (len(ids),)),
        ("replay state", lambda out: kf.replay(u.shares, u.base_prices, divisor, ids, prices, out=out,
                                               return_state=True).levels, (len(ids),)),
        ("replay rebalances", lambda out: kf.replay(u.shares, u.base_prices, divisor, ids, prices, out=out,
                                                    rebalances=[(len(ids) // 2, [0], [7])]), (len(ids),)),
        ("replay float", lambda out: kf.replay(u.shares, u.base_prices, divisor, ids, prices, out=out, exact=False),
         (len(ids),)),
        ("engine", lambda out: kf.IndexEngine(u, level=1000.0, price_band=None).update_many(ids, prices, out=out),
         (len(ids),)),
        ("engine banded", lambda out: kf.IndexEngine(u, level=1000.0, price_band=0.5).update_many(ids, prices, out=out),
         (len(ids),)),
        ("engine sampled", lambda out: kf.IndexEngine(u, level=1000.0, price_band=None).update_many(
            ids, prices, sample_at=samples, out=out), (len(samples),)),
        ("family", lambda out: kf.IndexFamily(u, [kf.IndexDefinition("A", list(u.codes)),
                                                 kf.IndexDefinition("B", list(u.codes[:3]))],
                                              price_band=None).update_many(ids, prices, out=out), (len(ids), 2)),
        ("family sampled", lambda out: kf.IndexFamily(u, [kf.IndexDefinition("A", list(u.codes))],
                                                      price_band=None).update_many(
            ids, prices, sample_at=samples, out=out), (len(samples), 1)),
    ]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 8), st.integers(0, 60))
def test_out_equals_the_fresh_array_bit_for_bit(seed, n, m):
    rng = np.random.default_rng(seed)
    u = random_universe(rng, n)
    u = kf.Universe(u.codes, u.names, np.maximum(u.shares, 1), u.base_prices)
    ids, prices = random_ticks(rng, u, m)
    for name, call, shape in _entry_points(u, ids, prices):
        fresh = call(None)
        buf = np.full(shape, np.nan)
        got = call(buf)
        assert got.tobytes() == fresh.tobytes(), name
        assert got is buf or (got.size and np.shares_memory(got, buf)) or got.size == 0, name  # in place


def test_bad_out_is_refused_naming_it_and_nothing_applied(sample):
    day = kf.simulate_day(sample, n_ticks=2000, seed=5)
    e = kf.IndexEngine(sample, level=5781.2)
    fam = kf.IndexFamily.kospi(sample, levels={"KOSPI": 5781.2})
    before = (e.cap, e.prices.tobytes(), fam.levels.tobytes())
    n = len(day)
    bad = [
        (np.empty(n, dtype=np.float32), TypeError, "dtype float64"),
        (np.empty(n, dtype=">f8"), TypeError, "native byte order"),
        (np.empty(n + 1), ValueError, r"shape \(2000,\)"),
        (np.empty(2 * n)[::2], ValueError, "C-contiguous"),
        ([0.0] * n, TypeError, "numpy float64 array, got list"),
    ]
    ro = np.empty(n)
    ro.flags.writeable = False
    bad.append((ro, ValueError, "writeable"))
    prices_f = day.prices.astype(np.int64)
    alias = prices_f.view(np.float64)
    for out, exc, msg in bad:
        with pytest.raises(exc, match=f"`out`.*{msg}"):
            e.update_many(day.ids, day.prices, out=out)
        with pytest.raises(exc, match=f"`out`.*{msg}"):
            kf.replay(sample.shares, sample.base_prices, e.divisor, day.ids, day.prices, out=out)
    with pytest.raises(ValueError, match="`out` must not share memory with an input"):
        e.update_many(day.ids, prices_f, out=alias)
    with pytest.raises(ValueError, match="`out` must not share memory with an input"):
        kf.replay(sample.shares, sample.base_prices, e.divisor, day.ids, prices_f, out=alias)
    with pytest.raises(ValueError, match=r"`out` must have shape \(2000, \d+\)"):
        fam.update_many(day.ids, day.prices, out=np.empty(n))
    k = len(fam.names)
    big = np.zeros(n * k, dtype=np.int64)  # the prices inside the memory of a (n, k) float64 out
    big[:n] = day.prices
    with pytest.raises(ValueError, match="`out` must not share memory with an input"):
        fam.update_many(day.ids, big[:n], out=big.view(np.float64).reshape(n, k))
    assert (e.cap, e.prices.tobytes(), fam.levels.tobytes()) == before


def test_out_reused_across_batches(sample):
    day = kf.simulate_day(sample, n_ticks=20_000, seed=9)
    e = kf.IndexEngine(sample, level=5781.2)
    f = kf.IndexEngine(sample, level=5781.2)
    buf = np.empty(10_000)
    for part in (slice(0, 10_000), slice(10_000, 20_000)):
        got = e.update_many(day.ids[part], day.prices[part], out=buf)
        assert got is buf
        assert got.tobytes() == f.update_many(day.ids[part], day.prices[part]).tobytes()
