"""Cap aggregation: Σ price × shares over a universe.

The int64 kernel is exact. ``checked_cap_i64`` refuses exactly the sums that do not fit in int64:
a cheap bound (OR of the prices × Σ shares) settles the common case, and only when it fails is
the sum re-taken with an overflow check on every product and partial sum. The summary pass runs
on the best vector unit of the CPU, chosen once at import (``_simd.h``: AVX-512, AVX2, or the
portable scalar loops; ``KOSPI_FAST_SIMD=portable|avx2|avx512|auto`` overrides), and every
target gives the same bits: it is integer arithmetic modulo 2**64 under a bound that excludes
overflow. The float64 kernel uses Neumaier's compensated summation, so its error does not
grow with the number of stocks.
"""

import os

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


cdef extern from "_simd.h" nogil:
    ctypedef struct kf_cap_summary:
        int64_t por
        int64_t pm1or
        int64_t sor
        uint64_t ssum
        uint64_t total
    int KF_SIMD_PORTABLE
    int KF_SIMD_AVX2
    int KF_SIMD_AVX512
    int kf_simd_detect()
    void kf_cap_pass_avx2(const int64_t* p, const int64_t* s, Py_ssize_t n, kf_cap_summary* out)
    void kf_cap_pass_avx512(const int64_t* p, const int64_t* s, Py_ssize_t n, kf_cap_summary* out)


# The vector unit checked_cap_i64 uses: set once at import (_init_simd), from the CPU and the
# KOSPI_FAST_SIMD environment variable; tests switch it with _set_simd.
cdef int SIMD_SUPPORTED = kf_simd_detect()
cdef int SIMD_TARGET = KF_SIMD_PORTABLE
SIMD_NAMES = ("portable", "avx2", "avx512")
cdef Py_ssize_t SIMD_MIN = 32   # below this (measured: 16 pairs 65 vs 73 ns, 64 pairs 93 vs 77) the call into the vector code costs more than it saves


cdef inline void portable_pass(const int64_t* prices, const int64_t* shares, Py_ssize_t n,
                               kf_cap_summary* out) noexcept nogil:
    # Two passes. Fusing them lets GCC vectorise the loop for the x86-64 baseline, which
    # emulates the 64-bit multiply with SSE2's 32-bit one at twice the scalar cost; kept apart,
    # the ORs vectorise and the multiplies stay scalar ``imul``s (two accumulators: the
    # multiplies are independent, the adds form two shorter chains).
    cdef Py_ssize_t i
    cdef int64_t por = 0, pm1 = 0, sor = 0
    cdef uint64_t ssum = 0, t0 = 0, t1 = 0
    for i in range(n):
        por |= prices[i]
        pm1 |= prices[i] - 1
        sor |= shares[i]
        ssum += <uint64_t>shares[i]
    out.por = por
    out.pm1or = pm1
    out.sor = sor
    out.ssum = ssum
    if (por | pm1 | sor) < 0:
        out.total = 0
        return
    i = 0
    while i + 1 < n:
        t0 += <uint64_t>prices[i] * <uint64_t>shares[i]
        t1 += <uint64_t>prices[i + 1] * <uint64_t>shares[i + 1]
        i += 2
    if i < n:
        t0 += <uint64_t>prices[i] * <uint64_t>shares[i]
    out.total = t0 + t1


cdef Py_ssize_t checked_cap_i64(const int64_t* prices, const int64_t* shares, Py_ssize_t n,
                                double limit, int64_t* out) noexcept nogil:
    # One summary pass (vectorised when the CPU allows, see _simd.h) decides validity and the
    # common no-overflow case:
    #  * price - 1 has its sign bit set exactly when price <= 0 (or the price itself has);
    #    a share count has it when < 0;
    #  * OR of all prices >= max price, so Σ p × s <= (OR of prices) × Σ s. When that bound is
    #    below SAFE_BOUND (9.0e18 < 2**63, with room for the float product's rounding) no
    #    product or partial sum can overflow, and the sum taken modulo 2**64 is exact. (Σ s
    #    itself cannot wrap: each s < 2**63 and the bound check fails long before n × 2**63.)
    # Only when the cheap bound fails is the sum re-taken with an exact overflow check on each
    # product and partial sum (every term is >= 0, so the partial sums only grow: the sum
    # overflows exactly when some partial sum does).
    cdef Py_ssize_t i
    cdef int64_t total = 0
    cdef kf_cap_summary sm
    if n < SIMD_MIN:
        portable_pass(prices, shares, n, &sm)
    elif SIMD_TARGET == KF_SIMD_AVX512:
        kf_cap_pass_avx512(prices, shares, n, &sm)
    elif SIMD_TARGET == KF_SIMD_AVX2:
        kf_cap_pass_avx2(prices, shares, n, &sm)
    else:
        portable_pass(prices, shares, n, &sm)
    if (sm.por | sm.pm1or | sm.sor) < 0:
        for i in range(n):
            if prices[i] <= 0 or shares[i] < 0:
                return i
    if not (<double>sm.por * <double>sm.ssum < SAFE_BOUND and <double>sm.sor * <double>n < SAFE_BOUND):
        for i in range(n):
            if kf_cap_add(total, prices[i], shares[i], &total):
                return n
        if not (<double>total < limit):
            return n
        out[0] = total
        return -1
    total = <int64_t>sm.total
    if not (<double>total < limit):
        return n
    out[0] = total
    return -1


cdef int simd_level() noexcept nogil:
    return SIMD_TARGET


def _simd_target():
    """The vector unit the exact aggregate uses: ``"portable"``, ``"avx2"`` or ``"avx512"``."""
    return SIMD_NAMES[SIMD_TARGET]


def _simd_supported():
    """The targets this CPU (and build) can run, portable first."""
    return SIMD_NAMES[:SIMD_SUPPORTED + 1]


def _set_simd(name):
    """Use the target ``name`` from now on (for tests and benchmarks); returns the previous one.

    Raises ``ValueError`` for a name that is not a target or that this CPU cannot run.
    """
    global SIMD_TARGET
    if name not in SIMD_NAMES:
        raise ValueError(f"simd target must be one of {', '.join(SIMD_NAMES)}; got {name!r}")
    level = SIMD_NAMES.index(name)
    if level > SIMD_SUPPORTED:
        raise ValueError(
            f"simd target {name!r} cannot run here: this CPU/build supports "
            f"{', '.join(_simd_supported())}"
        )
    previous = SIMD_NAMES[SIMD_TARGET]
    SIMD_TARGET = level
    return previous


def _init_simd(requested):
    """Choose the target at import: the best the CPU runs, or ``requested`` (KOSPI_FAST_SIMD)."""
    if requested in (None, "", "auto"):
        _set_simd(SIMD_NAMES[SIMD_SUPPORTED])
        return
    try:
        _set_simd(requested)
    except ValueError as exc:
        raise ImportError(
            f"KOSPI_FAST_SIMD={requested!r}: {exc} (or 'auto' for the best available)"
        ) from None


_init_simd(os.environ.get("KOSPI_FAST_SIMD"))


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
