"""The engine's hot state and its per-trade paths.

``EngineCore`` owns the price and index-share arrays, the exact int64 running cap and the
divisor. ``update`` is the one-trade fast path callable from Python; ``update_many`` applies a
batch all-or-nothing: the kernel runs on a scratch copy of the prices and the copy is swapped
in only when every trade was good, so a rejected batch leaves the engine exactly as it was.
Everything that is not per-trade (calibration, events, codes) lives in ``engine.py``. A
KRX-validated batch is driven by the rules kernel (``_session.feed_engine``) through the same
scratch-and-swap protocol, declared with the fields in ``_engine.pxd``; this module does not
know the rules.

Threading: one writer at a time; readers of ``level``/``cap``/``prices`` on other threads see
the state before or after a batch, never inside one (the swap happens under the GIL). See
docs/methodology-notes.md, "Threading model".
"""

cimport cython
cimport numpy as cnp
from cpython.long cimport PyLong_AsLongLongAndOverflow
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memcpy
from libc.math cimport isfinite

import numpy as np

from kospi_fast import _validation
from kospi_fast._validation import ambiguous_int as _ambiguous_int
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._buffers cimport data, is_c_array, is_id_array, length_f64, length_i64, length_ids, same_length
from kospi_fast._ticks cimport apply_ticks_band, apply_ticks_f64, cap_step_checked, step_f64
from kospi_fast._ticks import apply_ticks_inplace, overflow_error, prepare_ticks, raise_bad_tick

cnp.import_array()

INT64_MAX_PY = _validation.INT64_MAX


cdef class EngineCore:
    # fields and the batch protocol: _engine.pxd

    def _core_set_state(self, prices, shares, double divisor, dict code_index, running=None):
        """Install validated state: int64 C-contiguous ``prices``/``shares`` (copied), divisor
        > 0, and the code -> id map. The cap is recomputed exactly from scratch; the price band
        is reset to none (``_core_set_band`` sets one).

        A float64 book (``IndexEngine(..., exact=False)``) passes float64 ``prices``/``shares``
        and ``running`` = (cap, compensation), the running cap as an unevaluated sum of two
        doubles (from an exact recount, or as saved: a checkpoint restores it bit for bit)."""
        if running is not None:
            self._float = True
            self._fprices = np.array(prices, dtype=np.float64, order="C", copy=True)
            self._fscratch = np.empty_like(self._fprices)
            self._fshares = np.array(shares, dtype=np.float64, order="C", copy=True)
            self._fshares.flags.writeable = False
            self._fpp = <double*>cnp.PyArray_DATA(self._fprices)
            self._fsp = <const double*>cnp.PyArray_DATA(self._fshares)
            self._fcap = float(running[0])
            self._fcomp = float(running[1])
            n = self._fprices.shape[0]
            prices = np.ones(n, dtype=np.int64)  # the int64 fields: placeholders no path reads
            shares = np.zeros(n, dtype=np.int64)
        else:
            self._float = False
            self._fprices = self._fscratch = self._fshares = None
            self._fpp = NULL
            self._fsp = NULL
            self._fcap = self._fcomp = 0.0
        self._prices = np.array(prices, dtype=np.int64, order="C", copy=True)
        self._scratch = np.empty_like(self._prices)
        self._shares = np.array(shares, dtype=np.int64, order="C", copy=True)
        self._shares.flags.writeable = False
        self._n = self._prices.shape[0]
        self._pp = <int64_t*>cnp.PyArray_DATA(self._prices)
        self._sp = <const int64_t*>cnp.PyArray_DATA(self._shares)
        self._cap = aggregate_cap(self._prices, self._shares) if self._n else 0
        self._divisor = divisor
        self._code_index = code_index
        self._core_set_band(None, None)

    def _core_running(self):
        """A float64 book's running cap as the pair (cap, compensation); None for an exact book."""
        return (self._fcap, self._fcomp) if self._float else None

    def _core_set_band(self, lower, upper):
        """Install the per-stock price band: validated int64 arrays of one entry per stock (the
        ``p > 0`` folded in here; no price ceiling: the cap's overflow is guarded exactly per
        trade), or None for no band."""
        if lower is None:
            lo = np.ones(self._n, dtype=np.int64)
            hi = np.full(self._n, INT64_MAX_PY, dtype=np.int64)
        else:
            lo = np.maximum(np.asarray(lower, dtype=np.int64), 1)
            hi = np.asarray(upper, dtype=np.int64)
        self._band_lo = np.ascontiguousarray(lo, dtype=np.int64)
        self._band_hi = np.ascontiguousarray(hi, dtype=np.int64)
        self._band_lo.flags.writeable = False
        self._band_hi.flags.writeable = False
        self._blo = <const int64_t*>cnp.PyArray_DATA(self._band_lo)
        self._bhi = <const int64_t*>cnp.PyArray_DATA(self._band_hi)
        # the kernel's per-stock records (lo, hi - lo, shares): the band test is one unsigned
        # compare, (p - lo) mod 2**64 <= hi - lo; an empty band (hi < lo) is (INT64_MIN, 0),
        # which only p = INT64_MIN passes and the kernel's p > 0 test then refuses
        empty = self._band_hi < self._band_lo
        rec = np.zeros((self._n, 3), dtype=np.int64)
        rec[:, 0] = np.where(empty, np.iinfo(np.int64).min, self._band_lo)
        rec[:, 1] = np.where(empty, 0, self._band_hi - np.where(empty, 0, self._band_lo))
        rec[:, 2] = self._shares
        self._band_rec = rec.reshape(-1)
        self._band_rec.flags.writeable = False
        self._brec = <const int64_t*>cnp.PyArray_DATA(self._band_rec)
        self._banded = lower is not None

    cdef Py_ssize_t _resolve(self, key) except -1:
        cdef object i
        if isinstance(key, str):
            i = self._code_index.get(key)
            if i is None:
                raise KeyError(f"unknown stock code {key!r}")
            return i
        if isinstance(key, bool) or not hasattr(key, "__index__"):
            raise TypeError(f"`code` must be a 6-character stock code such as '005930', got {key!r}")
        raise TypeError(_ambiguous_int(key, f"an id to update_id({int(key)}, price)"))

    cdef Py_ssize_t _resolve_id(self, key) except -1:
        cdef object i
        if isinstance(key, bool) or isinstance(key, str):
            raise TypeError(f"`id` must be an integer stock id (a row of the universe), got {key!r}; "
                            "a code goes to update(code, price)")
        try:
            i = key.__index__()
        except (AttributeError, TypeError):
            raise TypeError(f"`id` must be an integer stock id (a row of the universe), got {key!r}") from None
        if i < 0 or i >= self._n:
            raise ValueError(f"`id` is out of range: ids must be in [0, {self._n}), got {i}")
        return i

    cdef _apply_one(self, Py_ssize_t i, price):
        cdef int64_t p = 0
        cdef int ovf = 1
        if self._float:
            return self._apply_one_f64(i, price)
        if type(price) is int:  # the common case, checked in C: no Python int compares
            p = PyLong_AsLongLongAndOverflow(price, &ovf)
        if ovf or p < self._blo[i] or p > self._bhi[i]:
            p = _validation.price_scalar(price)  # a non-int, huge or <= 0 price: its error
            if p < self._blo[i] or p > self._bhi[i]:
                self._band_error(-1, i, p)
        if not cap_step_checked(&self._cap, self._pp, self._sp, <uint64_t>i, p):
            raise overflow_error("price", p, self._cap, self._pp[i], self._sp[i])
        return <double>self._cap / self._divisor

    cdef _apply_one_f64(self, Py_ssize_t i, price):
        cdef double p = 0.0, old, c = self._fcap, e = self._fcomp, level
        if type(price) is float:
            p = price
        if not (p > 0.0 and p <= 1.7976931348623157e308):  # also NaN
            p = _validation.real_price(price)  # a non-float, <= 0 or not finite price: its error
        old = self._fpp[i]
        step_f64(&self._fcap, &self._fcomp, self._fpp, self._fsp, <uint64_t>i, p)
        level = (self._fcap + self._fcomp) / self._divisor
        if not isfinite(level):  # the cap (or level) left float64's range: undo, refuse
            self._fpp[i] = old
            self._fcap = c
            self._fcomp = e
            raise _validation.overflow_refused(
                f"`price` = {p!r} would take the float64 aggregate cap (or the level) beyond float64's range",
                None)
        return level

    @cython.boundscheck(False)
    def update(self, code, price):
        """Apply one trade and return the new level.

        Parameters
        ----------
        code : str
            6-character stock code, e.g. '005930'. An integer is refused (it may be a code
            whose leading zeros were lost): a stock id goes to :meth:`update_id`.
        price : int
            Trade price in won, > 0, inside the stock's price band (if the book has one).

        Returns
        -------
        float
            The level after the trade.
        """
        cdef object i
        if type(code) is str:
            i = self._code_index.get(code)
            if i is None:
                raise KeyError(f"unknown stock code {code!r}")
        else:
            i = self._resolve(code)
        return self._apply_one(i, price)

    @cython.boundscheck(False)
    def update_id(self, stock_id, price):
        """Apply one trade of the stock with this id (row of the universe) and return the new
        level: the fast path for feeds that carry ids (see :meth:`update` for codes).

        Parameters
        ----------
        stock_id : int
            Row in the universe, ``0 <= stock_id < n_stocks``.
        price : int
            Trade price in won, > 0, inside the stock's price band (if the book has one).

        Returns
        -------
        float
        """
        cdef Py_ssize_t i
        cdef int ovf = 1
        cdef long long v = 0
        if type(stock_id) is int:  # range-checked in C (one unsigned compare)
            v = PyLong_AsLongLongAndOverflow(stock_id, &ovf)
        if ovf == 0 and <unsigned long long>v < <unsigned long long>self._n:
            i = <Py_ssize_t>v
        else:
            i = self._resolve_id(stock_id)
        return self._apply_one(i, price)

    def update_many(self, ids, prices, out=None):
        """Apply a batch of trades in order, all or nothing; return the level after each.

        Parameters
        ----------
        ids : array_like of int, shape (n_ticks,)
            Stock ids in ``[0, n_stocks)`` (int32 or int64 used without a copy).
        prices : array_like of int64, shape (n_ticks,)
            Trade prices in integer price units, > 0.
        out : ndarray of float64, shape (n_ticks,), optional
            Write the levels here (C-contiguous, writeable, sharing no memory with the inputs)
            and return it: a reused buffer spares a large batch the page faults of a fresh
            array. On an error the engine is unchanged but ``out`` may hold levels of the
            trades before the bad one.

        Returns
        -------
        ndarray of float64, shape (n_ticks,)
            ``out`` when given.

        Raises
        ------
        TypeError, ValueError
            On the first bad trade; nothing of the batch is applied.
        """
        if self._float:
            return self._update_many_f64(ids, prices, out)
        ids, prices = prepare_ticks(ids, prices, self._n, "prices")
        cdef Py_ssize_t n_ticks = cnp.PyArray_DIM(<cnp.ndarray>prices, 0)
        levels = _validation.out_array(out, (n_ticks,), (ids, prices))
        if levels is None:
            levels = np.empty(n_ticks, dtype=np.float64)
        if not self._banded:
            self._begin_batch()
            bad, cap = apply_ticks_inplace(self._scratch, self._shares, ids, prices, INT64_MAX_PY,
                                           self._cap, self._divisor, levels)
        else:
            bad, cap = self._run_banded(ids, prices, levels)
        if bad != -1:
            self._raise_batch_error(bad, ids, prices, cap)
        self._commit_batch(cap)
        return levels

    cdef _update_many_f64(self, ids, prices, out):
        """A float64 book's batch: ``_ticks.apply_ticks_f64`` (the compensated step of replay's
        exact=False) on a scratch copy of the prices, swapped in when every trade was good."""
        if not is_id_array(ids):
            ids = _validation.id_array(ids, "ids", self._n, check_range=False)
        if not is_c_array(prices, cnp.NPY_FLOAT64, 1, False):
            prices = _validation.float64_array(prices, "prices")
        cdef bint narrow
        cdef Py_ssize_t m = length_ids(ids, "ids", &narrow), bad = -1, k
        if cnp.PyArray_DIM(<cnp.ndarray>prices, 0) != m:
            _validation.check_same_length(ids, "ids", prices, "prices")
        levels = _validation.out_array(out, (m,), (ids, prices))
        if levels is None:
            levels = np.empty(m, dtype=np.float64)
        cdef double* sp = <double*>cnp.PyArray_DATA(self._fscratch)
        if self._n:
            memcpy(sp, self._fpp, self._n * sizeof(double))
        cdef const void* ip = data(ids)
        cdef const double* xp = <const double*>data(prices)
        cdef double* lp = <double*>data(levels)
        cdef double c = self._fcap, e = self._fcomp
        with nogil:
            if narrow:
                bad = apply_ticks_f64[int32_t](sp, self._fsp, self._n, <const int32_t*>ip, xp, m, &c, &e,
                                               self._divisor, lp)
            else:
                bad = apply_ticks_f64[int64_t](sp, self._fsp, self._n, <const int64_t*>ip, xp, m, &c, &e,
                                               self._divisor, lp)
        if bad != -1:
            i = int(ids[bad])
            if i < 0 or i >= self._n:
                raise ValueError(f"`ids[{bad}]` is out of range: ids must be in [0, {self._n}), got {i}")
            raise ValueError(f"`prices[{bad}]` must be a finite number > 0, got {float(prices[bad])!r}")
        if m and not isfinite(lp[m - 1]):  # non-finite from the first overflow on: name it
            k = int(np.argmax(~np.isfinite(levels)))
            raise _validation.overflow_refused(
                f"`prices[{k}]` = {float(prices[k])!r} would take the float64 aggregate cap (or the level) beyond "
                "float64's range; nothing was applied", k)
        self._fprices, self._fscratch = self._fscratch, self._fprices
        self._fpp = <double*>cnp.PyArray_DATA(self._fprices)
        self._fcap = c
        self._fcomp = e
        return levels

    cdef tuple _run_banded(self, ids, prices, levels):
        """The banded batch on the scratch copy: the band check is in the kernel's loop (one
        pair of compares per trade). Returns (bad, cap) as ``apply_ticks_inplace``."""
        cdef bint narrow
        cdef Py_ssize_t n_ticks = length_ids(ids, "ids", &narrow)
        same_length(length_i64(prices, "prices"), "prices", n_ticks, "`ids`")
        same_length(length_f64(levels, "levels", True), "levels", n_ticks, "`ids`")
        cdef int64_t* sp = self._begin_batch()
        cdef const void* ip = data(ids)
        cdef const int64_t* xp = <const int64_t*>data(prices)
        cdef double* lp = <double*>data(levels)
        cdef int64_t c = self._cap
        cdef Py_ssize_t bad
        with nogil:
            if narrow:
                bad = apply_ticks_band[int32_t](sp, self._brec, self._n, <const int32_t*>ip,
                                             xp, n_ticks, &c, self._divisor, lp)
            else:
                bad = apply_ticks_band[int64_t](sp, self._brec, self._n, <const int64_t*>ip,
                                             xp, n_ticks, &c, self._divisor, lp)
        return bad, c

    def _raise_batch_error(self, Py_ssize_t k, ids, prices, cap):
        """The error for trade ``k`` of a batch, which the kernel refused (``cap`` and the
        scratch prices: the state before it): outside its band when the trade is otherwise a
        trade (id in range, price > 0), else what ``raise_bad_tick`` names."""
        i = int(ids[k])
        p = int(prices[k])
        if 0 <= i < self._n and p > 0 and (p < self._blo[i] or p > self._bhi[i]):
            self._band_error(k, i, p)
        raise_bad_tick(k, ids, prices, self._n, INT64_MAX_PY, "ids", "prices", cap=cap,
                       prices=self._scratch, shares=self._shares)

    def _core_band(self):
        """(lower, upper) int64 arrays: the prices each stock's trades may take now (the band,
        with ``p > 0`` and the overflow bound folded in); copies."""
        if self._float:  # a float book has no band: any finite price > 0
            return (np.full(self._n, 5e-324), np.full(self._n, 1.7976931348623157e308))
        return self._band_lo.copy(), self._band_hi.copy()

    cdef int64_t* _begin_batch(self) except? NULL:
        if self._scratch is None:
            raise RuntimeError("the engine core has no state yet (_core_set_state was not called)")
        cdef int64_t* scratch = <int64_t*>cnp.PyArray_DATA(self._scratch)
        if self._n:
            memcpy(scratch, self._pp, self._n * sizeof(int64_t))
        return scratch

    cdef void _commit_batch(self, int64_t cap) noexcept:
        self._prices, self._scratch = self._scratch, self._prices
        self._pp = <int64_t*>cnp.PyArray_DATA(self._prices)
        self._cap = cap

    @property
    def level(self):
        """Current level, ``cap / divisor`` (float64, never rounded)."""
        if self._float:
            return (self._fcap + self._fcomp) / self._divisor
        return <double>self._cap / self._divisor

    @property
    def cap(self):
        """Current aggregate cap (price units × shares), exact (int); a float64 book's running
        cap rounded to one float (its compensated pair: ``_core_running``)."""
        if self._float:
            return self._fcap + self._fcomp
        return self._cap

    @property
    def divisor(self):
        """``base_cap / base_value`` (float64)."""
        return self._divisor

    @property
    def prices(self):
        """Copy of the current prices (int64, shape (n_stocks,); float64 in a float book)."""
        cdef cnp.ndarray out
        if self._float:
            out = np.empty(self._n, dtype=np.float64)
            if self._n:
                memcpy(cnp.PyArray_DATA(out), self._fpp, self._n * sizeof(double))
            return out
        out = np.empty(self._n, dtype=np.int64)
        if self._n:
            # memcpy with the GIL held: update_many swaps and reuses the two price buffers only
            # under the GIL, while ndarray.copy releases it for large arrays (torn reads).
            memcpy(cnp.PyArray_DATA(out), self._pp, self._n * sizeof(int64_t))
        return out

    @property
    def index_shares(self):
        """Copy of the index shares (int64, shape (n_stocks,); float64 in a float book); 0 means
        not a member."""
        if self._float:
            return self._fshares.copy()
        return self._shares.copy()

    @property
    def exact(self):
        """True for the exact int64 book, False for a float64 book (``exact=False``)."""
        return not self._float

    def __len__(self):
        return self._n


cdef Py_ssize_t _first_outside_band(const void* ids, bint narrow, const int64_t* px, Py_ssize_t n,
                                    const int64_t* lo, const int64_t* hi, Py_ssize_t n_stocks,
                                    int64_t pmax) noexcept nogil:
    cdef Py_ssize_t k, i
    cdef int64_t p
    cdef const int32_t* i32 = <const int32_t*>ids
    cdef const int64_t* i64 = <const int64_t*>ids
    for k in range(n):
        i = i32[k] if narrow else <Py_ssize_t>i64[k]
        p = px[k]
        if <size_t>i >= <size_t>n_stocks or p <= 0 or p > pmax:
            return -1
        if p < lo[i] or p > hi[i]:
            return k
    return -1


def first_outside_band(ids, prices, lower, upper, int64_t pmax):
    """Position of the first trade that the tick kernel would take (id in range, 0 < price <=
    ``pmax``) but that is outside its stock's ``[lower, upper]`` band, or -1. A trade bad in
    any other way stops the scan (-1): the kernel reports it, so the first bad trade of the
    batch is the one named. ``ids`` int32 or int64 and ``prices``, ``lower``, ``upper`` int64,
    1-d C-contiguous (prepared by ``prepare_ticks``)."""
    cdef const int64_t[::1] px = prices
    cdef const int64_t[::1] lo = lower
    cdef const int64_t[::1] hi = upper
    cdef Py_ssize_t n = px.shape[0], n_stocks = lo.shape[0]
    if hi.shape[0] != n_stocks:
        raise ValueError(f"`lower` and `upper` must have the same length, got {n_stocks} and {hi.shape[0]}")
    cdef cnp.ndarray a = <cnp.ndarray?>ids
    cdef bint narrow = a.dtype.itemsize == 4
    if a.ndim != 1 or a.shape[0] != n or a.dtype.kind not in "iu" or a.dtype.itemsize not in (4, 8) \
            or not a.flags.c_contiguous:
        raise TypeError("`ids` must be a 1-d C-contiguous int32 or int64 array of the prices' length")
    if n == 0 or n_stocks == 0:  # no trade, or every id out of range (the kernel names it)
        return -1
    cdef const void* ip = cnp.PyArray_DATA(a)
    cdef Py_ssize_t k
    with nogil:
        k = _first_outside_band(ip, narrow, &px[0], n, &lo[0], &hi[0], n_stocks, pmax)
    return k
