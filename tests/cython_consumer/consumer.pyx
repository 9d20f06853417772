# cython: language_level=3
"""A third-party extension built against the *installed* kospi_fast's .pxd files.

It calls the kernels directly (C calls, no Python in between). The second half is the
documented way, the public versioned API ``cimport kospi_fast.kernels as K`` (docs/cython-api.md):
a nogil loop of one's own with the inline single-trade step, the batch kernels (single, float,
family, validating) and the limits, and the API version checked at import. The first half uses
the older spellings a user may have written (the underscore modules and the package-level
re-export in ``kospi_fast/__init__.pxd``), which keep working but carry no promise.
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


# ---------------------------------------------------------------- the public API: kospi_fast.kernels
cimport kospi_fast.kernels as K
from libc.stdint cimport uint8_t

from kospi_fast import kernels as _kernels_runtime

_kernels_runtime.check_api_version(K.KERNELS_API_VERSION)  # built against the installed API?


def api_version():
    return K.KERNELS_API_VERSION


def cap_max():
    return K.CAP_MAX


def filtered_inline(int64_t[::1] prices, const int64_t[::1] shares, const int32_t[::1] ids,
                    const int64_t[::1] new_prices, double divisor, double[::1] levels):
    """A rule of one's own in one's own nogil loop, with the inline step: skip prints more than
    50% away from the stock's last price. Returns (bad, cap, skipped); levels[k] after trade k."""
    cdef Py_ssize_t k, skipped = 0, bad = -1
    cdef int64_t cap = K.sum_cap_i64(&prices[0], &shares[0], prices.shape[0]), p, old
    cdef uint64_t i, n = <uint64_t>prices.shape[0]
    with nogil:
        for k in range(ids.shape[0]):
            i = <uint64_t>ids[k]
            p = new_prices[k]
            if not K.trade_ok(i, n, p, K.CAP_MAX):
                bad = k
                break
            old = prices[i]
            if 2 * p > 3 * old or 2 * p < old:
                skipped += 1
            elif not K.step_i64(&cap, &prices[0], &shares[0], i, p):
                bad = k
                break
            levels[k] = <double>cap / divisor
    return bad, cap, skipped


def filtered_calls(int64_t[::1] prices, const int64_t[::1] shares, const int32_t[::1] ids,
                   const int64_t[::1] new_prices, double divisor, double[::1] levels):
    """The same loop calling the batch kernel once per trade (n_ticks = 1): the call overhead."""
    cdef Py_ssize_t k, skipped = 0, bad = -1
    cdef int64_t cap = K.sum_cap_i64(&prices[0], &shares[0], prices.shape[0]), p, old
    cdef uint64_t i
    with nogil:
        for k in range(ids.shape[0]):
            i = <uint64_t>ids[k]
            p = new_prices[k]
            if i < <uint64_t>prices.shape[0]:
                old = prices[i]
                if 2 * p > 3 * old or 2 * p < old:
                    skipped += 1
                    levels[k] = <double>cap / divisor
                    continue
            if K.apply_ticks_i64(&prices[0], &shares[0], prices.shape[0], &ids[k], &new_prices[k], 1,
                                 K.CAP_MAX, &cap, divisor, &levels[k]) != -1:
                bad = k
                break
    return bad, cap, skipped


def float_replay(double[::1] prices, const double[::1] shares, const int64_t[::1] ids,
                 const double[::1] new_prices, double divisor, double[::1] levels):
    """K.apply_ticks_f64 on the caller's arrays (prices mutated): (bad, cap + comp)."""
    cdef double cap = K.sum_cap_f64(&prices[0], &shares[0], prices.shape[0]), comp = 0.0
    cdef Py_ssize_t bad
    with nogil:
        bad = K.apply_ticks_f64(&prices[0], &shares[0], prices.shape[0], &ids[0], &new_prices[0],
                                ids.shape[0], &cap, &comp, divisor, &levels[0])
    return bad, cap + comp


def family(int64_t[::1] prices, Py_ssize_t width, const int32_t[::1] col, const int64_t[::1] sh,
           int64_t[::1] caps, const double[::1] divisors, double[::1] levels, const int64_t[::1] ids,
           const int64_t[::1] new_prices, int64_t pmax, double[:, ::1] out):
    """K.apply_ticks_family, a row of levels per trade (``out``: n_ticks × n_out), no twins
    (each slot its own cap: src the identity, carry 0)."""
    cdef Py_ssize_t bad, k, n_idx = caps.shape[0]
    src_a = np.arange(n_idx, dtype=np.int32)
    carry_a = np.zeros(n_idx)
    cdef const int32_t[::1] src = src_a
    cdef const double[::1] carry = carry_a
    with nogil:
        bad = K.apply_ticks_family(&prices[0], prices.shape[0], width, &col[0], &sh[0], &caps[0],
                                   &divisors[0], &levels[0], n_idx, out.shape[1], &ids[0],
                                   &new_prices[0], ids.shape[0], pmax, &out[0, 0], NULL, 0,
                                   &src[0], &carry[0], NULL, 0)
    return bad


def family_f64(double[::1] prices, Py_ssize_t width, const int32_t[::1] col, const double[::1] sh,
               double[::1] caps, double[::1] comps, const double[::1] divisors, const int32_t[::1] src,
               const int64_t[::1] ids, const double[::1] new_prices, double[:, ::1] out):
    """K.apply_ticks_family_f64, a row of levels per trade; and a float64 running cap of one's
    own moved by K.add_f64 with each trade's first membership's term (the same TwoSum)."""
    cdef Py_ssize_t bad
    with nogil:
        bad = K.apply_ticks_family_f64(&prices[0], prices.shape[0], width, &col[0], &sh[0], &caps[0], &comps[0],
                                       &divisors[0], out.shape[1], &src[0], &ids[0], &new_prices[0], ids.shape[0],
                                       &out[0, 0], NULL, 0)
    cdef double c = 1.0, e = 0.0
    K.add_f64(&c, &e, 1e-17)  # 1 + 1e-17 rounds to 1: the lost part kept in e
    return bad, c, e


def validated(int64_t[::1] prices, const int64_t[::1] shares, const int64_t[::1] lower,
              const int64_t[::1] upper, const uint8_t[::1] halted, const int64_t[::1] thresholds,
              const int64_t[::1] ticks, const uint8_t[::1] grid, const int64_t[:, ::1] fast,
              int64_t win_open, int64_t call_start, int64_t call_end, int64_t win_close,
              const int64_t[::1] times, const int64_t[::1] ids, const int64_t[::1] new_prices,
              int64_t pmax, double divisor, double[::1] levels, uint8_t[::1] status,
              int64_t[::1] counts):
    """K.apply_validated with a DayRules filled here: (bad, cap, last_time)."""
    cdef K.DayRules r
    r.n_stocks = <uint64_t>prices.shape[0]
    r.lower, r.upper, r.halted, r.fast = &lower[0], &upper[0], &halted[0], &fast[0, 0]
    r.thresholds, r.ticks, r.n_bands = &thresholds[0], &ticks[0], ticks.shape[0]
    r.grid, r.grid_bits = &grid[0], 8 * <uint64_t>grid.shape[0]
    r.win_open, r.call_start, r.call_end, r.win_close, r.pmax = win_open, call_start, call_end, win_close, pmax
    cdef int64_t cap = K.sum_cap_i64(&prices[0], &shares[0], prices.shape[0]), last = -1
    cdef Py_ssize_t bad
    with nogil:
        bad = K.apply_validated(&prices[0], &shares[0], &r, &times[0], &ids[0], &new_prices[0],
                                ids.shape[0], &cap, &last, divisor, &levels[0], &status[0], &counts[0],
                                False, NULL, 0, NULL)
    return bad, cap, last
