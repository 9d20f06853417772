"""The index book: one state model for every index of a universe.

A family of KOSPI (follows the market), KOSPI 200 (float ratios), a sector index, an
equal-weight index and a fixed-share basket takes every corporate action of
``kospi_fast.events``; each keeps every level unchanged at the same prices and equal to a
full recount (hypothesis over random event sequences, and a worked example per event kind);
a rejected batch changes nothing; a TradingDay over the family gives, for valid trades,
exactly the levels of ``update_many`` and follows the book when a stock is listed mid-day.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import persist
from kospi_fast.definitions import EQUAL_NOTIONAL, IndexDefinition
from kospi_fast.events import (
    ALL_EVENTS,
    AdditionalListing,
    BonusIssue,
    BuybackCancellation,
    CapitalReduction,
    CashDividend,
    Delisting,
    DividendCorrection,
    Merger,
    NewListing,
    RightsIssue,
    SetListedShares,
    SetReferencePrice,
    SpinOffParent,
    Split,
    StockDividend,
)
from kospi_fast.session import TradingDay

CODES = [f"{k:06d}" for k in range(10, 150, 10)]  # 14 stocks
SECTORS = ["A", "B", "C", "A", "B", "C", "A", "B", "C", "A", "B", "C", "A", "B"]
SHARES = [1_000_000 * (k + 1) for k in range(14)]
PRICES = [50_000, 12_000, 3_000, 180_000, 7_500, 42_000, 990, 21_000, 65_000, 1_500, 9_000, 300_000, 4_500, 16_000]
K200 = CODES[:8]
RATIOS = [0.35, 0.5, 0.85, 0.2, 1.0, 0.65, 0.45, 0.9]
EW = CODES[2:8]
BASKET = (CODES[0], CODES[5], CODES[9])


def universe() -> kf.Universe:
    return kf.Universe(CODES, [f"Co{k}" for k in range(14)], SHARES, PRICES, SECTORS)


def family() -> kf.IndexFamily:
    u = universe()
    defs = [
        IndexDefinition("KOSPI", CODES, follows_market=True, level=5781.2),
        IndexDefinition("KOSPI 200", K200, float_ratios=RATIOS, level=812.5),
        IndexDefinition("Sector A", [c for c, s in zip(CODES, SECTORS) if s == "A"], sector="A"),
        IndexDefinition("EW", EW, weighting="equal"),
        IndexDefinition("Basket", BASKET, weighting="fixed", shares=(1, 1, 1), base_value=1000.0),
    ]
    return kf.IndexFamily(u, defs, price_band=None)


def check_memberships(fam: kf.IndexFamily, gone: set[str] = frozenset(),  # type: ignore[assignment]
                      basket: dict[str, int] | None = None) -> None:
    """The index shares each definition's rule implies, computed here independently. ``gone``:
    codes that left the market at some point (a stock relisted later rejoins only the indices
    that follow the market or its sector). ``basket``: the fixed Basket's expected shares
    (given 1 each, scaled by every split since)."""
    st_ = fam.to_state()
    listed, member, sh = st_.listed, st_.member, st_.index_shares
    sectors = fam.universe.sectors
    codes = fam.universe.codes
    k = {n: i for i, n in enumerate(fam.names)}
    for i, c in enumerate(codes):
        assert sh[k["KOSPI"], i] == (listed[i] if member[i] else 0), c
        stayed = bool(member[i]) and c not in gone
        if c in K200 and stayed:
            exact = Fraction(int(listed[i])) * Fraction(str(RATIOS[K200.index(c)]))
            assert sh[k["KOSPI 200"], i] == math.floor(exact + Fraction(1, 2)), c  # half-up, exact
        else:
            assert sh[k["KOSPI 200"], i] == 0, c
        assert sh[k["Sector A"], i] == (listed[i] if member[i] and sectors[i] == "A" else 0), c
        assert (sh[k["EW"], i] >= 1) == (c in EW and stayed), c
        want = (basket or {}).get(c, 1)
        assert sh[k["Basket"], i] == (want if c in BASKET and stayed else 0), c


def snapshot(fam: kf.IndexFamily) -> tuple:
    s = fam.to_state()
    return (fam.levels.tobytes(), fam.caps.tobytes(), fam.divisors.tobytes(), s.prices.tobytes(),
            s.index_shares.tobytes(), s.listed.tobytes(), s.member.tobytes(), s.reference_prices.tobytes(),
            tuple(fam.universe.codes), len(fam.audit), len(fam.dividends), frozenset(s.applied))


def assert_continuous(before: np.ndarray, fam: kf.IndexFamily) -> None:
    after = fam.levels
    for name, a, b in zip(fam.names, before, after):
        assert math.isclose(a, b, rel_tol=1e-13), (name, a, b)
    assert fam.levels.tobytes() == fam.recompute().tobytes() == fam.recompute_levels().tobytes()


# --------------------------------------------------------------------------- worked examples
def test_split_worked_example():
    fam = family()
    s0 = fam.to_state()
    i = CODES.index(CODES[3])  # 180,000 won, 4,000,000 listed, KOSPI 200 ratio 0.2, in EW and sector A
    ew0 = int(s0.index_shares[fam.index_of("EW"), i])
    assert ew0 == round(EQUAL_NOTIONAL / 180_000) == 5_555_556
    before = fam.levels
    rec = fam.apply_events([Split(CODES[3], 10)], date="2026-03-24")
    s1 = fam.to_state()
    assert s1.prices[i] == 18_000 and s1.reference_prices[i] == 18_000 and s1.listed[i] == 40_000_000
    assert s1.index_shares[:, i].tolist() == [40_000_000, 8_000_000, 40_000_000, 55_555_560, 0]
    assert set(rec) == {"KOSPI", "KOSPI 200", "Sector A", "EW"}  # the basket does not hold it
    assert rec["KOSPI"].cap_before == rec["KOSPI"].cap_after  # a split is cap-neutral here
    assert rec["EW"].cap_after - rec["EW"].cap_before == (55_555_560 * 18_000 - ew0 * 180_000)
    assert_continuous(before, fam)
    check_memberships(fam)
    assert [r["index"] for r in fam.audit_table()] == [r.index for r in fam.audit]


def test_new_listing_joins_the_market_and_its_sector_only():
    fam = family()
    before = fam.levels
    rec = fam.apply_events([NewListing("999990", 2_000_000, 25_000, name="NewCo", sector="A")], date="2026-03-24")
    assert set(rec) == {"KOSPI", "Sector A"}
    assert fam.universe.codes[-1] == "999990" and fam.reference_prices[-1] == 25_000
    assert_continuous(before, fam)
    check_memberships(fam)
    ids, sh = fam.index_shares("Sector A")
    assert ids[-1] == 14 and sh[-1] == 2_000_000


def test_delisting_and_merger_leave_every_index():
    fam = family()
    before = fam.levels
    rec = fam.apply_events([Delisting(CODES[0]), Merger(CODES[5], CODES[9], 700_000)], date="2026-03-24")
    assert set(rec) == set(fam.names)  # CODES[0] and CODES[5] are in every index
    assert_continuous(before, fam)
    check_memberships(fam)
    assert fam.index_shares("Basket")[0].tolist() == [9]


EXAMPLES = {
    "Split": Split(CODES[1], "2:1"),
    "RightsIssue": RightsIssue(CODES[1], 8_000, 1_000_000),
    "BonusIssue": BonusIssue(CODES[1], 500_000),
    "StockDividend": StockDividend(CODES[1], 100_000),
    "CapitalReduction": CapitalReduction(CODES[1], 1_000_000, 48_000),
    "SpinOffParent": SpinOffParent(CODES[1], 9_000, 1_800_000),
    "AdditionalListing": AdditionalListing(CODES[1], 333_333),
    "BuybackCancellation": BuybackCancellation(CODES[1], 250_000),
    "SetListedShares": SetListedShares(CODES[1], 2_345_678),
    "SetReferencePrice": SetReferencePrice(CODES[1], 11_950),
    "NewListing": NewListing("999990", 1_000_000, 30_000, sector="B"),
    "Delisting": Delisting(CODES[1]),
    "Merger": Merger(CODES[1], CODES[0], 123_456),
    "CashDividend": CashDividend(CODES[1], 361.0),
    "DividendCorrection": DividendCorrection(CODES[1], 375.0),
}
#: What an example needs applied before it (a correction corrects an estimated dividend).
SETUP = {"DividendCorrection": [CashDividend(CODES[1], 361.0, effective="2026-03-20")]}


def test_every_event_kind_has_an_example():
    assert {type(e).__name__ for e in EXAMPLES.values()} == {e.__name__ for e in ALL_EVENTS}


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_each_event_kind_keeps_every_level(kind):
    fam = family()
    e = kf.IndexEngine(universe(), level=5781.2, price_band=None)  # the one-index book takes the same event
    for book in (fam, e):
        book.apply_events(SETUP.get(kind, []), date="2026-03-20")
    before = fam.levels
    rec = fam.apply_events([EXAMPLES[kind]], date="2026-03-24")
    assert rec and all(r.index in fam.names for r in rec.values())
    assert_continuous(before, fam)
    check_memberships(fam)
    lv = e.level
    r = e.apply_events([EXAMPLES[kind]], date="2026-03-24")
    assert math.isclose(e.level, lv, rel_tol=1e-13) and e.level == e.recompute()
    assert r.level_before == lv and r.index == "KOSPI"
    k = fam.index_of("KOSPI")  # and the family's KOSPI is that engine, share for share
    assert fam.to_state().index_shares[k].tolist() == e.index_shares.tolist()


REJECTED = {
    "delist_non_member": [Delisting(CODES[2]), Delisting(CODES[2])],
    "unknown_code": [Split("999999", 2)],
    "list_existing_member": [NewListing(CODES[4], 10, 1_000)],
    "fractional_reverse_split": [Split(CODES[0], "3:1")],
    "buyback_everything": [BuybackCancellation(CODES[0], SHARES[0])],
    "last_of_the_basket": [Delisting(c) for c in BASKET],
    "good_then_bad": [Split(CODES[3], 10), Merger(CODES[4], CODES[4] if False else "999999", 10)],
}


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_rejected_batches_change_nothing(kind):
    fam = family()
    fam.update_many([0, 3], [50_100, 181_000])
    before = snapshot(fam)
    with pytest.raises((ValueError, KeyError)):
        fam.apply_events(REJECTED[kind], date="2026-03-24")
    assert snapshot(fam) == before


def test_roll_takes_closes_then_events_atomically():
    fam = family()
    closes = np.array(PRICES, dtype=np.int64) + 10 * np.arange(1, 15)
    closes[6] = 995  # on the 1-won / 5-won grid either way
    twin = family()
    twin.update_many(np.arange(14), closes)
    rec = fam.roll([Split(CODES[3], 10)], closes=closes, date="2026-03-24")
    assert fam.previous_levels.tobytes() == twin.levels.tobytes()
    assert [r.index for r in rec] == ["KOSPI", "KOSPI 200", "Sector A", "EW"]
    assert (fam.reference_prices == fam.prices).all()
    assert fam.prices[3] == kf.krx.split_price(int(closes[3]), 10, date="2026-03-24") == 18_010
    assert_continuous(twin.levels, fam)
    before = snapshot(fam)
    with pytest.raises(ValueError):
        fam.roll([Delisting(CODES[2]), Delisting(CODES[2])], closes=closes * 2, date="2026-03-25")
    assert snapshot(fam) == before  # the closes of a rejected roll are not applied either


def test_roll_with_a_review_is_one_step():
    fam = family()
    review = {"KOSPI 200": IndexDefinition("KOSPI 200", CODES[:6] + [CODES[10]], float_ratios=[0.5] * 7)}
    before = fam.levels
    rec = fam.roll([Delisting(CODES[7])], date="2026-06-12", rebalance=review)
    assert [r.index for r in rec].count("KOSPI 200") == 2 and rec[-1].index == "KOSPI 200"
    assert fam.definition("KOSPI 200") == review["KOSPI 200"] and fam.index_shares("KOSPI 200")[0].tolist()[-1] == 10
    assert_continuous(before, fam)
    snap = snapshot(fam)
    bad = {"KOSPI 200": IndexDefinition("KOSPI 200", ["999999"])}  # not in the universe
    with pytest.raises(KeyError):
        fam.roll([Split(CODES[3], 10)], closes=fam.prices * 2, date="2026-06-15", rebalance=bad)
    assert snapshot(fam) == snap and fam.definition("KOSPI 200") == review["KOSPI 200"]


def test_rebalance_is_audited_and_continuous():
    fam = family()
    fam.update_many([0, 1, 2], [51_000, 12_100, 2_990])
    before = fam.levels
    out = fam.rebalance({"KOSPI 200": IndexDefinition("KOSPI 200", CODES[:6], float_ratios=[0.5] * 6)},
                        date="2026-06-12")
    assert set(out) == {"KOSPI 200"} and fam.audit[-1].index == "KOSPI 200"
    assert fam.audit[-1].effective == "2026-06-12"
    assert_continuous(before, fam)


# --------------------------------------------------------------------------- random sequences
def _event(data, fam: kf.IndexFamily, fresh: list[str]):
    u = fam.universe
    s = fam.to_state()
    i = data.draw(st.integers(0, len(u) - 1))
    c, p, listed = u.codes[i], int(s.prices[i]), int(s.listed[i])
    kind = data.draw(st.sampled_from(sorted(EXAMPLES)))
    if kind == "Split":
        return Split(c, data.draw(st.sampled_from([2, 5, 10, "2:1", "10:1"])))
    if kind == "RightsIssue":
        return RightsIssue(c, max(1, p * data.draw(st.integers(30, 95)) // 100), data.draw(st.integers(1, 10**6)))
    if kind in ("BonusIssue", "StockDividend"):
        return (BonusIssue if kind == "BonusIssue" else StockDividend)(c, data.draw(st.integers(1, 10**6)))
    if kind == "CapitalReduction":
        return CapitalReduction(c, max(1, listed // data.draw(st.integers(2, 10))),
                                max(1, p * data.draw(st.integers(100, 900)) // 100))
    if kind == "SpinOffParent":
        return SpinOffParent(c, max(1, p * data.draw(st.integers(40, 90)) // 100))
    if kind == "AdditionalListing":
        return AdditionalListing(c, data.draw(st.integers(1, 10**7)))
    if kind == "BuybackCancellation":
        return BuybackCancellation(c, data.draw(st.integers(1, max(1, listed))))
    if kind == "SetListedShares":
        return SetListedShares(c, data.draw(st.integers(1, 10**8)))
    if kind == "SetReferencePrice":
        return SetReferencePrice(c, data.draw(st.integers(1, 500_000)))
    if kind == "NewListing":
        code = fresh.pop() if fresh and data.draw(st.booleans()) else c
        return NewListing(code, data.draw(st.integers(1, 10**7)), data.draw(st.integers(100, 500_000)),
                          sector=data.draw(st.sampled_from(["A", "B", "Z"])))
    if kind == "Delisting":
        return Delisting(c)
    if kind == "Merger":
        j = data.draw(st.integers(0, len(u) - 1))
        return Merger(c, u.codes[j] if j != i else u.codes[(j + 1) % len(u)], data.draw(st.integers(0, 10**6)))
    return CashDividend(c, data.draw(st.floats(0, 5_000)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_event_sequences_keep_every_level(data):
    fam = family()
    gone: set[str] = set()
    fresh = [f"9{k:05d}" for k in range(8)]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    basket = dict.fromkeys(BASKET, 1)  # fixed shares: a split scales them (half-up, once a batch)
    for _ in range(data.draw(st.integers(1, 6))):
        batch = [_event(data, fam, fresh) for _ in range(data.draw(st.integers(1, 4)))]
        before, snap = fam.levels, snapshot(fam)
        try:
            fam.apply_events(batch, date="2026-03-24")
        except (ValueError, KeyError):
            assert snapshot(fam) == snap  # rejected: nothing changed
        else:
            assert_continuous(before, fam)
            for c in basket:
                r = math.prod((Fraction(e.ratio) if not isinstance(e.ratio, str) else
                               Fraction(int(e.ratio.split(":")[1]), int(e.ratio.split(":")[0]))
                               for e in batch if isinstance(e, Split) and e.code == c), start=Fraction(1))
                basket[c] = max(1, math.floor(basket[c] * r + Fraction(1, 2)))
            gone |= {c for c, m in zip(fam.universe.codes, fam.members) if not m}
            check_memberships(fam, gone, basket)
        n = len(fam.universe)  # then some trades: incremental == full recount, bit for bit
        ids = rng.integers(0, n, 200)
        px = np.maximum(1, (fam.prices[ids] * rng.uniform(0.9, 1.1, 200))).astype(np.int64)
        out = fam.update_many(ids, px)
        assert out[-1].tobytes() == fam.levels.tobytes() == fam.recompute().tobytes()
    back = persist.loads(persist.dumps(fam))  # and the state survives a round trip exactly
    assert snapshot(back) == snapshot(fam)


# --------------------------------------------------------------------------- the trading day
DAY = "2026-03-24"
H, M, NS = 3600 * 10**9, 60 * 10**9, 10**9


def day_trades(u: kf.Universe, n: int, seed: int, base: np.ndarray):
    d = kf.simulate_day(u, n_ticks=n, seed=seed, date=DAY, base_prices=base)
    return d.times, d.ids.astype(np.int64), d.prices


def test_trading_day_over_a_family_gives_update_many_levels():
    u = kf.sample_universe()
    make = lambda: kf.IndexFamily.kospi(u, kospi200=list(u.codes[:200]), equal_weighted=True,  # noqa: E731
                                        levels={"KOSPI": 5781.2}, price_band=None)
    fam, twin = make(), make()
    t, ids, px = day_trades(u, 60_000, 3, fam.reference_prices)
    rng = np.random.default_rng(4)
    bad = rng.choice(t.shape[0], 300, replace=False)
    px = px.copy()
    _, upper = kf.krx.price_limits(fam.reference_prices[ids[bad[:100]]], date=DAY)
    px[bad[:100]] = upper + kf.krx.tick_size(upper, date=DAY)  # one tick above the +30% limit
    px[bad[100:200]] = -5  # not a price
    ids[bad[200:]] = 10_000  # not a stock
    td = TradingDay(fam, DAY, policy="reject", check_calendar=False)
    res = [td.feed(t[a:a + 7_000], ids[a:a + 7_000], px[a:a + 7_000]) for a in range(0, t.shape[0], 7_000)]
    status = np.concatenate([r.status for r in res])
    assert (status[bad[:100]] == 5).all() and (status[bad[100:200]] == 3).all() and (status[bad[200:]] == 2).all()
    keep = status == 0
    assert keep.sum() >= t.shape[0] - 300 - (status == 1).sum()
    per_trade = twin.update_many(ids[keep], px[keep])
    assert fam.levels.tobytes() == twin.levels.tobytes() == per_trade[-1].tobytes()
    assert res[-1].final.tobytes() == fam.levels.tobytes() and res[-1].levels is None
    # the published 1 s series of every index is the level after the last trade at or before each print
    kt = t[keep]
    for name in ("KOSPI", "KOSPI 200", "KOSPI 200 Equal Weight"):
        k = fam.index_of(name)
        s = td.series(1, index=name)
        pos = np.searchsorted(kt, s.times, side="right") - 1
        raw = np.where(pos >= 0, per_trade[np.maximum(pos, 0), k], make().levels[k])
        assert s.values.tolist() == [kf.published(x) for x in raw]


def test_trading_day_raise_policy_applies_nothing_to_a_family():
    u = kf.sample_universe()
    fam = kf.IndexFamily.kospi(u, levels={"KOSPI": 5781.2}, price_band=None)
    td = TradingDay(fam, DAY, check_calendar=False)
    before = fam.levels.tobytes()
    t = np.array([10 * H, 10 * H + 1], dtype=np.int64)
    with pytest.raises(ValueError, match=r"trade 1 .*outside the daily price limits; nothing"):
        td.feed(t, [0, 1], [int(fam.reference_prices[0]), int(fam.reference_prices[1]) * 2])
    assert fam.levels.tobytes() == before


@pytest.mark.parametrize("kind", ["engine", "family"])
def test_a_day_made_before_a_new_listing_checks_it_against_its_own_limits(kind):
    u = kf.sample_universe()
    book = kf.IndexEngine(u, level=5781.2, price_band=None) if kind == "engine" else kf.IndexFamily.kospi(u, levels={"KOSPI": 5781.2}, price_band=None)
    td = TradingDay(book, DAY, policy="reject", check_calendar=False)
    td.feed([9 * H + 5 * NS], [0], [int(book.reference_prices[0])])
    book.apply_events([NewListing("9ZZ001", 1_000_000, 50_000, name="NewCo")], date=DAY)
    new = len(u)
    t = 10 * H + np.arange(1000, dtype=np.int64) * NS
    res = td.feed(t, np.full(1000, new), np.full(1000, 450_000))  # 9x its close
    assert (res.status == 5).all(), np.unique(res.status, return_counts=True)
    level = book.levels.copy()
    ok = td.feed(t + 1000 * NS, np.full(1000, new), np.full(1000, 65_000))  # its upper limit: +30%
    assert (ok.status == 0).all()
    assert book.levels[0] > level[0] and book.levels.tobytes() == book.recompute_levels().tobytes()
    over = td.feed([12 * H], [new], [65_100])
    assert over.status.tolist() == [5]
    td.halt("9ZZ001")
    assert td.feed([12 * H + 1], [new], [60_000]).status.tolist() == [6]


def test_a_split_during_the_day_moves_that_stocks_limits():
    u = kf.sample_universe()
    e = kf.IndexEngine(u, level=5781.2, price_band=None)
    td = TradingDay(e, DAY, policy="reject", check_calendar=False)
    ref = int(e.reference_prices[1])
    e.apply_events([Split(u.codes[1], 10)], date=DAY)
    assert e.reference_prices[1] == -(-ref // 10) or e.reference_prices[1] <= ref
    assert td.feed([10 * H], [1], [ref]).status.tolist() == [5]  # the old price is 10x the new base
    assert td.feed([10 * H + 1], [1], [int(e.reference_prices[1])]).status.tolist() == [0]


def book_state(book) -> tuple:
    """Every piece of a book's state, bit for bit (any kind of book)."""
    s = book.to_state()
    return (type(book).__name__, book.levels.tobytes(), book.previous_levels.tobytes(), s.prices.tobytes(),
            s.reference_prices.tobytes(), s.listed.tobytes(), s.member.tobytes(), s.index_shares.tobytes(),
            s.factors.tobytes(), s.divisors.tobytes(), tuple(s.definitions), tuple(book.universe.codes),
            len(book.audit), tuple(r.index for r in book.audit), len(book.dividends), frozenset(s.applied))


@pytest.mark.parametrize("kind", ["engine", "family"])
def test_a_day_with_events_through_a_journal_recovers_and_reloads_exactly(kind, tmp_path):
    """Composition: any book, journaled, through a validated day with events during it (a new
    listing, a split), a roll with the next day's events (and a review, for a family), and more
    trades; recovery from checkpoint + journal and a plain save/load give the same book."""
    u = kf.sample_universe()
    if kind == "engine":
        book = kf.IndexEngine(u, level=5781.2, price_band=None)
    else:
        book = kf.IndexFamily.kospi(u, kospi200=list(u.codes[:200]), equal_weighted=True, levels={"KOSPI": 5781.2}, price_band=None)
    jb = persist.JournaledBook.create(book, tmp_path / "s", tmp_path / "j")
    td = TradingDay(jb, DAY, policy="reject", check_calendar=False)
    t, ids, px = day_trades(u, 20_000, 8, book.reference_prices)
    px[::97] = 1  # some off-limit trades, rejected and not journaled
    for a in range(0, 10_000, 2_500):
        td.feed(t[a:a + 2_500], ids[a:a + 2_500], px[a:a + 2_500])
    jb.apply_events([NewListing("9ZZ001", 1_000_000, 50_000, sector=u.sectors[0]), Split(u.codes[2], 5)], date=DAY)
    new = len(u)
    res = td.feed(t[10_000:10_004], np.full(4, new), np.array([50_500, 450_000, 64_900, 65_100]))
    assert res.status.tolist() == [0, 5, 0, 5]  # the new stock, against its own limits
    for a in range(10_004, 20_000, 2_500):
        td.feed(t[a:a + 2_500], ids[a:a + 2_500], px[a:a + 2_500])
    series = td.series(10)
    review = {} if kind == "engine" else {"rebalance": {"KOSPI 200": IndexDefinition(
        "KOSPI 200", list(u.codes[:199]) + ["9ZZ001"], float_ratios=[0.5] * 200)}}
    jb.roll([CashDividend(u.codes[1], 361.0, effective="2026-03-25"), Delisting(u.codes[7])],
            closes=book.prices, date="2026-03-25", **review)
    td2 = TradingDay(jb, "2026-03-25", policy="reject", check_calendar=False)
    t2, ids2, px2 = day_trades(jb.universe, 5_000, 9, book.reference_prices)
    td2.feed(t2, ids2, px2)
    jb.close()
    back, rep = persist.recover(tmp_path / "s", tmp_path / "j")
    assert rep.records >= 1 and book_state(back) == book_state(book)
    book.save(tmp_path / "copy.kfs")
    assert book_state(type(book).load(tmp_path / "copy.kfs")) == book_state(book)
    assert book.levels.tobytes() == book.recompute_levels().tobytes()
    assert len(series.values) == 2_340 and series.close == kf.published(float(series.values[-1]))


def test_a_feed_that_reuses_its_buffers_publishes_the_same_prints():
    """A live feed may fill the same arrays for every batch: the day keeps what it needs."""
    u = kf.sample_universe()
    t, ids, px = day_trades(u, 40_000, 11, u.base_prices)
    series = []
    for reuse in (False, True):
        e = kf.IndexEngine(u, level=5781.2, price_band=None)
        td = TradingDay(e, DAY, policy="reject", check_calendar=False)
        bt, bi, bp = np.empty(4_000, np.int64), np.empty(4_000, np.int64), np.empty(4_000, np.int64)
        for a in range(0, 40_000, 4_000):
            if reuse:
                bt[:], bi[:], bp[:] = t[a:a + 4_000], ids[a:a + 4_000], px[a:a + 4_000]
                res = td.feed(bt, bi, bp)
            else:
                res = td.feed(t[a:a + 4_000].copy(), ids[a:a + 4_000].copy(), px[a:a + 4_000].copy())
        assert res.levels.shape == (4_000,)
        series.append(td.series(1).values.tolist())
    assert series[0] == series[1]


def test_the_rules_kernel_samples_the_prints_it_makes_final():
    """feed_engine's print sampling: each print before the latest trade time gets the level
    after the last applied trade stamped at or before it (the level before the batch when
    none); the prints after it are left alone."""
    from kospi_fast import _session

    u = kf.sample_universe()
    e = kf.IndexEngine(u, level=5781.2, price_band=None)
    td = TradingDay(e, DAY, policy="reject", check_calendar=False)
    t, ids, px = day_trades(u, 30_000, 12, e.reference_prices)
    px[::50] = 1  # rejected: outside the limits
    t[7_000] = t[6_000]  # out of order: rejected, the level does not move
    r, w = td.rules(), td.rules().window
    prints = np.arange(9 * H, 16 * H, 7 * NS, dtype=np.int64)
    out = np.full(prints.shape[0], -1.0)
    entry, entry_divisor = e.level, e.divisor
    bad, levels, status, counts, last = _session.feed_engine(
        e, t, ids, px, r.lower, r.upper, r.halted, r.thresholds, r.ticks, r.grid, r.fast, *w, -1, False,
        prints, out)
    assert bad == -1 and counts[_session.OUT_OF_ORDER] == 1 and counts[_session.OUTSIDE_LIMITS] >= 500
    ok = status == 0
    pos = np.searchsorted(t[ok], prints, side="right") - 1
    final = prints < last
    want = np.where(pos >= 0, levels[ok][np.maximum(pos, 0)], entry)
    assert out[final].tolist() == want[final].tolist()
    assert (out[~final] == -1.0).all() and final.sum() > 1000
    # the slow twin of the rules kernel samples the same prints
    ref = kf.reference.ReferenceEngine(list(u.codes), u.shares.tolist(), u.base_prices.tolist(),
                                       base_cap=entry_divisor * 100.0)
    ref.divisor = entry_divisor
    slow = np.full(prints.shape[0], -1.0)
    rb, rlv, rst, _, rlast = kf.reference.feed_engine(
        ref, t, ids, px, r.lower, r.upper, r.halted, r.thresholds, r.ticks, r.grid, r.fast, *w, -1, False,
        prints, slow)
    assert (rb, rlast) == (bad, last) and rst.tolist() == status.tolist()
    assert slow.tolist() == out.tolist()
    with pytest.raises(ValueError, match="print_levels"):
        _session.feed_engine(e, t, ids, px, r.lower, r.upper, r.halted, r.thresholds, r.ticks, r.grid, r.fast,
                             *w, -1, False, prints, out[:-1])


def test_books_refuse_what_is_not_theirs(tmp_path):
    e = kf.IndexEngine(universe(), level=5781.2, price_band=None)
    e.save(tmp_path / "engine.kfs")
    with pytest.raises(TypeError, match="holds a IndexEngine"):
        kf.IndexFamily.load(tmp_path / "engine.kfs")
    assert type(kf.IndexEngine.load(tmp_path / "engine.kfs")) is kf.IndexEngine
    assert type(persist.load(tmp_path / "engine.kfs")) is kf.IndexEngine
    with pytest.raises(TypeError, match="`book` must be an index book"):
        TradingDay(object(), DAY, check_calendar=False)
    with pytest.raises(TypeError, match="`book` must be an index book"):
        persist.JournaledBook.create(universe(), tmp_path / "s", tmp_path / "j")
    fam = family()
    with pytest.raises(TypeError, match="`changes` must be a mapping"):
        fam.rebalance([IndexDefinition("EW", EW, weighting="equal")])
    with pytest.raises(KeyError, match="unknown index 'Nope'"):
        fam.rebalance({"Nope": IndexDefinition("Nope", EW)})
    with pytest.raises(TypeError, match=r"`events\[1\]` must be a kospi_fast.events.Event"):
        fam.apply_events([Split(CODES[0], 2), "Split"])
    with pytest.raises(ValueError, match="cannot take the state"):
        fam.note = "x"  # an attribute a save would silently lose
        fam.to_state()


@pytest.mark.parametrize("kind", ["engine", "family"])
@pytest.mark.parametrize("times, what", [
    ([1_774_310_400_000, 1_774_310_400_001], "epoch ms"),
    ([1_774_310_400_000_000_000] * 2, "epoch ns"),
    ([90_000_123, 90_000_456], "KRX HHMMSSfff"),
    ([-1, 10 * 3600 * 10**9], "negative"),
])
def test_a_feed_in_another_time_encoding_is_refused_not_ignored(kind, times, what):
    """Before: every trade was 'ignored: off-hours' and the day silently stayed flat."""
    u = kf.sample_universe()
    book = kf.IndexEngine(u, level=5781.2, price_band=None) if kind == "engine" else kf.IndexFamily.kospi(u, price_band=None)
    td = TradingDay(book, DAY, policy="reject", check_calendar=False)
    before = snapshot(book) if kind == "family" else (book.level, book.prices.tobytes())
    with pytest.raises(ValueError, match=r"`times\[\d\]` = -?\d+ is not a KRX trade time.*another encoding"):
        td.feed(np.array(times, dtype=np.int64), [0, 1], [int(book.reference_prices[0]), int(book.reference_prices[1])])
    assert (snapshot(book) if kind == "family" else (book.level, book.prices.tobytes())) == before
    assert td.counts == {}


def test_bad_state_and_constituents_are_named():
    fam = family()
    with pytest.raises(TypeError, match="`state` must be a kospi_fast.state.BookState, got str"):
        fam.restore("x")
    with pytest.raises(KeyError, match=r"`kospi200\[1\]` '999999' is not in the universe"):
        kf.IndexFamily.kospi(universe(), kospi200=[CODES[0], "999999"], price_band=None)
