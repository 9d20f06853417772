"""Run-time SIMD dispatch of the exact aggregate: every target the CPU runs gives the same bits.

The targets are switched in-process (``_set_simd``), so on a CPU with AVX-512 all three paths
run here; a CPU without a target runs the others (the list is the CPU's, never skipped). The
portable fallback is also forced the way a user would, through ``KOSPI_FAST_SIMD`` in a fresh
interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kospi_fast import _aggregate, aggregate_cap, kernels, reference

TARGETS = kernels.simd_supported()
INT64_MAX = 2**63 - 1


@pytest.fixture
def target(request):
    previous = _aggregate._set_simd(request.param)
    yield request.param
    _aggregate._set_simd(previous)


def outcome(prices, shares):
    """aggregate_cap's answer, or its exception's type and message."""
    try:
        return ("ok", aggregate_cap(prices, shares))
    except (ValueError, TypeError) as exc:
        return (type(exc).__name__, str(exc))


def test_the_default_is_the_best_target_this_cpu_runs():
    # No KOSPI_FAST_SIMD in the test environment: auto.
    if os.environ.get("KOSPI_FAST_SIMD", "auto") == "auto":
        assert kernels.simd_target() == TARGETS[-1]
    assert TARGETS[0] == "portable"
    with open("/proc/cpuinfo") if os.path.exists("/proc/cpuinfo") else open(os.devnull) as f:
        flags = set(f.read().split())
    if sys.platform == "linux" and os.uname().machine == "x86_64" and flags:
        assert ("avx2" in TARGETS) == ("avx2" in flags)
        assert ("avx512" in TARGETS) == ({"avx512f", "avx512dq", "avx512vl"} <= flags)


@pytest.mark.parametrize("target", TARGETS, indirect=True)
@pytest.mark.parametrize("n", [0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, 850, 1001])
def test_worked_sums_every_length(target, n):
    # Every tail length of the 4- and 8-lane loops, both sides of the vector threshold.
    i = np.arange(n, dtype=np.int64)
    prices = 1_000 + 37 * i
    shares = 5_969_782_550 - 1_000_003 * i  # Samsung's listed shares and below
    assert aggregate_cap(prices, shares) == sum(int(p) * int(s) for p, s in zip(prices, shares))


@pytest.mark.parametrize("target", TARGETS, indirect=True)
def test_bad_elements_are_named_the_same_on_every_target(target):
    prices = np.full(100, 50_000, dtype=np.int64)
    shares = np.full(100, 1_000, dtype=np.int64)
    for pos, field, value in [(0, "p", 0), (41, "p", -5), (99, "s", -1), (70, "p", -(2**63))]:
        p, s = prices.copy(), shares.copy()
        (p if field == "p" else s)[pos] = value
        kind, message = outcome(p, s)
        assert kind == "ValueError" and str(pos) in message


@pytest.mark.parametrize("target", TARGETS, indirect=True)
def test_the_largest_sum_fits_and_one_more_is_refused(target):
    # 64 pairs: the cheap bound fails, the checked path decides, on every target.
    shares = np.ones(64, dtype=np.int64)
    prices = np.full(64, INT64_MAX // 64, dtype=np.int64)
    prices[-1] += INT64_MAX - int(prices.sum())
    assert aggregate_cap(prices, shares) == INT64_MAX
    prices[0] += 1
    kind, message = outcome(prices, shares)
    assert kind == "ValueError" and "overflows int64" in message


values = st.one_of(
    st.integers(-3, 3),
    st.integers(1, 2_000_000),
    st.integers(0, 6_000_000_000),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**62, INT64_MAX]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(values, values), max_size=90))
def test_every_target_equals_the_exact_reference(pairs):
    prices = np.array([p for p, _ in pairs], dtype=np.int64)
    shares = np.array([s for _, s in pairs], dtype=np.int64)
    answers = []
    for name in TARGETS:
        previous = _aggregate._set_simd(name)
        try:
            answers.append(outcome(prices, shares))
        finally:
            _aggregate._set_simd(previous)
    assert all(a == answers[0] for a in answers), dict(zip(TARGETS, answers))
    try:
        expected = reference.aggregate_cap(prices.tolist(), shares.tolist())
    except ValueError:
        assert answers[0][0] == "ValueError"
    else:
        if expected > INT64_MAX:
            assert answers[0][0] == "ValueError"
        else:
            assert answers[0] == ("ok", expected)


def test_unknown_or_unsupported_targets_are_refused():
    with pytest.raises(ValueError, match=r"simd target must be one of .*got 'sse9'"):
        _aggregate._set_simd("sse9")
    assert kernels.simd_target() in TARGETS
    if "avx512" not in TARGETS:
        with pytest.raises(ValueError, match="cannot run here"):
            _aggregate._set_simd("avx512")


def run_forced(value: str, code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, KOSPI_FAST_SIMD=value)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_forcing_the_portable_fallback_gives_the_same_day():
    # The whole library under KOSPI_FAST_SIMD=portable, as CI forces it: the target is taken,
    # and a simulated day's levels and final cap are bit-identical to this process's.
    code = (
        "import numpy as np, kospi_fast as kf\n"
        "from kospi_fast import kernels\n"
        "u = kf.sample_universe(); d = kf.simulate_day(u, n_ticks=20_000, seed=3)\n"
        "e = kf.IndexEngine(u)\n"
        "lv = e.update_many(d.ids, d.prices)\n"
        "caps = [kf.aggregate_cap(d.prices[:k] * 0 + d.prices[:k], np.arange(k)) for k in (40, 850, 5000)]\n"
        "print(kernels.simd_target()); print(lv.tobytes().hex()[-64:], float(lv.sum()).hex(), caps, e.level)\n"
    )
    forced = run_forced("portable", code)
    assert forced.returncode == 0, forced.stderr
    auto = run_forced("auto", code)
    assert auto.returncode == 0, auto.stderr
    assert forced.stdout.splitlines()[0] == "portable"
    assert auto.stdout.splitlines()[0] == TARGETS[-1]
    assert forced.stdout.splitlines()[1] == auto.stdout.splitlines()[1]


def test_a_bad_environment_value_fails_the_import_clearly():
    res = run_forced("fastest", "import kospi_fast")
    assert res.returncode != 0
    assert "KOSPI_FAST_SIMD='fastest'" in res.stderr and "auto" in res.stderr
