# cython: language_level=3, boundscheck=False, wraparound=False
"""A Cython consumer of kospi_fast's kernels: the day's high and low of an index in one pass over
the trades, without writing a level per trade.

It ``cimport``s the per-trade step that every kospi_fast kernel uses (``trade_ok`` checks a
trade, ``cap_step`` applies it to the exact int64 cap), so its levels are those of
``kospi_fast.replay`` bit for bit, and it runs with the GIL released.
"""

from libc.stdint cimport int32_t, int64_t, uint64_t

from kospi_fast._ticks cimport cap_step, trade_ok


def day_range(int64_t[::1] prices, const int64_t[::1] shares, const int32_t[::1] ids,
              const int64_t[::1] new_prices, int64_t pmax, double divisor):
    """``(bad, high, low, close)`` of the level ``cap / divisor`` over the trades; ``prices``
    is updated in place. ``bad`` is -1, or the position of the first trade with an id outside
    the universe or a price outside (0, pmax] (the trades before it are applied)."""
    if shares.shape[0] != prices.shape[0] or new_prices.shape[0] != ids.shape[0]:
        raise ValueError("prices/shares and ids/new_prices must have equal lengths")
    cdef Py_ssize_t k, n = prices.shape[0], m = ids.shape[0], bad = -1
    cdef int64_t cap = 0
    cdef double level, high, low
    with nogil:
        for k in range(n):
            cap += prices[k] * shares[k]
        high = low = cap / divisor
        for k in range(m):
            if not trade_ok(<uint64_t>ids[k], <uint64_t>n, new_prices[k], pmax):
                bad = k
                break
            cap += cap_step(&prices[0], &shares[0], <uint64_t>ids[k], new_prices[k])
            level = cap / divisor
            if level > high:
                high = level
            if level < low:
                low = level
    return bad, high, low, cap / divisor
