"""Every fast callable against its slow twin (bottleneck's ``slow/`` idea, ``tests/move_test.py``).

:data:`kospi_fast.reference.FAST_SLOW` pairs each kernel entry point (and the engine classes)
with a plain-Python twin. One sweep runs both over the zoo of ``tests/zoo.py`` and asserts equal
values *and* types/dtypes, bit for bit (levels are ``float(int cap) / divisor`` on both sides;
only the float aggregate is compared to a few ulp), equal mutations of the arrays a seam writes,
and — for inputs that must be refused — the same exception class, the same offending element or
argument, and nothing written. A hypothesis property per pair does the same on drawn inputs.
"""

from __future__ import annotations

import copy
import importlib
import math
import pickle
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from kospi_fast import reference

TESTS = Path(__file__).resolve().parent
REGISTRY = reference.FAST_SLOW
NAMES = [name for name, _ in REGISTRY]

#: Module-level callables of the kernel modules that are not kernels, so need no twin.
NOT_KERNELS = {
    "kospi_fast._ticks.prepare_ticks": "argument preparation for the seams",
    "kospi_fast._ticks.raise_bad_tick": "builds the error message of a rejected trade",
    "kospi_fast._ticks.overflow_error": "builds the error message of a trade that would overflow the cap",
    "kospi_fast._ticks.ReplayState": "the plain result record of replay(return_state=True)",
    "kospi_fast._engine.EngineCore": "IndexEngine's compiled base; swept through the IndexEngine pair",
    "kospi_fast._session.SingleTrade": "TradingDay.on_trade's driver of the shared per-trade verdict; swept "
                                       "against reference.feed_engine trade by trade in tests/test_live.py",
}
KERNEL_MODULES = ("kospi_fast._aggregate", "kospi_fast._ticks", "kospi_fast._rebase", "kospi_fast._family",
                  "kospi_fast._session", "kospi_fast._engine")


def resolve(dotted: str):
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


# ------------------------------------------------------------------ running one side
def outcome(pair: zoo.Pair, fn, args: tuple):
    """("ok", result) or ("raise", exception class, message, untouched?)."""
    pristine = copy.deepcopy(args)
    try:
        res = zoo.result(pair, fn, args)
    except Exception as exc:  # the class is compared with the other side's
        return ("raise", type(exc), str(exc), _untouched(args, pristine))
    return ("ok", res)


def _untouched(args, pristine) -> bool:
    for a, b in zip(args, pristine):
        if isinstance(a, np.ndarray) and (a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes()):
            return False
    return True


_CHILD = """
import pickle, sys
sys.path.insert(0, {tests!r})
import test_vs_reference as t, zoo
case = next(c for c in zoo.cases_of({name!r}) if c.name == {case!r})
res = t.outcome(zoo.PAIRS[{name!r}], t.resolve({name!r}), case.build())
sys.stdout.buffer.write(pickle.dumps(res))
"""


def fast_outcome_isolated(name: str, case: zoo.Case):
    """The fast side in a child process: a crash there is a result, not the end of the run."""
    code = _CHILD.format(tests=str(TESTS), name=name, case=case.name)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    if proc.returncode != 0:
        return ("crash", proc.returncode, proc.stderr.decode(errors="replace")[-500:])
    return pickle.loads(proc.stdout)


# ------------------------------------------------------------------ comparing
def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def assert_same(a, b, *, exact: bool, path: str = "result") -> None:
    """Equal values and types, recursively; arrays equal in dtype, shape and bytes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
        assert a.dtype == b.dtype, f"{path}: dtype {a.dtype} vs {b.dtype}"
        assert a.shape == b.shape, f"{path}: shape {a.shape} vs {b.shape}"
        assert a.tobytes() == b.tobytes(), f"{path}: values differ\nfast {a!r}\nslow {b!r}"
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, exact=exact, path=f"{path}[{k}]")
    elif isinstance(a, dict):
        assert type(b) is dict and a.keys() == b.keys(), f"{path}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            assert_same(a[k], b[k], exact=exact, path=f"{path}[{k!r}]")
    elif isinstance(a, float):
        assert type(b) is float, f"{path}: float vs {type(b).__name__} ({a!r} vs {b!r})"
        if exact or math.isnan(a) or math.isinf(a):
            assert _bits(a) == _bits(b), f"{path}: {a!r} vs {b!r} (bit for bit)"
        else:  # the float aggregate: Neumaier (fast) vs math.fsum (slow), non-negative terms
            assert math.isclose(a, b, rel_tol=4 * 2.0**-52, abs_tol=0.0), f"{path}: {a!r} vs {b!r}"
    else:
        assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__} ({a!r} vs {b!r})"
        assert a == b, f"{path}: {a!r} vs {b!r}"


_ELEMENT = re.compile(r"`(\w+)\[(-?\d+)\]`")
_ARGUMENT = re.compile(r"`(\w+)")


def _what(message: str):
    """The element (`name[k]`) an error names, else the first argument it names."""
    m = _ELEMENT.search(message)
    if m:
        return (m.group(1), int(m.group(2)))
    m = _ARGUMENT.search(message)
    return m.group(1) if m else None


def assert_agree(pair: zoo.Pair, fast, slow, *, expect: str | None) -> None:
    """Both returned the same, or both refused the same way (class, element, nothing written)."""
    if fast[0] == "crash":
        pytest.fail(f"the fast callable crashed the interpreter (exit {fast[1]}); the slow twin gave {slow[:3]!r}")
    kinds = (fast[0], slow[0])
    if kinds == ("ok", "ok"):
        assert expect in (None, "ok"), "both accepted an input the zoo says must be refused"
        assert_same(fast[1], slow[1], exact=pair.exact)
        return
    if kinds == ("raise", "raise"):
        assert expect in (None, "raise"), f"both refused a good input: fast {fast[2]!r} / slow {slow[2]!r}"
        assert fast[1] is slow[1], f"fast raised {fast[1].__name__}: {fast[2]}\nslow raised {slow[1].__name__}: {slow[2]}"
        assert _what(fast[2]) == _what(slow[2]), f"different culprit\nfast: {fast[2]}\nslow: {slow[2]}"
        assert fast[3], f"the fast callable wrote into its arguments before refusing them: {fast[2]}"
        assert slow[3], f"the slow twin wrote into its arguments before refusing them: {slow[2]}"
        return
    pytest.fail(f"fast {_show(fast)}\nslow {_show(slow)}")


def _show(o) -> str:
    if o[0] == "ok":
        return "returned"
    return f"raised {o[1].__name__}: {o[2]}"


# ------------------------------------------------------------------ the sweep
def _params():
    for name, slow in REGISTRY:
        short = name.rsplit(".", 1)[1]
        for case in zoo.cases_of(name):
            marks = [pytest.mark.xfail(strict=True, reason=case.pending)] if case.pending else []
            yield pytest.param(name, slow, case, id=f"{short}-{case.name}", marks=marks)


@pytest.mark.parametrize("name, slow, case", list(_params()))
def test_fast_equals_slow(name, slow, case):
    pair = zoo.PAIRS[name]
    if case.isolate:
        fast = fast_outcome_isolated(name, case)
    else:
        fast = outcome(pair, resolve(name), case.build())
    assert_agree(pair, fast, outcome(pair, slow, case.build()), expect=case.expect)


@pytest.mark.parametrize("name, slow", REGISTRY, ids=[n.rsplit(".", 1)[1] for n in NAMES])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_property_fast_equals_slow(name, slow, data):
    pair = zoo.PAIRS[name]
    args = data.draw(pair.strategy(), label="args")
    fast = outcome(pair, resolve(name), copy.deepcopy(args))
    assert_agree(pair, fast, outcome(pair, slow, copy.deepcopy(args)), expect=None)


# ------------------------------------------------------------------ the registry itself
@pytest.mark.parametrize("name, slow", REGISTRY, ids=[n.rsplit(".", 1)[1] for n in NAMES])
def test_twin_is_named_documented_and_zooed(name, slow):
    fast = resolve(name)
    want = fast.__name__.replace("Index", "Reference", 1) if isinstance(fast, type) else fast.__name__
    assert slow.__name__ == want
    assert slow.__module__ == "kospi_fast.reference"
    assert (slow.__doc__ or "").splitlines()[0].startswith(f"Slow {fast.__name__} for "), slow.__doc__
    assert name in zoo.PAIRS and zoo.cases_of(name)


def test_registry_covers_every_kernel_entry_point():
    registered = set(NAMES)
    for module_name in KERNEL_MODULES:
        module = importlib.import_module(module_name)
        for attr in dir(module):
            obj = getattr(module, attr)
            if attr.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != module_name:
                continue
            dotted = f"{module_name}.{attr}"
            assert dotted in registered or dotted in NOT_KERNELS, f"{dotted} has no slow twin in reference.FAST_SLOW"
    assert set(zoo.PAIRS) == registered


def test_reference_is_independent_of_the_package():
    source = Path(reference.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+kospi_fast", source, re.M)


def test_status_codes_are_the_kernels():
    from kospi_fast import _session

    for name in ("APPLIED", "IGNORED", "BAD_ID", "BAD_PRICE", "OFF_GRID", "OUTSIDE_LIMITS", "HALTED", "OUT_OF_ORDER",
                 "IN_CLOSING_CALL"):
        assert getattr(reference, name) == getattr(_session, name), name
    assert reference.N_STATUS == len(_session.STATUS_NAMES)
