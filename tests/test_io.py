"""kospi_fast.io: universes from FinanceDataReader / pykrx / KRX tables, tick files in and out,
the publication grid and streamed replay."""

from __future__ import annotations

import csv
import importlib
import sys

import numpy as np
import pytest

import kospi_fast as kf
from conftest import shared_path

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
io = importlib.import_module("kospi_fast.io")

EOD = "kospi_stocks_eod_20260309_20260320.csv"
CONSTITUENTS = "kospi_index_constituents_1001_20260309_20260320.csv"


# --------------------------------------------------------------------------- layouts
def fdr_frame():
    return pd.DataFrame({
        "Code": ["005930", 660, "005935", "A005380"],
        "ISU_CD": ["KR7005930003", "KR7000660001", "KR7005931001", "KR7005380001"],
        "Name": ["삼성전자", "SK하이닉스", "삼성전자우", "현대차"],
        "Market": ["KOSPI"] * 4,
        "Close": [173500, 836000, 121500, 507000],
        "Changes": [-14700, -88000, -6500, -46000],
        "Stocks": [5919637922, 712702365, 815974664, 204757766],
        "Marcap": [173500 * 5919637922, 836000 * 712702365, 121500 * 815974664, 507000 * 204757766],
        "InKOSPIIndex": [1, 1, 0, 1],
    })


def pykrx_frame():
    df = pd.DataFrame({
        "종가": [173500, 836000, 121500],
        "시가총액": [173500 * 5919637922, 836000 * 712702365, 121500 * 815974664],
        "거래량": [43066020, 7253621, 4746009],
        "거래대금": [7376525851300, 6026259948840, 561663942650],
        "상장주식수": [5919637922, 712702365, 815974664],
    }, index=pd.Index(["005930", "000660", "005935"], name="티커"))
    return df


def krx_frame():
    return pd.DataFrame({
        "종목코드": ["005930", "000660", "005380"],
        "종목명": ["삼성전자", "SK하이닉스", "현대차"],
        "종가": [173500, 836000, 507000],
        "대비": [-14700, -88000, -46000],
        "등락률": [-7.81, -9.52, -8.32],
        "상장시가총액": [173500 * 5919637922, 836000 * 712702365, 507000 * 204757766],
    })


def test_fdr_frame_codes_members_and_bases():
    lu = io.universe_from_fdr(fdr_frame())
    u = lu.universe
    assert u.codes == ("005930", "000660", "005935", "005380")  # ints zero-filled, 'A' prefix dropped
    assert u.names[1] == "SK하이닉스"
    assert lu.members.tolist() == [True, True, False, True]
    assert u.base_prices.tolist() == [173500, 836000, 121500, 507000]  # the day's Close
    assert lu.previous.tolist() == [188200, 924000, 128000, 553000]  # Close - Changes
    assert lu.layout == "fdr" and lu.date is None and lu.source == "DataFrame"
    assert lu.member_cap() == 173500 * 5919637922 + 836000 * 712702365 + 507000 * 204757766
    prev = io.universe_from_fdr(fdr_frame(), base="previous")
    assert prev.universe.base_prices.tolist() == lu.previous.tolist()
    only = io.universe_from_fdr(fdr_frame(), members_only=True)
    assert only.universe.codes == ("005930", "000660", "005380") and only.members.all()
    e = lu.engine(level=5251.87)
    assert e.level == pytest.approx(5251.87, rel=1e-15)
    assert e.index_shares[2] == 0  # the preferred share is not a member


def test_fdr_members_argument_and_market_filter():
    df = fdr_frame()
    df.loc[3, "Market"] = "KOSDAQ"
    with pytest.raises(ValueError, match=r"DataFrame: the FinanceDataReader StockListing\('KRX'\) table says nothing "
                                         r"of index membership.*members='all'"):
        io.universe_from_fdr(df.drop(columns="InKOSPIIndex"))  # no flag: never every row in silence
    lu = io.universe_from_fdr(df.drop(columns="InKOSPIIndex"), members="all")
    assert lu.universe.codes == ("005930", "000660", "005935") and lu.members.all()
    lu = io.universe_from_fdr(df, market=None, members=["5930", "005380"])
    assert lu.member_codes == ("005930", "005380")
    with pytest.raises(ValueError, match=r"not in the table.*'123456'"):
        io.universe_from_fdr(df, members=["123456"])
    with pytest.raises(ValueError, match="no rows with Market == 'KONEX'"):
        io.universe_from_fdr(df, market="KONEX")


def test_fdr_dates():
    a, b = fdr_frame(), fdr_frame()
    a.insert(0, "Date", "2026-03-19")
    b.insert(0, "Date", "20260320")
    b["Close"] = b["Close"] + 100
    b["Marcap"] = b["Close"] * b["Stocks"]
    both = pd.concat([a, b], ignore_index=True)
    with pytest.raises(ValueError, match=r"holds 2 dates \(2026-03-19 \.\. 2026-03-20\); pass `date=`"):
        io.universe_from_fdr(both)
    lu = io.universe_from_fdr(both, date="2026-03-20")
    assert lu.date == "2026-03-20" and lu.universe.base_prices[0] == 173600
    import datetime

    assert io.universe_from_fdr(both, date=datetime.date(2026, 3, 19)).universe.base_prices[0] == 173500
    assert io.universe_from_fdr(both, date="last").date == "2026-03-20"
    with pytest.raises(ValueError, match="no rows dated 2026-03-18"):
        io.universe_from_fdr(both, date="2026-03-18")


def test_fdr_wrong_column_names():
    df = fdr_frame().rename(columns={"Stocks": "Shares"})
    with pytest.raises(ValueError, match=r"missing column 'Stocks' .*of the FinanceDataReader .*'Shares'"):
        io.universe_from_fdr(df)


def test_fdr_csv_errors_name_the_line(tmp_path):
    df = fdr_frame()
    path = tmp_path / "eod.csv"
    df.to_csv(path, index=False)
    lu = io.universe_from_fdr(path)
    assert lu.universe.codes[1] == "000660" and lu.source == str(path)
    bad = df.astype({"Close": object})
    bad.loc[2, "Close"] = "12a00"
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"eod.csv: line 4: column 'Close' is not a number: '12a00'"):
        io.universe_from_fdr(path)
    bad.loc[2, "Close"] = ""
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"line 4: column 'Close' has no value"):
        io.universe_from_fdr(path)
    bad.loc[2, "Close"] = "121500.5"
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"line 4: column 'Close' must be a whole number"):
        io.universe_from_fdr(path)
    dup = df.copy()
    dup.loc[3, "Code"] = "000660"
    dup.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"line 5: duplicate code '000660' \(first at .*line 3\)"):
        io.universe_from_fdr(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        io.universe_from_fdr(tmp_path / "missing.csv")


def test_fdr_frame_errors_name_the_row():
    df = fdr_frame()
    df["Stocks"] = df["Stocks"].astype(object)
    df.loc[1, "Stocks"] = "many"
    with pytest.raises(ValueError, match=r"DataFrame: row 1: column 'Stocks' is not a number: 'many'"):
        io.universe_from_fdr(df)
    df = fdr_frame()
    df.loc[0, "Close"] = 0
    with pytest.raises(ValueError, match=r"row 0: column 'Close' must be > 0, got 0"):
        io.universe_from_fdr(df, check_marcap=False)
    df = fdr_frame()
    df.loc[2, "Marcap"] += 1
    with pytest.raises(ValueError, match=r"row 2: Marcap = .* but Close × Stocks"):
        io.universe_from_fdr(df)
    df = fdr_frame()
    df.loc[1, "Code"] = "12345678"
    with pytest.raises(ValueError, match=r"row 1: column 'Code' is not a 6-character KRX code"):
        io.universe_from_fdr(df)
    df = fdr_frame()
    df.loc[1, "InKOSPIIndex"] = 2
    with pytest.raises(ValueError, match=r"row 1: column 'InKOSPIIndex' must be 0 or 1"):
        io.universe_from_fdr(df)
    with pytest.raises(TypeError, match=r"DataFrame \(pandas, polars or any Arrow stream\) or a path .*got int"):
        io.universe_from_fdr(42)
    df = fdr_frame().set_index(pd.Index(list("abcd")))
    df.loc["c", "Close"] = -1
    with pytest.raises(ValueError, match=r"row 2 \(index 'c'\): column 'Close' must be > 0"):
        io.universe_from_fdr(df, check_marcap=False)


def test_pykrx_layout(tmp_path):
    lu = io.universe_from_pykrx(pykrx_frame(), names={"005930": "삼성전자"}, members=["005930", "000660"])
    assert lu.universe.codes == ("005930", "000660", "005935")
    assert lu.universe.names == ("삼성전자", "000660", "005935")  # no names in the layout: the code
    assert lu.universe.shares.tolist() == [5919637922, 712702365, 815974664]
    assert lu.members.tolist() == [True, True, False] and lu.previous is None
    path = tmp_path / "cap.csv"
    pykrx_frame().to_csv(path)  # the ticker becomes the first column
    again = io.universe_from_pykrx(path, date="2026-03-09", members=["005930", "000660"])
    assert again.universe.codes == lu.universe.codes and again.date == "2026-03-09"
    assert io.load_universe(path, members="all").layout == "pykrx"
    int_index = pykrx_frame()
    int_index.index = pd.Index([5930, 660, 5935], name="티커")
    assert io.universe_from_pykrx(int_index, members="all").universe.codes == lu.universe.codes
    with pytest.raises(ValueError, match=r"DataFrame: the pykrx get_market_cap table says nothing of index membership"):
        io.universe_from_pykrx(pykrx_frame())


def test_pykrx_errors():
    with pytest.raises(ValueError, match=r"missing column '상장주식수' of the pykrx"):
        io.universe_from_pykrx(pykrx_frame().drop(columns="상장주식수"))
    df = pykrx_frame()
    df["종가"] = df["종가"].astype(object)
    df.iloc[1, 0] = "n/a"
    with pytest.raises(ValueError, match=r"row 1 .*column '종가' is not a number: 'n/a'"):
        io.universe_from_pykrx(df, members="all")
    df = pykrx_frame()
    df.iloc[2, 1] = 1
    with pytest.raises(ValueError, match=r"row 2 .*시가총액 = 1 but 종가 × 상장주식수"):
        io.universe_from_pykrx(df, members="all")
    hist = pykrx_frame().set_index(pd.date_range("2026-03-09", periods=3))
    with pytest.raises(ValueError, match="indexed by date"):
        io.universe_from_pykrx(hist)


def test_krx_constituents_layout(tmp_path):
    lu = io.universe_from_krx_constituents(krx_frame())
    assert lu.universe.shares.tolist() == [5919637922, 712702365, 204757766]  # cap / close
    assert lu.members.all() and lu.layout == "krx_constituents"
    assert lu.previous.tolist() == [188200, 924000, 553000]
    path = tmp_path / "krx.csv"
    krx_frame().to_csv(path, index=False, encoding="cp949")  # KRX downloads are CP949
    again = io.load_universe(path, base="previous")
    assert again.universe.names[0] == "삼성전자" and again.universe.base_prices[0] == 188200
    bad = krx_frame()
    bad.loc[1, "상장시가총액"] += 7
    with pytest.raises(ValueError, match=r"row 1: 상장시가총액 .* is not a multiple of 종가 836000: cannot derive"):
        io.universe_from_krx_constituents(bad)
    with pytest.raises(ValueError, match=r"missing column '상장시가총액'"):
        io.universe_from_krx_constituents(krx_frame().rename(columns={"상장시가총액": "시가총액"}))
    with pytest.raises(FileNotFoundError):
        io.universe_from_krx_constituents(tmp_path / "nope.csv")


def test_layout_detection():
    assert io.detect_layout(fdr_frame().columns) == "fdr"
    assert io.detect_layout(list(pykrx_frame().columns) + ["티커"]) == "pykrx"
    assert io.detect_layout(krx_frame().columns) == "krx_constituents"
    with pytest.raises(ValueError, match="cannot tell the layout"):
        io.detect_layout(["a", "b"])
    assert io.load_universe(fdr_frame()).layout == "fdr"
    assert io.load_universe(pykrx_frame(), members="all").layout == "pykrx"


def test_universe_round_trip(tmp_path, sample):
    for name in ("u.csv", "u.parquet"):
        path = io.write_universe(sample, tmp_path / name, date="2026-03-20")
        lu = io.universe_from_fdr(path)
        u = lu.universe
        assert u.codes == sample.codes and u.names == sample.names and u.sectors == sample.sectors
        assert np.array_equal(u.shares, sample.shares) and np.array_equal(u.base_prices, sample.base_prices)
        assert lu.date == "2026-03-20" and lu.members.all()


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'kospi-fast\[io\]'"):
        io.universe_from_fdr("x.csv")


# --------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_fdr_eod_one_day():
    path = shared_path("data", EOD)
    date = "2026-03-20"
    lu = io.universe_from_fdr(path, date=date)
    expected = 0
    n = 0
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["Date"] == date and r["InKOSPIIndex"] == "1":
                expected += int(r["Close"]) * int(r["Stocks"])
                n += 1
    assert n == 837
    assert lu.n_members == 837 and len(lu) == 951
    assert lu.member_cap() == expected
    assert lu.universe.index_of("005930") == lu.universe.codes.index("005930")
    assert all(len(c) == 6 for c in lu.universe.codes)
    only = io.universe_from_fdr(path, date=date, members_only=True)
    assert len(only) == 837 and only.universe.base_cap_won() == expected


@pytest.mark.realdata
def test_real_constituents_agree_with_fdr():
    date = "2026-03-13"
    fdr = io.universe_from_fdr(shared_path("data", EOD), date=date)
    krx = io.universe_from_krx_constituents(shared_path("data", CONSTITUENTS), date=date)
    assert len(krx) == 837 and krx.member_cap() == fdr.member_cap()
    by_members = io.universe_from_fdr(shared_path("data", EOD), date=date, members=krx)
    assert np.array_equal(by_members.members, fdr.members)
    at = fdr.universe.ids_of(krx.universe.codes)
    assert np.array_equal(krx.universe.shares, fdr.universe.shares[at])
    assert np.array_equal(krx.previous, fdr.previous[at])  # 종가 − 대비 == Close − Changes


# --------------------------------------------------------------------------- ticks
@pytest.fixture(scope="module")
def day():
    return kf.simulate_day(kf.sample_universe(), 20_000, seed=5)


@pytest.mark.parametrize("suffix", ["parquet", "csv", "arrow"])
@pytest.mark.parametrize("time", ["ns", "timestamp"])
def test_write_read_ticks_round_trip(tmp_path, day, suffix, time):
    path = io.write_ticks(day, tmp_path / f"day.{suffix}", time=time, batch_size=3_000)
    batches = list(io.iter_ticks(path, day.universe, batch_size=2_500))
    assert all(len(b) <= 2_500 for b in batches)
    assert [b.offset for b in batches] == list(np.cumsum([0] + [len(b) for b in batches[:-1]]))
    got = io.read_ticks(path, day.universe)
    assert got.ids.dtype == np.int32 and got.times.dtype == np.int64 and got.prices.dtype == np.int64
    assert np.array_equal(got.times, day.times)
    assert np.array_equal(got.ids, day.ids)
    assert np.array_equal(got.prices, day.prices)
    assert io.count_ticks(path) == (None if suffix == "csv" else len(day))


def test_tick_volume_and_sources(tmp_path, day):
    vol = np.arange(len(day)) % 7 + 1
    path = io.write_ticks(day, tmp_path / "v.parquet", volume=vol)
    assert np.array_equal(io.read_ticks(path, day.universe).volumes, vol)
    table = pa.table({"Time": day.times, "Code": np.array(day.universe.codes)[day.ids], "Price": day.prices})
    got = io.read_ticks(table, day.universe)
    assert np.array_equal(got.ids, day.ids)
    got = io.read_ticks(table.to_pandas(), day.universe, batch_size=999)
    assert np.array_equal(got.prices, day.prices)
    stream = tmp_path / "s.arrows"
    with pa.OSFile(str(stream), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table, max_chunksize=4096)
    assert np.array_equal(io.read_ticks(stream, day.universe).times, day.times)
    assert io.count_ticks(stream) is None


T0 = 32400 * 10**9  # 09:00:00 KST


def test_tick_text_times_and_integer_codes(tmp_path, sample):
    path = tmp_path / "t.csv"
    path.write_text("time,code,price\n09:00:00,5930,199400\n09:00:00.5,000660,1007000\n"
                    "09:00:01.123456789,5930,199500\n", encoding="utf-8")
    t = io.read_ticks(path, sample)
    assert t.times.tolist() == [32400 * 10**9, 32400 * 10**9 + 5 * 10**8, 32401 * 10**9 + 123456789]
    assert [sample.codes[i] for i in t.ids] == ["005930", "000660", "005930"]
    path.write_text("time,code,price\n2026-03-23T09:00:00+09:00,005930,199400\n"
                    "2026-03-23T00:00:01Z,005930,199500\n", encoding="utf-8")
    assert io.read_ticks(path, sample).times.tolist() == [32400 * 10**9, 32401 * 10**9]
    ints = pa.table({"time": [T0, T0 + 1], "code": pa.array([5930, 660], pa.int64()), "price": [199400, 1007000]})
    assert io.read_ticks(ints, sample).ids.tolist() == [sample.index_of("005930"), sample.index_of("000660")]


def test_tick_errors_name_row_and_value(tmp_path, sample):
    path = tmp_path / "bad.csv"

    def write(rows):
        path.write_text("time,code,price\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")

    write(["32400000000000,005930,199400", "32400000000001,999999,100"])
    with pytest.raises(KeyError, match=r"bad.csv: tick row 1 \(line 3\): unknown stock code '999999'"):
        io.read_ticks(path, sample)
    write(["32400000000000,005930,199400", "32400000000001,005930,-5"])
    with pytest.raises(ValueError, match=r"tick row 1 \(line 3\): price must be > 0, got -5"):
        io.read_ticks(path, sample)
    write(["32400000000000,005930,199400"] * 3 + ["32400000000001,005930,abc"])
    with pytest.raises(ValueError, match=r"bad.csv: tick row 3 \(line 5\): price is not a number: 'abc'"):
        io.read_ticks(path, sample)
    write(["32400000000005,005930,199400", "32400000000001,005930,199500"])
    with pytest.raises(ValueError, match=r"tick row 1 \(line 3\): ticks must be in time order"):
        io.read_ticks(path, sample)
    write(["32400000000000,005930,199400.5"])
    with pytest.raises(ValueError, match=r"tick row 0 \(line 2\): price must be a whole number"):
        io.read_ticks(path, sample)
    write(["99999999999999999,005930,199400"])
    with pytest.raises(ValueError, match=r"tick row 0 .*ns since midnight KST"):
        io.read_ticks(path, sample)
    write(["9 o'clock,005930,199400"])
    with pytest.raises(ValueError, match=r"tick row 0 .*not a time of day .*\"9 o'clock\""):
        io.read_ticks(path, sample)
    path.write_text(f"when,code,price\n{T0},005930,199400\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing tick column 'time'.*'when'"):
        io.read_ticks(path, sample)
    assert len(io.read_ticks(path, sample, columns={"time": "when"})) == 1
    with pytest.raises(FileNotFoundError, match="no such tick file"):
        io.read_ticks(tmp_path / "none.parquet", sample)
    with pytest.raises(ValueError, match="cannot tell the format"):
        io.read_ticks(tmp_path / "x.xlsx", sample)
    strings = pa.table({"time": [T0], "code": ["005930"], "price": [b"199400"]})
    with pytest.raises(TypeError, match="price column must be numeric"):
        io.read_ticks(strings, sample)
    assert io.read_ticks(pa.table({"time": [T0], "code": ["005930"], "price": ["199400"]}), sample).prices[0] == 199400
    nulls = pa.table({"time": [T0, T0 + 1], "code": ["005930", None], "price": [199400, 199400]})
    with pytest.raises(ValueError, match="table: tick row 1: missing stock code"):
        io.read_ticks(nulls, sample)
    parquet = tmp_path / "u.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"time": [T0, T0 + 1], "code": pa.array(["005930", "ZZZZZZ"]).dictionary_encode(),
                             "price": [1, 2]}), parquet)
    with pytest.raises(KeyError, match=r"u.parquet: tick row 1: unknown stock code 'ZZZZZZ'"):
        io.read_ticks(parquet, sample)


# --------------------------------------------------------------------------- grid and replay
def test_publication_grid_and_steps():
    g = io.publication_times()
    assert io.format_clock(g[0]) == "09:00:10" and io.format_clock(g[-1]) == "15:30:00"
    assert np.all(np.diff(g) == 10 * 10**9) and len(g) == 2340
    assert len(io.publication_times("1s")) == 23391
    assert io.parse_step("tick") is None and io.parse_step("500ms") == 5 * 10**8 and io.parse_step(2) == 2 * 10**9
    assert io.parse_clock("9:00") == 32400 * 10**9
    assert io.format_clock(32400 * 10**9 + 1, digits=9).endswith(".000000001")
    for bad in ("0s", "ten seconds", -1):
        with pytest.raises(ValueError):
            io.parse_step(bad)
    with pytest.raises(ValueError):
        io.parse_clock("25:00")


def reference_grid(times, levels, grid, start):
    pos = np.searchsorted(times, grid, side="right") - 1
    return np.where(pos >= 0, levels[np.maximum(pos, 0)], start)


@pytest.mark.parametrize("batch", [1, 777, 10**6])
def test_replay_batches_match_replay_and_grid(day, batch):
    u = day.universe
    engine = kf.IndexEngine(u, level=5781.20)
    ref = kf.replay(u.shares, u.base_prices, engine.divisor, day.ids, day.prices)
    start = engine.level
    res = io.replay_batches(io.batches_from_arrays(day.times, day.ids, day.prices, batch_size=batch), engine)
    grid = io.publication_times()
    assert np.array_equal(res.grid_times, grid)
    assert np.array_equal(res.grid_levels, reference_grid(day.times, ref, grid, start))
    assert res.close == ref[-1] == engine.level and res.exact
    assert res.high == ref.max() and res.low == ref.min()
    assert res.high_time == day.times[np.argmax(ref)]
    n_open = np.searchsorted(day.times, day.times[0], side="right")
    assert res.open == ref[n_open - 1] and res.open_time == day.times[0]
    assert res.points.sum() == pytest.approx(res.close - res.previous_close, abs=1e-6)
    assert res.top_contributors(1)[0]["code"] == u.codes[np.argmax(np.abs(res.points))]
    assert sum(res.breadth()) == len(u)
    assert sum(res.sector_points().values()) == pytest.approx(res.change, abs=1e-6)
    ticks = io.replay_batches(io.batches_from_arrays(day.times, day.ids, day.prices, batch_size=batch),
                              kf.IndexEngine(u, level=5781.20), grid="tick", keep_ticks=True)
    assert np.array_equal(ticks.grid_levels, ref) and np.array_equal(ticks.grid_times, day.times)


def test_grid_extends_to_late_ticks_and_covers_empty_start(sample):
    e = kf.IndexEngine(sample, level=100.0)
    s = 10**9
    times = np.array([9 * 3600 * s + 15 * s, 15 * 3600 * s + 1800 * s + 25 * s])  # 09:00:15, 15:30:25
    ids = np.array([0, 0], dtype=np.int32)
    prices = sample.base_prices[[0, 0]] + np.array([100, 200])
    res = io.replay_batches(io.batches_from_arrays(times, ids, prices), e, grid="10s")
    assert io.format_clock(res.grid_times[-1]) == "15:30:30"
    assert res.grid_levels[0] == 100.0 or res.grid_levels[0] == e.previous_close  # 09:00:10: no trade yet
    assert res.grid_levels[1] == pytest.approx(res.grid_levels[-3])  # 09:00:20 .. 15:30:10: after trade 1
    assert res.grid_levels[-1] == e.level


def test_replay_file_outputs(tmp_path, day):
    u = day.universe
    path = io.write_ticks(day, tmp_path / "d.parquet")
    engine = kf.IndexEngine(u, level=5781.20)
    ref = kf.replay(u.shares, u.base_prices, engine.divisor, day.ids, day.prices)
    res = io.replay_file(path, engine, grid="tick", out=tmp_path / "ticks.arrow", keep_ticks=True)
    table = pa.ipc.open_file(pa.memory_map(str(tmp_path / "ticks.arrow"))).read_all()
    assert table.column_names == ["time", "code", "price", "level"]
    assert np.array_equal(table.column("level").to_numpy(), ref)
    frame = res.to_frame(date="2026-03-23")
    assert list(frame.columns) == ["time", "timestamp", "code", "price", "level"]
    assert frame["code"].iloc[0] == u.codes[day.ids[0]]
    assert str(frame["timestamp"].iloc[0]) == "2026-03-23 09:00:00+09:00"
    grid = io.replay_file(path, kf.IndexEngine(u, level=5781.20), grid="10s", out=tmp_path / "g.csv")
    back = pd.read_csv(tmp_path / "g.csv")
    assert list(back.columns) == ["time", "clock", "level", "published"]
    assert back["clock"].iloc[0] == "09:00:10" and np.array_equal(back["level"].to_numpy(), grid.grid_levels)
    assert back["published"].iloc[-1] == kf.published(grid.close)


def test_replay_bad_tick_reports_its_row(sample):
    e = kf.IndexEngine(sample, level=100.0, price_band=None)  # no band: the overflow guard answers
    huge = np.array([2**62], dtype=np.int64)  # its cap would overflow int64
    batches = io.batches_from_arrays(np.array([1, 2]), np.array([0, 0], np.int32),
                                     np.concatenate([[sample.base_prices[0]], huge]), batch_size=1)
    with pytest.raises(ValueError, match=r"in ticks 1\.\.1: .*would overflow"):
        io.replay_batches(batches, e)


def test_csv_error_in_a_later_block_names_the_row(tmp_path, sample):
    path = tmp_path / "big.csv"
    rows = "".join(f"{32400000000000 + i},005930,199400\n" for i in range(40_000))
    path.write_text("time,code,price\n" + rows + "32500000000000,005930,abc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tick row 40000 \(line 40002\): price is not a number: 'abc'"):
        io.read_ticks(path, sample, batch_size=1000)  # 1 MB blocks: the bad cell is in a later one
