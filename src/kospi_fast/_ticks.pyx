"""Tick application: one trade moves one price, the aggregate moves by (new − old) × shares.

The running cap is an exact int64, so after any number of trades it equals Σ price × shares
recomputed from scratch, bit for bit, and so does the level ``cap / divisor`` (the same IEEE
division of the same two numbers).
"""

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memcpy

from kospi_fast._buffers cimport (data, is_c_array, is_id_array, length_f64, length_i64, length_ids,
                                  same_length)

import numpy as np

from kospi_fast import _validation
from kospi_fast._aggregate import aggregate_cap

cnp.import_array()


cdef Py_ssize_t apply_ticks_i64(int64_t* prices, const int64_t* shares, Py_ssize_t n_stocks,
                                const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
                                int64_t pmax, int64_t* cap, double divisor,
                                double* levels) noexcept nogil:
    cdef Py_ssize_t k
    cdef int64_t c = cap[0], p
    cdef uint64_t i, n = <uint64_t>n_stocks
    if levels == NULL:
        for k in range(n_ticks):
            i = <uint64_t>ids[k]
            p = new_prices[k]
            if not trade_ok(i, n, p, pmax):
                cap[0] = c
                return k
            c += cap_step(prices, shares, i, p)
    else:  # the same loop, writing the level after each trade (a loop of its own: ~10% faster)
        for k in range(n_ticks):
            i = <uint64_t>ids[k]
            p = new_prices[k]
            if not trade_ok(i, n, p, pmax):
                cap[0] = c
                return k
            c += cap_step(prices, shares, i, p)
            levels[k] = <double>c / divisor
    cap[0] = c
    return -1


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
                   str ids_name="ids", str prices_name="new_prices"):
    """Raise the error for trade ``k``, which the kernel rejected."""
    i = int(ids[k])
    p = int(new_prices[k])
    if i < 0 or i >= n_stocks:
        raise ValueError(f"`{ids_name}[{k}]` is out of range: ids must be in [0, {n_stocks}), got {i}")
    if p <= 0:
        raise ValueError(f"`{prices_name}[{k}]` must be > 0, got {p}")
    raise ValueError(
        f"`{prices_name}[{k}]` = {p} could overflow the int64 aggregate cap: prices must be "
        f"<= {pmax} won for this universe"
    )


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


def replay(shares, prices, divisor, ids, new_prices):
    """Index level after each trade of a tick stream.

    ``level[k] = Σ_i price_i × shares_i / divisor``, with each ``price_i`` the latest at or
    before trade ``k`` (the starting ``prices`` for stocks not yet traded). Computed
    incrementally on an exact int64 running cap; no input is mutated.

    Parameters
    ----------
    shares : array_like of int64, shape (n_stocks,)
        Index shares (listed shares for KOSPI), >= 0.
    prices : array_like of int64, shape (n_stocks,)
        Starting prices in won (the base prices), > 0.
    divisor : float
        ``base_cap / base_value``, > 0.
    ids : array_like of int, shape (n_ticks,)
        Stock id (row in ``prices``) of each trade, in ``[0, n_stocks)``. int32 and int64 are
        used without a copy.
    new_prices : array_like of int64, shape (n_ticks,)
        Trade prices in won, > 0.

    Returns
    -------
    ndarray of float64, shape (n_ticks,)

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
    """
    d = _validation.positive_float(divisor, "divisor")
    sh = _validation.int64_array(shares, "shares", allow_float=False)
    pr = _validation.int64_array(prices, "prices")
    _validation.check_same_length(sh, "shares", pr, "prices")
    _validation.check_non_negative(sh, "shares")
    _validation.check_positive(pr, "prices")
    pmax = _validation.price_bound(sh)
    _validation.check_price_bound(pr, "prices", pmax)
    cdef Py_ssize_t n_stocks = sh.shape[0]
    ids, new_prices = prepare_ticks(ids, new_prices, n_stocks)
    work = pr.copy()
    cap = aggregate_cap(work, sh)
    levels = np.empty(cnp.PyArray_DIM(<cnp.ndarray>new_prices, 0), dtype=np.float64)
    bad, _ = apply_ticks_inplace(work, sh, ids, new_prices, pmax, cap, d, levels)
    if bad != -1:
        raise_bad_tick(bad, ids, new_prices, n_stocks, pmax)
    return levels
