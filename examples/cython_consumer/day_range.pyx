# cython: language_level=3, boundscheck=False, wraparound=False
"""A Cython consumer of kospi_fast's public Cython API (``cimport kospi_fast.kernels``): the
day's high and low of an index in one pass over the trades, without writing a level per trade.

It takes the single-trade step every kospi_fast kernel uses (``K.trade_ok`` checks a trade's id
and price, ``K.step_i64`` applies it to the exact int64 cap with the exact overflow guard), so
its levels are those of ``kospi_fast.replay`` bit for bit, and it runs with the GIL released.
"""

from libc.stdint cimport int32_t, int64_t, uint64_t

cimport kospi_fast.kernels as K
from kospi_fast import kernels

kernels.check_api_version(K.KERNELS_API_VERSION)  # ImportError if built against another API


def day_range(int64_t[::1] prices, const int64_t[::1] shares, const int32_t[::1] ids,
              const int64_t[::1] new_prices, double divisor):
    """``(bad, high, low, close)`` of the level ``cap / divisor`` over the trades; ``prices``
    is updated in place. ``bad`` is -1, or the position of the first refused trade (an id
    outside the universe, a price <= 0, or a cap that would not fit in int64); the trades
    before it are applied, itself not."""
    if shares.shape[0] != prices.shape[0] or new_prices.shape[0] != ids.shape[0]:
        raise ValueError("prices/shares and ids/new_prices must have equal lengths")
    cdef Py_ssize_t k, n = prices.shape[0], m = ids.shape[0], bad = -1
    cdef int64_t cap = 0
    cdef double level, high, low
    with nogil:
        for k in range(n):
            cap += prices[k] * shares[k]  # the caller's starting cap (exact for the sample)
        high = low = cap / divisor
        for k in range(m):
            if not K.trade_ok(<uint64_t>ids[k], <uint64_t>n, new_prices[k], K.CAP_MAX) or \
                    not K.step_i64(&cap, &prices[0], &shares[0], <uint64_t>ids[k], new_prices[k]):
                bad = k
                break
            level = cap / divisor
            if level > high:
                high = level
            if level < low:
                low = level
    return bad, high, low, cap / divisor
