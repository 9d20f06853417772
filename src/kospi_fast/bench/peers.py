"""Peer implementations of the kospi_fast kernels, for the benchmarks (``python -m
kospi_fast.bench`` and benchmarks/compare.py).

Every replay peer computes exactly what ``kospi_fast.replay`` computes: an exact integer
running cap (Python int or int64) and ``level[k] = float(cap_k) / divisor``, so its levels are
bit-identical to the library's (one IEEE conversion and one IEEE division of the same numbers).

Peers
-----
replay_python      pure-Python loop: running int cap, list of prices.
replay_numpy       vectorised NumPy, blocked (no Python loop over ticks; the fastest we found).
replay_numpy_flat  the same in one pass over the whole day (the textbook version).
replay_numba       Numba ``@njit`` loop (only when numba is installed; see ``numba_replay()``).
cap_dot            ``np.dot`` on int64, for ``aggregate_cap``.
cap_python         pure-Python ``sum`` over lists, for ``aggregate_cap``.
PyEngine           pure-Python engine with ``update(i, price)``, for the per-call comparison.

The peers do not validate their inputs (kospi_fast's kernels do, in the same pass): they are
the fastest honest versions of the same arithmetic, not drop-in replacements.
numba is imported lazily, so importing this module never needs (or warns about) numba.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NUMPY_BLOCK",
    "PyEngine",
    "cap_dot",
    "cap_python",
    "numba_replay",
    "numba_version",
    "replay_numpy",
    "replay_numpy_flat",
    "replay_python",
]

# ---------------------------------------------------------------------------- replay peers


def replay_python(shares, prices, divisor, ids, new_prices):
    """Pure-Python incremental replay: Python-int running cap, list of current prices."""
    sh = np.asarray(shares).tolist()
    px = np.asarray(prices).tolist()
    d = float(divisor)
    cap = 0
    for p, s in zip(px, sh):
        cap += p * s
    out = []
    append = out.append
    for i, p in zip(np.asarray(ids).tolist(), np.asarray(new_prices).tolist()):
        cap += (p - px[i]) * sh[i]
        px[i] = p
        append(cap / d)
    return np.array(out, dtype=np.float64)


def replay_numpy_flat(shares, prices, divisor, ids, new_prices):
    """Vectorised NumPy replay in one pass over the whole day (no Python loop).

    Each trade moves the cap by ``(p_k - p_prev) × shares[id_k]``, where ``p_prev`` is the
    previous trade price of the same stock (or its starting price). Group the trades by stock
    with a stable argsort of the ids, take each trade's predecessor within its group, scatter
    the deltas back to time order, cumsum on int64 and divide by the divisor.
    """
    shares = np.asarray(shares, dtype=np.int64)
    prices = np.asarray(prices, dtype=np.int64)
    new_prices = np.asarray(new_prices, dtype=np.int64)
    ids = np.asarray(ids)
    n_stocks = shares.shape[0]
    cap0 = int(np.dot(prices, shares))
    if new_prices.shape[0] == 0:
        return np.empty(0, dtype=np.float64)
    # Group the trades by stock, keeping time order inside each group. NumPy's stable sort is
    # an O(n) radix sort for <= 16-bit keys, ~10x faster than its int32 timsort.
    key = ids.astype(np.uint16) if n_stocks <= 1 << 16 else ids
    order = np.argsort(key, kind="stable")
    counts = np.bincount(ids, minlength=n_stocks)
    starts = np.cumsum(counts) - counts
    sp = np.take(new_prices, order)  # trade prices, grouped by stock
    prev = np.empty_like(sp)  # each trade's predecessor price within its stock
    prev[1:] = sp[:-1]
    traded = counts > 0
    prev[starts[traded]] = prices[traded]
    np.subtract(sp, prev, out=sp)
    sp *= np.repeat(shares, counts)  # cap deltas, grouped by stock
    delta = np.empty_like(sp)
    delta[order] = sp  # back to time order
    caps = np.cumsum(delta, out=delta)
    caps += cap0
    return caps / float(divisor)


#: Ticks per block of ``replay_numpy``: the block's gathers and scatters stay in L2 cache.
NUMPY_BLOCK = 1 << 15


def replay_numpy(shares, prices, divisor, ids, new_prices, block=NUMPY_BLOCK):
    """Vectorised NumPy replay, blocked: the fastest NumPy version we found.

    The same algorithm as ``replay_numpy_flat``, run over blocks of ``block`` ticks (a Python
    loop over ~60 blocks for 2M ticks, never over ticks), carrying each stock's last price from
    one block to the next. The random-access gather and scatter then stay in cache; this is
    ~1.6x faster than the single pass on 2M ticks.
    """
    shares = np.asarray(shares, dtype=np.int64)
    prices = np.asarray(prices, dtype=np.int64)
    new_prices = np.asarray(new_prices, dtype=np.int64)
    ids = np.asarray(ids)
    n_stocks = shares.shape[0]
    n = new_prices.shape[0]
    cap0 = int(np.dot(prices, shares))
    keys = ids.astype(np.uint16) if n_stocks <= 1 << 16 else ids.astype(np.intp)
    last = prices.copy()  # each stock's latest price before the current block
    delta = np.empty(n, dtype=np.int64)
    for a in range(0, n, block):
        b = min(a + block, n)
        key = keys[a:b]
        order = np.argsort(key, kind="stable")  # radix sort for uint16 keys
        counts = np.bincount(key, minlength=n_stocks)
        ends = np.cumsum(counts)
        starts = ends - counts
        sp = np.take(new_prices[a:b], order)  # block's trade prices, grouped by stock
        prev = np.empty_like(sp)
        prev[1:] = sp[:-1]
        traded = counts > 0
        prev[starts[traded]] = last[traded]
        last[traded] = sp[ends[traded] - 1]
        np.subtract(sp, prev, out=sp)
        sp *= np.repeat(shares, counts)
        delta[a:b][order] = sp
    caps = np.cumsum(delta, out=delta)
    caps += cap0
    return caps / float(divisor)


_NUMBA_REPLAY = None


def numba_version():
    """numba's version string, or None when it is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return numba.__version__


def numba_replay():
    """The Numba replay peer (compiled on first call), or None when numba is not installed.

    Call it once on small inputs of the right dtypes to compile before timing.
    """
    global _NUMBA_REPLAY
    if _NUMBA_REPLAY is not None:
        return _NUMBA_REPLAY
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=False)
    def _kernel(shares, prices, divisor, ids, new_prices):
        px = prices.copy()
        cap = np.int64(0)
        for i in range(px.shape[0]):
            cap += px[i] * shares[i]
        out = np.empty(new_prices.shape[0], dtype=np.float64)
        for k in range(new_prices.shape[0]):
            i = ids[k]
            p = new_prices[k]
            cap += (p - px[i]) * shares[i]
            px[i] = p
            out[k] = cap / divisor
        return out

    def replay_numba(shares, prices, divisor, ids, new_prices):
        """Numba @njit incremental replay on an int64 running cap."""
        return _kernel(shares, prices, float(divisor), ids, new_prices)

    @numba.njit(cache=False)
    def _cap_kernel(prices, shares):
        total = np.int64(0)
        for i in range(prices.shape[0]):
            total += prices[i] * shares[i]
        return total

    replay_numba.cap = _cap_kernel  # type: ignore[attr-defined]
    _NUMBA_REPLAY = replay_numba
    return replay_numba


# ---------------------------------------------------------------------------- aggregate peers


def cap_dot(prices, shares):
    """``aggregate_cap`` peer: NumPy int64 dot product (no overflow check)."""
    return int(np.dot(prices, shares))


def cap_python(prices_list, shares_list):
    """``aggregate_cap`` peer: pure-Python sum over lists (exact, arbitrary precision)."""
    return sum([p * s for p, s in zip(prices_list, shares_list)])


# ---------------------------------------------------------------------------- engine peer


class PyEngine:
    """Pure-Python engine: one trade moves the exact int cap by (new - old) × shares."""

    __slots__ = ("prices", "shares", "cap", "divisor")

    def __init__(self, prices, shares, divisor):
        self.prices = np.asarray(prices).tolist()
        self.shares = np.asarray(shares).tolist()
        self.cap = sum(p * s for p, s in zip(self.prices, self.shares))
        self.divisor = float(divisor)

    def update(self, i, price):
        """Apply one trade (no validation) and return the new level."""
        prices = self.prices
        self.cap += (price - prices[i]) * self.shares[i]
        prices[i] = price
        return self.cap / self.divisor
