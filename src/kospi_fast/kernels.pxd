# cython: language_level=3
"""kospi_fast.kernels: the public, versioned Cython API of kospi_fast.

``cimport kospi_fast.kernels as K`` (or ``from kospi_fast.kernels cimport ...``) in a ``.pyx``
built with ``include_path=[kospi_fast.get_include()]`` gives the exact kernels as plain C:
``noexcept nogil`` functions over raw pointers, no Python in between. The batch kernels are
bound at import time from the installed extension modules (``kospi_fast`` must be importable
when the consumer is imported); the inline steps and limits are compiled into the consumer.
A worked consumer: ``tests/cython_consumer`` (built against the installed package and run by
``tests/test_cython_api.py``); the page: docs/guide/cython.rst (the docs site's "The Cython API").

Versioning: ``KERNELS_API_VERSION`` (compiled into the consumer) must equal
``kospi_fast.kernels.API_VERSION`` (the installed package, at run time); a consumer checks it at
import. Every name here keeps its signature and contract within one API version; a change of
either bumps it. Names in the underscore modules (``kospi_fast._ticks`` ...) carry no promise.

Contracts, in short (each declaration's comment in its module says the rest):
* the caller validates what a kernel does not check: array lengths, non-NULL pointers where
  needed, shares >= 0, starting prices > 0 and the starting cap = Σ prices × shares (exact);
* every kernel checks each trade itself: id in [0, n), price in (0, pmax] (pmax: the caller's
  own ceiling, ``CAP_MAX`` for none) and the exact overflow guard (the true cap after the trade
  must fit in int64); the first refused trade's index is returned (-1: all applied), the
  trades before it applied, itself not;
* prices, caps and levels are written in place: run on copies for all-or-nothing.
"""

from libc.stdint cimport int64_t, uint64_t

# ---------------------------------------------------------------- version and limits
cdef enum:
    KERNELS_API_VERSION = 1

cdef extern from *:
    """
    #include <stdint.h>
    #define KF_CAP_MAX INT64_MAX
    """
    # The largest aggregate cap (and price): int64's maximum. A trade is refused only when the
    # true cap after it would exceed this.
    const int64_t CAP_MAX "KF_CAP_MAX"

# ``cap + d * s`` with the overflow checked exactly: 1 (and ``*out`` undefined) when the true
# value does not fit in int64, else 0 and ``*out`` set.
from kospi_fast._overflow cimport kf_cap_add as cap_add_checked

# ---------------------------------------------------------------- one trade, inline
# id_t: the id width (int32_t or int64_t) every batch kernel is specialised for.
# trade_ok(i, n, p, pmax): id and price of an int64 trade; trade_ok_f64(i, n, p): of a float one.
# move_price(prices, i, p) -> p - old, prices[i] = p (for per-membership updates).
# cap_step(prices, shares, i, p) -> (p - old) * shares[i], unchecked (caller knows it fits).
# cap_step_checked(&cap, prices, shares, i, p) -> 1 and applied, or 0 and nothing touched when
#     the true cap after it would exceed int64 (the exact guard).
# share_total(shares, n), headroom_bound(cap, total): the batch kernels' fast path: a trade
#     priced <= headroom_bound(cap, share_total(...)) cannot overflow, take cap_step; re-take
#     the bound after a checked step.
# step_f64(&cap, &comp, prices, shares, i, p): the float64 step, compensated (cap + comp).
# add_f64(&cap, &comp, term): its compensated addition (TwoSum), for per-membership updates.
from kospi_fast._ticks cimport (add_f64, cap_step, cap_step_checked, headroom_bound, id_t, move_price,
                                share_total, step_f64, trade_ok, trade_ok_f64)


# The single-trade step for one index, checked: the name to use from one's own nogil loop
# (validate the id and price first with trade_ok).
cdef inline bint step_i64(int64_t* cap, int64_t* prices, const int64_t* shares, uint64_t i,
                          int64_t p) noexcept nogil:
    return cap_step_checked(cap, prices, shares, i, p)


# ---------------------------------------------------------------- batch kernels
# Aggregates: sum_cap_i64 (unchecked), checked_cap_i64 (exact: -1, a bad element's index, or n
#     when the sum would not fit; pass limit = INFINITY for "fits in int64"), sum_cap_f64
#     (compensated).
from kospi_fast._aggregate cimport checked_cap_i64, sum_cap_f64, sum_cap_i64
# One index over a tick stream: apply_ticks_i64 (exact int64), apply_ticks_f64 (float64).
from kospi_fast._ticks cimport apply_ticks_f64, apply_ticks_i64
# K indices over one stream (padded rows by stock): apply_ticks_family (exact int64),
# apply_ticks_family_f64 (float64, compensated).
from kospi_fast._family cimport apply_ticks_family, apply_ticks_family_f64
# The validating (KRX rules) kernel: DayRules, apply_validated.
from kospi_fast._session cimport DayRules, apply_validated
# A rebasing moment (new prices and shares of some stocks): apply_changes_i64.
from kospi_fast._rebase cimport apply_changes_i64
