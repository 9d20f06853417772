"""Many indices from one feed: a trade updates every index that holds the stock.

A trade moving stock ``i`` from ``old`` to ``new`` adds ``(new − old) × shares`` to the exact
int64 cap of each index holding it — O(memberships of the stock) per trade — so every level,
``cap / divisor`` where it is read, equals a full recompute bit for bit. The kernel
(``run_rows_kernel``) walks rows by stock with one broad index kept apart in a register and the
other caps over rotating banks (the layout and why: "the kernel" below). Its paths: a row of
levels per trade; dense (caps updated per trade, a row at each sample point); lazy (prices
only; at a sample point and at the end each moved stock pushes its net move once); a trade
above the per-index headroom bound takes the exact checked step.

API v1 (``apply_ticks_family``, ``_family.pxd``, public through ``kernels.pxd``) keeps its
padded layout ("ELL": the memberships of stock ``i`` are the ``width`` entries
``i*width .. i*width+width-1``, padding with 0-share entries at dummy slots): it is turned into
the row layout (0-share entries dropped) and run by the same kernel.

Twins: the level of index slot ``k`` is ``(caps[src[k]] + carry[k]) / divisors[k]``.
``src[k] = k`` for an index with its own cap row; a total-return twin of a price index (the same
index shares, only another divisor) has ``src[k]`` = its price index's slot and no entry in the
layout, so it adds no per-trade work: its level is one addition and one division where it is
read (a sample row, the final levels; the ``twins`` list refreshes it after each trade only
when every trade is output). ``carry[k]`` is 0 except for a total-return index on the day it
reinvests dividends (won, folded into its divisor at the roll).
"""

cimport numpy as cnp
from libc.stdint cimport INT64_MAX, int32_t, int64_t, uint64_t
from libc.string cimport memcpy
from libc.stdlib cimport calloc, free, malloc

from kospi_fast._buffers cimport data, length, length_f64, length_i64, length_ids, same_length, shape_2d
from kospi_fast._ticks cimport headroom_bound, id_t, kf_cap_add, move_price, share_total, trade_ok
from kospi_fast._ticks cimport add_f64, trade_ok_f64
from kospi_fast._aggregate cimport simd_level
from libc.math cimport isfinite

import numpy as np

cnp.import_array()


# ---------------------------------------------------------------- the kernel
#
# Layout (rows by stock, "CSR", plus one broad index kept apart): stock ``i`` has a record of 4
# int64 ``rec[4*i .. 4*i+3]`` = (lo, hi − lo, broad shares, row start) and its memberships
# other than the broad index are the entries ``rec[4*i+3] .. rec[4*(i+1)+3] − 1`` of ``col``
# (cap slot) and ``sh`` (index shares); record ``n_stocks`` is a sentinel holding only the end.
# The band test is one unsigned compare, ``(p − lo) mod 2**64 <= hi − lo`` (no band: lo 1,
# hi − lo = pmax − 1; an empty band: (INT64_MIN, 0), refused with ``p > 0``), as in
# ``_ticks.apply_ticks_band``.
#
# Why: every trade read-modify-writes the caps of its stock's indices. Through memory these
# form store-to-load chains: KOSPI holds every stock, so its cap slot is hit by every trade,
# and a broad index (KOSPI 200, a large-cap index) by most. The broad index (the one holding
# the most stocks) is therefore kept in a register for the whole batch (``cb``), like the
# single-index replay's cap, and each other cap is spread over ``NB`` banks (trade t adds into
# bank t mod NB; the banks of slot j are the words ``w[j*NB .. j*NB+NB-1]``), so consecutive
# trades of one index hit different words and do not wait for each other. Banks hold uint64
# partial sums (wrapping: a bank alone may leave int64; their sum mod 2**64 is the true cap,
# which the guard keeps inside int64), added up where a cap is read: a sample row, a checked
# step, the end. Integer sums in another order: every level equals a full recompute bit for bit.
#
# The hot loops run between two reads of the caps (``_dense_run``, ``_lazy_run``) with few live
# values, so that no loop-carried value lives on the stack (checked in objdump); what is rare
# (a sample row, a trade above the headroom bound, a refusal) is done outside them.
#
# Rows are not padded (each stock walks its own memberships only); a builder may still pad
# short rows to one width with 0-share entries at dummy slots when a constant trip count
# predicts better (IndexFamily decides, see family.py).

cdef extern from "_simd.h" nogil:
    int KF_SIMD_AVX512
    Py_ssize_t kf_dense512_i32(Py_ssize_t nv, int64_t* prices, const int64_t* rec, uint64_t n,
                               const int64_t* dense, uint64_t* w, Py_ssize_t n_slots, const int32_t* ids,
                               const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim,
                               int64_t* cbp)
    Py_ssize_t kf_dense512_i64(Py_ssize_t nv, int64_t* prices, const int64_t* rec, uint64_t n,
                               const int64_t* dense, uint64_t* w, Py_ssize_t n_slots, const int64_t* ids,
                               const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim,
                               int64_t* cbp)


cdef enum:
    # The dense run with the caps in AVX-512 registers (_simd.h) is taken, on a CPU whose chosen
    # target is avx512, for a sampled batch of at least DENSE512_PER_STOCK trades per stock (its
    # dense share rows are built per batch: O(stocks × slots)) over at most DENSE512_SLOTS cap
    # slots, with fewer than DENSE512_BELOW trades per sample (measured: methodology notes,
    # "Speed (issue 16)").
    DENSE512_SLOTS = 32
    DENSE512_PER_STOCK = 16
    DENSE512_BELOW = 4000


cdef enum:
    # The dense path (caps updated per trade) is taken for a sampled batch with fewer than
    # DENSE_BELOW trades per sample whose rows hold at most DENSE_WIDTH entries per stock on
    # average; otherwise the lazy one (measured: docs/methodology-notes.md, "Speed (issue 16)").
    DENSE_BELOW = 200
    DENSE_WIDTH = 4
    NB_SHIFT = 2  # log2 of the banks per cap slot
    NB = 1 << NB_SHIFT
    NB_MASK = NB - 1


# The hot loops in C (the trade test KF_FAMILY_TAKE comes from _simd.h, shared with the AVX-512
# run), each its own function and never inlined (``KF_FAM_NOINLINE``): inlined
# into the kernel's big function they kept ids, prices, the band and the bounds on the stack and
# reloaded them every trade (objdump), which cost the lazy loop half its speed. One copy per id
# width. ``KF_FAM_NB_SHIFT`` must equal ``NB_SHIFT`` below (the tests' bank sums would differ).
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #if defined(__GNUC__) || defined(__clang__)
    #define KF_FAM_NOINLINE __attribute__((noinline))
    #elif defined(_MSC_VER)
    #define KF_FAM_NOINLINE __declspec(noinline)
    #else
    #define KF_FAM_NOINLINE
    #endif
    #define KF_FAM_NB_SHIFT 2
    #define KF_FAM_NB_MASK ((1u << KF_FAM_NB_SHIFT) - 1u)
    #define KF_DENSE_RUN(NAME, IDT) \
    static KF_FAM_NOINLINE Py_ssize_t NAME(int64_t* prices, const int64_t* rec, uint64_t n, \
            const int32_t* col, const int64_t* sh, Py_ssize_t width, uint64_t* w, const IDT* ids, \
            const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim, int64_t* cbp) { \
        uint64_t cb = (uint64_t)*cbp; \
        for (; t < stop; t++) { \
            uint64_t i = (uint64_t)ids[t], d; \
            int64_t p = new_prices[t]; \
            const int64_t* r = rec + 4 * i; \
            uint64_t* wb; \
            Py_ssize_t e, end; \
            if (!KF_FAMILY_TAKE(r, p, i, n, lim)) break; \
            d = (uint64_t)p - (uint64_t)prices[i]; \
            prices[i] = p; \
            cb += d * (uint64_t)r[2]; \
            wb = w + ((uint64_t)t & KF_FAM_NB_MASK); \
            if (width >= 0) { e = (Py_ssize_t)i * width; end = e + width; } \
            else { e = (Py_ssize_t)r[3]; end = (Py_ssize_t)r[7]; } \
            for (; e < end; e++) wb[(Py_ssize_t)col[e] << KF_FAM_NB_SHIFT] += d * (uint64_t)sh[e]; \
        } \
        *cbp = (int64_t)cb; \
        return t; \
    }
    #define KF_LAZY_RUN(NAME, IDT) \
    static KF_FAM_NOINLINE Py_ssize_t NAME(int64_t* prices, const int64_t* band, uint64_t n, \
            const IDT* ids, const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim, \
            Py_ssize_t* dirty, char* is_dirty, Py_ssize_t* n_dirty) { \
        Py_ssize_t m = *n_dirty; \
        if (dirty == NULL) { \
            for (; t < stop; t++) { \
                uint64_t i = (uint64_t)ids[t]; \
                int64_t p = new_prices[t]; \
                if (!KF_FAMILY_TAKE(band + 2 * i, p, i, n, lim)) break; \
                prices[i] = p; \
            } \
        } else { \
            for (; t < stop; t++) { \
                uint64_t i = (uint64_t)ids[t]; \
                int64_t p = new_prices[t]; \
                if (!KF_FAMILY_TAKE(band + 2 * i, p, i, n, lim)) break; \
                prices[i] = p; \
                dirty[m] = (Py_ssize_t)i; \
                m += 1 - is_dirty[i]; \
                is_dirty[i] = 1; \
            } \
        } \
        *n_dirty = m; \
        return t; \
    }
    #define KF_EVERY_RUN(NAME, IDT) \
    static KF_FAM_NOINLINE Py_ssize_t NAME(int64_t* prices, const int64_t* rec, uint64_t n, \
            const int32_t* col, const int64_t* sh, Py_ssize_t width, uint64_t* w, Py_ssize_t bslot, \
            const double* divisors, double* levels, double* blev, double bdiv, const IDT* ids, \
            const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim, double* out, \
            Py_ssize_t n_out, const int32_t* twins, Py_ssize_t n_twins, const int32_t* src, \
            const double* carry) { \
        uint64_t cb = w[bslot << KF_FAM_NB_SHIFT]; \
        for (; t < stop; t++) { \
            uint64_t i = (uint64_t)ids[t], d; \
            int64_t p = new_prices[t]; \
            const int64_t* r = rec + 4 * i; \
            Py_ssize_t e, end, j, k; \
            if (!KF_FAMILY_TAKE(r, p, i, n, lim)) break; \
            d = (uint64_t)p - (uint64_t)prices[i]; \
            prices[i] = p; \
            cb += d * (uint64_t)r[2]; \
            *blev = (double)(int64_t)cb / bdiv; \
            if (width >= 0) { e = (Py_ssize_t)i * width; end = e + width; } \
            else { e = (Py_ssize_t)r[3]; end = (Py_ssize_t)r[7]; } \
            for (; e < end; e++) { \
                uint64_t* c = w + ((Py_ssize_t)col[e] << KF_FAM_NB_SHIFT); \
                *c += d * (uint64_t)sh[e]; \
                levels[col[e]] = (double)(int64_t)*c / divisors[col[e]]; \
            } \
            if (n_twins) { \
                w[bslot << KF_FAM_NB_SHIFT] = cb; \
                for (j = 0; j < n_twins; j++) { \
                    k = twins[j]; \
                    levels[k] = ((double)(int64_t)w[(Py_ssize_t)src[k] << KF_FAM_NB_SHIFT] + carry[k]) \
                                / divisors[k]; \
                } \
            } \
            memcpy(out + t * n_out, levels, (size_t)n_out * sizeof(double)); \
        } \
        w[bslot << KF_FAM_NB_SHIFT] = cb; \
        return t; \
    }
    KF_EVERY_RUN(kf_every_run_i32, int32_t)
    KF_EVERY_RUN(kf_every_run_i64, int64_t)
    KF_DENSE_RUN(kf_dense_run_i32, int32_t)
    KF_DENSE_RUN(kf_dense_run_i64, int64_t)
    KF_LAZY_RUN(kf_lazy_run_i32, int32_t)
    KF_LAZY_RUN(kf_lazy_run_i64, int64_t)
    """
    Py_ssize_t kf_dense_run_i32(int64_t* prices, const int64_t* rec, uint64_t n, const int32_t* col,
                                const int64_t* sh, Py_ssize_t width, uint64_t* w, const int32_t* ids,
                                const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim,
                                int64_t* cbp) noexcept nogil
    Py_ssize_t kf_dense_run_i64(int64_t* prices, const int64_t* rec, uint64_t n, const int32_t* col,
                                const int64_t* sh, Py_ssize_t width, uint64_t* w, const int64_t* ids,
                                const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim,
                                int64_t* cbp) noexcept nogil
    Py_ssize_t kf_every_run_i32(int64_t* prices, const int64_t* rec, uint64_t n, const int32_t* col,
                                const int64_t* sh, Py_ssize_t width, uint64_t* w, Py_ssize_t bslot,
                                const double* divisors, double* levels, double* blev, double bdiv,
                                const int32_t* ids, const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop,
                                int64_t lim, double* out, Py_ssize_t n_out, const int32_t* twins,
                                Py_ssize_t n_twins, const int32_t* src, const double* carry) noexcept nogil
    Py_ssize_t kf_every_run_i64(int64_t* prices, const int64_t* rec, uint64_t n, const int32_t* col,
                                const int64_t* sh, Py_ssize_t width, uint64_t* w, Py_ssize_t bslot,
                                const double* divisors, double* levels, double* blev, double bdiv,
                                const int64_t* ids, const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop,
                                int64_t lim, double* out, Py_ssize_t n_out, const int32_t* twins,
                                Py_ssize_t n_twins, const int32_t* src, const double* carry) noexcept nogil
    Py_ssize_t kf_lazy_run_i32(int64_t* prices, const int64_t* band, uint64_t n, const int32_t* ids,
                               const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim,
                               Py_ssize_t* dirty, char* is_dirty, Py_ssize_t* n_dirty) noexcept nogil
    Py_ssize_t kf_lazy_run_i64(int64_t* prices, const int64_t* band, uint64_t n, const int64_t* ids,
                               const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim,
                               Py_ssize_t* dirty, char* is_dirty, Py_ssize_t* n_dirty) noexcept nogil


cdef inline void _fold(uint64_t* w, Py_ssize_t n_slots) noexcept nogil:
    """Add every slot's banks into its first one and clear the others: ``w[j * NB]`` is then
    the true cap of slot j."""
    cdef Py_ssize_t b, j
    cdef uint64_t c
    for j in range(n_slots):
        c = w[j * NB]
        for b in range(1, NB):
            c += w[j * NB + b]
            w[j * NB + b] = 0
        w[j * NB] = c


cdef inline uint64_t* _totals(const int64_t* rec, Py_ssize_t n_stocks, const int32_t* col,
                              const int64_t* sh, Py_ssize_t bslot, uint64_t* w, Py_ssize_t n_slots) noexcept nogil:
    """Σ index shares of each cap slot (saturated at 2**64 − 1), into the words after the banks
    (``w + (n_slots + 1) × NB``, returned): the headroom bound's per-index totals."""
    cdef uint64_t* tot = w + (n_slots + 1) * NB
    cdef Py_ssize_t i, e, k
    cdef uint64_t prev
    for k in range(n_slots + 1):
        tot[k] = 0
    for i in range(n_stocks):
        for e in range(rec[4 * i + 3], rec[4 * i + 7]):
            k = col[e]
            prev = tot[k]
            tot[k] += <uint64_t>sh[e]
            if tot[k] < prev:
                tot[k] = <uint64_t>0xFFFFFFFFFFFFFFFF
        prev = tot[bslot]
        tot[bslot] += <uint64_t>rec[4 * i + 2]
        if tot[bslot] < prev:
            tot[bslot] = <uint64_t>0xFFFFFFFFFFFFFFFF
    return tot


cdef inline int64_t _headroom_w(const uint64_t* w, Py_ssize_t n_slots, const uint64_t* tot,
                                int64_t pmax) noexcept nogil:
    """min(pmax, the headroom bound of ``_ticks.pxd`` of every index: (INT64_MAX − cap) // Σ
    its index shares) over folded caps: every trade priced at most this keeps every cap inside
    int64 however the trades interleave (each price stays <= max(its price now, the bound))."""
    cdef Py_ssize_t k
    cdef int64_t lim = pmax, b
    for k in range(n_slots + 1):
        b = headroom_bound(<int64_t>w[k * NB], tot[k])
        if b < lim:
            lim = b
    return lim


cdef inline bint _in_band(const int64_t* r, int64_t p) noexcept nogil:
    return <uint64_t>p - <uint64_t>r[0] <= <uint64_t>r[1]


cdef bint _push_checked(uint64_t* w, Py_ssize_t bslot, const int32_t* col, const int64_t* sh,
                        const int64_t* r, int64_t d, double* levels, const double* divisors) noexcept nogil:
    """The trade's move ``d`` into the folded caps ``w`` (broad slot and row), each add guarded
    exactly (``kf_cap_add``): 1 when every new cap fits in int64, else 0 with nothing changed.
    With ``levels`` (the per-trade path), the touched row slots' levels are refreshed."""
    cdef Py_ssize_t e, f, k
    cdef int64_t c, cb
    if kf_cap_add(<int64_t>w[bslot * NB], d, r[2], &cb):
        return False
    for e in range(r[3], r[7]):
        k = col[e]
        if kf_cap_add(<int64_t>w[k * NB], d, sh[e], &c):
            for f in range(r[3], e):
                k = col[f]
                w[k * NB] -= <uint64_t>d * <uint64_t>sh[f]
                if levels != NULL:
                    levels[k] = <double><int64_t>w[k * NB] / divisors[k]
            return False
        w[k * NB] = <uint64_t>c
        if levels != NULL:
            levels[k] = <double>c / divisors[k]
    w[bslot * NB] = <uint64_t>cb
    return True


cdef inline double _cap_read(const uint64_t* w, Py_ssize_t j) noexcept nogil:
    cdef uint64_t c = w[j * NB]
    cdef Py_ssize_t b
    for b in range(1, NB):
        c += w[j * NB + b]
    return <double><int64_t>c


cdef Py_ssize_t _sample_rows(double* out, Py_ssize_t n_out, const uint64_t* w, const double* divisors,
                             const int32_t* src, const double* carry, const int64_t* sample_at,
                             Py_ssize_t n_samples, Py_ssize_t s, Py_ssize_t t) noexcept nogil:
    """Write the row of levels (caps summed over the banks) for each sample position from ``s``
    on that is trade ``t``; return the next sample's position in ``sample_at``."""
    cdef Py_ssize_t k
    while s < n_samples and sample_at[s] == t:
        for k in range(n_out):
            out[s * n_out + k] = (_cap_read(w, src[k]) + carry[k]) / divisors[k]
        s += 1
    return s


cdef Py_ssize_t _every_trade(
        int64_t* prices, const int64_t* rec, Py_ssize_t n_stocks, const int32_t* col, const int64_t* sh,
        Py_ssize_t width, Py_ssize_t nnz, Py_ssize_t bslot, uint64_t* w, const double* divisors, double* levels,
        Py_ssize_t n_idx, Py_ssize_t n_out, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
        int64_t pmax, double* out, const int32_t* src, const double* carry, const int32_t* twins,
        Py_ssize_t n_twins) noexcept nogil:
    """A row per trade (bank 0 only): refresh the touched indices' levels (and the twins'), copy
    the row; the hot loop is ``KF_EVERY_RUN`` (C, never inlined), a trade it refuses takes the
    exact checked step here."""
    cdef Py_ssize_t t = 0, j, k
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef int64_t p
    cdef const int64_t* r
    cdef double sink = 0.0
    cdef double* blev = &levels[bslot] if bslot < n_idx else &sink
    cdef double bdiv = divisors[bslot] if bslot < n_idx else 1.0
    cdef uint64_t* tot = NULL  # per-index share totals, taken once enough trades remain
    cdef int64_t lim = 0
    for k in range(n_idx):
        levels[k] = (_cap_read(w, src[k]) + carry[k]) / divisors[k]
    while t < n_ticks:
        if id_t is int32_t:
            t = kf_every_run_i32(prices, rec, n, col, sh, width, w, bslot, divisors, levels, blev, bdiv, ids,
                                 new_prices, t, n_ticks, lim, out, n_out, twins, n_twins, src, carry)
        else:
            t = kf_every_run_i64(prices, rec, n, col, sh, width, w, bslot, divisors, levels, blev, bdiv, ids,
                                 new_prices, t, n_ticks, lim, out, n_out, twins, n_twins, src, carry)
        if t == n_ticks:
            break
        i = <uint64_t>ids[t]
        p = new_prices[t]
        r = rec + 4 * i
        if i < n and _in_band(r, p) and trade_ok(i, n, p, pmax) and \
                _push_checked(w, bslot, col, sh, r, p - prices[i], levels, divisors):
            prices[i] = p
            blev[0] = <double><int64_t>w[bslot * NB] / bdiv
            if tot == NULL and n_ticks - t > nnz + n_stocks:
                tot = _totals(rec, n_stocks, col, sh, bslot, w, n_idx)
            if tot != NULL:
                lim = _headroom_w(w, n_idx, tot, pmax)
        else:
            return t
        for j in range(n_twins):
            k = twins[j]
            levels[k] = (_cap_read(w, src[k]) + carry[k]) / divisors[k]
        memcpy(out + t * n_out, levels, n_out * sizeof(double))
        t += 1
    return -1


cdef inline Py_ssize_t _dense_run(int64_t* prices, const int64_t* rec, uint64_t n, const int32_t* col,
                                  const int64_t* sh, Py_ssize_t width, uint64_t* w, const id_t* ids,
                                  const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim,
                                  int64_t* cbp) noexcept nogil:
    """The hot loop of ``_dense`` (``KF_DENSE_RUN``): take trades from ``t`` until ``stop`` while
    each is in range, in its band and under the headroom bound ``lim``, the broad cap in
    ``*cbp``, the rows into bank t mod NB; return the position reached. ``width`` >= 0: every
    row has that many entries (stock i's start at i × width, no load of the record's row bounds
    on the way to the caps); -1: rows of their own lengths."""
    if id_t is int32_t:
        return kf_dense_run_i32(prices, rec, n, col, sh, width, w, ids, new_prices, t, stop, lim, cbp)
    else:
        return kf_dense_run_i64(prices, rec, n, col, sh, width, w, ids, new_prices, t, stop, lim, cbp)


cdef Py_ssize_t _dense(
        int64_t* prices, const int64_t* rec, Py_ssize_t n_stocks, const int32_t* col, const int64_t* sh,
        Py_ssize_t width, Py_ssize_t nnz, Py_ssize_t bslot, uint64_t* w, const double* divisors, Py_ssize_t n_idx,
        Py_ssize_t n_out, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks, int64_t pmax,
        double* out, const int64_t* sample_at, Py_ssize_t n_samples, const int32_t* src,
        const double* carry, Py_ssize_t t, Py_ssize_t s, const int64_t* dense=NULL,
        Py_ssize_t nv=0) noexcept nogil:
    """Update the caps trade by trade (broad cap in a register, the rest over the banks) from
    trade ``t`` on (``s``: the first sample position not yet written); a row of levels at each
    sample point (none without ``out``). A trade above the headroom bound folds the banks and
    takes the exact checked step."""
    cdef Py_ssize_t next_at = sample_at[s] if (out != NULL and s < n_samples) else -1
    cdef Py_ssize_t stop
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef int64_t p, cb = <int64_t>w[bslot * NB]
    cdef const int64_t* r
    cdef uint64_t* tot = NULL  # per-index share totals, taken once enough trades remain
    cdef int64_t lim = 0
    while t < n_ticks:
        stop = next_at + 1 if 0 <= next_at < n_ticks else n_ticks
        if dense != NULL:  # the caps in AVX-512 registers (_simd.h), the same sums
            if id_t is int32_t:
                t = kf_dense512_i32(nv, prices, rec, n, dense, w, n_idx + 1, ids, new_prices, t, stop, lim, &cb)
            else:
                t = kf_dense512_i64(nv, prices, rec, n, dense, w, n_idx + 1, ids, new_prices, t, stop, lim, &cb)
        else:
            t = _dense_run(prices, rec, n, col, sh, width, w, ids, new_prices, t, stop, lim, &cb)
        if t < stop:  # refused by the fast test: the exact checked step on the folded caps
            i = <uint64_t>ids[t]
            p = new_prices[t]
            r = rec + 4 * i
            w[bslot * NB] = <uint64_t>cb
            _fold(w, n_idx + 1)
            if i < n and _in_band(r, p) and trade_ok(i, n, p, pmax) and \
                    _push_checked(w, bslot, col, sh, r, p - prices[i], NULL, NULL):
                prices[i] = p
                cb = <int64_t>w[bslot * NB]
                if tot == NULL and n_ticks - t > nnz + n_stocks:
                    tot = _totals(rec, n_stocks, col, sh, bslot, w, n_idx)
                if tot != NULL:
                    lim = _headroom_w(w, n_idx, tot, pmax)
            else:
                return t
            t += 1
        if next_at >= 0 and t == next_at + 1:
            w[bslot * NB] = <uint64_t>cb
            s = _sample_rows(out, n_out, w, divisors, src, carry, sample_at, n_samples, s, next_at)
            next_at = sample_at[s] if s < n_samples else -1
    w[bslot * NB] = <uint64_t>cb
    return -1


cdef int64_t _push_moves(const int64_t* prices, int64_t* flushed, const Py_ssize_t* dirty,
                         char* is_dirty, Py_ssize_t n_dirty, const int64_t* rec,
                         const int32_t* col, const int64_t* sh, uint64_t* w, int64_t cb) noexcept nogil:
    """Each listed stock's net move since ``flushed`` reaches its indices (dirty stock j into
    bank j mod NB, the broad index into the returned ``cb``); ``flushed`` catches up.
    ``dirty`` NULL: every stock 0 .. n_dirty − 1."""
    cdef Py_ssize_t j, i, e, end
    cdef const int64_t* r
    cdef uint64_t d
    cdef uint64_t* wb
    for j in range(n_dirty):
        i = dirty[j] if dirty != NULL else j
        if is_dirty != NULL:
            is_dirty[i] = 0
        d = <uint64_t>(prices[i] - flushed[i])
        if d == 0:
            continue
        r = rec + 4 * i
        cb += <int64_t>d * r[2]
        wb = w + (<uint64_t>j & NB_MASK)
        end = r[7]
        for e in range(r[3], end):
            wb[<Py_ssize_t>col[e] << NB_SHIFT] += d * <uint64_t>sh[e]
        flushed[i] = prices[i]
    return cb


cdef inline Py_ssize_t _lazy_run(int64_t* prices, const int64_t* band, uint64_t n, const id_t* ids,
                                 const int64_t* new_prices, Py_ssize_t t, Py_ssize_t stop, int64_t lim,
                                 Py_ssize_t* dirty, char* is_dirty, Py_ssize_t* n_dirty) noexcept nogil:
    """The hot loop of ``_lazy`` (``KF_LAZY_RUN``): move prices from ``t`` until ``stop`` while
    each trade is in range, in its band (``band``: the records' (lo, hi − lo) pairs alone, half
    the memory to keep in cache) and under ``lim``, and, when ``dirty`` is not NULL, list each
    stock moved (branch-free: whether a stock is new to the list is not predictable; ``dirty``
    has room for one entry more than there are stocks); return the position reached."""
    if id_t is int32_t:
        return kf_lazy_run_i32(prices, band, n, ids, new_prices, t, stop, lim, dirty, is_dirty, n_dirty)
    else:
        return kf_lazy_run_i64(prices, band, n, ids, new_prices, t, stop, lim, dirty, is_dirty, n_dirty)


cdef Py_ssize_t _lazy(
        int64_t* prices, const int64_t* rec, Py_ssize_t n_stocks, const int32_t* col, const int64_t* sh,
        Py_ssize_t nnz, Py_ssize_t bslot, uint64_t* w, const double* divisors, Py_ssize_t n_idx,
        Py_ssize_t n_out, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks, int64_t pmax,
        double* out, const int64_t* sample_at, Py_ssize_t n_samples, const int32_t* src,
        const double* carry) noexcept nogil:
    """Lazy: nobody reads the caps between sample points, so a trade only moves its stock's
    price (and marks it dirty when there are samples); at a sample point, and at the end, each
    moved stock pushes its net move since the last push into its indices' caps. The same
    integer sums in another order (exact), a busy stock pushed once per sample interval. With no
    sample, the end scans every stock against a copy of the prices (no dirty list to keep). A
    trade above the headroom bound pushes what is pending and hands the rest of the batch to
    ``_dense`` (every trade checked). Returns -2 when scratch memory could not be allocated."""
    cdef Py_ssize_t t = 0, s = 0, bad = -1, n_dirty = 0, stop
    cdef bint sampled = out != NULL and n_samples > 0
    cdef Py_ssize_t next_at = sample_at[0] if sampled else -1
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef int64_t p, cb = <int64_t>w[bslot * NB]
    cdef const int64_t* r
    cdef int64_t lazy_max = (_headroom_w(w, n_idx, _totals(rec, n_stocks, col, sh, bslot, w, n_idx), pmax)
                             if n_ticks > nnz + n_stocks else 0)  # small batch: all checked
    cdef size_t m = n_stocks if n_stocks > 0 else 1  # malloc(0) may return NULL
    cdef int64_t* flushed = <int64_t*>malloc(m * sizeof(int64_t))
    cdef Py_ssize_t* dirty = <Py_ssize_t*>malloc((m + 1) * sizeof(Py_ssize_t)) if sampled else NULL  # +1: see _lazy_run
    cdef char* is_dirty = <char*>calloc(m, 1) if sampled else NULL
    cdef int64_t* band = <int64_t*>malloc(2 * m * sizeof(int64_t))
    if flushed == NULL or band == NULL or (sampled and (dirty == NULL or is_dirty == NULL)):
        free(flushed); free(dirty); free(is_dirty); free(band)
        return -2
    memcpy(flushed, prices, n_stocks * sizeof(int64_t))
    for t in range(n_stocks):
        band[2 * t] = rec[4 * t]
        band[2 * t + 1] = rec[4 * t + 1]
    t = 0
    while t < n_ticks:
        stop = next_at + 1 if 0 <= next_at < n_ticks else n_ticks
        t = _lazy_run(prices, band, n, ids, new_prices, t, stop, lazy_max, dirty, is_dirty, &n_dirty)
        if t < stop:
            i = <uint64_t>ids[t]
            p = new_prices[t]
            r = rec + 4 * i
            if i < n and _in_band(r, p) and trade_ok(i, n, p, pmax):  # above the headroom
                break
            bad = t
            break
        if next_at >= 0 and t == next_at + 1:
            cb = _push_moves(prices, flushed, dirty, is_dirty, n_dirty, rec, col, sh, w, cb)
            n_dirty = 0
            w[bslot * NB] = <uint64_t>cb
            s = _sample_rows(out, n_out, w, divisors, src, carry, sample_at, n_samples, s, next_at)
            next_at = sample_at[s] if s < n_samples else -1
    if sampled:
        cb = _push_moves(prices, flushed, dirty, is_dirty, n_dirty, rec, col, sh, w, cb)
    else:
        cb = _push_moves(prices, flushed, NULL, NULL, n_stocks, rec, col, sh, w, cb)
    free(flushed); free(dirty); free(is_dirty); free(band)
    w[bslot * NB] = <uint64_t>cb
    if t < n_ticks and bad == -1:  # above the headroom: the rest trade by trade, checked
        return _dense(prices, rec, n_stocks, col, sh, -1, nnz, bslot, w, divisors, n_idx, n_out,
                      ids, new_prices, n_ticks, pmax, out, sample_at, n_samples, src, carry, t, s)
    return bad


cdef Py_ssize_t _fixed_width(const int64_t* rec, Py_ssize_t n_stocks) noexcept nogil:
    """The common length of every row (padded rows), or -1 when the rows differ."""
    cdef Py_ssize_t i, width
    if n_stocks == 0:
        return -1
    width = rec[7] - rec[3]
    for i in range(n_stocks + 1):
        if rec[4 * i + 3] != i * width:
            return -1
    return width


cdef int64_t* _dense_rows(const int64_t* rec, Py_ssize_t n_stocks, const int32_t* col, const int64_t* sh,
                          Py_ssize_t nv) noexcept nogil:
    """Each stock's shares by cap slot, 8 × ``nv`` per stock (0 where it is no member), for the
    AVX-512 dense run; NULL when out of memory. The caller frees it."""
    cdef Py_ssize_t i, e, width = 8 * nv
    cdef int64_t* dense = <int64_t*>calloc(<size_t>(n_stocks * width + 1), sizeof(int64_t))
    if dense == NULL:
        return NULL
    for i in range(n_stocks):
        for e in range(rec[4 * i + 3], rec[4 * i + 7]):
            if sh[e] != 0:  # a padding entry's dummy slot may lie past the real ones
                dense[i * width + col[e]] += sh[e]
    return dense


cdef Py_ssize_t run_rows_kernel(
        int64_t* prices, const int64_t* rec, Py_ssize_t n_stocks, const int32_t* col, const int64_t* sh,
        Py_ssize_t broad, int64_t* caps, const double* divisors, double* levels, Py_ssize_t n_idx,
        Py_ssize_t n_out, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks, int64_t pmax,
        double* out, const int64_t* sample_at, Py_ssize_t n_samples,
        const int32_t* src, const double* carry, const int32_t* twins, Py_ssize_t n_twins,
        int path) noexcept nogil:
    """The family kernel over the row layout above; the contract of ``apply_ticks_family``
    (``_family.pxd``) otherwise. ``broad``: the slot kept in a register (its shares in the
    records, absent from the rows), or -1 for none. ``path``: 0 picks (a row per trade; no
    sample: lazy; sampled: dense below ``DENSE_BELOW`` trades per sample on rows of at most
    ``DENSE_WIDTH`` entries per stock on average, else lazy; on AVX-512, the dense run with the
    caps in registers below ``DENSE512_BELOW`` trades per sample), 1 forces
    dense, 2 lazy (for tests and measurements)."""
    cdef Py_ssize_t nnz = rec[4 * n_stocks + 3]
    cdef Py_ssize_t bslot = broad if 0 <= broad < n_idx else n_idx  # slot n_idx: a spare home
    cdef Py_ssize_t k, bad
    cdef uint64_t* w = <uint64_t*>calloc(<size_t>((n_idx + 1) * (NB + 1)), sizeof(uint64_t))  # banks, totals
    cdef Py_ssize_t nv = (n_idx + 1 + 7) // 8  # 8-slot vectors of a dense row
    cdef int64_t* dense
    cdef bint use512 = (simd_level() == KF_SIMD_AVX512 and n_idx + 1 <= DENSE512_SLOTS
                        and (path == 1 or n_ticks >= DENSE512_PER_STOCK * n_stocks))
    if w == NULL:
        return -2
    for k in range(n_idx):
        w[k * NB] = <uint64_t>caps[k]
    if out != NULL and sample_at == NULL:
        bad = _every_trade(prices, rec, n_stocks, col, sh, _fixed_width(rec, n_stocks), nnz, bslot, w, divisors,
                           levels, n_idx, n_out,
                           ids, new_prices, n_ticks, pmax, out, src, carry, twins, n_twins)
    elif use512 and (path == 1 or (path == 0 and out != NULL and n_samples > 0
                                   and n_samples * DENSE512_BELOW > n_ticks)):
        bad = -2
        dense = _dense_rows(rec, n_stocks, col, sh, nv)
        if dense != NULL:
            bad = _dense(prices, rec, n_stocks, col, sh, -1, nnz, bslot, w, divisors, n_idx, n_out, ids,
                         new_prices, n_ticks, pmax, out, sample_at, n_samples, src, carry, 0, 0, dense, nv)
            free(dense)
    elif path == 1 or (path == 0 and out != NULL and n_samples > 0 and n_samples * DENSE_BELOW > n_ticks
                       and nnz <= DENSE_WIDTH * n_stocks):
        bad = _dense(prices, rec, n_stocks, col, sh, _fixed_width(rec, n_stocks), nnz, bslot, w, divisors, n_idx, n_out,
                     ids, new_prices, n_ticks, pmax, out, sample_at, n_samples, src, carry, 0, 0)
    else:
        bad = _lazy(prices, rec, n_stocks, col, sh, nnz, bslot, w, divisors, n_idx, n_out,
                    ids, new_prices, n_ticks, pmax, out, sample_at, n_samples, src, carry)
    _fold(w, n_idx + 1)
    for k in range(n_idx):
        caps[k] = <int64_t>w[k * NB]
    free(w)
    if bad != -2:
        for k in range(n_idx):
            levels[k] = (<double>caps[src[k]] + carry[k]) / divisors[k]
    return bad


cdef Py_ssize_t apply_ticks_family(
        int64_t* prices, Py_ssize_t n_stocks,
        Py_ssize_t width, const int32_t* col, const int64_t* sh,
        int64_t* caps, const double* divisors, double* levels, Py_ssize_t n_idx, Py_ssize_t n_out,
        const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks, int64_t pmax,
        double* out, const int64_t* sample_at, Py_ssize_t n_samples,
        const int32_t* src, const double* carry, const int32_t* twins, Py_ssize_t n_twins) noexcept nogil:
    """API v1 (``_family.pxd``: padded rows, no band, no broad index): the padded layout is
    turned into the row layout (0-share entries dropped: they add nothing and cannot overflow)
    and run by ``run_rows_kernel``."""
    cdef Py_ssize_t i, e, nnz = 0
    cdef int64_t* rec = <int64_t*>malloc(<size_t>(4 * (n_stocks + 1)) * sizeof(int64_t))
    cdef int32_t* rcol = <int32_t*>malloc(<size_t>(n_stocks * width + 1) * sizeof(int32_t))
    cdef int64_t* rsh = <int64_t*>malloc(<size_t>(n_stocks * width + 1) * sizeof(int64_t))
    cdef Py_ssize_t bad
    if rec == NULL or rcol == NULL or rsh == NULL:
        free(rec); free(rcol); free(rsh)
        return -2
    for i in range(n_stocks):
        if pmax >= 1:
            rec[4 * i] = 1
            rec[4 * i + 1] = pmax - 1
        else:  # no price is allowed: an empty band
            rec[4 * i] = <int64_t>0x8000000000000000
            rec[4 * i + 1] = 0
        rec[4 * i + 2] = 0
        rec[4 * i + 3] = nnz
        for e in range(i * width, i * width + width):
            if sh[e] != 0:
                rcol[nnz] = col[e]
                rsh[nnz] = sh[e]
                nnz += 1
    rec[4 * n_stocks + 3] = nnz
    bad = run_rows_kernel(prices, rec, n_stocks, rcol, rsh, -1, caps, divisors, levels, n_idx, n_out,
                          ids, new_prices, n_ticks, pmax, out, sample_at, n_samples, src, carry, twins,
                          n_twins, 0)
    free(rec); free(rcol); free(rsh)
    return bad


cdef class _Batch:
    """The arguments every family driver shares, checked (lengths, dtypes, ranges of ``src`` and
    ``twins``) and turned into pointers."""
    cdef int64_t* pp
    cdef int64_t* cp
    cdef const double* dp
    cdef double* lp
    cdef const void* ip
    cdef bint narrow
    cdef const int64_t* npp
    cdef Py_ssize_t n_stocks, n_idx, n_out, n_ticks, n_samples, n_twins
    cdef const int64_t* sp
    cdef double* op
    cdef const int32_t* srcp
    cdef const double* crp
    cdef const int32_t* twp
    cdef object keep

    def __init__(self, prices, caps, divisors, levels, ids, new_prices, out, sample_at, src, twins, carry):
        self.n_stocks = length_i64(prices, "prices", True)
        self.n_idx = length_i64(caps, "caps", True)
        cdef Py_ssize_t n_idx = self.n_idx
        same_length(length_f64(divisors, "divisors"), "divisors", n_idx, "`caps`")
        same_length(length_f64(levels, "levels", True), "levels", n_idx, "`caps`")
        self.n_ticks = length_ids(ids, "ids", &self.narrow)
        same_length(length_i64(new_prices, "new_prices"), "new_prices", self.n_ticks, "`ids`")
        self.sp = NULL
        self.n_samples = 0
        if sample_at is not None:
            self.n_samples = length_i64(sample_at, "sample_at")
            self.sp = <const int64_t*>data(sample_at)
        self.op = NULL
        cdef Py_ssize_t n_rows
        self.n_out = n_idx
        if out is not None:
            shape_2d(out, cnp.NPY_FLOAT64, "out", "float64", True, &n_rows, &self.n_out)
            same_length(n_rows, "out", self.n_ticks if sample_at is None else self.n_samples,
                        "`ids`" if sample_at is None else "`sample_at`")
            if self.n_out > n_idx:
                raise ValueError(f"`out` has {self.n_out} columns, more than the {n_idx} of `caps`")
            self.op = <double*>data(out)
        if src is None:
            src = np.arange(n_idx, dtype=np.int32)
        same_length(length(src, cnp.NPY_INT32, "src", "int32", False), "src", n_idx, "`caps`")
        self.srcp = <const int32_t*>data(src)
        cdef Py_ssize_t e
        for e in range(n_idx):
            if <uint64_t>self.srcp[e] >= <uint64_t>n_idx:
                raise ValueError(f"`src[{e}]` must be in [0, {n_idx}), got {self.srcp[e]}")
        if carry is None:
            carry = np.zeros(n_idx)
        same_length(length_f64(carry, "carry"), "carry", n_idx, "`caps`")
        self.crp = <const double*>data(carry)
        self.twp = self.srcp  # any valid pointer when there are no twins
        self.n_twins = 0
        if twins is not None:
            self.n_twins = length(twins, cnp.NPY_INT32, "twins", "int32", False)
            self.twp = <const int32_t*>data(twins)
            for e in range(self.n_twins):
                if <uint64_t>self.twp[e] >= <uint64_t>n_idx:
                    raise ValueError(f"`twins[{e}]` must be in [0, {n_idx}), got {self.twp[e]}")
        self.keep = (src, carry)  # the defaults made here live as long as the pointers
        self.pp = <int64_t*>data(prices)
        self.cp = <int64_t*>data(caps)
        self.dp = <const double*>data(divisors)
        self.lp = <double*>data(levels)
        self.npp = <const int64_t*>data(new_prices)
        self.ip = data(ids)


def run_family(prices, Py_ssize_t width, col, sh, caps, divisors, levels, ids, new_prices,
               int64_t pmax, out, sample_at, src=None, twins=None, carry=None):
    """Low-level driver of ``apply_ticks_family`` (the padded layout of API v1) over prepared
    arrays, all 1-d C-contiguous unless said: int64
    ``prices`` (writeable, n_stocks), int32 ``col`` and int64 ``sh`` of length n_stocks * width,
    ``caps`` (int64), ``divisors`` and ``levels`` (float64) of one length n_idx = the real
    indices + width padding dummies (caps and levels writeable), int32 or int64 ``ids`` and
    int64 ``new_prices`` of one length, ``out`` None or a writeable 2-d float64 array with a row
    per trade (per ``sample_at`` entry when given) and a column per real index (n_out <= n_idx),
    ``sample_at`` None or int64 ascending trade positions; ``src`` None (every slot its own cap)
    or int32 of length n_idx, the cap slot each level divides (every entry in [0, n_idx));
    ``twins`` None or int32, the slots whose level is not ``caps[k] / divisors[k]`` (``src[k] !=
    k`` or ``carry[k] != 0``; refreshed after each trade when a row per trade is output);
    ``carry`` None (zeros) or float64 of length n_idx, won added to the cap a level divides
    (a total-return index's dividends of the day). A wrong array is a TypeError or ValueError naming it, before
    anything is written. Every ``col`` entry must be < n_idx (the layout is built by
    IndexFamily, not checked per batch). Mutates prices, caps, levels, out. Returns the
    bad-trade index, -1, or -2 when scratch memory could not be allocated."""
    cdef Py_ssize_t n_stocks = length_i64(prices, "prices", True)
    if width < 0:
        raise ValueError(f"`width` must be >= 0, got {width}")
    cdef Py_ssize_t n_cells = n_stocks * width
    same_length(length(col, cnp.NPY_INT32, "col", "int32", False), "col", n_cells, "`prices` × `width`")
    same_length(length_i64(sh, "sh"), "sh", n_cells, "`prices` × `width`")
    cdef _Batch a = _Batch(prices, caps, divisors, levels, ids, new_prices, out, sample_at, src, twins, carry)
    cdef const int32_t* colp = <const int32_t*>data(col)
    cdef const int64_t* shp = <const int64_t*>data(sh)
    cdef Py_ssize_t bad
    if a.narrow:
        with nogil:
            bad = apply_ticks_family[int32_t](a.pp, n_stocks, width, colp, shp, a.cp, a.dp, a.lp, a.n_idx,
                                              a.n_out, <const int32_t*>a.ip, a.npp, a.n_ticks, pmax, a.op,
                                              a.sp, a.n_samples, a.srcp, a.crp, a.twp, a.n_twins)
    else:
        with nogil:
            bad = apply_ticks_family[int64_t](a.pp, n_stocks, width, colp, shp, a.cp, a.dp, a.lp, a.n_idx,
                                              a.n_out, <const int64_t*>a.ip, a.npp, a.n_ticks, pmax, a.op,
                                              a.sp, a.n_samples, a.srcp, a.crp, a.twp, a.n_twins)
    return bad


def run_rows(prices, rec, col, sh, Py_ssize_t broad, caps, divisors, levels, ids, new_prices, out,
             sample_at, src=None, twins=None, carry=None, int path=0):
    """Low-level driver of the row-layout kernel (IndexFamily's): ``rec`` int64 of length
    4 * (n_stocks + 1), per stock (lo, hi − lo, broad shares, row start) and a last record whose
    4th entry is the end of the rows (= len(col)); an empty band is (INT64_MIN, 0), no band (1,
    INT64_MAX − 1); ``col`` int32 and ``sh`` int64, the memberships other than the ``broad``
    slot (-1: none) of stock i at entries rec[4i+3] .. rec[4i+7] − 1. The other arguments as
    :func:`run_family`; a trade is refused when its id is out of range, its price outside its
    band or <= 0, or the true cap of any index holding it would exceed int64. ``path`` (0 auto,
    1 dense, 2 lazy) chooses the kernel's path, for tests and measurements. The row starts are checked (ascending, within ``col``); every
    ``col`` entry must be in [0, n_idx) and not ``broad`` (the layout is built by IndexFamily,
    not checked per batch). Returns the first refused trade's index, -1, or -2 (no memory)."""
    cdef _Batch a = _Batch(prices, caps, divisors, levels, ids, new_prices, out, sample_at, src, twins, carry)
    same_length(length_i64(rec, "rec"), "rec", 4 * (a.n_stocks + 1), "4 × (`prices` + 1)")
    cdef Py_ssize_t nnz = length(col, cnp.NPY_INT32, "col", "int32", False)
    same_length(length_i64(sh, "sh"), "sh", nnz, "`col`")
    cdef const int64_t* rp = <const int64_t*>data(rec)
    cdef Py_ssize_t i
    if rp[3] != 0 or rp[4 * a.n_stocks + 3] != nnz:
        raise ValueError(f"`rec`: the rows must start at 0 and end at len(`col`) = {nnz}")
    for i in range(a.n_stocks):
        if rp[4 * i + 7] < rp[4 * i + 3]:
            raise ValueError(f"`rec`: the row of stock {i} ends before it starts")
    if broad < -1 or broad >= a.n_idx:
        raise ValueError(f"`broad` must be in [-1, {a.n_idx}), got {broad}")
    if path not in (0, 1, 2):
        raise ValueError(f"`path` must be 0, 1 or 2, got {path}")
    cdef const int32_t* colp = <const int32_t*>data(col)
    cdef const int64_t* shp = <const int64_t*>data(sh)
    cdef Py_ssize_t bad
    if a.narrow:
        with nogil:
            bad = run_rows_kernel[int32_t](a.pp, rp, a.n_stocks, colp, shp, broad, a.cp, a.dp, a.lp, a.n_idx,
                                           a.n_out, <const int32_t*>a.ip, a.npp, a.n_ticks, INT64_MAX, a.op,
                                           a.sp, a.n_samples, a.srcp, a.crp, a.twp, a.n_twins, path)
    else:
        with nogil:
            bad = run_rows_kernel[int64_t](a.pp, rp, a.n_stocks, colp, shp, broad, a.cp, a.dp, a.lp, a.n_idx,
                                           a.n_out, <const int64_t*>a.ip, a.npp, a.n_ticks, INT64_MAX, a.op,
                                           a.sp, a.n_samples, a.srcp, a.crp, a.twp, a.n_twins, path)
    return bad


def caps_from_ell(prices, Py_ssize_t width, col, sh, Py_ssize_t n_slots):
    """Full recompute of every index cap (exact int64; the caller guarantees no overflow).
    ``prices`` int64, ``col`` int32 and ``sh`` int64 of length len(prices) * width, every
    ``col`` entry in [0, n_slots) (checked: this pass reads them all anyway). Returns an int64
    array of shape (n_slots,)."""
    cdef Py_ssize_t n = length_i64(prices, "prices")
    if width < 0 or n_slots < 0:
        raise ValueError(f"`width` and `n_slots` must be >= 0, got {width} and {n_slots}")
    same_length(length(col, cnp.NPY_INT32, "col", "int32", False), "col", n * width, "`prices` × `width`")
    same_length(length_i64(sh, "sh"), "sh", n * width, "`prices` × `width`")
    cdef const int32_t* colp = <const int32_t*>data(col)
    cdef Py_ssize_t i, e, bad = -1
    with nogil:
        for e in range(n * width):
            if <uint64_t>colp[e] >= <uint64_t>n_slots:  # a negative entry wraps: one compare
                bad = e
                break
    if bad != -1:
        raise ValueError(f"`col[{bad}]` must be in [0, {n_slots}), got {colp[bad]}")
    caps = np.zeros(n_slots, dtype=np.int64)
    cdef int64_t* cp = <int64_t*>data(caps)
    cdef const int64_t* pp = <const int64_t*>data(prices)
    cdef const int64_t* shp = <const int64_t*>data(sh)
    with nogil:
        for i in range(n):
            for e in range(i * width, i * width + width):
                cp[colp[e]] += pp[i] * shp[e]
    return caps


# ---------------------------------------------------------------------------- float64 family
cdef inline void _row_f64(double* row, Py_ssize_t n_out, const double* caps, const double* comps,
                          const double* divisors, const int32_t* src) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(n_out):
        row[k] = (caps[src[k]] + comps[src[k]]) / divisors[k]


cdef Py_ssize_t apply_ticks_family_f64(
        double* prices, Py_ssize_t n_stocks, Py_ssize_t width, const int32_t* col, const double* sh,
        double* caps, double* comps, const double* divisors, Py_ssize_t n_out, const int32_t* src,
        const id_t* ids, const double* new_prices, Py_ssize_t n_ticks,
        double* out, const int64_t* sample_at, Py_ssize_t n_samples) noexcept nogil:
    """See ``_family.pxd``. One loop: the float64 family is for other markets' indices, where a
    trade's memberships are few; the int64 kernel's lazy paths are not repeated here."""
    cdef Py_ssize_t t, e, s = 0, row
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef double p, d
    cdef int32_t c
    for t in range(n_ticks):
        i = <uint64_t>ids[t]
        p = new_prices[t]
        if not trade_ok_f64(i, n, p):
            return t
        d = p - prices[i]
        row = <Py_ssize_t>i * width
        for e in range(row, row + width):
            c = col[e]
            add_f64(&caps[c], &comps[c], d * sh[e])
            if not isfinite(caps[c]):
                return t
        prices[i] = p
        if out != NULL:
            if sample_at == NULL:
                _row_f64(out + t * n_out, n_out, caps, comps, divisors, src)
            else:
                while s < n_samples and sample_at[s] == t:
                    _row_f64(out + s * n_out, n_out, caps, comps, divisors, src)
                    s += 1
    return -1


def run_family_f64(prices, Py_ssize_t width, col, sh, caps, comps, divisors, src, ids, new_prices, out,
                   sample_at):
    """Low-level driver of the float64 family kernel over prepared arrays, all 1-d C-contiguous
    unless said: float64 ``prices`` (writeable, n_stocks), int32 ``col`` and float64 ``sh`` of
    length n_stocks * width, float64 ``caps`` and ``comps`` (writeable) and ``divisors`` of one
    length n_idx, int32 ``src`` of length n_idx (each in [0, n_idx)), int32 or int64 ``ids``
    and float64 ``new_prices`` of one length, ``out`` None or a writeable 2-d float64 array with
    a row per trade (per ``sample_at`` entry when given) and n_out <= n_idx columns,
    ``sample_at`` None or int64 ascending trade positions. Every ``col`` entry must be < n_idx.
    A wrong array is a TypeError or ValueError naming it, before anything is written. Mutates
    prices, caps, comps, out. Returns the bad-trade index or -1."""
    cdef Py_ssize_t n_stocks = length_f64(prices, "prices", True)
    if width < 0:
        raise ValueError(f"`width` must be >= 0, got {width}")
    cdef Py_ssize_t n_cells = n_stocks * width
    same_length(length(col, cnp.NPY_INT32, "col", "int32", False), "col", n_cells, "`prices` × `width`")
    same_length(length_f64(sh, "sh"), "sh", n_cells, "`prices` × `width`")
    cdef Py_ssize_t n_idx = length_f64(caps, "caps", True)
    same_length(length_f64(comps, "comps", True), "comps", n_idx, "`caps`")
    same_length(length_f64(divisors, "divisors"), "divisors", n_idx, "`caps`")
    same_length(length(src, cnp.NPY_INT32, "src", "int32", False), "src", n_idx, "`caps`")
    cdef bint narrow
    cdef Py_ssize_t n_ticks = length_ids(ids, "ids", &narrow)
    same_length(length_f64(new_prices, "new_prices"), "new_prices", n_ticks, "`ids`")
    cdef const int64_t* sp = NULL
    cdef Py_ssize_t n_samples = 0, e
    if sample_at is not None:
        n_samples = length_i64(sample_at, "sample_at")
        sp = <const int64_t*>data(sample_at)
    cdef double* op = NULL
    cdef Py_ssize_t n_rows, n_out = n_idx
    if out is not None:
        shape_2d(out, cnp.NPY_FLOAT64, "out", "float64", True, &n_rows, &n_out)
        same_length(n_rows, "out", n_ticks if sample_at is None else n_samples,
                    "`ids`" if sample_at is None else "`sample_at`")
        if n_out > n_idx:
            raise ValueError(f"`out` has {n_out} columns, more than the {n_idx} of `caps`")
        op = <double*>data(out)
    cdef const int32_t* srcp = <const int32_t*>data(src)
    for e in range(n_idx):
        if <uint64_t>srcp[e] >= <uint64_t>n_idx:
            raise ValueError(f"`src[{e}]` must be in [0, {n_idx}), got {srcp[e]}")
    cdef const int32_t* colp = <const int32_t*>data(col)
    for e in range(n_cells):
        if <uint64_t>colp[e] >= <uint64_t>n_idx:
            raise ValueError(f"`col[{e}]` must be in [0, {n_idx}), got {colp[e]}")
    cdef double* pp = <double*>data(prices)
    cdef const double* shp = <const double*>data(sh)
    cdef double* cp = <double*>data(caps)
    cdef double* ep = <double*>data(comps)
    cdef const double* dp = <const double*>data(divisors)
    cdef const double* npp = <const double*>data(new_prices)
    cdef const void* ip = data(ids)
    cdef Py_ssize_t bad
    if narrow:
        with nogil:
            bad = apply_ticks_family_f64[int32_t](pp, n_stocks, width, colp, shp, cp, ep, dp, n_out, srcp,
                                                  <const int32_t*>ip, npp, n_ticks, op, sp, n_samples)
    else:
        with nogil:
            bad = apply_ticks_family_f64[int64_t](pp, n_stocks, width, colp, shp, cp, ep, dp, n_out, srcp,
                                                  <const int64_t*>ip, npp, n_ticks, op, sp, n_samples)
    return bad
