"""One home for a day's summary: publish.DaySummary, held by io.ReplayResult and
distributed.DayResult (run metadata beside it) and read through their attributes."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import io
from kospi_fast.publish import (
    DaySummary,
    PublishedSeries,
    SummaryView,
    published,
    published_array,
)
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE

pytest.importorskip("pyarrow")
pytest.importorskip("pandas")
kd = pytest.importorskip("kospi_fast.distributed")

SUMMARY = [f.name for f in dataclasses.fields(DaySummary)]


@pytest.fixture(scope="module")
def day():
    u = kf.sample_universe()
    return kf.simulate_day(u, n_ticks=30_000, seed=11, date="2026-03-09")


@pytest.fixture(scope="module")
def replayed(day):
    eng = kf.IndexEngine(day.universe, level=SAMPLE_PREVIOUS_CLOSE)
    return io.replay_batches(io.batches_from_arrays(day.times, day.ids, day.prices, batch_size=4096), eng)


def test_replay_result_holds_one_summary_and_reads_it_as_its_own(replayed):
    s = replayed.summary
    assert isinstance(s, DaySummary) and isinstance(replayed, SummaryView)
    for name in SUMMARY:  # no copy: the very objects
        assert getattr(replayed, name) is getattr(s, name), name
    assert {f.name for f in dataclasses.fields(replayed)} & set(SUMMARY) == set()
    assert replayed.change == s.close - s.previous_close
    assert replayed.change_pct == 100.0 * s.change / s.previous_close
    assert replayed.top_contributors(3) == s.top_contributors(3) and len(s.top_contributors(3)) == 3
    assert replayed.sector_points() == s.sector_points() and replayed.breadth() == s.breadth()
    assert sum(replayed.breadth()) == int(s.member.sum())
    np.testing.assert_array_equal(replayed.grid_published, [published(x) for x in s.grid_levels.tolist()])
    assert s.open_time <= s.high_time <= s.close_time and s.low <= s.open <= s.high
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.close = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        replayed.close = 1.0  # read-only: the summary is the one home


def test_summary_prints_are_its_published_series(replayed):
    s = replayed.summary
    p = s.prints(round_numbers=[SAMPLE_PREVIOUS_CLOSE])
    assert isinstance(p, PublishedSeries)
    np.testing.assert_array_equal(p.values, s.grid_published)
    np.testing.assert_array_equal(p.times, s.grid_times)
    assert p.close == published(s.grid_levels[-1]) and p.high <= published(s.high) + 0.005
    with pytest.raises(ValueError, match="no grid series"):
        DaySummary.empty("KOSPI").prints()


def test_empty_summary_is_a_failed_days():
    e = DaySummary.empty("KOSPI 200")
    assert e.index == "KOSPI 200" and np.isnan(e.close) and np.isnan(e.change) and e.n_ticks == 0
    assert e.grid_times.dtype == np.int64 and e.grid_levels.shape == (0,) and e.grid_published.shape == (0,)
    assert e.top_contributors() == [] and e.sector_points() == {} and e.breadth() == (0, 0, 0)


def test_published_array_rounds_each_level_half_up():
    lv = np.array([5781.2051, 2500.125, 99.994999])
    assert published_array(lv).tolist() == [published(x) for x in lv.tolist()]
    assert published_array([]).dtype == np.float64


def test_day_result_holds_the_replay_summary_and_pickles(day, tmp_path):
    path = str(io.write_ticks(day, tmp_path / "d.parquet"))
    [spec] = kd.specs_from_simulated([day], [path], level=SAMPLE_PREVIOUS_CLOSE)
    r = kd.replay_day(spec)
    assert r.ok and r.exact and isinstance(r.summary, DaySummary)
    eng = kf.IndexEngine(day.universe, level=SAMPLE_PREVIOUS_CLOSE)
    want = io.replay_file(path, eng).summary
    for name in ("index", "previous_close", "start_level", "open", "open_time", "high", "high_time", "low",
                 "low_time", "close", "close_time", "n_ticks", "volume", "grid"):
        assert getattr(r, name) == getattr(want, name), name
    np.testing.assert_array_equal(r.grid_levels, want.grid_levels)
    np.testing.assert_array_equal(r.points, want.points)
    assert r.top_contributors(5) == want.top_contributors(5) and r.breadth() == want.breadth()
    assert "grid_published" in vars(r.summary)  # rounded in the worker, shipped with the day
    back = pickle.loads(pickle.dumps(r))
    assert isinstance(back.summary, DaySummary) and back.close == r.close and back.date == r.date
    np.testing.assert_array_equal(back.grid_published, r.grid_published)
    assert back.sector_points() == r.sector_points()


def test_failed_day_result_reads_as_nan(tmp_path, day):
    [spec] = kd.specs_from_simulated([day], [str(tmp_path / "missing.parquet")], level=SAMPLE_PREVIOUS_CLOSE)
    r = kd.replay_day(spec)
    assert not r.ok and r.error and np.isnan(r.open) and r.n_ticks == 0 and r.grid_times.shape == (0,)
    assert pickle.loads(pickle.dumps(r)).error == r.error


def test_plot_day_draws_a_summary_without_a_chart_series(replayed, tmp_path):
    pytest.importorskip("matplotlib")
    from kospi_fast.plot import plot_day

    path = plot_day(replayed.summary, tmp_path / "grid.png", width=640, height=480, top=3)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
