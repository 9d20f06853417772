"""kospi_fast.kospi200 pieces on small worked examples: the float-ratio loader, capping factors
from average weights, schedule resolution and its refusals, a rejected scheduled roll changing
nothing, and the capped definition fields."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import krx
from kospi_fast.definitions import IndexDefinition
from kospi_fast.family import IndexFamily
from kospi_fast.kospi200 import (
    Addition,
    FloatRatio,
    FloatRatioChange,
    ReserveList,
    Review,
    Schedule,
    WeightWindow,
    cap_window,
    capping_factors,
    membership_intervals,
    read_float_ratios,
)

D = dt.date


# ------------------------------------------------------------------ float-ratio tables
def test_read_float_ratios_csv(tmp_path):
    p = tmp_path / "fr.csv"
    p.write_text("code,ratio,effective\n005930,0.75,2025-06-13\n000660,0.7,20251212\n5380,0.35,2025-06-13\n",
                 encoding="utf-8")
    t = read_float_ratios(p)
    assert len(t) == 3
    assert t.ratio("005930", "2025-06-12") is None and t.ratio("005930", "2025-06-13") == 0.75
    assert t.ratio("5380", "2025-07-01") == 0.35  # string codes are kept as written
    assert t.changes_on("2025-12-12") == {"000660": 0.7}
    assert t.dates() == [D(2025, 6, 13), D(2025, 12, 12)]


def test_read_float_ratios_round_up_and_korean_headers(tmp_path):
    p = tmp_path / "fr.csv"
    p.write_text("종목코드,유동비율,적용일\n005930,0.4321,2025-06-13\n", encoding="utf-8")
    assert read_float_ratios(p, round_up=True).ratio("005930", "2025-06-13") == 0.45
    assert read_float_ratios(p).ratio("005930", "2025-06-13") == 0.4321


@pytest.mark.parametrize("body,match", [
    ("code,ratio,effective\n005930,1.2,2025-06-13\n", r"line 2: `ratio` must be in \(0, 1\]"),
    ("code,ratio,effective\n005930,0.5,2025-06-13\n005930,x,2025-06-13\n", r"line 3: `ratio` is not a number"),
    ("code,ratio,effective\n005930,0.5,2025-06-13\n000660,0.5,2025-13-01\n", r"line 3: .*effective"),
    ("code,ratio,effective\n005930,0.5,2025-06-13\n005930,0.6,2025-06-13\n", r"line 3: '005930' already .*line 2"),
    ("code,ratio,effective\n005930,0,2025-06-13\n", r"line 2: `ratio` must be > 0"),
    ("code,ratio\n005930,0.5\n", r"needs a 'effective' column"),
])
def test_read_float_ratios_errors_name_file_and_line(tmp_path, body, match):
    p = tmp_path / "bad.csv"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as ei:
        read_float_ratios(p)
    assert str(p) in str(ei.value)


def test_read_float_ratios_parquet_frame_and_rows(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"code": ["005930", "000660"], "ratio": [0.75, 0.7],
                          "effective": ["2025-06-13", "2025-06-13"]})
    p = tmp_path / "fr.parquet"
    frame.to_parquet(p)
    for src in (p, frame, [("005930", 0.75, "2025-06-13"), ("000660", 0.7, D(2025, 6, 13))]):
        t = read_float_ratios(src)
        assert t.changes_on("2025-06-13") == {"005930": 0.75, "000660": 0.7}
    bad = frame.assign(ratio=[0.75, 1.5])
    with pytest.raises(ValueError, match=r"frame: row 1: `ratio`"):
        read_float_ratios(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_float_ratios(tmp_path / "none.csv")


# ------------------------------------------------------------------ capping factors (methodology 7.2)
def test_capping_factor_single_name_formula():
    # one name above the cap: factor = cap (1 - w) / (w (1 - cap)) (the 2019 KRX 30% rule;
    # e.g. an average weight of 33.5%, Samsung in KOSPI 200 on 2020-01-20 per methodology 2.3)
    w = np.array([0.335, 0.265, 0.2, 0.2])
    f = capping_factors(w, 0.30)
    assert f[0] == pytest.approx(0.30 * (1 - 0.335) / (0.335 * 0.70), rel=1e-12)
    assert (f[1:] == 1.0).all()
    capped = w * f / (w * f).sum()
    assert capped[0] == pytest.approx(0.30, rel=1e-12)


def test_capping_factor_cascade():
    # 0.5 / 0.3 / 0.1 / 0.1 at a 30% cap: name 0 is cut to 0.3; the other 0.7 shared pro rata
    # takes name 1 to 0.42 > 0.3, so it is cut too; names 2 and 3 share 0.4 (0.2 each).
    # target / average = 0.6, 1.0, 2.0, 2.0; scaled so uncapped names get 1: 0.3, 0.5, 1, 1
    f = capping_factors([0.5, 0.3, 0.1, 0.1], 0.30)
    assert f.tolist() == pytest.approx([0.3, 0.5, 1.0, 1.0], rel=1e-12)
    assert f[2:].tolist() == [1.0, 1.0]
    assert capping_factors([0.2, 0.3, 0.5], 0.5).tolist() == [1.0, 1.0, 1.0]  # at the cap, not above
    with pytest.raises(ValueError, match="cannot be met by 3 names"):
        capping_factors([0.5, 0.3, 0.2], 0.30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.001, 1.0), min_size=4, max_size=30), st.floats(0.3, 0.9))
def test_capping_factors_properties(weights, cap):
    w = np.array(weights) / np.sum(weights)
    f = capping_factors(w, cap)
    assert ((f > 0) & (f <= 1)).all()
    after = w * f / (w * f).sum()
    assert (after <= cap * (1 + 1e-9)).all()
    if (w <= cap).all():
        assert (f == 1).all()
    else:
        assert (f[w <= cap * (1 - 1e-9)] >= f.min()).all()  # a small name is never cut more than a big one
        assert f.max() == 1.0


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000))
def test_round_float_ratio_properties(k):
    from fractions import Fraction

    x = Fraction(k, 10_000)
    r = Fraction(str(krx.round_float_ratio(x)))
    assert r >= x and r - x < Fraction(5, 100) and (r * 20).denominator == 1


def test_cap_window_dates():
    # three months ending on the last trading day of May / November (methodology 7.2)
    assert cap_window(2025, 6) == (D(2025, 3, 4), D(2025, 5, 30))  # 03-03 was a substitute holiday
    assert cap_window(2025, 12) == (D(2025, 9, 1), D(2025, 11, 28))
    with pytest.raises(ValueError, match="June and December"):
        cap_window(2025, 3)


# ------------------------------------------------------------------ definitions
def test_definition_cap_fields_are_checked():
    with pytest.raises(ValueError, match=r"`cap_factors\[1\]` \(b\) must be in \(0, 1\]"):
        IndexDefinition("X", ("a", "b"), cap_factors=(1.0, 1.5))
    with pytest.raises(ValueError, match="one entry per member"):
        IndexDefinition("X", ("a", "b"), cap_factors=(1.0,))
    with pytest.raises(ValueError, match=r"`cap` must be in \(0, 1\]"):
        IndexDefinition("X", ("a",), cap=1.5)
    with pytest.raises(ValueError, match="not both"):
        IndexDefinition("X", ("a",), cap=0.3, caps=0.3)
    with pytest.raises(ValueError, match="takes no"):
        IndexDefinition("X", ("a",), weighting="equal", cap=0.3)


def test_cap_factors_enter_index_shares():
    u = kf.Universe(["000010", "000020"], ["A", "B"], [1000, 2001], [100, 100])
    fam = IndexFamily(u, [IndexDefinition("X", ("000010", "000020"), float_ratios=(0.5, 0.5), cap_factors=(0.8, 1.0))])
    # round(1000 × 0.5 × 0.8) = 400; round(2001 × 0.5) = 1000.5 -> 1001 (half up)
    assert fam.index_shares("X")[1].tolist() == [400, 1001]
    ref = kf.reference.ReferenceFamily(u.codes, [1000, 2001], [100, 100], fam.definitions)
    assert ref.index_shares("X") == {"000010": 400, "000020": 1001}


# ------------------------------------------------------------------ schedule
def _small(day="2025-06-12"):
    u = kf.Universe(["000010", "000020", "000030", "000040", "000050"], ["A", "B", "C", "D", "E"], [1000, 800, 600, 400, 200],
                    [1000, 1000, 1000, 1000, 1000], ["g1", "g1", "g2", "g1", "g2"])
    defs = [IndexDefinition("KOSPI", u.codes, follows_market=True),
            IndexDefinition("K3", ("000010", "000020", "000030"), float_ratios=(0.5, 0.5, 0.5), level=300.0),
            IndexDefinition("K3C", ("000010", "000020", "000030"), float_ratios=(0.5, 0.5, 0.5), cap=0.4, level=300.0)]
    return IndexFamily(u, defs, date=day, price_band=None)  # prices jump 3x in the weight-window test


def test_scheduled_review_applies_atomically_on_its_date():
    fam = _small()
    s = Schedule([Review(D(2025, 6, 13), "K3", ("000010", "000020", "000040"), {"000040": 0.25}),
                  FloatRatioChange(D(2025, 6, 13), "000010", 0.6)])
    before = fam.levels
    fam.roll(date="2025-06-13", schedule=s)
    np.testing.assert_allclose(fam.levels, before, rtol=1e-13)
    d = fam.definition("K3")
    assert d.members == ("000010", "000020", "000040") and d.float_ratios == (0.6, 0.5, 0.25)
    assert fam.definition("K3C").float_ratios == (0.6, 0.5, 0.5)  # the float change reaches every index
    assert fam.definition("KOSPI").float_ratios is None  # KOSPI is not float-adjusted
    assert fam.index_shares("K3")[1].tolist() == [600, 400, 100]


def test_rejected_scheduled_roll_changes_nothing():
    fam = _small()
    s = Schedule([Review(D(2025, 6, 13), "K3", ("000010", "000020", "999999"))])
    state, hist = fam.to_state(), list(fam._history)
    with pytest.raises(KeyError, match="'999999' is not in the universe"):
        fam.roll(date="2025-06-13", schedule=s, closes=[1100, 1000, 1000, 1000, 1000])
    after = fam.to_state()
    assert fam._history == hist and (after.prices == state.prices).all()
    assert fam.definitions == tuple(state.definitions)


@pytest.mark.parametrize("change,exc,match", [
    (Review(D(2025, 6, 13), "NOPE", ("000010",)), KeyError, "unknown index 'NOPE'"),
    (Review(D(2025, 6, 13), "K3C", ("000010", "000020")), ValueError, "needs a `window`"),
    (Review(D(2025, 6, 13), "K3", ("000010", "000020"), {"000030": 0.5}), ValueError, "float ratios for non-members"),
    (Addition(D(2025, 6, 13), "K3", "000010"), ValueError, "already a member"),
])
def test_schedule_refusals(change, exc, match):
    fam = _small()
    with pytest.raises(exc, match=match):
        fam.roll(date="2025-06-13", schedule=Schedule([change]))
    assert fam.definition("K3").members == ("000010", "000020", "000030")


def test_schedule_needs_a_date_and_no_double_change():
    fam = _small()
    s = Schedule([Addition(D(2025, 6, 13), "K3", "000040")])
    with pytest.raises(ValueError, match="needs `date`"):
        fam.roll(schedule=s)
    with pytest.raises(ValueError, match="both change"):
        fam.roll(date="2025-06-13", schedule=s, rebalance={"K3": fam.definition("K3")})
    with pytest.raises(TypeError, match="Schedule"):
        fam.roll(date="2025-06-13", schedule=[s])
    with pytest.raises(ValueError, match="not after the book's last day"):
        fam.roll(date="2025-06-12")


def test_removal_replacement_from_the_reserve_list():
    from kospi_fast.kospi200 import FloatRatioTable, Removal

    fam = _small()
    # the g1 reserve list starts with "000040", whose float ratio (5%) is below the 10% minimum:
    # the replacement is the next one, "000050"
    table = FloatRatioTable([FloatRatio("000040", 0.05, D(2025, 1, 2))])
    s = Schedule(float_ratios=table, reserve=ReserveList({"g1": ["000040", "000050"]}))
    r = s.special_change("K3", "000020", "2025-06-10", group="g1")  # a Tuesday: 06-11, 06-12 pass
    assert r.effective == D(2025, 6, 13)
    fam.roll(date="2025-06-13", schedule=s)
    assert fam.definition("K3").members == ("000010", "000030", "000050")
    assert fam.definition("K3").float_ratios == (0.5, 0.5, 1.0)  # not in the table: ratio 1
    empty = Schedule([Removal(D(2025, 6, 16), "K3", "000010", group="g1")], float_ratios=table,
                     reserve=ReserveList({"g1": ["000040"]}))
    with pytest.raises(ValueError, match="no eligible stock of group 'g1'"):
        fam.roll(date="2025-06-16", schedule=empty)
    no_reserve = Schedule([Removal(D(2025, 6, 16), "K3", "000010", group="g1")])
    with pytest.raises(ValueError, match="needs the schedule's `reserve`"):
        fam.roll(date="2025-06-16", schedule=no_reserve)
    gap = Schedule([Removal(D(2025, 6, 16), "K3", "000010")])  # KRX 300 style: no replacement
    fam.roll(date="2025-06-16", schedule=gap)
    assert fam.definition("K3").members == ("000030", "000050")


def test_weight_window_average_and_capped_review():
    fam = _small("2025-05-29")
    w = WeightWindow(["K3C"])
    w.record(fam, "2025-05-29")
    fam.update("000010", 3000)
    w.record(fam, "2025-05-30")
    avg = w.average("K3C", "2025-03-04", "2025-05-30")
    # day 1 weights 500:400:300 / 1200, day 2 1500:400:300 / 2200
    assert avg["000010"] == pytest.approx((500 / 1200 + 1500 / 2200) / 2, rel=1e-12)
    fam.roll(date="2025-06-02")
    s = Schedule()
    s.review("K3C", 2025, 6, ("000010", "000020", "000030"), window=w)
    for day in ("2025-06-04", "2025-06-05", "2025-06-09", "2025-06-10", "2025-06-11", "2025-06-12"):
        fam.roll(date=day, schedule=s)
    before = fam.levels
    fam.roll(date="2025-06-13", schedule=s)
    np.testing.assert_allclose(fam.levels, before, rtol=1e-13)
    cf = fam.definition("K3C").cap_factors
    want = capping_factors([avg["000010"], avg["000020"], avg["000030"]], 0.4)
    assert cf[0] < 1 and cf == pytest.approx(tuple(want), rel=1e-12)
    with pytest.raises(ValueError, match="no weights"):
        w.average("K3C", "2024-01-01", "2024-02-01")


def test_journaled_family_rolls_a_schedule_and_recovers_its_history(tmp_path):
    from kospi_fast import persist

    fam = _small()
    s = Schedule([Review(D(2025, 6, 13), "K3", ("000010", "000020", "000040"))])
    jb = persist.JournaledBook.create(fam, tmp_path / "s", tmp_path / "j", fsync=False)
    jb.roll(date="2025-06-13", schedule=s)
    jb.update_many([0], [1200])
    jb.roll(date="2025-06-16")
    held = jb.as_of("2025-06-13")
    assert held["K3"].codes == ("000010", "000020", "000040") and held["K3"].prices[0] == 1200
    assert jb.as_of("2025-06-12")["K3"].codes == ("000010", "000020", "000030")
    jb.close()
    back, _ = persist.JournaledBook.recover(tmp_path / "s", tmp_path / "j", fsync=False)
    assert back.as_of("2025-06-13") == held
    assert back.as_of("2025-06-12") == fam.as_of("2025-06-12")
    back.close()


CODES6 = ["000010", "000020", "000030", "000040", "000050", "000060"]


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_random_schedules_keep_levels_and_history(data):
    """Any sequence of scheduled float changes, removals (with or without a reserve
    replacement) and additions over a few sessions: every roll keeps every level, the family
    equals a full recount, and as_of of every past day is what it held that day."""
    from kospi_fast.kospi200 import Removal, snapshot

    u = kf.Universe(CODES6, CODES6, [1000, 800, 600, 400, 200, 100], [1000, 900, 800, 700, 600, 500],
                    ["g"] * 6)
    fam = IndexFamily(u, [IndexDefinition("KOSPI", CODES6, follows_market=True),
                          IndexDefinition("K", tuple(CODES6[:3]), float_ratios=(0.5, 0.5, 0.5), level=300.0)],
                      date="2025-06-02")
    days = [krx.next_trading_day("2025-06-02", k) for k in range(1, 9)]
    sched = Schedule(reserve=ReserveList({"g": CODES6[3:]}))
    members = set(CODES6[:3])
    for d in days:
        kind = data.draw(st.sampled_from(["none", "float", "remove", "add"]))
        if kind == "float":
            code = data.draw(st.sampled_from(sorted(members)))
            sched.add(FloatRatioChange(d, code, data.draw(st.sampled_from([0.1, 0.35, 0.6, 1.0]))))
        elif kind == "remove" and len(members) > 1:
            code = data.draw(st.sampled_from(sorted(members)))
            # the replacement: the first reserve not a member before the removal (never the
            # stock just removed)
            pick = [c for c in CODES6[3:] if c not in members]
            refill = data.draw(st.booleans()) and bool(pick)
            sched.add(Removal(d, "K", code, group="g" if refill else None))
            members.discard(code)
            if refill:
                members.add(pick[0])
        elif kind == "add" and len(members) < 6:
            code = data.draw(st.sampled_from([c for c in CODES6 if c not in members]))
            sched.add(Addition(d, "K", code, data.draw(st.sampled_from([None, 0.45]))))
            members.add(code)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    held = {}
    today = D(2025, 6, 2)
    for d in days:
        closes = np.maximum(np.rint(fam.prices * np.exp(rng.normal(0, 0.02, 6))), 1).astype(np.int64)
        fam.update_many(np.arange(6), closes)
        held[today] = snapshot(fam)
        before = fam.levels
        fam.roll(date=d, schedule=sched)
        np.testing.assert_allclose(fam.levels, before, rtol=1e-13)
        np.testing.assert_allclose(fam.recompute(), fam.levels, rtol=1e-13)
        today = d
    assert set(fam.definition("K").members) == members
    for d, comps in held.items():
        assert fam.as_of(d) == comps


def test_checkpoint_written_before_history_and_cap_fields_reads_with_defaults(tmp_path):
    """A checkpoint without the ``history`` header key (written before issue 13) loads with an
    empty history (as_of then only knows the live day); a definition without ``cap`` /
    ``cap_factors`` reads back with None."""
    import hashlib
    import importlib
    import json

    ck = importlib.import_module("kospi_fast.persist.checkpoint")
    from kospi_fast.persist.codec import _Decoder, _enc

    fam = _small()
    fam.roll(date="2025-06-13")
    path = tmp_path / "new.kfs"
    fam.save(path)
    data = path.read_bytes()
    _, version, flags, hdr_len = ck._PREFIX.unpack_from(data, 0)
    start = ck._PREFIX.size
    header = json.loads(data[start:start + hdr_len])
    arrays = data[start + hdr_len:len(data) - ck._TRAILER.size]
    assert "history" in header
    del header["history"]
    hdr = json.dumps(header, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    hdr += b" " * (-len(hdr) % 8)
    body = ck._PREFIX.pack(ck._MAGIC, version, flags, len(hdr)) + hdr + arrays
    old = tmp_path / "old.kfs"
    old.write_bytes(body + ck._TRAILER.pack(ck._END, len(body), hashlib.sha256(body).digest()))
    back = IndexFamily.load(old)
    assert back.to_state().history == [(None, None)]  # only the live day, undated
    assert (back.levels == fam.levels).all()
    assert back.as_of("2025-06-13") == fam.as_of("2025-06-13")  # the live day
    back.roll(date="2025-06-16")  # and a new history starts
    assert back.as_of("2025-06-13")["K3"].codes == ("000010", "000020", "000030")

    d = _enc(IndexDefinition("K", ("000010",), float_ratios=(0.5,)), "d")
    for key in ("cap", "cap_factors"):
        del d["$definition"][key]
    assert _Decoder(())(d, "d") == IndexDefinition("K", ("000010",), float_ratios=(0.5,))


def test_kospi_family_takes_a_date_for_point_in_time():
    u = kf.sample_universe()
    fam = IndexFamily.kospi(u, kospi200=list(u.codes[:200]), date="2025-06-12", sectors=False, size=False)
    fam.roll(date="2025-06-13")
    iv = membership_intervals(fam, ["KOSPI 200"])
    assert {r.start for r in iv} == {D(2025, 6, 12)} and {r.end for r in iv} == {D(2025, 6, 13)}
    assert len(iv) == 200
    with pytest.raises(ValueError, match="`date`"):
        IndexFamily.kospi(u, date="2025-02-30")
