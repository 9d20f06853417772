"""A year of KOSPI 200 on the sample universe, run by a Schedule through IndexFamily.roll:
a mid-period float-ratio change, a 관리종목 removal with a reserve-list replacement, a spin-off
(parent re-based, the new company in KOSPI the next day and in KOSPI 200 with it), the June and
December 2025 reviews (members, float ratios, capping factors of a capped variant from the
review window's AVERAGE weights).

Stand-in data, said plainly: the universe is kospi_fast.sample (real codes and shares, a
snapshot), but the price path, the float ratios, the reserve list and every event are
synthetic (seeded). The dates are real XKRX sessions of 2025 and the rules' dates come from
kospi_fast.krx. Checked every day: levels continuous across every change; the family equal to
a full recount and to a slow twin (reference.ReferenceFamily index shares and rule-3 divisors
chained in Python ints); as_of on every past day equal to what the family held that day, also
after a save/load.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import krx, reference
from kospi_fast.definitions import IndexDefinition
from kospi_fast.events import NewListing, SpinOffParent
from kospi_fast.family import IndexFamily
from kospi_fast.kospi200 import (
    Addition,
    FloatRatio,
    FloatRatioTable,
    ReserveList,
    Schedule,
    WeightWindow,
    cap_window,
    capping_factors,
    members_on,
    membership_intervals,
    read_membership,
    snapshot,
    write_membership,
)

CAP = 0.25  # binding on the sample (Samsung's float-adjusted weight is about 30%)
K200, KCAP = "KOSPI 200", "KOSPI 200 Capped"
SPINCO = "999001"


def _plan():
    u = kf.sample_universe()
    rng = np.random.default_rng(13)
    caps = u.base_prices.astype(np.float64) * u.shares
    order = [int(i) for i in np.argsort(-caps, kind="stable")]
    codes = u.codes
    members = [codes[i] for i in order[:200]]
    outside = [codes[i] for i in order[200:260]]
    raw = {c: float(x) for c, x in zip(codes, rng.uniform(0.1, 1.0, len(codes)))}
    raw["005930"], raw["000660"] = 0.75, 0.70
    start = dt.date(2025, 1, 2)
    rows = [FloatRatio(c, krx.round_float_ratio(r), start) for c, r in raw.items()]
    # the removed member and its industry group; the group's reserve list starts with an
    # ineligible stock (float 5%: below 10%), so the replacement is the second one
    gone = members[150]
    group = u.sectors[u.code_index[gone]]
    reserve_group = [c for c in outside if u.sectors[u.code_index[c]] == group][:3]
    assert len(reserve_group) >= 2, "the sample has no reserve for the group"
    rows = [r for r in rows if r.code != reserve_group[0]] + [FloatRatio(reserve_group[0], 0.05, start)]
    # a float change between reviews (a large block sale, say) and float changes at each review
    rows += [FloatRatio(members[2], 0.60, dt.date(2025, 4, 15)), FloatRatio(members[10], 0.35, dt.date(2025, 4, 15))]
    june, december = krx.review_effective_date(2025, 6), krx.review_effective_date(2025, 12)
    rows += [FloatRatio(members[5], 0.40, june), FloatRatio("005930", 0.80, december)]
    table = FloatRatioTable(rows)
    return u, members, outside, table, gone, group, reserve_group, june, december


def _family(u, members, table, day0):
    fr = tuple(table.ratio(c, day0) for c in members)
    defs = [
        IndexDefinition("KOSPI", [c for c, s in zip(u.codes, u.shares) if s > 0], follows_market=True,
                        level=2400.0),
        IndexDefinition(K200, tuple(members), float_ratios=fr, level=320.0),
        IndexDefinition(KCAP, tuple(members), float_ratios=fr, cap=CAP, level=320.0),
    ]
    return IndexFamily(u, defs, date=day0)


def _twin_shares(fam, name):
    """Index shares of ``name`` from the slow twin (reference.ReferenceFamily on the current
    listed shares and the definition in force)."""
    d = fam.definition(name)
    ref = reference.ReferenceFamily(fam.universe.codes, fam.listed_shares.tolist(), fam.prices.tolist(), [d])
    return ref.index_shares(name)


def _twin_cap(prices, shares, code_index):
    return sum(int(prices[code_index[c]]) * s for c, s in shares.items())


@pytest.fixture(scope="module")
def year():
    u, members, outside, table, gone, group, reserve_group, june, december = _plan()
    days = [d for d in krx._sessions() if dt.date(2025, 1, 2) <= d <= dt.date(2025, 12, 30)]
    fam = _family(u, members, table, days[0])
    window = WeightWindow([KCAP])
    sched = Schedule(float_ratios=table,
                     reserve=ReserveList({group: reserve_group}))
    # 관리종목: designated 2025-03-05, halted, resumed 03-06 -> removed 03-10 (the 금양 dates)
    removal = sched.special_change(K200, gone, "2025-03-05", "2025-03-06", group=group)
    sched.special_change(KCAP, gone, "2025-03-05", "2025-03-06", group=group)
    replacement = reserve_group[1]
    # spin-off: the parent relists re-based on 2025-08-04; the new company lists that day and
    # joins KOSPI and KOSPI 200 on the next trading day (mt.co.kr 2021-05-25: LX Holdings)
    parent = members[20]
    relist = dt.date(2025, 8, 4)
    joins = krx.next_trading_day(relist)
    i_parent = u.code_index[parent]
    spin_shares = int(u.shares[i_parent]) // 3
    state = {"parent_price": None}

    # regular reviews: out the two smallest members by the June cap, in the next two outsiders
    after_special = [c for c in members if c != gone] + [replacement]
    june_members = [c for c in after_special if c not in members[-2:]] + outside[3:5]
    # the spin-off (joined in August) stays after December, as KRX keeps them (alphabiz 2025-11-18)
    dec_members = [c for c in june_members if c not in members[190:192]] + outside[5:6] + [SPINCO]
    sched.review(K200, 2025, 6, june_members)
    sched.review(KCAP, 2025, 6, june_members, window=window)
    sched.review(K200, 2025, 12, dec_members)
    sched.review(KCAP, 2025, 12, dec_members, window=window)
    for name in (K200, KCAP):
        sched.add(Addition(joins, name, SPINCO, float_ratio=0.45))

    rng = np.random.default_rng(2025)
    twin_div = {n: float(fam.divisors[fam.index_of(n)]) for n in (K200, KCAP)}
    twin_sh = {n: _twin_shares(fam, n) for n in (K200, KCAP)}
    held = {}
    jumps = []
    twin_err = []
    records = []
    for today, nxt in zip(days[:-1], days[1:]):
        # the day's trading, summed up as closes (a random walk; KRX's grid is not needed here)
        px = fam.prices.astype(np.float64)
        closes = np.maximum(np.rint(px * np.exp(rng.normal(0.0003, 0.012, px.shape[0]))), 1).astype(np.int64)
        fam.update_many(np.arange(len(fam.universe)), closes)
        window.record(fam, today)
        held[today] = snapshot(fam)
        before = fam.levels
        caps_before = {n: _twin_cap(fam.prices, twin_sh[n], fam.universe.code_index) for n in twin_sh}
        if nxt == relist:
            state["parent_price"] = int(closes[i_parent]) * 2 // 3
            sched.add_events(nxt, [SpinOffParent(parent, state["parent_price"],
                                                 int(u.shares[i_parent]) - spin_shares)])
        if nxt == joins:
            sched.add_events(nxt, [NewListing(SPINCO, spin_shares, int(closes[i_parent]) // 2, name="SpinCo",
                                              sector=u.sectors[i_parent])])
        records += fam.roll(date=nxt, schedule=sched)
        after = fam.levels
        jumps.append(np.max(np.abs(after / before - 1)))
        for n in twin_sh:  # the slow twin: its own shares, rule 3 in Python ints
            new_sh = _twin_shares(fam, n)
            cap_after = _twin_cap(fam.prices, new_sh, fam.universe.code_index)
            if new_sh != twin_sh[n] or cap_after != caps_before[n]:
                twin_div[n] = reference.rebase_divisor(twin_div[n], caps_before[n], cap_after)
            twin_sh[n] = new_sh
            k = fam.index_of(n)
            ids, sh = fam.index_shares(n)
            assert {fam.universe.codes[i]: int(s) for i, s in zip(ids, sh)} == new_sh, (n, nxt)
            twin_err.append(abs(cap_after / twin_div[n] / fam.levels[k] - 1))
        np.testing.assert_allclose(fam.recompute(), fam.levels, rtol=1e-13)
    return {
        "fam": fam, "days": days, "held": held, "jumps": jumps, "twin_err": twin_err, "records": records,
        "gone": gone, "replacement": replacement, "removal": removal, "june": june, "december": december,
        "relist": relist, "joins": joins, "parent": parent, "window": window, "table": table,
        "june_members": june_members, "dec_members": dec_members,
    }


def test_levels_continuous_across_every_change(year):
    assert max(year["jumps"]) < 1e-12
    assert all(abs(r.level_after / r.level_before - 1) < 1e-12 for r in year["records"])
    effective = {r.effective for r in year["records"]}
    for d in (year["removal"].effective, year["june"], year["december"], year["joins"], year["relist"],
              dt.date(2025, 4, 15)):
        assert d.isoformat() in {str(e) for e in effective} or d in effective, d


def test_equal_to_the_slow_twin(year):
    assert max(year["twin_err"]) < 1e-12


def test_special_change_removal_and_reserve_replacement(year):
    fam, gone, repl = year["fam"], year["gone"], year["replacement"]
    assert year["removal"].effective == dt.date(2025, 3, 10)
    before = fam.as_of("2025-03-07")[K200].codes
    after = fam.as_of("2025-03-10")[K200].codes
    assert gone in before and repl not in before
    assert gone not in after and repl in after
    # the stock stays in KOSPI (methodology 7.4: administrative issues stay in the composite)
    assert gone in fam.as_of("2025-03-10")["KOSPI"].codes


def test_spin_off_joins_the_next_day(year):
    fam = year["fam"]
    assert SPINCO not in fam.as_of(year["relist"])[K200].codes
    for name in ("KOSPI", K200, KCAP):
        assert SPINCO in fam.as_of(year["joins"])[name].codes
    comp = fam.as_of(year["joins"])[K200]
    assert comp.float_ratios[comp.codes.index(SPINCO)] == 0.45


def test_reviews_float_ratios_and_capping(year):
    fam, june, dec = year["fam"], year["june"], year["december"]
    eve = krx.previous_trading_day(june)
    assert set(fam.as_of(june)[K200].codes) == set(year["june_members"])
    assert set(fam.as_of(dec)[K200].codes) == set(year["dec_members"])
    # the float change between reviews and the ones riding with the reviews
    k = fam.as_of("2025-04-15")[K200]
    table = year["table"]
    for code in table.changes_on("2025-04-15"):
        assert k.float_ratios[k.codes.index(code)] == table.ratio(code, "2025-04-15")
        old = fam.as_of("2025-04-14")[K200]
        assert old.float_ratios[old.codes.index(code)] != k.float_ratios[k.codes.index(code)]
    s = fam.as_of(dec)[K200]
    assert s.float_ratios[s.codes.index("005930")] == 0.80
    # no cap factor before the first review; from June, factors from the Mar-May AVERAGE weights
    assert (fam.as_of(eve)[KCAP].cap_factors == 1).all()
    cj = fam.as_of(june)[KCAP]
    avg = year["window"].average(KCAP, *cap_window(2025, 6))  # 2025-03-04 .. 2025-05-30
    held = [c for c in cj.codes if avg.get(c, 0) > 0]
    want = dict(zip(held, capping_factors([avg[c] for c in held], CAP)))
    got = dict(zip(cj.codes, cj.cap_factors))
    assert got["005930"] < 1 and got["005930"] == pytest.approx(want["005930"], rel=1e-12)
    assert all(got[c] == 1.0 for c in cj.codes if c not in held)  # new members: factor 1
    # held until the next review (the spin-off and float changes do not touch it)
    for d in ("2025-07-01", "2025-09-15", krx.previous_trading_day(dec)):
        c = fam.as_of(d)[KCAP]
        assert c.cap_factors[c.codes.index("005930")] == got["005930"]
    # the uncapped index is untouched by the cap
    assert (fam.as_of(june)[K200].cap_factors == 1).all()
    # the capped weight on the review day is near the cap (the prices moved since the window)
    assert cj.weights[cj.codes.index("005930")] < CAP + 0.03


def test_as_of_every_past_day_is_what_the_family_held(year):
    fam, held = year["fam"], year["held"]
    for d, comps in held.items():
        assert fam.as_of(d) == comps, d
    with pytest.raises(ValueError, match="before the book's first state"):
        fam.as_of("2024-12-30")


def test_as_of_survives_save_and_load(year, tmp_path):
    fam, held = year["fam"], year["held"]
    path = tmp_path / "book.kfb"
    fam.save(path)
    back = IndexFamily.load(path)
    for d in list(held)[::17]:
        assert back.as_of(d) == held[d]
    assert back.as_of(year["days"][-1]) == fam.as_of(year["days"][-1])


@pytest.mark.parametrize("fmt", ["csv", "parquet", "qlib"])
def test_membership_intervals_round_trip(year, tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    fam = year["fam"]
    iv = membership_intervals(fam, [K200])
    gone = [r for r in iv if r.code == year["gone"]]
    assert len(gone) == 1 and gone[0].end == dt.date(2025, 3, 7) and gone[0].start == year["days"][0]
    spin = [r for r in iv if r.code == SPINCO]
    assert spin[0].start == year["joins"] and spin[0].end == year["days"][-1]
    for d in (year["days"][0], dt.date(2025, 3, 10), year["june"], year["december"], dt.date(2025, 10, 1)):
        assert members_on(iv, K200, d) == sorted(fam.as_of(d)[K200].codes)
    path = tmp_path / f"k200.{fmt}"
    write_membership(iv, path, format=fmt)
    back = read_membership(path, format=fmt, index=K200 if fmt == "qlib" else None)
    assert back == iv
    if fmt == "qlib":
        first = path.read_text().splitlines()[0].split("\t")
        assert len(first) == 3 and first[1].count("-") == 2
