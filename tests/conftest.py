"""Shared fixtures: random universes and tick streams, and the path to ../shared."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import kospi_fast as kf

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KOSPI_FAST_SHARED", REPO.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"


_SHARED_CALLS = ("shared_path(", "load_conformance(")


def pytest_collection_modifyitems(config, items):
    """Every test that reads ../shared gets the ``realdata`` marker, so a run without the shared
    files (a wheel build, a user's machine) can deselect them all with ``-m "not realdata"``."""
    import inspect

    for item in items:
        fn = getattr(item, "function", None)
        try:
            src = inspect.getsource(fn) if fn is not None else ""
        except (OSError, TypeError):
            continue
        if any(call in src for call in _SHARED_CALLS):
            item.add_marker(pytest.mark.realdata)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI (CI=true) on Linux a skipped test is a failure: every optional dependency is
    installed by the test extra and ../shared is present, so a skip there would only hide a
    problem. (Other platforms' jobs may skip POSIX-only tests; a job that leaves the optional
    extras out on purpose sets KOSPI_FAST_ALLOW_SKIPS=1; deselected tests are not skips.)"""
    outcome = yield
    report = outcome.get_result()
    if (IN_CI and sys.platform.startswith("linux") and not os.environ.get("KOSPI_FAST_ALLOW_SKIPS")
            and report.skipped and not hasattr(report, "wasxfail")):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (skips hide failures): {report.longrepr}"


def shared_path(*parts: str) -> Path:
    """Path inside ../shared; skip (outside CI) or fail (under CI) when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing under CI (CI=true): the shared data must be present")
        pytest.skip(f"{path} not found: real KRX data lives in ../shared outside this repo")
    return path


def random_universe(rng: np.random.Generator, n: int) -> kf.Universe:
    codes = [f"{i:06d}" for i in rng.choice(999_999, size=n, replace=False)]
    shares = rng.integers(0, 3_000_000_000, n, dtype=np.int64)
    shares[rng.random(n) < 0.05] = 0  # some non-members
    prices = rng.integers(1, 2_000_000, n, dtype=np.int64)
    return kf.Universe(codes, [f"S{i}" for i in range(n)], shares, prices)


def random_ticks(rng: np.random.Generator, u: kf.Universe, m: int) -> tuple[np.ndarray, np.ndarray]:
    ids = rng.integers(0, len(u), m).astype(np.intp)
    factor = rng.uniform(0.7, 1.3, m)
    prices = np.maximum(1, (u.base_prices[ids] * factor).astype(np.int64))
    return ids, prices


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def sample() -> kf.Universe:
    return kf.sample_universe()
