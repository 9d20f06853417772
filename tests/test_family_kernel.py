"""Issue 16: the family kernel's new paths (``_family.run_rows``) against the old layout and the
slow reference.

The kernel keeps the broad index's cap in a register, spreads the other caps over rotating
banks, walks unpadded rows (or padded ones, when a builder pads), checks the price band in its
loop and takes a per-index headroom bound. Every one of these must leave the results bit for
bit as they were: the same levels as the padded-row API v1 (``run_family``, which itself now
runs through the row kernel, and was checked against the reference before) and as the
reference's full recompute per trade; the same refusals (the first bad trade of any kind, the
state before it untouched). Each path is forced here (``path`` 1 dense, 2 lazy, 0 the pick;
a row per trade), on batches big enough for the fast (unchecked, under the headroom bound)
loops, with and without a broad index, padded and not, banded and not.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import _aggregate, kernels, reference
from kospi_fast._family import run_family, run_rows
from kospi_fast.definitions import IndexDefinition

import zoo

INT64_MAX = 2**63 - 1
HYP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _on_every_target(run):
    """``run()`` under each SIMD target this CPU runs (the dense path has an AVX-512 twin),
    the answers all equal; the chosen target restored."""
    chosen = kernels.simd_target()
    answers = []
    try:
        for target in kernels.simd_supported():
            _aggregate._set_simd(target)
            answers.append(run())
    finally:
        _aggregate._set_simd(chosen)
    assert all(a == answers[0] for a in answers)
    return answers[0]


def _copy(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _result(args, ret):
    """What a family seam leaves: return code, prices, caps, the final levels (when all
    applied) and the rows written."""
    return (ret, args[0].tobytes(), args[5].tobytes(), args[7].tobytes() if ret == -1 else None,
            None if args[10] is None else args[10].tobytes())


@st.composite
def batches(draw):
    """A family in the padded layout (zoo.family_args) with a batch big enough for the fast
    loops (more trades than memberships + stocks) and bad trades sprinkled in."""
    n = draw(st.integers(1, 25))
    K = draw(st.integers(1, 9))
    m = draw(st.one_of(st.integers(0, 40), st.integers(600, 1_500)))  # small: all checked; big: the fast loops
    mode = draw(st.sampled_from(["none", "rows", "dense", "sparse", "empty"]))
    seed = draw(st.integers(0, 2**16))
    args = list(zoo.family_args(seed, n, K, m, mode=mode, n_samples=draw(st.integers(1, 60)),
                                id_dtype=draw(st.sampled_from([np.int64, np.int32])),
                                twins=draw(st.integers(0, K - 1)), all_columns=draw(st.booleans())))
    if draw(st.booleans()):  # no price ceiling: the exact guard alone
        args[9] = INT64_MAX
    ids, px = args[7], args[8]
    for _ in range(draw(st.integers(0, 2))):
        if m:
            k = draw(st.integers(0, m - 1))
            what = draw(st.sampled_from(["id", "price", "huge"]))
            if what == "id":
                ids[k] = draw(st.sampled_from([-1, n, n + 7]))
            elif what == "price":
                px[k] = draw(st.sampled_from([0, -1, -(2**63)]))
            else:
                px[k] = draw(st.sampled_from([2**40, 2**55, INT64_MAX]))
    return tuple(args)


@HYP
@given(batches(), st.data())
def test_every_path_equals_the_padded_layout_and_the_reference(args, data):
    ell = _copy(args)
    want = _result((ell[0], None, None, None, None, ell[4], None, ell[6], None, None, ell[10]), run_family(*ell))
    variant = dict(broad=data.draw(st.booleans()), pad=data.draw(st.booleans()))
    for path in (0, 1, 2):
        def run(path=path):
            rows = zoo.rows_from_family(_copy(args), path=path, **variant)
            return _result(rows, run_rows(*rows))
        assert _on_every_target(run) == want, (path, variant)
    if len(args[7]) <= 400:  # the reference recounts every cap per trade: small batches only
        slow = zoo.rows_from_family(_copy(args), **variant)
        assert _result(slow, reference.run_rows(*slow)) == want


@HYP
@given(batches(), st.data())
def test_banded_paths_equal_the_reference(args, data):
    """Bands (some empty, some around the price) refuse trades inside the loop: every path
    refuses the same first trade as the reference and leaves the same state."""
    seed = data.draw(st.integers(0, 2**16))
    variant = dict(broad=data.draw(st.booleans()), pad=data.draw(st.booleans()), band=True, seed=seed)
    a = _copy(args[:7]) + (args[7][:300].copy(), args[8][:300].copy()) + _copy(args[9:])
    if a[11] is not None:  # samples inside the shortened batch
        keep = a[11] < a[7].shape[0]
        a = a[:10] + (a[10][keep].copy(), a[11][keep].copy()) + a[12:]
    elif a[10] is not None:
        a = a[:10] + (a[10][: a[7].shape[0]].copy(),) + a[11:]
    slow = zoo.rows_from_family(_copy(a), **variant)
    want = _result(slow, reference.run_rows(*slow))
    for path in (0, 1, 2):
        def run(path=path):
            fast = zoo.rows_from_family(_copy(a), path=path, **variant)
            return _result(fast, run_rows(*fast))
        assert _on_every_target(run) == want, path


# ---------------------------------------------------------------- IndexFamily


def _synthetic(n_stocks: int, n_indices: int, seed: int = 351):
    """Synthetic (not KRX's): a universe of ``n_stocks`` and a family of ``n_indices``: KOSPI
    (every stock) plus indices of 5..n_stocks/3 members drawn with probability ∝ cap^0.5, as
    the performance review's stand-in for KRX's 351 real-time indices."""
    rng = np.random.default_rng(seed)
    codes = [f"{i:06d}" for i in range(n_stocks)]
    prices = rng.integers(1_000, 900_000, n_stocks).astype(np.int64)
    listed = rng.integers(10**5, 10**9, n_stocks).astype(np.int64)
    u = kf.Universe(codes, [f"S{i}" for i in range(n_stocks)], listed, prices)
    p = (prices.astype(float) * listed) ** 0.5
    p /= p.sum()
    defs = [IndexDefinition("KOSPI", codes, follows_market=True)]
    for k in range(n_indices - 1):
        size = int(rng.integers(5, max(6, n_stocks // 3)))
        members = rng.choice(n_stocks, size, replace=False, p=p)
        defs.append(IndexDefinition(f"X{k}", [codes[i] for i in sorted(members)]))
    return u, defs


def test_many_indices_unpadded_rows_equal_every_single_index_replay():
    """A 351-index family (synthetic): rows far wider than 8 are not padded; each column of the
    1-s-like grid, the per-trade rows and the final levels equal the single-index replay of
    that index's shares, and the caps an exact recount."""
    u, defs = _synthetic(150, 351)
    fam = kf.IndexFamily(u, defs, price_band=None)
    counts = (fam._shares > 0).sum(axis=0)
    assert counts.max() > 8 and fam._col.shape[0] == counts.sum() - (counts > 0).sum()  # no padding, KOSPI apart
    rng = np.random.default_rng(4)
    m = 6_000
    ids = rng.integers(0, len(u), m)
    prices = (u.base_prices[ids] * rng.uniform(0.8, 1.2, m)).astype(np.int64)
    grid = np.arange(40, m, 41)
    per_trade = kf.IndexFamily(u, defs, price_band=None).update_many(ids[:800], prices[:800])
    got = fam.update_many(ids, prices, sample_at=grid)
    for k in range(len(defs)):
        ids_k, sh_k = fam.index_shares(defs[k].name)
        shares = np.zeros(len(u), dtype=np.int64)
        shares[ids_k] = sh_k
        single = kf.replay(shares, u.base_prices, fam.divisors[k], ids, prices)
        np.testing.assert_array_equal(got[:, k], single[grid])
        np.testing.assert_array_equal(per_trade[:, k], single[:800])
    np.testing.assert_array_equal(fam.levels, fam.recompute())
    want = [int(np.dot(fam.prices.astype(object), fam._shares[k].astype(object))) for k in range(len(defs))]
    assert fam.caps.tolist() == want


def kospi_family_of(u):
    caps = u.base_prices * u.shares
    top = [u.codes[i] for i in np.argsort(-caps, kind="stable")[:200]]
    return kf.IndexFamily.kospi(u, kospi200=top, kospi100=top[:100], kospi50=top[:50], levels={"KOSPI": 5781.2})


def test_kospi_family_paths_agree_on_the_sample_day(sample):
    """The KOSPI family (padded narrow rows, KOSPI in the register) on a simulated day: the
    1-s grid (dense), a 10-s grid (lazy), final only and every trade, each forced through the
    other path too, give the same rows bit for bit."""
    u = sample
    day = kf.simulate_day(u, n_ticks=60_000, seed=5)
    per_trade = kospi_family_of(u).update_many(day.ids, day.prices)
    for step in (12, 700):
        at = np.arange(step - 1, len(day), step)
        fam = kospi_family_of(u)
        np.testing.assert_array_equal(fam.update_many(day.ids, day.prices, sample_at=at), per_trade[at])
        for path in (1, 2):
            def run(path=path, at=at):
                f = kospi_family_of(u)
                out = np.empty((at.shape[0], len(f.names)))
                work = (f._prices.copy(), f._caps.copy(), f._levels.copy())
                assert run_rows(work[0], f._rec.reshape(-1), f._col, f._sh, f._broad, work[1], f._divisors,
                                work[2], day.ids, day.prices, out, at, f._src, f._twins, f._carry, path) == -1
                assert out.tobytes() == per_trade[at].tobytes()
                assert work[2][: len(f.names)].tobytes() == per_trade[-1].tobytes()
                return out.tobytes()
            _on_every_target(run)  # 26 indices: the AVX-512 run's widest rows (4 vectors)
    fam = kospi_family_of(u)
    fam.update_many(day.ids, day.prices, sample_at=[])
    assert fam.levels.tobytes() == per_trade[-1].tobytes()


def _banded_family():
    u, defs = _synthetic(40, 12, seed=8)
    return u, defs, kf.IndexFamily(u, defs)  # the default band: ±30% of the reference prices


@pytest.mark.parametrize("sample_at", [None, "dense", "lazy", "final"])
def test_band_is_checked_in_the_loop_and_names_the_first_bad_trade(sample_at):
    u, defs, fam = _banded_family()
    rng = np.random.default_rng(2)
    m = 3_000
    ids = rng.integers(0, len(u), m)
    prices = (u.base_prices[ids] * rng.uniform(0.9, 1.1, m)).astype(np.int64)
    at = {None: None, "dense": np.arange(0, m, 3), "lazy": np.array([10, 2_000]), "final": []}[sample_at]
    before = (fam.levels, fam.caps, fam.prices)
    lo, hi = fam.band_limits()
    i = int(ids[1234])
    bad = prices.copy()
    bad[1234] = hi[i] + 1
    msg = (rf"`prices\[1234\]` = {hi[i] + 1:,} for stock '{u.codes[i]}' \(id {i}\) is outside its price band "
           rf"\[{lo[i]:,}, {hi[i]:,}\]")
    with pytest.raises(ValueError, match=msg):
        fam.update_many(ids, bad, sample_at=at)
    for a, b in zip(before, (fam.levels, fam.caps, fam.prices)):
        np.testing.assert_array_equal(a, b)
    # a bad id before the band miss is the one named; after it, the band miss
    bad_id = ids.copy()
    bad_id[1000] = len(u)
    with pytest.raises(ValueError, match=r"ids\[1000\]"):
        fam.update_many(bad_id, bad, sample_at=at)
    bad_id = ids.copy()
    bad_id[2000] = -1
    with pytest.raises(ValueError, match=r"prices\[1234\]"):
        fam.update_many(bad_id, bad, sample_at=at)
    # in band: the same rows as with no band at all
    free = kf.IndexFamily(u, defs, price_band=None)
    assert fam.update_many(ids, prices, sample_at=at).tobytes() == free.update_many(ids, prices, sample_at=at).tobytes()


def test_an_overflow_before_a_band_miss_is_named_first():
    """Without a band scan ahead of the kernel, the first bad trade of any kind is named: an
    overflow at position 5 comes before a band miss at position 9 (the old two passes named the
    band miss)."""
    codes = ["000001", "000002"]
    u = kf.Universe(codes, codes, np.array([2**62, 10], dtype=np.int64), np.array([1, 1_000], dtype=np.int64))
    fam = kf.IndexFamily(u, [IndexDefinition("A", codes), IndexDefinition("B", codes[1:])], price_band=None)
    fam._core_set_band(np.array([1, 700], dtype=np.int64), np.array([INT64_MAX, 1_300], dtype=np.int64))
    ids = np.array([1] * 5 + [0] + [1] * 5)
    prices = np.array([1_000] * 5 + [4] + [1_000] * 3 + [5_000, 1_000])
    with pytest.raises(ValueError, match=r"prices\[5\].*int64"):
        fam.update_many(ids, prices)
    prices[5] = 1
    with pytest.raises(ValueError, match=r"`prices\[9\]` = 5,000 .* outside its price band \[700, 1,300\]"):
        fam.update_many(ids, prices)


@pytest.mark.parametrize("n_indices", [1, 7, 8, 15, 16, 24, 31, 32])
def test_avx512_dense_run_every_vector_count_and_its_limit(n_indices):
    """The AVX-512 dense run (rows of 1-4 vectors of 8 slots; 32 slots at most, else the
    portable run) equals the portable one bit for bit on a banded, sampled day, including a
    refused trade: the same position and the state before it."""
    u = kf.sample_universe()
    day = kf.simulate_day(u, n_ticks=20_000, seed=n_indices)
    ids, px = day.ids.copy(), day.prices.copy()
    px[15_000] = px[15_000] * 2  # outside the ±30% band
    at = np.arange(9, len(day), 10)
    rng = np.random.default_rng(n_indices)
    defs = [IndexDefinition(f"I{k}", tuple(u.codes[j] for j in np.sort(rng.choice(len(u), 100 + 7 * k, replace=False))))
            for k in range(n_indices)]

    def run():
        fam = kf.IndexFamily(u, defs)
        with pytest.raises(ValueError, match="band") as err:
            fam.update_many(ids, px, sample_at=at)
        good = fam.update_many(ids[:15_000], px[:15_000], sample_at=at[at < 15_000])
        return str(err.value), good.tobytes(), fam.levels.tobytes(), fam._caps.tobytes()

    _on_every_target(run)
