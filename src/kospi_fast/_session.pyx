"""The KRX rules kernel: what a valid trade is, checked per trade in one pass.

Per trade: time not before the latest timestamp seen so far in the feed, inside the
index-relevant session window (else *ignored*, not an error: off-hours trades do not move the
index), id in range, stock not halted, price > 0 and at most the caller's ceiling, on the tick
grid of the day's table, inside the stock's daily price limits. Every trade gets a status code
(``APPLIED``, ``IGNORED``, ... below; ``STATUS_NAMES[code]`` says it in words). The rules come
in as data: the limits and halts per stock, the day's tick table (band thresholds and the tick
size of each band, any number of bands), the grid bitmap and the session window.

Two kernels share the per-trade verdict (``_verdict``): ``apply_validated`` applies the good
trades as ``_ticks`` does (the tick step under the headroom bound, else the exact
``cap_step_checked``: a trade whose true cap would exceed int64 gets ``BAD_PRICE`` and touches
nothing), ``classify_trades`` only writes
the statuses (the cap check is then the applying book's), for books that apply the accepted trades through their own kernel. Drivers:
``run_validated`` (arrays in, arrays out), ``feed_engine`` (runs on an ``EngineCore``'s scratch
buffer and swaps it in, see ``_engine.pxd``) and ``classify``.

Fast path, per trade: ``open <= t``, ``latest <= t < closing call``, the id in range, one
unsigned compare of the price against a per-stock ``(lo, span)`` pair into which the caller
folds the daily limits, ``p > 0``, the price ceiling and halts, the price inside the grid
bitmap, and a bit lookup in that bitmap (bit ``p`` set when ``p`` is on the day's tick grid).
All of it is folded into one flag; a trade that fails it goes through the exact, branchy
classification that names the reason, which may still accept it (e.g. a closing-auction print
at 15:30).
"""

cimport numpy as cnp
from libc.stdint cimport INT64_MAX, int32_t, int64_t, uint8_t, uint16_t, uint64_t

from kospi_fast._buffers cimport data, length_f64, length_i64, length_ids, length_u8, same_length, shape_2d
from kospi_fast._engine cimport EngineCore
from kospi_fast._overflow cimport kf_cap_add
from kospi_fast._ticks cimport _Claim, apply_ticks_i64
from kospi_fast._ticks cimport cap_step, cap_step_checked, headroom_bound, id_t, share_total

import numpy as np

from kospi_fast import _parallel

cnp.import_array()


# Status codes: the one home (module-level ints for Python, an enum for C).
cpdef enum:
    APPLIED = 0
    IGNORED = 1          # off-hours: not an error, the trade does not move the index
    BAD_ID = 2
    BAD_PRICE = 3
    OFF_GRID = 4
    OUTSIDE_LIMITS = 5
    HALTED = 6
    OUT_OF_ORDER = 7
    IN_CLOSING_CALL = 8

cdef enum:
    N_STATUS = 9

#: What each status code means, indexed by the code.
STATUS_NAMES = (
    "applied",
    "ignored: off-hours trade (does not move the index)",
    "id out of range",
    "price <= 0, above the price ceiling, or the cap after it would exceed int64",
    "price off the KRX tick grid",
    "price outside the daily price limits",
    "stock halted",
    "timestamp before the previous trade's",
    "stamped inside the closing call auction (no trade executes before its result)",
)
assert len(STATUS_NAMES) == N_STATUS


# DayRules (the rules as data): _session.pxd


cdef inline uint8_t _classify(const DayRules* r, int64_t t, int64_t last, uint64_t i,
                              int64_t p) noexcept nogil:
    """The exact rules, in order; APPLIED when the trade is good after all (e.g. closing auction)."""
    if t < last:
        return OUT_OF_ORDER
    if t < r.win_open or t > r.win_close:
        return IGNORED
    if i >= r.n_stocks:
        return BAD_ID
    if p <= 0 or p > r.pmax:
        return BAD_PRICE
    if r.halted[i]:
        return HALTED
    if r.call_start <= t < r.call_end:
        return IN_CLOSING_CALL
    cdef Py_ssize_t b = 0  # the band of p: ticks[b] applies from thresholds[b - 1] on
    while b < r.n_bands - 1 and p >= r.thresholds[b]:
        b += 1
    if p % r.ticks[b] != 0:
        return OFF_GRID
    if p < r.lower[i] or p > r.upper[i]:
        return OUTSIDE_LIMITS
    return APPLIED


cdef inline uint8_t _verdict(const DayRules* r, int64_t t, int64_t last, uint64_t i, int64_t p,
                             int64_t* counts, int64_t* n_slow) noexcept nogil:
    """The status of one trade: the fast path, else the exact classification, counted in
    ``counts`` (a trade accepted by the fast path is not counted here: its count is derived at
    the end from ``n_slow``, since a counter bumped per good trade was spilled to the stack by
    the compiler and made a store-to-load chain through memory, +5 cycles per trade)."""
    cdef uint64_t j = i if i < r.n_stocks else 0  # a safe row to read while the id is unchecked
    cdef uint64_t up = <uint64_t>p
    # one unsigned compare checks lo <= p <= lo + span (p - lo wraps when p < lo)
    cdef bint good = ((t >= last) & (t >= r.win_open) & (t < r.call_start) & (i < r.n_stocks)
                      & (up - <uint64_t>r.fast[2 * j] <= <uint64_t>r.fast[2 * j + 1])
                      & (up < r.grid_bits))
    if good:
        good = (r.grid[up >> 3] >> (up & 7)) & 1
    if good:
        return APPLIED
    cdef uint8_t st = _classify(r, t, last, i, p)
    counts[st] += 1
    n_slow[0] += 1
    return st


cdef inline bint _limits_fit(const int64_t* prices, const int64_t* shares, const int64_t* upper,
                             Py_ssize_t n, int64_t cap) noexcept nogil:
    """Every applied trade is at most its stock's upper limit, so while Σ max(price, upper) ×
    shares fits in int64 no cap reachable in this batch can overflow (one pass over the stocks,
    overflow-checked; the running ``cap`` must be Σ prices × shares)."""
    cdef Py_ssize_t j
    cdef int64_t total = cap, up
    for j in range(n):
        up = upper[j]
        if up > prices[j] and kf_cap_add(total, up - prices[j], shares[j], &total):
            return False
    return True


cdef Py_ssize_t apply_validated(
        int64_t* prices, const int64_t* shares, const DayRules* rules,
        const int64_t* times, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
        int64_t* cap, int64_t* last_time, double divisor,
        double* levels, uint8_t* status, int64_t* counts, bint stop_at_bad,
        const int64_t* print_times, Py_ssize_t n_prints, double* print_levels) noexcept nogil:
    """Apply the good trades. Returns -1 when done (every trade has a status, ``counts[s]`` +=
    trades with status s), or with ``stop_at_bad`` the index of the first rejected trade
    (trades before it applied; callers run on copies).

    Prints (``n_prints`` ascending ``print_times``, may be 0): ``print_levels[j]`` gets the
    level after the last applied trade stamped at or before ``print_times[j]``, written when a
    trade stamped after it arrives (so only prints before the batch's latest time are written;
    later trades cannot be stamped before that time). One compare per trade.

    Overflow: when Σ max(price, upper limit) × shares fits in int64 (``_limits_fit``: always,
    for KRX data) no accepted trade can overflow and the loop is the unguarded one; else each
    accepted trade goes through the headroom bound and the exact checked step (``_ticks``)."""
    if n_ticks > 0 and _limits_fit(prices, shares, rules.upper, <Py_ssize_t>rules.n_stocks, cap[0]):
        return _validated_loop(prices, shares, rules, times, ids, new_prices, n_ticks, cap, last_time,
                               divisor, levels, status, counts, stop_at_bad, print_times, n_prints,
                               print_levels, <uint8_t>0)
    return _validated_loop(prices, shares, rules, times, ids, new_prices, n_ticks, cap, last_time,
                           divisor, levels, status, counts, stop_at_bad, print_times, n_prints,
                           print_levels, <uint16_t>0)


# The two specialisations of the validating loop (see _validated_loop).
ctypedef fused guard_t:
    uint8_t
    uint16_t


cdef Py_ssize_t _validated_loop(
        int64_t* prices, const int64_t* shares, const DayRules* rules,
        const int64_t* times, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
        int64_t* cap, int64_t* last_time, double divisor,
        double* levels, uint8_t* status, int64_t* counts, bint stop_at_bad,
        const int64_t* print_times, Py_ssize_t n_prints, double* print_levels,
        guard_t guard) noexcept nogil:
    """apply_validated's loop, specialised at compile time by the type of ``guard`` (its value
    is unused): uint8_t, unguarded; uint16_t, every accepted trade guarded."""
    cdef DayRules r = rules[0]  # a local copy: its fields stay in registers
    cdef Py_ssize_t k, pi = 0
    cdef int64_t c = cap[0], p, t, last = last_time[0], n_slow = 0
    cdef int64_t next_print = print_times[0] if n_prints > 0 else INT64_MAX
    cdef uint64_t i
    cdef uint8_t st
    cdef uint64_t total = 0  # Σ shares, taken once enough trades remain (as in _ticks)
    cdef int64_t lim = 0
    cdef bint known = False
    for k in range(n_ticks):
        t = times[k]
        if t > next_print:  # rare: prints before t are final, at the level before this trade
            while pi < n_prints and print_times[pi] < t:
                print_levels[pi] = <double>c / divisor
                pi += 1
            next_print = print_times[pi] if pi < n_prints else INT64_MAX
        i = <uint64_t>ids[k]
        p = new_prices[k]
        st = _verdict(&r, t, last, i, p, counts, &n_slow)
        status[k] = st
        if st == APPLIED:  # then t >= last and p > 0
            if guard_t is uint8_t or p <= lim:  # unguarded, or under the headroom bound: the plain step
                c += cap_step(prices, shares, i, p)
            elif cap_step_checked(&c, prices, shares, i, p):
                if not known and <uint64_t>(n_ticks - k) > r.n_stocks:
                    total = share_total(shares, <Py_ssize_t>r.n_stocks)
                    known = True
                if known:
                    lim = headroom_bound(c, total)
            else:  # the true cap after it would not fit in int64: refused, nothing touched
                status[k] = BAD_PRICE
                counts[BAD_PRICE] += 1
                n_slow += 1
                if stop_at_bad:
                    cap[0] = c
                    last_time[0] = last
                    counts[APPLIED] += (k + 1) - n_slow
                    return k
            last = t  # the verdict saw t >= last
        else:
            if st != IGNORED and stop_at_bad:
                cap[0] = c
                last_time[0] = last
                counts[APPLIED] += (k + 1) - n_slow
                return k
            last = t if t > last else last
        if levels != NULL:
            levels[k] = <double>c / divisor
    cap[0] = c
    last_time[0] = last
    counts[APPLIED] += n_ticks - n_slow
    return -1


cdef Py_ssize_t classify_trades(
        const DayRules* rules, const int64_t* times, const id_t* ids, const int64_t* new_prices,
        Py_ssize_t n_ticks, int64_t* last_time, uint8_t* status, int64_t* counts,
        bint stop_at_bad) noexcept nogil:
    """``apply_validated`` without applying: the same statuses, counts and return value."""
    cdef DayRules r = rules[0]
    cdef Py_ssize_t k
    cdef int64_t t, last = last_time[0], n_slow = 0
    cdef uint8_t st
    for k in range(n_ticks):
        t = times[k]
        st = _verdict(&r, t, last, <uint64_t>ids[k], new_prices[k], counts, &n_slow)
        status[k] = st
        if st != APPLIED and st != IGNORED and stop_at_bad:
            last_time[0] = last
            counts[APPLIED] += (k + 1) - n_slow
            return k
        last = t if t > last else last
    last_time[0] = last
    counts[APPLIED] += n_ticks - n_slow
    return -1


# ------------------------------------------------------------------------------- drivers
cdef int _day_rules(DayRules* r, Py_ssize_t n_stocks, str n_of, lower, upper, halted, thresholds,
                    ticks, grid, fast, int64_t win_open, int64_t call_start, int64_t call_end,
                    int64_t win_close, int64_t pmax) except -1:
    """Check the day's rule arrays (lengths against ``n_stocks``, the length of ``n_of``) and
    fill ``r``."""
    same_length(length_i64(lower, "lower"), "lower", n_stocks, n_of)
    same_length(length_i64(upper, "upper"), "upper", n_stocks, n_of)
    same_length(length_u8(halted, "halted"), "halted", n_stocks, n_of)
    cdef Py_ssize_t rows, cols
    shape_2d(fast, cnp.NPY_INT64, "fast", "int64", False, &rows, &cols)
    same_length(rows, "fast", n_stocks, n_of)
    if cols != 2:
        raise ValueError(f"`fast` must have 2 columns (lo, span), got {cols}")
    cdef Py_ssize_t n_th = length_i64(thresholds, "thresholds")
    same_length(length_i64(ticks, "ticks"), "ticks", n_th + 1, "`thresholds` + 1")
    cdef const int64_t* th = <const int64_t*>data(thresholds)
    cdef const int64_t* tk = <const int64_t*>data(ticks)
    cdef Py_ssize_t b
    for b in range(n_th + 1):  # a table of a few bands: checked every call
        if tk[b] <= 0:
            raise ValueError(f"`ticks[{b}]` must be > 0, got {tk[b]}")
        if 0 < b < n_th and th[b] < th[b - 1]:
            raise ValueError(f"`thresholds` must be ascending, got {th[b - 1]} then {th[b]} at {b}")
    r.n_stocks = <uint64_t>n_stocks
    r.lower = <const int64_t*>data(lower)
    r.upper = <const int64_t*>data(upper)
    r.halted = <const uint8_t*>data(halted)
    r.fast = <const int64_t*>data(fast)
    r.thresholds = th
    r.ticks = tk
    r.n_bands = n_th + 1
    r.grid = <const uint8_t*>data(grid)
    r.grid_bits = 8 * <uint64_t>length_u8(grid, "grid")
    r.win_open, r.call_start, r.call_end, r.win_close = win_open, call_start, call_end, win_close
    r.pmax = pmax
    return 0


cdef Py_ssize_t _tape(times, ids, prices, str prices_name, bint* narrow) except -1:
    """Check a batch of trades (times, ids, prices of one length); return its length."""
    cdef Py_ssize_t n_ticks = length_i64(times, "times")
    same_length(length_ids(ids, "ids", narrow), "ids", n_ticks, "`times`")
    same_length(length_i64(prices, prices_name), prices_name, n_ticks, "`times`")
    return n_ticks


cdef int _outputs(status, counts, Py_ssize_t n_ticks) except -1:
    same_length(length_u8(status, "status", True), "status", n_ticks, "`times`")
    same_length(length_i64(counts, "counts", True), "counts", N_STATUS, "STATUS_NAMES")
    return 0


cdef Py_ssize_t _apply(int64_t* prices, const int64_t* shares, const DayRules* r, times, ids,
                       bint narrow, new_prices, Py_ssize_t n_ticks, int64_t* cap,
                       int64_t* last_time, double divisor, double* levels, status, counts,
                       bint stop_at_bad, const int64_t* print_times=NULL, Py_ssize_t n_prints=0,
                       double* print_levels=NULL) noexcept:
    """``apply_validated`` on checked arrays, for the id width, with the GIL released."""
    cdef const int64_t* tp = <const int64_t*>data(times)
    cdef const void* ip = data(ids)
    cdef const int64_t* npp = <const int64_t*>data(new_prices)
    cdef uint8_t* stp = <uint8_t*>data(status)
    cdef int64_t* cnt = <int64_t*>data(counts)
    cdef Py_ssize_t bad
    with nogil:
        if narrow:
            bad = apply_validated[int32_t](prices, shares, r, tp, <const int32_t*>ip, npp, n_ticks,
                                           cap, last_time, divisor, levels, stp, cnt, stop_at_bad,
                                           print_times, n_prints, print_levels)
        else:
            bad = apply_validated[int64_t](prices, shares, r, tp, <const int64_t*>ip, npp, n_ticks,
                                           cap, last_time, divisor, levels, stp, cnt, stop_at_bad,
                                           print_times, n_prints, print_levels)
    return bad


def run_validated(prices, shares, lower, upper, halted, thresholds, ticks, grid, fast,
                  int64_t win_open, int64_t call_start, int64_t call_end, int64_t win_close,
                  times, ids, new_prices, int64_t pmax, int64_t cap, int64_t last_time,
                  double divisor, levels, status, counts, bint stop_at_bad):
    """Low-level driver over prepared arrays, all C-contiguous: int64 ``prices`` (writeable),
    ``shares``, ``lower``, ``upper`` and uint8 ``halted`` of length n_stocks; ``fast`` int64 of
    shape (n_stocks, 2); the day's tick table as int64 ``thresholds`` (ascending band edges)
    and ``ticks`` (the tick size of each band, one more entry, > 0); uint8 ``grid``; int64
    ``times``, int32/int64 ``ids``, int64 ``new_prices``, writeable uint8 ``status`` and
    float64 ``levels`` (or None) of length n_ticks; writeable int64 ``counts`` with a slot per
    status code. A wrong array is a TypeError or ValueError naming it, before anything is
    written. ``lower``/``upper`` must already fold in halts (lower = INT64_MAX for a halted
    stock), ``p > 0`` (lower >= 1) and ``pmax`` (upper <= pmax); ``grid`` is a uint8 bitmap of
    on-grid prices below ``8 * len(grid)`` (higher prices take the slow path). Mutates
    ``prices``, ``levels``, ``status``, ``counts`` (``+=``).
    Returns ``(bad_index_or_-1, cap, last_time)``."""
    cdef Py_ssize_t n_stocks = length_i64(prices, "prices", True)
    same_length(length_i64(shares, "shares"), "shares", n_stocks, "`prices`")
    cdef DayRules r
    _day_rules(&r, n_stocks, "`prices`", lower, upper, halted, thresholds, ticks, grid, fast,
               win_open, call_start, call_end, win_close, pmax)
    cdef bint narrow
    cdef Py_ssize_t n_ticks = _tape(times, ids, new_prices, "new_prices", &narrow)
    _outputs(status, counts, n_ticks)
    cdef double* lp = NULL
    if levels is not None:
        same_length(length_f64(levels, "levels", True), "levels", n_ticks, "`times`")
        lp = <double*>data(levels)
    cdef int64_t c = cap, lt = last_time
    bad = _apply(<int64_t*>data(prices), <const int64_t*>data(shares), &r, times, ids, narrow,
                 new_prices, n_ticks, &c, &lt, divisor, lp, status, counts, stop_at_bad)
    return bad, c, lt


def feed_engine(EngineCore core not None, times, ids, prices, lower, upper, halted, thresholds,
                ticks, grid, fast, int64_t win_open, int64_t call_start, int64_t call_end,
                int64_t win_close, int64_t last_time, bint stop_at_bad, print_times=None,
                print_levels=None, levels=None, int threads=1):
    """One validated batch into an engine: the rules kernel runs on the core's scratch copy of
    its prices, which is swapped in when the batch was not stopped.

    ``times``, ``ids``, ``prices`` are the trades (int64, int32/int64, int64, one length); the
    rule arrays are those of :func:`run_validated`, of the engine's length. Returns ``(bad,
    levels, status, counts, last_time)``: the level after each trade (float64), each trade's
    status code (uint8), the trades per code (int64, ``len(STATUS_NAMES)``), and the latest
    trade time seen. With ``stop_at_bad`` and a rejected trade, ``bad`` is its position and
    nothing is applied (the engine is unchanged, ``last_time`` is returned as given);
    otherwise ``bad`` is -1, the good trades are applied and the bad ones only reported in
    ``status``.

    ``print_times`` (ascending int64) and ``print_levels`` (writeable float64, same length),
    optional: the kernel samples the publication grid while it applies the batch —
    ``print_levels[j]`` is the level after the last applied trade stamped at or before
    ``print_times[j]``, written for the prints before the latest trade time seen (the others
    are left as they were: a later batch may still move them).

    ``levels`` (optional): a writeable float64 array of the batch's length to write the levels
    into (returned as the levels). ``threads``: 2 allows a ``stop_at_bad`` batch of at least
    ``FEED_SPLIT_MIN_TICKS`` trades to run on two threads (above), with the same results.
    """
    if core._scratch is None:
        raise RuntimeError("the engine core has no state yet (_core_set_state was not called)")
    cdef DayRules r
    _day_rules(&r, core._n, "the engine", lower, upper, halted, thresholds, ticks, grid, fast,
               win_open, call_start, call_end, win_close, INT64_MAX)
    cdef bint narrow
    cdef Py_ssize_t n_ticks = _tape(times, ids, prices, "prices", &narrow)
    if levels is None:
        levels = np.empty(n_ticks, dtype=np.float64)
    else:
        same_length(length_f64(levels, "levels", True), "levels", n_ticks, "`times`")
    status = np.empty(n_ticks, dtype=np.uint8)
    counts = np.zeros(N_STATUS, dtype=np.int64)
    cdef Py_ssize_t n_prints = 0
    cdef const int64_t* ptp = NULL
    cdef double* plp = NULL
    if (print_times is None) != (print_levels is None):
        raise ValueError("give both `print_times` and `print_levels`, or neither")
    if print_times is not None:
        n_prints = length_i64(print_times, "print_times")
        same_length(length_f64(print_levels, "print_levels", True), "print_levels", n_prints, "`print_times`")
        ptp = <const int64_t*>data(print_times)
        plp = <double*>data(print_levels)
    cdef int64_t* scratch
    cdef _CheckedBatch job
    if threads >= 2 and stop_at_bad and n_ticks >= FEED_SPLIT_MIN_TICKS:
        job = _CheckedBatch.__new__(_CheckedBatch)
        job._keep = (times, ids, prices, status, counts, levels, print_times, print_levels,
                     lower, upper, halted, thresholds, ticks, grid, fast)
        job.r = r
        job.times, job.ids, job.narrow = <const int64_t*>data(times), data(ids), narrow
        job.prices, job.n = <const int64_t*>data(prices), n_ticks
        job.status, job.counts = <uint8_t*>data(status), <int64_t*>data(counts)
        job.last_time, job.check_bad, job.replay_bad = last_time, -1, -1
        job.claim = _Claim()
        job.work, job.shares, job.cap, job.divisor = core._begin_batch(), core._sp, core._cap, core._divisor
        job.levels = <double*>data(levels)
        job.print_times, job.n_prints, job.print_levels = ptp, n_prints, plp
        _parallel.run_beside(job.run_checks, job.run_replay)
        if job.check_bad == -1 and job.replay_bad == -1:
            core._commit_batch(job.cap)
            return -1, levels, status, counts, job.last_time
        counts[:] = 0  # a refusal: the batch again on one thread, whose error is reported
    scratch = core._begin_batch()
    cdef int64_t c = core._cap, lt = last_time
    bad = _apply(scratch, core._sp, &r, times, ids, narrow, prices, n_ticks, &c, &lt,
                 core._divisor, <double*>data(levels), status, counts, stop_at_bad, ptp, n_prints, plp)
    if bad != -1:
        return bad, levels, status, counts, last_time
    core._commit_batch(c)
    return -1, levels, status, counts, lt


# ------------------------------------------------------------------ a "raise" batch on two threads
# Under policy "raise" a batch is applied all or nothing, on a scratch copy. With ``threads=2``
# the rules run on the worker thread (``classify_trades``) while this thread replays the batch
# optimistically on the scratch copy with the plain tick kernel — the trades inside the
# session window: under "raise" a batch that passes is in time order, so its ignored
# (off-hours) trades are a run before the window and a run after it — and samples the prints
# from the levels. The scratch copy is swapped in only when the rules passed every trade and
# the replay refused none (the exact overflow guard). Any refusal runs the batch again on one
# thread, whose error is the one reported: the split never decides an error, so errors are
# those of one thread by construction. When the worker starts late (the second core busy),
# this thread claims the checks and runs them itself. "reject" stays on one thread.

#: The smallest "raise" batch checked on the second core: the hand-over to the worker thread
#: (~30 µs) against the ~1.2 ns a free second core saves per trade breaks even near 25,000
#: trades (docs/methodology-notes.md, "Speed (issue 16)").
FEED_SPLIT_MIN_TICKS = 50_000


#: Trades per chunk of the optimistic replay: the prints are sampled from each chunk's levels
#: while they are still in cache (sampled after the whole batch, each print's read of a level
#: long written missed the cache: +2 ns per trade).
cdef Py_ssize_t _CHUNK = 32768


cdef void _prints_from_levels(const int64_t* times, const double* levels, Py_ssize_t k0, Py_ssize_t k1,
                              double level0, const int64_t* print_times, Py_ssize_t n_prints,
                              double* print_levels, Py_ssize_t* pi, int64_t* next_print) noexcept nogil:
    """The prints ``_validated_loop`` samples, from the levels after trades [k0, k1) (``level0``
    before the batch), continuing from the print ``pi[0]`` (``next_print[0]`` its time, or
    INT64_MAX): a trade stamped after a print not final yet makes the prints before it final,
    at the level before that trade."""
    cdef Py_ssize_t k, j = pi[0]
    cdef int64_t t, nxt = next_print[0]
    for k in range(k0, k1):
        t = times[k]
        if t > nxt:
            while j < n_prints and print_times[j] < t:
                print_levels[j] = levels[k - 1] if k > 0 else level0
                j += 1
            nxt = print_times[j] if j < n_prints else INT64_MAX
    pi[0] = j
    next_print[0] = nxt


cdef class _CheckedBatch:
    """One "raise" batch split on two threads (above): ``run_replay`` here, ``run_checks`` on
    the worker, both without the GIL. Then it passed when ``check_bad`` and ``replay_bad`` are
    both -1 (``cap``, ``levels``, the prints, ``status``, ``counts`` and ``last_time`` are then
    those of the one-thread kernel)."""
    cdef object _keep                 # the arrays the pointers point into
    cdef DayRules r
    cdef const int64_t* times
    cdef const void* ids
    cdef bint narrow
    cdef const int64_t* prices
    cdef Py_ssize_t n
    cdef uint8_t* status
    cdef int64_t* counts
    cdef readonly int64_t last_time
    cdef readonly Py_ssize_t check_bad, replay_bad
    cdef readonly _Claim claim
    cdef int64_t* work
    cdef const int64_t* shares
    cdef readonly int64_t cap
    cdef double divisor
    cdef double* levels
    cdef const int64_t* print_times
    cdef Py_ssize_t n_prints
    cdef double* print_levels

    def run_checks(self):
        with nogil:
            if self.claim.take(2):
                self._check()

    def run_replay(self):
        with nogil:
            self._replay()
            if self.claim.take(1):  # the worker has not started: the checks here too
                self._check()

    cdef void _check(self) noexcept nogil:
        if self.narrow:
            self.check_bad = classify_trades[int32_t](&self.r, self.times, <const int32_t*>self.ids, self.prices,
                                                      self.n, &self.last_time, self.status, self.counts, True)
        else:
            self.check_bad = classify_trades[int64_t](&self.r, self.times, <const int64_t*>self.ids, self.prices,
                                                      self.n, &self.last_time, self.status, self.counts, True)

    cdef void _replay(self) noexcept nogil:
        cdef Py_ssize_t a = 0, b = self.n, k, s, e, bad, pi = 0
        cdef int64_t next_print = self.print_times[0] if self.n_prints > 0 else INT64_MAX
        cdef double level0 = <double>self.cap / self.divisor, last
        while a < b and self.times[a] < self.r.win_open:
            a += 1
        while b > a and self.times[b - 1] > self.r.win_close:
            b -= 1
        for k in range(a):  # the ignored trades before the window: the level before the batch
            self.levels[k] = level0
        _prints_from_levels(self.times, self.levels, 0, a, level0, self.print_times, self.n_prints,
                            self.print_levels, &pi, &next_print)
        s = a
        while s < b:
            e = s + _CHUNK if b - s > _CHUNK else b
            if self.narrow:
                bad = apply_ticks_i64[int32_t](self.work, self.shares, <Py_ssize_t>self.r.n_stocks,
                                               <const int32_t*>self.ids + s, self.prices + s, e - s, INT64_MAX,
                                               &self.cap, self.divisor, self.levels + s)
            else:
                bad = apply_ticks_i64[int64_t](self.work, self.shares, <Py_ssize_t>self.r.n_stocks,
                                               <const int64_t*>self.ids + s, self.prices + s, e - s, INT64_MAX,
                                               &self.cap, self.divisor, self.levels + s)
            if bad != -1:
                self.replay_bad = s + bad
                return
            _prints_from_levels(self.times, self.levels, s, e, level0, self.print_times, self.n_prints,
                                self.print_levels, &pi, &next_print)
            s = e
        last = <double>self.cap / self.divisor
        for k in range(b, self.n):  # ... and after it: the level after the batch
            self.levels[k] = last
        _prints_from_levels(self.times, self.levels, b, self.n, level0, self.print_times, self.n_prints,
                            self.print_levels, &pi, &next_print)


def classify(times, ids, prices, lower, upper, halted, thresholds, ticks, grid, fast,
             int64_t win_open, int64_t call_start, int64_t call_end, int64_t win_close,
             int64_t pmax, Py_ssize_t n_stocks, int64_t last_time, status, counts,
             bint stop_at_bad):
    """The statuses :func:`run_validated` would give a batch, without applying anything: for
    books that apply the accepted trades through their own kernel. Same checks, same fast
    path, same arrays (the rule arrays of length ``n_stocks``); writes ``status`` (uint8, one
    per trade) and adds to ``counts`` (int64, ``len(STATUS_NAMES)``). Returns ``(bad,
    last_time)``: -1 or, with ``stop_at_bad``, the position of the first rejected trade; and the
    latest trade time seen before it (all trades when -1)."""
    if n_stocks < 0:
        raise ValueError(f"`n_stocks` must be >= 0, got {n_stocks}")
    cdef DayRules r
    _day_rules(&r, n_stocks, "`n_stocks`", lower, upper, halted, thresholds, ticks, grid, fast,
               win_open, call_start, call_end, win_close, pmax)
    cdef bint narrow
    cdef Py_ssize_t n_ticks = _tape(times, ids, prices, "prices", &narrow)
    _outputs(status, counts, n_ticks)
    cdef const int64_t* tp = <const int64_t*>data(times)
    cdef const void* ip = data(ids)
    cdef const int64_t* pp = <const int64_t*>data(prices)
    cdef uint8_t* stp = <uint8_t*>data(status)
    cdef int64_t* cnt = <int64_t*>data(counts)
    cdef int64_t lt = last_time
    cdef Py_ssize_t bad
    with nogil:
        if narrow:
            bad = classify_trades[int32_t](&r, tp, <const int32_t*>ip, pp, n_ticks, &lt, stp, cnt,
                                           stop_at_bad)
        else:
            bad = classify_trades[int64_t](&r, tp, <const int64_t*>ip, pp, n_ticks, &lt, stp, cnt,
                                           stop_at_bad)
    return bad, lt


# ------------------------------------------------------------------------- one trade at a time
from cpython.long cimport PyLong_AsLongLongAndOverflow

cdef int64_t _EARLIEST_NS = 6 * 3600 * 1_000_000_000  # no KRX trade is stamped before 06:00
cdef int64_t _DAY_NS = 86_400 * 1_000_000_000


cdef inline int64_t _small_int(object x, bint* overflow) except? -1:
    """A Python int as int64 (``overflow`` set when it does not fit); the caller has checked
    ``type(x) is int``. No PyLong is allocated and no Python comparison made."""
    cdef int ovf = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(x, &ovf)
    overflow[0] = ovf != 0
    return v


cdef class SingleTrade:
    """The validated single-trade path of a :class:`~kospi_fast.TradingDay`: the rules kernel's
    verdict (``_verdict``: the same fast path and exact classification as a batch) and, for an
    ``EngineCore`` book, the update itself, for one trade without any array.

    It owns the day's feed state shared with the batch path: the latest trade time
    (``last_time``), the counts per status code, and ``next_print`` — the first print of the
    publication grid that is not final yet. A trade stamped after ``next_print`` first calls
    ``on_due(t)`` (the day finalizes the prints before ``t`` at the levels before the trade and
    returns the new ``next_print``). The rules are installed by :meth:`set_rules` and re-read
    (``refresh()``) when the book changed (its ``_version``, length or price bound) or after a
    halt or resume (``stale``). A book that is not an ``EngineCore`` (a family, a journaled
    book) goes through ``fallback(time_ns, code_or_id, price)`` (a batch of one).
    """

    cdef DayRules r
    cdef tuple _keep                # the rule arrays ``r`` points into
    cdef EngineCore core            # None: no fast path
    cdef object book
    cdef object _refresh, _on_due, _fallback, _reject
    cdef dict _codes
    cdef public object version      # the book's ``_version`` the rules were built at
    cdef public bint stale
    cdef public bint raise_bad      # policy "raise": a rejected trade raises, nothing changes
    cdef public int64_t last_time
    cdef public int64_t next_print
    cdef int64_t _counts[N_STATUS]  # slow-path counts (as _verdict keeps them) + batches
    cdef int64_t _n_fast_ok         # trades accepted by the fast path

    def __cinit__(self):
        self.last_time = -1
        self.next_print = INT64_MAX
        self.stale = True
        cdef Py_ssize_t k
        for k in range(N_STATUS):
            self._counts[k] = 0
        self._n_fast_ok = 0

    def __init__(self, book, refresh, on_due, fallback, reject, bint raise_bad):
        self.book = book
        self.core = book if isinstance(book, EngineCore) else None
        self._codes = book.universe.code_index if self.core is not None else None
        self._refresh, self._on_due, self._fallback, self._reject = refresh, on_due, fallback, reject
        self.raise_bad = raise_bad

    def set_rules(self, version, lower, upper, halted, thresholds, ticks, grid, fast,
                  int64_t win_open, int64_t call_start, int64_t call_end, int64_t win_close,
                  int64_t pmax):
        """Install the day's rules (the arrays of :func:`run_validated`, of the book's length)."""
        cdef Py_ssize_t n = self.core._n if self.core is not None else length_i64(lower, "lower")
        _day_rules(&self.r, n, "the book", lower, upper, halted, thresholds, ticks, grid, fast,
                   win_open, call_start, call_end, win_close, pmax)
        self._keep = (lower, upper, halted, thresholds, ticks, grid, fast)
        self.version = version
        self.stale = False
        self._codes = self.book.universe.code_index if self.core is not None else None

    @property
    def counts(self):
        """Trades per status code so far (int64, ``len(STATUS_NAMES)``), batches included."""
        out = np.empty(N_STATUS, dtype=np.int64)
        cdef Py_ssize_t k
        for k in range(N_STATUS):
            out[k] = self._counts[k]
        out[APPLIED] += self._n_fast_ok
        return out

    def add_counts(self, counts):
        """Add a batch's counts (int64, ``len(STATUS_NAMES)``)."""
        cdef Py_ssize_t k
        for k in range(N_STATUS):
            self._counts[k] += <int64_t>counts[k]

    def on_trade(self, time_ns, code_or_id, price):
        """One trade: its status code (see ``STATUS_NAMES``); applied when ``APPLIED``.

        ``time_ns``: int, ns since midnight KST; ``code_or_id``: a str code or an int id (an
        int is always an id); ``price``: int won."""
        if self.core is None:
            return self._fallback(time_ns, code_or_id, price)
        cdef bint ovf = False
        cdef int64_t t, p, n_slow = 0
        cdef uint64_t i
        cdef object row
        # time: ns since midnight KST, inside the day (another encoding is a caller error)
        if type(time_ns) is int:
            t = _small_int(time_ns, &ovf)
        else:
            t = _time_scalar(time_ns)
        if ovf or t < _EARLIEST_NS or t >= _DAY_NS:
            _bad_clock(time_ns)
        # id: a str is a code (unknown: BAD_ID), an int an id (out of range: BAD_ID)
        if type(code_or_id) is str:
            row = self._codes.get(code_or_id)
            i = <uint64_t>(<Py_ssize_t>row) if row is not None else <uint64_t>-1
        elif type(code_or_id) is int:
            i = <uint64_t>_small_int(code_or_id, &ovf)
            if ovf:
                i = <uint64_t>-1
        else:
            i = <uint64_t>_id_scalar(code_or_id)
        # price: int won; one that does not fit int64 is a bad price
        if type(price) is int:
            p = _small_int(price, &ovf)
            if ovf:
                p = -1
        else:
            p = _price_scalar(price)
        if (self.stale or self.core._n != <Py_ssize_t>self.r.n_stocks
                or self.book._version != self.version):
            self._refresh()
        cdef uint8_t st = _verdict(&self.r, t, self.last_time, i, p, self._counts, &n_slow)
        cdef int64_t new_cap = 0
        # the exact overflow guard of the running cap (as the batch kernels'): a trade whose true
        # cap would not fit in int64 is refused as a bad price, nothing touched
        if st == APPLIED and kf_cap_add(self.core._cap, p - self.core._pp[i], self.core._sp[i], &new_cap):
            if n_slow != 0:
                self._counts[APPLIED] -= 1
            st = BAD_PRICE
            self._counts[BAD_PRICE] += 1
            n_slow = 1
        if n_slow == 0:
            self._n_fast_ok += 1
        elif st != APPLIED and st != IGNORED and self.raise_bad:
            self._counts[st] -= 1  # nothing of the trade is kept, not even its count
            self._reject(t, code_or_id, price, st)
        if t > self.next_print:  # rare: the prints before t are final, at the levels before it
            self.next_print = self._on_due(t)
        if st == APPLIED:  # after the due prints: they are at the levels before this trade
            self.core._pp[i] = p
            self.core._cap = new_cap
        if st == APPLIED or t > self.last_time:
            self.last_time = t
        return st


cdef int64_t _time_scalar(object x) except? -1:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"`time_ns` must be an int of ns since midnight KST, got {x!r}")
    v = int(x)
    if not -(2**63) <= v < 2**63:
        _bad_clock(x)
    return v


cdef int64_t _id_scalar(object x) except? -2:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"`code_or_id` must be a str code or an int id (an int is always an id), got {x!r}")
    v = int(x)
    return v if 0 <= v < 2**63 else -1


cdef int64_t _price_scalar(object x) except? -2:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"`price` must be an int number of won, got {x!r}")
    v = int(x)
    return v if -(2**63) <= v < 2**63 else -1


cdef int _bad_clock(object x) except -1:
    raise ValueError(
        f"`time_ns` = {x!r} is not a KRX trade time in ns since midnight KST (06:00 <= t < 24:00): "
        "it looks like another encoding (epoch seconds/ms/ns, or KRX HHMMSSfff integers)")
