"""``kospi-fast replay``: a simulated day written to Parquet, CSV and Arrow replays through the CLI
(in process and as a subprocess) to exactly the levels of ``kospi_fast.replay``; the chart."""

from __future__ import annotations

import importlib
import os
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import cli
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE



pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = importlib.import_module("pyarrow.parquet")
io = importlib.import_module("kospi_fast.io")

N_TICKS = 50_000


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replay")
    u = kf.sample_universe()
    day = kf.simulate_day(u, N_TICKS, seed=11)
    out = {
        "day": day,
        "parquet": io.write_ticks(day, tmp / "day.parquet", batch_size=8_192),
        "csv": io.write_ticks(day, tmp / "day.csv"),
        "arrow": io.write_ticks(day, tmp / "day.arrow", time="timestamp", batch_size=10_000),
        "universe": io.write_universe(u, tmp / "eod.csv", date="2026-03-20"),
        "tmp": tmp,
    }
    engine = kf.IndexEngine(u, level=SAMPLE_PREVIOUS_CLOSE)
    out["levels"] = kf.replay(u.shares, u.base_prices, engine.divisor, day.ids, day.prices)
    out["start"] = engine.level
    return out


def read_levels(path):
    if str(path).endswith(".csv"):
        import pyarrow.csv as pacsv

        return pacsv.read_csv(str(path)).column("level").to_numpy()
    if str(path).endswith(".arrow"):
        return pa.ipc.open_file(pa.memory_map(str(path))).read_all().column("level").to_numpy()
    return pq.read_table(path, columns=["level"]).column(0).to_numpy()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "arrow"])
def test_replay_cli_every_tick_equals_kf_replay(files, fmt, capsys, tmp_path):
    out = tmp_path / f"levels.{fmt}"
    rc = cli.main(["replay", str(files[fmt]), "--universe", str(files["universe"]), "--level",
                   str(SAMPLE_PREVIOUS_CLOSE), "--grid", "tick", "--out", str(out), "--top", "5",
                   "--batch-size", "7000"])
    text = capsys.readouterr().out
    assert rc == 0
    levels = read_levels(out)
    assert np.array_equal(levels, files["levels"])  # exact, not approximate
    for word in ("previous close", "open", "high", "low", "close", "trades", "ticks/s",
                 "top 5 contributors", "top 5 sectors", "level == full recompute: True"):
        assert word in text, word
    assert f"{N_TICKS:,}" in text
    assert f"{kf.published(files['levels'][-1]):,.2f}" in text


def test_replay_cli_grid_output(files, capsys, tmp_path):
    import pandas as pd

    out = tmp_path / "grid.parquet"
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    grid = io.publication_times()
    assert np.array_equal(df["time"].to_numpy(), grid)
    t = files["day"].times
    pos = np.searchsorted(t, grid, side="right") - 1
    expect = np.where(pos >= 0, files["levels"][np.maximum(pos, 0)], files["start"])
    assert np.array_equal(df["level"].to_numpy(), expect)
    assert df["clock"].iloc[0] == "09:00:10" and df["published"].iloc[-1] == kf.published(files["levels"][-1])
    assert "grid 10s" in capsys.readouterr().out


def test_replay_cli_subprocess(files, tmp_path):
    out = tmp_path / "sub.parquet"
    env = dict(os.environ)
    # the directory the imported kospi_fast lives in: the installed package, or src/ in a dev run
    env["PYTHONPATH"] = os.pathsep.join([str(Path(kf.__file__).resolve().parents[1])]
                                        + [p for p in [env.get("PYTHONPATH")] if p])
    res = subprocess.run(
        [sys.executable, "-m", "kospi_fast.cli", "replay", str(files["csv"]), "--universe", str(files["universe"]),
         "--level", str(SAMPLE_PREVIOUS_CLOSE), "--grid", "tick", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert res.returncode == 0, res.stderr
    assert "level == full recompute: True" in res.stdout
    assert np.array_equal(read_levels(out), files["levels"])


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_replay_cli_plot(files, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "day.png"
    assert cli.main(["replay", str(files["arrow"]), "--universe", "sample", "--plot", str(png), "--top", "8"]) == 0
    assert png.is_file() and png.stat().st_size > 10_000
    assert png_size(png) == (1200, 800)
    assert str(png) in capsys.readouterr().out


def test_demo_plot_reuses_the_chart(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "demo.png"
    assert cli.main(["demo", "--ticks", "20000", "--seed", "3", "--top", "5", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "top 5 contributors" in out and "level == full recompute: True" in out
    assert png_size(png) == (1200, 800)


def test_plot_day_direct(files, tmp_path):
    pytest.importorskip("matplotlib")
    from kospi_fast.plot import plot_day

    u = files["day"].universe
    res = io.replay_file(files["parquet"], kf.IndexEngine(u, level=SAMPLE_PREVIOUS_CLOSE))
    path = plot_day(res, tmp_path / "small.png", width=640, height=480, top=3)
    assert png_size(path) == (640, 480)
    with pytest.raises(ValueError, match="must be > 0"):
        plot_day(res, tmp_path / "x.png", width=0)


def _family_levels(defn, day, level):
    """Per-trade levels of a one-index IndexFamily of ``defn`` calibrated to ``level``."""
    fam = kf.IndexFamily(day.universe, [replace(defn, level=level)])
    return fam.update_many(day.ids, day.prices)[:, 0]


def test_replay_cli_family_index(files, capsys, tmp_path):
    out = tmp_path / "large.parquet"
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--index", "KOSPI Large",
                     "--level", "1000", "--top", "3", "--grid", "tick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "previous close     1,000.00" in text and "level == full recompute: True" in text
    u, day = files["day"].universe, files["day"]
    want = _family_levels(kf.IndexFamily.kospi(u).definition("KOSPI Large"), day, 1000.0)
    assert np.array_equal(read_levels(out), want)


def _k200_codes(u):
    caps = u.base_prices.astype(np.float64) * u.shares
    return [u.codes[i] for i in np.argsort(-caps, kind="stable")[:200]]


def _members_file(tmp_path, codes, u, kind):
    """The KOSPI 200 constituents written as a plain list, a CSV with a header, or KRX's download."""
    if kind == "txt":  # codes as numbers lose their zeros: '5930' reads as '005930'
        path = tmp_path / "k200.txt"
        path.write_text("# KOSPI 200, 2026-03-20\n" + "".join(f"{int(c)}\n\n" for c in codes), encoding="utf-8")
    elif kind == "csv":
        path = tmp_path / "k200.csv"
        path.write_text("Name,Code\n" + "".join(f"S{k},{c}\n" for k, c in enumerate(codes)), encoding="utf-8")
    else:
        import pandas as pd

        ids = u.ids_of(codes)
        path = tmp_path / "k200_krx.csv"
        pd.DataFrame({"종목코드": codes, "종목명": [u.names[i] for i in ids], "종가": u.base_prices[ids],
                      "대비": np.zeros(len(ids), np.int64), "상장시가총액": u.base_prices[ids] * u.shares[ids]}
                     ).to_csv(path, index=False, encoding="cp949")
    return path


@pytest.mark.parametrize("kind", ["txt", "csv", "krx"])
def test_replay_cli_kospi200_members_equals_family_update_many(files, capsys, tmp_path, kind):
    """--index 'KOSPI 200' runs on an IndexFamily: every level equals IndexFamily.update_many's."""
    u, day = files["day"].universe, files["day"]
    codes = _k200_codes(u)
    members = _members_file(tmp_path, codes, u, kind)
    out = tmp_path / "k200.parquet"
    assert cli.main(["replay", str(files["parquet"]), "--universe", str(files["universe"]), "--index", "KOSPI 200",
                     "--members", str(members), "--level", "812.5", "--grid", "tick", "--out", str(out),
                     "--batch-size", "9000"]) == 0
    text = capsys.readouterr().out
    assert f"KOSPI 200: 200 constituents from {members}" in text
    assert "850 stocks, 850 members" in text  # the market membership is untouched
    assert "previous close       812.50" in text and "level == full recompute: True" in text
    fam = kf.IndexFamily.kospi(u, kospi200=codes, levels={"KOSPI 200": 812.5})
    want = fam.update_many(day.ids, day.prices)[:, fam.index_of("KOSPI 200")]
    assert np.array_equal(read_levels(out), want)  # bit for bit
    assert f"{kf.published(want[-1]):,.2f}" in text


def test_replay_cli_kospi200_equal_weight(files, capsys, tmp_path):
    u, day = files["day"].universe, files["day"]
    codes = _k200_codes(u)
    members = _members_file(tmp_path, codes, u, "txt")
    out = tmp_path / "ew.parquet"
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--index", "KOSPI 200 Equal Weight",
                     "--members", str(members), "--level", "1000", "--grid", "tick", "--out", str(out)]) == 0
    capsys.readouterr()
    fam = kf.IndexFamily.kospi(u, kospi200=codes, equal_weighted=True)
    want = _family_levels(fam.definition("KOSPI 200 Equal Weight"), day, 1000.0)
    assert np.array_equal(read_levels(out), want)


def test_replay_cli_kospi200_needs_its_members(files, capsys, tmp_path):
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--index", "KOSPI 200"]) == 2
    err = capsys.readouterr().err
    assert "--index 'KOSPI 200' needs the KOSPI 200 constituents" in err
    assert "KRX publishes no file" in err and "--members FILE" in err
    bad = tmp_path / "bad.txt"
    bad.write_text("005930\n000660\nsamsung\n", encoding="utf-8")
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--index", "KOSPI 200",
                     "--members", str(bad)]) == 2
    assert f"--members {bad}: line 3: not a 6-character KRX code such as '005930': 'samsung'" in capsys.readouterr().err
    bad.write_text("005930\n000660\n5930\n", encoding="utf-8")
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--index", "KOSPI 200",
                     "--members", str(bad)]) == 2
    assert "line 3: '005930' repeats line 1" in capsys.readouterr().err
    bad.write_text("005930\n123456\n", encoding="utf-8")
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--index", "KOSPI 200",
                     "--members", str(bad)]) == 2
    assert "'123456' is not in the universe" in capsys.readouterr().err


def test_replay_cli_progress_bar(files, capsys):
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--progress", "always"]) == 0
    assert "replay" in capsys.readouterr().err


def test_replay_cli_progress_fallbacks(files, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    monkeypatch.setitem(sys.modules, "rich.progress", None)
    assert cli.main(["replay", str(files["csv"]), "--universe", "sample", "--progress", "always"]) == 0
    assert capsys.readouterr().err  # tqdm or the plain bar
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--progress", "always"]) == 0
    assert "100.0%" in capsys.readouterr().err


def test_replay_cli_errors(files, capsys, tmp_path):
    u = files["universe"]
    assert cli.main(["replay", str(tmp_path / "none.parquet"), "--universe", str(u)]) == 2
    assert "no such tick file" in capsys.readouterr().err
    assert cli.main(["replay", str(files["parquet"]), "--universe", str(tmp_path / "none.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("time,code,price\n32400000000000,005930,199400\n32400000000001,123456,1000\n", encoding="utf-8")
    assert cli.main(["replay", str(bad), "--universe", str(u)]) == 2
    err = capsys.readouterr().err
    assert "unknown stock code '123456'" in err and "tick row 1 (line 3)" in err
    bad.write_text("ts,ticker,px,qty\n", encoding="utf-8")
    cols = tmp_path / "cols.csv"
    cols.write_text("when,code,price\n1,005930,1\n", encoding="utf-8")
    assert cli.main(["replay", str(cols), "--universe", str(u)]) == 2
    assert "missing tick column 'time'" in capsys.readouterr().err
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--index", "Nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown index 'Nope'" in err and "KOSPI Large" in err and "KOSPI 200" in err
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--grid", "often"]) == 2
    assert "`grid` must be 'tick' or a step" in capsys.readouterr().err
    weird = tmp_path / "weird.csv"
    weird.write_text("a,b\n1,2\n", encoding="utf-8")
    assert cli.main(["replay", str(files["parquet"]), "--universe", str(weird)]) == 2
    assert "cannot tell the layout" in capsys.readouterr().err


@pytest.mark.realdata
def test_replay_cli_on_real_eod_universe(files, capsys, tmp_path):
    """Ticks for the real 2026-03-20 members replayed from the real EOD universe: the level
    moves from the previous close by exactly Σ Δprice × shares / divisor."""
    from conftest import shared_path

    eod = shared_path("data", "kospi_stocks_eod_20260309_20260320.csv")
    lu = io.universe_from_fdr(eod, date="2026-03-20")
    u = lu.universe
    rng = np.random.default_rng(1)
    ids = rng.choice(np.flatnonzero(lu.members), 5_000).astype(np.int32)
    times = np.sort(rng.integers(9 * 3600 * 10**9, 15 * 3600 * 10**9, ids.shape[0]))
    prices = kf.krx.round_to_tick((u.base_prices[ids] * rng.uniform(0.97, 1.03, ids.shape[0])).astype(np.int64),
                                  mode="nearest", date="2026-03-23")
    day = kf.SimulatedDay(u, "2026-03-23", 1, times, ids, prices)
    path = io.write_ticks(day, tmp_path / "real.parquet")
    out = tmp_path / "real_levels.parquet"
    assert cli.main(["replay", str(path), "--universe", str(eod), "--date", "2026-03-20", "--level", "5781.20",
                     "--grid", "tick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "951 stocks, 837 members" in text
    engine = lu.engine(level=5781.20)
    expect = kf.replay(engine.index_shares, u.base_prices, engine.divisor, ids, prices)
    assert np.array_equal(read_levels(out), expect)


# ---------------------------------------------------------------- the KRX checks (issue 12)
@pytest.fixture(scope="module")
def fat_finger(files, tmp_path_factory):
    """The simulated day with one 005930 trade keyed 10x (199,400 -> 1,994,000) at 09:30."""
    day = files["day"]
    k = int(np.searchsorted(day.times, 9 * 3600 * 10**9 + 30 * 60 * 10**9)) + np.flatnonzero(
        day.ids[np.searchsorted(day.times, 9 * 3600 * 10**9 + 30 * 60 * 10**9):] == 0)[0]
    prices = day.prices.copy()
    prices[k] *= 10
    path = io.write_ticks(replace(day, prices=prices), tmp_path_factory.mktemp("fat") / "fat.parquet")
    return path, int(prices[k])


def _high(out: str) -> float:
    line = next(x for x in out.splitlines() if x.strip().startswith("high"))
    return float(line.split()[1].replace(",", ""))


def test_replay_cli_fat_finger_is_rejected_by_default(files, fat_finger, capsys):
    path, _ = fat_finger
    assert cli.main(["replay", str(path), "--universe", "sample"]) == 0
    out = capsys.readouterr().out
    clean = kf.IndexEngine(kf.sample_universe(), level=SAMPLE_PREVIOUS_CLOSE)
    assert _high(out) < 1.05 * clean.level  # not ~19,000: the 10x trade was not applied
    assert "KRX checks     reject" in out
    assert "1 trades rejected, 0 off-hours ignored" in out
    assert "         1  price outside the daily price limits" in out
    # the same through the API: the result counts it
    book = kf.IndexEngine(kf.sample_universe(), level=SAMPLE_PREVIOUS_CLOSE)
    res = io.replay_file(path, book, day=kf.TradingDay(book, "2026-03-23", policy="reject", check_calendar=False))
    assert res.rejected == {"price outside the daily price limits": 1} and res.n_ticks == N_TICKS - 1
    assert res.high < 1.05 * clean.level and res.exact


def test_replay_cli_policy_raise_and_off(files, fat_finger, capsys):
    path, fat = fat_finger
    assert cli.main(["replay", str(path), "--universe", "sample", "--policy", "raise"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and f"price {fat})" in err and "outside the daily price limits" in err
    assert cli.main(["replay", str(path), "--universe", "sample", "--policy", "off"]) == 0
    out = capsys.readouterr().out
    assert _high(out) > 2.5 * SAMPLE_PREVIOUS_CLOSE  # unchecked: the fat finger shows (about 19,000)
    assert "KRX checks" not in out
    assert cli.main(["replay", str(path), "--universe", "sample", "--policy", "off", "--day", "2026-03-23"]) == 2
    assert "--day" in capsys.readouterr().err


def test_replay_cli_plot_suffix_is_checked_before_the_replay(files, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--plot", str(tmp_path / "x.txt")]) == 2
    err = capsys.readouterr().err
    assert "--plot" in err and "x.txt" in err and ".png" in err
    assert not (tmp_path / "x.txt").exists()


def test_replay_cli_out_suffix_is_checked_before_the_replay_and_top_0(files, capsys, tmp_path):
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--out", str(tmp_path / "x.xlsx")]) == 2
    captured = capsys.readouterr()
    assert "--out" in captured.err and "x.xlsx" in captured.err and "format=" not in captured.err
    assert "previous close" not in captured.out  # refused before the replay ran
    assert cli.main(["replay", str(files["parquet"]), "--universe", "sample", "--top", "0"]) == 0
    assert "contributors" not in capsys.readouterr().out
