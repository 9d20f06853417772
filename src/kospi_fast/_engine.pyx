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
from libc.stdint cimport int64_t
from libc.string cimport memcpy

import numpy as np

from kospi_fast import _validation
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._ticks import apply_ticks_inplace, prepare_ticks, raise_bad_tick

cnp.import_array()


cdef class EngineCore:
    # fields and the batch protocol: _engine.pxd

    def _core_set_state(self, prices, shares, double divisor, dict code_index):
        """Install validated state: int64 C-contiguous ``prices``/``shares`` (copied), divisor
        > 0, and the code -> id map. The cap is recomputed exactly from scratch."""
        self._prices = np.array(prices, dtype=np.int64, order="C", copy=True)
        self._scratch = np.empty_like(self._prices)
        self._shares = np.array(shares, dtype=np.int64, order="C", copy=True)
        self._shares.flags.writeable = False
        self._n = self._prices.shape[0]
        self._pp = <int64_t*>cnp.PyArray_DATA(self._prices)
        self._sp = <const int64_t*>cnp.PyArray_DATA(self._shares)
        self._pmax = _validation.price_bound(self._shares)
        self._cap = aggregate_cap(self._prices, self._shares) if self._n else 0
        self._divisor = divisor
        self._code_index = code_index

    cdef Py_ssize_t _resolve(self, key) except -1:
        cdef object i
        if isinstance(key, str):
            i = self._code_index.get(key)
            if i is None:
                raise KeyError(f"unknown stock code {key!r}")
            return i
        if isinstance(key, bool):
            raise TypeError(f"`code_or_id` must be a 6-character code or an integer id, got {key!r}")
        try:
            i = key.__index__()
        except (AttributeError, TypeError):
            raise TypeError(
                f"`code_or_id` must be a 6-character code or an integer id, got {key!r}") from None
        if i < 0 or i >= self._n:
            raise ValueError(f"`code_or_id` is out of range: ids must be in [0, {self._n}), got {i}")
        return i

    @cython.boundscheck(False)
    def update(self, key, price):
        """Apply one trade and return the new level.

        Parameters
        ----------
        key : str or int
            6-character stock code (e.g. '005930') or integer id (row in the universe).
        price : int
            Trade price in won, > 0.

        Returns
        -------
        float
            The level after the trade.
        """
        cdef Py_ssize_t i
        cdef int64_t p
        if type(key) is int and 0 <= <object>key < self._n:
            i = key
        else:
            i = self._resolve(key)
        if type(price) is int and 0 < <object>price <= self._pmax:
            p = price
        else:
            p = _validation.price_scalar(price)
            if p > self._pmax:
                raise ValueError(
                    f"`price` = {p} could overflow the int64 aggregate cap: prices must be "
                    f"<= {self._pmax} won for this universe")
        self._cap += (p - self._pp[i]) * self._sp[i]
        self._pp[i] = p
        return <double>self._cap / self._divisor

    def update_many(self, ids, prices):
        """Apply a batch of trades in order, all or nothing; return the level after each.

        Parameters
        ----------
        ids : array_like of int, shape (n_ticks,)
            Stock ids in ``[0, n_stocks)`` (int32 or int64 used without a copy).
        prices : array_like of int64, shape (n_ticks,)
            Trade prices in won, > 0.

        Returns
        -------
        ndarray of float64, shape (n_ticks,)

        Raises
        ------
        TypeError, ValueError
            On the first bad trade; nothing of the batch is applied.
        """
        ids, prices = prepare_ticks(ids, prices, self._n, "prices")
        cdef Py_ssize_t n_ticks = cnp.PyArray_DIM(<cnp.ndarray>prices, 0)
        levels = np.empty(n_ticks, dtype=np.float64)
        self._begin_batch()
        bad, cap = apply_ticks_inplace(self._scratch, self._shares, ids, prices, self._pmax,
                                       self._cap, self._divisor, levels)
        if bad != -1:
            raise_bad_tick(bad, ids, prices, self._n, self._pmax, "ids", "prices")
        self._commit_batch(cap)
        return levels

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
        return <double>self._cap / self._divisor

    @property
    def cap(self):
        """Current aggregate cap in won, exact (int)."""
        return self._cap

    @property
    def divisor(self):
        """``base_cap / base_value`` (float64)."""
        return self._divisor

    @property
    def prices(self):
        """Copy of the current prices (int64, shape (n_stocks,))."""
        cdef cnp.ndarray out = np.empty(self._n, dtype=np.int64)
        if self._n:
            # memcpy with the GIL held: update_many swaps and reuses the two price buffers only
            # under the GIL, while ndarray.copy releases it for large arrays (torn reads).
            memcpy(cnp.PyArray_DATA(out), self._pp, self._n * sizeof(int64_t))
        return out

    @property
    def index_shares(self):
        """Copy of the index shares (int64, shape (n_stocks,)); 0 means not a member."""
        return self._shares.copy()

    @property
    def price_bound(self):
        """Largest price any stock may take without risking int64 overflow of the cap."""
        return self._pmax

    def __len__(self):
        return self._n
