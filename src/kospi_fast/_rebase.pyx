"""Divisor (base cap) rebasing.

One rule for every event (methodology, decision 3):

    base_cap_new = base_cap_old × cap_after / cap_before

with both caps taken at the same moment, so the level ``cap / divisor`` is the same just before
and just after the change. ``divisor = base_cap / base_value``, so the divisor scales the same way.
The kernel walks only the changed stocks: cap_after = cap_before + Σ (new − old) terms.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t

from kospi_fast._buffers cimport data, length, length_i64, same_length

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


def apply_changes_inplace(prices, shares, ids, new_prices, new_shares):
    """Low-level: apply validated changes in place. ``prices`` and ``shares`` are writeable
    int64 arrays of one length, ``ids`` (intp, unique), ``new_prices`` and ``new_shares``
    (int64) of another, all 1-d C-contiguous; the results are validated by the caller not to
    overflow. A wrong array or an id out of range is a TypeError or ValueError naming it, before
    anything is written. Returns the cap delta."""
    cdef Py_ssize_t n = length_i64(prices, "prices", True)
    same_length(length_i64(shares, "shares", True), "shares", n, "`prices`")
    cdef Py_ssize_t k = length(ids, cnp.NPY_INTP, "ids", "intp", False)
    same_length(length_i64(new_prices, "new_prices"), "new_prices", k, "`ids`")
    same_length(length_i64(new_shares, "new_shares"), "new_shares", k, "`ids`")
    cdef const Py_ssize_t* ip = <const Py_ssize_t*>data(ids)
    cdef Py_ssize_t j
    for j in range(k):  # O(k), like the kernel: an id out of range would write out of bounds
        if <size_t>ip[j] >= <size_t>n:
            raise ValueError(f"`ids[{j}]` is out of range: ids must be in [0, {n}), got {ip[j]}")
    cdef int64_t delta
    cdef int64_t* pp = <int64_t*>data(prices)
    cdef int64_t* sp = <int64_t*>data(shares)
    cdef const int64_t* npp = <const int64_t*>data(new_prices)
    cdef const int64_t* nsp = <const int64_t*>data(new_shares)
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
    ratio = Fraction(d) * Fraction(cap_after) / Fraction(cap_before)
    try:
        out = float(ratio)
    except OverflowError:
        out = float("inf")
    if not 0.0 < out < float("inf"):
        raise ValueError(
            f"`divisor` × `cap_after` / `cap_before` = {d!r} × {cap_after!r} / {cap_before!r} is out of the "
            f"float64 range (got {out!r}): the rebased divisor must be a finite number > 0")
    return out
