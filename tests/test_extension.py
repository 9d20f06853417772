"""The compiled extensions, not a Python fallback, are what got imported."""

import importlib.machinery
import re
from pathlib import Path

import kospi_fast
from kospi_fast import _aggregate, _engine, _family, _rebase, _session, _ticks

SRC = Path(__file__).resolve().parents[1] / "src" / "kospi_fast"


def test_kernels_are_compiled_extensions():
    for mod in (_aggregate, _ticks, _rebase, _engine, _family, _session):
        assert mod.__file__ is not None
        assert mod.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), mod.__file__
        assert type(mod.__loader__).__name__ == "ExtensionFileLoader"


def test_public_functions_come_from_the_extensions():
    assert kospi_fast.replay.__module__ == "kospi_fast._ticks"
    assert kospi_fast.aggregate_cap.__module__ == "kospi_fast._aggregate"
    assert type(kospi_fast.replay).__name__ in ("cython_function_or_method", "builtin_function_or_method")
    assert kospi_fast.IndexEngine.__mro__[1] is _engine.EngineCore


def test_version():
    assert kospi_fast.__version__ == "0.1.0"


def _imports(pyx: str) -> set[str]:
    """The package modules a .pyx imports or cimports (``from kospi_fast.X ...``,
    ``from kospi_fast import X, Y``)."""
    text = (SRC / pyx).read_text(encoding="utf-8")
    out = set(re.findall(r"^from\s+kospi_fast\.(\w+)\s+c?import\b", text, flags=re.M))
    for names in re.findall(r"^from\s+kospi_fast\s+c?import\s+(.+)$", text, flags=re.M):
        out |= {n.strip().split()[0] for n in names.strip("()").split(",") if n.strip()}
    return out


def test_the_engine_core_does_not_know_the_rules_kernel():
    # the arrow runs one way: the rules kernel drives the engine core (through _engine.pxd)
    if not (SRC / "_engine.pyx").is_file():  # an installed wheel ships no .pyx
        return
    assert "_session" not in _imports("_engine.pyx")
    assert "_engine" in _imports("_session.pyx")
    assert not hasattr(_engine.EngineCore, "_update_validated")
