# cython: language_level=3
"""A third-party extension built against the *installed* kospi_fast's .pxd files.

It calls the kernels directly (C calls, no Python in between), through both spellings a user
may write: the module-level ``from kospi_fast._aggregate cimport ...`` and the package-level
re-export in ``kospi_fast/__init__.pxd``.
"""

from libc.stdint cimport int32_t, int64_t, uint64_t

cimport kospi_fast
from kospi_fast._aggregate cimport checked_cap_i64, sum_cap_i64
from kospi_fast._ticks cimport apply_ticks_i64, cap_step, trade_ok

import numpy as np


cdef inline const int64_t* _ptr(const int64_t[::1] a) noexcept nogil:
    return &a[0] if a.shape[0] else NULL


def cap_sum(const int64_t[::1] prices, const int64_t[::1] shares):
    """Σ prices × shares through ``_aggregate.sum_cap_i64`` (caller guarantees no overflow)."""
    assert prices.shape[0] == shares.shape[0]
    cdef int64_t total
    with nogil:
        total = sum_cap_i64(_ptr(prices), _ptr(shares), prices.shape[0])
    return total


def cap_sum_via_package(const int64_t[::1] prices, const int64_t[::1] shares):
    """The same kernel reached through ``cimport kospi_fast`` (the package's __init__.pxd)."""
    assert prices.shape[0] == shares.shape[0]
    return kospi_fast.sum_cap_i64(_ptr(prices), _ptr(shares), prices.shape[0])


def cap_checked(const int64_t[::1] prices, const int64_t[::1] shares, double limit):
    """``(bad, total)`` from ``_aggregate.checked_cap_i64``; total is None unless bad == -1."""
    assert prices.shape[0] == shares.shape[0]
    cdef int64_t total = 0
    cdef Py_ssize_t bad = checked_cap_i64(_ptr(prices), _ptr(shares), prices.shape[0],
                                          limit, &total)
    return bad, (total if bad == -1 else None)


def _run(int64_t[::1] prices, const int64_t[::1] shares, ids, const int64_t[::1] new_prices,
         int64_t pmax, double divisor):
    cdef const int64_t[::1] ids64
    cdef const int32_t[::1] ids32
    cdef int64_t cap = sum_cap_i64(_ptr(prices), _ptr(shares), prices.shape[0])
    levels = np.empty(new_prices.shape[0], dtype=np.float64)
    cdef double[::1] lv = levels
    cdef double* lp = &lv[0] if lv.shape[0] else NULL
    cdef Py_ssize_t bad
    if ids.dtype == np.int32:  # each id width is its own fused specialisation
        ids32 = ids
        bad = apply_ticks_i64(&prices[0], _ptr(shares), prices.shape[0],
                              &ids32[0] if ids32.shape[0] else NULL, _ptr(new_prices),
                              new_prices.shape[0], pmax, &cap, divisor, lp)
    else:
        ids64 = ids
        bad = apply_ticks_i64(&prices[0], _ptr(shares), prices.shape[0],
                              _ptr(ids64), _ptr(new_prices),
                              new_prices.shape[0], pmax, &cap, divisor, lp)
    return bad, cap, levels


def replay_levels(prices, shares, ids, new_prices, int64_t pmax, double divisor):
    """Level after each trade via ``_ticks.apply_ticks_i64`` on a copy of ``prices``.

    Returns ``(bad, final_cap, levels, final_prices)``; ``bad`` is -1 when every trade was
    applied, else the index of the first rejected one.
    """
    work = np.array(prices, dtype=np.int64, copy=True)
    bad, cap, levels = _run(work, shares, ids, new_prices, pmax, divisor)
    return bad, cap, levels, work


def step_by_step(int64_t[::1] prices, const int64_t[::1] shares, const int64_t[::1] ids,
                 const int64_t[::1] new_prices, int64_t pmax):
    """A loop of one's own over the package's tick step (``_ticks.trade_ok`` and
    ``_ticks.cap_step``, inline from the .pxd): ``(bad, cap change)``, prices updated in place."""
    cdef Py_ssize_t k
    cdef int64_t delta = 0
    cdef uint64_t n = <uint64_t>prices.shape[0]
    for k in range(ids.shape[0]):
        if not trade_ok(<uint64_t>ids[k], n, new_prices[k], pmax):
            return k, delta
        delta += cap_step(&prices[0], &shares[0], <uint64_t>ids[k], new_prices[k])
    return -1, delta
