# cython: language_level=3
"""Tick application kernels, for ``cimport`` by other Cython code."""

from libc.stdint cimport int32_t, int64_t

ctypedef fused id_t:
    int32_t
    int64_t

# Apply trades in order to ``prices`` (in place) and the running cap ``*cap`` (in place):
#     cap += (new_price - prices[id]) * shares[id];  prices[id] = new_price
# and, when ``levels`` is not NULL, write ``levels[k] = cap / divisor`` after trade k.
# Each trade is checked first: id in [0, n_stocks) and 0 < new_price <= pmax (pmax keeps the
# running cap inside int64, see _validation.price_bound). Returns -1 when every trade was
# applied, else the index k of the first bad trade; trades before k HAVE been applied (callers
# that need all-or-nothing run the kernel on a copy of the state).
cdef Py_ssize_t apply_ticks_i64(int64_t* prices, const int64_t* shares, Py_ssize_t n_stocks,
                                const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
                                int64_t pmax, int64_t* cap, double divisor,
                                double* levels) noexcept nogil
