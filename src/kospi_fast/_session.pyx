"""Validated tick application: KRX's rules for what a valid trade is, in the same pass.

Per trade: time not before the latest timestamp seen so far in the feed, inside the
index-relevant session window (else *ignored*, not an error: off-hours trades do not move the
index), id in range,
stock not halted, price > 0 and within the overflow bound, on the tick grid of the day's
table, inside the stock's daily price limits. A good trade is applied exactly as in
``_ticks.apply_ticks_i64``; the status of every trade is written to ``status``.

Fast path, per trade: ``open <= t``, ``latest <= t < closing call``, the id in range, one
unsigned compare of the price against a per-stock ``(lo, span)`` pair into which the caller
folds the daily limits, ``p > 0``, the overflow bound, halts and the grid bitmap's size, and a
bit lookup in that bitmap (bit ``p`` set when ``p`` is on the day's tick grid). All of it is
folded into one flag; a trade that fails it goes through the exact, branchy classification
that names the reason, which may still accept it (e.g. a closing-auction print at 15:30).
"""

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

from kospi_fast._buffers cimport data, length_f64, length_i64, length_ids, length_u8, same_length, shape_2d
from kospi_fast._ticks cimport cap_step, id_t

cnp.import_array()

# status codes (keep in step with session.STATUS)
cdef enum:
    OK = 0
    IGNORED_OFF_HOURS = 1
    BAD_ID = 2
    BAD_PRICE = 3
    OFF_GRID = 4
    OUTSIDE_LIMITS = 5
    HALTED = 6
    OUT_OF_ORDER = 7
    IN_CLOSING_CALL = 8


cdef Py_ssize_t apply_validated(
        int64_t* prices, const int64_t* shares, Py_ssize_t n_stocks,
        const int64_t* lower, const int64_t* upper, const uint8_t* halted,
        const int64_t* thresholds,  # 6 band thresholds where the tick becomes 5,10,50,100,500,1000
        const uint8_t* grid,  # bit p set: price p is on the day's tick grid
        const int64_t* fast,  # per stock (lo, span): the fast path takes lo <= p <= lo + span
        int64_t win_open, int64_t call_start, int64_t call_end, int64_t win_close,
        const int64_t* times, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
        int64_t pmax, int64_t* cap, int64_t* last_time, double divisor,
        double* levels, uint8_t* status, int64_t* counts, bint stop_at_bad) noexcept nogil:
    """Returns -1 when done (every trade has a status, ``counts[s]`` += trades with status s),
    or with ``stop_at_bad`` the index of the first rejected trade (trades before it applied;
    callers run on copies)."""
    cdef Py_ssize_t k
    cdef int64_t c = cap[0], p, t, last = last_time[0]
    cdef uint64_t i, j, n = <uint64_t>n_stocks, up
    cdef uint8_t st
    cdef bint good
    cdef int64_t n_slow = 0  # trades classified by the slow path (the good ones are counted as
    # the rest at the end: a counter bumped per good trade was spilled to the stack by the
    # compiler and made a store-to-load chain through memory, +5 cycles per trade)
    for k in range(n_ticks):
        t = times[k]
        i = <uint64_t>ids[k]
        p = new_prices[k]
        j = i if i < n else 0              # a safe row to read while the id is unchecked
        up = <uint64_t>p
        # one unsigned compare checks lo <= p <= lo + span (p - lo wraps when p < lo)
        good = ((t >= last) & (t >= win_open) & (t < call_start) & (i < n)
                & (<uint64_t>p - <uint64_t>fast[2 * j] <= <uint64_t>fast[2 * j + 1]))
        if good:
            good = (grid[up >> 3] >> (up & 7)) & 1
        if good:
            status[k] = OK
            c += cap_step(prices, shares, i, p)
            last = t
        else:
            st = _classify(t, last, i, n, p, pmax, halted, lower, upper, thresholds,
                           win_open, call_start, call_end, win_close)
            status[k] = st
            counts[st] += 1
            n_slow += 1
            if st == OK:
                c += cap_step(prices, shares, i, p)
            elif st != IGNORED_OFF_HOURS and stop_at_bad:
                cap[0] = c
                last_time[0] = last
                counts[OK] += (k + 1) - n_slow
                return k
            last = t if t > last else last
        if levels != NULL:
            levels[k] = <double>c / divisor
    cap[0] = c
    last_time[0] = last
    counts[OK] += n_ticks - n_slow
    return -1


cdef inline uint8_t _classify(int64_t t, int64_t last, uint64_t i, uint64_t n, int64_t p,
                              int64_t pmax, const uint8_t* halted, const int64_t* lower,
                              const int64_t* upper, const int64_t* th, int64_t win_open,
                              int64_t call_start, int64_t call_end, int64_t win_close) noexcept nogil:
    """The exact rules, in order; OK when the trade is good after all (e.g. closing auction)."""
    if t < last:
        return OUT_OF_ORDER
    if t < win_open or t > win_close:
        return IGNORED_OFF_HOURS
    if i >= n:
        return BAD_ID
    if p <= 0 or p > pmax:
        return BAD_PRICE
    if halted[i]:
        return HALTED
    if call_start <= t < call_end:
        return IN_CLOSING_CALL
    if (((p >= th[0]) and p % 5 != 0) or ((p >= th[1]) and p % 10 != 0)
            or ((p >= th[2]) and p % 50 != 0) or ((p >= th[3]) and p % 100 != 0)
            or ((p >= th[4]) and p % 500 != 0) or ((p >= th[5]) and p % 1000 != 0)):
        return OFF_GRID
    if p < lower[i] or p > upper[i]:
        return OUTSIDE_LIMITS
    return OK


def run_validated(prices, shares, lower, upper, halted, thresholds, grid, fast,
                  int64_t win_open, int64_t call_start, int64_t call_end, int64_t win_close,
                  times, ids, new_prices, int64_t pmax, int64_t cap, int64_t last_time,
                  double divisor, levels, status, counts, bint stop_at_bad):
    """Low-level driver over prepared arrays, all C-contiguous: int64 ``prices`` (writeable),
    ``shares``, ``lower``, ``upper`` and uint8 ``halted`` of length n_stocks; ``fast`` int64 of
    shape (n_stocks, 2); int64 ``thresholds`` (at least 6); uint8 ``grid``; int64 ``times``,
    int32/int64 ``ids``, int64 ``new_prices``, writeable uint8 ``status`` and float64 ``levels``
    (or None) of length n_ticks; writeable int64 ``counts`` of length 9. A wrong array is a
    TypeError or ValueError naming it, before anything is written. ``lower``/``upper`` must
    already fold in halts (lower = INT64_MAX for a halted stock), ``p > 0`` (lower >= 1) and
    ``pmax`` (upper <= pmax); ``grid`` is a uint8 bitmap of on-grid prices below
    ``8 * len(grid)``, and each ``fast`` row (lo, span) keeps lo + span inside it. Mutates
    ``prices``, ``levels``, ``status``, ``counts`` (one slot per status code).
    Returns ``(bad_index_or_-1, cap, last_time)``."""
    cdef Py_ssize_t n_stocks = length_i64(prices, "prices", True)
    same_length(length_i64(shares, "shares"), "shares", n_stocks, "`prices`")
    same_length(length_i64(lower, "lower"), "lower", n_stocks, "`prices`")
    same_length(length_i64(upper, "upper"), "upper", n_stocks, "`prices`")
    same_length(length_u8(halted, "halted"), "halted", n_stocks, "`prices`")
    cdef Py_ssize_t rows, cols
    shape_2d(fast, cnp.NPY_INT64, "fast", "int64", False, &rows, &cols)
    same_length(rows, "fast", n_stocks, "`prices`")
    if cols != 2:
        raise ValueError(f"`fast` must have 2 columns (lo, span), got {cols}")
    if length_i64(thresholds, "thresholds") < 6:
        raise ValueError(f"`thresholds` must have 6 entries, got {len(thresholds)}")
    length_u8(grid, "grid")
    cdef Py_ssize_t n_ticks = length_i64(times, "times")
    cdef bint narrow
    same_length(length_ids(ids, "ids", &narrow), "ids", n_ticks, "`times`")
    same_length(length_i64(new_prices, "new_prices"), "new_prices", n_ticks, "`times`")
    same_length(length_u8(status, "status", True), "status", n_ticks, "`times`")
    same_length(length_i64(counts, "counts", True), "counts", 9, "the status codes")
    cdef double* lp = NULL
    if levels is not None:
        same_length(length_f64(levels, "levels", True), "levels", n_ticks, "`times`")
        lp = <double*>data(levels)
    cdef int64_t c = cap, lt = last_time
    cdef Py_ssize_t bad
    cdef int64_t* pp = <int64_t*>data(prices)
    cdef const int64_t* sp = <const int64_t*>data(shares)
    cdef const int64_t* lo = <const int64_t*>data(lower)
    cdef const int64_t* hi = <const int64_t*>data(upper)
    cdef const uint8_t* hp = <const uint8_t*>data(halted)
    cdef const int64_t* th = <const int64_t*>data(thresholds)
    cdef const uint8_t* gp = <const uint8_t*>data(grid)
    cdef const int64_t* fp = <const int64_t*>data(fast)
    cdef const int64_t* tp = <const int64_t*>data(times)
    cdef const int64_t* npp = <const int64_t*>data(new_prices)
    cdef uint8_t* stp = <uint8_t*>data(status)
    cdef int64_t* cnt = <int64_t*>data(counts)
    cdef const void* ip = data(ids)
    if narrow:
        with nogil:
            bad = apply_validated[int32_t](pp, sp, n_stocks, lo, hi, hp, th, gp, fp, win_open,
                                           call_start, call_end, win_close, tp, <const int32_t*>ip,
                                           npp, n_ticks, pmax, &c, &lt, divisor, lp, stp, cnt, stop_at_bad)
    else:
        with nogil:
            bad = apply_validated[int64_t](pp, sp, n_stocks, lo, hi, hp, th, gp, fp, win_open,
                                           call_start, call_end, win_close, tp, <const int64_t*>ip,
                                           npp, n_ticks, pmax, &c, &lt, divisor, lp, stp, cnt, stop_at_bad)
    return bad, c, lt
