"""Day-parallel replay on Dask (kospi_fast.distributed): the cluster result equals the sequential
one bit for bit (and a single book carried through every day), for an IndexEngine and for an
IndexFamily, survives a SIGKILLed worker, fails bad days one by one, ships book state as
persist.dumps bytes; the replay-days CLI.

Outside CI the module is skipped when dask.distributed / pandas / pyarrow are missing; under CI
(CI=true) they must be installed and every test runs.
"""

from __future__ import annotations

import re

import csv
import logging
import os
import signal
import sys
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import cli, io, persist
from kospi_fast.events import Split
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE

# Under CI on Linux a skip is a failure (tests/conftest.py): these optional dependencies are
# part of the test extra there.
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import psutil  # a dependency of distributed

from kospi_fast import distributed as kd

N_DAYS, N_TICKS = 4, 100_000
FIRST = "2026-03-23"  # the sample's closes are those of 2026-03-20, the EOD file's first day


def _quiet_cluster(**kw):
    """A LocalCluster that does not print (its worker-death warnings are expected here)."""
    opts = {"n_workers": 2, "processes": True, "threads_per_worker": 1, "dashboard_address": ":0",
            "silence_logs": logging.CRITICAL}
    opts.update(kw)
    return distributed.LocalCluster(**opts)


def _children() -> set[int]:
    """This process's child processes, multiprocessing's (long-lived) resource tracker aside."""
    out = set()
    for c in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(c.cmdline()):
                out.add(c.pid)
        except psutil.NoSuchProcess:
            pass
    return out


@contextmanager
def no_leaked_processes():
    """Every process started inside the block (cluster workers) is gone at its end."""
    before = _children()
    yield
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _children() - before:
        time.sleep(0.05)
    left = _children() - before
    assert not left, f"processes outlived their cluster: {sorted(left)}"


# ------------------------------------------------------------------ data: 4 chained simulated days
@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """Four consecutive simulated days (each from the previous day's closes), as Parquet files."""
    out = tmp_path_factory.mktemp("ticks")
    u = kf.sample_universe()
    dates = [str(d) for d in np.busday_offset(FIRST, np.arange(N_DAYS), roll="forward")]
    days, paths, cur = [], [], u
    for k, date in enumerate(dates):
        day = kf.simulate_day(cur, n_ticks=N_TICKS, seed=7000 + k, date=date)
        paths.append(str(io.write_ticks(day, out / f"{date}.parquet")))
        days.append(day)
        cur = kf.Universe(u.codes, u.names, u.shares, kd._last_prices(cur.base_prices, day.ids, day.prices),
                          u.sectors)
    specs = kd.specs_from_simulated(days, paths, level=SAMPLE_PREVIOUS_CLOSE)
    return {"dir": out, "days": days, "paths": paths, "specs": specs, "dates": dates}


@pytest.fixture(scope="module")
def sequential(sim):
    return kd.replay_days_sequential(sim["specs"])


@pytest.fixture(scope="module")
def client():
    with no_leaked_processes(), _quiet_cluster() as cluster, \
            distributed.Client(cluster, set_as_default=False) as c:
        yield c


def _bits(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).view(np.int64)


def assert_identical(a: kd.DaysResult, b: kd.DaysResult) -> None:
    """Exactly the same frames (levels compared as bit patterns, not as floats)."""
    for name in ("series", "ohlc", "summary", "audit"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    np.testing.assert_array_equal(_bits(a.series["level"]), _bits(b.series["level"]))
    for col in ("previous_close", "start_level", "open", "high", "low", "close"):
        np.testing.assert_array_equal(_bits(a.ohlc[col]), _bits(b.ohlc[col]))
    assert a.equals(b)


# ------------------------------------------------------------------ persist: state as bytes
def test_dumps_loads_engine_round_trip_bit_for_bit(sim):
    e = sim["specs"][2].engine()  # rolled twice
    e.apply_events([Split(e.universe.codes[3], 5, effective="2026-03-30")], date="2026-03-30")
    data = persist.dumps_engine(e)
    assert isinstance(data, bytes) and data[:8] == b"\x89KFSTAT\n"
    f = persist.loads_engine(data)
    assert f.level.hex() == e.level.hex() and f.divisor.hex() == e.divisor.hex()
    assert f.cap == e.cap and f.previous_close.hex() == e.previous_close.hex()
    np.testing.assert_array_equal(f.prices, e.prices)
    np.testing.assert_array_equal(f.index_shares, e.index_shares)
    np.testing.assert_array_equal(f.reference_prices, e.reference_prices)
    assert f.audit == e.audit and f.universe.codes == e.universe.codes
    assert persist.loads_engine(bytearray(data)).level == e.level
    assert persist.loads_engine(memoryview(data)).cap == e.cap


def test_loads_engine_refuses_damaged_bytes():
    e = kf.IndexEngine(kf.sample_universe(), level=2500.0)
    data = persist.dumps_engine(e)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 1
    with pytest.raises(persist.CorruptStateError, match=r"<bytes>: checksum mismatch"):
        persist.loads_engine(bytes(flipped))
    with pytest.raises(persist.CorruptStateError, match=r"<bytes>: truncated"):
        persist.loads_engine(data[:-10])
    with pytest.raises(persist.CorruptStateError, match="not a kospi_fast checkpoint"):
        persist.loads_engine(b"PAR1" + data[4:])
    with pytest.raises(TypeError, match="`data` must be bytes"):
        persist.loads_engine("not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`book` must be an index book"):
        persist.dumps_engine(object())  # type: ignore[arg-type]


# ------------------------------------------------------------------ exactness
def test_sequential_equals_one_engine_carried_through_every_day(sim, sequential):
    """The days' start states are independent of the replay: one engine replaying day after day
    (rolled with its own closes) gives the same levels bit for bit."""
    assert sequential.ok and sequential.completed == sim["dates"]
    e = kf.IndexEngine(sim["days"][0].universe, level=SAMPLE_PREVIOUS_CLOSE)
    for k, (date, path) in enumerate(zip(sim["dates"], sim["paths"])):
        if k:
            e.roll(closes=e.prices, date=date)
        r = io.replay_file(path, e)
        got = sequential.series[sequential.series["date"] == date]
        np.testing.assert_array_equal(got["time"].to_numpy(), r.grid_times)
        np.testing.assert_array_equal(_bits(got["level"]), _bits(r.grid_levels))
        row = sequential.ohlc.iloc[k]
        assert (row["open"], row["high"], row["low"], row["close"]) == (r.open, r.high, r.low, r.close)
        assert row["previous_close"] == r.previous_close and row["n_ticks"] == N_TICKS
    assert list(sequential.summary["status"]) == ["ok"] * N_DAYS
    assert len(sequential.series) == N_DAYS * len(io.publication_times())
    assert str(sequential.series["timestamp"].dt.tz) == "Asia/Seoul"
    assert sequential.series["timestamp"].iloc[0] == pd.Timestamp(f"{FIRST} 09:00:10", tz="Asia/Seoul")


def test_cluster_equals_sequential_bit_for_bit(sim, sequential, client):
    seen = []
    dist = kd.replay_days(sim["specs"], client=client, on_day=lambda r, k, n: seen.append((r.date, k, n)))
    assert_identical(dist, sequential)
    assert sorted(d for d, _, _ in seen) == sim["dates"] and [k for _, k, _ in seen] == [1, 2, 3, 4]
    workers = set(client.run(os.getpid).values())
    assert set(dist.timings["pid"]) <= workers and os.getpid() not in set(dist.timings["pid"])
    assert set(sequential.timings["worker"]) == {"local"}


def test_existing_cluster_by_scheduler_address(sim, sequential, client):
    dist = kd.replay_days(sim["specs"][1:3], scheduler=client.scheduler.address)
    part = kd.replay_days_sequential(sim["specs"][1:3])
    assert_identical(dist, part)
    pd.testing.assert_frame_equal(dist.ohlc, sequential.ohlc.iloc[1:3].reset_index(drop=True), check_exact=True)


def test_worker_killed_mid_run_still_identical(sim, sequential):
    """SIGKILL a worker while it holds days: Dask reruns them elsewhere; same frames."""
    with no_leaked_processes(), _quiet_cluster() as cluster, \
            distributed.Client(cluster, set_as_default=False) as c:
        pids = c.run(os.getpid)
        job = kd.submit_days(c, sim["specs"])
        deadline = time.monotonic() + 20
        busy: list = []
        while not busy and time.monotonic() < deadline:
            busy = [w for w, keys in c.processing().items() if keys]
            time.sleep(0.002)
        assert busy, "no task reached a worker"
        victim = busy[0]
        if hasattr(signal, "SIGKILL"):
            os.kill(pids[victim], signal.SIGKILL)
        else:  # pragma: no cover - Windows: TerminateProcess, as abrupt
            psutil.Process(pids[victim]).kill()
        dist = job.gather()
        c.wait_for_workers(2, timeout=30)  # the nanny restarts the killed worker
        assert pids[victim] not in c.run(os.getpid).values()
        # the scheduler took the victim's tasks back from it (processing -> released) and reran them
        lost = {rec[0] for rec in cluster.scheduler.transition_log if rec[1:3] == ("processing", "released")}
        assert lost and lost <= {f.key for f in job.futures.values()}
    assert_identical(dist, sequential)
    assert pids[victim] not in set(dist.timings["pid"])  # its days were recomputed elsewhere


# ------------------------------------------------------------------ bad days
def test_missing_and_corrupt_day_files_fail_alone(sim, sequential, client, tmp_path):
    corrupt = tmp_path / f"{sim['dates'][1]}.parquet"
    corrupt.write_bytes(b"PAR1 this is not a parquet file PAR1")
    missing = tmp_path / f"{sim['dates'][2]}.parquet"
    specs = list(sim["specs"])
    specs[1] = kd.DaySpec(specs[1].date, corrupt, specs[1].state, specs[1].audit_start)
    specs[2] = kd.DaySpec(specs[2].date, missing, specs[2].state, specs[2].audit_start)
    with pytest.raises(kd.DayReplayError) as info:
        kd.replay_days(specs, client=client)
    msg = str(info.value)
    assert "2 of 4 days failed" in msg and str(corrupt) in msg and str(missing) in msg
    assert f"completed (2): {sim['dates'][0]}, {sim['dates'][3]}" in msg
    res = info.value.result
    assert res.failed.keys() == {sim["dates"][1], sim["dates"][2]}
    assert "not a readable Parquet file" in res.failed[sim["dates"][1]]
    assert "no such tick file" in res.failed[sim["dates"][2]]
    assert list(res.summary["status"]) == ["ok", "failed", "failed", "ok"]
    assert list(res.ohlc["date"]) == [sim["dates"][0], sim["dates"][3]]
    good = sequential.ohlc.iloc[[0, 3]].reset_index(drop=True)
    pd.testing.assert_frame_equal(res.ohlc, good, check_exact=True)
    seq = kd.replay_days_sequential(specs, errors="return")  # the same status table, in process
    assert_identical(res, seq)


def test_bad_ticks_and_bad_state_name_the_file(sim, tmp_path):
    day = sim["days"][0]
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("time,code,price\n32400000000000,005930,70000\n32400000000001,999999,100\n")
    specs = [
        kd.DaySpec("2026-01-05", bad_csv, sim["specs"][0].state),
        kd.DaySpec("2026-01-06", sim["paths"][0], sim["specs"][0].state[:-1]),  # torn state
        kd.DaySpec("2026-01-07", sim["paths"][0], error="no start state: test"),
    ]
    res = kd.replay_days_sequential(specs, errors="return")
    err = res.failed
    assert str(bad_csv) in err["2026-01-05"] and "unknown stock code '999999'" in err["2026-01-05"]
    assert sim["paths"][0] in err["2026-01-06"] and "CorruptStateError" in err["2026-01-06"]
    assert err["2026-01-07"] == f"{sim['paths'][0]}: no start state: test"
    assert res.series.empty and res.ohlc.empty and len(res.summary) == 3 and not res.ok
    assert len(day) == N_TICKS


def test_argument_errors(sim, client):
    specs = sim["specs"]
    with pytest.raises(ValueError, match="appears twice"):
        kd.replay_days_sequential([specs[0], specs[0]])
    with pytest.raises(TypeError, match=r"`specs\[1\]` must be a DaySpec"):
        kd.replay_days_sequential([specs[0], "2026-03-24.parquet"])
    with pytest.raises(ValueError, match="`errors` must be"):
        kd.replay_days_sequential(specs, errors="ignore")
    with pytest.raises(ValueError, match="not 'tick'"):
        kd.replay_days(specs, client=client, grid="tick")
    with pytest.raises(ValueError, match="not several"):
        kd.replay_days(specs, client=client, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="`n_workers` must be an int >= 1"):
        kd.replay_days(specs, n_workers=0)
    with pytest.raises(ValueError, match="not with `scheduler`"):
        kd.replay_days(specs, scheduler="tcp://127.0.0.1:1", n_workers=2)
    with pytest.raises(TypeError, match="must be a distributed.Client"):
        kd.submit_days("tcp://127.0.0.1:1", specs)
    with pytest.raises(ValueError, match="`state` is empty"):
        kd.DaySpec("2026-03-23", "x.parquet")
    with pytest.raises(ValueError, match="ISO date"):
        kd.DaySpec("23/03/2026", "x.parquet", b"x")
    with pytest.raises(TypeError, match="`state` must be bytes"):
        kd.DaySpec("2026-03-23", "x.parquet", "state")  # type: ignore[arg-type]
    assert kd.DaySpec("20260323", Path("x.parquet"), b"x").date == "2026-03-23"


# ------------------------------------------------------------------ fsspec URLs
def test_fsspec_urls(sim, sequential, monkeypatch):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    specs = []
    for spec, path in zip(sim["specs"], sim["paths"]):
        url = f"memory://kospi-fast-test/{spec.date}.parquet"
        fs.pipe(url, Path(path).read_bytes())
        specs.append(kd.DaySpec(spec.date, url, spec.state, spec.audit_start))
    try:
        remote = kd.replay_days_sequential(specs)
        pd.testing.assert_frame_equal(remote.series, sequential.series, check_exact=True)
        pd.testing.assert_frame_equal(remote.ohlc, sequential.ohlc, check_exact=True)
        listed = kd.day_files("memory://kospi-fast-test")  # fsspec's own spelling of the URLs
        assert list(listed) == sim["dates"]
        assert all(u.startswith("memory://") and u.endswith(f"kospi-fast-test/{d}.parquet") for d, u in listed.items())
        # a CSV URL: codes keep their leading zeros
        day = sim["days"][0]
        local_csv = io.write_ticks(day, Path(sim["dir"]) / "day0.csv")
        fs.pipe("memory://kospi-fast-test/csv/day0.csv", local_csv.read_bytes())
        csv_spec = kd.DaySpec(specs[0].date, "memory://kospi-fast-test/csv/day0.csv", specs[0].state)
        r = kd.replay_days_sequential([csv_spec])
        np.testing.assert_array_equal(_bits(r.series["level"]), _bits(remote.series["level"][: len(r.series)]))
        # file:// URLs are local paths
        local = [kd.DaySpec(s.date, Path(p).as_uri(), s.state, s.audit_start)
                 for s, p in zip(sim["specs"], sim["paths"])]
        pd.testing.assert_frame_equal(kd.replay_days_sequential(local).ohlc, sequential.ohlc, check_exact=True)
        # a missing remote file fails its day, naming the URL
        gone = kd.DaySpec(specs[0].date, "memory://kospi-fast-test/nope.parquet", specs[0].state)
        err = kd.replay_days_sequential([gone], errors="return").failed[specs[0].date]
        assert "memory://kospi-fast-test/nope.parquet" in err
        # without fsspec: a clear error per day, not a crash
        monkeypatch.setitem(sys.modules, "fsspec", None)
        err = kd.replay_days_sequential(specs[:1], errors="return").failed[specs[0].date]
        assert "fsspec is not installed" in err and specs[0].path in err
    finally:
        fs.rm("memory://kospi-fast-test", recursive=True)


def test_fsspec_urls_read_through_the_io_path(sim, sequential):
    """A URL day is read by io.iter_ticks like a local file: every container of the registry
    (a gzipped CSV too), storage_options passed through, errors naming the row and line."""
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    spec, day = sim["specs"][0], sim["days"][0]
    try:
        for suffix in (".csv.gz", ".arrow", ".parquet"):
            local = io.write_ticks(day, Path(sim["dir"]) / f"day0{suffix}")
            url = f"memory://kf-dist-io/{spec.date}{suffix}"
            fs.pipe(url, local.read_bytes())
            r = kd.replay_days_sequential([kd.DaySpec(spec.date, url, spec.state)],
                                          storage_options={"skip_instance_cache": True}, batch_size=7_777)
            pd.testing.assert_frame_equal(r.ohlc, sequential.ohlc.iloc[:1], check_exact=True)
        code = day.universe.codes[int(day.ids[5])]  # row 5 (line 7): a price that is no number
        text = io.write_ticks(day, Path(sim["dir"]) / "day0.csv").read_text().splitlines()
        text[6] = f'{day.times[5]},"{code}",abc'
        fs.pipe("memory://kf-dist-io/bad.csv", ("\n".join(text) + "\n").encode())
        err = kd.replay_days_sequential([kd.DaySpec(spec.date, "memory://kf-dist-io/bad.csv", spec.state)],
                                        errors="return").failed[spec.date]
        assert "memory://kf-dist-io/bad.csv: tick row 5 (line 7)" in err and "'abc'" in err
    finally:
        fs.rm("memory://kf-dist-io", recursive=True)


def test_day_files(tmp_path):
    for name in ("2026-03-10.parquet", "20260311.csv.gz", "2026-03-12.arrow", "README.md", "notes.parquet"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "2026-03-13.parquet").mkdir()
    got = kd.day_files(tmp_path)
    assert got == {"2026-03-10": str(tmp_path / "2026-03-10.parquet"),
                   "2026-03-11": str(tmp_path / "20260311.csv.gz"),
                   "2026-03-12": str(tmp_path / "2026-03-12.arrow")}
    (tmp_path / "2026-03-10.csv").write_bytes(b"")
    with pytest.raises(ValueError, match="two tick files for 2026-03-10"):
        kd.day_files(tmp_path)
    (tmp_path / "2026-03-10.csv").unlink()
    (tmp_path / "2026-02-30.parquet").write_bytes(b"")
    with pytest.raises(ValueError, match="2026-02-30.parquet: named like a day file"):
        kd.day_files(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        kd.day_files(tmp_path / "nope")
    with pytest.raises(NotADirectoryError):
        kd.day_files(tmp_path / "README.md")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no day files"):
        kd.day_files(empty)


# ------------------------------------------------------------------ start states from end-of-day data
EOD_HEADER = ["Date", "Code", "Name", "Market", "Close", "Changes", "Stocks", "InKOSPIIndex"]


def _write_eod(path: Path, sim) -> tuple[Path, str]:
    """EOD rows for the sample's day (2026-03-20) and the simulated days (their closes); one stock's
    listed shares change on the second simulated day (a rebasing at that open)."""
    u = kf.sample_universe()
    closes = [("2026-03-20", u.base_prices)]
    for day, date in zip(sim["days"], sim["dates"]):
        closes.append((date, kd._last_prices(day.universe.base_prices, day.ids, day.prices)))
    changed = u.codes[5]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(EOD_HEADER)
        prev = u.base_prices
        for k, (date, close) in enumerate(closes):
            for i, code in enumerate(u.codes):
                stocks = int(u.shares[i]) + (1_000_000 if code == changed and k >= 2 else 0)
                w.writerow([date, code, u.names[i], "KOSPI", int(close[i]), int(close[i] - prev[i]), stocks,
                            1 if u.shares[i] > 0 else 0])
            prev = close
    return path, changed


def test_specs_from_eod(sim, tmp_path):
    eod_path, changed = _write_eod(tmp_path / "eod.csv", sim)
    files = dict(zip(sim["dates"], sim["paths"]))
    files["2026-03-20"] = sim["paths"][0]  # the EOD file's first day: nothing before it
    files["2026-04-01"] = sim["paths"][0]  # no EOD rows
    chained = {s.date: s for s in kd.specs_from_eod(eod_path, files)}
    assert "first day" in chained["2026-03-20"].error and "no end-of-day rows" in chained["2026-04-01"].error
    assert chained[sim["dates"][0]].engine().level == pytest.approx(100.0, rel=1e-12)
    e2 = chained[sim["dates"][1]].engine()
    assert e2.audit[chained[sim["dates"][1]].audit_start:][0].events[0].code == changed
    pub = {"2026-03-20": SAMPLE_PREVIOUS_CLOSE, sim["dates"][0]: 5700.0}  # nothing for later days
    specs = {s.date: s for s in kd.specs_from_eod(eod_path, files, published=pub)}
    assert specs[sim["dates"][0]].engine().previous_close == pytest.approx(SAMPLE_PREVIOUS_CLOSE, rel=1e-12)
    assert specs[sim["dates"][1]].engine().previous_close == pytest.approx(5700.0, rel=1e-12)
    assert f"no published close for the previous day {sim['dates'][1]}" in specs[sim["dates"][2]].error
    res = kd.replay_days_sequential(list(specs.values()), errors="return")
    assert res.completed == sim["dates"][:2]
    assert list(res.audit["date"]) == [sim["dates"][1]] and changed in res.audit["events"].iloc[0]


# ------------------------------------------------------------------ the CLI
def test_cli_replay_days_on_a_local_cluster(sim, tmp_path, capsys):
    eod_path, changed = _write_eod(tmp_path / "eod.csv", sim)
    index = tmp_path / "kospi.csv"
    pub = {"2026-03-20": SAMPLE_PREVIOUS_CLOSE}
    pub.update({d: 5700.0 + 10 * k for k, d in enumerate(sim["dates"])})
    index.write_text("Date,Close\n" + "".join(f"{d},{c}\n" for d, c in pub.items()))
    ticks = tmp_path / "ticks"
    ticks.mkdir()
    for date, path in zip(sim["dates"], sim["paths"]):
        (ticks / f"{date}.parquet").write_bytes(Path(path).read_bytes())
    bad = ticks / f"{sim['dates'][2]}.parquet"
    bad.write_bytes(b"garbage")
    out = tmp_path / "out"
    with no_leaked_processes():  # the command's own LocalCluster is closed with its workers
        code = cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--published", str(index),
                         "--workers", "2", "--out", str(out), "--progress", "always"])
    cap = capsys.readouterr()
    assert code == 1, cap.err
    assert "on a local Dask cluster of 2 worker processes" in cap.out
    assert "3 of 4 days completed" in cap.out and f"{sim['dates'][2]}  FAILED" in cap.out
    assert "1 of 4 days failed" in cap.err and str(bad) in cap.err
    assert f"completed: {sim['dates'][0]}, {sim['dates'][1]}, {sim['dates'][3]}" in cap.err
    assert "[4/4]" in cap.err
    ohlc = pd.read_csv(out / "ohlc.csv", dtype={"date": str})
    assert list(ohlc["date"]) == [sim["dates"][0], sim["dates"][1], sim["dates"][3]]
    want_prev = [pub["2026-03-20"], pub[sim["dates"][0]], pub[sim["dates"][2]]]
    np.testing.assert_allclose(ohlc["previous_close"], want_prev, rtol=1e-12)
    audit = pd.read_csv(out / "audit.csv", dtype={"date": str})
    assert list(audit["date"]) == [sim["dates"][1]] and changed in audit["events"].iloc[0]
    assert list(audit["index"]) == ["KOSPI"] and set(ohlc["index"]) == {"KOSPI"}
    series = pd.read_parquet(out / "series.parquet")
    ref = kd.replay_days_sequential(kd.specs_from_eod(eod_path, kd.day_files(ticks), published=index),
                                    errors="return")
    np.testing.assert_array_equal(_bits(series["level"]), _bits(ref.series["level"]))


def test_cli_replay_days_chained_sequential_and_on_a_running_scheduler(sim, client, tmp_path, capsys):
    eod_path, _ = _write_eod(tmp_path / "eod.csv", sim)
    ticks = tmp_path / "ticks"
    ticks.mkdir()
    for date, path in zip(sim["dates"], sim["paths"]):
        (ticks / f"{date}.parquet").write_bytes(Path(path).read_bytes())
    assert cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--sequential"]) == 0
    seq = capsys.readouterr().out
    assert "chained from 100" in seq and "4 of 4 days completed" in seq and "100.00" in seq
    addr = client.scheduler.address
    assert cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--scheduler", addr]) == 0
    dist = capsys.readouterr().out
    assert f"on the Dask cluster at {addr}" in dist

    def rows(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if ln.startswith("  2026-")]

    assert len(rows(seq)) == 4 and rows(seq) == rows(dist)
    assert cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--scheduler", "tcp://x:1",
                     "--workers", "2"]) == 2
    assert "cannot be combined with --scheduler" in capsys.readouterr().err
    assert cli.main(["replay-days", str(tmp_path / "nope"), "--eod", str(eod_path)]) == 2
    assert "no such directory" in capsys.readouterr().err


# ------------------------------------------------------------------ a family: any book, any index
def _k200(u: kf.Universe) -> list[str]:
    """200 codes standing in for the KOSPI 200 constituents (an input), the changed stock among them."""
    caps = u.base_prices.astype(np.float64) * u.shares
    return [u.codes[i] for i in np.argsort(-caps, kind="stable")[:200]]


@pytest.fixture(scope="module")
def family_specs(sim):
    u = sim["days"][0].universe
    fam = kf.IndexFamily.kospi(u, kospi200=_k200(u), levels={"KOSPI": SAMPLE_PREVIOUS_CLOSE, "KOSPI 200": 812.5})
    return fam, kd.specs_from_simulated(sim["days"], sim["paths"], book=fam, index="KOSPI 200")


def test_family_days_on_the_cluster_equal_sequential_and_one_family_carried_through(sim, family_specs, client,
                                                                                     sequential):
    fam, specs = family_specs
    assert all(s.index == "KOSPI 200" for s in specs) and type(specs[2].book()) is kf.IndexFamily
    seq = kd.replay_days_sequential(specs)
    dist = kd.replay_days(specs, client=client)
    assert_identical(dist, seq)
    assert set(seq.ohlc["index"]) == {"KOSPI 200"} and seq.completed == sim["dates"]
    assert set(dist.timings["pid"]) <= set(client.run(os.getpid).values())
    # the days are those of one family replayed day after day, rolled at each close
    f = persist.loads(persist.dumps(fam))
    for k, (date, path) in enumerate(zip(sim["dates"], sim["paths"])):
        if k:
            f.roll(closes=f.prices, date=date)
        r = io.replay_file(path, f, index="KOSPI 200")
        got = seq.series[seq.series["date"] == date]
        np.testing.assert_array_equal(_bits(got["level"]), _bits(r.grid_levels))
        assert seq.ohlc.iloc[k]["close"] == r.close == f.levels[f.index_of("KOSPI 200")]
    assert seq.ohlc.iloc[0]["previous_close"] == fam.previous_levels[fam.index_of("KOSPI 200")] == pytest.approx(812.5)
    # the KOSPI column of the same family is the engine's run, bit for bit
    kospi = kd.replay_days_sequential([kd.DaySpec(s.date, s.path, s.state, s.audit_start, index="KOSPI")
                                       for s in specs])
    np.testing.assert_array_equal(_bits(kospi.series["level"]), _bits(sequential.series["level"]))


def test_specs_from_eod_chain_a_family_through_roll(sim, tmp_path):
    """End-of-day chaining with a family: the day's events go through book.roll. A one-index
    family of KOSPI gives the engine's days bit for bit; KOSPI 200 is rebased when its member's
    listed shares change."""
    eod_path, changed = _write_eod(tmp_path / "eod.csv", sim)
    files = dict(zip(sim["dates"], sim["paths"]))

    def kospi_family(universe, members, level):
        codes = [c for c, m in zip(universe.codes, members) if m]
        return kf.IndexFamily(universe, [kf.IndexDefinition("KOSPI", codes, level=level, follows_market=True)])

    engine = kd.replay_days_sequential(kd.specs_from_eod(eod_path, files))
    family = kd.replay_days_sequential(kd.specs_from_eod(eod_path, files, book=kospi_family))
    assert family.equals(engine) and len(family.audit) == 1
    u = sim["days"][0].universe
    k200 = partial(cli.index_book, "KOSPI 200", constituents=_k200(u))
    assert changed in _k200(u)
    specs = kd.specs_from_eod(eod_path, files, book=k200)
    assert type(specs[1].book()) is kf.IndexFamily and specs[1].book().names == ("KOSPI 200",)
    res = kd.replay_days_sequential(specs)
    assert res.completed == sim["dates"] and set(res.ohlc["index"]) == {"KOSPI 200"}
    assert list(res.audit["date"]) == [sim["dates"][1]] and list(res.audit["index"]) == ["KOSPI 200"]
    assert changed in res.audit["events"].iloc[0]
    assert res.ohlc["previous_close"].iloc[0] == pytest.approx(100.0, rel=1e-12)
    # with published closes (of KOSPI 200): each day calibrated to the previous one
    pub = {"2026-03-20": 812.5, **{d: 800.0 + k for k, d in enumerate(sim["dates"])}}
    res = kd.replay_days_sequential(kd.specs_from_eod(eod_path, files, published=pub, book=k200))
    np.testing.assert_allclose(res.ohlc["previous_close"], [812.5, 800.0, 801.0, 802.0], rtol=1e-12)
    bad = kd.specs_from_eod(eod_path, files, published=pub, book=partial(cli.index_book, "Nope"))
    assert all("unknown index 'Nope'" in s.error for s in bad)


def test_cli_replay_days_kospi200_cluster_equals_sequential(sim, client, tmp_path, capsys):
    eod_path, _ = _write_eod(tmp_path / "eod.csv", sim)
    ticks = tmp_path / "ticks"
    ticks.mkdir()
    for date, path in zip(sim["dates"], sim["paths"]):
        (ticks / f"{date}.parquet").write_bytes(Path(path).read_bytes())
    codes = _k200(sim["days"][0].universe)
    members = tmp_path / "k200.txt"
    members.write_text("".join(f"{c}\n" for c in codes), encoding="utf-8")
    index = tmp_path / "k200_closes.csv"
    index.write_text("Date,Close\n2026-03-20,812.5\n" + "".join(f"{d},{800 + k}\n" for k, d in enumerate(sim["dates"])))
    args = ["replay-days", str(ticks), "--eod", str(eod_path), "--index", "KOSPI 200", "--members", str(members),
            "--published", str(index)]
    outs = {}
    for how, extra in (("seq", ["--sequential"]), ("dist", ["--scheduler", client.scheduler.address])):
        assert cli.main(args + extra + ["--out", str(tmp_path / how)]) == 0, capsys.readouterr().err
        outs[how] = capsys.readouterr().out
    assert f"KOSPI 200 (200 constituents from {members})" in outs["seq"] and "4 of 4 days completed" in outs["dist"]

    def rows(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if ln.startswith("  2026-")]

    assert len(rows(outs["seq"])) == 4 and rows(outs["seq"]) == rows(outs["dist"])
    a, b = (pd.read_parquet(tmp_path / how / "series.parquet") for how in ("seq", "dist"))
    np.testing.assert_array_equal(_bits(a["level"]), _bits(b["level"]))
    ref = kd.replay_days_sequential(kd.specs_from_eod(eod_path, kd.day_files(ticks), published=index,
                                                      book=partial(cli.index_book, "KOSPI 200", constituents=codes)))
    np.testing.assert_array_equal(_bits(a["level"]), _bits(ref.series["level"]))
    ohlc = pd.read_csv(tmp_path / "dist" / "ohlc.csv")
    assert set(ohlc["index"]) == {"KOSPI 200"}
    np.testing.assert_allclose(ohlc["previous_close"], [812.5, 800.0, 801.0, 802.0], rtol=1e-12)
    # the refusals: a path given to --index (its old meaning), KOSPI 200 without its constituents
    assert cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--index", str(index)]) == 2
    assert "give the published closes with --published INDEX.csv" in capsys.readouterr().err
    assert cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--index", "KOSPI 200"]) == 2
    assert "needs the KOSPI 200 constituents" in capsys.readouterr().err
    assert cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--members", str(members)]) == 2
    assert "--members gives the constituents of KOSPI 200/100/50" in capsys.readouterr().err


def test_local_cluster_listens_on_loopback_only(monkeypatch):
    """replay-days' own cluster: scheduler and dashboard on 127.0.0.1, never every interface
    (distributed turns dashboard_address ':0' into 0.0.0.0)."""
    dist = pytest.importorskip("distributed")
    seen = {}

    class Stop(Exception):
        pass

    def fake_cluster(**opts):
        seen.update(opts)
        raise Stop

    monkeypatch.setattr(dist, "LocalCluster", fake_cluster)
    with pytest.raises(Stop), kd._client(None, None, 1, None):
        pass
    assert seen["host"] == "127.0.0.1"
    assert seen["dashboard_address"].startswith("127.0.0.1:")


def test_policy_checks_every_trade_of_each_day(sim, tmp_path, capsys):
    # Day 0 with two planted bad prints: an off-grid price inside the band and a 10x fat
    # finger. 'reject' sets both aside (counted), and the day equals the clean file's replay;
    # 'raise' fails the day at the first; 'off' applies the off-grid print and the book's band
    # then refuses the fat finger, failing the day by name.
    import dataclasses

    day = sim["days"][0]
    prices = day.prices.copy()
    a, b = 1000, 2000
    prices[a] = prices[a] + 1 if prices[a] >= 2000 else prices[a]  # off the tick grid above 2,000
    assert prices[a] >= 2000 and not kf.krx.is_on_tick(np.array([prices[a]])).all()
    prices[b] = prices[b] * 10
    bad = dataclasses.replace(day, prices=prices)
    path = io.write_ticks(bad, tmp_path / f"{sim['dates'][0]}.parquet")
    keep = np.ones(len(day), dtype=bool)
    keep[[a, b]] = False
    clean = dataclasses.replace(day, times=day.times[keep], ids=day.ids[keep], prices=prices[keep])
    (tmp_path / "clean").mkdir()
    clean_path = io.write_ticks(clean, tmp_path / "clean" / f"{sim['dates'][0]}.parquet")
    spec = dataclasses.replace(sim["specs"][0], path=str(path))

    rejected = kd.replay_day(spec, policy="reject")
    assert rejected.ok and sum(rejected.rejected.values()) == 2, rejected.rejected
    want = kd.replay_day(dataclasses.replace(spec, path=str(clean_path)), policy="off")
    assert want.ok and not want.rejected
    assert rejected.close == want.close and rejected.n_ticks == want.n_ticks == len(day) - 2
    res = kd.replay_days_sequential([spec], errors="return")  # 'reject' is the default
    assert res.summary["n_rejected"].tolist() == [2]

    raised = kd.replay_day(spec, policy="raise")
    assert not raised.ok and str(path) in raised.error
    off = kd.replay_day(spec, policy="off")
    assert not off.ok and "band" in off.error, off.error
    with pytest.raises(ValueError, match=r"`policy` must be one of reject, raise, off; got 'lenient'"):
        kd.replay_days_sequential([spec], policy="lenient")

    # The CLI: the rejected column per day; --policy raise fails the day (exit 1).
    eod_path, _ = _write_eod(tmp_path / "eod.csv", sim)
    ticks = tmp_path / "ticks"
    ticks.mkdir()
    (ticks / path.name).write_bytes(path.read_bytes())
    assert cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--sequential", "--progress", "never"]) == 0
    out = capsys.readouterr().out
    assert "rejected" in out and re.search(rf"{sim['dates'][0]}\s+ok\s.*\s2\n", out), out
    assert cli.main(["replay-days", str(ticks), "--eod", str(eod_path), "--sequential", "--progress", "never",
                     "--policy", "raise"]) == 1
    assert "1 of 1 days failed" in capsys.readouterr().err
