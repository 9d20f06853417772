"""Issue 12, part A: every input layout a user hands over is read right or refused clearly.

Each test reproduces a report of ../shared/reviews/reliability.md or new-user-trial.md (a file
that was misread with exit code 0, misdetected, or refused with an empty message) and pins the
fix with a worked example. The README's "Input layouts" table lists what is read.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import cli

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")
from kospi_fast import io

S = 10**9
H = 3600 * S
DATE = "2026-03-23"
MIDNIGHT_UTC = int(np.datetime64(DATE, "ns").astype(np.int64)) - 9 * H  # 2026-03-23 00:00 KST in UTC ns
CLOCK = np.array([9 * H, 9 * H + 1_250_000_000, 10 * H + 30 * 60 * S, 15 * H + 30 * 60 * S], dtype=np.int64)
CODES = ["005930", "000660", "005930", "000660"]
PRICES = [199_400, 1_007_000, 199_500, 1_006_000]


def _csv(path, times, header="time,code,price", codes=CODES, sep=",", encoding="utf-8"):
    rows = "".join(f"{t}{sep}{c}{sep}{p}\n" for t, c, p in zip(times, codes, PRICES))
    path.write_bytes((header.replace(",", sep) + "\n" + rows).encode(encoding))
    return path


# ------------------------------------------------------------------ 1. tick times
def test_epoch_ms_integers_are_refused_naming_the_encoding_then_read_with_it(tmp_path, sample):
    """Reliability review: epoch-ms integers were read as ns since midnight (the day at 00:29, a
    flat series, exit 0)."""
    path = _csv(tmp_path / "ms.csv", (CLOCK + MIDNIGHT_UTC) // 10**6)
    with pytest.raises(ValueError, match=r"ms.csv: tick row 0 \(line 2\): time 1774224000000.*00:29:34.224: "
                                         r"not a KRX trade time.*epoch-ms: pass time_format='epoch-ms' "
                                         r"\(CLI: --time-format epoch-ms\)"):
        io.read_ticks(path, sample)
    got = io.read_ticks(path, sample, time_format="epoch-ms")
    assert got.times.tolist() == CLOCK.tolist()


def test_krx_hhmmssfff_integers(tmp_path, sample):
    path = _csv(tmp_path / "krx.csv", ["090000000", "090001250", "103000000", "153000000"])
    with pytest.raises(ValueError, match=r"krx.csv: tick row 0 \(line 2\).*krx-hhmmssfff: pass "
                                         r"time_format='krx-hhmmssfff'"):
        io.read_ticks(path, sample)
    assert io.read_ticks(path, sample, time_format="krx-hhmmssfff").times.tolist() == CLOCK.tolist()
    _csv(path, ["090000000", "096000000", "103000000", "153000000"])  # 09:60
    with pytest.raises(ValueError, match=r"tick row 1 \(line 3\): time 96000000 is not krx-hhmmssfff"):
        io.read_ticks(path, sample, time_format="krx-hhmmssfff")


def test_naive_utc_timestamps_are_refused_unless_tz_says_utc(tmp_path, sample):
    """Reliability review: `.values` of a UTC column (naive UTC) gave a day at 00:00-06:30."""
    naive = pa.array(CLOCK + MIDNIGHT_UTC, pa.int64()).view(pa.timestamp("ns"))
    path = tmp_path / "naive.parquet"
    pq.write_table(pa.table({"time": naive, "code": CODES, "price": PRICES}), path)
    with pytest.raises(ValueError, match=r"naive.parquet: tick row 0: .* wall clock in Asia/Seoul.*00:00:00.000: "
                                         r"not a KRX trade time.*naive UTC timestamps: pass tz='UTC' "
                                         r"\(CLI: --tz UTC\)"):
        io.read_ticks(path, sample)
    assert io.read_ticks(path, sample, tz="UTC").times.tolist() == CLOCK.tolist()


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Seoul", "Europe/London"])
def test_tz_aware_timestamps_in_any_zone(tmp_path, sample, zone):
    aware = pc_convert(pa.array(CLOCK + MIDNIGHT_UTC, pa.int64()).view(pa.timestamp("ns", tz="UTC")), zone)
    path = tmp_path / "aware.parquet"
    pq.write_table(pa.table({"time": aware, "code": CODES, "price": PRICES}), path)
    assert pq.read_schema(path).field("time").type.tz == zone
    assert io.read_ticks(path, sample).times.tolist() == CLOCK.tolist()
    # text with the zone's offset, as a CSV would hold it
    text = [pd.Timestamp(t, unit="ns", tz="UTC").tz_convert(zone).isoformat() for t in CLOCK + MIDNIGHT_UTC]
    assert io.read_ticks(_csv(tmp_path / "iso.csv", text), sample).times.tolist() == CLOCK.tolist()


def pc_convert(arr, zone):
    return arr.cast(pa.timestamp("ns", tz=zone))


def test_naive_text_in_another_zone(tmp_path, sample):
    text = [pd.Timestamp(t, unit="ns").strftime("%Y-%m-%d %H:%M:%S.%f") for t in CLOCK + MIDNIGHT_UTC]
    path = _csv(tmp_path / "naive.csv", text)
    with pytest.raises(ValueError, match=r"naive UTC timestamps: pass tz='UTC'"):
        io.read_ticks(path, sample)
    assert io.read_ticks(path, sample, tz="UTC").times.tolist() == CLOCK.tolist()


#: One worked example per time encoding: the cell, and the clock it means (KST).
TIME_EXAMPLES = [
    ("auto", str(9 * H + 1_250_000_000), "09:00:01.250"),
    ("ns-since-midnight", str(9 * H + 1_250_000_000), "09:00:01.250"),
    ("us-since-midnight", str((9 * H + 1_250_000_000) // 1000), "09:00:01.250"),
    ("ms-since-midnight", str(32_401_250), "09:00:01.250"),
    ("s-since-midnight", "32401", "09:00:01.000"),
    ("epoch-s", str((MIDNIGHT_UTC + 9 * H) // S + 1), "09:00:01.000"),
    ("epoch-ms", str((MIDNIGHT_UTC + 9 * H) // 10**6 + 1250), "09:00:01.250"),
    ("epoch-us", str((MIDNIGHT_UTC + 9 * H) // 1000 + 1_250_000), "09:00:01.250"),
    ("epoch-ns", str(MIDNIGHT_UTC + 9 * H + 1_250_000_000), "09:00:01.250"),
    ("krx-hhmmss", "90001", "09:00:01.000"),
    ("krx-hhmmssfff", "090001250", "09:00:01.250"),
    ("krx-hhmmssffffff", "090001250000", "09:00:01.250"),
]


def test_every_time_format_has_a_worked_example():
    assert sorted(f for f, _, _ in TIME_EXAMPLES) == sorted(io.TIME_FORMATS)


@pytest.mark.parametrize("fmt,cell,clock", TIME_EXAMPLES)
def test_time_format_worked_example(tmp_path, sample, fmt, cell, clock):
    path = tmp_path / "one.csv"
    path.write_text(f"time,code,price\n{cell},005930,199400\n", encoding="utf-8")
    got = io.read_ticks(path, sample, time_format=fmt)
    assert io.format_clock(int(got.times[0]), digits=3) == clock
    table = pa.table({"time": pa.array([int(cell)], pa.int64()), "code": ["005930"], "price": [199400]})
    assert io.read_ticks(table, sample, time_format=fmt).times.tolist() == got.times.tolist()


def test_too_few_ticks_in_the_session(tmp_path, sample):
    """Times that pass the 06:00 floor but mostly miss 09:00-16:30:30 (e.g. a feed in a zone a few
    hours off) are refused as a file; check_session=False reads them (ticks of another market)."""
    early = np.array([7 * H, 7 * H + S, 8 * H, 9 * H + S], dtype=np.int64)
    path = _csv(tmp_path / "early.csv", early)
    with pytest.raises(ValueError, match=r"early.csv: only 1 of 4 ticks \(25.0%\) fall inside the session "
                                         r"\(09:00:00 .. 16:30:30 KST\)"):
        io.read_ticks(path, sample)
    assert io.read_ticks(path, sample, check_session=False).times.tolist() == early.tolist()
    # the whole-file share is checked before the last batch is yielded: nothing of a one-batch file
    e = kf.IndexEngine(sample, level=5781.2)
    with pytest.raises(ValueError, match="fall inside the session"):
        io.replay_file(path, e)
    assert e.level == 5781.2 and e.level == e.recompute()


def test_time_options_are_checked(sample):
    t = pa.table({"time": [9 * H], "code": ["005930"], "price": [199400]})
    with pytest.raises(ValueError, match=r"`time_format` must be one of 'auto', .*got 'epoch'"):
        io.read_ticks(t, sample, time_format="epoch")
    with pytest.raises(ValueError, match=r"`tz` is not a time zone name .*'Mars/Olympus'"):
        io.read_ticks(t, sample, tz="Mars/Olympus")
    with pytest.raises(TypeError, match=r"`tz` must be a time zone name"):
        io.read_ticks(t, sample, tz=9)
    with pytest.raises(TypeError, match=r"time_format='epoch-ms' reads integers .* holds timestamp"):
        io.read_ticks(pa.table({"time": pa.array([0], pa.timestamp("ns")), "code": ["005930"], "price": [1]}),
                      sample, time_format="epoch-ms")


def test_cli_replay_refuses_epoch_ms_then_reads_it(tmp_path, capsys):
    path = _csv(tmp_path / "ms.csv", (CLOCK + MIDNIGHT_UTC) // 10**6)
    assert cli.main(["replay", str(path), "--universe", "sample"]) == 2
    err = capsys.readouterr().err
    assert "ms.csv: tick row 0 (line 2)" in err and "--time-format epoch-ms" in err
    assert cli.main(["replay", str(path), "--universe", "sample", "--time-format", "epoch-ms"]) == 0
    out = capsys.readouterr().out
    assert "after the trades at 09:00:00" in out and "high" in out


# ------------------------------------------------------------------ 3. real tick files
def _expected(sample):
    return [sample.index_of(c) for c in CODES]


def test_cp949_tick_csv_with_korean_headers(tmp_path, sample):
    """New-user trial: a cp949 file headed 체결시각,종목코드,체결가 was refused (misleadingly)."""
    path = _csv(tmp_path / "k.csv", CLOCK, header="체결시각,종목코드,체결가", encoding="cp949")
    got = io.read_ticks(path, sample)
    assert got.times.tolist() == CLOCK.tolist() and got.ids.tolist() == _expected(sample)
    assert got.prices.tolist() == PRICES
    assert cli.main(["replay", str(path), "--universe", "sample"]) == 0


@pytest.mark.parametrize("sep,suffix", [(";", ".csv"), ("\t", ".txt"), ("|", ".csv")])
def test_other_delimiters(tmp_path, sample, sep, suffix):
    path = _csv(tmp_path / f"d{suffix}", CLOCK, sep=sep)
    got = io.read_ticks(path, sample)
    assert got.times.tolist() == CLOCK.tolist() and got.ids.tolist() == _expected(sample)


def test_a_prefixed_codes(tmp_path, sample):
    path = _csv(tmp_path / "a.csv", CLOCK, codes=["A" + c for c in CODES])
    assert io.read_ticks(path, sample).ids.tolist() == _expected(sample)
    bad = _csv(tmp_path / "b.csv", CLOCK, codes=["A005930", "A999999", "A005930", "A005930"])
    with pytest.raises(KeyError, match=r"b.csv: tick row 1 \(line 3\): unknown stock code 'A999999'"):
        io.read_ticks(bad, sample)


def test_csv_gz_tick_file(tmp_path, sample):
    """Reliability review, defect 3: a .csv.gz failed with an empty UnsupportedOperation."""
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(b"time,code,price\n09:00:01,005930,70000\n"))
    got = io.read_ticks(path, sample)
    assert got.times.tolist() == [9 * H + S] and got.prices.tolist() == [70000]
    big = tmp_path / "k.csv.gz"  # cp949, Korean header, semicolons, gzipped
    big.write_bytes(gzip.compress(_csv(tmp_path / "k.csv", CLOCK, header="체결시각,종목코드,체결가", sep=";",
                                       encoding="cp949").read_bytes()))
    assert io.read_ticks(big, sample).ids.tolist() == _expected(sample)


def test_polars_and_arrow_stream_objects_as_ticks(sample):
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"time": CLOCK.tolist(), "code": CODES, "price": PRICES})
    got = io.read_ticks(frame, sample)
    assert got.times.tolist() == CLOCK.tolist() and got.ids.tolist() == _expected(sample)

    class Capsule:  # any object with the Arrow PyCapsule stream protocol
        def __arrow_c_stream__(self, requested_schema=None):
            return pa.table({"time": CLOCK, "code": CODES, "price": PRICES}).__arrow_c_stream__(requested_schema)

    assert io.read_ticks(Capsule(), sample).ids.tolist() == _expected(sample)
    with pytest.raises(TypeError, match=r"`source` must be a path, a pandas DataFrame, a pyarrow Table or a "
                                        r"table with the Arrow stream protocol.*got list"):
        io.read_ticks([1, 2], sample)


# ------------------------------------------------------------------ 2. membership
EOD = ("data", "kospi_stocks_eod_20260309_20260320.csv")
CONSTITUENTS = ("data", "kospi_index_constituents_1001_20260309_20260320.csv")
FDR_LISTING = ["Code", "ISU_CD", "Name", "Market", "Close", "Changes", "ChagesRatio", "Open", "High", "Low",
               "Volume", "Amount", "Marcap", "Stocks"]


def _real_listing(day="2026-03-20"):
    """FDR's StockListing('KRX') for one day, built from the real EOD file (no Date, no membership)."""
    from conftest import shared_path

    eod = pd.read_csv(shared_path(*EOD), dtype={"Code": str})
    return eod[eod.Date == day][FDR_LISTING].reset_index(drop=True)


def _close_error_bp(lu, prev_close=5763.22, published=5781.20):
    """The 03-20 close computed from the 03-19 published close over `lu`'s members, in bp."""
    e = lu.engine(level=prev_close)
    e.update_many(np.arange(len(lu)), lu.close)
    return (e.level / published - 1) * 1e4


def test_real_fdr_listing_needs_its_members():
    """New-user trial: FDR's listing without membership took all 951 rows (preferreds, REITs, foreign
    listings) as KOSPI members: -9.10 bp on 2026-03-20, in silence."""
    from conftest import shared_path

    listing = _real_listing()
    with pytest.raises(ValueError, match=r"says nothing of index membership.*get_index_portfolio_deposit_file"):
        io.universe_from_fdr(listing, base="previous")
    every = io.universe_from_fdr(listing, base="previous", members="all")  # on purpose only
    assert every.n_members == 951 and _close_error_bp(every) == pytest.approx(-9.10, abs=0.01)
    for members in (shared_path(*CONSTITUENTS), pd.read_csv(shared_path(*CONSTITUENTS), dtype={"Code": str})):
        lu = io.universe_from_fdr(listing, base="previous", members=members, date="2026-03-20")
        assert lu.n_members == 837 and abs(_close_error_bp(lu)) < 0.05
    # a members table with dates and no date to pick one: refused, naming the days
    with pytest.raises(ValueError, match=r"holds the members of 10 days"):
        io.universe_from_fdr(listing, members=shared_path(*CONSTITUENTS))


def test_real_pykrx_frame_needs_its_members(tmp_path):
    """pykrx get_market_cap(date, market='ALL') holds KOSPI, KOSDAQ and KONEX listings: no row is a
    member unless the members are given."""
    from conftest import shared_path

    listing = _real_listing()
    frame = pd.DataFrame({"종가": listing.Close.to_numpy(), "시가총액": listing.Marcap.to_numpy(),
                          "거래량": listing.Volume.to_numpy(), "거래대금": listing.Amount.to_numpy(),
                          "상장주식수": listing.Stocks.to_numpy()},
                         index=pd.Index(listing.Code.to_numpy(), name="티커"))
    kosdaq = pd.DataFrame({"종가": [100_000], "시가총액": [100_000 * 10**8], "거래량": [1], "거래대금": [1],
                           "상장주식수": [10**8]}, index=pd.Index(["247540"], name="티커"))  # a KOSDAQ code
    frame = pd.concat([frame, kosdaq])
    with pytest.raises(ValueError, match=r"DataFrame: the pykrx get_market_cap table says nothing of index "
                                         r"membership"):
        io.universe_from_pykrx(frame)
    cons = pd.read_csv(shared_path(*CONSTITUENTS), dtype={"Code": str})
    deposit = cons[cons.Date == "2026-03-20"].Code.tolist()  # get_index_portfolio_deposit_file's list
    lu = io.universe_from_pykrx(frame, members=deposit)
    assert lu.n_members == 837 and not lu.members[-1]
    assert lu.member_cap() == 4_618_177_323_270_060  # KRX's member cap of 03-20
    # the same frame saved with to_parquet() (the 티커 index kept as pandas metadata)
    path = tmp_path / "cap.parquet"
    frame.to_parquet(path)
    again = io.load_universe(path, members=deposit)
    assert again.layout == "pykrx" and again.universe.codes == lu.universe.codes and again.n_members == 837


def _krx_12001(listing, thousands=False):
    """KRX's all-stock quote download [12001] (전종목 시세) of a listing."""
    fmt = (lambda v: f"{int(v):,}") if thousands else (lambda v: str(int(v)))
    return pd.DataFrame({
        "종목코드": listing.Code, "종목명": listing.Name, "시장구분": listing.Market, "소속부": "",
        "종가": listing.Close.map(fmt), "대비": listing.Changes.map(fmt), "등락률": listing.ChagesRatio,
        "시가": listing.Open.map(fmt), "고가": listing.High.map(fmt), "저가": listing.Low.map(fmt),
        "거래량": listing.Volume.map(fmt), "거래대금": listing.Amount.map(fmt), "시가총액": listing.Marcap.map(fmt),
        "상장주식수": listing.Stocks.map(fmt)})


@pytest.mark.parametrize("encoding,thousands", [("cp949", True), ("utf-8-sig", False)])
def test_real_krx_all_stock_download(tmp_path, capsys, encoding, thousands):
    """New-user trial: KRX's own [12001] download was detected as pykrx and refused."""
    from conftest import shared_path

    listing = _real_listing()
    kosdaq = listing.iloc[:1].assign(Code="247540", Market="KOSDAQ", Name="에코프로비엠")
    path = tmp_path / "data_0001_20260320.csv"
    _krx_12001(pd.concat([listing, kosdaq], ignore_index=True), thousands).to_csv(path, index=False,
                                                                                   encoding=encoding)
    assert io.table_layout(path) == "krx_stocks"
    with pytest.raises(ValueError, match=r"the KRX all-stock download \[12001\] table says nothing of index "
                                         r"membership"):
        io.load_universe(path)
    lu = io.load_universe(path, base="previous", members=shared_path(*CONSTITUENTS), date="2026-03-20")
    assert lu.layout == "krx_stocks" and len(lu) == 951  # 시장구분 == KOSPI: the KOSDAQ row dropped
    assert lu.n_members == 837 and lu.universe.names[0] == listing.Name[0]
    assert abs(_close_error_bp(lu)) < 0.05
    members = tmp_path / "members.csv"
    pd.read_csv(shared_path(*CONSTITUENTS), dtype={"Code": str}).query("Date == '2026-03-20'").to_csv(members, index=False)
    ticks = _csv(tmp_path / "t.csv", CLOCK)
    assert cli.main(["replay", str(ticks), "--universe", str(path), "--members", str(members), "--base", "previous",
                     "--level", "5763.22"]) == 0  # the CLI reads it the same way: KOSPI rows, 03-20's base prices
    assert "(krx_stocks layout): 951 stocks, 837 members" in capsys.readouterr().out


def test_polars_frames_wherever_a_pandas_frame_is_taken(tmp_path):
    pl = pytest.importorskip("polars")
    listing = pd.DataFrame({"Code": ["005930", "000660", "005935"], "Name": ["a", "b", "c"],
                            "Close": [70000, 150000, 60000], "Stocks": [10, 5, 3], "InKOSPIIndex": [1, 1, 0]})
    lu = io.load_universe(pl.from_pandas(listing))
    assert lu.member_codes == ("005930", "000660") and lu.layout == "fdr"
    assert io.universe_from_fdr(pl.from_pandas(listing.drop(columns="InKOSPIIndex")),
                                members=pl.Series(["005930"])).member_codes == ("005930",)
    cons = pl.DataFrame({"종목코드": ["005930"], "종목명": ["a"], "종가": [70000], "상장시가총액": [700000]})
    assert io.universe_from_fdr(listing.drop(columns="InKOSPIIndex"), members=cons).member_codes == ("005930",)


# ------------------------------------------------------------------ 5. loader errors name the file and line
def test_loader_errors_name_the_file_and_line(tmp_path):
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match=r"garbage.parquet: not a readable Parquet file"):
        io.load_universe(garbage)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("Code,Name,Close,Stocks,InKOSPIIndex\n005930,a,70000,10,1\n000660,b,1,2,3,4,5\n",
                      encoding="utf-8")
    with pytest.raises(ValueError, match=r"ragged.csv: .*line 3"):
        io.universe_from_fdr(ragged)
    binary = tmp_path / "latin.csv"
    binary.write_bytes(b"Code,Name\n\xff\xfe\xfa,\x80\n")
    with pytest.raises(ValueError, match=r"latin.csv: neither UTF-8 nor CP949 text"):
        io.load_universe(binary)
    assert cli.main(["replay", str(tmp_path / "t.csv"), "--universe", str(garbage)]) == 2


def test_cli_members_all_and_members_file(tmp_path, capsys):
    listing = pd.DataFrame({"Code": ["005930", "000660", "005935"], "Name": ["a", "b", "c"], "Market": "KOSPI",
                            "Close": [199_400, 1_007_000, 60000], "Stocks": [10**6, 10**5, 10**4]})
    eod = tmp_path / "listing.csv"
    listing.to_csv(eod, index=False)
    ticks = _csv(tmp_path / "t.csv", CLOCK)
    assert cli.main(["replay", str(ticks), "--universe", str(eod)]) == 2
    assert "--members FILE" in capsys.readouterr().err
    members = tmp_path / "members.txt"
    members.write_text("005930\n000660\n", encoding="utf-8")
    assert cli.main(["replay", str(ticks), "--universe", str(eod), "--members", str(members)]) == 0
    assert "3 stocks, 2 members" in capsys.readouterr().out
    assert cli.main(["replay", str(ticks), "--universe", str(eod), "--members", "all"]) == 0
    assert "3 stocks, 3 members" in capsys.readouterr().out


# ------------------------------------------------------------------ 4. verify
INDEX = ("data", "kospi_index_daily_19950502_20260320.csv")
K200 = ("data", "kospi200_index_daily_19900103_20260320.csv")


def test_verify_refuses_the_kospi200_file(tmp_path, capsys):
    """New-user trial: `verify --index <KOSPI 200 file>` printed a plausible table of 76 bp errors."""
    from conftest import shared_path

    from kospi_fast import eod

    days = eod.read_eod_csv(shared_path(*EOD))
    with pytest.raises(ValueError, match=r"kospi200_index_daily_19900103_20260320.csv: not the KOSPI series: its "
                                         r"market cap on 2026-03-09 is .*below the 837 KOSPI members'"):
        eod.verify(days, eod.read_published(shared_path(*K200)))
    no_cap = tmp_path / "k200_close_only.csv"  # without the MarCap column: the size of the errors tells
    pd.read_csv(shared_path(*K200)).drop(columns="MarCap").to_csv(no_cap, index=False)
    with pytest.raises(ValueError, match=r"k200_close_only.csv: the published closes do not follow KOSPI over these "
                                         r"members: 2026-03-10 is off by -76.3 bp"):
        eod.verify(days, eod.read_published(no_cap))
    assert len(eod.verify(days, eod.read_published(no_cap), check_series=False)) == 9  # on purpose
    assert cli.main(["verify", "--eod", str(shared_path(*EOD)), "--index", str(shared_path(*K200))]) == 2
    captured = capsys.readouterr()
    assert "not the KOSPI series" in captured.err and captured.out == ""  # no table of errors


def test_verify_chain_tolerance_fits_the_drift(capsys):
    """New-user trial: `verify --chain` failed its own default tolerance (0.258 > 0.2 bp). The chained
    error is the running sum of the day errors; day k's bound is tolerance x sqrt(k)."""
    from conftest import shared_path

    from kospi_fast import eod

    assert [eod.tolerance_bp(k, 0.2, chain=True) for k in (1, 4, 9)] == [0.2, 0.4, pytest.approx(0.6)]
    assert eod.tolerance_bp(9, 0.2) == 0.2
    days, published = eod.read_eod_csv(shared_path(*EOD)), eod.read_published(shared_path(*INDEX))
    pairs, chained = eod.verify(days, published), eod.verify(days, published, chain=True)
    running = np.cumsum([r.error_bp for r in pairs])
    assert np.allclose([r.error_bp for r in chained], running, atol=0.01)  # drift = sum of day errors
    assert max(abs(r.error_bp) for r in chained) == pytest.approx(0.258, abs=0.001)
    assert eod.exceeding(chained, 0.2, chain=True) == [] and eod.exceeding(chained, 0.2)  # fits only as a chain
    base = ["verify", "--eod", str(shared_path(*EOD)), "--index", str(shared_path(*INDEX))]
    assert cli.main(base + ["--chain"]) == 0
    capsys.readouterr()
    assert cli.main(base + ["--chain", "--tolerance-bp", "0.05"]) == 1
    assert "exceeds the tolerance 0.05 bp x sqrt(" in capsys.readouterr().err


def test_verify_reads_through_the_loaders(tmp_path, capsys):
    """verify took only its own UTF-8 CSV with InKOSPIIndex; now frames, Parquet, cp949 and FDR's
    listing with the members given."""
    from conftest import shared_path

    from kospi_fast import eod

    eod_df = pd.read_csv(shared_path(*EOD), dtype={"Code": str})
    idx_df = pd.read_csv(shared_path(*INDEX))
    want = [r.computed for r in eod.verify(eod.read_eod_csv(shared_path(*EOD)), eod.read_published(shared_path(*INDEX)))]

    parquet, cp949 = tmp_path / "eod.parquet", tmp_path / "eod_cp949.csv"
    eod_df.to_parquet(parquet)
    eod_df.to_csv(cp949, index=False, encoding="cp949")
    fdr_ks11 = idx_df.assign(Date=pd.to_datetime(idx_df.Date)).set_index("Date")  # DataReader('KS11') as it comes
    listing = eod_df.drop(columns="InKOSPIIndex")  # FDR's listing per day: no membership
    cases = [
        (eod_df, fdr_ks11),
        (parquet, fdr_ks11["Close"]),
        (cp949, idx_df),
    ]
    for source, published in cases:
        got = eod.verify(eod.read_eod_csv(source), eod.read_published(published))
        assert [r.computed for r in got] == want
    got = eod.verify(eod.read_eod_csv(listing, members=shared_path(*CONSTITUENTS)), eod.read_published(idx_df))
    assert [r.computed for r in got] == want
    with pytest.raises(ValueError, match=r"missing column\(s\) \['InKOSPIIndex'\]"):
        eod.read_eod_csv(listing)
    pl = pytest.importorskip("polars")
    got = eod.verify(eod.read_eod_csv(pl.from_pandas(eod_df)), eod.read_published(pl.from_pandas(idx_df)))
    assert [r.computed for r in got] == want
    listing_csv = tmp_path / "listing.csv"
    listing.to_csv(listing_csv, index=False, encoding="cp949")
    assert cli.main(["verify", "--eod", str(listing_csv), "--members", str(shared_path(*CONSTITUENTS)),
                     "--index", str(shared_path(*INDEX))]) == 0
    assert "max |error| 0.154 bp over 9 day pairs" in capsys.readouterr().out


def test_verify_errors_name_the_file(tmp_path, capsys):
    from conftest import shared_path

    empty = tmp_path / "header_only.csv"
    empty.write_text("Date,Close\n", encoding="utf-8")
    assert cli.main(["verify", "--eod", str(shared_path(*EOD)), "--index", str(empty)]) == 2
    assert "header_only.csv: no published index close for 2026-03-09 (the series is empty)" in capsys.readouterr().err
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(b"Date,Close\n2026-03-09,\xff\xfe\n")
    assert cli.main(["verify", "--eod", str(shared_path(*EOD)), "--index", str(latin)]) == 2
    assert "latin1.csv: neither UTF-8 nor CP949 text" in capsys.readouterr().err


def test_replay_days_takes_the_time_format(tmp_path):
    """replay-days reads its day files through the same reader: epoch-ms files fail their days
    (naming the option) unless --time-format says so."""
    pytest.importorskip("distributed")
    from kospi_fast import distributed as kd

    u = kf.sample_universe()
    day = kf.simulate_day(u, n_ticks=5000, seed=4)
    d = tmp_path / "days"
    d.mkdir()
    epoch_ms = (day.times + MIDNIGHT_UTC) // 10**6
    pq.write_table(pa.table({"time": epoch_ms, "code": np.array(u.codes, dtype=object)[day.ids],
                             "price": day.prices}), d / f"{DATE}.parquet")
    eng = kf.IndexEngine(u, level=5781.2)
    spec = kd.DaySpec(DATE, str(d / f"{DATE}.parquet"), kf.persist.dumps(eng))
    bad = kd.replay_days_sequential([spec], errors="return")
    assert "time_format='epoch-ms'" in bad.failed[DATE]
    good = kd.replay_days_sequential([spec], time_format="epoch-ms")
    ref = kf.IndexEngine(u, level=5781.2)
    ref.update_many(day.ids, day.prices)
    assert good.summary["close"].iloc[0] == ref.level
    with pytest.raises(ValueError, match="`time_format` must be one of"):
        kd.replay_days_sequential([spec], time_format="ms")


def test_cli_columns_mapping(tmp_path, capsys):
    """New-user trial: a file headed trd_tm, isu_srt, trd_prc had no CLI mapping (the API had `columns=`)."""
    path = _csv(tmp_path / "own.csv", ["090000000", "090001250", "103000000", "153000000"],
                header="trd_time,short_code,trd_price")
    base = ["replay", str(path), "--universe", "sample", "--time-format", "krx-hhmmssfff"]
    assert cli.main(base) == 2
    assert "missing tick column 'time'" in capsys.readouterr().err
    assert cli.main(base + ["--columns", "time=trd_time,code=short_code,price=trd_price"]) == 0
    assert "trades                    4" in capsys.readouterr().out
    assert cli.main(base + ["--columns", "when=trd_time"]) == 2
    assert "--columns: 'when=trd_time' is not ROLE=NAME with ROLE one of time, code, price, volume" in \
        capsys.readouterr().err


def test_frames_with_a_named_index_read_like_their_files(tmp_path):
    """A frame indexed by its code column (set_index, with or without drop) reads as its CSV and
    its Parquet file do."""
    flat = pd.DataFrame({"Code": ["005930", "000660"], "Close": [7, 8], "Stocks": [1, 2], "InKOSPIIndex": [1, 0]})
    for frame in (flat.set_index("Code"), flat.set_index("Code", drop=False)):
        assert io.load_universe(frame).universe.codes == ("005930", "000660")
        path = tmp_path / "indexed.parquet"
        frame.to_parquet(path)
        assert io.load_universe(path).member_codes == ("005930",)


def test_tick_prices_with_thousands_separators(tmp_path, sample):
    """New-user trial: '199,400' (as KRX writes prices) was refused in tick files, read in tables."""
    path = tmp_path / "sep.csv"
    path.write_text('time,code,price\n09:00:01,005930,"199,400"\n09:00:02,000660,"1,007,000"\n', encoding="utf-8")
    assert io.read_ticks(path, sample).prices.tolist() == [199_400, 1_007_000]
    path.write_text('time,code,price\n09:00:01,005930,"199,4x0"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"sep.csv: tick row 0 \(line 2\): price is not a number: '199,4x0'"):
        io.read_ticks(path, sample)
