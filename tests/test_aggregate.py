"""aggregate_cap: exact int64 path and compensated float path against the reference."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import reference


def test_exact_on_sample(sample):
    got = kf.aggregate_cap(sample.base_prices, sample.shares)
    assert isinstance(got, int)
    assert got == reference.aggregate_cap(sample.base_prices.tolist(), sample.shares.tolist())


def test_example():
    assert kf.aggregate_cap(np.array([70000, 1500]), np.array([10, 200])) == 1_000_000


def test_empty_is_zero():
    assert kf.aggregate_cap(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == 0


@given(st.lists(st.tuples(st.integers(1, 10**7), st.integers(0, 10**10)), max_size=300))
def test_int_path_matches_reference(rows):
    p = np.array([r[0] for r in rows], dtype=np.int64)
    s = np.array([r[1] for r in rows], dtype=np.int64)
    assert kf.aggregate_cap(p, s) == reference.aggregate_cap([r[0] for r in rows], [r[1] for r in rows])


@pytest.mark.parametrize("pdt,sdt", [(np.int32, np.int64), (np.int64, np.uint32), (np.int16, np.int8)])
def test_other_integer_dtypes_take_the_exact_path(pdt, sdt):
    p = np.array([3, 5, 7], dtype=pdt)
    s = np.array([2, 4, 6], dtype=sdt)
    assert kf.aggregate_cap(p, s) == 3 * 2 + 5 * 4 + 7 * 6


def test_non_contiguous_input_is_handled():
    p = np.arange(1, 21, dtype=np.int64)[::2]
    s = np.arange(1, 21, dtype=np.int64)[::2]
    assert kf.aggregate_cap(p, s) == int(sum(int(a) * int(b) for a, b in zip(p, s)))


def test_float_path_is_compensated():
    # 1e16 + many 1.0 terms: naive float summation loses every 1.0; fsum and Neumaier do not.
    p = np.array([1e16] + [1.0] * 1000 + [-0.0 + 1.0])
    s = np.ones_like(p)
    got = kf.aggregate_cap(p, s)
    assert isinstance(got, float)
    assert got == math.fsum(p * s) == 1e16 + 1001.0


@given(st.lists(st.tuples(st.floats(1e-3, 1e9), st.floats(0, 1e9)), max_size=200))
def test_float_path_close_to_fsum(rows):
    p = np.array([r[0] for r in rows], dtype=np.float64)
    s = np.array([r[1] for r in rows], dtype=np.float64)
    want = reference.aggregate_cap(p.tolist(), s.tolist())
    got = kf.aggregate_cap(p, s) if rows else 0.0
    assert got == pytest.approx(want, rel=1e-15, abs=1e-300)


def test_overflow_is_refused():
    p = np.array([2_000_000_000, 2_000_000_000], dtype=np.int64)
    s = np.array([3_000_000_000, 3_000_000_000], dtype=np.int64)  # 1.2e19 > 2**63
    with pytest.raises(ValueError, match="overflow"):
        kf.aggregate_cap(p, s)


def test_single_product_overflow_is_refused():
    p = np.array([2**40], dtype=np.int64)
    s = np.array([2**40], dtype=np.int64)
    with pytest.raises(ValueError, match="overflow"):
        kf.aggregate_cap(p, s)


def test_large_but_safe_sum_is_exact():
    # Cheap bound fails (OR of prices × Σ shares > limit) but the true sum is safe.
    p = np.array([1, 2**40], dtype=np.int64)
    s = np.array([2**40, 1000], dtype=np.int64)
    assert kf.aggregate_cap(p, s) == 2**40 + 2**40 * 1000
