"""Build ``day_range.pyx`` (``cimport kospi_fast.kernels``) against the installed kospi_fast (in a temporary folder) and check it
against the Python API on a simulated day (SAMPLE data).

Run: ``python examples/cython_consumer/build_and_run.py`` (needs Cython, setuptools and a C
compiler: ``pip install 'kospi-fast[test]'`` brings the first two).
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import kospi_fast as kf

HERE = Path(__file__).resolve().parent


def build(folder: Path) -> object:
    for name in ("day_range.pyx", "setup.py"):
        shutil.copy(HERE / name, folder / name)
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=folder, check=True,
                   capture_output=True, text=True)
    sys.path.insert(0, str(folder))
    return importlib.import_module("day_range")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kospi_fast_consumer_") as tmp:
        mod = build(Path(tmp))
        u = kf.sample_universe()
        engine = kf.IndexEngine(u, level=5781.20)
        day = kf.simulate_day(u, n_ticks=200_000, seed=5)
        prices = u.base_prices.copy()
        bad, high, low, close = mod.day_range(prices, u.shares, day.ids, day.prices, engine.divisor)
        levels = kf.replay(u.shares, u.base_prices, engine.divisor, day.ids, day.prices)
        assert bad == -1
        start = engine.level
        assert (high, low, close) == (max(levels.max(), start), min(levels.min(), start), levels[-1])
        print(f"day_range: high {high:,.4f}  low {low:,.4f}  close {close:,.4f}  (== kospi_fast.replay)")
        print(f"prices updated in place: {np.array_equal(prices[day.ids[-1:]], day.prices[-1:])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
