# cython: language_level=3
"""The multi-index (family) kernel, for ``cimport`` (public through ``kospi_fast.kernels``)."""

from libc.stdint cimport int32_t, int64_t

from kospi_fast._ticks cimport id_t


# K indices over one feed, memberships in padded rows by stock (see ``_family.pyx``): the
# memberships of stock i are entries i*width .. i*width+width-1, entry e puts sh[e] index
# shares of the stock into cap slot col[e]; padding entries have sh 0 and point at dummy slots
# n_real .. n_idx-1 (one per padding position). ``caps`` (exact, in/out), ``divisors`` and
# ``levels`` (out) have n_idx slots. Trades apply in order; ``out`` (may be NULL) gets the
# first n_out levels after each trade (``sample_at`` NULL) or after each ascending position of
# ``sample_at``. A trade is refused when its id is out of range, its price outside (0, pmax]
# (pmax: the caller's price ceiling, INT64_MAX for none) or the true cap of any index holding
# the stock would exceed int64 after it. Returns -1, the index of the first refused trade (the
# trades before it applied: callers run on copies), or -2 when scratch memory ran out.
# Twins (total-return indices sharing a price index's cap): the level of slot k is
# (caps[src[k]] + carry[k]) / divisors[k]; ``src`` is the identity and ``carry`` zeros without
# them; ``twins`` (n_twins entries, may be NULL with 0) are refreshed after each trade when a
# row per trade is output.
cdef Py_ssize_t apply_ticks_family(
        int64_t* prices, Py_ssize_t n_stocks,
        Py_ssize_t width, const int32_t* col, const int64_t* sh,
        int64_t* caps, const double* divisors, double* levels, Py_ssize_t n_idx, Py_ssize_t n_out,
        const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks, int64_t pmax,
        double* out, const int64_t* sample_at, Py_ssize_t n_samples,
        const int32_t* src, const double* carry, const int32_t* twins, Py_ssize_t n_twins) noexcept nogil


# The float64 family (``IndexFamily(..., exact=False)``): the same padded rows with float64
# index shares ``sh``; each slot's cap is the unevaluated sum caps[k] + comps[k] (both in/out),
# a trade adding (p - old) × sh[e] to each membership's slot with ``_ticks.add_f64`` (the
# compensated step of the float64 engine and replay). ``out`` (may be NULL) gets the first
# n_out levels (caps[src[k]] + comps[src[k]]) / divisors[k] after each trade (``sample_at``
# NULL) or after each ascending position of ``sample_at``. A trade is refused when its id is
# out of range, its price not a finite number > 0, or a cap it moves would leave float64's
# range. Returns -1 or the index of the first refused trade (the trades before it applied, and
# part of it: callers run on copies).
cdef Py_ssize_t apply_ticks_family_f64(
        double* prices, Py_ssize_t n_stocks, Py_ssize_t width, const int32_t* col, const double* sh,
        double* caps, double* comps, const double* divisors, Py_ssize_t n_out, const int32_t* src,
        const id_t* ids, const double* new_prices, Py_ssize_t n_ticks,
        double* out, const int64_t* sample_at, Py_ssize_t n_samples) noexcept nogil
