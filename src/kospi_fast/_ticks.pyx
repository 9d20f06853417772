"""Tick application: one trade moves one price, the aggregate moves by (new − old) × shares.

The running cap is an exact int64, so after any number of trades it equals Σ price × shares
recomputed from scratch, bit for bit, and so does the level ``cap / divisor`` (the same IEEE
division of the same two numbers).
"""

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.string cimport memcpy
from cpython.pythread cimport (PyThread_acquire_lock, PyThread_allocate_lock, PyThread_free_lock,
                               PyThread_release_lock, WAIT_LOCK)

from kospi_fast._overflow cimport kf_cap_add, kf_slow_step
from kospi_fast._buffers cimport (data, is_c_array, is_id_array, length_f64, length_i64, length_ids,
                                  same_length)

from collections import namedtuple

import numpy as np

from kospi_fast import _parallel, _validation
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._rebase import rebase_divisor

cnp.import_array()

INT64_MAX_PY = _validation.INT64_MAX


cdef Py_ssize_t apply_ticks_i64(int64_t* prices, const int64_t* shares, Py_ssize_t n_stocks,
                                const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
                                int64_t pmax, int64_t* cap, double divisor,
                                double* levels) noexcept nogil:
    # Each trade is first tested against min(pmax, headroom bound) (see _ticks.pxd): the common
    # case is the plain unchecked step; a trade above it takes the exact checked step. The bound
    # needs Σ shares (a pass over the stocks), taken only for a batch of more trades than stocks
    # (so it costs O(1) per trade); a smaller batch checks every trade (a one-trade call from
    # one's own loop pays no O(n_stocks) pass).
    cdef Py_ssize_t k
    cdef int64_t c = cap[0], p, lim = 0, c2
    cdef uint64_t i, n = <uint64_t>n_stocks, total = 0
    if n_ticks > n_stocks:  # a batch: the bound pays; a few trades: each checked instead
        total = share_total(shares, n_stocks)
        lim = headroom_bound(c, total) if total else 0x7FFFFFFFFFFFFFFF
        if lim > pmax:
            lim = pmax
    if levels == NULL:
        for k in range(n_ticks):
            i = <uint64_t>ids[k]
            p = new_prices[k]
            if trade_ok(i, n, p, lim):
                c += cap_step(prices, shares, i, p)
            else:
                c2 = kf_slow_step(c, prices, shares, i, n, p, pmax)
                if c2 < 0:
                    cap[0] = c
                    return k
                c = c2
                if total:
                    lim = headroom_bound(c, total)
                    if lim > pmax:
                        lim = pmax
    else:  # the same loop, writing the level after each trade (a loop of its own: ~10% faster)
        for k in range(n_ticks):
            i = <uint64_t>ids[k]
            p = new_prices[k]
            if trade_ok(i, n, p, lim):
                c += cap_step(prices, shares, i, p)
            else:
                c2 = kf_slow_step(c, prices, shares, i, n, p, pmax)
                if c2 < 0:
                    cap[0] = c
                    return k
                c = c2
                if total:
                    lim = headroom_bound(c, total)
                    if lim > pmax:
                        lim = pmax
            levels[k] = <double>c / divisor
    cap[0] = c
    return -1


cdef bint band_fits(const int64_t* prices, const int64_t* stock, Py_ssize_t n_stocks) noexcept nogil:
    # Σ max(price now, top of band) × shares fits in int64: then no sequence of in-band trades
    # can take the cap beyond it (each price stays at its price now or moves inside its band),
    # and the batch needs no overflow test per trade. False when a band is empty.
    cdef int64_t total = 0, top
    cdef Py_ssize_t j
    for j in range(n_stocks):
        if stock[3 * j] == <int64_t>0x8000000000000000:  # an empty band's record
            return False
        top = stock[3 * j] + stock[3 * j + 1]
        if prices[j] > top:
            top = prices[j]
        if kf_cap_add(total, top, stock[3 * j + 2], &total):
            return False
    return True


cdef Py_ssize_t apply_ticks_band(int64_t* prices, const int64_t* stock, Py_ssize_t n_stocks,
                                 const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
                                 int64_t* cap, double divisor, double* levels) noexcept nogil:
    # The contract: _ticks.pxd. A batch of more trades than stocks whose bands cannot overflow
    # the cap (``band_fits``, O(n_stocks) once) tests each trade's id and band only (the band
    # test is one unsigned compare and lo >= 1 makes p > 0); otherwise every trade also takes
    # the exact checked step. One record per stock holds its band and shares: the loop needs a
    # base register less than with three arrays, and does not spill.
    cdef Py_ssize_t k
    cdef int64_t c = cap[0], p, c2
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef const int64_t* rec
    if n_ticks > n_stocks and band_fits(prices, stock, n_stocks):
        for k in range(n_ticks):
            i = <uint64_t>ids[k]
            p = new_prices[k]
            rec = stock + 3 * i
            if i < n and <uint64_t>p - <uint64_t>rec[0] <= <uint64_t>rec[1]:
                c += move_price(prices, i, p) * rec[2]
            else:
                cap[0] = c
                return k
            levels[k] = <double>c / divisor
    else:
        for k in range(n_ticks):
            i = <uint64_t>ids[k]
            p = new_prices[k]
            rec = stock + 3 * i
            if i >= n or <uint64_t>p - <uint64_t>rec[0] > <uint64_t>rec[1] or p <= 0 \
                    or kf_cap_add(c, p - prices[i], rec[2], &c2):
                cap[0] = c
                return k
            prices[i] = p
            c = c2
            levels[k] = <double>c / divisor
    cap[0] = c
    return -1


cdef Py_ssize_t apply_ticks_f64(double* prices, const double* shares, Py_ssize_t n_stocks,
                                const id_t* ids, const double* new_prices, Py_ssize_t n_ticks,
                                double* cap, double* comp, double divisor,
                                double* levels) noexcept nogil:
    cdef Py_ssize_t k
    cdef double c = cap[0], e = comp[0], p
    cdef uint64_t i, n = <uint64_t>n_stocks
    for k in range(n_ticks):
        i = <uint64_t>ids[k]
        p = new_prices[k]
        if not trade_ok_f64(i, n, p):
            cap[0] = c
            comp[0] = e
            return k
        step_f64(&c, &e, prices, shares, i, p)
        if levels != NULL:
            levels[k] = (c + e) / divisor
    cap[0] = c
    comp[0] = e
    return -1


def _replay_f64(shares, prices, double d, ids, new_prices, bint return_state, out=None):
    """replay's float64 path (exact=False): the arrays as float64, the cap compensated."""
    sh = _validation.float64_array(shares, "shares")
    pr = _validation.float64_array(prices, "prices")
    _validation.check_same_length(sh, "shares", pr, "prices")
    _validation.check_non_negative(sh, "shares")
    _validation.check_positive(pr, "prices")
    cdef Py_ssize_t n_stocks = sh.shape[0]
    ids = _canonical_ids(ids, n_stocks)
    npx = _validation.float64_array(new_prices, "new_prices")  # finite numbers; > 0 in the kernel
    if cnp.PyArray_DIM(<cnp.ndarray>ids, 0) != npx.shape[0]:
        _validation.check_same_length(ids, "ids", npx, "new_prices")
    levels = _validation.out_array(out, (npx.shape[0],), (sh, pr, ids, npx))
    if levels is None:
        levels = np.empty(npx.shape[0], dtype=np.float64)
    work = pr.copy()
    cdef double c = aggregate_cap(work, sh) if n_stocks else 0.0, e = 0.0
    cdef bint narrow
    cdef Py_ssize_t m = length_ids(ids, "ids", &narrow), bad
    cdef double* wp = <double*>data(work)
    cdef const double* sp = <const double*>data(sh)
    cdef const void* ip = data(ids)
    cdef const double* xp = <const double*>data(npx)
    cdef double* lp = <double*>data(levels)
    with nogil:
        if narrow:
            bad = apply_ticks_f64[int32_t](wp, sp, n_stocks, <const int32_t*>ip, xp, m, &c, &e, d, lp)
        else:
            bad = apply_ticks_f64[int64_t](wp, sp, n_stocks, <const int64_t*>ip, xp, m, &c, &e, d, lp)
    if bad != -1:
        i = int(ids[bad])
        if i < 0 or i >= n_stocks:
            raise ValueError(f"`ids[{bad}]` is out of range: ids must be in [0, {n_stocks}), got {i}")
        raise ValueError(f"`new_prices[{bad}]` must be a finite number > 0, got {float(npx[bad])!r}")
    return ReplayState(levels, work, sh, c + e, d) if return_state else levels


cdef object _canonical_ids(object ids, Py_ssize_t n_stocks):
    """ids as int64 or int32 C-contiguous array (zero-copy when already so), else converted;
    the kernel range-checks every id in the same pass as its price (first bad trade wins)."""
    if is_id_array(ids):
        return ids
    return _validation.id_array(ids, "ids", n_stocks, check_range=False)


cdef object _canonical_prices(object new_prices, str name):
    if is_c_array(new_prices, cnp.NPY_INT64, 1, False):
        return new_prices
    return _validation.int64_array(new_prices, name)


cdef Py_ssize_t run_ticks(int64_t* prices, const int64_t* shares, Py_ssize_t n_stocks,
                          const void* ids, bint narrow_ids, const int64_t* new_prices,
                          Py_ssize_t n_ticks, int64_t pmax, int64_t* cap, double divisor,
                          double* levels) noexcept nogil:
    """The kernel's specialisation for the id width (int32 when ``narrow_ids``, else int64)."""
    if narrow_ids:
        return apply_ticks_i64[int32_t](prices, shares, n_stocks, <const int32_t*>ids, new_prices,
                                        n_ticks, pmax, cap, divisor, levels)
    return apply_ticks_i64[int64_t](prices, shares, n_stocks, <const int64_t*>ids, new_prices,
                                    n_ticks, pmax, cap, divisor, levels)


def raise_bad_tick(Py_ssize_t k, ids, new_prices, Py_ssize_t n_stocks, int64_t pmax,
                   str ids_name="ids", str prices_name="new_prices", *, cap=None, prices=None,
                   shares=None, str index=None):
    """Raise the error for trade ``k``, which the kernel rejected. With the state the kernel
    stopped in (``cap``, ``prices``, ``shares``: before trade ``k``) an overflow names the
    aggregate the trade would have made; ``index`` names the index whose cap it was."""
    i = int(ids[k])
    p = int(new_prices[k])
    if i < 0 or i >= n_stocks:
        raise ValueError(f"`{ids_name}[{k}]` is out of range: ids must be in [0, {n_stocks}), got {i}")
    if p <= 0:
        raise ValueError(f"`{prices_name}[{k}]` must be > 0, got {p}")
    if p > pmax:
        raise ValueError(f"`{prices_name}[{k}]` must be <= {pmax}, got {p}")
    raise overflow_error(f"{prices_name}[{k}]", p, cap, None if prices is None else int(prices[i]),
                         None if shares is None else int(shares[i]), index, k)


def overflow_error(str name, p, cap=None, old=None, shares=None, str index=None, position=None):
    """The ValueError (``_validation.overflow_refused``) for a price whose trade would take an aggregate
    cap beyond int64: names the argument, the price and, when known, the true cap it would have
    made; ``position`` is the trade's index in its batch."""
    where = "" if index is None else f" of index {index!r}"
    if cap is not None and old is not None and shares is not None:
        after = int(cap) + (int(p) - int(old)) * int(shares)
        return _validation.overflow_refused(
            f"`{name}` = {p} would overflow the int64 aggregate cap{where}: Σ price × shares "
            f"after it would be {after}, beyond the maximum {INT64_MAX_PY}", position)
    return _validation.overflow_refused(
        f"`{name}` = {p} would overflow the int64 aggregate cap{where} (maximum {INT64_MAX_PY})", position)


def prepare_ticks(ids, new_prices, Py_ssize_t n_stocks, str prices_name="new_prices"):
    """Return (ids, new_prices) as kernel-ready arrays; lengths checked. Values are checked by
    the kernel itself, in the same pass that applies them. ``prices_name`` is the caller's name
    for the price argument, used in error messages."""
    ids = _canonical_ids(ids, n_stocks)
    new_prices = _canonical_prices(new_prices, prices_name)
    if cnp.PyArray_DIM(<cnp.ndarray>ids, 0) != cnp.PyArray_DIM(<cnp.ndarray>new_prices, 0):
        _validation.check_same_length(ids, "ids", new_prices, prices_name)
    return ids, new_prices


def apply_ticks_inplace(prices, shares, ids, new_prices, int64_t pmax, int64_t cap,
                        double divisor, levels):
    """Low-level: run the kernel on already-prepared arrays, mutating ``prices``.

    ``prices`` (writeable) and ``shares`` are int64 arrays of one length, ``ids`` (int32 or
    int64) and ``new_prices`` (int64) of another, ``levels`` a writeable float64 array of the
    trades' length, or None; all 1-d and C-contiguous, else TypeError/ValueError naming the
    argument before anything is written. Returns ``(bad_index, cap)``; ``bad_index`` is -1 when
    every trade was applied.
    """
    cdef Py_ssize_t n_stocks = length_i64(prices, "prices", True)
    same_length(length_i64(shares, "shares"), "shares", n_stocks, "`prices`")
    cdef bint narrow
    cdef Py_ssize_t n_ticks = length_ids(ids, "ids", &narrow)
    same_length(length_i64(new_prices, "new_prices"), "new_prices", n_ticks, "`ids`")
    cdef double* lp = NULL
    if levels is not None:
        same_length(length_f64(levels, "levels", True), "levels", n_ticks, "`ids`")
        lp = <double*>data(levels)
    cdef int64_t* pp = <int64_t*>data(prices)
    cdef const int64_t* sp = <const int64_t*>data(shares)
    cdef const void* ip = data(ids)
    cdef const int64_t* npp = <const int64_t*>data(new_prices)
    cdef int64_t c = cap
    cdef Py_ssize_t bad
    with nogil:
        bad = run_ticks(pp, sp, n_stocks, ip, narrow, npp, n_ticks, pmax, &c, divisor, lp)
    return bad, c


# ------------------------------------------------------------------ the split batch (threads=2)
# A batch of m trades on two threads, bit-identical to one: thread 0 replays [0, x) from the
# start state; thread 1 finds the state at x without any arithmetic — each stock's last price
# before x — takes the exact cap there (Σ price × shares, overflow-checked), then replays
# [x, m). The caps are exact int64 sums, so every level is the same IEEE division of the same
# two numbers as on one thread. Where x is: thread 1 first scans back from the middle for at
# most SPLIT_PROBE of the batch; when every stock trades there (most batches of a day) the state
# at the middle is known and x = m / 2. Else (a stock halted, or not yet traded) x = SPLIT_AT
# of the batch, past the middle since thread 1 then stores the price of every trade before x
# (each stock ends at its last one). Thread 0 replays to the middle and then reads x. The part
# after the middle is claimed (``_Claim``) by the first thread to get to it: when the worker
# starts late (the second core busy), thread 0 goes on from its own state and the batch costs
# what one thread costs. Measured: docs/methodology-notes.md, "Speed (issue 16)".

#: Where a split batch is cut when the probe did not see every stock (the fraction of its
#: trades thread 0 replays); at least the middle.
SPLIT_AT = 0.6
#: How far back from the middle thread 1 looks for every stock's last price (a fraction of the
#: batch, at least 2 trades per stock).
SPLIT_PROBE = 0.0625
#: The smallest batch split on two threads: the hand-over to the worker thread (~30 µs) against
#: the ~0.5 ns a free second core saves per trade breaks even near 60,000 trades; 200,000 leaves
#: a margin for a shared machine.
SPLIT_MIN_TICKS = 200_000
#: ... and a batch must also have this many trades per stock (thread 1 copies the prices and
#: recomputes the cap: O(n_stocks)).
SPLIT_MIN_TICKS_PER_STOCK = 16


cdef class _Claim:
    """Who does a shared piece of work: the first ``take(who)`` wins (True), later ones lose.
    A PyThread lock, usable without the GIL."""

    def __cinit__(self):
        self._lock = PyThread_allocate_lock()
        if self._lock == NULL:
            raise MemoryError("could not allocate a lock")
        self.owner = 0

    def __dealloc__(self):
        if self._lock != NULL:
            PyThread_free_lock(self._lock)

    cdef bint take(self, int who) noexcept nogil:
        cdef bint won
        PyThread_acquire_lock(self._lock, WAIT_LOCK)
        won = self.owner == 0
        if won:
            self.owner = who
        PyThread_release_lock(self._lock)
        return won


cdef bint probe_state(int64_t* prices, Py_ssize_t n_stocks, const id_t* ids, const int64_t* new_prices,
                      Py_ssize_t x, Py_ssize_t window, uint8_t* seen) noexcept nogil:
    # Scanning back from trade x - 1 over at most ``window`` trades, each stock's last price
    # before x into ``prices``, until every stock is seen (``seen``: one zeroed byte per stock;
    # ids out of range are skipped: thread 0 refuses them). True when every stock was seen:
    # ``prices`` is then the state before trade x.
    cdef Py_ssize_t k = x, stop = x - window if x > window else 0, left = n_stocks
    cdef uint64_t i, n = <uint64_t>n_stocks
    while k > stop and left > 0:
        k -= 1
        i = <uint64_t>ids[k]
        if i < n and not seen[i]:
            seen[i] = 1
            prices[i] = new_prices[k]
            left -= 1
    return left == 0


cdef void scan_state(int64_t* prices, Py_ssize_t n_stocks, const id_t* ids, const int64_t* new_prices,
                     Py_ssize_t x) noexcept nogil:
    # ``prices`` (the state before trade 0, or a state some stocks of which already hold a later
    # price of [0, x)) becomes the state before trade x: each trade of [0, x) stores its price,
    # so each stock ends at its last one (no arithmetic, no branch: an id out of range stores
    # into a dump slot; thread 0 refuses it).
    cdef Py_ssize_t k
    cdef uint64_t i, n = <uint64_t>n_stocks
    cdef int64_t dump = 0
    cdef int64_t* slot
    for k in range(x):
        i = <uint64_t>ids[k]
        slot = &prices[i] if i < n else &dump
        slot[0] = new_prices[k]


cdef bint state_cap(const int64_t* prices, const int64_t* shares, Py_ssize_t n_stocks,
                    int64_t* cap) noexcept nogil:
    # ``cap`` = Σ prices × shares; False when that state is not a valid one (a price <= 0, or
    # the cap beyond int64: then thread 0 refuses a trade before x, whose error wins).
    cdef Py_ssize_t j
    cdef int64_t c = 0
    for j in range(n_stocks):
        if prices[j] <= 0 or kf_cap_add(c, prices[j], shares[j], &c):
            return False
    cap[0] = c
    return True


cdef enum:
    HEAD = 1
    TAIL = 2


cdef class _Split:
    """One split batch (see above). ``run_head`` on this thread, ``run_tail`` on the worker,
    both without the GIL. Then ``claim.owner`` says who replayed after the middle ``x0``;
    ``tail_x`` is the cut thread 1 chose; ``head_bad`` is -1 or the position of the first trade
    thread 0 refused (its prices and ``head_cap`` the state before it), ``tail_bad`` likewise
    for thread 1, or -2 when the state it found was not a valid one (thread 0 then refused a
    trade before the cut)."""
    cdef object _keep                 # the arrays the pointers point into
    cdef int64_t* head_prices
    cdef int64_t* tail_prices
    cdef const int64_t* shares
    cdef Py_ssize_t n_stocks, x0, x1, window, m
    cdef const void* ids
    cdef bint narrow
    cdef const int64_t* new_prices
    cdef double divisor
    cdef double* levels
    cdef uint8_t* seen
    cdef readonly _Claim claim
    cdef readonly Py_ssize_t head_bad, tail_bad, tail_x
    cdef readonly int64_t head_cap, tail_cap, cap_at_x

    def run_head(self):
        with nogil:
            self.head_bad = self._replay(self.head_prices, &self.head_cap, 0, self.x0)
            if self.claim.take(HEAD):  # the worker has not started: go on alone
                if self.head_bad == -1:
                    self.head_bad = self._replay(self.head_prices, &self.head_cap, self.x0, self.m)
            elif self.head_bad == -1 and self.tail_x > self.x0:  # thread 1 starts at tail_x
                self.head_bad = self._replay(self.head_prices, &self.head_cap, self.x0, self.tail_x)

    def run_tail(self):
        with nogil:
            self._tail()

    cdef void _tail(self) noexcept nogil:
        cdef bint seen_all
        if True:
            if self.narrow:
                seen_all = probe_state[int32_t](self.tail_prices, self.n_stocks, <const int32_t*>self.ids,
                                                self.new_prices, self.x0, self.window, self.seen)
            else:
                seen_all = probe_state[int64_t](self.tail_prices, self.n_stocks, <const int64_t*>self.ids,
                                                self.new_prices, self.x0, self.window, self.seen)
            self.tail_x = self.x0 if seen_all else self.x1
            if not self.claim.take(TAIL):
                return
            if not seen_all:  # every stock the probe set trades again before x1: overwritten
                if self.narrow:
                    scan_state[int32_t](self.tail_prices, self.n_stocks, <const int32_t*>self.ids,
                                        self.new_prices, self.x1)
                else:
                    scan_state[int64_t](self.tail_prices, self.n_stocks, <const int64_t*>self.ids,
                                        self.new_prices, self.x1)
            if state_cap(self.tail_prices, self.shares, self.n_stocks, &self.tail_cap):
                self.cap_at_x = self.tail_cap
                self.tail_bad = self._replay(self.tail_prices, &self.tail_cap, self.tail_x, self.m)
            else:
                self.tail_bad = -2

    cdef Py_ssize_t _replay(self, int64_t* prices, int64_t* cap, Py_ssize_t start,
                            Py_ssize_t end) noexcept nogil:
        cdef const void* ip = <const void*>(<const char*>self.ids + start * (4 if self.narrow else 8))
        cdef Py_ssize_t bad = run_ticks(prices, self.shares, self.n_stocks, ip, self.narrow,
                                        self.new_prices + start, end - start, INT64_MAX_C, cap,
                                        self.divisor, self.levels + start)
        return bad if bad == -1 else start + bad


cdef int64_t INT64_MAX_C = 0x7FFFFFFFFFFFFFFF


cdef bint split_pays(Py_ssize_t n_ticks, Py_ssize_t n_stocks, int threads):
    """Whether a batch runs split on two threads (``threads`` allowed, and big enough)."""
    return (threads >= 2 and n_ticks >= SPLIT_MIN_TICKS
            and n_ticks >= SPLIT_MIN_TICKS_PER_STOCK * n_stocks)


cdef tuple _apply_split(prices, shares, ids, new_prices, int64_t cap, double divisor, levels):
    """:func:`apply_ticks_inplace` (no price ceiling; ``levels`` required) on two threads,
    bit-identical: the same return value, and ``prices`` (mutated) left in the same state —
    after the last trade, or before the first refused one (thread 0's refusal wins: it is the
    earlier). The arrays as there; a batch of fewer than 2 trades runs on one thread."""
    cdef Py_ssize_t n_stocks = length_i64(prices, "prices", True)
    same_length(length_i64(shares, "shares"), "shares", n_stocks, "`prices`")
    cdef bint narrow
    cdef Py_ssize_t n_ticks = length_ids(ids, "ids", &narrow)
    same_length(length_i64(new_prices, "new_prices"), "new_prices", n_ticks, "`ids`")
    same_length(length_f64(levels, "levels", True), "levels", n_ticks, "`ids`")
    cdef Py_ssize_t x0 = n_ticks // 2
    if x0 < 1:
        return apply_ticks_inplace(prices, shares, ids, new_prices, INT64_MAX_C, cap, divisor, levels)
    cdef _Split job = _Split.__new__(_Split)
    later = prices.copy()
    seen = np.zeros(n_stocks, dtype=np.uint8)
    job._keep = (prices, later, shares, ids, new_prices, levels, seen)
    job.head_prices, job.tail_prices = <int64_t*>data(prices), <int64_t*>data(later)
    job.shares = <const int64_t*>data(shares)
    job.n_stocks, job.m = n_stocks, n_ticks
    job.x0, job.x1 = x0, min(max(int(n_ticks * SPLIT_AT), x0), n_ticks - 1)
    job.window = max(int(n_ticks * SPLIT_PROBE), 2 * n_stocks)
    job.ids, job.narrow = data(ids), narrow
    job.new_prices = <const int64_t*>data(new_prices)
    job.divisor, job.levels = divisor, <double*>data(levels)
    job.seen = <uint8_t*>data(seen)
    job.claim = _Claim()
    job.head_cap, job.head_bad, job.tail_bad, job.tail_x = cap, -1, -1, x0
    _parallel.run_beside(job.run_tail, job.run_head)
    if job.head_bad != -1 or job.claim.owner == HEAD:
        return job.head_bad, job.head_cap
    # thread 0 applied [0, tail_x) without a refusal: the state thread 1 found is that state
    # (the same prices, the same exact cap), and thread 1 went on from it
    assert job.tail_bad != -2 and job.cap_at_x == job.head_cap, "split batch: the scanned state disagrees"
    prices[:] = later
    return job.tail_bad, job.tail_cap


class ReplayState(namedtuple("ReplayState", "levels prices shares cap divisor")):
    """What ``replay(..., return_state=True)`` returns: the ``levels``, and the state after the
    last trade to continue from: ``prices`` (int64 copy), ``shares`` (int64 copy, after every
    rebalance), the exact ``cap`` (int) and the ``divisor`` (float, after every rebalance)."""

    __slots__ = ()

    def __repr__(self):
        n = self.levels.shape[0]
        last = f", last {float(self.levels[-1]):,.4f}" if n else ""
        cap = f"{self.cap:,}" if isinstance(self.cap, int) else f"{float(self.cap):.6g}"
        return (f"ReplayState({n:,} levels{last}; {self.prices.shape[0]:,} stocks, cap {cap}, "
                f"divisor {float(self.divisor):.6g})")


def replay(shares, prices, divisor, ids, new_prices, *, rebalances=None, bint return_state=False,
           bint exact=True, out=None, threads=1):
    """Index level after each trade of a tick stream.

    ``level[k] = Σ_i price_i × shares_i / divisor``, with each ``price_i`` the latest at or
    before trade ``k`` (the starting ``prices`` for stocks not yet traded). Computed
    incrementally on an exact int64 running cap; no input is mutated. A trade is refused only
    when the true cap after it would exceed int64 (the exact guard; no price bound).

    Parameters
    ----------
    shares : array_like of int64, shape (n_stocks,)
        Index shares (listed shares for KOSPI, float-adjusted shares, 1 for a price-weighted
        index), >= 0.
    prices : array_like of int64, shape (n_stocks,)
        Starting prices in integer price units (won for KRX, cents, ...), > 0.
    divisor : float
        ``base_cap / base_value``, > 0.
    ids : array_like of int, shape (n_ticks,)
        Stock id (row in ``prices``) of each trade, in ``[0, n_stocks)``. int32 and int64 are
        used without a copy.
    new_prices : array_like of int64, shape (n_ticks,)
        Trade prices in the same units, > 0.
    rebalances : sequence of (position, ids, new_shares), optional
        Share changes inside the stream (quarterly reviews, float updates, members in and out
        with 0 shares): before trade ``position`` (ascending, in ``[0, n_ticks]``; n_ticks = after
        the last trade) the stocks ``ids`` get ``new_shares`` and the divisor is rebased so the
        level does not move, ``divisor × cap_after / cap_before`` at the prices of that moment,
        rounded once (:func:`rebase_divisor`).
    return_state : bool
        Return a :class:`ReplayState` (levels, final prices, shares, exact cap and divisor), to
        continue from, instead of the levels alone.
    exact : bool
        True (default): the exact int64 path above. False: the float64 path, for prices and
        shares that are not whole numbers (crypto, FX): any finite prices > 0 and shares >= 0,
        the running cap kept with Neumaier compensated addition, so it does not drift with the
        number of trades; each trade's own term ``(new - old) × shares`` is rounded once.
        Measured against the exact path on integer data (docs/methodology-notes.md, "Float
        path"), the relative error of a level stays within a few units of 1e-16. No
        ``rebalances`` on this path; the state's ``cap`` is a float.
    out : ndarray of float64, shape (n_ticks,), optional
        Write the levels here (C-contiguous, writeable, sharing no memory with the inputs) and
        return it (or it is the state's ``levels``): a reused buffer spares a large batch the
        page faults of a fresh array. On an error ``out`` may hold levels of the trades before
        the bad one (and, with ``threads=2``, anything after it).
    threads : int
        1 (default): one thread. 2 (more: at most 2 are used): a batch of at least
        ``SPLIT_MIN_TICKS`` trades, and ``SPLIT_MIN_TICKS_PER_STOCK`` per stock, is split on
        two threads with the GIL released — one replays the first part while the other finds
        the state where the second part starts (each stock's last price before it, the exact
        cap) and replays it. Bit-identical to one thread: the same levels, state and error
        (the first bad trade). Each rebalance-free stretch is split on its own; the float path
        (``exact=False``) and smaller batches run on one thread. Opt-in, since the speed-up
        needs a free second core: when it is busy, the thread that reaches the second part
        first replays it, so the batch costs about what one thread costs.

    Returns
    -------
    ndarray of float64, shape (n_ticks,), or ReplayState

    Raises
    ------
    TypeError, ValueError
        Bad dtypes, shapes or values; the message names the argument and the offending element.

    Examples
    --------
    >>> import numpy as np, kospi_fast
    >>> kospi_fast.replay(np.array([10, 20]), np.array([100, 50]), 20.0,
    ...                   np.array([0, 1]), np.array([110, 40]))
    array([105.,  95.])
    >>> st = kospi_fast.replay(np.array([10, 20]), np.array([100, 50]), 20.0, np.array([0, 1]),
    ...                        np.array([110, 40]), rebalances=[(1, [1], [30])], return_state=True)
    >>> st.levels.round(4), st.prices, st.shares, st.cap   # stock 1 to 30 shares before trade 1
    (array([105.    ,  92.8846]), array([110,  40]), array([10, 30]), 2300)
    """
    d = _validation.positive_float(divisor, "divisor")
    cdef int n_threads = min(_validation.thread_count(threads), 2)
    if not exact:
        if rebalances is not None:
            raise ValueError("`rebalances` are for the exact path (exact=True)")
        return _replay_f64(shares, prices, d, ids, new_prices, return_state, out)
    sh = _validation.int64_array(shares, "shares", allow_float=False)
    pr = _validation.int64_array(prices, "prices")
    _validation.check_same_length(sh, "shares", pr, "prices")
    _validation.check_non_negative(sh, "shares")
    _validation.check_positive(pr, "prices")
    cdef Py_ssize_t n_stocks = sh.shape[0]
    ids, new_prices = prepare_ticks(ids, new_prices, n_stocks)
    cdef Py_ssize_t n_ticks = cnp.PyArray_DIM(<cnp.ndarray>new_prices, 0)
    plan = _rebalance_plan(rebalances, n_ticks, n_stocks)
    levels = _validation.out_array(out, (n_ticks,), (sh, pr, ids, new_prices))
    if levels is None:
        levels = np.empty(n_ticks, dtype=np.float64)
    work = pr.copy()
    cap = aggregate_cap(work, sh)
    if not plan:
        bad, cap = _segment(work, sh, ids, new_prices, cap, d, levels, n_threads)
        if bad != -1:
            raise_bad_tick(bad, ids, new_prices, n_stocks, INT64_MAX_PY, cap=cap, prices=work, shares=sh)
        return ReplayState(levels, work, sh, cap, d) if return_state else levels
    sh = sh.copy()
    start = 0
    for j, (at, r_ids, r_shares) in enumerate(plan):
        if at > start:
            bad, cap = _segment(work, sh, ids[start:at], new_prices[start:at], cap, d, levels[start:at], n_threads)
            if bad != -1:
                raise_bad_tick(start + bad, ids, new_prices, n_stocks, INT64_MAX_PY, cap=cap, prices=work, shares=sh)
            start = at
        old = sh[r_ids].copy()
        sh[r_ids] = r_shares
        try:
            after = aggregate_cap(work, sh)
        except ValueError:
            raise ValueError(f"`rebalances[{j}]` would overflow the int64 aggregate cap: Σ price × shares would "
                             f"be {int(np.dot(work.astype(object), sh.astype(object)))}") from None
        if after <= 0 or cap <= 0:
            sh[r_ids] = old
            raise ValueError(f"`rebalances[{j}]`: the cap before and after must be > 0 to rebase the divisor, "
                             f"got {cap} and {after}")
        d = rebase_divisor(d, cap, after)
        cap = after
    if start < n_ticks:
        bad, cap = _segment(work, sh, ids[start:], new_prices[start:], cap, d, levels[start:], n_threads)
        if bad != -1:
            raise_bad_tick(start + bad, ids, new_prices, n_stocks, INT64_MAX_PY, cap=cap, prices=work, shares=sh)
    return ReplayState(levels, work, sh, cap, d) if return_state else levels


cdef tuple _segment(work, sh, ids, new_prices, int64_t cap, double d, levels, int threads):
    """A rebalance-free stretch of replay's trades: split on two threads when ``threads`` allows
    and it pays (``split_pays``), else on this one."""
    if split_pays(cnp.PyArray_DIM(<cnp.ndarray>new_prices, 0), cnp.PyArray_DIM(<cnp.ndarray>work, 0), threads):
        return _apply_split(work, sh, ids, new_prices, cap, d, levels)
    return apply_ticks_inplace(work, sh, ids, new_prices, INT64_MAX_PY, cap, d, levels)


def _rebalance_plan(rebalances, Py_ssize_t n_ticks, Py_ssize_t n_stocks):
    """``rebalances`` checked: a list of (position, intp ids, int64 shares), positions ascending
    in [0, n_ticks], ids unique and in range, shares >= 0 (ValueError/TypeError naming
    ``rebalances[j]``)."""
    if rebalances is None:
        return []
    if isinstance(rebalances, (str, bytes)):
        raise TypeError(f"`rebalances` must be a sequence of (position, ids, new_shares), got {rebalances!r}")
    plan = []
    last = 0
    for j, item in enumerate(rebalances):
        try:
            at, r_ids, r_shares = item
        except (TypeError, ValueError):
            raise TypeError(f"`rebalances[{j}]` must be a (position, ids, new_shares) triple, got {item!r}") from None
        if isinstance(at, bool) or not isinstance(at, (int, np.integer)):
            raise TypeError(f"`rebalances[{j}]` position must be an int, got {at!r}")
        at = int(at)
        if not last <= at <= n_ticks:
            raise ValueError(f"`rebalances[{j}]` position must be ascending in [{last}, {n_ticks}], got {at}")
        last = at
        idx = _validation.id_array(r_ids, f"rebalances[{j}] ids", n_stocks)
        new = _validation.int64_array(r_shares, f"rebalances[{j}] new_shares", allow_float=False)
        _validation.check_same_length(idx, f"rebalances[{j}] ids", new, f"rebalances[{j}] new_shares")
        _validation.check_non_negative(new, f"rebalances[{j}] new_shares")
        if np.unique(idx).shape[0] != idx.shape[0]:
            raise ValueError(f"`rebalances[{j}]` names a stock more than once: {idx.tolist()}")
        plan.append((at, idx, new))
    return plan
