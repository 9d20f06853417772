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
