"""Plain-Python model of the methodology: slow, obvious, independent of the kernels.

Every fast function has a twin here with the same name and the same meaning, written with
Python ints (never overflowing), full recomputation instead of incremental deltas, and
``fractions.Fraction`` where a ratio is taken. Tests compare the fast path against it; users
can too. Nothing here calls kospi_fast's compiled code (or any other kospi_fast module).

    level = Σ price_i × shares_i / divisor,   divisor = base_cap / base_value
    rebasing: divisor_new = divisor_old × cap_after / cap_before   (same prices on both sides)
    total return (TR/NTR): level = (cap + carry) / divisor; on an ex-date carry += Σ dividend ×
    shares × reinvested share (1 for TR, 1 − tax rate for NTR); at the roll the carry is folded
    in, divisor × cap / (cap + carry), so TR_t = TR_{t−1} × (cap_t + D_t) / cap_{t−1}

:data:`FAST_SLOW` lists every (fast callable, slow twin) pair; ``tests/test_vs_reference.py``
sweeps it. Twins of the kernels' low-level seams (``*_inplace``, ``run_*``, ``caps_from_ell``)
take the same prepared arrays as the seam and mutate them the same way; like the seam, they
refuse an array of the wrong dtype, shape or contiguity before touching anything.
"""

from __future__ import annotations

import math
import numbers
import sys
from bisect import bisect_right
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "APPLIED",
    "BAD_ID",
    "BAD_PRICE",
    "EQUAL_NOTIONAL",
    "HALTED",
    "IGNORED",
    "INT64_MAX",
    "IN_CLOSING_CALL",
    "N_STATUS",
    "OFF_GRID",
    "OUTSIDE_LIMITS",
    "OUT_OF_ORDER",
    "ReferenceEngine",
    "ReferenceFamily",
    "aggregate_cap",
    "apply_changes_inplace",
    "apply_ticks_inplace",
    "caps_from_ell",
    "classify",
    "classify_trade",
    "feed_engine",
    "level",
    "published",
    "rebase_divisor",
    "replay",
    "run_family",
    "run_family_f64",
    "run_rows",
    "run_validated",
    "carry_divisor",
    "first_outside_band",
]

#: Every aggregate cap must fit in int64: a trade whose true cap (of any index holding the
#: stock) would exceed this is refused, and only such a trade (methodology notes, "Overflow").
INT64_MAX = 2**63 - 1

#: Won per member of an equal-weighted index at a rebalance: index shares = round(this / price).
EQUAL_NOTIONAL = 10**12

# Trade status codes of the validated feed (in words: ``kospi_fast._session.STATUS_NAMES``).
APPLIED = 0
IGNORED = 1  # off-hours: not an error, the trade does not move the index
BAD_ID = 2
BAD_PRICE = 3
OFF_GRID = 4
OUTSIDE_LIMITS = 5
HALTED = 6
OUT_OF_ORDER = 7
IN_CLOSING_CALL = 8
N_STATUS = 9


# ============================================================================ scalar pieces
def level(cap: int, divisor: float) -> float:
    """The level from an exact cap: one IEEE division of float(cap) by the divisor."""
    return float(cap) / divisor


def aggregate_cap(prices: Iterable, shares: Iterable) -> int | float:
    """Slow aggregate_cap for array_likes: an exact int for integers, ``math.fsum`` for floats."""
    # The exact path is taken when both inputs are integers (integer dtypes, or lists of ints);
    # a float array or a list holding a float takes the float path. Prices must be > 0 (and
    # finite), shares >= 0, and an integer aggregate must fit in int64.
    ps, p_float = _numbers(prices, "prices")
    ss, s_float = _numbers(shares, "shares")
    if len(ps) != len(ss):
        raise ValueError(f"`prices` and `shares` must have the same length, got {len(ps)} and {len(ss)}")
    for k, p in enumerate(ps):
        if not (p > 0) or (isinstance(p, float) and not math.isfinite(p)):
            raise ValueError(f"`prices[{k}]` must be a finite number > 0, got {p!r}")
    for k, s in enumerate(ss):
        if not (s >= 0) or (isinstance(s, float) and not math.isfinite(s)):
            raise ValueError(f"`shares[{k}]` must be a finite number >= 0, got {s!r}")
    if p_float or s_float:
        return math.fsum(float(p) * float(s) for p, s in zip(ps, ss))
    for vals, name in ((ps, "prices"), (ss, "shares")):
        _check_all(vals, name, lambda v: v <= INT64_MAX, "does not fit in int64")
    total = sum(p * s for p, s in zip(ps, ss))
    if total > INT64_MAX:
        raise ValueError(f"the aggregate Σ prices × shares overflows int64: it is {total}, beyond the maximum {INT64_MAX}")
    return total


def replay(
    shares: Sequence[int], prices: Sequence[int], divisor: float, ids: Iterable[int], new_prices: Iterable[int],
    *, rebalances: Iterable | None = None, return_state: bool = False,
) -> Any:
    """Slow replay for a tick stream: the level after each trade, the whole aggregate recomputed."""
    # rebalances: (position, ids, new_shares) applied before trade `position` (ascending, in
    # [0, n_ticks]); the divisor is rebased by rebase_divisor at the prices of that moment.
    # return_state: (levels, final prices, final shares, exact cap, divisor) instead of levels.
    if rebalances is not None or return_state:
        plan = [(int(a), [int(i) for i in r_ids], [int(x) for x in r_sh]) for a, r_ids, r_sh in (rebalances or [])]
        id_list, px = list(ids), list(new_prices)
        sh, cur, d, out, start = [int(x) for x in shares], [int(x) for x in prices], float(divisor), [], 0
        for at, r_ids, r_sh in plan + [(len(px), [], [])]:
            out += replay(sh, cur, d, id_list[start:at], px[start:at])
            for i, p in zip(id_list[start:at], px[start:at]):
                cur[int(i)] = int(p)
            start = at
            if r_ids:
                before = _cap(cur, sh)
                for i, s_new in zip(r_ids, r_sh):
                    sh[i] = s_new
                d = rebase_divisor(d, before, _cap(cur, sh))
        if not return_state:
            return out
        return (out, cur, sh, _cap(cur, sh), d)
    # Same contract as the fast replay: shares integers >= 0; prices whole numbers > 0 with
    # Σ prices × shares within int64; ids integers in [0, n). The first bad trade k (bad id,
    # bad price, or a price whose cap after it would exceed int64, whichever comes first in the
    # stream) raises ValueError naming `ids[k]` or `new_prices[k]`. Whole float prices are
    # accepted (feeds send floats).
    d = _positive_real(divisor, "divisor")
    sh = _int_values(shares, "shares", allow_float=False)
    cur = _int_values(prices, "prices", allow_float=True)
    if len(sh) != len(cur):
        raise ValueError(f"`shares` and `prices` must have the same length, got {len(sh)} and {len(cur)}")
    _check_all(sh, "shares", lambda s: s >= 0, "must be >= 0")
    _check_all(cur, "prices", lambda p: p > 0, "must be > 0")
    if _cap(cur, sh) > INT64_MAX:
        raise ValueError(f"the aggregate Σ prices × shares overflows int64: it is {_cap(cur, sh)}")
    id_list = _id_values(ids, "ids")
    px = _int_values(new_prices, "new_prices", allow_float=True)
    if len(id_list) != len(px):
        raise ValueError(f"`ids` and `new_prices` must have the same length, got {len(id_list)} and {len(px)}")
    n = len(cur)
    out = []
    for k, (i, p) in enumerate(zip(id_list, px)):
        _check_trade(k, i, p, n, INT64_MAX, "ids", "new_prices")
        cur[i] = p
        if _cap(cur, sh) > INT64_MAX:
            raise ValueError(f"`new_prices[{k}]` = {p} would overflow the int64 aggregate cap: it would be "
                                  f"{_cap(cur, sh)}")
        out.append(level(_cap(cur, sh), d))
    return out


def rebase_divisor(divisor: float, cap_before: int | float, cap_after: int | float) -> float:
    """Slow rebase_divisor for one event: ``divisor × cap_after / cap_before``, rounded once."""
    d = _positive_real(divisor, "divisor")
    _positive_real(cap_before, "cap_before")
    _positive_real(cap_after, "cap_after")
    try:
        out = float(Fraction(d) * _exact(cap_after) / _exact(cap_before))
    except OverflowError:
        out = math.inf
    if not (0.0 < out < math.inf):
        raise ValueError(f"`divisor` × `cap_after` / `cap_before` = {d!r} × {cap_after!r} / {cap_before!r} is out "
                         "of the float64 range")
    return out


def carry_divisor(divisor: float, cap_before: int, cap_after: int, carry_before=0, carry_after=0) -> float:
    """Slow carry_divisor for one rebasing of an index whose level is (cap + carry) / divisor."""
    # The level (cap + carry) / divisor stays put when cap + carry goes from its value before
    # to its value after at the same prices: divisor × (cap_after + carry_after) / (cap_before
    # + carry_before), exact, rounded once. Caps are ints > 0; carries finite ints, floats or
    # Fractions (a total-return index's dividends of the day); each cap + carry must be > 0.
    d = _positive_real(divisor, "divisor")
    sides = []
    for side, cap, carry in (("before", cap_before, carry_before), ("after", cap_after, carry_after)):
        if isinstance(cap, (bool, np.bool_)) or not isinstance(cap, numbers.Integral):
            raise TypeError(f"`cap_{side}` must be an int, got {cap!r}")
        if cap <= 0:
            raise ValueError(f"`cap_{side}` must be > 0, got {cap}")
        if isinstance(carry, (bool, np.bool_)) or not isinstance(carry, (numbers.Integral, Fraction, float, np.floating)):
            raise TypeError(f"`carry_{side}` must be an int, float or Fraction, got {carry!r}")
        if isinstance(carry, (float, np.floating)) and not math.isfinite(carry):
            raise ValueError(f"`carry_{side}` must be finite, got {carry!r}")
        total = int(cap) + _exact(carry)
        if total <= 0:
            raise ValueError(f"`cap_{side} + carry_{side}` must be > 0, got {cap} + {carry!r}")
        sides.append(total)
    return float(Fraction(d) * sides[1] / sides[0])


def published(level_value: float) -> float:
    """Slow published for a level: half-up to 2 decimals from its exact binary value, as KRX."""
    return float(Decimal(level_value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def first_outside_band(ids, prices, lower, upper, pmax) -> int:
    """Slow first_outside_band for a batch: the first trade the tick kernel would take (id in range,
    0 < price <= pmax) but outside [lower[id], upper[id]]; -1 when none comes before a trade
    that is bad in another way (or the end)."""
    n = len(lower)
    for k, (i, p) in enumerate(zip(ids.tolist(), prices.tolist())):
        if not (0 <= i < n and 0 < p <= pmax):
            return -1
        if not lower[i] <= p <= upper[i]:
            return k
    return -1


# ============================================================================ tick kernel
def apply_ticks_inplace(prices, shares, ids, new_prices, pmax, cap, divisor, levels):
    """Slow apply_ticks_inplace for one batch of prepared trades, mutating ``prices``."""
    # Contract (the seam's): prices int64 (writable), shares int64, ids int32 or int64,
    # new_prices int64, levels float64 (writable) of the trades' length or None, all 1-d and
    # C-contiguous; ``cap`` is Σ prices × shares. Trade k needs 0 <= ids[k] < len(prices) and
    # 0 < new_prices[k] <= pmax (the caller's price ceiling) and the cap after it (the caller's
    # running cap, Σ prices × shares) within int64; the first one that fails stops the batch
    # and is returned, with the trades before it applied. Returns (bad_index_or_-1, cap after the applied trades);
    # levels[k] = float(cap after trade k) / divisor for every applied trade, the rest untouched.
    n = _length(prices, "prices", _I64, writable=True)
    _same(_length(shares, "shares", _I64), "shares", n)
    m = _length(ids, "ids", _IDS)
    _same(_length(new_prices, "new_prices", _I64), "new_prices", m)
    if levels is not None:
        _same(_length(levels, "levels", _F64, writable=True), "levels", m)
    pmax, cap, d = _int_scalar(pmax, "pmax"), _int_scalar(cap, "cap"), _real_scalar(divisor, "divisor")
    cur, sh = prices.tolist(), shares.tolist()
    offset = cap - _cap(cur, sh)  # 0 when the caller's cap is Σ prices × shares
    bad = -1
    for k, (i, p) in enumerate(zip(ids.tolist(), new_prices.tolist())):
        if not (0 <= i < n and 0 < p <= pmax) or _cap(cur, sh) + offset + (p - cur[i]) * sh[i] > INT64_MAX:
            bad = k
            break
        cur[i] = p
        if levels is not None:
            levels[k] = level(_cap(cur, sh) + offset, d)
    prices[:] = cur
    return bad, _cap(cur, sh) + offset


# ============================================================================ rebasing kernel
def apply_changes_inplace(prices, shares, ids, new_prices, new_shares):
    """Slow apply_changes_inplace for one rebasing moment: Σ after − Σ before, both recounted."""
    # Contract: prices/shares int64 (writable), ids intp, new_prices/new_shares int64, all 1-d
    # C-contiguous, ids in range (unique in practice; repeated ids apply in order). Stock ids[j]
    # gets new_prices[j] and new_shares[j]; returns the change of Σ prices × shares.
    n = _length(prices, "prices", _I64, writable=True)
    _same(_length(shares, "shares", _I64, writable=True), "shares", n)
    k = _length(ids, "ids", _INTP)
    _same(_length(new_prices, "new_prices", _I64), "new_prices", k)
    _same(_length(new_shares, "new_shares", _I64), "new_shares", k)
    for j, i in enumerate(ids.tolist()):
        if not 0 <= i < n:
            raise ValueError(f"`ids[{j}]` is out of range: ids must be in [0, {n}), got {i}")
    cur, sh = prices.tolist(), shares.tolist()
    before = _cap(cur, sh)
    for i, p, s in zip(ids.tolist(), new_prices.tolist(), new_shares.tolist()):
        cur[i], sh[i] = p, s
    prices[:] = cur
    shares[:] = sh
    return _cap(cur, sh) - before


# ============================================================================ family kernel
def caps_from_ell(prices, width, col, sh, n_slots):
    """Slow caps_from_ell for the padded-row layout: Σ price × index shares of every cap slot."""
    # The layout (``_family.pyx``): the memberships of stock i are the `width` entries
    # i*width .. i*width + width - 1; entry e puts sh[e] index shares of stock i in slot col[e].
    # Returns int64 of shape (n_slots,).
    n = _length(prices, "prices", _I64)
    members = _ell_members(n, width, col, sh, n_slots)
    cur = prices.tolist()
    return np.array([_slot_cap(cur, m) for m in members], dtype=np.int64)


def run_family(prices, width, col, sh, caps, divisors, levels, ids, new_prices, pmax, out, sample_at, src=None,
               twins=None, carry=None):
    """Slow run_family for K indices in the padded-row layout: a full recompute per output row."""
    # Contract (the seam's): prices int64 (writable); col int32 and sh int64 of length
    # n_stocks × width; caps int64, divisors and levels float64 (writable caps/levels), one per
    # cap slot (the K real indices, then the padding dummies); ids int32/int64; new_prices int64;
    # out None or float64 C-contiguous (rows, n_out <= n_slots); sample_at None or int64
    # ascending trade positions. Trades apply in order; the first with a bad id, a price
    # outside (0, pmax] or one that would take the cap of any slot beyond int64 stops the batch
    # and its index is returned (else -1). Then prices and caps
    # hold the trades before it; `levels` is only specified when every trade applied
    # (levels[k] = float(caps[src[k]]) / divisors[k]). Row t of `out` (sample_at None) or row s
    # (sample_at[s] == t) holds the first n_out levels after trade t, for every applied t;
    # other rows are left untouched. `src` (int32, one per slot, each in range; None: slot k
    # reads its own cap) is the cap slot each level divides: a total-return twin reads its
    # price index's cap. `twins` (int32, each in range) lists the slots read another way than
    # caps[k] / divisors[k]. `carry` (float64, one per slot; None: zeros) is added to the cap a
    # level divides: level[k] = (float(caps[src[k]]) + carry[k]) / divisors[k].
    n = _length(prices, "prices", _I64, writable=True)
    width = _int_scalar(width, "width")
    if width < 0:
        raise ValueError(f"`width` must be >= 0, got {width}")
    _same(_length(col, "col", _I32), "col", n * width)
    _same(_length(sh, "sh", _I64), "sh", n * width)
    n_slots = _length(caps, "caps", _I64, writable=True)
    batch = _family_batch(n_slots, caps, divisors, levels, ids, new_prices, out, sample_at, src, twins, carry)
    members = _ell_members(n, width, col, sh, n_slots)
    pmax = _int_scalar(pmax, "pmax")
    return _family_replay(prices, members, lambda i, p: 0 < p <= pmax, caps, levels, ids, new_prices, out,
                          sample_at, *batch)


def run_rows(prices, rec, col, sh, broad, caps, divisors, levels, ids, new_prices, out, sample_at, src=None,
             twins=None, carry=None, path=0):
    """Slow run_rows for K indices in the row layout with a broad index and price bands."""
    # Contract (the seam's): as run_family, with the layout given per stock i by the record
    # rec[4i .. 4i+3] = (lo, span, broad shares, row start): its memberships are the broad slot
    # `broad` (if >= 0) with the record's shares and slots col[e] with sh[e] for e from its row
    # start to the next record's (the last record holds only the end, = len(col)); a trade
    # of stock i at p is refused unless lo <= p <= lo + span and p > 0 (pmax: int64's
    # maximum). `path` does not change the result.
    n = _length(prices, "prices", _I64, writable=True)
    _same(_length(rec, "rec", _I64), "rec", 4 * (n + 1))
    nnz = _length(col, "col", _I32)
    _same(_length(sh, "sh", _I64), "sh", nnz)
    n_slots = _length(caps, "caps", _I64, writable=True)
    broad = _int_scalar(broad, "broad")
    if not -1 <= broad < n_slots:
        raise ValueError(f"`broad` must be in [-1, {n_slots}), got {broad}")
    if _int_scalar(path, "path") not in (0, 1, 2):
        raise ValueError(f"`path` must be 0, 1 or 2, got {path}")
    r = rec.tolist()
    starts = r[3::4]
    if starts[0] != 0 or starts[-1] != nnz or any(b < a for a, b in zip(starts, starts[1:])):
        raise ValueError(f"`rec`: the rows must start at 0, ascend and end at len(`col`) = {nnz}")
    batch = _family_batch(n_slots, caps, divisors, levels, ids, new_prices, out, sample_at, src, twins, carry)
    members: list[list[tuple[int, int]]] = [[] for _ in range(n_slots)]
    cols, shs = col.tolist(), sh.tolist()
    for i in range(n):
        if broad >= 0:
            members[broad].append((i, r[4 * i + 2]))
        for e in range(starts[i], starts[i + 1]):
            members[cols[e]].append((i, shs[e]))
    return _family_replay(prices, members, lambda i, p: 0 < p and r[4 * i] <= p <= r[4 * i] + r[4 * i + 1],
                          caps, levels, ids, new_prices, out, sample_at, *batch)


def _rows_and_out(m, sample_at, out, n_slots):
    """The family seams' sampling arguments checked: (trade position -> the rows of ``out``
    sampled after it, the columns written per row)."""
    rows_at: dict[int, list[int]] = {}
    if sample_at is not None:
        _length(sample_at, "sample_at", _I64)
        for r, t in enumerate(sample_at.tolist()):
            rows_at.setdefault(t, []).append(r)
    n_out = n_slots
    if out is not None:
        _check(out, "out", _F64, writable=True, ndim=2)
        _same(out.shape[0], "out", m if sample_at is None else sample_at.shape[0])
        n_out = out.shape[1]
        if n_out > n_slots:
            raise ValueError(f"`out` has {n_out} columns, more than the {n_slots} of `caps`")
    return rows_at, n_out


def _family_batch(n_slots, caps, divisors, levels, ids, new_prices, out, sample_at, src, twins, carry):
    """The checks of the family seams' common arguments; (rows_at, n_out, reads, adds, divs)."""
    _same(_length(divisors, "divisors", _F64), "divisors", n_slots)
    _same(_length(levels, "levels", _F64, writable=True), "levels", n_slots)
    m = _length(ids, "ids", _IDS)
    _same(_length(new_prices, "new_prices", _I64), "new_prices", m)
    rows_at, n_out = _rows_and_out(m, sample_at, out, n_slots)
    if src is None:
        reads = list(range(n_slots))
    else:
        _same(_length(src, "src", _I32), "src", n_slots)
        reads = src.tolist()
        for k, j in enumerate(reads):
            if not 0 <= j < n_slots:
                raise ValueError(f"`src[{k}]` must be in [0, {n_slots}), got {j}")
    adds = [0.0] * n_slots
    if carry is not None:
        _same(_length(carry, "carry", _F64), "carry", n_slots)
        adds = carry.tolist()
    if twins is not None:
        _length(twins, "twins", _I32)
        for k, j in enumerate(twins.tolist()):
            if not 0 <= j < n_slots:
                raise ValueError(f"`twins[{k}]` must be in [0, {n_slots}), got {j}")
    return rows_at, n_out, reads, adds, divisors.tolist()


def _family_replay(prices, members, allowed, caps, levels, ids, new_prices, out, sample_at, rows_at, n_out,
                   reads, adds, divs):
    """Trades in order, each slot's cap recounted in full after each (``members``: per slot,
    its (stock, index shares) entries; ``allowed(i, p)``: the trade's own price check)."""
    n = prices.shape[0]
    cur = prices.tolist()
    offsets = [c - _slot_cap(cur, e) for c, e in zip(caps.tolist(), members)]  # 0 for true caps

    def caps_now() -> list[int]:  # every slot recounted from the prices
        return [_slot_cap(cur, e) + o for e, o in zip(members, offsets)]

    bad = -1
    for t, (i, p) in enumerate(zip(ids.tolist(), new_prices.tolist())):
        if not (0 <= i < n and allowed(i, p)):
            bad = t
            break
        old, cur[i] = cur[i], p
        if max(caps_now(), default=0) > INT64_MAX:
            cur[i] = old
            bad = t
            break
        if out is None:
            continue
        rows = [t] if sample_at is None else rows_at.get(t, ())
        if rows:
            now = caps_now()
            row = [(float(now[reads[k]]) + adds[k]) / divs[k] for k in range(n_out)]
            for r in rows:
                out[r, :] = row
    prices[:] = cur
    final = caps_now()
    caps[:] = final
    if bad == -1:
        levels[:] = [(float(final[j]) + a) / d for j, a, d in zip(reads, adds, divs)]
    return bad


def run_family_f64(prices, width, col, sh, caps, comps, divisors, src, ids, new_prices, out, sample_at):
    """Slow run_family_f64 for the float64 family: the padded-row layout trade by trade in
    Python floats (IEEE doubles, each operation correctly rounded as in C)."""
    # Contract (the seam's): prices float64 (writable); col int32 and sh float64 of length
    # n_stocks × width; caps, comps (writable) and divisors float64, one per cap slot; src
    # int32, one per slot, each in range; ids int32/int64; new_prices float64; out None or
    # float64 C-contiguous (rows, n_out <= n_slots); sample_at None or int64 ascending trade
    # positions. A trade moving stock i from old to p adds (p - old) × sh[e] to the running cap
    # caps[k] + comps[k] of each membership e of stock i (in row order, padding included) by
    # TwoSum: t = c + x; b = t - c; comps[k] += (c - (t - b)) + (x - b); caps[k] = t — the
    # rounding error of every addition kept, so the pair is the exact sum of the rounded terms.
    # The first trade with a bad id, a price not a finite number > 0, or a membership whose cap
    # leaves float64's range (its own and the earlier memberships' adds then done, its price
    # not set) stops the batch; its index is returned, else -1. Row t of `out` (sample_at None)
    # or row s (sample_at[s] == t) holds (caps[src[k]] + comps[src[k]]) / divisors[k] for the
    # first n_out slots after trade t; other rows are left untouched. (The drift of these
    # levels from an exact rational recount is tested in tests/test_float_books.py.)
    n = _length(prices, "prices", _F64, writable=True)
    width = _int_scalar(width, "width")
    if width < 0:
        raise ValueError(f"`width` must be >= 0, got {width}")
    _same(_length(col, "col", _I32), "col", n * width)
    _same(_length(sh, "sh", _F64), "sh", n * width)
    n_slots = _length(caps, "caps", _F64, writable=True)
    _same(_length(comps, "comps", _F64, writable=True), "comps", n_slots)
    _same(_length(divisors, "divisors", _F64), "divisors", n_slots)
    _same(_length(src, "src", _I32), "src", n_slots)
    m = _length(ids, "ids", _IDS)
    _same(_length(new_prices, "new_prices", _F64), "new_prices", m)
    rows_at, n_out = _rows_and_out(m, sample_at, out, n_slots)
    reads = src.tolist()
    for k, j in enumerate(reads):
        if not 0 <= j < n_slots:
            raise ValueError(f"`src[{k}]` must be in [0, {n_slots}), got {j}")
    cols, shs = col.tolist(), sh.tolist()
    for e, k in enumerate(cols):
        if not 0 <= k < n_slots:
            raise ValueError(f"`col[{e}]` must be in [0, {n_slots}), got {k}")
    cur, cs, es, divs = prices.tolist(), caps.tolist(), comps.tolist(), divisors.tolist()
    bad = -1
    for t, (i, p) in enumerate(zip(ids.tolist(), new_prices.tolist())):
        if not (0 <= i < n and 0.0 < p <= sys.float_info.max):
            bad = t
            break
        d = p - cur[i]
        for e in range(i * width, i * width + width):
            k, x = cols[e], d * shs[e]
            c = cs[k]
            total = c + x
            b = total - c
            es[k] += (c - (total - b)) + (x - b)
            cs[k] = total
            if not math.isfinite(total):
                bad = t
                break
        if bad != -1:
            break
        cur[i] = p
        if out is None:
            continue
        for r in ([t] if sample_at is None else rows_at.get(t, ())):
            out[r, :] = [(cs[reads[k]] + es[reads[k]]) / divs[k] for k in range(n_out)]
    prices[:] = cur
    caps[:] = cs
    comps[:] = es
    return bad


class ReferenceFamily:
    """Slow IndexFamily for K indices over one universe: dict state, every level a full recompute."""

    # definitions: IndexDefinition-like objects or mappings with ``name``, ``members`` (codes)
    # and optionally ``weighting`` ("cap", "equal" or "fixed"), ``float_ratios``, ``shares``,
    # ``base_value``, ``level``, ``base_cap``. Index shares per member:
    #   "cap"         round(listed × float ratio), the ratio taken as the decimal it prints as
    #                 (0.3 is 3/10, as in ``kospi_fast.krx``; 1 by default), a tie rounded
    #                 half-up. Ties are common: KRX's float ratios are 5% steps, so listed ×
    #                 0.05 often ends in .5 (KRX's own tie rule is unconfirmed; methodology
    #                 notes, "Index shares").
    #                 With ``cap_factors`` (a review's capping factors) the ratio is the double
    #                 float ratio × capping factor, read the same way.
    #   "equal"       max(1, round(notional / price)) at the prices of the (re)balance (notional:
    #                 the definition's, default EQUAL_NOTIONAL);
    #   "price"       1 per member (price-weighted);
    #   "fixed"       ``shares`` as given.
    # Weight caps are an iterative float computation, not modelled: give "fixed" shares.

    def __init__(self, codes: Sequence[str], listed: Sequence[int], prices: Sequence[int], definitions: Sequence) -> None:
        self.codes = list(codes)
        if len(set(self.codes)) != len(self.codes):
            raise ValueError("`codes` must be unique")
        self.listed = dict(zip(self.codes, _int_values(listed, "listed", allow_float=False)))
        self.prices = dict(zip(self.codes, _int_values(prices, "prices", allow_float=True)))
        if not (len(self.listed) == len(self.prices) == len(self.codes)):
            raise ValueError("`codes`, `listed` and `prices` must have the same length")
        _check_all(list(self.prices.values()), "prices", lambda p: p > 0, "must be > 0")
        defs = list(definitions)
        if not defs:
            raise ValueError("`definitions` must name at least one index")
        self.names: list[str] = []
        self.shares: list[dict[str, int]] = []
        self.divisors: list[float] = []
        self.reinvest: list[Fraction] = []  # share of a cash dividend each index reinvests
        self.carries: list[float] = []  # won of dividends each index reinvests today
        self.last_dividend: dict[str, tuple[Fraction, bool]] = {}  # code -> (amount, estimated)
        for d in defs:
            name = _field(d, "name")
            if name in self.names:
                raise ValueError(f"duplicate index name {name!r}")
            sh = self._index_shares(d)
            cap = self._cap_of(sh)
            if cap <= 0:
                raise ValueError(f"index {name!r} has a cap of 0")
            base_value = float(_field(d, "base_value", 100.0))
            base_cap, lvl = _field(d, "base_cap"), _field(d, "level")
            if base_cap is not None:
                divisor = float(Fraction(base_cap) / Fraction(base_value))
            else:
                divisor = float(cap) / (base_value if lvl is None else float(lvl))
            self.names.append(name)
            self.shares.append(sh)
            self.divisors.append(divisor)
            self.reinvest.append(_reinvested(_field(d, "returns", "price"), _field(d, "tax_rate")))
            self.carries.append(0.0)

    # ---------------------------------------------------------------- construction
    def _index_shares(self, d) -> dict[str, int]:
        name, members = _field(d, "name"), list(_field(d, "members"))
        if not members:
            raise ValueError(f"index {name!r} has no members")
        for c in members:
            if c not in self.prices:
                raise KeyError(f"index {name!r}: member {c!r} is not in the universe")
        weighting = _field(d, "weighting", "cap")
        if weighting == "fixed":
            out = dict(zip(members, _int_values(_field(d, "shares"), "shares", allow_float=False)))
        elif weighting == "equal":
            notional = _field(d, "notional") or EQUAL_NOTIONAL
            out = {c: max(1, round(Fraction(notional, self.prices[c]))) for c in members}
        elif weighting == "price":  # price-weighted: one share per member
            out = {c: 1 for c in members}
        else:
            if _field(d, "caps") is not None:
                raise NotImplementedError("weight caps are not modelled: give the index 'fixed' shares")
            fr = _field(d, "float_ratios")
            ratios = [1.0] * len(members) if fr is None else [float(r) for r in fr]
            cf = _field(d, "cap_factors")
            if cf is not None:  # a review's capping factor: the factor is the double fr × cf
                ratios = [r * float(f) for r, f in zip(ratios, cf)]
            # the decimal product, a tie rounded half-up (Fraction + 1/2, floored)
            out = {c: math.floor(self.listed[c] * Fraction(repr(r)) + Fraction(1, 2)) for c, r in zip(members, ratios)}
        if any(s < 0 for s in out.values()):
            raise ValueError(f"index {name!r}: index shares must be >= 0")
        return out

    def _cap_of(self, sh: Mapping[str, int]) -> int:
        return sum(self.prices[c] * s for c, s in sh.items())

    # ---------------------------------------------------------------- reading
    def caps(self) -> list[int]:
        return [self._cap_of(sh) for sh in self.shares]

    @property
    def levels(self) -> list[float]:
        return [(float(c) + x) / d for c, x, d in zip(self.caps(), self.carries, self.divisors)]

    def index_shares(self, name: str) -> dict[str, int]:
        return dict(self.shares[self.names.index(name)])

    # ---------------------------------------------------------------- trades
    def update(self, key: str | int, price: int) -> list[float]:
        i = self.codes.index(key) if isinstance(key, str) else key
        return self.update_many([i], [price])[0]

    def update_many(self, ids: Iterable[int], prices: Iterable[int], *, sample_at: Iterable[int] | None = None) -> list[list[float]]:
        """All or nothing: the first bad trade k raises ValueError naming ``ids[k]``/``prices[k]``."""
        id_list = _id_values(ids, "ids")
        px = _int_values(prices, "prices", allow_float=True)
        if len(id_list) != len(px):
            raise ValueError(f"`ids` and `prices` must have the same length, got {len(id_list)} and {len(px)}")
        keep = None if sample_at is None else _int_values(sample_at, "sample_at", allow_float=False)
        if keep and (keep[0] < 0 or keep[-1] >= len(px) or any(a > b for a, b in zip(keep, keep[1:]))):
            raise ValueError(f"`sample_at` must be ascending positions in [0, {len(px)}), got {keep[:5]}...")
        n, start = len(self.codes), dict(self.prices)
        for k, (i, p) in enumerate(zip(id_list, px)):  # the first bad trade wins, whatever its fault
            try:
                _check_trade(k, i, p, n, INT64_MAX, "ids", "prices")
                self.prices[self.codes[i]] = p
                if max(self.caps()) > INT64_MAX:
                    raise ValueError(f"`prices[{k}]` = {p} would overflow an int64 aggregate cap")
            except ValueError:
                self.prices = start
                raise
        self.prices = dict(start)
        rows = []
        for t, (i, p) in enumerate(zip(id_list, px)):
            self.prices[self.codes[i]] = p
            if keep is None:
                rows.append(self.levels)
            else:
                rows.extend(self.levels for s in keep if s == t)
        return rows

    # ---------------------------------------------------------------- dividends
    # A "total" index reinvests each cash dividend on its ex-date, a "net" one the dividend
    # net of its tax rate: the amount joins the index's carry for the day, level = (cap +
    # carry) / divisor, so the index keeps its level at the theoretical ex-dividend prices
    # (price − dividend); close_day() folds the carry into the divisor. A price index ignores
    # dividends. A correction of an estimated dividend reinvests the difference (final −
    # amount reinvested so far) from the moment it is made; nothing before it changes.
    def dividends(self, amounts: Mapping[str, Any], *, estimated: bool = True) -> list[float]:
        """Cash dividends per share going ex now, at the current prices; returns the divisors."""
        per_share = {}
        for c, a in amounts.items():
            if c not in self.prices:
                raise KeyError(f"unknown stock code {c!r}")
            per_share[c] = _amount(a)
        self._reinvest_now(per_share)
        for c, a in per_share.items():
            self.last_dividend[c] = (a, estimated)
        return list(self.divisors)

    def correct_dividend(self, code: str, amount) -> list[float]:
        """The final amount of ``code``'s latest (estimated) dividend, reinvested now."""
        if code not in self.last_dividend:
            raise ValueError(f"{code!r} has no cash dividend to correct")
        before, estimated = self.last_dividend[code]
        if not estimated:
            raise ValueError(f"the latest cash dividend of {code!r} was final")
        final = _amount(amount)
        self._reinvest_now({code: final - before})
        self.last_dividend[code] = (final, True)
        return list(self.divisors)

    def _reinvest_now(self, per_share: Mapping[str, Fraction]) -> None:
        new = list(self.carries)
        for k, sh in enumerate(self.shares):
            credit = sum((a * sh.get(c, 0) for c, a in per_share.items()), Fraction(0)) * self.reinvest[k]
            if credit:
                for c, a in per_share.items():
                    if sh.get(c, 0) > 0 and a >= self.prices[c]:
                        raise ValueError(f"the cash dividend of {c!r} is not below its price {self.prices[c]}")
                if self._cap_of(sh) + Fraction(new[k]) + credit <= 0:
                    raise ValueError("the dividends would leave the cap + carried dividends <= 0")
                new[k] = float(Fraction(new[k]) + credit)
        self.carries = new

    def close_day(self) -> list[float]:
        """The roll's close: every carry is folded into its divisor (levels unchanged)."""
        for k, sh in enumerate(self.shares):
            if self.carries[k]:
                cap = self._cap_of(sh)
                self.divisors[k] = carry_divisor(self.divisors[k], cap, cap, self.carries[k], 0)
                self.carries[k] = 0.0
        return list(self.divisors)

    def theoretical_ex_dividend_level(self, amounts: Mapping[str, Any], index: str | None = None) -> float:
        """The price index's level with every price lowered by its expected dividend."""
        k = 0 if index is None else self.names.index(index)
        sh = self.shares[k]
        ex_cap = sum((self.prices[c] - _amount(amounts.get(c, 0))) * s for c, s in sh.items())
        return float(ex_cap) / self.divisors[k]

    def rebalance(self, changes: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
        """New definitions at one moment; each rebased index keeps its level (rule 3)."""
        out = {}
        new = {name: self._index_shares(d) for name, d in changes.items()}
        for name, sh in new.items():
            k = self.names.index(name)
            before, after = self._cap_of(self.shares[k]), self._cap_of(sh)
            if after <= 0:
                raise ValueError(f"index {name!r} would have a cap of 0")
            c = self.carries[k]
            lvl_before = (float(before) + c) / self.divisors[k]
            self.divisors[k] = carry_divisor(self.divisors[k], before, after, c, c)
            self.shares[k] = sh
            out[name] = (lvl_before, (float(after) + c) / self.divisors[k])
        return out


# ============================================================================ validated feed
def classify_trade(time, last_time, stock_id, price, n_stocks, pmax, halted, lower, upper, thresholds, ticks, window):
    """The status of one trade under KRX's rules, the rules taken in order; nothing applied."""
    # The first rule that fails names the status:
    #   time before the latest timestamp seen so far in the feed       OUT_OF_ORDER
    #   outside [open, close + random end] (window[0], window[3])      IGNORED (off-hours)
    #   id outside [0, n_stocks)                                        BAD_ID
    #   price <= 0 or above the caller's price ceiling pmax             BAD_PRICE
    # (run_validated and feed_engine also give BAD_PRICE to a trade whose cap after it would
    # exceed int64; classify cannot know the cap.)
    #   stock halted                                                    HALTED
    #   inside the closing call [window[1], window[2]) (no trade runs) IN_CLOSING_CALL
    #   not a multiple of the tick of its band                          OFF_GRID
    #   outside the stock's daily limits [lower, upper]                 OUTSIDE_LIMITS
    # The tick of price p is ticks[number of band edges in `thresholds` that are <= p]: the
    # rule of ``krx.tick_size`` (edges 2000, 5000, ... and ticks 1, 5, ...: tick 1 below 2,000).
    win_open, call_start, call_end, win_close = window
    if time < last_time:
        return OUT_OF_ORDER
    if time < win_open or time > win_close:
        return IGNORED
    if not 0 <= stock_id < n_stocks:
        return BAD_ID
    if price <= 0 or price > pmax:
        return BAD_PRICE
    if halted[stock_id]:
        return HALTED
    if call_start <= time < call_end:
        return IN_CLOSING_CALL
    if price % ticks[bisect_right(thresholds, price)] != 0:
        return OFF_GRID
    if price < lower[stock_id] or price > upper[stock_id]:
        return OUTSIDE_LIMITS
    return APPLIED


def classify(times, ids, prices, lower, upper, halted, thresholds, ticks, grid, fast, win_open, call_start,
             call_end, win_close, pmax, n_stocks, last_time, status, counts, stop_at_bad):
    """Slow classify for one batch under KRX's trade rules: each trade's status, nothing applied."""
    # The statuses run_validated gives; writes status[k], adds to counts. Every trade (ignored
    # or rejected too) moves the latest time seen forward; with stop_at_bad the first trade that
    # is neither applied nor ignored stops the batch (its status and count written, its time
    # not). Returns (bad_index_or_-1, latest time seen).
    n_stocks = _int_scalar(n_stocks, "n_stocks")
    if n_stocks < 0:
        raise ValueError(f"`n_stocks` must be >= 0, got {n_stocks}")
    rules = _day_rules(n_stocks, lower, upper, halted, thresholds, ticks, grid, fast,
                       (win_open, call_start, call_end, win_close), pmax)
    m = _tape(times, ids, prices, "prices")
    _outputs(status, counts, m)
    bad, last = -1, _int_scalar(last_time, "last_time")
    for k, (t, i, p) in enumerate(zip(times.tolist(), ids.tolist(), prices.tolist())):
        st = classify_trade(t, last, i, p, n_stocks, *rules)
        status[k] = st
        counts[st] += 1
        if st not in (APPLIED, IGNORED) and stop_at_bad:
            bad = k
            break
        last = max(last, t)
    return bad, last


def run_validated(prices, shares, lower, upper, halted, thresholds, ticks, grid, fast, win_open, call_start,
                  call_end, win_close, times, ids, new_prices, pmax, cap, last_time, divisor, levels, status,
                  counts, stop_at_bad):
    """Slow run_validated for one batch under KRX's trade rules: a status per trade, full recompute."""
    # Contract (the seam's): prices int64 (writable), shares/lower/upper int64, halted uint8,
    # fast int64 (n_stocks, 2), thresholds int64 (ascending band edges), ticks int64 (one more,
    # each > 0), grid uint8, times int64, ids int32/int64, new_prices int64, status uint8 and
    # counts int64 (writable; a slot per status code), levels float64 (writable) or None.
    # `grid` and `fast` only speed up the fast path (a bitmap of on-grid prices, per-stock
    # bounds); the rules here never read them. Each trade gets classify_trade's status; an
    # applied trade moves its price; every trade moves the latest time seen forward. With
    # stop_at_bad the first trade neither applied nor ignored stops the batch: its status and
    # count are written, its level and time are not. Returns (bad_index_or_-1, cap, latest time);
    # levels[k] = float(cap after trade k) / divisor.
    n = _length(prices, "prices", _I64, writable=True)
    _same(_length(shares, "shares", _I64), "shares", n)
    rules = _day_rules(n, lower, upper, halted, thresholds, ticks, grid, fast,
                       (win_open, call_start, call_end, win_close), pmax)
    m = _tape(times, ids, new_prices, "new_prices")
    _outputs(status, counts, m)
    if levels is not None:
        _same(_length(levels, "levels", _F64, writable=True), "levels", m)
    cap, last = _int_scalar(cap, "cap"), _int_scalar(last_time, "last_time")
    d = _real_scalar(divisor, "divisor")
    cur, sh = prices.tolist(), shares.tolist()
    offset = cap - _cap(cur, sh)  # 0 when the caller's cap is Σ prices × shares
    bad = -1
    for k, (t, i, p) in enumerate(zip(times.tolist(), ids.tolist(), new_prices.tolist())):
        st = classify_trade(t, last, i, p, n, *rules)
        if st == APPLIED and _cap(cur, sh) + offset + (p - cur[i]) * sh[i] > INT64_MAX:
            st = BAD_PRICE
        status[k] = st
        counts[st] += 1
        if st == APPLIED:
            cur[i] = p
        elif st != IGNORED and stop_at_bad:
            bad = k
            break
        last = max(last, t)
        if levels is not None:
            levels[k] = level(_cap(cur, sh) + offset, d)
    prices[:] = cur
    return bad, _cap(cur, sh) + offset, last


def feed_engine(engine, times, ids, prices, lower, upper, halted, thresholds, ticks, grid, fast, win_open,
                call_start, call_end, win_close, last_time, stop_at_bad, print_times=None, print_levels=None):
    """Slow feed_engine for one validated batch into a :class:`ReferenceEngine`, all or its good trades."""
    # Prints: print_levels[j] = the level after the last applied trade stamped at or before
    # print_times[j], written for the prints stamped before the latest trade time seen.
    # The rules of run_validated on the engine's prices, shares, price bound and divisor.
    # Returns (bad, levels, status, counts, latest time): with stop_at_bad and a rejected trade
    # the engine is unchanged and the time returned is `last_time`; levels and status hold the
    # trades before the bad one (and its status); the rest is unspecified (here NaN and 255).
    if not isinstance(engine, ReferenceEngine):
        raise TypeError(f"`engine` must be a ReferenceEngine, got {type(engine).__name__}")
    n = len(engine.codes)
    rules = _day_rules(n, lower, upper, halted, thresholds, ticks, grid, fast,
                       (win_open, call_start, call_end, win_close), INT64_MAX)
    m = _tape(times, ids, prices, "prices")
    last0 = _int_scalar(last_time, "last_time")
    levels = np.full(m, np.nan)
    status = np.full(m, 255, dtype=np.uint8)
    counts = np.zeros(N_STATUS, dtype=np.int64)
    cur = [engine.prices[c] for c in engine.codes]
    sh = [engine.shares[c] for c in engine.codes]
    last = last0
    open_prints = [] if print_times is None else [(int(g), j) for j, g in enumerate(print_times)]
    for k, (t, i, p) in enumerate(zip(times.tolist(), ids.tolist(), prices.tolist())):
        while open_prints and open_prints[0][0] < t:  # a trade stamped after a print makes it final
            print_levels[open_prints.pop(0)[1]] = level(_cap(cur, sh), engine.divisor)
        st = classify_trade(t, last, i, p, n, *rules)
        if st == APPLIED and _cap(cur, sh) + (p - cur[i]) * sh[i] > INT64_MAX:
            st = BAD_PRICE
        status[k] = st
        counts[st] += 1
        if st == APPLIED:
            cur[i] = p
        elif st != IGNORED and stop_at_bad:
            return k, levels, status, counts, last0
        last = max(last, t)
        levels[k] = level(_cap(cur, sh), engine.divisor)
    engine.prices = dict(zip(engine.codes, cur))
    return -1, levels, status, counts, last


# ============================================================================ engine
class ReferenceEngine:
    """Slow IndexEngine for one index: dict state, the level always recomputed in full.

    ``prices`` and ``shares`` map code -> int.
    """

    def __init__(
        self,
        codes: Sequence[str],
        shares: Sequence[int],
        prices: Sequence[int],
        *,
        level: float | None = None,
        base_cap: float | None = None,
        base_value: float = 100.0,
    ) -> None:
        self.codes = list(codes)
        self.shares = {c: int(s) for c, s in zip(codes, shares)}
        self.prices = {c: int(p) for c, p in zip(codes, prices)}
        self.base_value = float(base_value)
        if base_cap is not None:
            self.divisor = float(base_cap) / self.base_value
        else:
            target = self.base_value if level is None else float(level)
            self.divisor = self.cap() / target

    def cap(self) -> int:
        return sum(self.prices[c] * self.shares[c] for c in self.codes)

    @property
    def level(self) -> float:
        return level(self.cap(), self.divisor)

    @property
    def base_cap(self) -> float:
        return self.divisor * self.base_value

    def update(self, code: str, price: int) -> float:
        if code not in self.prices:
            raise KeyError(code)
        if int(price) <= 0:
            raise ValueError(price)
        self.prices[code] = int(price)
        return self.level

    def update_many(self, ids: Iterable[int], prices: Iterable[int]) -> list[float]:
        """All or nothing: the first bad trade k raises ValueError naming ``ids[k]``/``prices[k]``."""
        id_list = _id_values(ids, "ids")
        px = _int_values(prices, "prices", allow_float=True)
        if len(id_list) != len(px):
            raise ValueError(f"`ids` and `prices` must have the same length, got {len(id_list)} and {len(px)}")
        n, start, out = len(self.codes), dict(self.prices), []
        for k, (i, p) in enumerate(zip(id_list, px)):  # the first bad trade wins, whatever its fault
            try:
                _check_trade(k, i, p, n, INT64_MAX, "ids", "prices")
                self.prices[self.codes[i]] = p
                if self.cap() > INT64_MAX:
                    raise ValueError(f"`prices[{k}]` = {p} would overflow the int64 aggregate cap")
            except ValueError:
                self.prices = start
                raise
            out.append(self.level)
        return out

    def apply_changes(
        self,
        codes: Sequence[str],
        prices: Sequence[int] | None = None,
        shares: Sequence[int] | None = None,
    ) -> float:
        """Apply new reference prices / shares at one moment and rebase; returns the new divisor."""
        before, start = self.cap(), (dict(self.prices), dict(self.shares))
        for k, c in enumerate(codes):
            if prices is not None:
                self.prices[c] = int(prices[k])
            if shares is not None:
                self.shares[c] = int(shares[k])
        after = self.cap()
        if after > INT64_MAX:
            self.prices, self.shares = start
            raise ValueError(f"the changes would overflow the int64 aggregate cap: it would be {after}")
        self.divisor = rebase_divisor(self.divisor, before, after)
        return self.divisor


# ============================================================================ the registry
#: Every fast callable (dotted name) and its slow twin. Functions share their twin's name; a
#: class ``IndexX`` has the twin ``ReferenceX``.
FAST_SLOW: list[tuple[str, Any]] = [
    ("kospi_fast._aggregate.aggregate_cap", aggregate_cap),
    ("kospi_fast._ticks.replay", replay),
    ("kospi_fast._ticks.apply_ticks_inplace", apply_ticks_inplace),
    ("kospi_fast._rebase.rebase_divisor", rebase_divisor),
    ("kospi_fast.book.carry_divisor", carry_divisor),
    ("kospi_fast._engine.first_outside_band", first_outside_band),
    ("kospi_fast._rebase.apply_changes_inplace", apply_changes_inplace),
    ("kospi_fast._family.caps_from_ell", caps_from_ell),
    ("kospi_fast._family.run_family", run_family),
    ("kospi_fast._family.run_family_f64", run_family_f64),
    ("kospi_fast._family.run_rows", run_rows),
    ("kospi_fast._session.run_validated", run_validated),
    ("kospi_fast._session.classify", classify),
    ("kospi_fast._session.feed_engine", feed_engine),
    ("kospi_fast.engine.published", published),
    ("kospi_fast.engine.IndexEngine", ReferenceEngine),
    ("kospi_fast.family.IndexFamily", ReferenceFamily),
]


# ============================================================================ helpers
_I64 = (np.dtype(np.int64),)
_INTP = (np.dtype(np.intp),)
_IDS = (np.dtype(np.int32), np.dtype(np.int64))
_I32 = (np.dtype(np.int32),)
_F64 = (np.dtype(np.float64),)
_U8 = (np.dtype(np.uint8),)


def _check(a, name: str, dtypes: tuple, *, writable: bool = False, ndim: int = 1) -> None:
    """Refuse what the seam refuses before it takes a pointer: a non-array or another dtype
    (native byte order) is a TypeError; another ndim, a non-C-contiguous, misaligned or (for
    outputs) read-only array a ValueError; the message names the argument."""
    want = " or ".join(str(d) for d in dtypes)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"`{name}` must be a numpy array of {want}, got {type(a).__name__}")
    if a.dtype not in dtypes:  # a byte-swapped dtype is not equal to the native one
        raise TypeError(f"`{name}` must have dtype {want}, got {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"`{name}` must be {ndim}-dimensional, got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"`{name}` must be C-contiguous, got strides {a.strides}")
    if not a.flags.aligned:
        raise ValueError(f"`{name}` must be aligned")
    if writable and not a.flags.writeable:
        raise ValueError(f"`{name}` must be writeable (the kernel writes it)")


def _length(a, name: str, dtypes: tuple, *, writable: bool = False) -> int:
    _check(a, name, dtypes, writable=writable)
    return a.shape[0]


def _same(got: int, name: str, want: int) -> None:
    if got != want:
        raise ValueError(f"`{name}` must have length {want}, got {got}")


def _int_scalar(x, name: str) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {x!r}")
    return int(x)


def _real_scalar(x, name: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {x!r}")
    return float(x)


def _positive_real(x, name: str) -> float:
    """A finite real > 0, as a float."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {x!r}")
    try:
        v = float(x)
    except OverflowError:
        v = math.inf
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"`{name}` must be a finite number > 0, got {x!r}")
    return v


def _exact(x) -> Fraction:
    """The exact value of a real number (an int stays exact, a float is its binary value)."""
    return Fraction(int(x)) if isinstance(x, numbers.Integral) else Fraction(x)


def _numbers(values, name: str) -> tuple[list, bool]:
    """1-d numbers as Python ints (exact) or floats, and whether any is a float (the float path)."""
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"`{name}` must be an array of numbers, got {values!r}")
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"`{name}` must be 1-dimensional, got shape {values.shape}")
        kind = values.dtype.kind
        if kind in "iu":
            return [int(v) for v in values.tolist()], False
        if kind == "f":
            return [float(v) for v in values.tolist()], True
        raise TypeError(f"`{name}` must have an integer or float dtype, got {values.dtype}")
    out, is_float = [], False
    for k, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"`{name}[{k}]` must be a number, got {v!r}")
        if isinstance(v, numbers.Integral):
            out.append(int(v))
        else:
            out.append(float(v))
            is_float = True
    return out, is_float


def _int_values(values, name: str, *, allow_float: bool) -> list[int]:
    """1-d integers (whole finite floats too when ``allow_float``) as Python ints."""
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"`{name}` must be 1-dimensional, got shape {values.shape}")
    if isinstance(values, np.ndarray) and values.dtype.kind not in "iuf":
        raise TypeError(f"`{name}` must be an integer array, got dtype {values.dtype}")
    vals, is_float = _numbers(values, name)
    if not is_float:
        for k, v in enumerate(vals):
            if not -(2**63) <= v <= INT64_MAX:
                raise ValueError(f"`{name}[{k}]` does not fit in int64, got {v}")
        return vals
    if not allow_float and vals:
        raise TypeError(f"`{name}` must be an integer array, got floats")
    out = []
    for k, v in enumerate(vals):
        if not (math.isfinite(v) and v == math.floor(v)):
            raise ValueError(f"`{name}[{k}]` must be a whole, finite number, got {v!r}")
        out.append(int(v))
    return out


def _id_values(values, name: str) -> list[int]:
    """Stock ids: an array or list of integers (an array of another kind is refused, even empty)."""
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"`{name}` must be an array of integer ids, got {values!r}")
    kind = values.dtype.kind if isinstance(values, np.ndarray) else None
    if kind is not None and kind not in "iu":
        raise TypeError(f"`{name}` must be an integer array of ids, got dtype {values.dtype}")
    return _int_values(values, name, allow_float=False)


def _day_rules(n: int, lower, upper, halted, thresholds, ticks, grid, fast, window, pmax) -> tuple:
    """Check the day's rule arrays as the seam does (lengths against ``n``, the tick table
    well formed) and return what classify_trade takes after ``n_stocks``."""
    for arr, name in ((lower, "lower"), (upper, "upper")):
        _same(_length(arr, name, _I64), name, n)
    _same(_length(halted, "halted", _U8), "halted", n)
    _check(fast, "fast", _I64, ndim=2)
    _same(fast.shape[0], "fast", n)
    if fast.shape[1] != 2:
        raise ValueError(f"`fast` must have 2 columns (lo, span), got {fast.shape[1]}")
    n_th = _length(thresholds, "thresholds", _I64)
    _same(_length(ticks, "ticks", _I64), "ticks", n_th + 1)
    th, tk = thresholds.tolist(), ticks.tolist()
    for b in range(n_th + 1):
        if tk[b] <= 0:
            raise ValueError(f"`ticks[{b}]` must be > 0, got {tk[b]}")
        if 0 < b < n_th and th[b] < th[b - 1]:
            raise ValueError(f"`thresholds` must be ascending, got {th[b - 1]} then {th[b]} at {b}")
    _length(grid, "grid", _U8)
    window = tuple(_int_scalar(w, "window") for w in window)
    return (_int_scalar(pmax, "pmax"), halted.tolist(), lower.tolist(), upper.tolist(), th, tk, window)


def _tape(times, ids, prices, prices_name: str) -> int:
    m = _length(times, "times", _I64)
    _same(_length(ids, "ids", _IDS), "ids", m)
    _same(_length(prices, prices_name, _I64), prices_name, m)
    return m


def _outputs(status, counts, m: int) -> None:
    _same(_length(status, "status", _U8, writable=True), "status", m)
    _same(_length(counts, "counts", _I64, writable=True), "counts", N_STATUS)


def _check_all(values: Sequence[int], name: str, ok, what: str) -> None:
    for k, v in enumerate(values):
        if not ok(v):
            raise ValueError(f"`{name}[{k}]` {what}, got {v}")


def _check_trade(k: int, i: int, p: int, n: int, pmax: int, ids_name: str, prices_name: str) -> None:
    """Trade k is good when its id is in [0, n) and its price in (0, pmax]; else ValueError."""
    if not 0 <= i < n:
        raise ValueError(f"`{ids_name}[{k}]` is out of range: ids must be in [0, {n}), got {i}")
    if p <= 0:
        raise ValueError(f"`{prices_name}[{k}]` must be > 0, got {p}")
    if p > pmax:
        raise ValueError(f"`{prices_name}[{k}]` must be <= {pmax}, got {p}")


def _cap(prices: Sequence[int], shares: Sequence[int]) -> int:
    return sum(p * s for p, s in zip(prices, shares))


def _ell_members(n_stocks: int, width, col, sh, n_slots) -> list[list[tuple[int, int]]]:
    """The padded-row layout decoded: for each cap slot, its (stock, index shares) entries."""
    width, n_slots = _int_scalar(width, "width"), _int_scalar(n_slots, "n_slots")
    if width < 0 or n_slots < 0:
        raise ValueError(f"`width` and `n_slots` must be >= 0, got {width} and {n_slots}")
    _same(_length(col, "col", _I32), "col", n_stocks * width)
    _same(_length(sh, "sh", _I64), "sh", n_stocks * width)
    members: list[list[tuple[int, int]]] = [[] for _ in range(n_slots)]
    for e, (k, s) in enumerate(zip(col.tolist(), sh.tolist())):
        if not 0 <= k < n_slots:
            raise ValueError(f"`col[{e}]` must be in [0, {n_slots}), got {k}")
        members[k].append((e // width, s))
    return members


def _slot_cap(prices: Sequence[int], entries: Sequence[tuple[int, int]]) -> int:
    return sum(prices[i] * s for i, s in entries)


def _amount(x) -> Fraction:
    """A dividend per share, exact: an int as itself, a float as the decimal it prints as."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)) or x < 0:
        raise ValueError(f"a dividend must be a finite number >= 0, got {x!r}")
    return Fraction(int(x)) if isinstance(x, numbers.Integral) else Fraction(repr(float(x)))


def _reinvested(returns: str, tax_rate) -> Fraction:
    """The share of a cash dividend an index reinvests: 0 (price), 1 (total), 1 − tax (net)."""
    if returns == "price":
        return Fraction(0)
    if returns == "total":
        return Fraction(1)
    if returns == "net":
        return 1 - Fraction(repr(float(tax_rate)))
    raise ValueError(f"unknown return type {returns!r}")


def _field(d, key: str, default=None):
    """A definition's field, from a mapping or an attribute."""
    if isinstance(d, Mapping):
        return d.get(key, default)
    return getattr(d, key, default)
