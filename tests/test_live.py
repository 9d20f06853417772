"""Live publishing: the validated single trade (TradingDay.on_trade) and the Publisher — the
same statuses, levels and prints as the batch path, every status code by a worked example, the
reference model for the levels, prints on KRX's grid by trade time and by the clock, the close
after the closing auction, callbacks and ``async for``, minute bars, venues and the indicative
series, tz-aware times, logging."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import reference
from kospi_fast.live import Publisher
from kospi_fast.publish import print_interval_s, published
from kospi_fast.session import STATUS, TradingDay, publication_grid

NS = 1_000_000_000
DATE = "2026-03-23"


def at(h: int, m: int = 0, s: float = 0) -> int:
    return (h * 3600 + m * 60) * NS + int(round(s * NS))


CODES = ["000010", "000020", "000030", "000040"]
BASES = [10_000, 1_500, 50_000, 100_000]


def small_engine() -> kf.IndexEngine:
    u = kf.Universe(CODES, ["A", "B", "C", "D"], [1_000, 2_000, 3_000, 4_000], BASES)
    return kf.IndexEngine(u, level=1000.0)


def rows_every_status(n: int):
    """(time, code_or_id, price, expected status): every status code, codes and ids mixed."""
    return [
        (at(8, 59, 59), 0, 10_010, 1),  # before the open: ignored
        (at(9), "000010", 10_010, 0),  # opening auction result, by code
        (at(9, 0, 5), n, 1_000, 2),  # id out of range
        (at(9, 0, 5), "999999", 1_000, 2),  # unknown code
        (at(9, 0, 5), 10, 1_000, 2),  # an int is an id, never the code "000010" with lost zeros
        (at(9, 0, 6), 1, 0, 3),  # price 0
        (at(9, 0, 6), 1, -1_500, 3),
        (at(9, 0, 6.5), 1, 2**70, 3),  # beyond int64
        (at(9, 0, 7), 0, 10_005, 4),  # off the 10-won grid
        (at(9, 0, 8), 0, 13_010, 5),  # above the 13,000 upper limit
        (at(9, 0, 9), 3, 100_100, 6),  # halted
        (at(9, 0, 8), 1, 1_501, 7),  # earlier than 09:00:09 seen before
        (at(10), np.int64(1), 1_499, 0),  # numpy ints are ids too
        (at(15, 19, 59.999999999), 1, np.int64(1_498), 0),
        (at(15, 20), 1, 1_502, 8),  # inside the closing call
        (at(15, 30), 1, 1_504, 0),  # closing auction result
        (at(15, 30, 30), 2, 50_100, 0),  # random end
        (at(15, 30, 30) + 1, 2, 50_200, 1),  # after the window: ignored
        (at(16), 2, 50_300, 1),
    ]


def expected_levels(prices, shares, divisor, rows, n):
    cur = [int(x) for x in prices]
    out = []
    for _, key, p, s in rows:
        if s == 0:
            i = CODES.index(key) if isinstance(key, str) else int(key)
            cur[i] = int(p)
        out.append(reference.level(reference.aggregate_cap(cur, shares), divisor))
    return out


# --------------------------------------------------------------------------- on_trade
def test_on_trade_gives_every_status_code_and_the_reference_levels():
    eng = small_engine()
    td = TradingDay(eng, DATE, policy="reject", check_calendar=False)
    td.halt("000040")
    rows = rows_every_status(len(eng))
    assert {r[3] for r in rows} == set(STATUS)
    start, shares, div = eng.prices, eng.index_shares.tolist(), eng.divisor
    got, levels = [], []
    for t, key, p, _ in rows:
        got.append(td.on_trade(t, key, p))
        levels.append(eng.level)
    assert got == [r[3] for r in rows]
    assert levels == expected_levels(start, shares, div, rows, len(eng))
    assert eng.prices.tolist() == [10_010, 1_504, 50_100, 100_000]
    exp = np.bincount([r[3] for r in rows], minlength=len(STATUS))
    assert td.counts == {STATUS[c]: int(exp[c]) for c in np.flatnonzero(exp)}


def test_on_trade_refuses_a_trade_whose_true_cap_would_overflow_int64():
    # one stock worth 0.9 x INT64_MAX: +19% (inside KRX's 30% limit, on the 1,000-won grid) would
    # take the true cap past int64, so the exact guard refuses it as a bad price; nothing moves
    shares, base = 2**40, 7_549_000
    u = kf.Universe(["000010", "000020"], ["A", "B"], [shares, 1], [base, 1_000])
    eng = kf.IndexEngine(u, level=1000.0)
    td = TradingDay(eng, DATE, policy="reject", check_calendar=False)
    before = (eng.prices.tolist(), eng.level)
    assert td.on_trade(at(9, 0, 1), "000010", 9_000_000) == 3
    assert (eng.prices.tolist(), eng.level) == before
    assert td.counts == {STATUS[3]: 1}
    assert td.on_trade(at(9, 0, 2), "000010", 7_600_000) == 0  # still fits: applied
    assert eng.prices.tolist() == [7_600_000, 1_000]
    assert eng.level == reference.level(reference.aggregate_cap([7_600_000, 1_000], [shares, 1]), eng.divisor)
    raising = TradingDay(kf.IndexEngine(u, level=1000.0), DATE, policy="raise", check_calendar=False)
    with pytest.raises(ValueError, match="rejected"):
        raising.on_trade(at(9, 0, 1), "000010", 9_000_000)
    assert raising.counts == {}


def test_on_trade_equals_the_batch_on_a_day_with_bad_trades():
    u = kf.sample_universe()
    day = kf.simulate_day(u, seed=3)
    n = 60_000
    t, ids, px = day.times[:n].copy(), day.ids[:n].astype(np.int64), day.prices[:n].copy()
    rng = np.random.default_rng(0)
    bad = rng.choice(n, 300, replace=False)
    px[bad[:100]] += 1  # mostly off the grid
    ids[bad[100:200]] = len(u) + 5
    t[bad[200:]] -= 3 * NS  # out of order
    a, b = kf.IndexEngine(u, level=5781.2), kf.IndexEngine(u, level=5781.2)
    da = TradingDay(a, day.date, policy="reject", check_calendar=False)
    db = TradingDay(b, day.date, policy="reject", check_calendar=False)
    da.halt(id=7)
    db.halt(id=7)
    res = da.feed(t, ids, px)
    st = [db.on_trade(x, y, z) for x, y, z in zip(t.tolist(), ids.tolist(), px.tolist())]
    assert st == res.status.tolist() and len(set(st)) >= 4
    assert b.level == a.level and b.prices.tolist() == a.prices.tolist()
    assert db.counts == da.counts
    assert db.series(1).values.tolist() == da.series(1).values.tolist()
    assert b.level == b.recompute()  # incremental == full recompute


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 40), st.integers(-1, 5), st.integers(-2, 40_000)), min_size=1, max_size=60),
       st.sets(st.integers(0, 3), max_size=2))
def test_on_trade_against_the_reference_kernel(steps, halted):
    """Trade by trade, random times (some going back, some off-hours), ids (some out of range),
    prices (off-grid, off-limits, <= 0): the statuses and levels of the slow twin of the
    validated kernel (reference.feed_engine, one trade per call)."""
    eng = small_engine()
    td = TradingDay(eng, DATE, policy="reject", check_calendar=False)
    for h in halted:
        td.halt(h) if isinstance(h, str) else td.halt(id=h)
    ref = reference.ReferenceEngine(CODES, eng.index_shares.tolist(), eng.prices.tolist(), base_cap=eng.base_cap)
    ref.divisor = eng.divisor
    r = td.rules()
    w = r.window
    t, last = at(8, 59, 55), -1
    for dt_s, i, p in steps:
        t = max(t + dt_s * 7 * NS, at(6))
        if dt_s > 35:
            t += 7 * 3600 * NS  # a jump: to the closing call, the auction window, after hours
        t = min(t, at(23))
        st_fast = td.on_trade(t, i, p * 5 if p > 0 else p)
        _, levels, status, _, last = reference.feed_engine(
            ref, np.array([t]), np.array([i]), np.array([p * 5 if p > 0 else p]), r.lower, r.upper, r.halted,
            r.thresholds, r.ticks, r.grid, r.fast, w[0], w[1], w[2], w[3], last, False)
        assert st_fast == int(status[0]), (t, i, p)
        assert eng.level == levels[0]
    assert eng.prices.tolist() == [ref.prices[c] for c in CODES]


def test_on_trade_raise_policy_changes_nothing():
    eng = small_engine()
    td = TradingDay(eng, DATE, check_calendar=False)  # "raise"
    assert td.on_trade(at(9), "000010", 10_010) == 0
    snap = (eng.prices.tolist(), eng.cap, td._last_time, td.counts)
    for t, key, p in ((at(9, 0, 1), 0, 10_005), (at(9, 0, 2), 9, 1_000), (at(8, 59), 1, 1_600)):
        with pytest.raises(ValueError, match="rejected"):
            td.on_trade(t, key, p)
        assert (eng.prices.tolist(), eng.cap, td._last_time, td.counts) == snap
    assert td.on_trade(at(16), 0, 10_020) == 1  # off-hours: ignored, never an error


@pytest.mark.parametrize("t, key, p, err", [
    (at(9) + 0.5, 0, 10_010, TypeError),
    ("09:00", 0, 10_010, TypeError),
    (True, 0, 10_010, TypeError),
    (at(9), 1.0, 10_010, TypeError),
    (at(9), None, 10_010, TypeError),
    (at(9), True, 10_010, TypeError),
    (at(9), 0, 10_010.0, TypeError),
    (at(9), 0, "10010", TypeError),
    (5, 0, 10_010, ValueError),  # not ns since midnight KST
    (1_774_224_000 * NS, 0, 10_010, ValueError),  # epoch ns
    (2**80, 0, 10_010, ValueError),
])
def test_on_trade_bad_arguments_raise_naming_them(t, key, p, err):
    for book in (small_engine(), kf.IndexFamily(small_engine().universe, [kf.IndexDefinition("X", CODES)])):
        td = TradingDay(book, DATE, policy="reject", check_calendar=False)
        before = book.levels.tolist()
        with pytest.raises(err, match="time_ns|code_or_id|price"):
            td.on_trade(t, key, p)
        assert book.levels.tolist() == before and td.counts == {}


def test_on_trade_follows_book_changes_and_halts():
    eng = small_engine()
    td = TradingDay(eng, DATE, policy="reject", check_calendar=False)
    assert td.on_trade(at(9), 0, 12_990) == 0
    td.halt(id=0)
    assert td.on_trade(at(9, 1), 0, 12_000) == 6
    td.resume("000010")
    assert td.on_trade(at(9, 2), 0, 12_000) == 0
    # a 2-for-1 split during the day: the limits follow the new base price (5,000 +- 30%)
    eng.apply_changes(["000010"], prices=[6_000])
    assert td.on_trade(at(9, 3), 0, 7_810) == 5 and td.on_trade(at(9, 3), 0, 7_800) == 0


def test_on_trade_of_a_family_goes_through_a_batch_of_one():
    u = small_engine().universe
    defs = [kf.IndexDefinition("A", CODES), kf.IndexDefinition("B", CODES[:2])]
    fam, fam2 = kf.IndexFamily(u, defs), kf.IndexFamily(u, defs)
    da = TradingDay(fam, DATE, policy="reject", check_calendar=False)
    db = TradingDay(fam2, DATE, policy="reject", check_calendar=False)
    rows = rows_every_status(4)
    da.halt(id=3)
    db.halt(id=3)
    st = [da.on_trade(t, k, p) for t, k, p, _ in rows]
    assert st == [r[3] for r in rows]
    ok = [r for r in rows if r[3] == 0]
    db.feed([r[0] for r in ok], [CODES.index(r[1]) if isinstance(r[1], str) else int(r[1]) for r in ok],
            [int(r[2]) for r in ok])
    assert fam.levels.tolist() == fam2.levels.tolist()
    assert da.series(1, index="B").values.tolist() == db.series(1, index="B").values.tolist()


# --------------------------------------------------------------------------- the publisher
@pytest.fixture(scope="module")
def sday():
    u = kf.sample_universe()
    return u, kf.simulate_day(u, seed=1)


def batch_series(book, day, interval, index=None):
    td = TradingDay(book, day.date, policy="reject", check_calendar=False)
    td.feed(day.times, day.ids, day.prices)
    return td.series(interval, index=index)


def test_print_intervals():
    assert [print_interval_s(n) for n in ("KOSPI", "KOSPI 200", "KOSPI 100", "KOSPI 50", "KOSPI 200 EW",
                                          "KOSPI Large", "KOSPI 2000")] == [10, 1, 1, 1, 1, 10, 10]


def test_publisher_replay_equals_the_batch_grid(sday):
    u, day = sday
    pub = Publisher(kf.IndexEngine(u, level=5781.20), day.date, check_calendar=False)
    got: list = []
    pub.on_print(got.append)
    pub.feed(day.times, day.ids, day.prices)
    assert got and not got[-1].close  # the close waits for the closing auction's window (or close())
    pub.close()
    ser = batch_series(kf.IndexEngine(u, level=5781.20), day, 10)
    assert [p.time_ns for p in got] == ser.times.tolist()
    assert [p.level for p in got] == ser.values.tolist()
    assert got[0].time == dt.datetime(2026, 3, 23, 9, 0, 10, tzinfo=got[0].time.tzinfo)
    assert got[0].time.utcoffset() == dt.timedelta(hours=9) and str(got[0].time.tzinfo) == "Asia/Seoul"
    assert got[-1].close and got[-1].time_ns == at(15, 30) and sum(p.close for p in got) == 1
    assert all(p.change == round(p.level - 5781.20, 2) for p in got)
    assert got[-1].to_dict()["time"] == "2026-03-23T15:30:00+09:00"
    with pytest.raises(RuntimeError, match="closed"):
        pub.feed(day.times[:1], day.ids[:1], day.prices[:1])


def test_publisher_of_a_family_prints_each_index_on_its_grid(sday):
    u, day = sday
    k200 = list(u.codes[:200])

    def fam():
        return kf.IndexFamily.kospi(u, kospi200=k200, levels={"KOSPI": 5781.20})

    pub = Publisher(fam(), day.date, indices=["KOSPI", "KOSPI 200"], check_calendar=False)
    got: list = []
    pub.on_print(got.append)
    for a in range(0, len(day.times), 400_000):  # batches
        pub.feed(day.times[a:a + 400_000], day.ids[a:a + 400_000], day.prices[a:a + 400_000])
    pub.close()
    for name, interval, n in (("KOSPI", 10, 2340), ("KOSPI 200", 1, 23391)):
        mine = [p for p in got if p.index == name]
        ser = batch_series(fam(), day, interval, index=name)
        assert len(mine) == n
        assert [p.time_ns for p in mine] == ser.times.tolist()
        assert [p.level for p in mine] == ser.values.tolist()
        assert mine[0].members == (len(u) if name == "KOSPI" else 200)
    times = [p.time_ns for p in got]
    assert times == sorted(times)  # in time order across indices


def test_single_trades_batches_and_the_clock_give_the_same_prints(sday):
    u, day = sday
    ref: list = []
    whole = Publisher(kf.IndexEngine(u, level=5781.20), day.date, check_calendar=False)
    whole.on_print(ref.append)
    whole.feed(day.times, day.ids, day.prices)
    whole.close()
    pub = Publisher(kf.IndexEngine(u, level=5781.20), day.date, check_calendar=False)
    got: list = []
    pub.on_print(got.append)
    n = len(day.times)
    cuts = np.sort(np.random.default_rng(1).choice(n, 200, replace=False))
    for j, (a, b) in enumerate(zip(np.r_[0, cuts], np.r_[cuts, n])):
        if j % 2:
            for k in range(a, min(b, a + 40)):
                pub.on_trade(int(day.times[k]), u.codes[int(day.ids[k])] if k % 2 else int(day.ids[k]),
                             int(day.prices[k]))
            a = min(b, a + 40)
        if b > a:
            pub.advance_to(int(day.times[a]))  # the clock never runs ahead of the next trade
            pub.feed(day.times[a:b], day.ids[a:b], day.prices[a:b])
    pub.close()
    assert got == ref


def test_the_clock_emits_prints_with_no_trade_and_the_close_after_the_auction():
    eng = small_engine()
    pub = Publisher(eng, DATE, check_calendar=False)
    got: list = []
    pub.on_print(got.append)
    pub.on_trade(at(9), 0, 10_100)
    pub.advance_to(at(9, 0, 35))  # no trade since 09:00: prints at 09:00:10, :20, :30
    assert [(p.time_ns, p.level) for p in got] == [(at(9, 0, s), published(eng.level)) for s in (10, 20, 30)]
    assert [p.stale for p in got] == [3, 3, 3]  # three members never traded
    pub.on_trade(at(9, 0, 36), 1, 1_510)
    pub.advance_to(at(15, 30, 5))
    assert got[-1].time_ns == at(15, 29, 50)  # the close waits for the auction's random end
    assert pub.on_trade(at(15, 30, 12), 2, 50_500) == 0  # auction result after a random end
    before_auction = got[-1].level
    pub.on_trade(at(16), 1, 1_600)  # after-hours: ignored, and it makes the close final
    assert got[-1].close and got[-1].time_ns == at(15, 30) and len(got) == 2340
    assert got[-1].level == published(eng.level) != before_auction  # the auction's result is the close
    assert got[-1].stale == 3  # stock 2 traded in the auction (15:30:12): fresh at the close
    pub.close()
    assert len(got) == 2340


def test_staleness_and_halts_worked_example():
    eng = small_engine()
    pub = Publisher(eng, DATE, check_calendar=False, stale_after_s=10)
    got: list = []
    pub.on_print(got.append)
    pub.feed([at(9), at(9), at(9, 0, 7)], [0, 1, 2], [10_010, 1_510, 50_100])
    pub.halt("000040")
    pub.advance_to(at(9, 0, 20) + 1)
    # 09:00:10: 0 and 1 last traded 10 s before (stale), 2 3 s before, 3 never; 09:00:20: all
    # stale; 09:00:30: 3 traded 8 s before
    assert [(p.stale, p.halted) for p in got] == [(3, 1), (4, 1)]
    assert pub.on_trade(at(9, 0, 21), 3, 100_100) == 6  # halted: rejected
    pub.resume("000040")
    assert pub.on_trade(at(9, 0, 22), 3, 100_100) == 0
    pub.advance_to(at(9, 0, 30) + 1)
    assert (got[-1].stale, got[-1].halted) == (3, 0)


def test_async_prints_and_run_clock():
    eng = small_engine()
    pub = Publisher(eng, DATE, check_calendar=False)
    now = [at(8, 59)]

    async def sleep(dt_s):
        now[0] += 250_000_000  # a fake clock: every sleep is a quarter second

    async def main():
        async def consume():
            return [p async for p in pub.prints()]

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0)
        await pub.run_clock(clock=lambda: now[0], sleep=sleep)
        return await task

    got = asyncio.run(main())
    assert len(got) == 2340 and got[-1].close and pub.closed
    assert {p.level for p in got} == {1000.0}


def test_callback_failure_is_logged_not_fatal(caplog):
    pub = Publisher(small_engine(), DATE, check_calendar=False)
    got: list = []

    def boom(p):
        raise RuntimeError("subscriber bug")

    pub.on_print(boom)
    pub.on_print(got.append)
    with caplog.at_level(logging.ERROR, logger="kospi_fast"):
        pub.advance_to(at(9, 0, 11))
    assert len(got) == 1 and "subscriber bug" in caplog.text


def test_minute_bars_worked_example():
    eng = small_engine()
    pub = Publisher(eng, DATE, check_calendar=False)
    pub.feed([at(9, 0, 15), at(9, 0, 35), at(9, 1, 5)], [0, 0, 0], [10_500, 9_800, 10_200])
    pub.advance_to(at(9, 1, 20) + 1)
    bars = pub.minute_bars("KOSPI")
    lv = {p: reference.published(reference.level(reference.aggregate_cap(
        [p, 1_500, 50_000, 100_000], [1_000, 2_000, 3_000, 4_000]), eng.divisor)) for p in (10_000, 10_500, 9_800, 10_200)}
    # 09:00 prints at :10 :20 :30 :40 :50 -> 10000 10500 10500 9800 9800; 09:01 at :00 :10 :20 -> 9800 10200 10200
    assert [(b.time.strftime("%H:%M"), b.open, b.high, b.low, b.close, b.n_prints) for b in bars] == [
        ("09:00", lv[10_000], lv[10_500], lv[9_800], lv[9_800], 5),
        ("09:01", lv[9_800], lv[10_200], lv[9_800], lv[10_200], 3),
    ]


def test_other_venues_never_reach_the_official_series_and_the_indicative_is_labelled():
    eng = small_engine()
    pub = Publisher(eng, DATE, check_calendar=False, indicative=True)
    got: list = []
    pub.on_print(got.append)
    pub.feed([at(8, 10), at(9), at(9, 0, 5)], [0, 1, 0], [10_500, 1_510, 10_600], venues=["NXT", "KRX", "NXT"])
    pub.on_trade(at(9, 0, 6), 2, 51_000, venue="NXT")
    assert eng.prices.tolist() == [10_000, 1_510, 50_000, 100_000]  # KRX's trade only
    assert pub.other_venue == 3
    pub.advance_to(at(9, 0, 10) + 1)
    official = [p for p in got if p.series == "official"]
    indicative = [p for p in got if p.series == "indicative"]
    assert [p.index for p in official] == ["KOSPI"] and official[0].level == published(eng.level)
    assert indicative and all(p.index == "KOSPI (indicative)" for p in indicative)
    assert indicative[0].time_ns == at(8, 0, 10)  # the extended hours start at 08:00
    shadow = pub.indicative_day.book
    assert shadow is not eng and shadow.prices.tolist() == [10_600, 1_510, 51_000, 100_000]
    assert indicative[-1].level == published(shadow.level) != official[-1].level


def test_publisher_argument_errors():
    eng = small_engine()
    with pytest.raises(KeyError, match="NOPE"):
        Publisher(eng, DATE, indices=["NOPE"], check_calendar=False)
    with pytest.raises(ValueError, match="intervals"):
        Publisher(eng, DATE, intervals={"KOSPI": 0}, check_calendar=False)
    with pytest.raises(ValueError, match="stale_after_s"):
        Publisher(eng, DATE, stale_after_s=-1, check_calendar=False)
    pub = Publisher(eng, DATE, check_calendar=False)
    with pytest.raises(ValueError, match="venues"):
        pub.feed([at(9)], [0], [10_010], venues=["KRX", "NXT"])
    with pytest.raises(TypeError, match="callback"):
        pub.on_print(3)


def test_the_library_prints_nothing(capsys, sday):
    u, day = sday
    pub = Publisher(kf.IndexEngine(u, level=5781.20), day.date, check_calendar=False)
    pub.feed(day.times[:1000], day.ids[:1000], day.prices[:1000])
    pub.close()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_readme_live_section_runs(capsys):
    """The README's ten lines wiring a feed to the publisher run as written."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text.split("## Live: wiring a feed to the publisher", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 11  # the import and ten lines
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)  # noqa: S102 - our own README
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2340 and lines[0].startswith("KOSPI 2026-03-23T09:00:10+09:00 ")
    assert lines[-1].startswith("KOSPI 2026-03-23T15:30:00+09:00 ") and ns["pub"].closed
    assert ns["pub"].day.counts == {"applied": 100_000}


def test_the_library_never_prints_and_logs_through_one_logger():
    """Outside the command lines (the CLI, and the bench harness's ``main``) no module calls
    print(); every logger is logging.getLogger("kospi_fast")."""
    import ast
    import pathlib

    root = pathlib.Path(kf.__file__).resolve().parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("cli/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if rel == "bench/__init__.py":  # `python -m kospi_fast.bench` prints its table from main()
            tree.body = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name == "main")]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                offenders.append(f"{rel}:{node.lineno} print()")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "getLogger"
                    and not (node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "kospi_fast")):
                offenders.append(f"{rel}:{node.lineno} getLogger other than 'kospi_fast'")
    assert offenders == []


def test_a_batch_with_the_auction_after_the_close_time_prints_the_close_fresh():
    eng = small_engine()
    pub = Publisher(eng, DATE, check_calendar=False)
    got: list = []
    pub.on_print(got.append)
    pub.feed([at(9), at(9)], [0, 1], [10_010, 1_510])
    pub.advance_to(at(15, 30, 5))
    # the closing auction matched at 15:30:12 (random end), then an after-hours trade, one batch
    pub.feed([at(15, 30, 12), at(15, 30, 12), at(16)], [0, 2, 1], [10_100, 50_500, 1_600])
    close = got[-1]
    assert close.close and close.time_ns == at(15, 30) and close.level == published(eng.level)
    assert (close.stale, close.members) == (2, 4)  # 0 and 2 traded in the auction; 1 at 09:00, 3 never


def test_publisher_refuses_a_bad_clock_or_venue_and_changes_nothing():
    # found by the end-of-stop probe: advance_to("09:00") leaked int()'s message, and a venue
    # that is no str was taken as "another venue" in silence
    eng = small_engine()
    pub = Publisher(eng, DATE, check_calendar=False)
    before = (eng.prices.tolist(), pub.other_venue)
    with pytest.raises(TypeError, match="`time_ns` must be an int"):
        pub.advance_to("09:00")
    with pytest.raises(ValueError, match="`time_ns` must be in"):
        pub.advance_to(-1)
    with pytest.raises(TypeError, match="`venue` must be a venue name"):
        pub.on_trade(at(9, 0, 1), 0, 10_010, venue=5)
    with pytest.raises(TypeError, match=r"`venues\[1\]` must be a venue name"):
        pub.feed([at(9, 0, 1), at(9, 0, 2)], [0, 1], [10_010, 1_500], venues=["KRX", 5])
    assert (eng.prices.tolist(), pub.other_venue) == before
    got: list = []
    pub.on_print(got.append)
    pub.advance_to(10**20)  # after midnight: the day is over, every print of the grid emitted
    assert len(got) == 2_340 and got[-1].time.strftime("%H:%M:%S") == "15:30:00"
