"""Tests for kospi_fast.krx: tick tables, rounding, price limits, corporate-action base prices.

The grid is checked against a reference built here by enumerating every valid price band by
band (independent of the module's searchsorted/floor arithmetic), and the KRX worked examples
are loaded from ../shared/conformance.
"""

import bisect
import datetime
import json
import os
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kospi_fast import krx

SHARED = Path(__file__).resolve().parents[2] / "shared"

hyp = settings(database=None, deadline=None, max_examples=300)

# (band start, band end, tick), written out from methodology 3.1
UNIFIED_BANDS = [
    (1, 2_000, 1),
    (2_000, 5_000, 5),
    (5_000, 20_000, 10),
    (20_000, 50_000, 50),
    (50_000, 200_000, 100),
    (200_000, 500_000, 500),
    (500_000, 1_200_000, 1_000),
]
PRE_2023_BANDS = [
    (1, 1_000, 1),
    (1_000, 5_000, 5),
    (5_000, 10_000, 10),
    (10_000, 50_000, 50),
    (50_000, 100_000, 100),
    (100_000, 500_000, 500),
    (500_000, 1_200_000, 1_000),
]
OLD_DAY = "2023-01-24"
NEW_DAY = "2023-01-25"
TABLES = {NEW_DAY: UNIFIED_BANDS, OLD_DAY: PRE_2023_BANDS}
MAX_X = 1_000_000  # inputs stay below this so the reference grid always has a price above


def _grid(bands):
    out = []
    for lo, hi, t in bands:
        out.extend(range(lo, hi, t))
    return out


GRIDS = {day: _grid(bands) for day, bands in TABLES.items()}


def ref_tick(x, day):
    for lo, hi, t in TABLES[day]:
        if x < hi:
            return t
    raise AssertionError("reference table too short")


def ref_up(x, day):
    g = GRIDS[day]
    return g[bisect.bisect_left(g, x)]


def ref_down(x, day):
    g = GRIDS[day]
    return g[bisect.bisect_right(g, x) - 1]


def ref_nearest(x, day):
    up, down = ref_up(x, day), ref_down(x, day) if x >= 1 else None
    if down is None or up - x <= x - down:
        return up
    return down


def load_conformance(name):
    path = SHARED / "conformance" / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"conformance file {path} is missing (required when CI=true)")
        pytest.skip(f"conformance file {path} not found (the shared/ folder sits beside the repo)")
    return json.loads(path.read_text(encoding="utf-8"))


def edges(bands):
    """(boundary, tick below, tick at/above) for every band edge of a table."""
    return [(bands[i + 1][0], bands[i][2], bands[i + 1][2]) for i in range(len(bands) - 1)]


EDGE_CASES = [(day, *e) for day, bands in TABLES.items() for e in edges(bands)]


# --------------------------------------------------------------------------------------------
# tick_size and dates
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day,boundary,below,above", EDGE_CASES)
def test_tick_size_band_edges(day, boundary, below, above):
    assert krx.tick_size(boundary - 1, date=day) == below
    assert krx.tick_size(boundary, date=day) == above
    assert krx.tick_size(boundary + 1, date=day) == above
    assert krx.tick_size(Fraction(2 * boundary - 1, 2), date=day) == below
    got = krx.tick_size(np.array([boundary - 1, boundary, boundary + 1]), date=day)
    assert got.dtype == np.int64
    assert got.tolist() == [below, above, above]


def test_tick_size_tables_listed():
    assert krx.UNIFIED_TABLE_DATE == datetime.date(2023, 1, 25)
    bounds, ticks = krx.tick_table()
    assert bounds.tolist() == [2000, 5000, 20000, 50000, 200000, 500000]
    assert ticks.tolist() == [1, 5, 10, 50, 100, 500, 1000]
    bounds, ticks = krx.tick_table(OLD_DAY)
    assert bounds.tolist() == [1000, 5000, 10000, 50000, 100000, 500000]
    assert ticks.tolist() == [1, 5, 10, 50, 100, 500, 1000]
    with pytest.raises(ValueError):
        bounds[0] = 1  # shared tables are read-only


def test_tick_size_smallest_and_largest():
    assert krx.tick_size(1) == 1
    assert krx.tick_size(0.5) == 1
    assert krx.tick_size(10**12) == 1000
    assert type(krx.tick_size(np.int64(25_000))) is int
    assert krx.tick_size(np.int64(25_000)) == 50


@pytest.mark.parametrize(
    "old,new",
    [
        (OLD_DAY, NEW_DAY),
        (datetime.date(2023, 1, 24), datetime.date(2023, 1, 25)),
        (datetime.datetime(2023, 1, 24, 15, 30), datetime.datetime(2023, 1, 25, 9, 0)),
        (np.datetime64("2023-01-24"), np.datetime64("2023-01-25")),
        (np.datetime64("2023-01-24T23:59:59.999999999"), np.datetime64("2023-01-25T00:00", "ns")),
    ],
)
def test_date_switches_table(old, new):
    # 1,000-2,000 went from 5 to 1; 10,000-20,000 from 50 to 10; 100,000-200,000 from 500 to 100
    prices = [1500, 15000, 150000]
    assert [krx.tick_size(p, date=old) for p in prices] == [5, 50, 500]
    assert [krx.tick_size(p, date=new) for p in prices] == [1, 10, 100]
    assert krx.tick_size(prices, date=old).tolist() == [5, 50, 500]
    assert krx.tick_size(prices, date=new).tolist() == [1, 10, 100]


def test_date_none_is_unified_and_far_dates():
    assert krx.tick_size(1500) == 1
    assert krx.tick_size(1500, date="2011-06-01") == 5
    assert krx.tick_size(1500, date="2030-01-01") == 1


@pytest.mark.parametrize("bad", [20230125, 2023.0, b"2023-01-25", ["2023-01-25"], object()])
def test_date_wrong_kind(bad):
    with pytest.raises(TypeError, match="`date`"):
        krx.tick_size(1000, date=bad)


@pytest.mark.parametrize("bad", ["2023-1-25", "25-01-2023", "2023-02-30", "", "2023/01-25", "230125"])
def test_date_bad_string(bad):
    with pytest.raises(ValueError, match="`date`"):
        krx.tick_size(1000, date=bad)


@pytest.mark.parametrize("good", ["2023/01/25", "20230125", "2023.01.25", "2023-01-25 09:00:00"])
def test_date_strings_of_the_package_grammar(good):
    # the one date grammar of kospi_fast._validation.as_date
    assert krx.tick_size(1500, date=good) == 1
    assert krx.tick_size(1500, date=good.replace("25", "24", 1)) == 5


def test_date_nat():
    with pytest.raises(ValueError, match="`date`"):
        krx.tick_size(1000, date=np.datetime64("NaT"))


@pytest.mark.parametrize(
    "bad", [0, -1, -0.5, float("nan"), float("inf"), Decimal("-3"), Fraction(0)]
)
def test_tick_size_bad_value(bad):
    with pytest.raises(ValueError, match="`price`"):
        krx.tick_size(bad)


@pytest.mark.parametrize("bad", ["1000", True, np.bool_(False), None, 1 + 2j])
def test_tick_size_bad_kind(bad):
    with pytest.raises(TypeError, match="`price`"):
        krx.tick_size(bad)


def test_tick_size_array_error_names_index():
    with pytest.raises(ValueError, match=re.escape("`price[3]` must be > 0, got -5")):
        krx.tick_size([100, 200, 300, -5, 0])
    with pytest.raises(ValueError, match=re.escape("`price[1, 0]` must be > 0, got 0")):
        krx.tick_size(np.array([[1, 2], [0, 4]]))
    msg = "`price[2]` must be a finite number > 0, got nan"
    with pytest.raises(ValueError, match=re.escape(msg)):
        krx.tick_size([1.0, 2.0, np.nan])
    with pytest.raises(TypeError, match="`price`"):
        krx.tick_size(np.array([True, False]))
    with pytest.raises(TypeError, match="`price`"):
        krx.tick_size(["1000"])


@hyp
@given(st.lists(st.integers(1, MAX_X), max_size=50), st.sampled_from([OLD_DAY, NEW_DAY]))
def test_tick_size_array_matches_reference(prices, day):
    got = krx.tick_size(np.array(prices, dtype=np.int64), date=day)
    assert got.dtype == np.int64 and got.shape == (len(prices),)
    assert got.tolist() == [ref_tick(p, day) for p in prices]
    assert [krx.tick_size(p, date=day) for p in prices] == got.tolist()


# --------------------------------------------------------------------------------------------
# is_on_tick
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day,boundary,below,above", EDGE_CASES)
def test_is_on_tick_band_edges(day, boundary, below, above):
    assert krx.is_on_tick(boundary, date=day) is True
    assert krx.is_on_tick(boundary - below, date=day) is True
    assert krx.is_on_tick(boundary + above, date=day) is True
    assert krx.is_on_tick(boundary + 1, date=day) is (above == 1)
    assert krx.is_on_tick(boundary - 1, date=day) is (below == 1)
    arr = krx.is_on_tick(np.array([boundary - 1, boundary, boundary + 1]), date=day)
    assert arr.dtype == np.bool_
    assert arr.tolist() == [below == 1, True, above == 1]


def test_is_on_tick_values():
    assert krx.is_on_tick(1500, date=NEW_DAY) is True
    assert krx.is_on_tick(1501, date=OLD_DAY) is False
    assert krx.is_on_tick(12970) is True
    assert krx.is_on_tick(12970, date=OLD_DAY) is False
    assert krx.is_on_tick(2000.0) is True
    assert krx.is_on_tick(2000.5) is False
    assert krx.is_on_tick(Fraction(4010, 2)) is True
    assert krx.is_on_tick(Decimal("2005.0")) is True
    # invalid values are simply not on the grid
    for bad in (0, -5, -2000, float("nan"), float("inf"), Fraction(1, 2)):
        assert krx.is_on_tick(bad) is False
    got = krx.is_on_tick([2005.0, 2003.0, np.nan, np.inf, -5.0, 0.0, 1.5])
    assert got.tolist() == [True, False, False, False, False, False, False]
    assert krx.is_on_tick([-5, 0, 1]).tolist() == [False, False, True]


@pytest.mark.parametrize("bad", ["2000", True, None])
def test_is_on_tick_bad_kind(bad):
    with pytest.raises(TypeError, match="`price`"):
        krx.is_on_tick(bad)
    with pytest.raises(TypeError, match="`date`"):
        krx.is_on_tick(2000, date=5)


@hyp
@given(st.integers(1, MAX_X), st.sampled_from([OLD_DAY, NEW_DAY]))
def test_is_on_tick_matches_reference(p, day):
    expected = GRIDS[day][bisect.bisect_left(GRIDS[day], p)] == p
    assert krx.is_on_tick(p, date=day) is expected
    assert krx.is_on_tick(np.array([p]), date=day).tolist() == [expected]
    assert krx.is_on_tick(np.array([float(p)]), date=day).tolist() == [expected]


# --------------------------------------------------------------------------------------------
# round_to_tick
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x,day,up,down,nearest",
    [
        (Fraction(29000, 3), NEW_DAY, 9670, 9660, 9670),  # 9666.67
        (Decimal("9666.666666666666666666667"), NEW_DAY, 9670, 9660, 9670),
        (1999.5, NEW_DAY, 2000, 1999, 2000),  # tie at the edge goes up
        (1999.4, NEW_DAY, 2000, 1999, 1999),
        (1999, OLD_DAY, 2000, 1995, 2000),
        (1997.5, OLD_DAY, 2000, 1995, 2000),  # tie inside a 5-won band
        (1997, OLD_DAY, 2000, 1995, 1995),
        (4999, NEW_DAY, 5000, 4995, 5000),
        (4999, OLD_DAY, 5000, 4995, 5000),
        (2001, NEW_DAY, 2005, 2000, 2000),
        (2002.5, NEW_DAY, 2005, 2000, 2005),
        (19999, NEW_DAY, 20000, 19990, 20000),
        (19999, OLD_DAY, 20000, 19950, 20000),
        (19975, OLD_DAY, 20000, 19950, 20000),
        (9999, OLD_DAY, 10000, 9990, 10000),
        (10001, OLD_DAY, 10050, 10000, 10000),
        (10001, NEW_DAY, 10010, 10000, 10000),
        (499_999, NEW_DAY, 500_000, 499_500, 500_000),
        (500_000.5, NEW_DAY, 501_000, 500_000, 500_000),
        (Fraction(1, 3), NEW_DAY, 1, None, 1),
        (2000, NEW_DAY, 2000, 2000, 2000),
    ],
)
def test_round_to_tick_examples(x, day, up, down, nearest):
    assert krx.round_to_tick(x, "up", date=day) == up
    assert krx.round_to_tick(x, "nearest", date=day) == nearest
    assert type(krx.round_to_tick(x, date=day)) is int
    if down is None:
        with pytest.raises(ValueError, match="round down"):
            krx.round_to_tick(x, "down", date=day)
    else:
        assert krx.round_to_tick(x, "down", date=day) == down


def test_round_to_tick_default_is_up_and_unified():
    assert krx.round_to_tick(Fraction(29000, 3)) == 9670
    assert krx.round_to_tick(10001) == 10010


@pytest.mark.parametrize("day,boundary,below,above", EDGE_CASES)
def test_round_to_tick_band_edges(day, boundary, below, above):
    for x in (boundary - 1, Fraction(2 * boundary - 1, 2), boundary, boundary + 1):
        assert krx.round_to_tick(x, "up", date=day) == ref_up(x, day)
        assert krx.round_to_tick(x, "down", date=day) == ref_down(x, day)
        assert krx.round_to_tick(x, "nearest", date=day) == ref_nearest(x, day)
    xs = np.array([boundary - 1, boundary, boundary + 1])
    for mode, ref in (("up", ref_up), ("down", ref_down), ("nearest", ref_nearest)):
        assert krx.round_to_tick(xs, mode, date=day).tolist() == [ref(int(x), day) for x in xs]


exact_prices = st.one_of(
    st.integers(1, MAX_X),
    st.fractions(min_value=Fraction(1, 100), max_value=MAX_X, max_denominator=1000),
    st.decimals(min_value=Decimal("0.01"), max_value=MAX_X, places=3),
    st.floats(min_value=0.01, max_value=MAX_X),
)


@hyp
@given(exact_prices, st.sampled_from([OLD_DAY, NEW_DAY]))
def test_round_to_tick_brackets_and_on_grid(x, day):
    xf = Fraction(str(x)) if isinstance(x, float) else Fraction(x)
    up = krx.round_to_tick(x, "up", date=day)
    assert up == ref_up(xf, day)
    assert krx.is_on_tick(up, date=day) and up >= xf
    nearest = krx.round_to_tick(x, "nearest", date=day)
    assert nearest == ref_nearest(xf, day)
    if xf >= 1:
        down = krx.round_to_tick(x, "down", date=day)
        assert down == ref_down(xf, day)
        assert krx.is_on_tick(down, date=day) and down <= xf <= up
        # no grid price strictly between them: they are adjacent or equal
        assert up == down or krx.round_to_tick(down + 1, "up", date=day) == up
        assert nearest in (down, up)
        assert abs(nearest - xf) <= abs(xf - down) and abs(nearest - xf) <= abs(up - xf)


@hyp
@given(
    st.lists(st.integers(1, MAX_X), min_size=1, max_size=40),
    st.sampled_from(["up", "down", "nearest"]),
    st.sampled_from([OLD_DAY, NEW_DAY]),
)
def test_round_to_tick_array_matches_scalar(xs, mode, day):
    got = krx.round_to_tick(np.array(xs), mode, date=day)
    assert got.dtype == np.int64
    assert got.tolist() == [krx.round_to_tick(x, mode, date=day) for x in xs]
    halves = np.array(xs, dtype=np.float64) + 0.5
    got_f = krx.round_to_tick(halves, mode, date=day)
    assert got_f.dtype == np.int64
    assert got_f.tolist() == [krx.round_to_tick(Fraction(2 * x + 1, 2), mode, date=day) for x in xs]


def test_round_to_tick_array_below_one():
    assert krx.round_to_tick([0.25, 0.5, 0.75], "up").tolist() == [1, 1, 1]
    assert krx.round_to_tick([0.25, 0.5, 0.75], "nearest").tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match=re.escape("`price[1]` must be >= 1 to round down")):
        krx.round_to_tick([1.5, 0.5], "down")


@pytest.mark.parametrize("mode", ["UP", "ceil", "", None, 1])
def test_round_to_tick_bad_mode(mode):
    with pytest.raises(ValueError, match="`mode`"):
        krx.round_to_tick(1000, mode)


def test_round_to_tick_bad_price():
    for bad in (0, -1, float("nan"), float("-inf"), Decimal("NaN"), Fraction(-1, 2)):
        with pytest.raises(ValueError, match="`price`"):
            krx.round_to_tick(bad)
    for bad in ("1000", False, None, [["a"]]):
        with pytest.raises(TypeError, match="`price`"):
            krx.round_to_tick(bad)
    with pytest.raises(ValueError, match=re.escape("`price[3]` must be > 0, got -5")):
        krx.round_to_tick(np.array([1, 2, 3, -5]))
    with pytest.raises(ValueError, match=re.escape("`price` must be a finite number > 0, got nan")):
        krx.round_to_tick(float("nan"))
    with pytest.raises(TypeError, match="`date`"):
        krx.round_to_tick(1000, "up", 2023)


# --------------------------------------------------------------------------------------------
# price limits
# --------------------------------------------------------------------------------------------


def test_price_limit_conformance_9980():
    case = load_conformance("krx_price_limit_base_9980.json")
    base = case["inputs"]["base_price"]
    rate = case["inputs"]["limit_rate"]
    exp = case["expected"]
    assert base * Fraction(str(rate)) == exp["raw_limit"]
    assert krx.price_limit_amount(base, rate=rate) == exp["limit_after_tick_truncation"]
    lower, upper = krx.price_limits(base, date=NEW_DAY, rate=rate)
    assert (lower, upper) == (exp["lower_limit"], exp["upper_limit"])
    assert krx.price_limits(base) == (exp["lower_limit"], exp["upper_limit"])
    lo, up = krx.price_limits(np.array([base, base]), rate=rate)
    assert lo.tolist() == [exp["lower_limit"]] * 2 and up.tolist() == [exp["upper_limit"]] * 2


def test_price_limits_old_table_truncates_upper():
    # 9980 + 2990 = 12970 is off the old 50-won grid -> 12950
    assert krx.price_limits(9980, date=OLD_DAY) == (6990, 12950)


def test_price_limits_kosdaq_pre_2023_example(monkeypatch):
    # methodology 3.2, KOSDAQ page with pre-2023 KOSDAQ ticks (10,000-50,000: 50; 50,000+: 100):
    # base 9,940 -> 2,982 -> 2,980 -> upper 12,920 -> 12,900, lower 6,960.
    # The KOSDAQ table is not part of the API; swap it in for the old table to check the steps.
    kosdaq = krx._make_table((1_000, 5_000, 10_000, 50_000), (1, 5, 10, 50, 100))
    monkeypatch.setattr(krx, "_PRE_2023", kosdaq)
    assert krx.price_limit_amount(9940, date=OLD_DAY) == 2980
    assert krx.price_limits(9940, date=OLD_DAY) == (6960, 12900)
    lo, up = krx.price_limits([9940], date=OLD_DAY)
    assert (lo.tolist(), up.tolist()) == ([6960], [12900])


@pytest.mark.parametrize(
    "base,rate,expected",
    [
        (1, 0.3, (1, 1)),
        (3, 0.3, (3, 3)),  # 0.9 truncates to 0
        (4, 0.3, (3, 5)),
        (10000, 0.3, (7000, 13000)),
        (10000, 0.15, (8500, 11500)),
        (10000, Decimal("0.15"), (8500, 11500)),
        (10000, Fraction(3, 20), (8500, 11500)),
        (1990, 0.3, (1393, 2585)),  # 597 -> 2587 truncated to 5-won tick
        (100, 1, (1, 200)),  # lower clamped to 1
        (100, 2.5, (1, 350)),
    ],
)
def test_price_limits_values(base, rate, expected):
    assert krx.price_limits(base, rate=rate) == expected
    lo, up = krx.price_limits(np.array([base]), rate=rate)
    assert (int(lo[0]), int(up[0])) == expected


def test_price_limits_rate_exact_not_float():
    # 0.1 + 0.2 is 0.30000000000000004, which is read as that decimal, not as 0.3
    assert krx.price_limit_amount(10**9, rate=0.1 + 0.2) == 300_000_000
    assert krx.price_limits(10**15, rate=0.1 + 0.2)[1] == 1_300_000_000_000_000
    big = np.array([10**15, 10**9])
    lo, up = krx.price_limits(big, rate=0.1 + 0.2)  # exercises the overflow-safe path
    assert up.tolist() == [1_300_000_000_000_000, 1_300_000_000]
    assert lo.tolist() == [700_000_000_000_000, 700_000_000]


base_on_grid = st.builds(
    lambda x, day: (krx.round_to_tick(x, "down", date=day), day),
    st.integers(1, MAX_X),
    st.sampled_from([OLD_DAY, NEW_DAY]),
)


@hyp
@given(base_on_grid, st.sampled_from([Fraction(3, 10), Fraction(3, 20), Fraction(3, 5)]))
def test_price_limits_properties_on_grid_base(base_day, rate):
    base, day = base_day
    lower, upper = krx.price_limits(base, date=day, rate=rate)
    limit = krx.price_limit_amount(base, date=day, rate=rate)
    t_base, t_up = krx.tick_size(base, date=day), krx.tick_size(upper, date=day)
    assert krx.is_on_tick(lower, date=day) and krx.is_on_tick(upper, date=day)
    assert 1 <= lower <= base <= upper
    assert limit % t_base == 0 and 0 <= base * rate - limit < t_base
    # never wider than the rate on either side ...
    assert upper <= base * (1 + rate)
    assert lower >= base * (1 - rate)
    # ... and as wide as the grid allows: lower needs no truncation on a grid base,
    # upper loses less than one base tick (step 2) plus one tick at its own level (step 3)
    assert lower == base - limit
    assert base * (1 - rate) + t_base > lower
    assert base * (1 + rate) - upper < t_base + t_up
    assert upper == krx.round_to_tick(base + limit, "down", date=day)
    lo, up = krx.price_limits(np.array([base]), date=day, rate=rate)
    assert (lo.tolist(), up.tolist()) == ([lower], [upper])


@hyp
@given(
    st.lists(st.integers(1, MAX_X), min_size=1, max_size=40),
    st.sampled_from([OLD_DAY, NEW_DAY]),
    st.fractions(min_value=Fraction(1, 100), max_value=Fraction(99, 100), max_denominator=1000),
)
def test_price_limits_properties_any_base(bases, day, rate):
    # an off-grid base still gives grid limits inside the band, up to one tick at the lower end
    lo, up = krx.price_limits(np.array(bases), date=day, rate=rate)
    assert lo.dtype == np.int64 and up.dtype == np.int64
    for base, lower, upper in zip(bases, lo.tolist(), up.tolist()):
        assert (lower, upper) == krx.price_limits(base, date=day, rate=rate)
        assert krx.is_on_tick(lower, date=day) and krx.is_on_tick(upper, date=day)
        assert 1 <= lower <= base and upper <= base * (1 + rate)
        assert lower > base * (1 - rate) - krx.tick_size(lower, date=day)


@pytest.mark.parametrize("day,boundary,below,above", EDGE_CASES)
@pytest.mark.parametrize("rate", [Fraction(3, 10), Fraction(301, 1000), Fraction(1, 7)])
def test_price_limits_base_at_band_edge(day, boundary, below, above, rate):
    # step 2 uses the tick of the band the base starts (boundary belongs to the upper band)
    for base, t in ((boundary - below, below), (boundary, above)):
        limit = (base * rate) // t * t
        upper = ref_down(base + limit, day)
        lower = ref_down(base - limit, day)
        assert krx.price_limit_amount(base, date=day, rate=rate) == limit
        assert krx.price_limits(base, date=day, rate=rate) == (lower, upper)
        lo, up = krx.price_limits(np.array([base]), date=day, rate=rate)
        assert (lo.tolist(), up.tolist()) == ([lower], [upper])
        assert krx.price_limit_amount([base], date=day, rate=rate).tolist() == [limit]


@pytest.mark.parametrize(
    "kwargs,exc,message",
    [
        ({"base_price": 0}, ValueError, "`base_price` must be > 0, got 0"),
        ({"base_price": -100}, ValueError, "`base_price` must be > 0, got -100"),
        ({"base_price": 9980.5}, ValueError, "`base_price` must be a whole number of won"),
        ({"base_price": float("nan")}, ValueError, "`base_price` must be a finite number > 0"),
        ({"base_price": "9980"}, TypeError, "`base_price`"),
        ({"base_price": True}, TypeError, "`base_price`"),
        ({"base_price": [9980, -5]}, ValueError, "`base_price[1]` must be > 0, got -5"),
        ({"base_price": [9980.0, 9980.5]}, ValueError, "`base_price[1]` must be a whole number"),
        ({"base_price": 9980, "rate": 0}, ValueError, "`rate` must be > 0, got 0"),
        ({"base_price": 9980, "rate": -0.3}, ValueError, "`rate` must be > 0, got -0.3"),
        ({"base_price": 9980, "rate": float("inf")}, ValueError, "`rate` must be a finite number"),
        ({"base_price": 9980, "rate": "0.3"}, TypeError, "`rate`"),
        ({"base_price": 9980, "date": 1}, TypeError, "`date`"),
        ({"base_price": 9980, "date": "2023-13-01"}, ValueError, "`date`"),
    ],
)
@pytest.mark.parametrize("func", [krx.price_limits, krx.price_limit_amount])
def test_price_limits_bad_input(func, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        func(**kwargs)


# --------------------------------------------------------------------------------------------
# base prices after corporate actions
# --------------------------------------------------------------------------------------------


def test_ex_rights_conformance():
    case = load_conformance("krx_rights_issue_ex_rights_base_price.json")
    inp, exp = case["inputs"], case["expected"]
    args = (inp["cum_price"], inp["old_shares"], inp["issue_price"], inp["new_shares"])
    assert inp["cum_price"] * inp["old_shares"] + inp["issue_price"] * inp["new_shares"] == exp[
        "total_value"
    ]
    assert inp["old_shares"] + inp["new_shares"] == exp["shares_after"]
    theo = krx.theoretical_ex_rights_price(*args)
    assert theo == Fraction(exp["total_value"], exp["shares_after"]) == Fraction(29000, 3)
    assert abs(float(theo) - exp["theoretical_ex_rights_price"]) <= case["tolerance"]
    assert krx.ex_rights_price(*args) == 9670
    assert krx.ex_rights_price(*args, rounding="down") == 9660
    assert krx.ex_rights_price(*args, rounding="nearest") == 9670


def test_ex_rights_price_date_and_exact_inputs():
    # (15000*100 + 12000*30) / 130 = 14307.69...: 10-won tick now, 50-won tick before 2023-01-25
    assert krx.ex_rights_price(15000, 100, 12000, 30) == 14310
    assert krx.ex_rights_price(15000, 100, 12000, 30, date=OLD_DAY) == 14350
    assert krx.ex_rights_price(15000, 100, 12000, 30, "down", OLD_DAY) == 14300
    assert krx.ex_rights_price(15000, 100, 12000, 30, "nearest", OLD_DAY) == 14300
    # float/Decimal/Fraction inputs are exact: 1 + 0.2 shares == 6/5
    assert krx.theoretical_ex_rights_price(10000.0, 1, Decimal("8000"), 0.2) == Fraction(29000, 3)
    theo = krx.theoretical_ex_rights_price(10000, Fraction(1), 8000, Fraction(1, 5))
    assert theo == Fraction(29000, 3)
    # an issue at the cum price changes nothing
    assert krx.theoretical_ex_rights_price(12345, 7, 12345, 3) == 12345
    assert krx.ex_rights_price(10000, 100, 0, 50) == krx.bonus_issue_price(10000, 100, 50)


def test_bonus_issue_price():
    assert krx.bonus_issue_price(10000, 100, 50) == 6670  # 6666.67
    assert krx.bonus_issue_price(10000, 100, 50, rounding="down") == 6660
    assert krx.bonus_issue_price(10000, 100, 100) == 5000
    assert krx.bonus_issue_price(3000, 2, 1, date=OLD_DAY) == 2000  # exact, on grid
    assert krx.bonus_issue_price(3001, 2, 1, date=OLD_DAY) == 2005  # 2000.67, 5-won tick
    assert krx.bonus_issue_price(3001, 2, 1) == 2005  # 2000.67 is in the 5-won band now too
    assert krx.bonus_issue_price(2998, 2, 1) == 1999  # 1998.67, 1-won band now
    assert krx.bonus_issue_price(2998, 2, 1, date=OLD_DAY) == 2000


def test_stock_dividend_price():
    assert krx.stock_dividend_price(10000, 100, 5) == 9530  # 9523.81
    assert krx.stock_dividend_price(10000, 100, 5, rounding="nearest") == 9520
    assert krx.stock_dividend_price(21000, 100, 5) == 20000
    assert krx.stock_dividend_price(10000, 100, 5) == krx.bonus_issue_price(10000, 100, 5)


def test_split_conformance():
    case = load_conformance("krx_split_base_price.json")
    inp, exp = case["inputs"], case["expected"]
    after = krx.split_price(inp["prev_close"], inp["split_ratio"])
    assert after == exp["base_price_after"]
    old, new = (int(s) for s in inp["split_ratio"].split(":"))
    shares_after = inp["shares_before"] * new // old
    assert shares_after == exp["shares_after"]
    assert inp["prev_close"] * inp["shares_before"] == exp["market_cap_before"]
    assert after * shares_after == exp["market_cap_after"]
    assert exp["market_cap_after"] - exp["market_cap_before"] == exp["base_market_cap_change"]


@pytest.mark.parametrize(
    "prev,ratio,expected",
    [
        (10000, 10, 1000),
        (10000, "1:10", 1000),
        (10000, " 1 : 10 ", 1000),
        (10000, Fraction(10), 1000),
        (1000, 0.1, 10000),
        (1000, Fraction(1, 10), 10000),
        (1000, Decimal("0.1"), 10000),
        (1000, "10:1", 10000),
        (3000, "2:3", 2000),
        (10005, 10, 1001),  # 1000.5 rounded up on the 1-won grid
        (52300, 5, 10460),
    ],
)
def test_split_price_values(prev, ratio, expected):
    assert krx.split_price(prev, ratio) == expected


def test_split_price_date_and_rounding():
    assert krx.split_price(10005, 10, date=OLD_DAY) == 1005  # 1000.5 on the old 5-won grid
    assert krx.split_price(10005, 10, rounding="down", date=OLD_DAY) == 1000
    assert krx.split_price(10005, 10, rounding="nearest") == 1001  # tie goes up
    assert krx.split_price(10004, 10, rounding="nearest") == 1000


CA_CALLS = {
    "ex_rights_price": (
        krx.ex_rights_price,
        {"cum_price": 10000, "old_shares": 100, "issue_price": 8000, "new_shares": 20},
    ),
    "theoretical_ex_rights_price": (
        krx.theoretical_ex_rights_price,
        {"cum_price": 10000, "old_shares": 100, "issue_price": 8000, "new_shares": 20},
    ),
    "bonus_issue_price": (
        krx.bonus_issue_price,
        {"cum_price": 10000, "old_shares": 100, "new_shares": 50},
    ),
    "stock_dividend_price": (
        krx.stock_dividend_price,
        {"cum_price": 10000, "old_shares": 100, "new_shares": 5},
    ),
    "split_price": (krx.split_price, {"prev_close": 10000, "ratio": 10}),
}

BAD_VALUES = [
    (0, ValueError, "must be > 0, got 0"),
    (-10, ValueError, "must be > 0, got -10"),
    (Fraction(-1, 2), ValueError, "must be > 0, got -1/2"),
    (float("nan"), ValueError, "must be a finite number > 0, got nan"),
    (float("inf"), ValueError, "must be a finite number > 0, got inf"),
    (Decimal("NaN"), ValueError, "must be a finite number > 0, got NaN"),
    ("100", TypeError, "must be a real number"),
    (True, TypeError, "must be a real number, not a bool, got True"),
    (None, TypeError, "must be a real number"),
]


def _bad_cases():
    for fname, (func, good) in CA_CALLS.items():
        for arg in good:
            if arg == "issue_price" or (arg == "ratio"):
                continue
            for value, exc, message in BAD_VALUES:
                case_id = f"{fname}-{arg}-{value!r}"
                yield pytest.param(func, good, arg, value, exc, message, id=case_id)


@pytest.mark.parametrize("func,good,arg,value,exc,message", list(_bad_cases()))
def test_corporate_action_bad_inputs(func, good, arg, value, exc, message):
    assert func(**good)  # the good call works
    with pytest.raises(exc, match=re.escape(f"`{arg}` {message}")):
        func(**{**good, arg: value})


@pytest.mark.parametrize(
    "value,exc,message",
    [
        (-1, ValueError, "`issue_price` must be a finite number >= 0, got -1"),
        (float("nan"), ValueError, "`issue_price` must be a finite number >= 0, got nan"),
        (float("-inf"), ValueError, "`issue_price` must be a finite number >= 0, got -inf"),
        ("8000", TypeError, "`issue_price` must be a real number"),
        (False, TypeError, "`issue_price` must be a real number, not a bool"),
    ],
)
@pytest.mark.parametrize("func", [krx.ex_rights_price, krx.theoretical_ex_rights_price])
def test_issue_price_bad(func, value, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        func(10000, 100, value, 20)
    assert krx.theoretical_ex_rights_price(10000, 100, 0, 20) == Fraction(25000, 3)


@pytest.mark.parametrize(
    "value,exc,message",
    [
        (0, ValueError, "`ratio` must be > 0, got 0"),
        (-10, ValueError, "`ratio` must be > 0, got -10"),
        (float("nan"), ValueError, "`ratio` must be a finite number > 0, got nan"),
        ("1/10", ValueError, "`ratio` must be a string 'old:new'"),
        ("1:", ValueError, "`ratio` must be a string 'old:new'"),
        ("-1:10", ValueError, "`ratio` must be a string 'old:new'"),
        ("0:10", ValueError, "`ratio` must have both sides > 0"),
        ("10:0", ValueError, "`ratio` must have both sides > 0"),
        (True, TypeError, "`ratio`"),
        (None, TypeError, "`ratio`"),
    ],
)
def test_split_ratio_bad(value, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        krx.split_price(10000, value)


@pytest.mark.parametrize("fname", sorted(set(CA_CALLS) - {"theoretical_ex_rights_price"}))
def test_corporate_action_bad_rounding_and_date(fname):
    func, good = CA_CALLS[fname]
    for rounding in ("ceil", "UP", None):
        with pytest.raises(ValueError, match="`rounding`"):
            func(**good, rounding=rounding)
    with pytest.raises(TypeError, match="`date`"):
        func(**good, date=20230125)
    with pytest.raises(ValueError, match="`date`"):
        func(**good, date="2023-1-25")


def test_round_down_below_one_in_corporate_action():
    # 1 won split 1:10 gives 0.1 won: no grid price below 1
    assert krx.split_price(1, 10) == 1
    assert krx.split_price(1, 10, rounding="nearest") == 1
    with pytest.raises(ValueError, match="round down"):
        krx.split_price(1, 10, rounding="down")


@hyp
@given(
    st.integers(1, 500_000),
    st.integers(1, 10**9),
    st.integers(0, 500_000),
    st.integers(1, 10**9),
    st.sampled_from([OLD_DAY, NEW_DAY]),
)
def test_ex_rights_rounding_brackets_theoretical(cum, old, issue, new, day):
    theo = krx.theoretical_ex_rights_price(cum, old, issue, new)
    assert min(cum, issue) <= theo <= max(cum, issue)
    up = krx.ex_rights_price(cum, old, issue, new, date=day)
    assert up == ref_up(theo, day)
    if theo >= 1:
        down = krx.ex_rights_price(cum, old, issue, new, "down", day)
        assert down == ref_down(theo, day)
        assert down <= theo <= up
    assert krx.ex_rights_price(cum, old, issue, new, "nearest", day) == ref_nearest(theo, day)
