"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = [
    "kospi_fast._aggregate",
    "kospi_fast._ticks",
    "kospi_fast._rebase",
    "kospi_fast.krx",
    "kospi_fast.kospi200",
    "kospi_fast.family",
    "kospi_fast.engine",
    "kospi_fast.universe",
    "kospi_fast.book",
    "kospi_fast.io.dividends",
    "kospi_fast.publish",
    "kospi_fast.cli._common",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no docstring examples"
