"""The shipped harness ``python -m kospi_fast.bench`` run with an outside peer (a module in
tests/bench_peer, imported by the harness by its module:function name), on a workload file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import bench

PEER_DIR = Path(__file__).resolve().parent / "bench_peer"


def _workload(tmp_path, rebalances=True):
    rng = np.random.default_rng(2)
    n, m = 40, 3_000
    shares = rng.integers(10**6, 10**9, n)
    prices = rng.integers(100, 50_000, n)
    ids = rng.integers(0, n, m).astype(np.int32)
    px = (prices[ids] * rng.uniform(0.95, 1.05, m)).astype(np.int64)
    rebal = [(1000, [3, 7], [5, 10**7]), (2000, [0], [0])] if rebalances else []
    path = tmp_path / "day.npz"
    bench.save_workload(path, shares, prices, 1e9, ids, px, rebal)
    return path


def test_the_harness_runs_an_outside_peer_on_a_workload_file_and_writes_results(tmp_path):
    path = _workload(tmp_path)
    out = tmp_path / "results.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PEER_DIR), str(Path(kf.__file__).resolve().parents[1]),
                                                       os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, "-m", "kospi_fast.bench", "--peer", "outside_replay:replay",
                          "--peer", "outside_replay:wrong", "--workload", str(path), "--repeat", "2", "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    rec = json.loads(out.read_text())
    assert rec["schema"] == "kospi_fast.bench/1" and rec["workload"]["rebalances"] == 2
    by = {r["name"]: r for r in rec["results"]}
    assert set(by) == {"kospi_fast.replay", "outside_replay:replay", "outside_replay:wrong"}
    assert by["outside_replay:replay"]["identical"] and by["kospi_fast.replay"]["ratio"] == 1.0
    assert not by["outside_replay:wrong"]["identical"] and by["outside_replay:wrong"]["max_rel_diff"] > 0
    assert all(r["ns_per_tick"] > 0 and r["ticks"] == 3_000 for r in rec["results"])
    assert "outside_replay:replay" in res.stdout and "x kospi_fast" in res.stdout


def test_builtin_peers_are_timed_beside_kospi_fast_on_an_exact_workload(tmp_path):
    wl = bench.load_workload(_workload(tmp_path, rebalances=False))
    rec = bench.run(wl, [], repeat=1, py_ticks=500)
    names = [r["name"] for r in rec["results"]]
    assert names[:3] == ["kospi_fast.replay", "numpy (blocked)", "pure python"]
    assert all(r["identical"] for r in rec["results"])  # exact peers: bit for bit
    assert rec["results"][2]["ticks"] == 500


@pytest.mark.parametrize("spec,msg", [("nocolon", "module:function"), ("no_such_mod_xyz:f", "cannot import"),
                                      ("os:no_such_fn", "has no"), ("os:sep", "not callable")])
def test_a_bad_peer_is_refused_naming_it(spec, msg):
    with pytest.raises(ValueError, match=msg):
        bench.load_peer(spec)


def test_a_bad_workload_file_is_refused_naming_the_array(tmp_path):
    p = tmp_path / "bad.npz"
    np.savez(p, shares=np.ones(3), prices=np.ones(3), divisor=1.0, ids=np.zeros(2, np.int64))
    with pytest.raises(ValueError, match=r"bad.npz: the workload has no array 'new_prices'"):
        bench.load_workload(p)
