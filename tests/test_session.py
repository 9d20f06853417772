"""The trading day: session times, validated feeding (every status code, both policies, tick
tables, price limits, halts) and the published series, checked against independent loops and
the reference model."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import krx, reference
from kospi_fast import session as ses
from kospi_fast.session import STATUS, TradingDay, publication_grid, published_series, session_times

pytest.importorskip("exchange_calendars")

# exchange-calendars (4.13) builds XKRX with an idiom pandas 3.1 deprecates; the warning comes from
# the third-party package, not from kospi_fast, and the project turns warnings into errors.

NS = 1_000_000_000


def at(h: int, m: int = 0, s: float = 0) -> int:
    """ns since midnight KST."""
    return (h * 3600 + m * 60) * NS + int(round(s * NS))


def half_up(x: float) -> float:
    return float(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------- session times
def test_normal_day():
    s = session_times("2026-03-23")
    assert (s.open, s.close_call, s.close) == (at(9), at(15, 20), at(15, 30))
    assert s.first_print == at(9, 0, 10)
    assert s.window == (at(9), at(15, 30, 30))
    assert s.date == dt.date(2026, 3, 23)
    assert session_times(dt.date(2026, 3, 23)) == s
    assert session_times("2026-03-23", check_calendar=False) == s


def test_first_trading_day_of_the_year_opens_at_ten():
    s = session_times("2026-01-02")
    assert (s.open, s.close_call, s.close) == (at(10), at(15, 20), at(15, 30))
    assert s.first_print == at(10, 0, 10)


def test_csat_day():
    assert dt.date(2025, 11, 13) in ses.CSAT_DAYS
    s = session_times("2025-11-13")
    assert (s.open, s.close_call, s.close) == (at(10), at(16, 20), at(16, 30))
    assert s.first_print == at(10, 0, 10)
    assert s.window == (at(10), at(16, 30, 30))
    forced = session_times("2026-03-23", late_open=True)
    assert (forced.open, forced.close) == (at(10), at(16, 30))
    off = session_times("2025-11-13", late_open=False)
    assert (off.open, off.close) == (at(9), at(15, 30))


@pytest.mark.parametrize("day", ["2026-01-01", "2026-03-21", "2026-03-22", "2025-12-25"])
def test_non_trading_days_raise_naming_the_date(day):
    with pytest.raises(ValueError, match=day):
        session_times(day)
    with pytest.raises(ValueError, match=day):
        TradingDay(kf.IndexEngine(kf.Universe(["000001"], ["a"], [1], [1000])), day)


def test_close_before_2016_08_01_was_15_00():
    s = session_times("2016-07-29")
    assert (s.open, s.close_call, s.close) == (at(9), at(14, 50), at(15))


def test_2017_11_16_kept_the_late_schedule():
    s = session_times("2017-11-16")
    assert (s.open, s.close) == (at(10), at(16, 30))


def test_publication_grid():
    s = session_times("2026-03-23")
    g10 = publication_grid(s, 10)
    # 09:00:10 .. 15:29:50 every 10 s is (15:29:50 - 09:00:10) / 10 + 1 = 23380/10 + 1 = 2339 prints,
    # plus the official close at 15:30:00: 2340 in all.
    assert len(g10) == 2340
    assert (g10[0], g10[-2], g10[-1]) == (at(9, 0, 10), at(15, 29, 50), at(15, 30))
    assert set(np.diff(g10).tolist()) == {10 * NS}
    g1 = publication_grid(s, 1)
    # 09:00:10 .. 15:29:59 every second: 23390 prints, plus the close: 23391.
    assert len(g1) == 23391
    assert (g1[0], g1[-2], g1[-1]) == (at(9, 0, 10), at(15, 29, 59), at(15, 30))
    assert set(np.diff(g1).tolist()) == {NS}
    assert np.isin(g10, g1).all()
    first = publication_grid(session_times("2026-01-02"), 10)  # 10:00:10 .. 15:29:50 + close
    assert len(first) == 1980 and first[0] == at(10, 0, 10) and first[-1] == at(15, 30)
    csat = publication_grid(session_times("2025-11-13"), 10)
    assert len(csat) == 2340 and csat[0] == at(10, 0, 10) and csat[-1] == at(16, 30)
    for bad in (0, -10, 2.5, True):
        with pytest.raises(ValueError):
            publication_grid(s, bad)


# --------------------------------------------------------------------------- feeding
CODES = ["000010", "000020", "000030", "000040"]
BASES = [10_000, 1_500, 50_000, 100_000]


def small_engine() -> kf.IndexEngine:
    u = kf.Universe(CODES, ["A", "B", "C", "D"], [1_000, 2_000, 3_000, 4_000], BASES)
    return kf.IndexEngine(u, level=1000.0)


def status_batch(engine: kf.IndexEngine):
    n = len(engine)
    rows = [  # (time, id, price, expected status)
        (at(8, 59, 59), 0, 10_010, 1),  # before the open: ignored
        (at(9), 0, 10_010, 0),  # opening auction result
        (at(9, 0, 5), n, 1_000, 2),  # id out of range
        (at(9, 0, 6), 1, 0, 3),  # price 0
        (at(9, 0, 6.5), 1, 4_611_686_018_427_387_000, 5),  # on the grid, far beyond the limit (the cap's overflow guard comes after the rules)
        (at(9, 0, 7), 0, 10_005, 4),  # off the 10-won grid
        (at(9, 0, 8), 0, 13_010, 5),  # above the 13,000 upper limit
        (at(9, 0, 9), 3, 100_100, 6),  # halted
        (at(9, 0, 8), 1, 1_501, 7),  # earlier than 09:00:09 seen before
        (at(10), 1, 1_499, 0),
        (at(15, 19, 59.999999999), 1, 1_498, 0),  # last ns of continuous trading
        (at(15, 20), 1, 1_502, 8),  # inside the closing call
        (at(15, 30) - 1, 1, 1_503, 8),
        (at(15, 30), 1, 1_504, 0),  # closing auction result
        (at(15, 30, 30), 2, 50_100, 0),  # random end: up to close + 30 s
        (at(15, 30, 30) + 1, 2, 50_200, 1),  # after the window: ignored
        (at(16), 2, 50_300, 1),  # after-hours: ignored
    ]
    t = np.array([r[0] for r in rows], dtype=np.int64)
    ids = np.array([r[1] for r in rows], dtype=np.int64)
    p = np.array([r[2] for r in rows], dtype=np.int64)
    return t, ids, p, np.array([r[3] for r in rows])


def expected_levels(engine_prices, shares, divisor, ids, prices, status):
    cur = [int(x) for x in engine_prices]
    out = []
    for i, p, s in zip(ids.tolist(), prices.tolist(), status.tolist()):
        if s == 0:
            cur[i] = p
        out.append(reference.level(reference.aggregate_cap(cur, shares), divisor))
    return out


def test_every_status_code_with_reject():
    eng = small_engine()
    td = TradingDay(eng, "2026-03-23", policy="reject")
    td.halt("000040")
    t, ids, p, exp = status_batch(eng)
    assert set(exp.tolist()) == set(STATUS)  # the batch exercises every code
    start_prices, shares, div = eng.prices, eng.index_shares.tolist(), eng.divisor
    res = td.feed(t, ids, p)
    assert res.status.tolist() == exp.tolist()
    assert res.counts.tolist() == np.bincount(exp, minlength=len(STATUS)).tolist()
    assert res.applied == 5 and res.ignored == 3
    assert res.rejected.tolist() == np.flatnonzero(exp > 1).tolist()
    assert res.reasons() == {STATUS[c]: int((exp == c).sum()) for c in set(exp.tolist())}
    assert td.counts == res.reasons()
    assert res.levels.tolist() == expected_levels(start_prices, shares, div, ids, p, exp)
    assert eng.prices.tolist() == [10_010, 1_504, 50_100, 100_000]
    assert eng.level == res.levels[-1]
    # the day's series holds the applied trades only
    ok = exp == 0
    grid = publication_grid(td.session, 1)
    # the close (15:30:00) is the closing auction's result, which may match up to 30 s later
    # (random end): it is the level after the trades through 15:30:30
    at_close = np.where(grid == at(15, 30), at(15, 30, 30), grid)
    values = independent_series(t[ok].tolist(), res.levels[ok].tolist(), at_close.tolist(), 1000.0)[0]
    assert td.series(1).values.tolist() == values
    # a second batch: counts accumulate; order is judged against the latest time seen (16:00,
    # an ignored trade of the first batch)
    res2 = td.feed([at(15, 59), at(16, 0, 1)], np.array([0, 0]), np.array([10_020, 10_030]))
    assert res2.status.tolist() == [7, 1]
    assert res2.levels.tolist() == [eng.level] * 2 and eng.prices[0] == 10_010
    assert td.counts[STATUS[7]] == 2 and td.counts[STATUS[1]] == 4 and td.counts[STATUS[0]] == 5


def test_raise_policy_applies_nothing_then_good_trades_work():
    eng = small_engine()
    td = TradingDay(eng, "2026-03-23")  # policy "raise" by default
    td.halt(id=3)
    t, ids, p, exp = status_batch(eng)
    snap = (eng.prices.tolist(), eng.cap, eng.level, eng.divisor)
    with pytest.raises(ValueError, match=r"trade 2 .*id out of range.*nothing of the batch"):
        td.feed(t, ids, p)
    assert (eng.prices.tolist(), eng.cap, eng.level, eng.divisor) == snap
    assert td.counts == {}
    assert td.series(10).values.tolist() == [half_up(1000.0)] * 2340
    # only the good part (applied + ignored): the first trade is 08:59:59, which would be "out of
    # order" had the failed batch advanced the day's clock
    good = exp <= 1
    res = td.feed(t[good], ids[good], p[good])
    assert res.status.tolist() == exp[good].tolist()
    ref = TradingDay(small_engine(), "2026-03-23", policy="reject")
    ref.halt(id=3)
    ref.feed(t, ids, p)
    assert eng.level == ref.engine.level and eng.prices.tolist() == ref.engine.prices.tolist()
    np.testing.assert_array_equal(td.series(1).values, ref.series(1).values)
    # per-call policy override (15:30:30 is before the 16:00 trade seen last: out of order)
    res = td.feed([at(15, 30, 30)], np.array([0]), np.array([10_010]), policy="reject")
    assert res.status.tolist() == [7]
    with pytest.raises(ValueError, match="out of order|before the previous"):
        td.feed([at(15, 30, 30)], np.array([0]), np.array([10_010]))
    with pytest.raises(ValueError, match="policy"):
        td.feed([at(16, 30)], np.array([0]), np.array([10_010]), policy="drop")


def test_raise_on_the_last_trade_of_a_long_batch(sample):
    eng = kf.IndexEngine(sample, level=5781.20)
    sim = kf.simulate_day(sample, n_ticks=5_000, seed=1, date="2026-03-23")
    td = TradingDay(eng, "2026-03-23")
    prices = sim.prices.copy()
    prices[-1] = 10**9  # far beyond any limit
    snap = (eng.prices.tolist(), eng.cap)
    with pytest.raises(ValueError, match=f"trade {len(prices) - 1} "):
        td.feed(sim.times, sim.ids, prices)
    assert (eng.prices.tolist(), eng.cap) == snap


def _tick(p: int, table: str) -> int:
    """Tick size by hand from methodology 3.1."""
    edges = {"unified": (2_000, 5_000, 20_000, 50_000, 200_000, 500_000),
             "old": (1_000, 5_000, 10_000, 50_000, 100_000, 500_000)}[table]
    sizes = (1, 5, 10, 50, 100, 500, 1_000)
    return sizes[sum(p >= e for e in edges)]


@pytest.mark.parametrize("date, table, calendar", [
    ("2022-12-01", "old", False), ("2023-01-20", "old", True), ("2023-01-25", "unified", True),
    ("2026-03-23", "unified", True),
])
def test_off_grid_at_band_edges(date, table, calendar):
    edges = sorted({1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000})
    u = kf.Universe([f"{i + 1:06d}" for i in range(len(edges))], [str(e) for e in edges], [10] * len(edges), edges)
    eng = kf.IndexEngine(u)
    td = TradingDay(eng, date, policy="reject", check_calendar=calendar)
    rows = []
    for i, e in enumerate(edges):
        lo, hi = krx.price_limits(e, date=date)
        for d in (-1000, -500, -100, -50, -10, -5, -3, -1, 0, 1, 3, 5, 10, 50, 100, 500, 1000):
            if lo <= e + d <= hi:
                rows.append((i, e + d, 0 if (e + d) % _tick(e + d, table) == 0 else 4))
    t = at(9) + np.arange(len(rows), dtype=np.int64) * NS
    res = td.feed(t, np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64))
    assert res.status.tolist() == [r[2] for r in rows]
    assert 0 < (res.status == 4).sum() < len(rows)
    # the tables differ exactly where expected: 1,003 (1,000-2,000: tick 1 now, 5 before),
    # 10,010 (10,000-20,000: 10 now, 50 before), 100,100 (100,000-200,000: 100 now, 500 before)
    probe = {1_003: 0, 10_010: 1, 100_100: 3}
    st_ = td.feed(at(15, 0) + np.arange(3, dtype=np.int64), np.array([0, 3, 6], dtype=np.int64),
                  np.array(list(probe), dtype=np.int64)).status.tolist()
    assert edges[0] == 1_000 and edges[3] == 10_000 and edges[6] == 100_000
    assert st_ == ([0, 0, 0] if table == "unified" else [4, 4, 4])


@pytest.mark.parametrize("date, calendar, base, lower, upper, below, above", [
    # unified table: 9,980 -> limit 2,994 truncated to the 10-won tick = 2,990 -> 6,990 / 12,970
    ("2026-03-23", True, 9_980, 6_990, 12_970, 6_980, 12_980),
    ("2026-03-23", True, 1_500, 1_050, 1_950, 1_049, 1_951),  # tick 1 below 2,000
    ("2026-03-23", True, 50_000, 35_000, 65_000, 34_950, 65_100),  # 35,000 sits in the 50-won band
    # old table: 12,970 truncated to its 50-won tick -> 12,950; one tick above is 13,000
    ("2022-12-01", False, 9_980, 6_990, 12_950, 6_980, 13_000),
    ("2022-12-01", False, 1_500, 1_050, 1_950, 1_045, 1_955),  # tick 5 in 1,000-5,000
    ("2022-12-01", False, 50_000, 35_000, 65_000, 34_950, 65_100),
])
def test_price_limits_exact_edges(date, calendar, base, lower, upper, below, above):
    assert krx.price_limits(base, date=date) == (lower, upper)
    u = kf.Universe(["000001", "000002"], ["a", "b"], [100, 100], [base, 10_000])
    td = TradingDay(kf.IndexEngine(u), date, policy="reject", check_calendar=calendar)
    res = td.feed(at(9) + np.arange(4, dtype=np.int64), np.zeros(4, dtype=np.int64),
                  np.array([lower, upper, below, above], dtype=np.int64))
    assert res.status.tolist() == [0, 0, 5, 5]
    assert td.engine.prices[0] == upper


def test_halt_and_resume():
    eng = small_engine()
    td = TradingDay(eng, "2026-03-23", policy="reject")
    td.halt("000010")
    r = td.feed([at(9, 1)], np.array([0]), np.array([10_100]))
    assert r.status.tolist() == [6] and eng.prices[0] == 10_000
    r = td.feed([at(9, 2)], np.array([1]), np.array([1_600]))  # other stocks trade
    assert r.status.tolist() == [0]
    td.resume("000010")
    r = td.feed([at(9, 3)], np.array([0]), np.array([10_100]))
    assert r.status.tolist() == [0] and eng.prices[0] == 10_100
    td.halt(id=0)
    assert td.feed([at(9, 4)], np.array([0]), np.array([10_200])).status.tolist() == [6]
    td.resume(id=0)
    assert td.feed([at(9, 5)], np.array([0]), np.array([10_200])).status.tolist() == [0]
    with pytest.raises(ValueError):
        td.halt(id=99)
    with pytest.raises(TypeError, match="integer is ambiguous"):
        td.halt(0)  # an integer code is never taken for an id in silence
    with pytest.raises(KeyError):
        td.halt("999999")


def test_special_day_windows():
    # first trading day: a 09:30 trade is before the 10:00 open (ignored)
    td = TradingDay(small_engine(), "2026-01-02", policy="reject")
    r = td.feed([at(9, 30), at(10), at(15, 25)], np.array([0, 0, 0]), np.array([10_010, 10_020, 10_030]))
    assert r.status.tolist() == [1, 0, 8]
    # CSAT day: 15:25 is continuous trading; the closing call is 16:20-16:30
    td = TradingDay(small_engine(), "2025-11-13", policy="reject")
    r = td.feed([at(9, 59), at(15, 25), at(16, 25), at(16, 30), at(16, 31)], np.zeros(5, dtype=np.int64),
                np.array([10_010, 10_020, 10_030, 10_040, 10_050]))
    assert r.status.tolist() == [1, 0, 8, 0, 1]


# --------------------------------------------------------------------------- published series
def independent_series(tick_times, levels, grid, start, ath=None, rounds=()):
    """Plain loop over the ticks: (values, (o, h, l, c), sorted events)."""
    values = []
    for g in grid:
        v = start
        for t, lv in zip(tick_times, levels):
            if t <= g:
                v = lv
        values.append(half_up(v))
    events = []
    hi = lo = values[0]
    prev = half_up(start)
    for k, (g, v) in enumerate(zip(grid, values)):
        if k and v > hi:
            events.append((int(g), "intraday_high", v, None))
            hi = v
        if k and v < lo:
            events.append((int(g), "intraday_low", v, None))
            lo = v
        if ath is not None and v > ath:
            events.append((int(g), "all_time_high", v, ath))
            ath = v
        for r in rounds:
            if prev < r <= v:
                events.append((int(g), "crossed_up", v, float(r)))
            if prev >= r > v:
                events.append((int(g), "crossed_down", v, float(r)))
        prev = v
    return values, (values[0], max(values), min(values), values[-1]), sorted(events, key=repr)


def as_tuples(events):
    return sorted(((e.time, e.kind, e.level, e.detail) for e in events), key=repr)


def test_published_series_handcrafted():
    S = NS
    ticks = [(1 * S, 4995.5), (12 * S, 5000.125), (25 * S, 4999.5), (31 * S, 4990.25), (33 * S, 5020.625),
             (45 * S, 5016.0), (50 * S, 5015.0), (55 * S, 4980.0), (65 * S, 6000.0)]
    t = np.array([x for x, _ in ticks], dtype=np.int64)
    lv = np.array([y for _, y in ticks])
    grid = np.array([10, 20, 30, 40, 50, 60], dtype=np.int64) * S
    ps = published_series(t, lv, grid, 4990.0, all_time_high=5010.0, round_numbers=(5000,))
    # 5000.125 -> 5000.13 (half-up; half-even would give 5000.12), 5020.625 -> 5020.63;
    # the tick exactly at 50 s counts for the 50 s print; the 65 s tick is after the last print
    assert ps.values.tolist() == [4995.5, 5000.13, 4999.5, 5020.63, 5015.0, 4980.0]
    assert ps.times.tolist() == grid.tolist()
    assert (ps.open, ps.high, ps.low, ps.close) == (4995.5, 5020.63, 4980.0, 4980.0)
    expected = [
        (20 * S, "intraday_high", 5000.13, None), (20 * S, "crossed_up", 5000.13, 5000.0),
        (30 * S, "crossed_down", 4999.5, 5000.0),
        (40 * S, "intraday_high", 5020.63, None), (40 * S, "all_time_high", 5020.63, 5010.0),
        (40 * S, "crossed_up", 5020.63, 5000.0),
        (60 * S, "intraday_low", 4980.0, None), (60 * S, "crossed_down", 4980.0, 5000.0),
    ]
    assert as_tuples(ps.events) == sorted(expected, key=repr)
    assert independent_series(t, lv, grid, 4990.0, 5010.0, (5000,))[2] == sorted(expected, key=repr)
    # no ATH given -> no ATH events; no round numbers -> no crossings
    kinds = {e.kind for e in published_series(t, lv, grid, 4990.0).events}
    assert kinds == {"intraday_high", "intraday_low"}
    # prints before the first trade are the start level
    late = published_series(t + 100 * S, lv, grid, 4990.004)
    assert late.values.tolist() == [4990.0] * 6 and late.events == []


def test_published_series_first_print_is_not_an_intraday_event():
    grid = np.array([10, 20], dtype=np.int64) * NS
    ps = published_series(np.array([NS]), np.array([5100.0]), grid, 4900.0, all_time_high=5050.0,
                          round_numbers=(5000,))
    # the first print is above the start but is no intraday high; it does cross 5000 and the ATH
    assert as_tuples(ps.events) == sorted([(10 * NS, "all_time_high", 5100.0, 5050.0),
                                           (10 * NS, "crossed_up", 5100.0, 5000.0)], key=repr)


def test_round_number_touch_counts_as_a_crossing():
    # landing exactly on 5000.00 crosses up; leaving it downwards from exactly 5000.00 crosses down
    grid = np.array([10, 20, 30, 40], dtype=np.int64) * NS
    t = np.array([1, 11, 21, 31], dtype=np.int64) * NS
    ps = published_series(t, np.array([4999.0, 5000.0, 4999.99, 5000.001]), grid, 4999.0,
                          round_numbers=(5000,))
    assert [(e.time, e.kind) for e in ps.events if e.kind.startswith("crossed")] == [
        (20 * NS, "crossed_up"), (30 * NS, "crossed_down"), (40 * NS, "crossed_up")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_published_series_random_against_loop(seed):
    rng = np.random.default_rng(seed)
    m = 400
    t = np.sort(rng.integers(0, 600 * NS, m))
    # a wave (rises, falls below the start, recovers) plus noise, some levels exactly on .xx5
    lv = 5000 + 30 * np.sin(2 * np.pi * (t / NS + 20) / 400) + rng.normal(0, 3.0, m)
    lv[::7] = np.round(lv[::7] * 8) / 8
    grid = np.append(np.arange(10 * NS, 600 * NS, 10 * NS), 600 * NS)
    ath = float(np.round(lv.max() - 5, 2))
    rounds = (4990, 5000, 5010)
    ps = published_series(t, lv, grid, 5000.0, all_time_high=ath, round_numbers=rounds)
    values, ohlc, events = independent_series(t.tolist(), lv.tolist(), grid.tolist(), 5000.0, ath, rounds)
    assert ps.values.tolist() == values
    assert (ps.open, ps.high, ps.low, ps.close) == ohlc
    assert as_tuples(ps.events) == events
    kinds = {e[1] for e in events}
    assert {"all_time_high", "intraday_high", "intraday_low", "crossed_up", "crossed_down"} <= kinds


# --------------------------------------------------------------------------- a full day
def test_full_simulated_day(sample):
    sim = kf.simulate_day(sample, n_ticks=50_000, seed=20260323, date="2026-03-23")
    eng = kf.IndexEngine(sample, level=5781.20)
    start_prices, shares, div = eng.prices.tolist(), eng.index_shares.tolist(), eng.divisor
    td = TradingDay(eng, "2026-03-23")
    parts = [td.feed(sim.times[a:b], sim.ids[a:b], sim.prices[a:b])
             for a, b in ((0, 850), (850, 30_000), (30_000, 50_000))]
    assert sum(r.applied for r in parts) == 50_000
    assert td.counts == {STATUS[0]: 50_000}
    levels = np.concatenate([r.levels for r in parts])
    plain = kf.IndexEngine(sample, level=5781.20)
    np.testing.assert_array_equal(levels, plain.update_many(sim.ids, sim.prices))
    assert eng.level == plain.level and eng.cap == plain.cap

    ser = td.series(10)
    assert len(ser.times) == 2340
    assert ser.times[0] == at(9, 0, 10) and ser.times[-1] == at(15, 30)
    # reference: replay the trades in Python and recompute each print's level from scratch
    cur = list(start_prices)
    times, ids, prices = sim.times.tolist(), sim.ids.tolist(), sim.prices.tolist()
    expect, j = [], 0
    for g in ser.times.tolist():
        while j < len(times) and times[j] <= g:
            cur[ids[j]] = prices[j]
            j += 1
        expect.append(reference.published(reference.level(reference.aggregate_cap(cur, shares), div)))
    assert ser.values.tolist() == expect
    assert ser.close == reference.published(eng.level)
    assert (ser.open, ser.high, ser.low) == (expect[0], max(expect), min(expect))
    # the 1-second series agrees with it on the 10-second prints
    ser1 = td.series(1)
    assert len(ser1.times) == 23391
    pos = np.searchsorted(ser1.times, ser.times)
    np.testing.assert_array_equal(ser1.values[pos], ser.values)
    # crossing the previous close's round number and a fake ATH are reported on the grid
    mid = float(np.round(np.median(ser.values)))
    evs = td.series(10, all_time_high=float(ser.high) - 0.01, round_numbers=(mid,)).events
    assert [e.time for e in evs if e.kind == "all_time_high"] == [int(ser.times[int(np.argmax(ser.values))])]
    crossings = [e for e in evs if e.kind.startswith("crossed")]
    assert crossings and all(e.time in set(ser.times.tolist()) for e in crossings)


def _messy_day(eng, seed: int, n: int = 3_000):
    """Trades over the whole day with every kind of trouble for the print grid: off-hours trades,
    bad prices, runs of equal times, and trades stamped before an earlier one."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(at(8, 50), at(15, 45), n)).astype(np.int64)
    t[rng.random(n) < 0.2] = 0
    t = np.maximum.accumulate(np.where(t == 0, at(8, 50), t))  # runs of equal times
    late = rng.random(n) < 0.03
    t[late] -= rng.integers(1, 30 * NS, late.sum())  # out of time order
    ids = rng.integers(0, len(eng), n).astype(np.int64)
    base = eng.reference_prices[ids]
    p = base + 10 * rng.integers(-50, 50, n)
    p[rng.random(n) < 0.03] += 5  # off the tick grid
    return t, ids, p


@pytest.mark.parametrize("book", ["engine", "family"])
@pytest.mark.parametrize("seed", [1, 2])
def test_series_over_many_batches_against_the_applied_trades(book, seed):
    """Per-trade levels kept and sampled when read (an engine) or prints sampled by the kernel
    (a family): either way a print is the level after the last applied trade at or before it,
    whatever the batches, reads in between change nothing, an empty batch is nothing."""
    def make():
        e = small_engine()
        if book == "engine":
            return e
        u = e.universe
        return kf.IndexFamily(u, [kf.definitions.IndexDefinition("KOSPI", CODES, follows_market=True, level=1000.0),
                                  kf.definitions.IndexDefinition("Half", CODES[:2], level=500.0)])

    b, twin = make(), make()
    td = TradingDay(b, "2026-03-23", policy="reject")
    t, ids, p = _messy_day(b, seed)
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, t.shape[0]), 40, replace=False))
    status, done = [], 0
    for a, z in zip([0, *cuts], [*cuts, t.shape[0]]):
        if rng.random() < 0.1:
            td.feed(t[a:a], ids[a:a], p[a:a])
        status.append(td.feed(t[a:z], ids[a:z], p[a:z]).status)
        done = z
        if rng.random() < 0.15 or z == t.shape[0]:
            st = np.concatenate(status)
            assert (st == 7).any() or z < t.shape[0] // 2
            ok = st == 0
            kt = t[:done][ok]
            twin_b = make()
            per_trade = np.asarray(twin_b.update_many(ids[:done][ok], p[:done][ok])).reshape(ok.sum(), -1)
            for k, name in enumerate(b.names):
                s = td.series(1, index=name)
                # the close print is sampled at the end of the closing auction's window (random end)
                when = np.where(s.times == td.session.close, td.session.window[1], s.times)
                pos = np.searchsorted(kt, when, side="right") - 1
                raw = np.where(pos >= 0, per_trade[np.maximum(pos, 0), k], twin.levels[k])
                assert s.values.tolist() == [half_up(x) for x in raw], (name, done)
                s10 = td.series(10, index=name)
                np.testing.assert_array_equal(s.values[np.searchsorted(s.times, s10.times)], s10.values)


@pytest.mark.parametrize("book", ["engine", "family"])
def test_a_batch_opening_out_of_time_order_does_not_rewrite_earlier_prints(book):
    # 09:00:10 is after the first batch's 09:00:00 trade and before its 09:00:20 one: it prints
    # the level after 09:00:00 even though the next batch starts with a trade stamped 09:00:05
    # (rejected: before 09:00:20). Before publish.StepSampler, that batch rewrote the prints
    # from 09:00:05 on with the level before it.
    e = small_engine()
    b = e if book == "engine" else kf.IndexFamily(
        e.universe, [kf.definitions.IndexDefinition("KOSPI", CODES, follows_market=True, level=1000.0)])
    td = TradingDay(b, "2026-03-23", policy="reject")
    first = td.feed([at(9), at(9, 0, 20)], np.array([2, 2]), np.array([55_000, 60_000]))
    assert first.status.tolist() == [0, 0]
    cap0 = 10_000 * 1_000 + 1_500 * 2_000 + 50_000 * 3_000 + 100_000 * 4_000  # BASES x shares
    after_0900 = half_up(1000.0 * (cap0 + 5_000 * 3_000) / cap0)  # 1026.64
    assert td.series(10).values[0] == after_0900
    second = td.feed([at(9, 0, 5), at(9, 0, 30)], np.array([0, 0]), np.array([10_010, 10_020]))
    assert second.status.tolist() == [7, 0]
    s = td.series(10)
    assert s.values[0] == after_0900 and s.values[1] == half_up(float(first.final[0]))


@pytest.mark.parametrize("date", ["2023-01-24", "2023-01-25"])  # the old table and the unified one
def test_grid_bitmap_is_krx_tick_grid_for_every_price(date):
    # The kernel's bitmap, built band by band, against krx.is_on_tick (the table's one home) for
    # every price it covers; price 0 is off the grid.
    from kospi_fast import krx
    from kospi_fast import session as s

    s._GRIDS.clear()
    bounds, ticks, grid = s._tick_rules(s._validation.as_date(date))
    on = np.unpackbits(grid, bitorder="little").astype(bool)
    assert on.shape == (s.GRID_BITMAP_PRICES,) and not on[0]
    want = krx.is_on_tick(np.arange(1, s.GRID_BITMAP_PRICES, dtype=np.int64), date=date)
    np.testing.assert_array_equal(on[1:], want)
