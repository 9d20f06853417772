"""Float64 books (``IndexEngine(..., exact=False)``): float prices and listed shares (crypto,
FX, fractional supply), the running cap compensated by replay's TwoSum step. Checked against
an exact rational recount (Fraction) of the same float inputs, against the exact int64 engine
on integer data (bit for bit while every cap is below 2**53), through every event it takes
(continuity), every refusal (nothing changes) and save/load/journal (bit for bit). The bound
asserted is the documented one (docs/methodology-notes.md, "Float64 books")."""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import events as ev
from kospi_fast.persist import JournaledBook
from kospi_fast.state import BookState, exact_cap_f64

#: The documented bound on a float book's relative level error against an exact recount.
DRIFT_BOUND = 1e-13

COINS = ["BTC", "ETH", "SOL", "DOGE", "PEPE"]
SUPPLY = [19_700_000.123, 120_100_000.5, 460_000_000.25, 1.44e11 + 0.75, 4.2e14 + 0.5]
PRICE = [67_123.45, 3_456.78, 150.125, 0.16234, 0.0000123]


def crypto_engine(**kw) -> kf.IndexEngine:
    """A crypto-like stand-in (made-up supplies and prices of the right magnitudes)."""
    u = kf.Universe(COINS, COINS, [1] * 5, [1] * 5)
    return kf.IndexEngine(u, exact=False, listed=SUPPLY, prices=PRICE, level=1000.0, name="CRYPTO5", **kw)


def crypto_stream(m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 5, m)
    steps = np.exp(rng.normal(0, 0.002, m))
    cur = np.array(PRICE)
    px = np.empty(m)
    for k in range(m):
        cur[ids[k]] *= steps[k]
        px[k] = cur[ids[k]]
    return ids, px


def exact_level(e: kf.IndexEngine) -> Fraction:
    return exact_cap_f64(e.prices, e.index_shares) / Fraction(e.divisor)


def state_bytes(e) -> tuple:
    s = e.to_state()
    return (s.prices.tobytes(), s.index_shares.tobytes(), s.listed.tobytes(), s.reference_prices.tobytes(),
            s.divisors.tobytes(), None if s.running is None else s.running.tobytes(), len(s.audit),
            s.member.tobytes())


# ------------------------------------------------------------------ worked example
def test_worked_example_two_coins():
    u = kf.Universe(["BTC", "ETH"], ["Bitcoin", "Ether"], [0, 0], [1, 1])
    e = kf.IndexEngine(u, exact=False, listed=[0.5, 2.25], prices=[100.0, 10.0], level=100.0)
    # cap = 0.5 × 100 + 2.25 × 10 = 72.5; divisor = 0.725
    assert e.cap == 72.5 and e.divisor == 0.725 and e.level == 100.0
    assert e.exact is False and e.price_band is None
    assert e.update("BTC", 101.5) == (0.5 * 101.5 + 22.5) / 0.725  # 73.25 / 0.725
    assert e.update_id(1, 9.75).hex() == ((50.75 + 2.25 * 9.75) / 0.725).hex()
    assert e.prices.dtype == np.float64 and e.prices.tolist() == [101.5, 9.75]
    assert e.index_shares.tolist() == [0.5, 2.25]
    assert repr(e).startswith("IndexEngine(KOSPI 100.")


# ------------------------------------------------------------------ exact vs float on integers
def test_on_integer_data_the_float_engine_equals_the_exact_engine_bit_for_bit():
    u = kf.sample_universe()
    day = kf.simulate_day(u, n_ticks=50_000, seed=11)
    exact = kf.IndexEngine(u, level=2500.0, price_band=None)
    flt = kf.IndexEngine(u, level=2500.0, exact=False)
    assert exact.cap < 2**53  # every partial cap is exact in a double: the float step is exact
    assert flt.divisor == exact.divisor
    a = exact.update_many(day.ids, day.prices)
    b = flt.update_many(day.ids, day.prices.astype(np.float64))
    assert a.tobytes() == b.tobytes()
    assert flt.to_state().running.tolist() == [[float(exact.cap), 0.0]]
    for i, p in ((3, 70_100), (0, 1_000)):
        assert exact.update_id(i, p).hex() == flt.update_id(i, float(p)).hex()
    assert exact.recompute() == flt.recompute() == flt.level


# ------------------------------------------------------------------ drift vs an exact recount
def test_crypto_stream_stays_within_the_bound_and_update_many_equals_single_updates():
    e, one = crypto_engine(), crypto_engine()
    ids, px = crypto_stream(20_000, seed=4)
    levels = e.update_many(ids, px)
    singles = [one.update_id(int(i), float(p)) for i, p in zip(ids[:2000], px[:2000])]
    assert levels[:2000].tobytes() == np.array(singles).tobytes()  # one kernel step, one result
    assert abs(Fraction(e.level) - exact_level(e)) / exact_level(e) <= DRIFT_BOUND
    assert abs(e.recompute() - e.level) <= DRIFT_BOUND * e.level


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 400),
       scale=st.sampled_from([1e-8, 1e-3, 1.0, 1e4, 1e9]))
def test_drift_against_a_fraction_recount_after_every_trade(seed, m, scale):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    u = kf.Universe([f"C{j}" for j in range(n)], ["c"] * n, [1] * n, [1] * n)
    supply = rng.uniform(0.001, 1e12, n) * rng.choice([0, 1, 1, 1], n)
    supply[0] = max(supply[0], 1.5)
    price = rng.lognormal(0, 3, n) * scale
    e = kf.IndexEngine(u, exact=False, listed=supply, prices=price, level=1000.0)
    ids = rng.integers(0, n, m)
    px = price[ids] * np.exp(rng.normal(0, 0.05, m))
    levels = e.update_many(ids, px)
    cur = [Fraction(float(p)) for p in price]
    sh = [Fraction(float(s)) for s in supply]
    d = Fraction(e.divisor)
    for k in range(m):
        cur[ids[k]] = Fraction(float(px[k]))
        want = sum(p * s for p, s in zip(cur, sh)) / d
        assert abs(Fraction(float(levels[k])) - want) <= DRIFT_BOUND * want
    # incremental == full recompute, within the bound
    assert abs(e.recompute() - e.level) <= DRIFT_BOUND * e.level


def test_out_buffer_and_int32_ids():
    e, f = crypto_engine(), crypto_engine()
    ids, px = crypto_stream(500, seed=9)
    buf = np.empty(500)
    assert e.update_many(ids.astype(np.int32), px, out=buf) is buf
    assert buf.tobytes() == f.update_many(ids, px).tobytes()
    with pytest.raises(ValueError, match="out"):
        e.update_many(ids, px, out=np.empty(3))
    sampled = crypto_engine().update_many(ids, px, sample_at=[0, 10, 499])
    assert sampled.tolist() == [buf[0], buf[10], buf[499]]


# ------------------------------------------------------------------ refusals change nothing
@pytest.mark.parametrize("ids, prices, match", [
    ([0, 9], [1.0, 2.0], r"`ids\[1\]` is out of range"),
    ([0, -1], [1.0, 2.0], r"`ids\[1\]` is out of range"),
    ([0, 1], [1.0, 0.0], r"`prices\[1\]` must be a finite number > 0, got 0.0"),
    ([0, 1], [1.0, -2.5], r"`prices\[1\]` must be a finite number > 0"),
    ([0, 1], [1.0, float("nan")], r"`prices\[1\]` must be a finite number"),
    ([0, 1], [1.0, float("inf")], r"`prices\[1\]` must be a finite number"),
    ([0, 1], [2.0, 1e301], r"`prices\[1\]` = 1e\+301 would take the float64 aggregate cap"),
    ([0, 1], ["a", "b"], "numeric"),
    ([0, 1], [1.0], "same length"),
])
def test_a_rejected_batch_changes_nothing(ids, prices, match):
    e = crypto_engine()
    e.update_many([0, 1], [67_000.5, 3_500.25])
    before, level = state_bytes(e), e.level
    with pytest.raises((TypeError, ValueError), match=match):
        e.update_many(ids, prices)
    assert state_bytes(e) == before and e.level == level


@pytest.mark.parametrize("price, exc", [(0.0, ValueError), (-1.0, ValueError), (float("nan"), ValueError),
                                        (float("inf"), ValueError), (True, TypeError), ("1", TypeError),
                                        (10**400, ValueError), (1e300, ValueError)])
def test_a_rejected_single_trade_changes_nothing(price, exc):
    e = crypto_engine()
    before, level = state_bytes(e), e.level
    with pytest.raises(exc):
        e.update("PEPE" if price == 1e300 else "BTC", price)
    assert state_bytes(e) == before and e.level == level


def test_ints_fractions_and_numpy_scalars_are_prices():
    e = crypto_engine()
    e.update("BTC", 67_000)
    e.update("ETH", Fraction(7, 2))
    e.update("SOL", np.float32(150.5))
    assert e.prices[:3].tolist() == [67_000.0, 3.5, 150.5]


@pytest.mark.parametrize("kw, match", [
    (dict(price_band=0.30), "has no price band"),
    (dict(index_shares=[1, 2, 3, 4, 5]), "`index_shares`"),
    (dict(exact=0), "`exact` must be a bool"),
])
def test_construction_refusals(kw, match):
    u = kf.Universe(COINS, COINS, [1] * 5, [1] * 5)
    args = dict(exact=False, listed=SUPPLY, prices=PRICE)
    args.update(kw)
    with pytest.raises((TypeError, ValueError), match=match):
        kf.IndexEngine(u, **args)


def test_bad_listed_and_prices_are_named():
    u = kf.Universe(COINS, COINS, [1] * 5, [1] * 5)
    with pytest.raises(ValueError, match=r"`listed\[2\]` must be a finite number"):
        kf.IndexEngine(u, exact=False, listed=[1, 2, float("nan"), 4, 5])
    with pytest.raises(ValueError, match=r"`prices\[0\]` must be > 0"):
        kf.IndexEngine(u, exact=False, prices=[0.0, 1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"`listed\[1\]` must be >= 0"):
        kf.IndexEngine(u, exact=False, listed=[1, -0.5, 1, 1, 1])
    with pytest.raises(ValueError, match="no members"):
        kf.IndexEngine(u, exact=False, listed=[0.0] * 5)


def test_krx_rules_are_refused_on_a_float_book():
    e = crypto_engine()
    with pytest.raises(ValueError, match="has no price band"):
        e.set_price_band(0.3)
    e.set_price_band(None)
    with pytest.raises(ValueError, match="float64 book"):
        kf.TradingDay(e, "2026-03-10")
    with pytest.raises(ValueError, match="float64 book"):
        e.theoretical_ex_dividend_level({"BTC": 1})


# ------------------------------------------------------------------ events
CONTINUOUS = {
    "split": [ev.Split("ETH", 3)],
    "reverse-split": [ev.Split("SOL", "10:1")],
    "additional-listing": [ev.AdditionalListing("BTC", 1000)],
    "buyback": [ev.BuybackCancellation("DOGE", 10**9)],
    "set-listed": [ev.SetListedShares("SOL", 500_000_000)],
    "set-reference-price": [ev.SetReferencePrice("ETH", 3_000)],
    "new-listing": [ev.NewListing("XRP", 55_000_000_000, 1, "XRP-like")],
    "delisting": [ev.Delisting("PEPE")],
    "merger": [ev.Merger("SOL", "ETH", 1_000_000)],
    "capital-reduction": [ev.CapitalReduction("DOGE", 10**11, 1)],
    "spin-off": [ev.SpinOffParent("BTC", 50_000, 19_000_000)],
    "cash-dividend": [ev.CashDividend("BTC", 1.5)],
    "together": [ev.Split("BTC", 2), ev.AdditionalListing("BTC", 5), ev.Delisting("PEPE")],
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_every_event_a_float_book_takes_keeps_the_level(name):
    e = crypto_engine()
    ids, px = crypto_stream(3000, seed=2)
    e.update_many(ids, px)
    before = e.level
    rec = e.apply_events(CONTINUOUS[name], date="2026-03-11")
    assert abs(e.level - before) <= 2e-16 * before  # one rounding of the rebased divisor
    assert rec.level_before == before and isinstance(rec.cap_after, Fraction)
    # the new running cap is the exact recount of the new state, and trading goes on
    assert e.to_state().running.tolist()[0] == [float(exact_cap_f64(e.prices, e.index_shares)),
                                                float(exact_cap_f64(e.prices, e.index_shares)
                                                      - Fraction(float(exact_cap_f64(e.prices, e.index_shares))))]
    more = e.update_many(*crypto_stream(200, seed=3))
    assert np.isfinite(more).all()
    assert abs(e.recompute() - e.level) <= DRIFT_BOUND * e.level


def test_split_worked_example_and_new_listing_joins():
    e = crypto_engine()
    e.apply_events([ev.Split("ETH", 4)])
    assert e.prices[1] == 3_456.78 / 4 and e.index_shares[1] == 120_100_000.5 * 4
    e.apply_events([ev.NewListing("XRP", 55_000_000_000, 1, "XRP-like")])
    assert e.universe.codes[-1] == "XRP" and e.index_shares[-1] == 55e9 and e.prices[-1] == 1.0
    e.update("XRP", 0.5123)
    assert e.prices[-1] == 0.5123


def test_roll_and_apply_changes_with_float_values():
    e = crypto_engine()
    e.update_many([0, 3], [68_000.25, 0.17])
    before = e.level
    rec = e.apply_changes(["DOGE", "PEPE"], index_shares=[1.5e11 + 0.25, 4.3e14], prices=[0.171, 0.0000124])
    assert abs(e.level - before) <= 2e-16 * before and rec.ids == (3, 4)
    assert e.index_shares[3:].tolist() == [1.5e11 + 0.25, 4.3e14] and e.prices[4] == 0.0000124
    before = e.level
    assert e.roll(closes=[68_100.5, 3_400.25, 151.0, 0.17, 0.0000125]) is None
    assert e.reference_prices.tolist() == [68_100.5, 3_400.25, 151.0, 0.17, 0.0000125]
    assert e.previous_close == e.level != before


@pytest.mark.parametrize("events, match", [
    ([ev.RightsIssue("BTC", 50_000, 1_000_000)], "RightsIssue on 'BTC': not defined for a float64 book"),
    ([ev.BonusIssue("ETH", 1_000)], "BonusIssue on 'ETH': not defined for a float64 book"),
    ([ev.StockDividend("SOL", 10)], "StockDividend on 'SOL': not defined for a float64 book"),
    ([ev.Split("BTC", 2, grid=1)], "`grid` = 1 rounds to whole price units"),
    ([ev.Split("BTC", 2), ev.BonusIssue("ETH", 1_000)], "BonusIssue"),  # nothing of the batch applies
    ([ev.Delisting("NOPE")], "unknown stock code"),
])
def test_refused_events_change_nothing(events, match):
    e = crypto_engine()
    e.update_many([0], [70_000.5])
    before = state_bytes(e)
    with pytest.raises((KeyError, ValueError), match=match):
        e.apply_events(events)
    with pytest.raises((KeyError, ValueError), match=match):
        e.roll(events, closes=[1.0] * 5)
    assert state_bytes(e) == before


def test_rejected_changes_change_nothing():
    e = crypto_engine()
    before = state_bytes(e)
    for kw in (dict(prices=[float("nan")]), dict(index_shares=[-1.0]), dict(prices=[0.0]),
               dict(index_shares=[1e308], prices=[1e308])):
        with pytest.raises(ValueError):
            e.apply_changes(["BTC"], **kw)
        assert state_bytes(e) == before


# ------------------------------------------------------------------ state, checkpoints, journals
def test_save_load_is_bit_for_bit_and_goes_on_identically(tmp_path):
    e = crypto_engine()
    ids, px = crypto_stream(5000, seed=6)
    e.update_many(ids, px)
    e.apply_events([ev.Split("ETH", 2)], date="2026-03-11")
    e.update_many(ids[:100], px[:100] * 1.01)
    assert e.to_state().running[0, 1] != 0.0  # a compensation term to carry over
    path = tmp_path / "book.ck"
    e.save(path)
    back = kf.IndexEngine.load(path)
    assert back.exact is False
    assert state_bytes(back) == state_bytes(e) and back.level.hex() == e.level.hex()
    assert back.audit == e.audit
    tail = crypto_stream(300, seed=8)
    assert back.update_many(*tail).tobytes() == e.update_many(*tail).tobytes()
    # restore() (what a rejected roll uses) is bit for bit too
    saved = e.to_state()
    e.update_many(*tail)
    e.restore(saved)
    assert e.level.hex() == back.level.hex()


def test_journal_records_float_prices_bit_for_bit_and_recovers(tmp_path):
    state, journal = tmp_path / "s.ck", tmp_path / "s.journal"
    jb = JournaledBook.create(crypto_engine(), state, journal, fsync=False)
    ids, px = crypto_stream(1000, seed=12)
    jb.update_many(ids[:500], px[:500])
    jb.update_id(0, 70_000.123456789)
    jb.update_many(ids[500:], px[500:])
    want = jb.book.level
    jb.close()
    back, report = kf.persist.recover(state, journal)
    assert report.ticks == 1001 and back.level.hex() == want.hex()
    recs = kf.persist.Journal.read(journal)
    assert recs[0].prices.dtype == np.dtype("<f8") and recs[0].prices.tobytes() == px[:500].tobytes()


def test_book_state_check_covers_the_float_fields():
    good = crypto_engine().to_state()
    good.check()

    def broken(**changes) -> BookState:
        s = crypto_engine().to_state()
        for k, v in changes.items():
            setattr(s, k, v)
        return s

    cases = {
        "running NaN": (dict(running=np.array([[np.nan, 0.0]])), "`running` must be finite"),
        "running missing": (dict(running=None), r"`running`: expected float64 \(1, 2\)"),
        "running shape": (dict(running=np.zeros((2, 2))), r"`running`: expected float64 \(1, 2\)"),
        "running zero": (dict(running=np.zeros((1, 2))), "not a finite number > 0"),
        "listed int": (dict(listed=np.ones(5, dtype=np.int64)), r"`listed`: expected float64"),
        "prices inf": (dict(prices=np.array([1.0, 2, 3, 4, np.inf])), "`prices` must be finite"),
    }
    for label, (changes, match) in cases.items():
        with pytest.raises(ValueError, match=match):
            broken(**changes).check()
    exact = kf.IndexEngine(kf.Universe(["A"], ["a"], [5], [7])).to_state()
    exact.running = np.ones((1, 2))
    with pytest.raises(ValueError, match="an exact .* book has no running float caps"):
        exact.check()


def test_an_exact_checkpoint_is_written_as_before_and_a_float_one_needs_its_running_caps(tmp_path):
    import importlib

    from kospi_fast.persist.codec import _Decoder

    checkpoint = importlib.import_module("kospi_fast.persist.checkpoint")
    e = kf.IndexEngine(kf.Universe(["A", "B"], ["a", "b"], [5, 6], [7, 8]), price_band=None)
    e.save(tmp_path / "x.ck")
    assert kf.IndexEngine.load(tmp_path / "x.ck").to_state().running is None
    assert os.path.getsize(tmp_path / "x.ck") > 0
    header, _ = checkpoint._verify("<bytes>", kf.persist.dumps(e))
    assert "running" not in header["arrays"] and header["caps"] == [83]  # the format of older files
    f = crypto_engine()
    header, section = checkpoint._verify("<bytes>", kf.persist.dumps(f))
    assert header["caps"][0]["$fraction"][1] > 1  # the exact cap of float inputs, tagged
    del header["arrays"]["running"]
    with pytest.raises(ValueError, match=r"`running`: expected float64 \(1, 2\)"):
        checkpoint._decode_state(header, section, _Decoder(()))


# ================================================================== float64 families
from kospi_fast.definitions import IndexDefinition as Def  # noqa: E402

FAMILY_DEFS = [
    Def("ALL", COINS, level=1000.0, follows_market=True),
    Def("TOP2", COINS[:2], level=500.0),
    Def("EQ", COINS, weighting="equal", notional=1e6),
    Def("PX", COINS[1:4], weighting="price"),
    Def("FL", COINS[:3], float_ratios=[0.5, 0.25, 1.0]),
    Def("ALL-TWIN", COINS, base_value=1000.0, follows_market=True),  # same shares as ALL: a twin slot
]


def crypto_family(defs=FAMILY_DEFS) -> kf.IndexFamily:
    u = kf.Universe(COINS, COINS, [1] * 5, [1] * 5)
    return kf.IndexFamily(u, defs, exact=False, listed=SUPPLY, prices=PRICE)


def family_exact_levels(f: kf.IndexFamily) -> list[Fraction]:
    st = f.to_state()
    return [exact_cap_f64(st.prices, st.index_shares[k]) / Fraction(float(st.divisors[k])) for k in range(len(f))]


def test_family_worked_example():
    u = kf.Universe(["A", "B"], ["a", "b"], [0, 0], [1, 1])
    f = kf.IndexFamily(u, [Def("CAP", ["A", "B"], level=100.0), Def("EQ", ["A", "B"], weighting="equal",
                                                                       notional=10.0)],
                       exact=False, listed=[0.5, 2.25], prices=[100.0, 10.0])
    # CAP: 72.5 / 0.725; EQ: shares 10/100 = 0.1 and 10/10 = 1, cap 20, base value 100 -> divisor 0.2
    assert f.divisors.tolist() == [0.725, 0.2] and f.levels.tolist() == [100.0, 100.0]
    assert f.index_shares("EQ")[1].tolist() == [0.1, 1.0]
    # EQ: 0.1 × 101.5 + 10 is 20.15 (the double 0.1 is a hair above 1/10); the compensated cap
    # gives 100.75 where the plain float sum gives 100.74999999999999
    assert f.update("A", 101.5).tolist() == [73.25 / 0.725, 100.75]
    assert (0.1 * 101.5 + 10.0) / 0.2 == 100.74999999999999
    assert f.exact is False and f.price_band is None


def test_family_equals_the_float_engine_and_the_exact_family_on_integers():
    # one index: the family's kernel is the engine's step, bit for bit
    e, f = crypto_engine(), crypto_family([Def("CRYPTO5", COINS, level=1000.0)])
    ids, px = crypto_stream(5000, seed=21)
    assert f.update_many(ids, px)[:, 0].tobytes() == e.update_many(ids, px).tobytes()
    # integer data below 2**53: the float family equals the exact family bit for bit
    u = kf.sample_universe()
    day = kf.simulate_day(u, n_ticks=20_000, seed=2)
    defs = [Def("KOSPI", list(u.codes), level=2500.0), Def("TOP", list(u.codes[:50]), weighting="price")]
    a = kf.IndexFamily(u, defs, price_band=None).update_many(day.ids, day.prices)
    b = kf.IndexFamily(u, defs, exact=False).update_many(day.ids, day.prices.astype(np.float64))
    assert a.tobytes() == b.tobytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 300), sample=st.booleans())
def test_family_drift_against_a_fraction_recount(seed, m, sample):
    f = crypto_family()
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 5, m)
    px = np.array(PRICE)[ids] * np.exp(rng.normal(0, 0.05, m))
    at = np.unique(rng.integers(0, m, 5)) if sample else None
    rows = f.update_many(ids, px, sample_at=at)
    assert rows.shape == (m if at is None else at.shape[0], len(FAMILY_DEFS))
    want = family_exact_levels(f)
    for k, x in enumerate(f.levels.tolist()):
        assert abs(Fraction(x) - want[k]) <= DRIFT_BOUND * want[k]
    assert rows[-1].tolist() == f.levels.tolist() or (at is not None and at[-1] != m - 1)
    assert np.all(np.abs(f.recompute() - f.levels) <= DRIFT_BOUND * f.levels)
    assert f.levels[5] == f.levels[0]  # the twin reads ALL's running cap


def test_family_rejected_batches_and_trades_change_nothing():
    f = crypto_family()
    f.update_many([0, 1], [67_000.5, 3_500.25])
    before, levels = state_bytes(f), f.levels.tolist()
    for ids, prices, match in (([0, 9], [1.0, 2.0], r"`ids\[1\]` is out of range"),
                               ([0, 1], [1.0, -1.0], r"`prices\[1\]` must be a finite number > 0"),
                               ([0, 1], [1.0, float("nan")], r"`prices\[1\]` must be a finite number"),
                               ([0, 4], [1.0, 1e300], r"`prices\[1\]` = 1e\+300 would take a float64 aggregate cap"),
                               ([0], [1.0, 2.0], "same length")):
        with pytest.raises(ValueError, match=match):
            f.update_many(ids, prices)
        assert state_bytes(f) == before and f.levels.tolist() == levels
    for price in (0.0, float("inf"), True):
        with pytest.raises((TypeError, ValueError)):
            f.update("BTC", price)
    assert state_bytes(f) == before
    with pytest.raises(ValueError, match="price indices only"):
        kf.IndexFamily(kf.Universe(COINS, COINS, [1] * 5, [1] * 5), [FAMILY_DEFS[0], FAMILY_DEFS[0].twin("total")],
                       exact=False)
    with pytest.raises(ValueError, match="has no price band"):
        kf.IndexFamily(kf.Universe(COINS, COINS, [1] * 5, [1] * 5), FAMILY_DEFS, exact=False, price_band=0.3)


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_family_every_event_keeps_every_level(name):
    f = crypto_family()
    f.update_many(*crypto_stream(2000, seed=5))
    before = f.levels
    f.apply_events(CONTINUOUS[name], date="2026-03-11")
    assert np.all(np.abs(f.levels - before) <= 4e-16 * before)
    f.update_many(*crypto_stream(200, seed=6))
    assert np.all(np.abs(f.recompute() - f.levels) <= DRIFT_BOUND * f.levels)


def test_family_rebalance_roll_and_point_in_time():
    f = crypto_family()
    f.update_many(*crypto_stream(500, seed=7))
    before = f.levels
    out = f.rebalance({"TOP2": Def("TOP2", COINS[:3], level=500.0)})
    assert abs(out["TOP2"][1] - before[1]) <= 2e-16 * before[1]
    assert f.index_shares("TOP2")[1].tolist() == SUPPLY[:3]
    closes = (f.prices * 1.01).tolist()
    f.roll([ev.Split("SOL", 2)], closes=closes, date="2026-03-11")
    comp = f.as_of("2026-03-10")["ALL"]
    assert comp.shares.dtype == np.float64 and comp.shares.tolist() == SUPPLY
    assert f.reference_prices[2] == closes[2] / 2


def test_family_refused_events_change_nothing():
    f = crypto_family()
    before = state_bytes(f)
    with pytest.raises(ValueError, match="BonusIssue"):
        f.apply_events([ev.Split("BTC", 2), ev.BonusIssue("ETH", 5)])
    assert state_bytes(f) == before


def test_family_save_load_and_journal_bit_for_bit(tmp_path):
    f = crypto_family()
    f.update_many(*crypto_stream(3000, seed=8))
    f.apply_events([ev.Delisting("PEPE")])
    f.update_many(*crypto_stream(300, seed=9))
    f.save(tmp_path / "f.ck")
    g = kf.IndexFamily.load(tmp_path / "f.ck")
    assert state_bytes(g) == state_bytes(f) and g.levels.tobytes() == f.levels.tobytes()
    tail = crypto_stream(100, seed=10)
    assert g.update_many(*tail).tobytes() == f.update_many(*tail).tobytes()
    jb = JournaledBook.create(crypto_family(), tmp_path / "j.ck", tmp_path / "j.journal", fsync=False)
    jb.update_many(*tail)
    want = jb.book.levels
    jb.close()
    back, _ = kf.persist.recover(tmp_path / "j.ck", tmp_path / "j.journal")
    assert back.levels.tobytes() == want.tobytes()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_event_batches_on_a_float_family(data):
    """Random batches of every event a float book takes (and some it refuses), with trades in
    between: each accepted batch keeps every level, each refused one changes nothing, and the
    running caps stay within the bound of an exact recount."""
    f = crypto_family()
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    fresh = iter(f"NEW{k}" for k in range(20))
    for _ in range(data.draw(st.integers(1, 5))):
        batch = []
        for _ in range(data.draw(st.integers(1, 3))):
            c = data.draw(st.sampled_from(list(f.universe.codes)))
            kind = data.draw(st.sampled_from(["split", "listing", "buyback", "set", "ref", "new", "delist",
                                              "bonus", "grid"]))
            batch.append({"split": lambda: ev.Split(c, data.draw(st.sampled_from([2, 3, "10:1", "3:2"]))),
                          "listing": lambda: ev.AdditionalListing(c, data.draw(st.integers(1, 10**9))),
                          "buyback": lambda: ev.BuybackCancellation(c, data.draw(st.integers(1, 10**6))),
                          "set": lambda: ev.SetListedShares(c, data.draw(st.integers(1, 10**12))),
                          "ref": lambda: ev.SetReferencePrice(c, data.draw(st.integers(1, 10**5))),
                          "new": lambda: ev.NewListing(next(fresh), data.draw(st.integers(1, 10**10)), 3),
                          "delist": lambda: ev.Delisting(c),
                          "bonus": lambda: ev.BonusIssue(c, 5),
                          "grid": lambda: ev.Split(c, 2, grid=1)}[kind]())
        before, snap = f.levels, state_bytes(f)
        try:
            f.apply_events(batch)
        except (KeyError, ValueError):
            assert state_bytes(f) == snap
        else:
            assert np.all(np.abs(f.levels - before) <= 4e-16 * before)
        n = len(f.universe)
        ids = rng.integers(0, n, 100)
        f.update_many(ids, f.prices[ids] * np.exp(rng.normal(0, 0.05, 100)))
        want = family_exact_levels(f)
        for k, x in enumerate(f.levels.tolist()):
            assert abs(Fraction(x) - want[k]) <= DRIFT_BOUND * want[k]
