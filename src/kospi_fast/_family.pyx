"""Many indices from one feed: a trade updates every index that holds the stock.

Layout (padded rows by stock, "ELL"): the memberships of stock ``i`` are the ``width`` entries
``i*width .. i*width+width-1``; entry ``e`` says index ``col[e]`` holds ``sh[e]`` index shares
of it. Stocks with fewer memberships are padded with 0-share entries pointing at dummy cap
slots after the real ones (slot ``n_idx + j`` for padding position ``j``), so the inner loop has
the same trip count for every trade and the branch predictor never misses its exit (a
variable-length CSR row cost ~3 ns per trade in mispredictions here). Each padding position
has its own dummy slot: with a single shared one, every trade's padding writes formed one long
store-to-load dependency chain through that slot. A trade moving stock
``i`` from ``old`` to ``new`` adds ``(new − old) × sh[e]`` to the exact int64 cap of each index
``col[e]`` — O(memberships of the stock) per trade — and refreshes those indices' levels
``cap / divisor``, so every level equals a full recompute bit for bit.

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
from libc.math cimport isfinite

import numpy as np

cnp.import_array()


cdef Py_ssize_t apply_ticks_family(
        int64_t* prices, Py_ssize_t n_stocks,
        Py_ssize_t width, const int32_t* col, const int64_t* sh,
        int64_t* caps, const double* divisors, double* levels, Py_ssize_t n_idx, Py_ssize_t n_out,
        const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks, int64_t pmax,
        double* out, const int64_t* sample_at, Py_ssize_t n_samples,
        const int32_t* src, const double* carry, const int32_t* twins, Py_ssize_t n_twins) noexcept nogil:
    """Apply trades in order. ``out`` gets a row of all levels after each trade when
    ``sample_at`` is NULL, else after each trade position listed (ascending) in ``sample_at``;
    ``out`` may be NULL. Returns -1, the index of the first bad trade (state then partly
    applied: callers run on copies), or -2 when scratch memory could not be allocated.

    One loop per output shape, each in a function of its own; all of them check a trade with
    ``_ticks.trade_ok`` and move its price with ``_ticks.move_price``, the one tick step.

    Overflow is guarded exactly: a trade is refused when the true cap of any index holding
    the stock would exceed int64 after it. Every path takes a trade unchecked while its price is
    at most the headroom bound ``(INT64_MAX - max cap) // Σ index shares`` (``_ticks.pxd``:
    then no cap can leave int64 however the trades interleave). Above it, the per-trade paths
    check every membership's add (``_push_checked``, which undoes its partial adds on a refusal,
    so the state is exactly the one before the refused trade) and re-take the bound; the lazy
    paths (sparse samples, final only), which do not add per trade, flush and finish the batch
    on the per-trade checked path. The bound needs Σ index shares, summed only once more trades
    remain than there are cells (a small batch is checked trade by trade instead)."""
    if out != NULL and sample_at == NULL:
        return _every_trade(prices, n_stocks, width, col, sh, caps, divisors, levels, n_idx, n_out,
                            ids, new_prices, n_ticks, pmax, out, src, carry, twins, n_twins)
    if out == NULL or n_samples == 0:
        return _final_only(prices, n_stocks, width, col, sh, caps, divisors, levels, n_idx, n_out,
                           ids, new_prices, n_ticks, pmax, src, carry)
    if n_samples * 256 > n_ticks:
        # Dense sampling (fewer than 256 trades per sample): update the caps trade by trade.
        # (Measured on the sample day: 6.9 ns/trade here vs 8.7 lazily at 85 trades/sample;
        # the lazy path wins when samples are sparse.)
        return _dense(prices, n_stocks, width, col, sh, caps, divisors, levels, n_idx, n_out,
                      ids, new_prices, n_ticks, pmax, out, sample_at, n_samples, src, carry, 0, 0)
    return _sparse(prices, n_stocks, width, col, sh, caps, divisors, levels, n_idx, n_out,
                   ids, new_prices, n_ticks, pmax, out, sample_at, n_samples, src, carry)


cdef Py_ssize_t _every_trade(
        int64_t* prices, Py_ssize_t n_stocks, Py_ssize_t width, const int32_t* col,
        const int64_t* sh, int64_t* caps, const double* divisors, double* levels, Py_ssize_t n_idx,
        Py_ssize_t n_out, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks, int64_t pmax,
        double* out, const int32_t* src, const double* carry, const int32_t* twins, Py_ssize_t n_twins) noexcept nogil:
    """A row per trade: refresh only the touched indices' levels (and the twins'), copy the row."""
    cdef Py_ssize_t t, j, k
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef int64_t p
    cdef size_t row = n_out * sizeof(double)  # output rows hold the n_out real indices only
    cdef uint64_t total = 0  # Σ index shares, taken once enough trades remain (as in _ticks)
    cdef int64_t lim = 0
    cdef bint known = False
    for t in range(n_ticks):
        i = <uint64_t>ids[t]
        p = new_prices[t]
        if trade_ok(i, n, p, lim):  # under the headroom bound: unchecked
            _push(caps, col, sh, <Py_ssize_t>i * width, width, move_price(prices, i, p), levels, divisors)
        elif trade_ok(i, n, p, pmax) and _push_checked(caps, col, sh, <Py_ssize_t>i * width, width,
                                                         p - prices[i], levels, divisors):
            prices[i] = p
            if not known and n_ticks - t > n_stocks * width:
                total = share_total(sh, n_stocks * width)
                known = True
            if known:
                lim = _headroom(caps, n_idx, total, pmax)
        else:
            return t
        for j in range(n_twins):  # zero trips in a family without twins
            k = twins[j]
            levels[k] = (<double>caps[src[k]] + carry[k]) / divisors[k]
        memcpy(out + t * n_out, levels, row)
    return -1


cdef Py_ssize_t _dense(
        int64_t* prices, Py_ssize_t n_stocks, Py_ssize_t width, const int32_t* col,
        const int64_t* sh, int64_t* caps, const double* divisors, double* levels, Py_ssize_t n_idx,
        Py_ssize_t n_out, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
        int64_t pmax, double* out, const int64_t* sample_at, Py_ssize_t n_samples,
        const int32_t* src, const double* carry, Py_ssize_t t0, Py_ssize_t s) noexcept nogil:
    """Update the caps trade by trade, each checked, from trade ``t0`` on (``s``: the first
    sample position not yet written); a row of levels at each sample point (none without
    ``out``)."""
    cdef Py_ssize_t t, k
    cdef Py_ssize_t next_at = sample_at[s] if (out != NULL and s < n_samples) else -1
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef int64_t p
    cdef uint64_t total = 0  # Σ index shares, taken once enough trades remain (as in _ticks)
    cdef int64_t lim = 0
    cdef bint known = False
    for t in range(t0, n_ticks):
        i = <uint64_t>ids[t]
        p = new_prices[t]
        if trade_ok(i, n, p, lim):  # under the headroom bound: unchecked
            _push(caps, col, sh, <Py_ssize_t>i * width, width, move_price(prices, i, p))
        elif trade_ok(i, n, p, pmax) and _push_checked(caps, col, sh, <Py_ssize_t>i * width, width,
                                                         p - prices[i]):
            prices[i] = p
            if not known and n_ticks - t > n_stocks * width:
                total = share_total(sh, n_stocks * width)
                known = True
            if known:
                lim = _headroom(caps, n_idx, total, pmax)
        else:
            for k in range(n_idx):
                levels[k] = (<double>caps[src[k]] + carry[k]) / divisors[k]
            return t
        if t == next_at:
            s = _sample_rows(out, n_out, caps, divisors, src, carry, sample_at, n_samples, s, t)
            next_at = sample_at[s] if s < n_samples else -1
    for k in range(n_idx):
        levels[k] = (<double>caps[src[k]] + carry[k]) / divisors[k]
    return -1


cdef Py_ssize_t _final_only(
        int64_t* prices, Py_ssize_t n_stocks, Py_ssize_t width, const int32_t* col,
        const int64_t* sh, int64_t* caps, const double* divisors, double* levels, Py_ssize_t n_idx,
        Py_ssize_t n_out, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks, int64_t pmax,
        const int32_t* src, const double* carry) noexcept nogil:
    """No samples: the trades only move prices; then each stock's net move since the start
    reaches its indices' caps once (the same integer sums in another order: exact). A trade
    above the headroom bound hands the rest of the batch to ``_dense`` (see above)."""
    cdef Py_ssize_t t, k, j, bad = -1, stop = n_ticks
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef int64_t p
    cdef int64_t lazy_max = (_headroom(caps, n_idx, share_total(sh, n_stocks * width), pmax)
                             if n_ticks > n_stocks * width else 0)  # small batch: all checked
    cdef int64_t* before = <int64_t*>malloc((n_stocks if n_stocks > 0 else 1) * sizeof(int64_t))
    if before == NULL:
        return -2
    memcpy(before, prices, n_stocks * sizeof(int64_t))
    for t in range(n_ticks):
        i = <uint64_t>ids[t]
        p = new_prices[t]
        if not trade_ok(i, n, p, lazy_max):
            if trade_ok(i, n, p, pmax):  # above the headroom: the rest trade by trade, checked
                stop = t
            else:
                bad = t
            break
        move_price(prices, i, p)
    for j in range(n_stocks):
        if prices[j] != before[j]:
            _push(caps, col, sh, j * width, width, prices[j] - before[j])
    free(before)
    if stop < n_ticks:
        return _dense(prices, n_stocks, width, col, sh, caps, divisors, levels, n_idx, n_out,
                      ids, new_prices, n_ticks, pmax, NULL, NULL, 0, src, carry, stop, 0)
    for k in range(n_idx):
        levels[k] = (<double>caps[src[k]] + carry[k]) / divisors[k]
    return bad


cdef Py_ssize_t _sparse(
        int64_t* prices, Py_ssize_t n_stocks, Py_ssize_t width, const int32_t* col,
        const int64_t* sh, int64_t* caps, const double* divisors, double* levels, Py_ssize_t n_idx,
        Py_ssize_t n_out, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
        int64_t pmax, double* out, const int64_t* sample_at, Py_ssize_t n_samples,
        const int32_t* src, const double* carry) noexcept nogil:
    """Sparse sampling: nobody looks at the caps between sample points, so a trade only
    moves its stock's price and marks the stock dirty; at a sample point each dirty stock
    pushes its net price change since the last flush into its indices' caps. Same integer
    sums, in a different order (exact, so the result is identical), and a busy stock traded
    many times between two samples is pushed once. Trades above the headroom bound hand the
    rest of the batch to ``_dense`` (see above)."""
    cdef Py_ssize_t t, k, s = 0
    cdef Py_ssize_t next_at = sample_at[0] if n_samples > 0 else -1  # next trade to sample after
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef int64_t p
    cdef int64_t lazy_max = (_headroom(caps, n_idx, share_total(sh, n_stocks * width), pmax)
                             if n_ticks > n_stocks * width else 0)  # small batch: all checked
    cdef size_t m = n_stocks if n_stocks > 0 else 1  # malloc(0) may return NULL
    cdef int64_t* flushed = <int64_t*>malloc(m * sizeof(int64_t))
    cdef Py_ssize_t* dirty = <Py_ssize_t*>malloc(m * sizeof(Py_ssize_t))
    cdef char* is_dirty = <char*>calloc(m, 1)
    cdef Py_ssize_t n_dirty = 0, bad = -1
    if flushed == NULL or dirty == NULL or is_dirty == NULL:
        free(flushed); free(dirty); free(is_dirty)
        return -2
    memcpy(flushed, prices, n_stocks * sizeof(int64_t))
    for t in range(n_ticks):
        i = <uint64_t>ids[t]
        p = new_prices[t]
        if not trade_ok(i, n, p, lazy_max):
            if trade_ok(i, n, p, pmax):  # above the headroom: the rest trade by trade, checked
                _flush(prices, flushed, dirty, is_dirty, n_dirty, width, col, sh, caps)
                free(flushed); free(dirty); free(is_dirty)
                return _dense(prices, n_stocks, width, col, sh, caps, divisors, levels, n_idx, n_out,
                              ids, new_prices, n_ticks, pmax, out, sample_at, n_samples, src, carry, t, s)
            bad = t
            break
        move_price(prices, i, p)  # the move itself is pushed at the next flush
        if not is_dirty[i]:
            is_dirty[i] = 1
            dirty[n_dirty] = <Py_ssize_t>i
            n_dirty += 1
        if t == next_at:
            _flush(prices, flushed, dirty, is_dirty, n_dirty, width, col, sh, caps)
            n_dirty = 0
            s = _sample_rows(out, n_out, caps, divisors, src, carry, sample_at, n_samples, s, t)
            next_at = sample_at[s] if s < n_samples else -1
    _flush(prices, flushed, dirty, is_dirty, n_dirty, width, col, sh, caps)
    free(flushed); free(dirty); free(is_dirty)
    for k in range(n_idx):
        levels[k] = (<double>caps[src[k]] + carry[k]) / divisors[k]
    return bad


cdef inline void _push(int64_t* caps, const int32_t* col, const int64_t* sh, Py_ssize_t row,
                       Py_ssize_t width, int64_t d, double* levels=NULL,
                       const double* divisors=NULL) noexcept nogil:
    """A price move ``d`` of the stock whose memberships start at ``row`` reaches every index
    holding it: ``caps[col[e]] += d * sh[e]`` (the per-membership form of the tick step); with
    ``levels``, those indices' levels are refreshed in the same pass."""
    cdef Py_ssize_t e, k
    for e in range(row, row + width):
        k = col[e]
        caps[k] += d * sh[e]
        if levels != NULL:  # a constant at each call site: the test is compiled away
            levels[k] = <double>caps[k] / divisors[k]


cdef inline bint _push_checked(int64_t* caps, const int32_t* col, const int64_t* sh, Py_ssize_t row,
                               Py_ssize_t width, int64_t d, double* levels=NULL,
                               const double* divisors=NULL) noexcept nogil:
    """:func:`_push` with each add guarded exactly (``_overflow.kf_cap_add``): returns 1 when
    every index's new cap fits in int64, else undoes the adds already made (and their levels)
    and returns 0, the caps as they were."""
    cdef Py_ssize_t e, k, f
    cdef int64_t c
    for e in range(row, row + width):
        k = col[e]
        if kf_cap_add(caps[k], d, sh[e], &c):
            for f in range(row, e):
                k = col[f]
                caps[k] -= d * sh[f]
                if levels != NULL:
                    levels[k] = <double>caps[k] / divisors[k]
            return False
        caps[k] = c
        if levels != NULL:  # a constant at each call site: the test is compiled away
            levels[k] = <double>c / divisors[k]
    return True


cdef inline int64_t _headroom(const int64_t* caps, Py_ssize_t n_idx, uint64_t total,
                              int64_t pmax) noexcept nogil:
    """min(pmax, the headroom bound of ``_ticks.pxd`` for the largest cap): every trade priced
    at most this keeps every cap inside int64 however the trades interleave (``total`` = Σ of
    all index shares, ``_ticks.share_total``, bounds each index's own share sum)."""
    cdef Py_ssize_t k
    cdef int64_t top = 0, lim
    for k in range(n_idx):
        if caps[k] > top:
            top = caps[k]
    lim = headroom_bound(top, total)
    return pmax if lim > pmax else lim


cdef inline Py_ssize_t _sample_rows(double* out, Py_ssize_t n_out, const int64_t* caps,
                                    const double* divisors, const int32_t* src,
                                    const double* carry, const int64_t* sample_at, Py_ssize_t n_samples, Py_ssize_t s,
                                    Py_ssize_t t) noexcept nogil:
    """Write the row of levels for each sample position from ``s`` on that is trade ``t``;
    return the next sample's position in ``sample_at``."""
    cdef Py_ssize_t k
    while s < n_samples and sample_at[s] == t:
        for k in range(n_out):
            out[s * n_out + k] = (<double>caps[src[k]] + carry[k]) / divisors[k]
        s += 1
    return s


cdef inline void _flush(const int64_t* prices, int64_t* flushed, const Py_ssize_t* dirty,
                        char* is_dirty, Py_ssize_t n_dirty, Py_ssize_t width,
                        const int32_t* col, const int64_t* sh, int64_t* caps) noexcept nogil:
    cdef Py_ssize_t j, i
    for j in range(n_dirty):
        i = dirty[j]
        _push(caps, col, sh, i * width, width, prices[i] - flushed[i])
        flushed[i] = prices[i]
        is_dirty[i] = 0


def run_family(prices, Py_ssize_t width, col, sh, caps, divisors, levels, ids, new_prices,
               int64_t pmax, out, sample_at, src=None, twins=None, carry=None):
    """Low-level driver over prepared arrays, all 1-d C-contiguous unless said: int64
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
    cdef Py_ssize_t n_idx = length_i64(caps, "caps", True)
    same_length(length_f64(divisors, "divisors"), "divisors", n_idx, "`caps`")
    same_length(length_f64(levels, "levels", True), "levels", n_idx, "`caps`")
    cdef bint narrow
    cdef Py_ssize_t n_ticks = length_ids(ids, "ids", &narrow)
    same_length(length_i64(new_prices, "new_prices"), "new_prices", n_ticks, "`ids`")
    cdef const int64_t* sp = NULL
    cdef Py_ssize_t n_samples = 0
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
    if src is None:
        src = np.arange(n_idx, dtype=np.int32)
    same_length(length(src, cnp.NPY_INT32, "src", "int32", False), "src", n_idx, "`caps`")
    cdef const int32_t* srcp = <const int32_t*>data(src)
    cdef Py_ssize_t e, n_twins = 0
    for e in range(n_idx):
        if <uint64_t>srcp[e] >= <uint64_t>n_idx:
            raise ValueError(f"`src[{e}]` must be in [0, {n_idx}), got {srcp[e]}")
    if carry is None:
        carry = np.zeros(n_idx)
    same_length(length_f64(carry, "carry"), "carry", n_idx, "`caps`")
    cdef const double* crp = <const double*>data(carry)
    cdef const int32_t* twp = srcp  # any valid pointer when there are no twins
    if twins is not None:
        n_twins = length(twins, cnp.NPY_INT32, "twins", "int32", False)
        twp = <const int32_t*>data(twins)
        for e in range(n_twins):
            if <uint64_t>twp[e] >= <uint64_t>n_idx:
                raise ValueError(f"`twins[{e}]` must be in [0, {n_idx}), got {twp[e]}")
    cdef int64_t* pp = <int64_t*>data(prices)
    cdef const int32_t* colp = <const int32_t*>data(col)
    cdef const int64_t* shp = <const int64_t*>data(sh)
    cdef int64_t* cp = <int64_t*>data(caps)
    cdef const double* dp = <const double*>data(divisors)
    cdef double* lp = <double*>data(levels)
    cdef const int64_t* npp = <const int64_t*>data(new_prices)
    cdef const void* ip = data(ids)
    cdef Py_ssize_t bad
    if narrow:
        with nogil:
            bad = apply_ticks_family[int32_t](pp, n_stocks, width, colp, shp, cp, dp, lp, n_idx, n_out,
                                              <const int32_t*>ip, npp, n_ticks, pmax, op, sp, n_samples,
                                              srcp, crp, twp, n_twins)
    else:
        with nogil:
            bad = apply_ticks_family[int64_t](pp, n_stocks, width, colp, shp, cp, dp, lp, n_idx, n_out,
                                              <const int64_t*>ip, npp, n_ticks, pmax, op, sp, n_samples,
                                              srcp, crp, twp, n_twins)
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
