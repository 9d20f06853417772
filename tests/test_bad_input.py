"""Every public entry point: bad input gets a clear error naming the argument and value."""

import numpy as np
import pytest

import kospi_fast as kf

P = np.array([100, 200, 300], dtype=np.int64)
S = np.array([10, 20, 30], dtype=np.int64)
IDS = np.array([0, 1, 2], dtype=np.intp)
NP = np.array([110, 190, 310], dtype=np.int64)


# ---------------------------------------------------------------- aggregate_cap
@pytest.mark.parametrize(
    "prices,shares,exc,msg",
    [
        (P.astype(str), S, TypeError, r"`prices` must be an integer array"),
        ("100", S, TypeError, r"`prices`"),
        (P, S.astype(object), TypeError, r"`shares`"),
        (P.reshape(3, 1), S, ValueError, r"`prices` must be 1-dimensional"),
        (P, S[:2], ValueError, r"same length, got 3 and 2"),
        (np.array([100, -500, 300]), S, ValueError, r"`prices\[1\]` must be > 0, got -500"),
        (np.array([100, 0, 300]), S, ValueError, r"`prices\[1\]` must be > 0, got 0"),
        (P, np.array([10, -1, 30]), ValueError, r"`shares\[1\]` must be >= 0, got -1"),
        (np.array([100.0, np.nan, 3.0]), S, ValueError, r"`prices\[1\]` must be a finite number, got nan"),
        (np.array([100.0, np.inf, 3.0]), S, ValueError, r"`prices\[1\]` must be a finite number, got inf"),
        (np.array([True, False, True]), S, TypeError, r"`prices`"),
    ],
)
def test_aggregate_cap_bad(prices, shares, exc, msg):
    with pytest.raises(exc, match=msg):
        kf.aggregate_cap(prices, shares)


# ---------------------------------------------------------------- replay
@pytest.mark.parametrize(
    "kwargs,exc,msg",
    [
        (dict(divisor=0.0), ValueError, r"`divisor` must be a finite number > 0, got 0.0"),
        (dict(divisor=-1.0), ValueError, r"`divisor`.*-1.0"),
        (dict(divisor=float("nan")), ValueError, r"`divisor`.*nan"),
        (dict(divisor="1"), TypeError, r"`divisor` must be a real number"),
        (dict(ids=np.array([0, 3, 1])), ValueError, r"`ids\[1\]` is out of range: ids must be in \[0, 3\), got 3"),
        (dict(ids=np.array([0, -1, 1])), ValueError, r"`ids\[1\]` is out of range.*got -1"),
        (dict(ids=np.array([0.0, 1.0, 2.0])), TypeError, r"`ids` must be an integer array"),
        (dict(ids=np.array([0, 1])), ValueError, r"`ids` and `new_prices` must have the same length, got 2 and 3"),
        (dict(new_prices=np.array([110, 0, 5])), ValueError, r"`new_prices\[1\]` must be > 0, got 0"),
        (dict(new_prices=np.array([110, -7, 5])), ValueError, r"`new_prices\[1\]` must be > 0, got -7"),
        (dict(new_prices=np.array([110.0, np.nan, 5.0])), ValueError, r"`new_prices\[1\]` must be a finite number, got nan"),
        (dict(new_prices=np.array([110.5, 1.0, 5.0])), ValueError, r"`new_prices\[0\]` must be a whole number"),
        (dict(new_prices=np.array([110, 2**62, 5])), ValueError, r"`new_prices\[1\]` = 4611686018427387904 would overflow the int64 aggregate cap: Σ price × shares after it would be \d+"),
        (dict(new_prices=np.array([110, -(2**63), 5])), ValueError, r"`new_prices\[1\]` must be > 0, got -9223372036854775808"),
        (dict(new_prices=np.array([110, 2**63 - 1, 5])), ValueError, r"`new_prices\[1\]` = 9223372036854775807 would overflow"),
        (dict(shares=np.array([10, -20, 30])), ValueError, r"`shares\[1\]` must be >= 0, got -20"),
        (dict(prices=np.array([100, 200])), ValueError, r"`shares` and `prices` must have the same length"),
        (dict(prices=np.array([[100, 200, 300]])), ValueError, r"`prices` must be 1-dimensional"),
    ],
)
def test_replay_bad(kwargs, exc, msg):
    args = dict(shares=S, prices=P, divisor=1.0, ids=IDS, new_prices=NP)
    args.update(kwargs)
    before = {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in args.items()}
    with pytest.raises(exc, match=msg):
        kf.replay(**args)
    for k, v in args.items():  # inputs never mutated, even on error
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, before[k])


# ---------------------------------------------------------------- rebase_divisor
@pytest.mark.parametrize(
    "args,exc,msg",
    [
        ((0.0, 1, 2), ValueError, r"`divisor`"),
        ((1.0, 0, 2), ValueError, r"`cap_before` must be a finite number > 0, got 0"),
        ((1.0, 1, -2), ValueError, r"`cap_after`.*-2"),
        ((1.0, 1, float("inf")), ValueError, r"`cap_after`.*inf"),
        ((1.0, "1", 2), TypeError, r"`cap_before` must be a real number"),
    ],
)
def test_rebase_divisor_bad(args, exc, msg):
    with pytest.raises(exc, match=msg):
        kf.rebase_divisor(*args)


# ---------------------------------------------------------------- Universe
@pytest.mark.parametrize(
    "kwargs,exc,msg",
    [
        (dict(codes=["005930", ""]), ValueError, r"`codes\[1\]` must be a non-empty code with no blank at either end, got ''"),
        (dict(codes=["AAPL", "AAPL  "]), ValueError, r"`codes\[1\]` must be a non-empty code .*'AAPL  '"),
        (dict(codes=["005930", 5930]), TypeError, r"`codes\[1\]` must be a str"),
        (dict(codes=["005930", "005930"]), ValueError, r"`codes\[1\]` duplicates `codes\[0\]`"),
        (dict(names=["a"]), ValueError, r"`names` must have one entry per code \(2\), got 1"),
        (dict(shares=[1, -1]), ValueError, r"`shares\[1\]` must be >= 0, got -1"),
        (dict(base_prices=[1, 0]), ValueError, r"`base_prices\[1\]` must be > 0, got 0"),
        (dict(base_prices=[1.0, float("nan")]), ValueError, r"`base_prices\[1\]` must be a finite number"),
        (dict(shares=[1, 2, 3]), ValueError, r"`shares` must have one entry per code \(2\), got 3"),
        (dict(sectors=["x"]), ValueError, r"`sectors`"),
    ],
)
def test_universe_bad(kwargs, exc, msg):
    args = dict(codes=["005930", "000660"], names=["a", "b"], shares=[1, 2], base_prices=[100, 200])
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        kf.Universe(**args)


def test_universe_unknown_code():
    u = kf.Universe(["005930"], ["a"], [1], [100])
    with pytest.raises(KeyError, match="unknown stock code '123456'"):
        u.index_of("123456")


# ---------------------------------------------------------------- IndexEngine
@pytest.fixture
def engine():
    u = kf.Universe(["005930", "000660", "035420"], ["a", "b", "c"], S, P)
    return kf.IndexEngine(u, level=1000.0, price_band=None)  # the band has its own cases


def _state(e):
    return (e.cap, e.divisor, e.level, e.prices.tolist(), e.index_shares.tolist(), len(e.audit))


@pytest.mark.parametrize(
    "key,price,exc,msg",
    [
        ("999999", 100, KeyError, r"unknown stock code '999999'"),
        (1.0, 100, TypeError, r"`code` must be a 6-character stock code such as '005930', got 1.0"),
        (True, 100, TypeError, r"`code`"),
        (660, 100, TypeError, r"got the integer 660: an integer is ambiguous.*'000660'.*update_id\(660, price\)"),
        (np.int64(0), 100, TypeError, r"got the integer 0: an integer is ambiguous"),
        (-1, 100, TypeError, r"got the integer -1: an integer is ambiguous"),
        ("005930", 0, ValueError, r"`price` must be > 0, got 0"),
        ("005930", "100", TypeError, r"`price` must be an integer number of price units"),
    ],
)
def test_engine_update_bad(engine, key, price, exc, msg):
    before = _state(engine)
    with pytest.raises(exc, match=msg):
        engine.update(key, price)
    assert _state(engine) == before


@pytest.mark.parametrize(
    "key,price,exc,msg",
    [
        (3, 100, ValueError, r"`id` is out of range: ids must be in \[0, 3\), got 3"),
        (-1, 100, ValueError, r"`id` is out of range.*got -1"),
        (2**70, 100, ValueError, r"out of range"),
        (1.0, 100, TypeError, r"`id` must be an integer stock id \(a row of the universe\), got 1.0"),
        (True, 100, TypeError, r"`id`"),
        ("005930", 100, TypeError, r"`id` must be an integer stock id.*a code goes to update\(code, price\)"),
        (0, 0, ValueError, r"`price` must be > 0, got 0"),
        (0, -500, ValueError, r"`price` must be > 0, got -500"),
        (0, float("nan"), ValueError, r"`price` must be a whole, finite number of price units, got nan"),
        (0, float("inf"), ValueError, r"`price`.*inf"),
        (0, 100.5, ValueError, r"`price`.*100.5"),
        (0, "100", TypeError, r"`price` must be an integer number of price units"),
        (0, None, TypeError, r"`price`"),
        (0, 2**62, ValueError, r"`price` = 4611686018427387904 would overflow the int64 aggregate cap: Σ price × shares after it would be \d+"),
        (0, 2**64, ValueError, r"`price`"),
    ],
)
def test_engine_update_id_bad(engine, key, price, exc, msg):
    before = _state(engine)
    with pytest.raises(exc, match=msg):
        engine.update_id(key, price)
    assert _state(engine) == before


@pytest.mark.parametrize(
    "ids,prices,exc,msg",
    [
        ([0, 1, 5], [1, 2, 3], ValueError, r"`ids\[2\]` is out of range"),
        ([0, 1, 2], [1, 0, 3], ValueError, r"`prices\[1\]` must be > 0, got 0"),
        ([0, 1, 2], [1.0, np.nan, 3.0], ValueError, r"`prices\[1\]` must be a finite number"),
        ([0, 1], [1, 2, 3], ValueError, r"same length"),
        (["005930"], [1], TypeError, r"`ids` must be an integer array"),
    ],
)
def test_engine_update_many_bad_changes_nothing(engine, ids, prices, exc, msg):
    engine.update_many([0, 1], [105, 210])  # some history first
    before = _state(engine)
    with pytest.raises(exc, match=msg):
        engine.update_many(ids, prices)
    assert _state(engine) == before


def test_engine_rejects_batch_failing_late(engine):
    before = _state(engine)
    ids = np.zeros(10_000, dtype=np.intp)
    prices = np.full(10_000, 150, dtype=np.int64)
    prices[-1] = -1  # the very last trade is bad: nothing of the batch may stick
    with pytest.raises(ValueError, match=r"`prices\[9999\]` must be > 0, got -1"):
        engine.update_many(ids, prices)
    assert _state(engine) == before


@pytest.mark.parametrize(
    "kwargs,exc,msg",
    [
        (dict(level=0.0), ValueError, r"`level` must be a finite number > 0, got 0.0"),
        (dict(level=float("nan")), ValueError, r"`level`"),
        (dict(base_cap=-5.0), ValueError, r"`base_cap`"),
        (dict(level=1.0, base_cap=1.0), ValueError, r"at most one of `level` and `base_cap`"),
        (dict(base_value=0), ValueError, r"`base_value`"),
        (dict(index_shares=[1, 2]), ValueError, r"`index_shares` must have one entry per stock \(3\), got 2"),
        (dict(index_shares=[1, -2, 3]), ValueError, r"`index_shares\[1\]` must be >= 0"),
        (dict(prices=[1, 2, 0]), ValueError, r"`prices\[2\]` must be > 0"),
        (dict(index_shares=[0, 0, 0], level=5.0), ValueError, r"no members"),
    ],
)
def test_engine_construction_bad(kwargs, exc, msg):
    u = kf.Universe(["005930", "000660", "035420"], ["a", "b", "c"], S, P)
    with pytest.raises(exc, match=msg):
        kf.IndexEngine(u, **kwargs)


def test_engine_needs_a_universe():
    with pytest.raises(TypeError, match="`universe` must be a kospi_fast.Universe"):
        kf.IndexEngine([1, 2, 3])


@pytest.mark.parametrize(
    "ids,kwargs,exc,msg",
    [
        (["999999"], dict(prices=[5]), KeyError, r"unknown stock code '999999'"),
        ([0, 0], dict(prices=[5, 6]), ValueError, r"more than once"),
        ([0], dict(prices=[0]), ValueError, r"`prices\[0\]` must be > 0, got 0"),
        ([0], dict(index_shares=[-1]), ValueError, r"`index_shares\[0\]` must be >= 0, got -1"),
        ([0, 1], dict(prices=[5]), ValueError, r"`prices` must have one entry per id \(2\), got 1"),
        ([7], dict(prices=[5]), ValueError, r"`ids\[0\]` is out of range"),
        ([0, 1, 2], dict(index_shares=[0, 0, 0]), ValueError, r"no members"),
        ([0], dict(index_shares=[2**62]), ValueError, r"the change of prices or index shares would overflow the int64 aggregate cap of index .KOSPI.: Σ price × shares would be \d+"),
        ("005930", dict(prices=[5]), TypeError, r"`ids` must be a sequence"),
    ],
)
def test_apply_changes_bad_changes_nothing(engine, ids, kwargs, exc, msg):
    before = _state(engine)
    with pytest.raises(exc, match=msg):
        engine.apply_changes(ids, **kwargs)
    assert _state(engine) == before


def test_simulate_day_bad(sample):
    with pytest.raises(ValueError, match=r"`n_ticks` must be >= 2 × n_stocks \(1700\), got 10"):
        kf.simulate_day(sample, n_ticks=10)
    with pytest.raises(TypeError, match=r"`n_ticks` must be an int"):
        kf.simulate_day(sample, n_ticks=2.5)
    with pytest.raises(TypeError, match=r"`universe`"):
        kf.simulate_day("sample")


def test_family_and_trading_day_name_their_own_arguments(sample):
    from kospi_fast.family import IndexFamily
    from kospi_fast.session import TradingDay

    fam = IndexFamily.kospi(sample, levels={"KOSPI": 5781.2}, price_band=None)
    before = (fam.levels.tobytes(), fam.prices.tobytes())
    with pytest.raises(ValueError, match=r"`prices\[1\]` must be a finite number, got nan"):
        fam.update_many([0, 1], [199_400.0, np.nan])
    with pytest.raises(ValueError, match=r"`ids` and `prices` must have the same length, got 2 and 1"):
        fam.update_many([0, 1], [199_400])
    with pytest.raises(TypeError, match=r"`code` must be a stock code string such as 'AAPL' or '005930', got 1.5"):
        fam.update(1.5, 100)
    with pytest.raises(TypeError, match=r"got the integer 660: an integer is ambiguous"):
        fam.update(660, 100)
    with pytest.raises(ValueError, match=r"`id` is out of range.*got 99999"):
        fam.update_id(99_999, 100)
    with pytest.raises(TypeError, match=r"`id` must be an integer stock id.*got 1.5"):
        fam.update_id(1.5, 100)
    assert (fam.levels.tobytes(), fam.prices.tobytes()) == before

    e = kf.IndexEngine(sample, level=5781.2, price_band=None)
    td = TradingDay(e, "2026-03-23", check_calendar=False)
    t = np.full(3, 10 * 3600 * 10**9, dtype=np.int64)
    with pytest.raises(ValueError, match=r"`prices\[1\]` must be a finite number, got nan"):
        td.feed(t, [0, 1, 2], [199_400.0, np.nan, 1.0])
    with pytest.raises(TypeError, match=r"`code` must be a stock code string such as 'AAPL' or '005930', got 1.5"):
        td.halt(1.5)  # was silently truncated to id 1
    with pytest.raises(TypeError, match=r"`id` must be an integer stock id.*got 1.5"):
        td.halt(id=1.5)
    with pytest.raises(TypeError, match=r"got the integer 660: an integer is ambiguous"):
        td.halt(660)
    with pytest.raises(TypeError, match=r"exactly one"):
        td.halt("005930", id=0)
    assert td.halted == ()
    assert e.level == e.recompute()
    assert td._last_time == -1 and td.counts == {}  # the rejected batch left the day untouched


# ---------------------------------------------------------------- dates: one grammar everywhere
GOOD_DATES = ["2026-03-10", "20260310", "2026/03/10", "2026.03.10", "2026-03-10 00:00:00"]
BAD_DATES = [("2026-3-10", ValueError), ("10/03/2026", ValueError), ("2026-02-30", ValueError),
             ("", ValueError), (20260310, TypeError), (b"2026-03-10", TypeError)]


def _date_entry_points():
    """Public entry points that take a date, each as f(date) -> the ISO date it understood."""
    from kospi_fast import _validation, krx

    points = {
        "as_date": lambda d: _validation.as_date(d).isoformat(),
        "krx.tick_table": lambda d: (krx.tick_table(d), _validation.iso_date(d))[1],
    }
    try:
        from kospi_fast import distributed as kd

        points["distributed.DaySpec"] = lambda d: kd.DaySpec(d, "x.parquet", b"x").date
    except ImportError:  # pragma: no cover
        pass
    try:
        import pandas as pd

        from kospi_fast import io

        frame = pd.DataFrame({"Date": ["2026-03-10"], "Code": ["005930"], "Close": [70_000], "Stocks": [10],
                              "InKOSPIIndex": [1]})
        points["io.universe_from_fdr"] = lambda d: io.universe_from_fdr(frame, date=d).date
    except ImportError:
        pass
    return points


@pytest.mark.parametrize("name", sorted(_date_entry_points()))
def test_dates_one_grammar(name):
    f = _date_entry_points()[name]
    for good in GOOD_DATES:
        assert f(good) == "2026-03-10", (name, good)
    for bad, exc in BAD_DATES:
        with pytest.raises(exc, match="`date`"):
            f(bad)


# ---------------------------------------------------------------- input files and tables (issue 12, part A)
S_NS = 10**9
H_NS = 3600 * S_NS
MIDNIGHT_UTC_0323 = 1_774_191_600 * S_NS  # 2026-03-23 00:00 KST, as UTC epoch ns


def _tick_csv(tmp_path, times, name="t.csv"):
    path = tmp_path / name
    path.write_text("time,code,price\n" + "".join(f"{t},005930,199400\n" for t in times), encoding="utf-8")
    return path


def _input_cases():
    """(name, make(tmp_path, sample) -> zero-argument call, exception, message regex): each a bad
    input that was silently accepted, refused unclearly, or is new with the time and membership
    options. The message must name the file and line (or the argument) and the way out."""
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from kospi_fast import eod, io

    clock = [9 * H_NS, 10 * H_NS, 11 * H_NS, 15 * H_NS]
    listing = pd.DataFrame({"Code": ["005930", "000660", "005935"], "Name": list("abc"), "Close": [7, 8, 9],
                            "Stocks": [1, 2, 3]})

    def naive_utc(tmp, u):
        path = tmp / "naive.parquet"
        arr = pa.array([t + MIDNIGHT_UTC_0323 for t in clock], pa.int64()).view(pa.timestamp("ns"))
        pq.write_table(pa.table({"time": arr, "code": ["005930"] * 4, "price": [199400] * 4}), path)
        return lambda: io.read_ticks(path, u)

    def file_with(name, data):
        def make(tmp, u):
            path = tmp / name
            path.write_bytes(data)
            return path
        return make

    def dated_members(tmp, u):
        m = pd.DataFrame({"Date": ["2026-03-19", "2026-03-20"], "종목코드": ["005930", "005930"],
                          "종가": [7, 7], "상장시가총액": [7, 7]})
        return lambda: io.universe_from_fdr(listing, members=m)

    def k200_like(tmp, u):
        days = eod.read_eod_csv(pd.DataFrame({
            "Date": ["2026-03-19", "2026-03-20"], "Code": ["005930"] * 2, "Name": ["a"] * 2, "Close": [100, 101],
            "Changes": [0, 1], "Stocks": [10, 10], "InKOSPIIndex": [1, 1]}))
        pub = eod.PublishedCloses({"2026-03-19": 1000.0, "2026-03-20": 1010.0}, {"2026-03-19": 500}, "k200.csv")
        return lambda: eod.verify(days, pub)

    return [
        ("epoch-ms integers", lambda tmp, u: (lambda: io.read_ticks(
            _tick_csv(tmp, [(t + MIDNIGHT_UTC_0323) // 10**6 for t in clock]), u)),
         ValueError, r"t.csv: tick row 0 \(line 2\): .*not a KRX trade time.*time_format='epoch-ms'"),
        ("epoch-ns integers", lambda tmp, u: (lambda: io.read_ticks(
            _tick_csv(tmp, [t + MIDNIGHT_UTC_0323 for t in clock]), u)),
         ValueError, r"t.csv: tick row 0 \(line 2\): an integer time .*time_format='epoch-ns'"),
        ("KRX HHMMSSfff integers", lambda tmp, u: (lambda: io.read_ticks(
            _tick_csv(tmp, ["090000000", "100000000", "110000000", "150000000"]), u)),
         ValueError, r"line 2\).*time_format='krx-hhmmssfff'"),
        ("naive UTC timestamps", naive_utc, ValueError, r"naive.parquet: tick row 0: .*tz='UTC'"),
        ("ticks mostly before the open", lambda tmp, u: (lambda: io.read_ticks(
            _tick_csv(tmp, [7 * H_NS, 8 * H_NS, 8 * H_NS + 1, 9 * H_NS]), u)),
         ValueError, r"t.csv: only 1 of 4 ticks \(25.0%\) fall inside the session"),
        ("unknown time_format", lambda tmp, u: (lambda: io.read_ticks(_tick_csv(tmp, clock), u, time_format="ms")),
         ValueError, r"`time_format` must be one of .*got 'ms'"),
        ("unknown tz", lambda tmp, u: (lambda: io.read_ticks(_tick_csv(tmp, clock), u, tz="KST+9")),
         ValueError, r"`tz` is not a time zone name .*'KST\+9'"),
        ("a list as a tick table", lambda tmp, u: (lambda: io.read_ticks([[1, 2]], u)),
         TypeError, r"`source` must be .*__arrow_c_stream__.*got list"),
        ("FDR listing without membership", lambda tmp, u: (lambda: io.universe_from_fdr(listing)),
         ValueError, r"DataFrame: the FinanceDataReader .* says nothing of index membership.*members="),
        ("pykrx frame without members", lambda tmp, u: (lambda: io.universe_from_pykrx(pd.DataFrame(
            {"종가": [7], "상장주식수": [1]}, index=pd.Index(["005930"], name="티커")))),
         ValueError, r"the pykrx get_market_cap table says nothing of index membership"),
        ("members as a boolean mask", lambda tmp, u: (lambda: io.universe_from_fdr(
            listing, members=np.array([True, False, True]))), TypeError, r"`members` must be codes"),
        ("dated members without a date", dated_members, ValueError, r"holds the members of 2 days"),
        ("garbage Parquet universe", lambda tmp, u: (lambda: io.load_universe(
            file_with("garbage.parquet", b"PAR0 nonsense")(tmp, u))),
         ValueError, r"garbage.parquet: not a readable Parquet file"),
        ("ragged EOD CSV", lambda tmp, u: (lambda: io.universe_from_fdr(file_with(
            "ragged.csv", b"Code,Close,Stocks,InKOSPIIndex\n005930,7,1,1\n000660,8,2,1,9,9\n")(tmp, u))),
         ValueError, r"ragged.csv: .*line 3"),
        ("EOD CSV in neither UTF-8 nor CP949", lambda tmp, u: (lambda: io.load_universe(file_with(
            "bin.csv", b"Code,Close\n\xff\xfe\xff,\x80\x80\n")(tmp, u))),
         ValueError, r"bin.csv: neither UTF-8 nor CP949 text"),
        ("header-only index file", lambda tmp, u: (lambda: eod.verify(
            eod.read_eod_csv(pd.DataFrame({"Date": ["2026-03-19", "2026-03-20"], "Code": ["005930"] * 2,
                                           "Name": ["a"] * 2, "Close": [100, 101], "Changes": [0, 1],
                                           "Stocks": [10, 10], "InKOSPIIndex": [1, 1]})),
            eod.read_published(file_with("idx.csv", b"Date,Close\n")(tmp, u)))),
         ValueError, r"idx.csv: no published index close for 2026-03-19 \(the series is empty\)"),
        ("another index's series (cap below the members')", k200_like, ValueError,
         r"k200.csv: not the KOSPI series: its market cap on 2026-03-19 is 500 won"),
    ]


@pytest.mark.parametrize("case", range(17))
def test_input_files_and_tables_bad(tmp_path, sample, case):
    name, make, exc, msg = _input_cases()[case]
    call = make(tmp_path, sample)
    with pytest.raises(exc, match=msg):
        call()


def test_input_cases_all_run():
    assert len(_input_cases()) == 17


def test_refused_tick_file_changes_nothing(tmp_path, sample):
    from kospi_fast import io

    path = _tick_csv(tmp_path, [(t + MIDNIGHT_UTC_0323) // 10**6 for t in (9 * H_NS, 10 * H_NS)])
    e = kf.IndexEngine(sample, level=5781.2)
    before = _state(e)
    with pytest.raises(ValueError, match="epoch-ms"):
        io.replay_file(path, e)
    assert _state(e) == before
# ---------------------------------------------------------------- the issue-12 catalogue (part B)
# Every case: a bad input a user can hand over, the documented exception type, a message that
# names the argument and the value (or the file), and the book left exactly as it was (0
# silently accepted, 0 unclear, 0 crashes, 0 half-applied).
def _book_state(book):
    if book is None:
        return None
    st = book.to_state()
    return (st.prices.tobytes(), st.reference_prices.tobytes(), st.index_shares.tobytes(), st.divisors.tobytes(),
            st.previous_levels.tobytes(), st.listed.tobytes(), len(st.audit), len(st.dividends), st.price_band,
            np.asarray(book.levels).tobytes())


def _engine():
    return kf.IndexEngine(kf.sample_universe(), level=5781.2)


def _family():
    return kf.IndexFamily.kospi(kf.sample_universe(), levels={"KOSPI": 5781.2})


def _huge_family():
    u = kf.Universe([f"00000{i}" for i in range(1, 6)], list("ABCDE"), [2**62] * 5, [1] * 5)
    return kf.IndexFamily(u, [kf.IndexDefinition("X", list(u.codes))])


def _halt_new_listing():
    from kospi_fast.events import NewListing
    from kospi_fast.session import TradingDay

    e = _engine()
    td = TradingDay(e, "2026-03-24", policy="reject", check_calendar=False)
    e.apply_events([NewListing("900001", shares=10, close=10_000)])
    td.halt("900001")  # a stock listed after the day was made: halted, not an IndexError
    assert td.halted == ("900001",)
    return td.feed([10 * 3600 * 10**9], [len(e.universe) - 1], [10_000])


CATALOGUE = {
    # name: (make the book or None, the call on it, exception, message regex)
    "update-int-that-may-be-a-code": (_engine, lambda e: e.update(660, 1_007_000), TypeError,
                                      r"got the integer 660: an integer is ambiguous.*'000660'"),
    "update-id-fat-finger": (_engine, lambda e: e.update_id(0, 1_994_000), ValueError,
                             r"`price` = 1,994,000 for stock '005930' \(id 0\) is outside its price band"),
    "update-many-fat-finger": (_engine, lambda e: e.update_many([1, 0], [int(e.prices[1]), 1_994_000]), ValueError,
                               r"`prices\[1\]` = 1,994,000 for stock '005930'"),
    "family-fat-finger": (_family, lambda f: f.update("005930", 1_994_000), ValueError, r"outside its price band"),
    "update-many-codes": (_engine, lambda e: e.update_many(np.array(["005930"]), [199_400]), TypeError,
                          r"`ids` must be an integer array of ids, got dtype <U6; stock codes\? .*ids_of"),
    "roll-an-int": (_engine, lambda e: e.roll(5), TypeError, r"`events` must be a sequence of .*Event, got 5"),
    "rebalance-a-list": (_family, lambda f: f.rebalance([f.definitions[0]]), TypeError,
                         r"`changes` must be a mapping of index name -> IndexDefinition"),
    "events-date-unstorable": (_engine, lambda e: e.apply_events([kf.events.AdditionalListing("005930", 10)],
                                                                 date=object()), TypeError, r"`date`: cannot persist"),
    "events-reason-unstorable": (_engine, lambda e: e.apply_events([kf.events.AdditionalListing(
        "005930", 10, reason=object())]), TypeError, r"`events\[0\]`.reason: cannot persist"),
    "events-unhashable": (_engine, lambda e: e.apply_events([kf.events.Split("005930", 10, effective=[1])]),
                          TypeError, r"`events\[0\]` holds an unhashable value"),
    "family-shares-beyond-int64": (None, lambda _: _huge_family(), ValueError,
                                   r"`prices` would overflow the int64 aggregate cap of index 'X': Σ price × shares "
                                   r"would be 23058430092136939520"),
    "engine-base-cap-underflow": (None, lambda _: kf.IndexEngine(kf.sample_universe(), base_cap=5e-324), ValueError,
                                  r"`base_cap` = 5e-324 gives a divisor of 0.0"),
    "engine-level-beyond-float": (None, lambda _: kf.IndexEngine(kf.sample_universe(), level=10**400), ValueError,
                                  r"`level` must be a finite number > 0 \(within float64\)"),
    "rebase-cap-beyond-float": (None, lambda _: kf.rebase_divisor(1.0, 10**400, 1), ValueError,
                                r"`cap_before` must be a finite number > 0 \(within float64\), got 1000"),
    "rebase-result-overflows": (None, lambda _: kf.rebase_divisor(1e308, 1, 1e300), ValueError,
                                r"`divisor` × `cap_after` / `cap_before` = 1e\+308 × 1e\+300 / 1 is out of the float64"),
    "trading-day-limit-rate": (None, lambda _: kf.TradingDay(_engine(), "2026-03-24", limit_rate=-1,
                                                             check_calendar=False), ValueError,
                               r"`limit_rate` must be a finite number > 0, got -1"),
    "halt-by-int": (None, lambda _: kf.TradingDay(_engine(), "2026-03-24", check_calendar=False).halt(3), TypeError,
                    r"got the integer 3: an integer is ambiguous"),
    "price-band-rate": (None, lambda _: kf.IndexEngine(kf.sample_universe(), price_band=-0.3), ValueError,
                        r"`price_band` must be > 0, got -0.3"),
}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_issue12_catalogue(name):
    make, call, exc, msg = CATALOGUE[name]
    book = make() if make is not None else None
    before = _book_state(book)
    with pytest.raises(exc, match=msg):
        call(book)
    assert _book_state(book) == before


def test_halt_of_a_stock_listed_during_the_day():
    res = _halt_new_listing()
    assert res.status.tolist() == [6]  # stock halted


@pytest.mark.parametrize("content,suffix,msg", [
    (b"garbage, not parquet", ".parquet", r"not a readable Parquet file: Parquet magic bytes"),
    (b"Date,Code,Name,Close,Stocks\n2026-03-20,005930,A,100,5\n2026-03-20,000660,B,100,5,7,8\n", ".csv",
     r"eod.csv: .*line 3"),
])
def test_loader_errors_name_the_file(tmp_path, content, suffix, msg):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from kospi_fast import io

    path = tmp_path / f"eod{suffix}"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=msg) as info:
        io.load_universe(path) if suffix == ".parquet" else io.universe_from_fdr(path)
    assert str(path) in str(info.value)
    with pytest.raises(TypeError, match=r"got dict"):
        io.load_universe({"Code": ["005930"]})
