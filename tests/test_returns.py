"""Return variants: total return (TR), net total return (NTR), the theoretical ex-dividend
level and KRX's estimate-then-correct dividend flow.

The rule under test (methodology notes, "Total return"): a TR index's level is ``(cap + carry)
/ divisor``; on the ex-date the carry takes Σ dividend × index shares × reinvested share (1 for
TR, 1 − tax rate for NTR), so the index does not move when each price falls by exactly its
dividend; at the roll the carry is folded into the divisor (level unchanged). Hence, at
unchanged membership, TR_t / TR_{t−1} = (cap_close + D_t) / cap_previous_close. A price index
ignores dividends. A correction adds the difference (final − estimate) from its own moment;
history stays. Fast (IndexFamily) vs slow (reference.ReferenceFamily) runs in
tests/test_vs_reference.py; here: worked examples, identities, continuity, refusals, persistence.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import persist, reference
from kospi_fast.definitions import IndexDefinition
from kospi_fast.events import CashDividend, DividendCorrection, Split
from kospi_fast.session import TradingDay

# ----------------------------------------------------------------- a worked example
# Source: the rule above (docs/methodology-notes.md, "Total return"), computed by hand.
# Two stocks: A 50,000 won x 1,000 shares, B 20,000 won x 2,000 shares: cap 90,000,000 won;
# every index calibrated to 1,000, so each divisor is 90,000.
#   A goes ex a 1,000-won dividend: TR carries 1,000 x 1,000 = 1,000,000 won, NTR (15.4 %)
#     846,000 won; no divisor moves.
#   A opens at 49,000 (exactly its dividend lower): cap 89,000,000:
#     KOSPI 89,000,000 / 90,000 = 988.888..., TR (89,000,000 + 1,000,000) / 90,000 = 1,000
#     (unchanged), NTR 89,846,000 / 90,000 = 998.2888...
#   The roll folds the carries in: TR divisor 90,000 x 89,000,000 / 90,000,000 = 89,000 (TR
#     still 1,000), NTR divisor 90,000 x 89,000,000 / 89,846,000.
#   The final dividend is 1,200 won (a correction on a later day, same prices): TR carries
#     200,000 won: (89,000,000 + 200,000) / 89,000 = 1,002.2471...; NTR carries 169,200 won.
#   The theoretical ex-dividend KOSPI before the ex-date: (90,000,000 - 1,000,000) / 90,000.
CODES = ["00000A", "00000B"]


def example_family() -> kf.IndexFamily:
    u = kf.Universe(CODES, ["A", "B"], [1_000, 2_000], [50_000, 20_000])
    price = IndexDefinition("KOSPI", CODES, follows_market=True, level=1000.0)
    return kf.IndexFamily(u, [price, price.twin("total"), price.twin("net", tax_rate=0.154)])


def test_worked_example_ex_date_roll_and_correction():
    fam = example_family()
    assert fam.names == ("KOSPI", "KOSPI TR", "KOSPI NTR")
    assert fam.divisors.tolist() == [90_000.0] * 3
    assert fam.theoretical_ex_dividend_level({"00000A": 1_000}) == 89_000_000 / 90_000
    rec = fam.roll([CashDividend("00000A", 1_000, effective="2026-12-28")], date="2026-12-28")
    assert {r.index: r.credit for r in rec} == {"KOSPI": 0, "KOSPI TR": 1_000_000, "KOSPI NTR": 846_000}
    assert fam.divisors.tolist() == [90_000.0] * 3
    assert fam.to_state().carries.tolist() == [0.0, 1_000_000.0, 846_000.0]
    fam.update("00000A", 49_000)
    assert fam.levels.tolist() == [89_000_000 / 90_000, 1000.0, 89_846_000 / 90_000]
    rec = fam.roll(date="2026-12-29")  # the close: the carries are folded into the divisors
    assert [r.index for r in rec] == ["KOSPI TR", "KOSPI NTR"] and all(r.events == () for r in rec)
    assert fam.divisors.tolist() == [90_000.0, 89_000.0, float(Fraction(90_000) * 89_000_000 / 89_846_000)]
    assert fam.to_state().carries.tolist() == [0.0] * 3
    assert fam.levels[1] == 1000.0 and fam.previous_levels[1] == 1000.0
    rec = fam.apply_events([DividendCorrection("00000A", 1_200, effective="2027-03-20")], date="2027-03-20")
    assert {r.index: r.credit for r in rec.values()} == {"KOSPI": 0, "KOSPI TR": 200_000, "KOSPI NTR": Fraction(169_200)}
    assert fam.divisors[1] == 89_000.0 and fam.levels[1] == 89_200_000 / 89_000
    assert fam.levels[0] == 89_000_000 / 90_000  # the price index never moves for dividends
    assert [d[1] for d in fam.dividends] == [CashDividend("00000A", 1_000, effective="2026-12-28"),
                                             DividendCorrection("00000A", 1_200, effective="2027-03-20")]


def test_twins_add_no_row_to_the_kernel_layout():
    u = kf.sample_universe()
    plain = kf.IndexFamily.kospi(u, sectors=True, size=True)
    twins = kf.IndexFamily.kospi(u, sectors=True, size=True, returns=("price", "total", "net"))
    assert twins.names[:3] == ("KOSPI", "KOSPI TR", "KOSPI NTR")
    assert twins.definition("KOSPI NTR").tax_rate == 0.154
    # the same rows: a trade does the same work with or without the twins
    assert np.array_equal(twins._rec[:, 2:], plain._rec[:, 2:]) and np.array_equal(twins._sh, plain._sh)
    assert twins._twins.tolist() == [1, 2] and twins._src[:3].tolist() == [0, 0, 0]
    rng = np.random.default_rng(3)
    ids = rng.integers(0, len(u), 500)
    px = np.array([kf.krx.round_to_tick(int(p * rng.uniform(0.97, 1.03))) for p in u.base_prices[ids]])
    for sample_at in (None, np.array([0, 10, 499]), np.array([], dtype=np.int64)):
        a = twins.update_many(ids, px, sample_at=sample_at)
        b = plain.update_many(ids, px, sample_at=sample_at)
        keep = [twins.index_of(n) for n in plain.names]
        assert a[:, keep].tobytes() == b.tobytes()
        assert (a[:, 1] == a[:, 0]).all()  # same cap, same divisor until a dividend
    assert twins.levels.tobytes() == twins.recompute().tobytes() == twins.recompute_levels().tobytes()
    assert twins.caps.tolist()[:3] == [plain.caps[0]] * 3


def test_kospi_returns_argument_is_checked():
    u = kf.sample_universe()
    with pytest.raises(TypeError, match="`returns`"):
        kf.IndexFamily.kospi(u, returns="total")
    with pytest.raises(ValueError, match=r"`returns\[1\]`"):
        kf.IndexFamily.kospi(u, returns=("price", "gross"))
    with pytest.raises(ValueError, match="'price'"):
        kf.IndexFamily.kospi(u, returns=("total",))
    fam = kf.IndexFamily.kospi(u, returns=("price", "net"), tax_rate=0.22, sectors=False, size=False,
                               levels={"KOSPI": 5781.2, "KOSPI NTR": 9000.0})
    assert fam.names == ("KOSPI", "KOSPI NTR") and fam.levels[1] == pytest.approx(9000.0, rel=1e-15)
    assert fam.definition("KOSPI NTR").tax_rate == 0.22


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(returns="gross"), ValueError, "`returns`"),
    (dict(returns="net"), ValueError, "`tax_rate`"),
    (dict(returns="total", tax_rate=0.1), ValueError, "`tax_rate`"),
    (dict(returns="net", tax_rate=1.0), ValueError, r"\[0, 1\)"),
    (dict(returns="net", tax_rate=-0.01), ValueError, r"\[0, 1\)"),
    (dict(returns="net", tax_rate="0.154"), TypeError, "`tax_rate`"),
    (dict(returns="net", tax_rate=True), TypeError, "`tax_rate`"),
])
def test_definition_refuses_bad_return_types(kwargs, err, match):
    with pytest.raises(err, match=match):
        IndexDefinition("X", CODES, **kwargs)


def test_reinvested_share_is_exact():
    assert IndexDefinition("X", CODES).reinvested == 0
    assert IndexDefinition("X", CODES, returns="total").reinvested == 1
    assert IndexDefinition("X", CODES, returns="net", tax_rate=0.154).reinvested == Fraction(846, 1000)


# ----------------------------------------------------------------- a random market
def market(seed: int, n: int = 12):
    rng = np.random.default_rng(seed)
    codes = [f"{i:06d}" for i in range(n)]
    listed = rng.integers(10_000, 50_000_000, n)
    prices = np.array([kf.krx.round_to_tick(int(x)) for x in rng.integers(1_000, 400_000, n)])
    u = kf.Universe(codes, codes, listed, prices, [["A", "B"][i % 2] for i in range(n)])
    k200 = codes[: max(2, n // 2)]
    price = IndexDefinition("KOSPI", codes, follows_market=True, level=2500.0)
    k2 = IndexDefinition("KOSPI 200", k200, float_ratios=[0.55, 0.3] * (len(k200) // 2) + [1.0] * (len(k200) % 2),
                         level=330.0)
    defs = [price, price.twin("total"), price.twin("net", tax_rate=0.154), k2, k2.twin("total"),
            IndexDefinition("EW", codes[1:], weighting="equal")]
    return kf.IndexFamily(u, defs), rng


def day_trades(fam, rng, m=60):
    n = len(fam.universe)
    ids = rng.integers(0, n, m)
    p = fam.prices
    px = np.array([kf.krx.round_to_tick(max(1, int(p[i] * rng.uniform(0.95, 1.05)))) for i in ids])
    return ids, px


def dividends_for(fam, rng) -> dict[str, int]:
    p = fam.prices
    payers = rng.permutation(len(p))[: int(rng.integers(0, len(p) + 1))]
    return {fam.universe.codes[i]: int(p[i] * rng.uniform(0.0, 0.04)) for i in sorted(payers)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), days=st.integers(1, 5))
def test_tr_close_to_close_identity(seed, days):
    """At unchanged membership, TR_t / TR_0 = Π over days (cap_close + D_day) / cap_previous_close
    (D_day = Σ dividend × index shares of the day's ex-dividends, × (1 − tax) for NTR), computed
    here from exact caps; the price index is Π cap_close / cap_previous_close."""
    fam, rng = market(seed)
    k_tr, k_ntr, k_p = fam.index_of("KOSPI TR"), fam.index_of("KOSPI NTR"), fam.index_of("KOSPI")
    ids0, sh = fam.index_shares("KOSPI")
    start = fam.levels
    ratio_tr = ratio_ntr = ratio_p = Fraction(1)
    for day in range(days):
        prev_cap = int(fam.caps[k_p])
        div = dividends_for(fam, rng)
        d = sum(a * int(sh[list(ids0).index(fam.universe.code_index[c])]) for c, a in div.items())
        fam.roll([CashDividend(c, a) for c, a in div.items()], date=f"2026-12-{10 + day}")
        ids, px = day_trades(fam, rng)
        fam.update_many(ids, px)
        close = int(fam.caps[k_p])
        ratio_tr *= (close + d) / Fraction(prev_cap)
        ratio_ntr *= (close + Fraction(846, 1000) * d) / Fraction(prev_cap)
        ratio_p *= Fraction(close, prev_cap)
    lv = fam.levels
    assert math.isclose(lv[k_tr] / start[k_tr], float(ratio_tr), rel_tol=1e-12)
    assert math.isclose(lv[k_ntr] / start[k_ntr], float(ratio_ntr), rel_tol=1e-12)
    assert math.isclose(lv[k_p] / start[k_p], float(ratio_p), rel_tol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16))
def test_tr_unchanged_at_theoretical_ex_dividend_prices(seed):
    fam, rng = market(seed)
    div = dividends_for(fam, rng)
    before = fam.levels
    theo = fam.theoretical_ex_dividend_level(div)
    fam.roll([CashDividend(c, a) for c, a in div.items()])
    ex = [fam.universe.code_index[c] for c in div]
    if ex:
        fam.update_many(ex, [int(fam.prices[i]) - div[fam.universe.codes[i]] for i in ex])
    lv = fam.levels
    for name in ("KOSPI TR", "KOSPI 200 TR"):
        assert math.isclose(lv[fam.index_of(name)], before[fam.index_of(name)], rel_tol=1e-13), name
    assert lv[0] == theo  # the price index fell exactly to the theoretical ex-dividend level
    assert lv.tobytes() == fam.recompute().tobytes() == fam.recompute_levels().tobytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), final=st.integers(0, 3_000))
def test_correction_moves_tr_by_its_effect_only(seed, final):
    """A correction adds (final − estimate) × index shares × reinvested share to the carry of
    each total-return index holding the stock; no price, cap, divisor or other level moves,
    and later trades move the corrected book by exactly that many won more."""
    fam, rng = market(seed)
    code = fam.universe.codes[0]  # in KOSPI and KOSPI 200, not in EW
    est = int(fam.prices[0] * 0.02)
    final = min(final, int(fam.prices[0]) - 1)
    fam.roll([CashDividend(code, est, effective="2026-12-28")], date="2026-12-28")
    fam.update_many(*day_trades(fam, rng))
    fam.roll(date="2026-12-29")
    fam.update_many(*day_trades(fam, rng))
    other = kf.IndexFamily.from_state(fam.to_state())
    before, caps, divisors, prices = fam.levels, fam.caps, fam.divisors, fam.prices
    rec = fam.apply_events([DividendCorrection(code, final, effective="2027-03-20")], date="2027-03-20")
    assert fam.prices.tobytes() == prices.tobytes() and fam.caps.tobytes() == caps.tobytes()
    assert fam.divisors.tobytes() == divisors.tobytes()
    carries = fam.to_state().carries
    i = fam.universe.code_index[code]
    deltas = []
    for k, name in enumerate(fam.names):
        delta = Fraction(final - est) * int(fam.to_state().index_shares[k, i]) * fam.definition(name).reinvested
        deltas.append(delta)
        assert carries[k] == float(delta), name
        assert fam.levels[k] == (float(caps[k]) + carries[k]) / divisors[k], name
        if not delta:
            assert fam.levels[k] == before[k], name  # price indices and EW: nothing else moves
        assert (rec[name].credit if name in rec else 0) == delta, name
    ids, px = day_trades(fam, rng)
    a, b = fam.update_many(ids, px), other.update_many(ids, px)
    for k in range(len(fam)):
        assert np.allclose(a[:, k] - b[:, k], float(deltas[k]) / divisors[k], rtol=1e-9, atol=1e-9)


def test_correction_of_a_correction_and_of_a_final_dividend():
    fam = example_family()
    fam.roll([CashDividend("00000A", 1_000)])
    fam.apply_events([DividendCorrection("00000A", 1_200)])
    d1 = fam.divisors[1]
    fam.apply_events([DividendCorrection("00000A", 1_150)])  # a second correction: −50 won/share
    assert fam.divisors[1] == d1 and fam.to_state().carries[1] == 1_150_000.0
    fam.roll([CashDividend("00000B", 300, estimated=False)])
    with pytest.raises(ValueError, match="was final"):
        fam.apply_events([DividendCorrection("00000B", 320)])


# ----------------------------------------------------------------- continuity
NON_DIVIDEND = {
    "split": [Split("000001", 10)],
    "listing": [kf.events.NewListing("999990", 1_000_000, 30_000, sector="A")],
    "delisting": [kf.events.Delisting("000003")],
    "rights": [kf.events.RightsIssue("000002", 1_000, 100_000)],
    "additional": [kf.events.AdditionalListing("000004", 123_456)],
    "merger": [kf.events.Merger("000005", "000000", 1_000)],
    "capital-reduction": [kf.events.CapitalReduction("000006", 1_000, 5_000)],
    "bonus": [kf.events.BonusIssue("000007", 10_000)],
    "stock-dividend": [kf.events.StockDividend("000000", 5_000)],
    "spin-off": [kf.events.SpinOffParent("000008", 2_000, 9_000)],
    "buyback": [kf.events.BuybackCancellation("000009", 1_000)],
    "set-listed": [kf.events.SetListedShares("000010", 777_777)],
    "set-price": [kf.events.SetReferencePrice("000011", 12_340)],
    "split-and-dividend-elsewhere": [Split("000001", 10), CashDividend("000002", 100)],
}


@pytest.mark.parametrize("kind", sorted(NON_DIVIDEND))
def test_tr_and_ntr_continuous_across_corporate_actions(kind):
    fam, rng = market(11)
    fam.roll([CashDividend("000001", 500)])  # a TR divisor that already differs from the price one
    fam.update_many(*day_trades(fam, rng))
    before, carries = fam.levels, fam.to_state().carries
    assert carries[fam.index_of("KOSPI TR")] > 0  # the day's dividends are still carried
    rec = fam.apply_events(NON_DIVIDEND[kind], date="2026-12-29")
    paid = {e.code: e.amount for e in NON_DIVIDEND[kind] if isinstance(e, CashDividend)}
    for k, (name, a, b) in enumerate(zip(fam.names, before, fam.levels)):
        r = rec.get(name)
        if r is not None:  # rebased with the carry on both sides
            assert r.divisor_after == reference.carry_divisor(r.divisor_before, r.cap_before, r.cap_after,
                                                              float(carries[k]), float(carries[k])), (kind, name)
        if paid and fam.definition(name).returns != "price" and r.credit:
            # a dividend in the batch: the level moves by exactly the reinvested credit
            c = float(carries[k])
            assert b == r.level_after == (float(r.cap_after) + float(Fraction(c) + r.credit)) / r.divisor_after
            continue
        assert rec.get(name) is None or rec[name].credit == 0
        assert math.isclose(a, b, rel_tol=1e-13), (kind, name, a, b)
    assert fam.levels.tobytes() == fam.recompute().tobytes() == fam.recompute_levels().tobytes()
    # the twins still share their price index's cap row
    assert fam.caps[fam.index_of("KOSPI TR")] == fam.caps[fam.index_of("KOSPI")]


def test_a_rebalance_carries_the_twins():
    fam, _ = market(5)
    new = IndexDefinition("KOSPI 200", fam.universe.codes[:3], level=330.0)
    before = fam.levels
    out = fam.rebalance({"KOSPI 200": new})
    assert set(out) == {"KOSPI 200", "KOSPI 200 TR"}
    tr = fam.definition("KOSPI 200 TR")
    assert tr.returns == "total" and tr.members == new.members
    assert fam.caps[fam.index_of("KOSPI 200 TR")] == fam.caps[fam.index_of("KOSPI 200")]
    assert np.allclose(fam.levels, before, rtol=1e-13, atol=0)


# ----------------------------------------------------------------- refusals
def snapshot(fam) -> tuple:
    s = fam.to_state()
    return (fam.levels.tobytes(), fam.divisors.tobytes(), s.prices.tobytes(), s.index_shares.tobytes(),
            len(fam.audit), len(fam.dividends), frozenset(s.applied))


@pytest.mark.parametrize("events, err, match", [
    ([DividendCorrection("00000A", 900)], ValueError, "no cash dividend to correct"),
    ([CashDividend("00000A", 60_000)], ValueError, "not below its price"),
    ([CashDividend("00000A", 100), CashDividend("0000ZZ", 100)], KeyError, "0000ZZ"),
    ([CashDividend("00000A", 100), Split("00000B", "3:1")], ValueError, "whole number"),
])
def test_rejected_dividends_change_nothing(events, err, match):
    fam = example_family()
    before = snapshot(fam)
    with pytest.raises(err, match=match):
        fam.apply_events(events)
    assert snapshot(fam) == before
    with pytest.raises(err, match=match):
        fam.roll(events, closes=[51_000, 20_500])
    assert snapshot(fam) == before


@pytest.mark.parametrize("dividends, err, match", [
    ({"00000A": 50_000}, ValueError, "not below"),
    ({"0000ZZ": 1}, KeyError, "0000ZZ"),
    ({"00000A": -1}, ValueError, "finite number >= 0"),
    ({"00000A": float("nan")}, ValueError, "finite number >= 0"),
    ("00000A", TypeError, "`dividends`"),
    ([DividendCorrection("00000A", 1)], TypeError, r"`dividends\[0\]`"),
])
def test_theoretical_ex_dividend_level_refuses(dividends, err, match):
    fam = example_family()
    with pytest.raises(err, match=match):
        fam.theoretical_ex_dividend_level(dividends)
    with pytest.raises(ValueError, match="price index"):
        fam.theoretical_ex_dividend_level({}, index="KOSPI TR")


def test_theoretical_ex_dividend_level_engine_and_events():
    u = kf.Universe(CODES, ["A", "B"], [1_000, 2_000], [50_000, 20_000])
    e = kf.IndexEngine(u, level=1000.0)
    assert e.theoretical_ex_dividend_level([CashDividend("00000A", 1_000)]) == 89_000_000 / 90_000
    assert e.theoretical_ex_dividend_level({}, prices=[60_000, 20_000]) == 100_000_000 / 90_000
    slow = reference.ReferenceFamily(CODES, [1_000, 2_000], [50_000, 20_000],
                                     [IndexDefinition("KOSPI", CODES, level=1000.0)])
    assert slow.theoretical_ex_dividend_level({"00000A": 361.5}) == e.theoretical_ex_dividend_level({"00000A": 361.5})


# ----------------------------------------------------------------- persistence and feeds
def test_twins_and_dividends_survive_save_load_and_the_journal(tmp_path):
    fam, rng = market(21)
    fam.roll([CashDividend("000002", 700, effective="2026-12-28")], date="2026-12-28")
    fam.update_many(*day_trades(fam, rng))
    path = tmp_path / "fam.kfs"
    fam.save(path)
    back = kf.IndexFamily.load(path)
    assert back.levels.tobytes() == fam.levels.tobytes() and back.divisors.tobytes() == fam.divisors.tobytes()
    assert back.definitions == fam.definitions and back.dividends == fam.dividends
    assert back.audit == fam.audit and back._twins.tolist() == fam._twins.tolist()
    # a correction after the load knows the estimate that was saved
    back.apply_events([DividendCorrection("000002", 800, effective="2027-03-20")])
    fam.apply_events([DividendCorrection("000002", 800, effective="2027-03-20")])
    assert back.divisors.tobytes() == fam.divisors.tobytes()
    with kf.JournaledBook.create(fam, tmp_path / "s.kfs", tmp_path / "j.kfj") as jb:
        jb.roll([CashDividend("000003", 900, effective="2026-12-30")], date="2026-12-30")
        jb.update_many(*day_trades(fam, rng))
        jb.apply_events([DividendCorrection("000003", 950, effective="2027-03-21")])
        want = fam.levels.tobytes(), fam.divisors.tobytes()
    rec, _ = kf.JournaledBook.recover(tmp_path / "s.kfs", tmp_path / "j.kfj")
    assert (rec.book.levels.tobytes(), rec.book.divisors.tobytes()) == want
    rec.close()


def test_trading_day_over_twins_matches_update_many():
    fam, rng = market(8)
    fam.roll([CashDividend("000001", 400)], date="2026-03-10")
    twin = kf.IndexFamily.from_state(fam.to_state())
    day = TradingDay(fam, "2026-03-10")
    ids, px = day_trades(fam, rng, 200)
    times = np.sort(rng.integers(9 * 3600, 15 * 3600, 200)) * 1_000_000_000
    res = day.feed(times, ids, px)
    assert res.applied == 200
    twin.update_many(ids, px)
    assert fam.levels.tobytes() == twin.levels.tobytes()


def test_demo_shows_kospi_and_kospi_tr_over_a_week(capsys):
    from kospi_fast import cli

    assert cli.main(["demo", "--ticks", "20000", "--seed", "3", "--progress", "never"]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED amounts, not KRX data" in out and "levels == full recompute: True" in out
    rows = [ln.split() for ln in out.splitlines() if ln.startswith("  2026-03-2")]
    assert [r[0] for r in rows] == ["2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27"]
    kospi, tr, ntr = (np.array([float(r[k]) for r in rows]) for k in (1, 2, 3))
    assert (kospi[:2] == tr[:2]).all() and (tr[:2] == ntr[:2]).all()  # no dividend yet
    assert (tr[2:] > ntr[2:]).all() and (ntr[2:] > kospi[2:]).all()  # reinvested from the ex-date on
    assert "theoretical ex-dividend KOSPI before 2026-03-25" in out and "estimate corrected" in out
    assert cli.main(["demo", "--ticks", "20000", "--no-week", "--progress", "never"]) == 0
    assert "KOSPI TR" not in capsys.readouterr().out


def test_checkpoint_fields_added_later_read_with_their_defaults():
    """A definition or audit record written before ``returns``/``tax_rate``/``credit`` existed
    reads back with the defaults; an unknown field is still refused."""
    from kospi_fast.persist.codec import _Decoder, _enc

    dec = _Decoder(())
    d = _enc(IndexDefinition("KOSPI", CODES, level=1000.0), "d")
    for key in ("returns", "tax_rate"):
        del d["$definition"][key]
    assert dec(d, "d") == IndexDefinition("KOSPI", CODES, level=1000.0)
    d["$definition"]["bogus"] = 1
    with pytest.raises(ValueError, match="fields do not match"):
        dec(d, "d")
    r = _enc(kf.RebaseRecord((0,), 1, 1, 1.0, 1.0, 1.0, 1.0), "r")
    del r["$record"]["credit"]
    assert dec(r, "r").credit == 0
    net = _enc(IndexDefinition("N", CODES, returns="net", tax_rate=0.154), "n")
    net["$definition"]["tax_rate"] = {"$float": (1.5).hex()}
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        dec(net, "n")


def test_book_state_refuses_foreign_dividend_records():
    fam = example_family()
    st_ = fam.to_state()
    st_.dividends.append(("2026-12-28", Split("00000A", 2)))
    with pytest.raises(ValueError, match=r"`dividends\[0\]`"):
        kf.IndexFamily.from_state(st_)


def test_a_checkpoint_without_carries_reads_as_zeros():
    import importlib

    from kospi_fast.persist.codec import _Decoder

    checkpoint = importlib.import_module("kospi_fast.persist.checkpoint")
    fam = example_family()
    header, section = checkpoint._verify("<bytes>", persist.dumps(fam))
    del header["arrays"]["carries"]  # a file written before total-return indices existed
    state = checkpoint._decode_state(header, section, _Decoder(()))
    assert state.carries.tolist() == [0.0, 0.0, 0.0]
    fam.roll([CashDividend("00000A", 1_000)])
    header, section = checkpoint._verify("<bytes>", persist.dumps(fam))
    assert checkpoint._decode_state(header, section, _Decoder(())).carries.tolist() == [0.0, 1e6, 846_000.0]
    with pytest.raises(ValueError, match="carries"):
        st_ = fam.to_state()
        st_.carries[0] = 5.0  # a price index carries nothing
        kf.IndexFamily.from_state(st_)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), bad=st.sampled_from(["at-price", "unknown", "correct-nothing", "buyback-all"]))
def test_a_rejected_dividend_roll_changes_nothing(seed, bad):
    fam, rng = market(seed)
    fam.roll([CashDividend("000001", 300)])
    fam.update_many(*day_trades(fam, rng))
    div = dividends_for(fam, rng)
    div.pop("000005", None)  # "correct-nothing": 000005 never had a dividend
    events = [CashDividend(c, a) for c, a in div.items()]
    events.append({"at-price": CashDividend("000000", int(fam.prices[0]) + 1),  # the close is price + 1
                   "unknown": CashDividend("99999X", 10),
                   "correct-nothing": DividendCorrection("000005", 10),
                   "buyback-all": kf.events.BuybackCancellation("000002", int(fam.listed_shares[2]))}[bad])
    before = snapshot(fam) + (fam.to_state().carries.tobytes(), fam.previous_levels.tobytes())
    with pytest.raises((ValueError, KeyError)):
        fam.roll(events, closes=fam.prices + 1, date="2026-12-30")
    assert snapshot(fam) + (fam.to_state().carries.tobytes(), fam.previous_levels.tobytes()) == before
