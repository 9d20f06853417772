"""The compiled extensions, not a Python fallback, are what got imported."""

import importlib.machinery

import kospi_fast
from kospi_fast import _aggregate, _engine, _rebase, _ticks


def test_kernels_are_compiled_extensions():
    for mod in (_aggregate, _ticks, _rebase, _engine):
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
