"""The public Cython API: a consumer extension compiled against the *installed* package.

``tests/cython_consumer`` is what a user would write: a ``.pyx`` that cimports the kernels
from the shipped ``.pxd`` files, built with ``include_path=[kospi_fast.get_include()]``. It is
compiled here in a temporary directory by a separate setuptools + Cython process, so the only
kospi_fast it can see is the installed one, then its results are checked against the Python
API. Without Cython or a C compiler the build test skips, except under CI (CI=true), where it
must run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import _aggregate, _include, _rebase, _ticks

from conftest import random_ticks, random_universe

CONSUMER = Path(__file__).resolve().parent / "cython_consumer"
IN_CI = os.environ.get("CI", "").lower() == "true"
CAP_LIMIT = 9.0e18


def test_get_include_points_at_the_shipped_pxd_files():
    inc = Path(_include.get_include())
    assert inc.is_absolute()
    pkg = inc / "kospi_fast"
    assert pkg.resolve() == Path(kf.__file__).resolve().parent
    for name in ("__init__.pxd", "_aggregate.pxd", "_ticks.pxd", "_rebase.pxd", "_engine.pxd", "_buffers.pxd",
                 "kernels.pxd", "_overflow.pxd", "_family.pxd", "_session.pxd"):
        assert (pkg / name).is_file(), f"{name} is not shipped next to the extensions"
    if hasattr(kf, "get_include"):  # public spelling, re-exported from kospi_fast/__init__.py
        assert kf.get_include() == str(inc)


def test_kernels_declared_in_pxd_are_exported():
    # A cdef function declared in a .pxd is exported through the module's __pyx_capi__; that
    # table is what a consumer's import binds against.
    assert {"sum_cap_i64", "checked_cap_i64", "sum_cap_f64"} <= set(_aggregate.__pyx_capi__)
    assert "apply_changes_i64" in _rebase.__pyx_capi__
    ticks = set(_ticks.__pyx_capi__)
    assert any("apply_ticks_i64" in k and "int32_t" in k for k in ticks), ticks
    assert any("apply_ticks_i64" in k and "int64_t" in k for k in ticks), ticks


def _missing_toolchain() -> str | None:
    for mod in ("Cython", "setuptools"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} is not installed (pip install '.[test]' brings it)"
    if not Path(sysconfig.get_paths()["include"], "Python.h").is_file():
        return "the Python headers (Python.h) are not installed"
    if os.name != "nt":  # MSVC is found by setuptools itself; a failed build says so
        cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
        if shutil.which(cc) is None:
            return f"no C compiler: {cc!r} is not on PATH"
    return None


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    reason = _missing_toolchain()
    if reason:
        if IN_CI:
            pytest.fail(f"cannot build the Cython consumer under CI (CI=true): {reason}")
        pytest.skip(f"cannot build the Cython consumer: {reason}")
    build = tmp_path_factory.mktemp("cython_consumer")
    for name in ("consumer.pyx", "setup.py"):
        shutil.copy(CONSUMER / name, build / name)
    # build against the kospi_fast this test imported (the installed wheel under CI, src/ in a
    # development run), never against a stray copy elsewhere on the path
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(Path(kf.__file__).resolve().parents[1])
    res = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=build, env=env, capture_output=True, text=True, timeout=900,
    )
    assert res.returncode == 0, f"consumer build failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    built = [p for p in build.iterdir()
             if p.name.startswith("consumer.") and p.suffix in (".so", ".pyd")]
    assert len(built) == 1, sorted(p.name for p in build.iterdir())
    spec = importlib.util.spec_from_file_location("consumer", built[0])
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def market(rng: np.random.Generator):
    u = random_universe(rng, 300)
    ids, prices = random_ticks(rng, u, 5_000)
    return u.base_prices.copy(), u.shares.copy(), ids, prices


def test_consumer_aggregate_equals_python_api(consumer, market):
    prices, shares, _, _ = market
    exact = kf.aggregate_cap(prices, shares)
    assert consumer.cap_sum(prices, shares) == exact
    assert consumer.cap_sum_via_package(prices, shares) == exact
    assert consumer.cap_checked(prices, shares, CAP_LIMIT) == (-1, exact)
    empty = np.empty(0, dtype=np.int64)
    assert consumer.cap_sum(empty, empty) == 0 == kf.aggregate_cap(empty, empty)


def test_consumer_checked_kernel_reports_first_bad_element(consumer, market):
    prices, shares, _, _ = market
    bad = prices.copy()
    bad[[17, 40]] = -500
    assert consumer.cap_checked(bad, shares, CAP_LIMIT) == (17, None)
    with pytest.raises(ValueError, match=r"`prices\[17\]` must be > 0, got -500"):
        kf.aggregate_cap(bad, shares)
    huge = np.full(4, 2**40, dtype=np.int64)
    assert consumer.cap_checked(huge, huge, CAP_LIMIT) == (4, None)  # n: only the sum too large


@pytest.mark.parametrize("id_dtype", [np.int64, np.int32])
def test_consumer_ticks_equal_replay(consumer, market, id_dtype):
    prices, shares, ids, new_prices = market
    ids = ids.astype(id_dtype)
    divisor = kf.aggregate_cap(prices, shares) / 2_500.0
    pmax = int(CAP_LIMIT) // int(shares.sum())
    expected = kf.replay(shares, prices, divisor, ids, new_prices)
    bad, cap, levels, final = consumer.replay_levels(prices, shares, ids, new_prices, pmax, divisor)
    assert bad == -1
    np.testing.assert_array_equal(levels, expected)  # bit for bit: same kernel, same divisions
    assert cap == kf.aggregate_cap(final, shares)
    assert levels[-1] == kf.aggregate_cap(final, shares) / divisor


def test_consumer_ticks_stop_at_first_bad_trade(consumer, market):
    prices, shares, ids, new_prices = market
    new_prices = new_prices.copy()
    new_prices[10] = -5
    divisor = 1.0e9
    pmax = int(CAP_LIMIT) // int(shares.sum())
    bad, cap, levels, final = consumer.replay_levels(prices, shares, ids, new_prices, pmax, divisor)
    assert bad == 10
    np.testing.assert_array_equal(levels[:10], kf.replay(shares, prices, divisor, ids[:10], new_prices[:10]))
    assert cap == kf.aggregate_cap(final, shares)  # trades before the bad one were applied
    with pytest.raises(ValueError, match=r"`new_prices\[10\]` must be > 0, got -5"):
        kf.replay(shares, prices, divisor, ids, new_prices)


def test_consumer_loop_over_the_shared_tick_step(consumer, market):
    prices, shares, ids, new_prices = market
    pmax = int(CAP_LIMIT) // int(shares.sum())
    work = prices.copy()
    bad, delta = consumer.step_by_step(work, shares, ids.astype(np.int64), new_prices, pmax)
    assert bad == -1
    assert kf.aggregate_cap(prices, shares) + delta == kf.aggregate_cap(work, shares)
    final = prices.copy()
    final[ids] = new_prices  # the last trade of each stock wins
    np.testing.assert_array_equal(work, final)
    worse = new_prices.copy()
    worse[7] = pmax + 1
    assert consumer.step_by_step(prices.copy(), shares, ids.astype(np.int64), worse, pmax)[0] == 7


# ---------------------------------------------------------------- the public API: kospi_fast.kernels
def test_kernels_api_version_and_limits(consumer):
    from kospi_fast import kernels

    assert consumer.api_version() == kernels.API_VERSION == 1  # checked at the consumer's import too
    assert consumer.cap_max() == kernels.CAP_MAX == 2**63 - 1
    with pytest.raises(ImportError, match="API version 2"):
        kernels.check_api_version(2)
    from kospi_fast import _family, _session

    assert any("apply_ticks_family" in k for k in _family.__pyx_capi__)
    assert any("apply_validated" in k for k in _session.__pyx_capi__)
    assert any("apply_ticks_f64" in k for k in _ticks.__pyx_capi__)


def test_kernels_inline_step_in_ones_own_loop_equals_a_call_per_trade_and_a_recount(consumer, rng):
    u = random_universe(rng, 200)
    ids, px = random_ticks(rng, u, 20_000)
    ids = ids.astype(np.int32)
    px = px.copy()
    px[rng.choice(px.shape[0], 40, replace=False)] *= 3  # bad prints the rule skips
    base, shares = u.base_prices.copy(), u.shares.copy()
    d = kf.aggregate_cap(base, shares) / 1000.0
    p1, l1 = base.copy(), np.empty(px.shape[0])
    p2, l2 = base.copy(), np.empty(px.shape[0])
    r1 = consumer.filtered_inline(p1, shares, ids, px, d, l1)
    r2 = consumer.filtered_calls(p2, shares, ids, px, d, l2)
    assert r1 == r2 and r1[0] == -1 and r1[2] >= 40
    assert l1.tobytes() == l2.tobytes() and p1.tolist() == p2.tolist()
    assert r1[1] == kf.aggregate_cap(p1, shares) and l1[-1] == r1[1] / d
    # the kept trades through replay give the same levels
    cur, keep = base.copy(), []
    for k, (i, p) in enumerate(zip(ids.tolist(), px.tolist())):
        if not (2 * p > 3 * cur[i] or 2 * p < cur[i]):
            keep.append(k)
            cur[i] = p
    keep = np.array(keep)
    assert kf.replay(shares, base, d, ids[keep], px[keep]).tobytes() == l1[keep].tobytes()
    # a trade whose true cap would overflow stops the loop, nothing of it applied
    p4, s4 = np.array([2**22, 10]), np.array([2**41 - 1, 1])
    cap0 = 2**22 * (2**41 - 1) + 10  # 2**63 - 2**22 + 10: fits
    r4 = consumer.filtered_inline(p4, s4, np.array([1, 0, 1], np.int32), np.array([11, 2**22 + 1, 12]), 1.0,
                                  np.empty(3))
    assert r4 == (1, cap0 + 1, 0) and p4.tolist() == [2**22, 11]


def test_kernels_float_family_and_validating_kernels_equal_the_python_drivers(consumer, rng):
    import zoo
    from kospi_fast import _family, _session

    # float64
    sh = rng.uniform(0, 1e9, 50)
    p0 = rng.uniform(0.001, 70_000, 50)
    ids = rng.integers(0, 50, 5_000)
    px = p0[ids] * rng.uniform(0.9, 1.1, 5_000)
    lv = np.empty(5_000)
    work = p0.copy()
    bad, cap = consumer.float_replay(work, sh, ids, px, 123.0, lv)
    st = kf.replay(sh, p0, 123.0, ids, px, exact=False, return_state=True)
    assert bad == -1 and lv.tobytes() == st.levels.tobytes() and cap == st.cap
    # family, a row per trade
    args = zoo.family_args(5, 30, 5, 600, mode="rows")
    fast = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    mine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    assert _family.run_family(*fast) == consumer.family(*mine[:10], mine[10]) == -1
    for k in (0, 4, 6, 10):  # prices, caps, levels, rows
        assert fast[k].tobytes() == mine[k].tobytes()
    # float64 family, a row per trade; add_f64 keeps what an addition loses
    args = zoo.family_f64_args(6, 30, 5, 600, mode="rows")
    fast = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    mine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    assert _family.run_family_f64(*fast) == -1
    assert consumer.family_f64(*mine[:8], mine[8].astype(np.int64), mine[9], mine[10]) == (-1, 1.0, 1e-17)
    for k in (0, 4, 5, 10):  # prices, caps, compensations, rows
        assert fast[k].tobytes() == mine[k].tobytes()
    # validating
    from test_kernel_seams import CALL, CLOSE, LATE, OPEN, RULES, TABLES, _day

    d = _day(3, 25, 2000, *TABLES["krx-2023"])
    m = d["times"].shape[0]
    ref_prices, ref_levels = d["base"].copy(), np.zeros(m)
    ref_status, ref_counts = np.zeros(m, np.uint8), np.zeros(9, np.int64)
    cap0 = int(d["base"] @ d["shares"])
    rbad, rcap, rlast = _session.run_validated(ref_prices, d["shares"], *(d["rules"][k] for k in RULES), OPEN, CALL,
                                               CLOSE, LATE, d["times"], d["ids"], d["prices"], d["pmax"], cap0, -1, 1.0,
                                               ref_levels, ref_status, ref_counts, False)
    prices, levels = d["base"].copy(), np.zeros(m)
    status, counts = np.zeros(m, np.uint8), np.zeros(9, np.int64)
    got = consumer.validated(prices, d["shares"], *(d["rules"][k] for k in RULES), OPEN, CALL, CLOSE, LATE,
                             d["times"], d["ids"].astype(np.int64), d["prices"], d["pmax"], 1.0, levels, status, counts)
    assert got == (rbad, rcap, rlast)
    assert status.tobytes() == ref_status.tobytes() and counts.tolist() == ref_counts.tolist()
    assert levels.tobytes() == ref_levels.tobytes() and prices.tobytes() == ref_prices.tobytes()
