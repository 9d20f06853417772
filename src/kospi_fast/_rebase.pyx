"""Divisor (base cap) rebasing.

One rule for every event (methodology, decision 3):

    base_cap_new = base_cap_old × cap_after / cap_before

with both caps taken at the same moment, so the level ``cap / divisor`` is the same just before
and just after the change. ``divisor = base_cap / base_value``, so the divisor scales the same way.
The kernel walks only the changed stocks: cap_after = cap_before + Σ (new − old) terms.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t

from fractions import Fraction

from kospi_fast import _validation

cnp.import_array()


cdef int64_t apply_changes_i64(int64_t* prices, int64_t* shares, const Py_ssize_t* ids,
                               const int64_t* new_prices, const int64_t* new_shares,
                               Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t j, i
    cdef int64_t delta = 0
    for j in range(k):
        i = ids[j]
        delta += new_prices[j] * new_shares[j] - prices[i] * shares[i]
        prices[i] = new_prices[j]
        shares[i] = new_shares[j]
    return delta


def apply_changes_inplace(cnp.ndarray prices, cnp.ndarray shares, cnp.ndarray ids,
                          cnp.ndarray new_prices, cnp.ndarray new_shares):
    """Low-level: apply validated changes in place (int64 prices/shares, intp ids, unique ids,
    all same length, results validated by the caller not to overflow). Returns the cap delta."""
    cdef Py_ssize_t k = cnp.PyArray_DIM(ids, 0)
    cdef int64_t delta
    cdef int64_t* pp = <int64_t*>cnp.PyArray_DATA(prices)
    cdef int64_t* sp = <int64_t*>cnp.PyArray_DATA(shares)
    cdef const Py_ssize_t* ip = <const Py_ssize_t*>cnp.PyArray_DATA(ids)
    cdef const int64_t* npp = <const int64_t*>cnp.PyArray_DATA(new_prices)
    cdef const int64_t* nsp = <const int64_t*>cnp.PyArray_DATA(new_shares)
    with nogil:
        delta = apply_changes_i64(pp, sp, ip, npp, nsp, k)
    return delta


def rebase_divisor(divisor, cap_before, cap_after):
    """New divisor after an event that moves the aggregate cap from ``cap_before`` to
    ``cap_after`` at unchanged prices: ``divisor × cap_after / cap_before``.

    The ratio is taken exactly (integer caps as fractions) and rounded once to float64, so the
    level ``cap_after / new_divisor`` equals ``cap_before / divisor`` to within float64 rounding.

    Parameters
    ----------
    divisor : float
        Divisor before the event, > 0.
    cap_before, cap_after : int or float
        Aggregate caps before and after the event, at the same prices, > 0.

    Returns
    -------
    float

    Examples
    --------
    >>> import kospi_fast
    >>> kospi_fast.rebase_divisor(1.0, 100, 110)   # one stock worth 10 replaced by one worth 20
    1.1
    """
    d = _validation.positive_float(divisor, "divisor")
    _validation.positive_float(cap_before, "cap_before")
    _validation.positive_float(cap_after, "cap_after")
    return float(Fraction(d) * Fraction(cap_after) / Fraction(cap_before))
