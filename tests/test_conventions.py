"""The small things a user expects of a library: one-line reprs that say what the object is,
``__all__`` on every public module (and only real names in it), ``python -m kospi_fast`` and
``--version``, ``--help`` without reStructuredText markup, tables that line up with Korean
names, the docs build wired into CI with warnings as errors."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import cli
from kospi_fast.cli._common import display_width, fit, format_summary, plain_text
from kospi_fast.events import Split

from conftest import REPO

MAX_REPR = 240


def _one_line(obj: object, starts: str) -> str:
    r = repr(obj)
    assert "\n" not in r, r
    assert len(r) <= MAX_REPR, f"{len(r)} chars: {r}"
    assert r.startswith(starts + "("), r
    assert " object at 0x" not in r and "array(" not in r and "np.float64" not in r, r
    return r


@pytest.fixture(scope="module")
def day():
    u = kf.sample_universe()
    return kf.simulate_day(u, n_ticks=20_000, seed=1, date="2026-03-23")


def test_repr_of_books_and_their_state(day):
    u = day.universe
    e = kf.IndexEngine(u, level=5781.20)
    assert _one_line(e, "IndexEngine") == ("IndexEngine(KOSPI 5,781.20, divisor 9.38049e+11; 850 stocks, "
                                          "850 members, version 0)")
    fam = kf.IndexFamily.kospi(u, kospi200=list(u.codes[:200]), levels={"KOSPI": 5781.20})
    r = _one_line(fam, "IndexFamily")
    assert r.startswith("IndexFamily(KOSPI 5,781.20, KOSPI 200 100.00, KOSPI Large 100.00, ... (24 indices); ")
    assert _one_line(fam.definition("KOSPI 200"), "IndexDefinition") == (
        "IndexDefinition('KOSPI 200', 200 members, weighting='cap', float_ratios=...)")
    assert _one_line(fam.to_state(), "BookState") == (
        "BookState(IndexFamily, 24 indices, 850 stocks, 0 audit records, 0 applied events)")
    e.roll([Split("005930", 10)], date="2026-03-24")
    assert _one_line(e.audit[-1], "RebaseRecord").startswith("RebaseRecord('KOSPI', effective 2026-03-24, "
                                                            "1 events on 1 stocks, divisor ")
    assert _one_line(u, "Universe") == "Universe(n=850, cap=5.42305e+15 price units)"
    assert _one_line(day, "SimulatedDay") == "SimulatedDay(2026-03-23, 20,000 trades, seed 1, 850 stocks)"


def test_repr_of_the_trading_day(day):
    e = kf.IndexEngine(day.universe, level=5781.20)
    td = kf.TradingDay(e, "2026-03-23", policy="reject", check_calendar=False)
    assert _one_line(td, "TradingDay") == ("TradingDay(2026-03-23, IndexEngine of KOSPI, policy='reject', "
                                          "no trade yet, 0 halted)")
    prices = day.prices.copy()
    prices[7] *= 10
    res = td.feed(day.times, day.ids, prices)
    assert _one_line(res, "FeedResult") == (f"FeedResult(20,000 trades: 19,999 applied, 0 ignored, 1 rejected, "
                                           f"level {e.level:,.2f})")
    assert "last trade 15:30:00" in _one_line(td, "TradingDay")
    s = td.series(10)  # 2,340 prints, hundreds of events: one line all the same
    assert len(s.events) > 100
    assert _one_line(s, "PublishedSeries") == (
        f"PublishedSeries(2,340 prints 09:00:10..15:30:00, open {s.open:,.2f}, high {s.high:,.2f}, "
        f"low {s.low:,.2f}, close {s.close:,.2f}, {len(s.events):,} events)")
    assert _one_line(s.events[0], "IndexEvent").startswith("IndexEvent(09:00:")
    assert repr(kf.publish.IndexEvent(55_800 * 10**9, "crossed_up", 5800.0, 5800.0)) == (
        "IndexEvent(15:30:00, 'crossed_up', 5,800.00, 5,800.00)")
    assert _one_line(td.session, "SessionTimes") == (
        "SessionTimes(2026-03-23, open 09:00:00, closing call 15:20:00, close 15:30:00 KST)")
    sampler = kf.publish.StepSampler(100.0, grid=[10, 20])
    assert _one_line(sampler, "StepSampler") == "StepSampler(1 step function, 2 grid times, 0 final, no trade yet)"


def test_repr_of_replay_results(day, tmp_path):
    io = pytest.importorskip("kospi_fast.io")
    pytest.importorskip("pyarrow")
    path = io.write_ticks(day, tmp_path / "2026-03-23.parquet")
    res = io.replay_file(path, kf.IndexEngine(day.universe, level=5781.20))
    r = _one_line(res, "ReplayResult")
    assert r.startswith(f"ReplayResult('KOSPI', close {res.close:,.2f} ({res.change:+,.2f}, {res.change_pct:+.2f}%), ")
    assert "20,000 trades, grid 10s x 2,340; " in r and "exact=True" in r
    assert _one_line(res.summary, "DaySummary").endswith("20,000 trades, grid 10s x 2,340)")
    assert _one_line(kf.publish.DaySummary.empty("KOSPI"), "DaySummary") == "DaySummary('KOSPI', no trades)"
    batch = next(iter(io.batches_from_arrays(day.times, day.ids, day.prices, batch_size=1000)))
    last = io.format_clock(int(day.times[999]))
    assert _one_line(batch, "TickBatch") == f"TickBatch(1,000 ticks from row 0, 09:00:00..{last}, volumes=False)"
    uni = io.write_universe(day.universe, tmp_path / "eod.csv", date="2026-03-20")
    _one_line(io.load_universe(uni), "LoadedUniverse")


def test_repr_of_days_results(day, tmp_path):
    io = pytest.importorskip("kospi_fast.io")
    pytest.importorskip("pyarrow")
    from kospi_fast import distributed as kd

    path = io.write_ticks(day, tmp_path / "2026-03-23.parquet")
    specs = kd.specs_from_simulated([day], [path], level=5781.20)
    specs.append(kd.DaySpec("2026-03-24", tmp_path / "missing.parquet", error="no start state"))
    out = kd.replay_days_sequential(specs, errors="return")
    assert _one_line(out, "DaysResult") == "DaysResult(2 days, 1 ok, 1 failed)"
    ok, failed = out.days
    assert _one_line(ok, "DayResult").startswith("DayResult(2026-03-23, 'KOSPI', close ")
    assert _one_line(failed, "DayResult").startswith("DayResult(2026-03-24, failed: ")


def test_repr_of_persistence(day, tmp_path):
    jb = kf.JournaledBook.create(kf.IndexEngine(day.universe, level=5781.20), tmp_path / "s.kfs", tmp_path / "j")
    try:
        jb.update_many(day.ids[:100], day.prices[:100], day.times[:100])
        r = _one_line(jb, "JournaledBook")
        assert r.startswith("JournaledBook(IndexEngine(KOSPI ") and r.endswith("state 's.kfs', journal 'j')")
        assert _one_line(jb.journal, "Journal").endswith("records 0..1, fsync=True)")
    finally:
        jb.close()
    cp = kf.persist.read_checkpoint(tmp_path / "s.kfs")
    assert _one_line(cp, "Checkpoint").startswith("Checkpoint(IndexEngine(KOSPI 5,781.20")
    (rec,) = kf.persist.Journal.read(tmp_path / "j")
    assert _one_line(rec, "JournalRecord") == "JournalRecord(seq 1, 100 trades, times=True)"


def test_repr_of_a_dividend_schedule(tmp_path):
    io = pytest.importorskip("kospi_fast.io")
    pytest.importorskip("pandas")
    table = tmp_path / "dividends.csv"
    table.write_text("code,ex_date,amount\n" + "".join(f"{c},2026-03-25,{1000 + k}\n" for k, c in
                                                    enumerate(kf.sample_universe().codes[:300])), encoding="utf-8")
    assert _one_line(io.load_dividends(table), "DividendSchedule") == (
        "DividendSchedule(300 events on 1 dates 2026-03-25..2026-03-25, source 'dividends.csv')")


def test_repr_of_kospi200_schedules(day):
    from kospi_fast import kospi200

    u = day.universe
    by_cap = [u.codes[i] for i in np.argsort(-(u.base_prices * u.shares), kind="stable")]
    fam = kf.IndexFamily.kospi(u, kospi200=by_cap[:200], sectors=False, size=False, date="2026-06-11")
    s = kospi200.Schedule(reserve=kospi200.ReserveList({"IT": by_cap[210:215]}))
    review = s.review("KOSPI 200", 2026, 6, by_cap[:198] + by_cap[200:202])
    assert _one_line(review, "Review") == "Review('KOSPI 200', effective 2026-06-12, 200 members)"
    assert _one_line(s, "Schedule") == "Schedule(1 Review; 0 market events on 0 dates)"
    assert _one_line(s.reserve, "ReserveList") == "ReserveList('IT': 5)"
    window = kospi200.WeightWindow("KOSPI 200")
    window.record(fam, "2026-06-11")
    assert _one_line(window, "WeightWindow") == "WeightWindow('KOSPI 200'; 1 days recorded)"
    comp = fam.as_of("2026-06-11")["KOSPI 200"]
    assert _one_line(comp, "Composition") == f"Composition(200 members, largest weight {comp.weights.max():.2%})"
    table = kospi200.FloatRatioTable([kospi200.FloatRatio(by_cap[0], 0.5, "2026-06-12"),
                                      kospi200.FloatRatio(by_cap[1], 0.45, "2026-12-11")])
    assert _one_line(table, "FloatRatioTable") == "FloatRatioTable(2 rows, 2 stocks, effective 2026-06-12..2026-12-11)"


def test_repr_of_the_live_objects(day):
    pub = kf.Publisher(kf.IndexEngine(day.universe, level=5781.20), day.date, check_calendar=False)
    assert _one_line(pub, "Publisher") == "Publisher(2026-03-23, KOSPI every 10 s; 0 prints emitted, open)"
    got = []
    pub.on_print(got.append)
    pub.feed(day.times, day.ids, day.prices)
    pub.close()
    assert _one_line(got[0], "Print") == (
        "Print('KOSPI', 2026-03-23 09:00:10 KST, 5,783.34 (+0.04%), 0 of 850 stale, 0 halted)")
    assert _one_line(got[-1], "Print").endswith("5,750.69 (-0.53%), 0 of 850 stale, 0 halted, close)")
    assert _one_line(pub.minute_bars()[0], "MinuteBar") == (
        "MinuteBar('KOSPI', 2026-03-23 09:00 KST, open 5,783.34, high 5,783.34, low 5,781.76, close 5,783.23, "
        "5 prints)")
    assert _one_line(pub, "Publisher") == "Publisher(2026-03-23, KOSPI every 10 s; 2,340 prints emitted, closed)"
    fam = kf.IndexFamily.kospi(day.universe, kospi200=list(day.universe.codes[:200]), sectors=False)
    pub2 = kf.Publisher(fam, day.date, check_calendar=False, indicative=True)
    assert _one_line(pub2, "Publisher").startswith(
        "Publisher(2026-03-23, KOSPI every 10 s, KOSPI 200 every 1 s, KOSPI Large every 10 s, ... (")
    assert ", indicative; 0 prints emitted, open)" in repr(pub2)
    pytest.importorskip("zmq")
    pytest.importorskip("aiohttp")
    from kospi_fast.server import Server

    assert _one_line(Server(pub, http_port=0, zmq_pub=None), "Server") == (
        "Server(http://127.0.0.1:0, zmq off; 0 trades in, 0 malformed, 0 prints out, 0 WebSocket clients, "
        "0 ZeroMQ subscribers)")


def test_repr_of_replay_state_and_bench_workload():
    import pickle

    import numpy as np
    from kospi_fast import bench

    st = kf.replay(np.array([10, 20]), np.array([100, 50]), 20.0, np.array([0, 1]), np.array([110, 40]),
                   return_state=True)
    assert _one_line(st, "ReplayState") == "ReplayState(2 levels, last 95.0000; 2 stocks, cap 1,900, divisor 20)"
    assert pickle.loads(pickle.dumps(st)).cap == st.cap == 1900 and st._replace(cap=1).cap == 1
    w = bench.Workload([1, 2], [10, 20], 1.0, [0, 1], [11, 19], source="two trades")
    assert _one_line(w, "Workload") == (
        "Workload(2 trades over 2 stocks, exact int64, 0 rebalances, from 'two trades')")


def test_repr_of_verification_results():
    from kospi_fast.eod import PairResult

    r = PairResult("2026-03-16", np.float64(5549.85), np.float64(5549.7644), np.float64(-0.154), 4)
    assert _one_line(r, "PairResult") == ("PairResult(2026-03-16, published 5,549.85, computed 5,549.7644, "
                                         "error -0.154 bp, 4 events)")


# --------------------------------------------------------------------------- __all__
def _public_modules() -> list[str]:
    names = []
    for m in pkgutil.walk_packages(kf.__path__, "kospi_fast."):
        parts = m.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) and not m.name.endswith("__main__"):
            continue
        if m.name.endswith("__main__"):
            continue
        names.append(m.name)
    return ["kospi_fast", *names]


@pytest.mark.parametrize("name", _public_modules())
def test_every_public_module_has_an_all_of_real_names(name):
    if name == "kospi_fast.distributed":
        pytest.importorskip("pandas")
    mod = importlib.import_module(name)
    assert isinstance(getattr(mod, "__all__", None), list), f"{name} has no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{name}.__all__ names what it lacks: {missing}"
    assert len(set(mod.__all__)) == len(mod.__all__), f"{name}.__all__ repeats a name"


def test_all_lists_every_public_definition():
    """A public function or class defined in a public module is in its __all__ (a new one is
    not forgotten)."""
    for name in _public_modules():
        mod = importlib.import_module(name)
        path = Path(mod.__file__)
        if path.suffix != ".py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                   and not n.name.startswith("_")}
        assert defined <= set(mod.__all__), f"{name}: not in __all__: {sorted(defined - set(mod.__all__))}"


# --------------------------------------------------------------------------- command line
def _kospi_fast(*args: str) -> subprocess.CompletedProcess[str]:
    env_path = str(Path(kf.__file__).resolve().parents[1])
    return subprocess.run([sys.executable, "-m", "kospi_fast", *args], capture_output=True, text=True,
                          timeout=300, env={**__import__("os").environ, "PYTHONPATH": env_path})


def test_python_m_kospi_fast_and_version():
    res = _kospi_fast("--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"kospi-fast {kf.__version__}"
    res = _kospi_fast("--help")
    assert res.returncode == 0 and "usage: kospi-fast" in res.stdout


def test_help_has_no_markup(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and ":func:" not in out and ":class:" not in out
    assert "\n- kospi-fast demo: replay a simulated day" in out  # the bullets keep their lines
    for command in ("demo", "replay", "verify", "replay-days"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert "``" not in capsys.readouterr().out


def test_plain_text_worked_example():
    assert plain_text("see :func:`~kospi_fast.io.replay_file` and :class:`kospi_fast.Universe`, "
                      "``--index``, `x`") == "see replay_file and kospi_fast.Universe, --index, x"


def test_display_width_and_fit():
    assert display_width("SK하이닉스") == 10 and display_width("삼성전자") == 8 and display_width("KB") == 2
    assert display_width("ｋ") == 2  # fullwidth Latin
    assert fit("한화에어로스페이스", 10) == "한화에어로"  # cut at 10 cells
    assert fit("한화에어로스페이스", 11) == "한화에어로 "  # a wide character never half fits
    assert fit("기아", 6) == "기아  " and fit("KIA", 6) == "KIA   "


def test_summary_table_lines_up_korean_names(day):
    io = pytest.importorskip("kospi_fast.io")
    res = io.replay_batches(io.batches_from_arrays(day.times, day.ids, day.prices),
                            kf.IndexEngine(day.universe, level=5781.20))
    text = format_summary(res, top=10)
    rows = [ln for ln in text.splitlines() if re.match(r"^    \d{6}  ", ln)]
    assert len(rows) == 10 and any(not r.isascii() for r in rows)
    # the points column (right-aligned) ends at the same terminal column whatever the name's script
    ends = {display_width(r[:r.index("  (")]) for r in rows}
    assert len(ends) == 1, rows


# --------------------------------------------------------------------------- docs in CI
def test_ci_builds_the_docs_with_warnings_as_errors_and_runs_their_code():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m sphinx -W --keep-going -q -b html docs" in ci
    assert "python -m sphinx -W --keep-going -q -b doctest docs" in ci
    # the docs' own packages come from the one list in pyproject.toml's docs extra
    assert '["optional-dependencies"]["docs"]' in ci


# --------------------------------------------------------------------------- the chart
@pytest.mark.parametrize("font", [None, "found"])
def test_chart_has_date_time_axis_and_names_or_codes(day, tmp_path, monkeypatch, font):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from kospi_fast import io, plot

    res = io.replay_batches(io.batches_from_arrays(day.times, day.ids, day.prices),
                            kf.IndexEngine(day.universe, level=5781.20))
    drawn = []
    real_savefig = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (drawn.append(self), real_savefig(self, *a, **k)))
    if font is None:
        monkeypatch.setattr(plot, "_hangul_font", lambda: None)
    else:
        font = plot._hangul_font()
        if font is None:
            pytest.skip("no font with Hangul glyphs is installed (the codes-only case runs)")
    plot.plot_day(res, tmp_path / "day.png", top=5, date="20260323")
    (fig,) = drawn
    level, bars = fig.axes
    assert level.get_xlabel() == "time (KST)"
    assert level.get_title().startswith("2026-03-23  KOSPI: close ")
    labels = [t.get_text() for t in bars.get_yticklabels()]
    codes = [c["code"] for c in res.top_contributors(5)][::-1]
    if font is None:  # no Hangul glyphs: codes only (a Korean name would draw as empty boxes)
        assert all(lab == code or lab.isascii() and lab.startswith(code + " ") for lab, code in zip(labels, codes))
        assert all(lab.isascii() for lab in labels)
    else:
        names = [c["name"] for c in res.top_contributors(5)][::-1]
        assert labels == [f"{c} {n[:16]}" for c, n in zip(codes, names)]
        assert any(not lab.isascii() for lab in labels)
        assert {t.get_fontfamily()[0] for t in bars.get_yticklabels()} == {font}
