"""Cap aggregation: Σ price × shares over a universe.

The int64 kernel is exact. ``checked_cap_i64`` refuses exactly the sums that do not fit in int64:
a cheap bound (OR of the prices × Σ shares) settles the common case in one vectorised pass, and
only when it fails is the sum re-taken with an overflow check on every product and partial sum. The float64 kernel uses Neumaier's compensated summation, so its error does not
grow with the number of stocks.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t, uint64_t
from libc.math cimport INFINITY, fabs

from kospi_fast._buffers cimport is_c_array
from kospi_fast._overflow cimport kf_cap_add

from kospi_fast import _validation

cnp.import_array()

cdef double SAFE_BOUND = 9.0e18   # below 2**63 with room for float rounding: the fast test
cdef double NO_LIMIT = INFINITY   # checked_cap_i64's limit for "whatever fits in int64"
cdef Py_ssize_t NOGIL_MIN = 16384


cdef int64_t sum_cap_i64(const int64_t* prices, const int64_t* shares, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef int64_t total = 0
    for i in range(n):
        total += prices[i] * shares[i]
    return total


cdef Py_ssize_t checked_cap_i64(const int64_t* prices, const int64_t* shares, Py_ssize_t n,
                                double limit, int64_t* out) noexcept nogil:
    # Validity and the common no-overflow case are decided from bitwise ORs and a share sum,
    # which vectorise:
    #  * p | (p - 1) has its sign bit set exactly when p <= 0; s has it when s < 0;
    #  * OR of all prices >= max price, so Σ p × s <= (OR of prices) × Σ s. When that bound is
    #    below SAFE_BOUND (9.0e18 < 2**63, with room for the float product's rounding) no
    #    product or partial sum can overflow. (Σ s itself cannot wrap: each s < 2**63 and the
    #    bound check fails long before n × 2**63.)
    # Only when the cheap bound fails is the sum re-taken with an exact overflow check on each
    # product and partial sum (every term is >= 0, so the partial sums only grow: the sum
    # overflows exactly when some partial sum does).
    cdef Py_ssize_t i
    cdef int64_t total = 0, t0 = 0, t1 = 0, sign = 0, por = 0, sor = 0
    cdef uint64_t ssum = 0
    for i in range(n):
        sign |= (prices[i] | (prices[i] - 1)) | shares[i]
        por |= prices[i]
        sor |= shares[i]
        ssum += <uint64_t>shares[i]
    if sign < 0:
        for i in range(n):
            if prices[i] <= 0 or shares[i] < 0:
                return i
    if not (<double>por * <double>ssum < SAFE_BOUND and <double>sor * <double>n < SAFE_BOUND):
        for i in range(n):
            if kf_cap_add(total, prices[i], shares[i], &total):
                return n
        if not (<double>total < limit):
            return n
        out[0] = total
        return -1
    # Two accumulators: the multiplies are independent, the adds form two shorter chains.
    i = 0
    while i + 1 < n:
        t0 += prices[i] * shares[i]
        t1 += prices[i + 1] * shares[i + 1]
        i += 2
    if i < n:
        t0 += prices[i] * shares[i]
    total = t0 + t1
    if not (<double>total < limit):
        return n
    out[0] = total
    return -1


cdef double sum_cap_f64(const double* prices, const double* shares, Py_ssize_t n) noexcept nogil:
    # Neumaier: carry the low-order bits lost by each addition in ``comp``.
    cdef Py_ssize_t i
    cdef double total = 0.0, comp = 0.0, term, t
    for i in range(n):
        term = prices[i] * shares[i]
        t = total + term
        if fabs(total) >= fabs(term):
            comp += (total - t) + term
        else:
            comp += (term - t) + total
        total = t
    return total + comp


def aggregate_cap(prices, shares):
    """Aggregate market cap ``Σ prices[i] × shares[i]``.

    Parameters
    ----------
    prices : array_like, shape (n,)
        Prices (any unit: won, cents, ...), all > 0. Integer arrays take the exact path; a float array takes the
        float64 path.
    shares : array_like, shape (n,)
        Index shares (listed shares for KOSPI), all >= 0 (0 = not a member).

    Returns
    -------
    int or float
        The exact aggregate as a Python ``int`` when both inputs are integers, else a float64
        computed with compensated summation.

    Raises
    ------
    TypeError
        Wrong kind of input (strings, objects, booleans).
    ValueError
        Wrong ndim, mismatched lengths, a price <= 0 or not finite, a negative share count, or
        an integer aggregate that could overflow int64.

    Examples
    --------
    >>> import numpy as np, kospi_fast
    >>> kospi_fast.aggregate_cap(np.array([70000, 1500]), np.array([10, 200]))
    1000000
    """
    cdef int64_t total
    cdef Py_ssize_t n, bad
    cdef cnp.ndarray p, s
    # 1-d, C-contiguous, aligned, native int64 ndarrays: the zero-copy fast path
    if is_c_array(prices, cnp.NPY_INT64, 1, False) and is_c_array(shares, cnp.NPY_INT64, 1, False):
        p = <cnp.ndarray>prices
        s = <cnp.ndarray>shares
        n = cnp.PyArray_DIM(p, 0)
        if cnp.PyArray_DIM(s, 0) == n:
            if n < NOGIL_MIN:
                # Releasing the GIL costs more than scanning a KOSPI-sized universe.
                bad = checked_cap_i64(<const int64_t*>cnp.PyArray_DATA(p),
                                      <const int64_t*>cnp.PyArray_DATA(s), n, NO_LIMIT, &total)
            else:
                with nogil:
                    bad = checked_cap_i64(<const int64_t*>cnp.PyArray_DATA(p),
                                          <const int64_t*>cnp.PyArray_DATA(s), n, NO_LIMIT,
                                          &total)
            if bad == -1:
                return total
    return _aggregate_slow(prices, shares)


def _aggregate_slow(prices, shares):
    """Validate and convert, then aggregate; raises the message for any bad input."""
    cdef int64_t total
    cdef Py_ssize_t n, bad
    cdef const int64_t[::1] pi, si
    cdef const double[::1] pf, sf
    cdef double ftotal
    p_kind = getattr(getattr(prices, "dtype", None), "kind", None)
    s_kind = getattr(getattr(shares, "dtype", None), "kind", None)
    if p_kind == "f" or s_kind == "f":
        parr = _validation.float64_array(prices, "prices")
        sarr = _validation.float64_array(shares, "shares")
        _validation.check_same_length(parr, "prices", sarr, "shares")
        _validation.check_positive(parr, "prices")
        _validation.check_non_negative(sarr, "shares")
        pf = parr
        sf = sarr
        n = parr.shape[0]
        with nogil:
            ftotal = sum_cap_f64(&pf[0] if n else NULL, &sf[0] if n else NULL, n)
        return ftotal
    parr = _validation.int64_array(prices, "prices", allow_float=False)
    sarr = _validation.int64_array(shares, "shares", allow_float=False)
    _validation.check_same_length(parr, "prices", sarr, "shares")
    _validation.check_positive(parr, "prices")
    _validation.check_non_negative(sarr, "shares")
    n = parr.shape[0]
    if n == 0:
        return 0
    pi = parr
    si = sarr
    with nogil:
        bad = checked_cap_i64(&pi[0], &si[0], n, NO_LIMIT, &total)
    if bad != -1:
        raise ValueError(
            f"the aggregate Σ prices × shares overflows int64: it is "
            f"{sum(int(a) * int(b) for a, b in zip(parr, sarr))}, beyond the maximum {_validation.INT64_MAX}"
        )
    return total
