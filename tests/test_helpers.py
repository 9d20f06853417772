"""The package's one home per concept: dates and scalars (_validation), the clock (_clock),
optional dependencies (_optional)."""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from kospi_fast import _clock, _optional, _validation

D = datetime.date(2026, 3, 10)


# ---------------------------------------------------------------------------------- dates
@pytest.mark.parametrize("value", [
    D, datetime.datetime(2026, 3, 10, 23, 59), np.datetime64("2026-03-10"),
    np.datetime64("2026-03-10T15:30:00.123456789"), "2026-03-10", " 2026-03-10 ", "20260310",
    "2026/03/10", "2026.03.10", "2026-03-10 00:00:00", "2026-03-10T09:00:00+09:00", np.str_("2026-03-10"),
])
def test_as_date_accepts(value):
    assert _validation.as_date(value) == D
    assert _validation.iso_date(value) == "2026-03-10"


def test_as_date_pandas():
    pd = pytest.importorskip("pandas")
    assert _validation.as_date(pd.Timestamp("2026-03-10 09:00", tz="Asia/Seoul")) == D
    with pytest.raises(ValueError, match="`day` must be a date, not NaT"):
        _validation.as_date(pd.NaT, "day")


@pytest.mark.parametrize("value", [20260310, 2026.0, b"2026-03-10", ["2026-03-10"], None, object(), True])
def test_as_date_wrong_kind(value):
    with pytest.raises(TypeError, match="`when` must be a datetime.date"):
        _validation.as_date(value, "when")


@pytest.mark.parametrize("value", [
    "", "2026-3-10", "10-03-2026", "10/03/2026", "2026-03/10", "2026-02-30", "20261301", "2026-03-10x",
    "2026-03-1000", np.datetime64("NaT"), np.datetime64(300_000, "Y"),
])
def test_as_date_bad_value(value):
    with pytest.raises(ValueError, match="`when`"):
        _validation.as_date(value, "when")


# ---------------------------------------------------------------------------------- clock
def test_clock_round_trip():
    ns = _clock.parse_clock("09:00:10.5")
    assert ns == (9 * 3600 + 10) * _clock.NS_PER_S + 500_000_000
    assert _clock.format_clock(ns) == "09:00:10"
    assert _clock.format_clock(ns, digits=3) == "09:00:10.500"
    assert _clock.format_clock(ns, seconds=False) == "09:00"
    assert _clock.format_clock(_clock.parse_clock("15:29:59.9"), seconds=False) == "15:29"
    assert _clock.format_clock(32_399_999_999_999.996, seconds=False) == "09:00"  # a chart axis position
    assert _clock.format_clock(np.int64(ns)) == "09:00:10"
    assert _clock.parse_clock(np.int64(5)) == 5
    assert _clock.DAY_NS == 86_400 * 10**9 and _clock.KST_OFFSET_NS == 9 * 3600 * 10**9
    for bad in ("24:00", "9h", "09:60:00"):
        with pytest.raises(ValueError, match="time of day"):
            _clock.parse_clock(bad)


# ---------------------------------------------------------------------------------- optional imports
def test_require(monkeypatch):
    assert _optional.require("math", "io") is sys.modules["math"]
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match=r"^pyarrow is not installed, and reading tick files needs it: "
                                          r"pip install 'kospi-fast\[io\]' \(or: pip install pyarrow\)$"):
        _optional.require("pyarrow.parquet", "io", what="reading tick files")
    monkeypatch.setitem(sys.modules, "exchange_calendars", None)
    with pytest.raises(ImportError, match=r"pip install 'kospi-fast\[calendar\]' \(or: pip install exchange-calendars\)"):
        _optional.require("exchange_calendars", "calendar", package="exchange-calendars")


# ---------------------------------------------------------------------------------- ratios
RATIOS = ["1:10", " 1 : 10 ", "1.5:3", "2:1", "10:1", "1:10 ", "1/10", "1:", ":1", "-1:10", "+1:10", "0:10",
          "10:0", "1e1:10", "ten", "1:10:100", "1_0:10", "", 10, 0.1, 2.5, Fraction(1, 10), Decimal("0.1"),
          np.int64(4), np.float32(0.5), 0, -1, float("nan"), float("inf"), True, None, "10"]


def _outcome(f):
    try:
        return f()
    except (TypeError, ValueError) as exc:
        return type(exc)


@pytest.mark.parametrize("value", RATIOS, ids=repr)
def test_one_ratio_grammar_for_krx_and_events(value):
    """krx.split_price and events.Split accept and refuse the same ratios (one grammar)."""
    from kospi_fast import krx
    from kospi_fast.events import Split

    parsed = _outcome(lambda: _validation.ratio(value))
    via_krx = _outcome(lambda: krx.split_price(100_000, value, rounding="nearest"))
    via_event = _outcome(lambda: Split("005930", value))
    if isinstance(parsed, type):
        assert via_krx is parsed and via_event is parsed
    else:
        assert parsed > 0
        assert via_krx == krx.split_price(100_000, parsed, rounding="nearest")
        assert isinstance(via_event, Split)


def test_ratio_values():
    assert _validation.ratio("1:10") == 10 == _validation.ratio(10)
    assert _validation.ratio(" 2 : 1 ") == Fraction(1, 2)
    assert _validation.ratio("1.5:3") == 2
    assert _validation.ratio(0.1) == Fraction(1, 10)  # the decimal it prints as
    with pytest.raises(ValueError, match="`r` must be a string 'old:new' such as '1:10', got '1/10'"):
        _validation.ratio("1/10", "r")
    with pytest.raises(ValueError, match="`r` must have both sides > 0"):
        _validation.ratio("0:1", "r")
    with pytest.raises(TypeError, match="`r` must be a real number, not a bool"):
        _validation.ratio(True, "r")


def test_clock_docstring_examples():
    import doctest

    result = doctest.testmod(_clock)
    assert result.failed == 0 and result.attempted > 0
