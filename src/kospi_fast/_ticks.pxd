# cython: language_level=3
"""Tick application kernels, for ``cimport`` by other Cython code."""

from libc.stdint cimport int32_t, int64_t, uint64_t
from cpython.pythread cimport PyThread_type_lock

# The id width of a tick stream: every tick kernel is specialised for int32 and int64 ids.
ctypedef fused id_t:
    int32_t
    int64_t


# The exact overflow guard ``kf_cap_add`` lives in ``_overflow.pxd`` (a header: no module).
from kospi_fast._overflow cimport kf_cap_add


# The check every kernel makes of a trade's own fields before it touches any state: id in
# [0, n) and 0 < p <= pmax (``pmax`` is the caller's price ceiling, INT64_MAX for none: the
# overflow of the running cap is guarded exactly by ``cap_step_checked``, not by a price
# bound), in unsigned arithmetic: a negative id converts to a huge value, and p - 1 wraps to one
# when p <= 0, so each half is one compare and no signed overflow can occur on extreme inputs.
cdef inline bint trade_ok(uint64_t i, uint64_t n, int64_t p, int64_t pmax) noexcept nogil:
    return i < n and <uint64_t>p - 1 < <uint64_t>pmax


# The per-trade step: stock ``i`` trades at ``p``. Sets ``prices[i] = p`` and returns the move
# ``p - old``, which each index holding the stock multiplies by its own share count (the
# family's per-membership update). Both prices are > 0, so the move fits in int64.
cdef inline int64_t move_price(int64_t* prices, uint64_t i, int64_t p) noexcept nogil:
    cdef int64_t d = p - prices[i]
    prices[i] = p
    return d


# The step for one index, unchecked: ``cap += cap_step(...)`` is ``cap += (p - prices[i]) *
# shares[i]; prices[i] = p``. For callers that know the cap cannot overflow.
cdef inline int64_t cap_step(int64_t* prices, const int64_t* shares, uint64_t i,
                             int64_t p) noexcept nogil:
    return move_price(prices, i, p) * shares[i]


# The step for one index, guarded exactly: when the cap after the trade fits in int64, set
# ``prices[i] = p``, ``cap[0]`` to the new cap and return 1; else return 0 and touch nothing.
cdef inline bint cap_step_checked(int64_t* cap, int64_t* prices, const int64_t* shares,
                                  uint64_t i, int64_t p) noexcept nogil:
    cdef int64_t c
    if kf_cap_add(cap[0], p - prices[i], shares[i], &c):
        return False
    prices[i] = p
    cap[0] = c
    return True


# The headroom bound: with Σ shares = ``total`` and the running cap ``cap``, every trade priced
# at most ``(INT64_MAX - cap) // total`` keeps the cap inside int64 however the trades
# interleave (each price stays <= max(its price now, B), so the cap stays <= cap + B × total).
# The batch kernels test a trade against it (one compare, as cheap as a plain price bound) and
# only a trade above it takes the exact ``cap_step_checked``, after which the bound is re-taken
# from the new cap: exact, yet the common trade pays nothing for the guard. ``total`` is from
# ``share_total`` (saturated: beyond 2**64 shares the bound is 0 and every trade is checked).
cdef inline uint64_t share_total(const int64_t* shares, Py_ssize_t n) noexcept nogil:
    cdef uint64_t total = 0, prev
    cdef Py_ssize_t j
    for j in range(n):
        prev = total
        total += <uint64_t>shares[j]
        if total < prev:
            return <uint64_t>0xFFFFFFFFFFFFFFFF
    return total


cdef inline int64_t headroom_bound(int64_t cap, uint64_t total) noexcept nogil:
    if total == 0:
        return 0x7FFFFFFFFFFFFFFF
    return <int64_t>((<uint64_t>0x7FFFFFFFFFFFFFFF - <uint64_t>cap) // total)


# Apply trades in order to ``prices`` (in place) and the running cap ``*cap`` (in place):
#     cap += (new_price - prices[id]) * shares[id];  prices[id] = new_price
# and, when ``levels`` is not NULL, write ``levels[k] = cap / divisor`` after trade k.
# Each trade is checked first: id in [0, n_stocks), 0 < new_price <= pmax (``trade_ok``) and
# the cap after it fits in int64 (``cap_step_checked``). ``*cap`` must be the exact
# Σ prices × shares on entry. Returns -1 when every trade was applied, else the index k of the
# first bad trade; trades before k HAVE been applied, trade k has not (callers that need
# all-or-nothing run the kernel on a copy of the state).
cdef Py_ssize_t apply_ticks_i64(int64_t* prices, const int64_t* shares, Py_ssize_t n_stocks,
                                const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
                                int64_t pmax, int64_t* cap, double divisor,
                                double* levels) noexcept nogil


# ``apply_ticks_i64`` (pmax INT64_MAX) with a per-stock price band tested in the same loop.
# ``stock`` holds one record of 3 int64 per stock: (lo, hi - lo, shares), an empty band
# as (INT64_MIN, 0); trade k needs ``(p - lo) mod 2**64 <= hi - lo`` besides its id in range,
# p > 0 and the cap's exact overflow guard (by the bound ``band_fits`` for a batch, else per
# trade). ``prices`` must not alias the other arrays; ``levels`` must not be NULL. Returns -1, or the
# position of the first refused trade (trades before it applied, ``*cap`` the cap before it).
cdef Py_ssize_t apply_ticks_band(int64_t* prices, const int64_t* stock, Py_ssize_t n_stocks,
                                 const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
                                 int64_t* cap, double divisor, double* levels) noexcept nogil


# The float64 step (crypto, FX, fractional prices): stock ``i`` trades at ``p`` and the running
# cap, kept as an unevaluated sum ``cap[0] + comp[0]``, moves by (p - old) × shares. Each
# addition's exact rounding error (Knuth's branch-free TwoSum: the same result as Neumaier's
# compensation, without its data-dependent branch) is carried in ``comp``, so the sum does not
# drift with the number of trades beyond the rounding of each term (see replay's exact=False).
# Only ``cap = cap + term`` is on the loop's dependency chain. Needs strict IEEE arithmetic (no
# -ffast-math, which would fold the error terms to 0).
cdef inline void step_f64(double* cap, double* comp, double* prices, const double* shares,
                          uint64_t i, double p) noexcept nogil:
    add_f64(cap, comp, (p - prices[i]) * shares[i])
    prices[i] = p


# The compensated addition inside ``step_f64``: ``cap[0] + comp[0]`` moves by ``term``, the
# addition's exact rounding error (TwoSum) going to ``comp``. The family's float64 kernel adds
# one trade's move × index shares to each index holding the stock with it (one home of the
# compensation: the engine, replay and the family take the same step).
cdef inline void add_f64(double* cap, double* comp, double term) noexcept nogil:
    cdef double c = cap[0]
    cdef double t = c + term
    cdef double bp = t - c
    comp[0] += (c - (t - bp)) + (term - bp)
    cap[0] = t


# A float64 trade's own check: id in [0, n) and 0 < p < inf (NaN fails both compares).
cdef inline bint trade_ok_f64(uint64_t i, uint64_t n, double p) noexcept nogil:
    return i < n and p > 0.0 and p <= 1.7976931348623157e308


# The float64 batch: ``apply_ticks_i64``'s contract with double prices, shares and cap, the
# cap carried as ``*cap + *comp`` (both in/out; start with comp 0); ``levels[k] = (cap + comp)
# / divisor``. Returns -1, or the index of the first bad trade (id out of range, price not a
# finite number > 0), trades before it applied.
cdef Py_ssize_t apply_ticks_f64(double* prices, const double* shares, Py_ssize_t n_stocks,
                                const id_t* ids, const double* new_prices, Py_ssize_t n_ticks,
                                double* cap, double* comp, double divisor,
                                double* levels) noexcept nogil


# Who does a shared piece of work of a batch split on two threads: the first ``take(who)``
# (who > 0) wins and is recorded in ``owner``; callable without the GIL.
cdef class _Claim:
    cdef PyThread_type_lock _lock
    cdef readonly int owner
    cdef bint take(self, int who) noexcept nogil
