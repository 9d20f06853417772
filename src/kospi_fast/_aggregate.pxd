# cython: language_level=3
"""Cap aggregation kernels, for ``cimport`` by other Cython code.

All kernels take raw pointers to C-contiguous data and a length; they never raise and never
touch Python objects, so they can run with the GIL released.
"""

from libc.stdint cimport int64_t

# Σ prices[i] * shares[i], exact. Caller guarantees the sum fits in int64.
cdef int64_t sum_cap_i64(const int64_t* prices, const int64_t* shares, Py_ssize_t n) noexcept nogil

# Same sum, checked: returns -1 and writes the sum to *out when every price is > 0, every share
# count >= 0, the exact sum fits in int64 and (as a double) is below ``limit`` (pass INFINITY
# for "whatever fits in int64"); else the index of the first bad element, or n when only the sum
# is too large. Exact: a sum that fits is never refused for lack of headroom. Runs on the vector
# unit chosen at import (kospi_fast.kernels.simd_target()); every target gives the same result.
cdef Py_ssize_t checked_cap_i64(const int64_t* prices, const int64_t* shares, Py_ssize_t n,
                                double limit, int64_t* out) noexcept nogil

# Σ prices[i] * shares[i] in float64 with Neumaier compensated summation.
cdef double sum_cap_f64(const double* prices, const double* shares, Py_ssize_t n) noexcept nogil

# The vector unit the aggregate (and the family's dense AVX-512 run) uses now: 0 portable, 1 AVX2,
# 2 AVX-512 (kospi_fast.kernels.simd_target() names it).
cdef int simd_level() noexcept nogil
