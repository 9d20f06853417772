# cython: language_level=3
"""Tick application kernels, for ``cimport`` by other Cython code."""

from libc.stdint cimport int32_t, int64_t, uint64_t

# The id width of a tick stream: every tick kernel is specialised for int32 and int64 ids.
ctypedef fused id_t:
    int32_t
    int64_t


# The check every kernel makes of a trade before it touches any state: id in [0, n) and
# 0 < p <= pmax (pmax keeps the running caps inside int64, see _validation.price_bound), in
# unsigned arithmetic: a negative id converts to a huge value, and p - 1 wraps to one when
# p <= 0, so each half is one compare and no signed overflow can occur on extreme inputs.
cdef inline bint trade_ok(uint64_t i, uint64_t n, int64_t p, int64_t pmax) noexcept nogil:
    return i < n and <uint64_t>p - 1 < <uint64_t>pmax


# The per-trade step: stock ``i`` trades at ``p``. Sets ``prices[i] = p`` and returns the move
# ``p - old``, which each index holding the stock multiplies by its own share count (the
# family's per-membership update). Exact: both prices are in (0, pmax].
cdef inline int64_t move_price(int64_t* prices, uint64_t i, int64_t p) noexcept nogil:
    cdef int64_t d = p - prices[i]
    prices[i] = p
    return d


# The step for one index: ``cap += cap_step(...)`` is ``cap += (p - prices[i]) * shares[i];
# prices[i] = p``. Under pmax the running cap stays exact.
cdef inline int64_t cap_step(int64_t* prices, const int64_t* shares, uint64_t i,
                             int64_t p) noexcept nogil:
    return move_price(prices, i, p) * shares[i]


# Apply trades in order to ``prices`` (in place) and the running cap ``*cap`` (in place):
#     cap += (new_price - prices[id]) * shares[id];  prices[id] = new_price
# and, when ``levels`` is not NULL, write ``levels[k] = cap / divisor`` after trade k.
# Each trade is checked first (``trade_ok``): id in [0, n_stocks) and 0 < new_price <= pmax.
# Returns -1 when every trade was applied, else the index k of the first bad trade; trades
# before k HAVE been applied (callers that need all-or-nothing run the kernel on a copy of the
# state).
cdef Py_ssize_t apply_ticks_i64(int64_t* prices, const int64_t* shares, Py_ssize_t n_stocks,
                                const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
                                int64_t pmax, int64_t* cap, double divisor,
                                double* levels) noexcept nogil
