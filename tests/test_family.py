"""IndexFamily: every index level is a full recomputation from the reference model, exactly;
the kernel's three paths agree; capping, equal weighting, rebalancing, attribution, errors."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import reference
from kospi_fast.family import EQUAL_NOTIONAL, IndexDefinition, IndexFamily, cap_weights

from conftest import shared_path

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- helpers
def ulps_apart(a: float, b: float) -> int:
    return abs(int(np.float64(a).view(np.int64)) - int(np.float64(b).view(np.int64)))


def full_shares(fam: IndexFamily, name: str) -> list[int]:
    """Index shares of `name` laid over the whole universe (0 for non-members)."""
    ids, sh = fam.index_shares(name)
    out = [0] * len(fam.universe)
    for i, s in zip(ids.tolist(), sh.tolist()):
        out[i] = int(s)
    return out


def assert_matches_reference(fam: IndexFamily) -> None:
    """Each level == reference.level(reference.aggregate_cap(prices[members], shares), divisor)."""
    prices = fam.prices.tolist()
    levels, caps, divisors = fam.levels, fam.caps, fam.divisors
    for k, name in enumerate(fam.names):
        ids, sh = fam.index_shares(name)
        cap = reference.aggregate_cap([prices[i] for i in ids.tolist()], sh.tolist())
        assert int(caps[k]) == cap, name
        assert levels[k] == reference.level(cap, float(divisors[k])), name
    np.testing.assert_array_equal(fam.levels, fam.recompute())


def weights_of(fam: IndexFamily, name: str) -> np.ndarray:
    ids, sh = fam.index_shares(name)
    mv = np.array([int(fam.prices[i]) * int(s) for i, s in zip(ids, sh)], dtype=np.float64)
    return mv / mv.sum()


def expected_shares(defn: IndexDefinition, u: kf.Universe, prices: np.ndarray) -> list[int] | None:
    """Independent index shares for uncapped definitions (None for capped ones)."""
    ids = [u.code_index[c] for c in defn.members]
    if defn.weighting == "equal":
        return [max(round(EQUAL_NOTIONAL / int(prices[i])), 1) for i in ids]
    if defn.caps is not None:
        return None
    fr = defn.float_ratios or (1.0,) * len(ids)
    # exact decimal product, ties rounded up (methodology notes, "Index shares")
    return [math.floor(Fraction(int(u.shares[i])) * Fraction(repr(f)) + Fraction(1, 2)) for i, f in zip(ids, fr)]


# --------------------------------------------------------------------------- strategies
@st.composite
def definitions(draw, name: str, codes: list[str]) -> IndexDefinition:
    members = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=len(codes), unique=True))
    weighting = draw(st.sampled_from(["cap", "cap", "equal"]))
    level = draw(st.one_of(st.none(), st.floats(1.0, 1e5)))
    if weighting == "equal":
        return IndexDefinition(name, members, weighting="equal", level=level)
    fr = None
    if draw(st.booleans()):
        fr = draw(st.lists(st.floats(0.05, 1.0), min_size=len(members), max_size=len(members)))
    caps = None
    if draw(st.booleans()):
        caps = draw(st.floats(min(1.0, 1.001 / len(members)), 1.0))
    return IndexDefinition(name, members, float_ratios=fr, caps=caps, level=level)


@st.composite
def families(draw):
    n = draw(st.integers(2, 10))
    codes = [f"{i:06d}" for i in range(n)]
    shares = draw(st.lists(st.integers(1_000_000, 1_000_000_000), min_size=n, max_size=n))
    prices = draw(st.lists(st.integers(1_000, 200_000), min_size=n, max_size=n))
    u = kf.Universe(codes, [f"S{i}" for i in range(n)], shares, prices, sectors=[f"X{i % 3}" for i in range(n)])
    k = draw(st.integers(1, 4))
    defs = [draw(definitions(f"I{j}", codes)) for j in range(k)]
    return u, defs


def ticks(n: int, max_size: int = 60):
    return st.lists(st.tuples(st.integers(0, n - 1), st.integers(700, 260_000)), max_size=max_size)


def as_arrays(tk):
    return (np.array([i for i, _ in tk], dtype=np.intp), np.array([p for _, p in tk], dtype=np.int64))


# --------------------------------------------------------------------------- exactness
@HYP
@given(families(), st.data())
def test_levels_equal_full_reference_recompute(case, data):
    u, defs = case
    fam = IndexFamily(u, defs, price_band=None)
    # calibration: each index starts at its level (or base value) up to the one division
    for k, d in enumerate(defs):
        target = d.base_value if d.level is None else d.level
        assert math.isclose(fam.levels[k], target, rel_tol=4e-16)
        exp = expected_shares(d, u, u.base_prices)
        if exp is not None:
            assert fam.index_shares(d.name)[1].tolist() == exp
    assert_matches_reference(fam)

    ids, prices = as_arrays(data.draw(ticks(len(u))))
    start_prices = fam.prices.tolist()
    out = fam.update_many(ids, prices)
    assert out.shape == (len(ids), len(defs))
    for k, name in enumerate(fam.names):
        ref = reference.replay(full_shares(fam, name), start_prices, float(fam.divisors[k]), ids, prices)
        assert out[:, k].tolist() == ref
    assert_matches_reference(fam)

    # rebalance some indices, then trade on
    to_change = data.draw(st.lists(st.sampled_from([d.name for d in defs]), unique=True, max_size=len(defs)))
    changes = {nm: data.draw(definitions(nm, list(u.codes))) for nm in to_change}
    before = (fam.levels, fam.caps, fam.divisors)
    cur = fam.prices
    res = fam.rebalance(changes)
    assert set(res) == set(to_change)
    for k, name in enumerate(fam.names):
        if name in changes:
            exp = expected_shares(changes[name], u, cur)
            if exp is not None:
                assert fam.index_shares(name)[1].tolist() == exp
            assert fam.divisors[k] == reference.rebase_divisor(float(before[2][k]), int(before[1][k]), int(fam.caps[k]))
            assert ulps_apart(fam.levels[k], before[0][k]) <= 4
            assert res[name][0] == before[0][k] and res[name][1] == fam.levels[k]
        else:  # untouched indices: bit for bit
            assert fam.levels[k] == before[0][k]
            assert fam.caps[k] == before[1][k]
            assert fam.divisors[k] == before[2][k]
    assert_matches_reference(fam)

    ids, prices = as_arrays(data.draw(ticks(len(u))))
    start_prices = fam.prices.tolist()
    out = fam.update_many(ids, prices)
    for k, name in enumerate(fam.names):
        ref = reference.replay(full_shares(fam, name), start_prices, float(fam.divisors[k]), ids, prices)
        assert out[:, k].tolist() == ref
    assert_matches_reference(fam)


@HYP
@given(families(), st.data())
def test_batching_and_single_updates_do_not_matter(case, data):
    u, defs = case
    tk = data.draw(ticks(len(u), 80))
    ids, prices = as_arrays(tk)
    whole = IndexFamily(u, defs, price_band=None)
    ref = whole.update_many(ids, prices)
    cuts = data.draw(st.lists(st.integers(0, len(ids)), max_size=5))
    bounds = sorted({0, len(ids), *cuts})
    fam = IndexFamily(u, defs, price_band=None)
    parts = [fam.update_many(ids[a:b], prices[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    joined = np.concatenate(parts) if parts else np.empty((0, len(defs)))
    np.testing.assert_array_equal(joined, ref)
    one = IndexFamily(u, defs, price_band=None)
    singles = [one.update(u.codes[i], int(p)) if j % 2 else one.update_id(int(i), int(p)) for j, (i, p) in enumerate(tk)]
    np.testing.assert_array_equal(np.array(singles).reshape(-1, len(defs)), ref)
    np.testing.assert_array_equal(one.levels, whole.levels)
    np.testing.assert_array_equal(fam.caps, whole.caps)


# --------------------------------------------------------------------------- kernel paths
def build_family(rng: np.random.Generator, n: int = 300):
    from conftest import random_universe

    u = random_universe(rng, n)
    codes = list(u.codes)
    live = [codes[i] for i in np.flatnonzero(u.shares > 0)]
    cheap_ok = [codes[i] for i in np.flatnonzero((u.shares > 0) & (u.base_prices >= 1_000))]
    half = len(live) // 2
    defs = [
        IndexDefinition("ALL", live, level=2500.0),
        IndexDefinition("FLOAT", live[:half], float_ratios=rng.uniform(0.1, 1.0, half).tolist()),
        IndexDefinition("CAPPED", live[half // 3: half // 3 + 40], caps=0.05, level=1000.0),
        IndexDefinition("EQ", cheap_ok[:40], weighting="equal"),
        IndexDefinition("TINY", live[:1]),
    ]
    return u, defs


def test_three_kernel_paths_agree(rng):
    u, defs = build_family(rng)
    from conftest import random_ticks

    ids, prices = random_ticks(rng, u, 5_000)
    per_trade = IndexFamily(u, defs, price_band=None).update_many(ids, prices)
    final = per_trade[-1]

    dense_at = np.arange(3, len(ids), 7)  # 714 samples: > 1 per 200 trades, narrow rows -> dense path
    assert dense_at.size * 200 > len(ids)
    fam = IndexFamily(u, defs, price_band=None)
    np.testing.assert_array_equal(fam.update_many(ids, prices, sample_at=dense_at), per_trade[dense_at])
    np.testing.assert_array_equal(fam.levels, final)

    sparse_at = np.array([0, 0, 17, 999, 999, 2_500, len(ids) - 1])  # lazy path with samples, duplicates
    assert sparse_at.size * 200 <= len(ids)
    fam = IndexFamily(u, defs, price_band=None)
    np.testing.assert_array_equal(fam.update_many(ids, prices, sample_at=sparse_at), per_trade[sparse_at])
    np.testing.assert_array_equal(fam.levels, final)

    dense_dup = np.repeat(dense_at, 2)
    fam = IndexFamily(u, defs, price_band=None)
    np.testing.assert_array_equal(fam.update_many(ids, prices, sample_at=dense_dup), per_trade[dense_dup])

    fam = IndexFamily(u, defs, price_band=None)  # lazy path, no samples at all
    assert fam.update_many(ids, prices, sample_at=[]).shape == (0, len(defs))
    np.testing.assert_array_equal(fam.levels, final)
    np.testing.assert_array_equal(fam.levels, fam.recompute())
    assert_matches_reference(fam)

    # int32 ids take the other fused specialisation
    fam = IndexFamily(u, defs, price_band=None)
    np.testing.assert_array_equal(fam.update_many(ids.astype(np.int32), prices), per_trade)


@pytest.mark.parametrize("path", ["per_trade", "dense", "sparse", "none"])
@pytest.mark.parametrize("bad", ["id", "negative_id", "price0", "overflow"])
def test_bad_batch_changes_nothing(rng, path, bad):
    u, defs = build_family(rng, 120)
    from conftest import random_ticks

    ids, prices = random_ticks(rng, u, 2_000)
    ids = ids.astype(np.int64)
    fam = IndexFamily(u, defs, price_band=None)
    fam.update_many(ids[:100], prices[:100])
    snap = (fam.levels, fam.caps, fam.prices, fam.divisors)
    ids, prices = ids.copy(), prices.copy()
    if bad == "id":
        ids[-1] = len(u)
    elif bad == "negative_id":
        ids[-1] = -1
    elif bad == "price0":
        prices[-1] = 0
    else:
        prices[-1] = 2**62
    sample_at = {"per_trade": None, "dense": np.arange(0, 2_000, 2), "sparse": np.array([5, 1_998]),
                 "none": np.array([], dtype=np.int64)}[path]
    with pytest.raises(ValueError, match=str(len(ids) - 1)):
        fam.update_many(ids, prices, sample_at=sample_at)
    for a, b in zip(snap, (fam.levels, fam.caps, fam.prices, fam.divisors)):
        np.testing.assert_array_equal(a, b)
    assert_matches_reference(fam)


# --------------------------------------------------------------------------- the KOSPI family
def test_kospi_member_equals_index_engine(sample):
    caps0 = sample.base_prices.astype(np.float64) * sample.shares
    order = [sample.codes[i] for i in np.argsort(-caps0, kind="stable")]
    rng = np.random.default_rng(7)
    fr = {c: float(x) for c, x in zip(sample.codes, rng.uniform(0.2, 1.0, len(sample)))}
    fam = IndexFamily.kospi(sample, kospi200=order[:200], kospi100=order[:100], kospi50=order[:50],
                            float_ratios=fr, equal_weighted=True, kospi200_cap=0.3,
                            levels={"KOSPI": 5781.20, "KOSPI 200": 812.5}, price_band=None)
    names = fam.names
    for nm in ("KOSPI", "KOSPI 200", "KOSPI 100", "KOSPI 50", "KOSPI 200 Equal Weight", "KOSPI Large",
               "KOSPI Mid", "KOSPI Small"):
        assert nm in names
    assert 1 + 3 + 3 + 3 + len(set(sample.sectors)) == len(names)  # KOSPI, 200/100/50, EW x3, sizes x3
    # size indices partition the members; sectors too
    sizes = [set(fam.definition(n).members) for n in ("KOSPI Large", "KOSPI Mid", "KOSPI Small")]
    assert [len(s) for s in sizes] == [100, 200, len(sample) - 300]
    assert set().union(*sizes) == set(fam.definition("KOSPI").members)
    # float ratios reach KOSPI 200's index shares (uncapped names: round(listed × float))
    ids, sh = fam.index_shares("KOSPI 100")
    assert sh.tolist() == [round(int(sample.shares[i]) * fr[sample.codes[i]]) for i in ids]
    w = weights_of(fam, "KOSPI 200")
    assert w.max() <= 0.3 + 1e-9

    eng = kf.IndexEngine(sample, level=5781.20, price_band=None)
    k = names.index("KOSPI")
    assert fam.levels[k] == eng.level
    sim = kf.simulate_day(sample, n_ticks=30_000, seed=11, date="2026-03-23")
    out = fam.update_many(sim.ids, sim.prices)
    np.testing.assert_array_equal(out[:, k], eng.update_many(sim.ids, sim.prices))
    assert fam.levels[k] == eng.level
    assert fam.caps[k] == eng.cap
    assert fam.update(sample.codes[0], 123_400)[k] == eng.update(sample.codes[0], 123_400)
    assert_matches_reference(fam)


def test_kospi_unknown_level_name(sample):
    with pytest.raises(KeyError, match="NOPE"):
        IndexFamily.kospi(sample, levels={"NOPE": 1.0}, price_band=None)


# --------------------------------------------------------------------------- capping
def test_capping_conformance_file():
    case = json.loads(shared_path("conformance", "capping_one_name_per_security_caps.json").read_text())
    got = cap_weights(case["inputs"]["market_values"], case["inputs"]["caps"])
    np.testing.assert_allclose(got, case["expected"]["capped_weights"], rtol=0, atol=case["tolerance"])


@pytest.mark.parametrize("mv, caps, expected", [
    # 50/30/20 with a 40% cap: name 0 -> 0.40, the 0.60 left goes 30:20 -> 0.36, 0.24 (one round).
    ([50, 30, 20], 0.40, [0.40, 0.36, 0.24]),
    # 50/30/20 with a 35% cap: round 1 caps name 0 (0.50 -> 0.35); 0.65 left goes 30:20 ->
    # 0.39, 0.26; round 2 caps name 1 (0.39 > 0.35); the 0.30 left goes to name 2 -> 0.30.
    ([50, 30, 20], 0.35, [0.35, 0.35, 0.30]),
    # 50/30/15/5 with a 30% cap: name 0 -> 0.30, 0.70 over 30:15:5 -> 0.42, 0.21, 0.07; name 1
    # breaches -> 0.30, 0.40 over 15:5 -> 0.30, 0.10 (two rounds of redistribution).
    ([50, 30, 15, 5], 0.30, [0.30, 0.30, 0.30, 0.10]),
    # nobody breaches: plain market-value weights.
    ([1, 1, 2], 0.5, [0.25, 0.25, 0.5]),
    # per-name caps: name 2 (3/6) capped at 0.10; the 0.90 left goes 1:2 -> 0.30, 0.60.
    ([1, 2, 3], [1.0, 1.0, 0.10], [0.30, 0.60, 0.10]),
])
def test_cap_weights_by_hand(mv, caps, expected):
    got = cap_weights(mv, caps)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert math.isclose(got.sum(), 1.0, abs_tol=1e-12)


@pytest.mark.parametrize("mv, caps, match", [
    ([50, 30, 20], 0.30, "cannot be met"),  # 3 × 0.30 = 0.90 < 1
    ([1, 2, 3], [0.3, 0.3, 0.3], "cannot be met"),
    ([1, 2, 3], 0.0, "caps"),
    ([1, 2, 3], 1.5, "caps"),
    ([1, 2, 3], [0.5, -0.1, 1.0], r"caps\[1\]"),
    ([1, 2, 3], [0.5, float("nan"), 1.0], r"caps\[1\]"),
    ([1, 0, 3], 0.5, r"market_values\[1\]"),
])
def test_cap_weights_errors(mv, caps, match):
    with pytest.raises(ValueError, match=match):
        cap_weights(mv, caps)


def test_capped_index_shares_hit_the_caps(rng):
    # 4 stocks whose market values are 50/30/15/5 (in 1e14 won); float ratio 1 -> weights 0.3 x3, 0.1
    codes = ["000001", "000002", "000003", "000004"]
    prices = [100_000, 50_000, 30_000, 10_000]
    shares = [500_000_000, 600_000_000, 500_000_000, 500_000_000]
    u = kf.Universe(codes, codes, shares, prices)
    fam = IndexFamily(u, [IndexDefinition("C", codes, caps=0.30, level=1000.0), IndexDefinition("F", codes)], price_band=None)
    np.testing.assert_allclose(weights_of(fam, "C"), [0.3, 0.3, 0.3, 0.1], rtol=0, atol=1e-8)
    np.testing.assert_allclose(weights_of(fam, "F"), [0.5, 0.3, 0.15, 0.05], rtol=0, atol=1e-15)
    # trades move the weights away from the caps; a rebalance re-caps them at the new prices
    fam.update_many([0, 1, 3], [130_000, 40_000, 12_000])
    assert weights_of(fam, "C")[0] > 0.3 + 1e-3
    fam.rebalance({"C": IndexDefinition("C", codes, caps=0.30)})
    mv = np.array([int(p) * s for p, s in zip(fam.prices, shares)], dtype=np.float64)
    np.testing.assert_allclose(weights_of(fam, "C"), cap_weights(mv, 0.30), rtol=0, atol=1e-8)
    assert weights_of(fam, "C").max() <= 0.3 + 1e-8
    assert_matches_reference(fam)


def test_capped_kospi200_like_index_on_sample(sample):
    caps0 = sample.base_prices.astype(np.float64) * sample.shares
    top = [sample.codes[i] for i in np.argsort(-caps0, kind="stable")[:200]]
    fam = IndexFamily(sample, [IndexDefinition("K200C", top, caps=0.10), IndexDefinition("K200", top)], price_band=None)
    raw = weights_of(fam, "K200")
    assert raw.max() > 0.10  # the cap binds on the sample
    w = weights_of(fam, "K200C")
    np.testing.assert_allclose(w, cap_weights(raw, 0.10), rtol=0, atol=1e-7)
    assert w.max() <= 0.10 + 1e-7


# --------------------------------------------------------------------------- rebalance
def test_rebalance_keeps_levels_continuous_and_others_untouched(rng, sample):
    fam = IndexFamily.kospi(sample, levels={"KOSPI": 5781.20}, price_band=None)
    sim = kf.simulate_day(sample, n_ticks=10_000, seed=3, date="2026-03-23")
    fam.update_many(sim.ids, sim.prices)
    before = (fam.levels, fam.caps, fam.divisors)
    codes = list(fam.definition("KOSPI Large").members)
    new_large = IndexDefinition("KOSPI Large", codes[:90] + list(fam.definition("KOSPI Mid").members[:10]),
                                float_ratios=rng.uniform(0.3, 1.0, 100).tolist(), caps=0.15)
    new_util = IndexDefinition("Utilities", list(fam.definition("Utilities").members), weighting="equal")
    res = fam.rebalance({"KOSPI Large": new_large, "Utilities": new_util})
    for k, name in enumerate(fam.names):
        if name in res:
            assert ulps_apart(fam.levels[k], before[0][k]) <= 4, name
            assert res[name][0] == before[0][k]
            assert fam.caps[k] != before[1][k]
        else:
            assert fam.levels[k] == before[0][k] and fam.caps[k] == before[1][k] and fam.divisors[k] == before[2][k]
    assert fam.definition("KOSPI Large") == new_large
    assert_matches_reference(fam)
    # trades after the rebalance still match the reference exactly
    fam.update_many(sim.ids[:3_000], sim.prices[:3_000])
    assert_matches_reference(fam)


def test_rebalance_errors_change_nothing(sample):
    fam = IndexFamily.kospi(sample, levels={"KOSPI": 5781.20}, price_band=None)
    snap = (fam.levels, fam.caps, fam.divisors, fam.definition("KOSPI Mid"))
    good = IndexDefinition("KOSPI Mid", list(fam.definition("KOSPI Mid").members[:5]))
    with pytest.raises(KeyError, match="NOPE"):
        fam.rebalance({"NOPE": good})
    with pytest.raises(KeyError, match="999999"):
        fam.rebalance({"KOSPI Mid": good, "KOSPI Small": IndexDefinition("KOSPI Small", ["999999"])})
    with pytest.raises(ValueError, match="named"):
        fam.rebalance({"KOSPI Small": good})
    with pytest.raises(ValueError, match="cannot be met"):
        fam.rebalance({"KOSPI Mid": IndexDefinition("KOSPI Mid", good.members, caps=0.1)})
    assert fam.definition("KOSPI Mid") == snap[3]
    for a, b in zip(snap[:3], (fam.levels, fam.caps, fam.divisors)):
        np.testing.assert_array_equal(a, b)
    assert_matches_reference(fam)


def test_rebalance_to_zero_cap_raises_and_changes_nothing():
    u = kf.Universe(["000001", "000002", "000003"], ["a", "b", "c"], [100, 0, 300], [1000, 2000, 3000])
    fam = IndexFamily(u, [IndexDefinition("X", ["000001", "000003"]), IndexDefinition("Y", ["000001"])], price_band=None)
    snap = (fam.levels, fam.caps, fam.divisors, fam.definition("X"))
    with pytest.raises(ValueError) as err:  # the only member has 0 listed shares: cap 0
        fam.rebalance({"X": IndexDefinition("X", ["000002"])})
    assert fam.definition("X") == snap[3]
    for a, b in zip(snap[:3], (fam.levels, fam.caps, fam.divisors)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fam.recompute(), fam.levels)
    fam.update_id(0, 1100)
    assert_matches_reference(fam)
    assert "'X'" in str(err.value)  # the error names the index


# --------------------------------------------------------------------------- equal weight
def test_equal_weighted_weights_are_equal_at_rebalance(sample):
    members = list(sample.codes[:120])
    fam = IndexFamily(sample, [IndexDefinition("EW", members, weighting="equal", level=1000.0)], price_band=None)
    w = weights_of(fam, "EW")
    np.testing.assert_allclose(w, 1 / len(members), rtol=0, atol=1e-6)
    ids, sh = fam.index_shares("EW")
    assert sh.tolist() == [round(EQUAL_NOTIONAL / int(sample.base_prices[i])) for i in ids]
    sim = kf.simulate_day(sample, n_ticks=5_000, seed=5, date="2026-03-23")
    fam.update_many(sim.ids, sim.prices)
    assert abs(weights_of(fam, "EW") - 1 / len(members)).max() > 1e-5  # trades unbalanced it
    lv = fam.levels[0]
    fam.rebalance({"EW": IndexDefinition("EW", members, weighting="equal")})
    assert ulps_apart(fam.levels[0], lv) <= 4
    np.testing.assert_allclose(weights_of(fam, "EW"), 1 / len(members), rtol=0, atol=1e-6)
    assert_matches_reference(fam)


def test_equal_weight_extreme_prices():
    # 1 won and 2,000,000 won: shares 1e12 and 500,000; weights still equal within 1e-6
    u = kf.Universe(["000001", "000002", "000003"], ["a", "b", "c"], [1, 1, 1], [1, 2_000_000, 777_777])
    fam = IndexFamily(u, [IndexDefinition("EW", u.codes, weighting="equal")], price_band=None)
    np.testing.assert_allclose(weights_of(fam, "EW"), 1 / 3, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- attribution
def test_attribution_sums_to_the_move(sample):
    pytest.importorskip("pandas")
    fam = IndexFamily.kospi(sample, levels={"KOSPI": 5781.20}, kospi200=list(sample.codes[:200]),
                            equal_weighted=True, kospi200_cap=0.2, price_band=None)
    sim = kf.simulate_day(sample, n_ticks=8_000, seed=9, date="2026-03-23")
    fam.update_many(sim.ids[:3_000], sim.prices[:3_000])
    fam.roll()
    prev, ref = fam.levels, fam.prices
    fam.update_many(sim.ids[3_000:], sim.prices[3_000:])
    now = fam.prices
    for name in ("KOSPI", "KOSPI 200", "KOSPI 200 Equal Weight", "Finance", "KOSPI Small"):
        k = fam.index_of(name)
        a = fam.attribution(name, top=5)
        move = fam.levels[k] - prev[k]
        assert math.isclose(float(np.sum(a["points"])), move, rel_tol=0, abs_tol=1e-9 * fam.levels[k])
        assert math.isclose(sum(a["sector_points"].values()), move, rel_tol=0, abs_tol=1e-9 * fam.levels[k])
        ids, sh = fam.index_shares(name)
        assert a["codes"] == [sample.codes[i] for i in ids]
        assert a["advancers"] == sum(1 for i in ids if now[i] > ref[i])
        assert a["decliners"] == sum(1 for i in ids if now[i] < ref[i])
        assert a["unchanged"] == sum(1 for i in ids if now[i] == ref[i])
        assert a["advancers"] + a["decliners"] + a["unchanged"] == len(ids)
        by_sector: dict[str, float] = {}
        for i, s in zip(ids.tolist(), sh.tolist()):
            by_sector[sample.sectors[i]] = by_sector.get(sample.sectors[i], 0.0) + (int(now[i]) - int(ref[i])) * s / fam.divisors[k]
        assert set(by_sector) == set(a["sector_points"])
        for s, v in by_sector.items():
            assert math.isclose(a["sector_points"][s], v, rel_tol=1e-9, abs_tol=1e-9)
        w = weights_of(fam, name)
        np.testing.assert_allclose(a["weights"], w, rtol=1e-12)
        assert math.isclose(a["top_weight"], float(np.sort(w)[::-1][:5].sum()), rel_tol=1e-12)
        frame = fam.attribution_frame(name)
        assert len(frame) == len(ids)
        assert math.isclose(float(frame["points"].sum()), move, rel_tol=0, abs_tol=1e-9 * fam.levels[k])
        assert abs(frame["points"]).is_monotonic_decreasing
    # before any trade after a roll the move is 0 everywhere
    fam.roll()
    a = fam.attribution("KOSPI")
    assert a["advancers"] == a["decliners"] == 0 and not np.any(a["points"])


def test_attribution_unknown_index(sample):
    fam = IndexFamily.kospi(sample, price_band=None)
    with pytest.raises(KeyError, match="NOPE"):
        fam.attribution("NOPE")
    with pytest.raises(KeyError, match="NOPE"):
        fam.index_shares("NOPE")


# --------------------------------------------------------------------------- bad definitions
U3 = kf.Universe(["000001", "000002", "000003"], ["a", "b", "c"], [100, 200, 300], [1000, 2000, 3000])
ALL3 = ["000001", "000002", "000003"]


def test_member_not_in_universe_is_a_keyerror_naming_it():
    with pytest.raises(KeyError, match="000009"):
        IndexFamily(U3, [IndexDefinition("X", ["000001", "000009"])], price_band=None)


@pytest.mark.parametrize("ratio", [0, 1.5, float("nan"), -0.1, float("inf")])
def test_float_ratio_outside_0_1(ratio):
    with pytest.raises(ValueError, match=r"float_ratios\[1\]"):
        IndexDefinition("X", ALL3, float_ratios=[1.0, ratio, 0.5])


def test_float_ratio_length():
    with pytest.raises(ValueError, match="float_ratios"):
        IndexDefinition("X", ALL3, float_ratios=[1.0, 0.5])


@pytest.mark.parametrize("caps, match", [
    (0.0, "caps"), (-0.2, "caps"), (1.01, "caps"), (0.3, "cannot be met"), ([0.5, 0.2, 0.2], "cannot be met"),
    ([0.5, 0.5, 0.0], r"caps\[2\]"),
])
def test_bad_caps(caps, match):
    d = IndexDefinition("X", ALL3, caps=caps)
    with pytest.raises(ValueError, match=match):
        IndexFamily(U3, [d], price_band=None)


def test_definition_errors():
    with pytest.raises(ValueError, match="duplicates"):
        IndexDefinition("X", ["000001", "000002", "000001"])
    with pytest.raises(ValueError, match="no members"):
        IndexDefinition("X", [])
    with pytest.raises(ValueError, match="equal-weighted"):
        IndexDefinition("X", ALL3, weighting="equal", caps=0.5)
    with pytest.raises(ValueError, match="weighting"):
        IndexDefinition("X", ALL3, weighting="value")
    with pytest.raises(ValueError, match="at most one"):
        IndexDefinition("X", ALL3, level=100.0, base_cap=1e6)
    with pytest.raises(TypeError, match="string"):
        IndexDefinition("X", "000001")
    with pytest.raises(ValueError, match="duplicate index name 'X'"):
        IndexFamily(U3, [IndexDefinition("X", ALL3), IndexDefinition("X", ["000001"])], price_band=None)
    with pytest.raises(ValueError, match="at least one"):
        IndexFamily(U3, [], price_band=None)


def test_base_cap_calibration():
    fam = IndexFamily(U3, [IndexDefinition("B", ALL3, base_cap=700_000.0, base_value=100.0)], price_band=None)
    cap = 1000 * 100 + 2000 * 200 + 3000 * 300
    assert fam.caps[0] == cap
    assert fam.divisors[0] == 7_000.0
    assert fam.levels[0] == cap / 7_000.0
