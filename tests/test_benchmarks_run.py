"""The benchmark programs still run against the current API (they are not in the test paths, so
an API change once broke `benchmarks/compare.py` unseen): `compare.py` end to end on a small
day, and the pytest-benchmark files with timing disabled (their correctness asserts still run).
Speed itself is never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
pytestmark = pytest.mark.skipif(not (BENCH / "compare.py").is_file(),
                                reason="benchmarks/ is only in a source checkout (not beside an installed wheel)")


def test_compare_runs_every_suite_on_a_small_day():
    r = subprocess.run([sys.executable, str(BENCH / "compare.py"), "--ticks", "30000", "--repeat", "1",
                        "--py-ticks", "3000", "--event-repeat", "2", "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert {"replay", "update", "aggregate_cap"} <= set(out)


def test_pytest_benchmark_files_run_with_timing_disabled():
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-disable",
                        str(BENCH)], capture_output=True, text=True, timeout=600, cwd=BENCH.parent)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
