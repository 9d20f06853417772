"""A user's script, type-checked by mypy --strict against the installed package's stubs.

Never imported by the test suite (pytest collects only test_*.py); tests/typing/test_mypy.py
runs mypy on it. Every public name used here must resolve to a precise type, not Any: the
annotated assignments below fail type-checking if a stub returns the wrong type.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

import kospi_fast as kf
from kospi_fast import bench, distributed, eod, io, kernels, krx, live, persist, publish, reference, server, session
from kospi_fast.definitions import IndexDefinition, kospi_definition
from kospi_fast.events import CashDividend, DividendCorrection, Event, NewListing, RightsIssue, Split
from kospi_fast.plot import plot_day


def replay_day(n_ticks: int = 20_000) -> npt.NDArray[np.float64]:
    u: kf.Universe = kf.sample_universe()
    engine: kf.IndexEngine = kf.IndexEngine(u, level=5781.20)
    one: float = engine.update("005930", 200_000)
    by_id: float = engine.update_id(0, 200_000)
    day: kf.SimulatedDay = kf.simulate_day(u, n_ticks=n_ticks, seed=1)
    batch: npt.NDArray[np.float64] = engine.update_many(day.ids, day.prices)
    assert engine.level == engine.recompute()
    assert one > 0 and by_id > 0 and batch.shape == (len(day),)
    cap: int = engine.cap
    divisor: float = engine.divisor
    assert cap > 0 and divisor > 0
    return kf.replay(u.shares, u.base_prices, engine.divisor, day.ids, day.prices)


def exact_cap(prices: list[int], shares: list[int]) -> int | float:
    return kf.aggregate_cap(np.asarray(prices, dtype=np.int64), np.asarray(shares, dtype=np.int64))


def custom_universe() -> kf.Universe:
    return kf.Universe(["005930", "000660"], ["Samsung", "SK hynix"], [10, 5], [70_000, 150_000])


def whole_api(folder: Path) -> None:
    """Every public module, as a user reaches it (type-checked only: it needs files)."""
    u = kf.sample_universe()
    fam: kf.IndexFamily = kf.IndexFamily.kospi(u, kospi200=list(u.codes[:200]), levels={"KOSPI": 5781.2})
    k200: IndexDefinition = kospi_definition(u, "KOSPI 200", constituents=list(u.codes[:200]))
    names: tuple[str, ...] = fam.names
    day = kf.simulate_day(u, n_ticks=1000, seed=1, date="2026-03-23")
    rows: npt.NDArray[np.float64] = fam.update_many(day.ids, day.prices)
    events: list[Event] = [Split("005930", 10), RightsIssue("000660", issue_price=800_000, new_shares=10),
                           NewListing("123450", shares=1_000, close=5_000)]
    records: list[kf.RebaseRecord] = fam.roll(events, date="2026-03-24", rebalance={"KOSPI 200": k200})
    audit: list[dict[str, object]] = fam.audit_table()
    state: kf.BookState = fam.to_state()
    td: kf.TradingDay = kf.TradingDay(fam, "2026-03-24", policy="reject")
    fed: kf.FeedResult = td.feed(day.times, day.ids, day.prices)
    prints: publish.PublishedSeries = td.series(1, index="KOSPI 200")
    sess: session.SessionTimes = session.session_times(datetime.date(2026, 3, 24))
    tick: int = krx.tick_size(200_000)
    ticks: npt.NDArray[np.int64] = krx.tick_size([4_999, 5_000])
    lower, upper = krx.price_limits(200_000)
    ex: int = krx.ex_rights_price(100_000, 1_000, 80_000, 100)
    loaded: io.LoadedUniverse = io.load_universe(folder / "eod.csv")
    engine = loaded.engine(level=5781.20)
    path: Path = io.write_ticks(day, folder / "2026-03-23.parquet")
    res: io.ReplayResult = io.replay_file(path, engine, grid="10s")
    batches = io.batches_from_arrays(day.times, day.ids, day.prices)
    again: io.ReplayResult = io.replay_batches(batches, kf.IndexEngine(u, level=5781.20))
    jb: kf.JournaledBook = kf.JournaledBook.create(fam, folder / "s.kfs", folder / "live.journal")
    persist.save(fam, folder / "fam.kfs")
    back = kf.IndexFamily.load(folder / "fam.kfs")
    level: float = reference.published(5781.2051)
    specs: list[distributed.DaySpec] = distributed.specs_from_simulated([day], [path], level=5781.20)
    days: distributed.DaysResult = distributed.replay_days_sequential(specs)
    pairs: list[eod.PairResult] = eod.verify(eod.read_eod_csv(folder / "eod.csv"),
                                             eod.read_index_csv(folder / "index.csv"))
    chart: Path = plot_day(res, folder / "day.png", date="2026-03-23")
    tr = kf.IndexFamily.kospi(u, sectors=False, size=False, returns=("price", "total", "net"))
    schedule: io.DividendSchedule = io.load_dividends(folder / "dividends.csv")
    theo: float = tr.theoretical_ex_dividend_level(schedule.expected("2026-03-25"))
    tr.roll([*schedule.on("2026-03-25"), CashDividend("005930", 1_500, effective="2026-03-25")], date="2026-03-25")
    tr.roll([DividendCorrection("005930", 1_800, effective="2026-03-26")], date="2026-03-26")
    print(names, rows, records, audit, state, fed, prints, sess, tick, ticks, lower, upper, ex, again, jb,
          back, level, days, pairs, chart, theo, kf.published(level), kf.__version__)


def live_and_other_designs() -> None:
    """Issue 15's live API and issue 18's other designs, as a user's script touches them."""
    u = kf.sample_universe()
    day = kf.simulate_day(u, n_ticks=5_000, seed=1)
    pub: kf.Publisher = kf.Publisher(kf.IndexEngine(u, level=5781.20), day.date, check_calendar=False,
                                     indicative=True, intervals={"KOSPI": 10})
    got: list[kf.Print] = []
    pub.on_print(got.append)
    status: int = pub.on_trade(int(day.times[0]), "005930", int(day.prices[0]))
    pub.feed(day.times[1:], day.ids[1:], day.prices[1:], venues=["KRX"] * (len(day) - 1))
    pub.halt("005930")
    pub.resume("005930")
    pub.advance_to(int(day.times[-1]) + 1)
    pub.close()
    first: kf.Print = got[0]
    when: datetime.datetime = first.time
    as_json: dict[str, object] = first.to_dict()
    bars: list[live.MinuteBar] = pub.minute_bars("KOSPI")
    closed: bool = pub.closed
    td = kf.TradingDay(kf.IndexEngine(u, level=5781.20), day.date, check_calendar=False)
    one: int = td.on_trade(int(day.times[0]), 0, int(day.prices[0]))
    td.advance_to(int(day.times[0]) + 1)
    kind, payload = server.parse_message({"t": "09:00:01", "code": "005930", "price": 70_100}, u.code_index)
    stats: server.ServerStats = server.ServerStats()
    us = kf.Universe(["AAPL", "BRK.B"], ["Apple", "Berkshire B"], [15_000, 1_300], [22_713, 48_120])
    fam = kf.IndexFamily(us, [IndexDefinition("PW", ("AAPL", "BRK.B"), weighting="price", level=1000.0),
                              IndexDefinition("EW", ("AAPL", "BRK.B"), weighting="equal", notional=10**9)])
    fam.apply_events([Split("AAPL", 4, rounding="nearest", grid=1)], date="2026-03-24")
    st: kf.ReplayState = kf.replay(us.shares, us.base_prices, 1e6, np.array([0, 1]), np.array([22_800, 48_000]),
                                   rebalances=[(1, [0], [16_000])], return_state=True)
    floats: npt.NDArray[np.float64] = kf.replay(np.array([1.5]), np.array([64_250.5]), 10.0, np.array([0]),
                                                np.array([64_300.25]), exact=False)
    crypto = kf.IndexEngine(us, exact=False, listed=[19_700_000.5, 120_100_000.25], prices=[64_250.5, 3_120.75],
                            price_band=None)
    moved: float = crypto.update("AAPL", 64_300.25) + crypto.update_id(1, 3_119.5)
    exact: bool = crypto.exact and fam.exact
    fcoins = kf.IndexFamily(us, [IndexDefinition("CAP", ("AAPL", "BRK.B"), level=100.0)], exact=False,
                            listed=np.array([0.5, 2.25]))
    frows: npt.NDArray[np.float64] = fcoins.update_many(np.array([0]), np.array([64_300.25]))
    kernels.check_api_version(kernels.API_VERSION)
    w: bench.Workload = bench.synthetic_workload(n_ticks=10_000)
    print(status, when, as_json, bars, closed, one, kind, payload, stats, st.cap, st.divisor, floats, w,
          kernels.CAP_MAX, pub, moved, exact, frows)


if __name__ == "__main__":
    levels = replay_day()
    total = exact_cap([70_000, 1_500], [10, 200])
    print(f"{levels[-1]:.2f}", total, len(custom_universe()))
