"""Many indices over one universe, updated from one feed: ``IndexFamily``, the K-index book.

What an index is (members, weighting, capping) lives in :mod:`kospi_fast.definitions`;
corporate actions, the roll, snapshots and persistence in :class:`~kospi_fast.book.IndexBook`.
This module holds the family's hot state: memberships laid out by stock in rows, the broad
index (KOSPI) apart (see ``_family.pyx``), so a trade touches only the indices holding the
stock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from kospi_fast import _validation, kospi200
from kospi_fast._family import run_family_f64, run_rows
from kospi_fast._ticks import prepare_ticks, raise_bad_tick
from kospi_fast.book import _DEFAULT_BAND, IndexBook, _band_for, register_book
from kospi_fast.definitions import EQUAL_NOTIONAL, IndexDefinition, cap_weights, index_weights, kospi_definitions
from kospi_fast.events import Event
from kospi_fast.state import BookState, RebaseRecord, exact_cap_f64, exact_caps, running_pair
from kospi_fast.universe import Universe

__all__ = ["EQUAL_NOTIONAL", "IndexDefinition", "IndexFamily", "cap_weights"]

PAD_WIDTH = 8  # rows (beyond the broad index) at most this wide are padded to one width


@register_book
class IndexFamily(IndexBook):
    """K indices over one universe, all updated by each trade in one kernel pass.

    Parameters
    ----------
    universe : Universe
    definitions : sequence of IndexDefinition
    prices : array_like of int, optional
        Current prices (default: the universe's base prices).
    date : date or ISO str, optional
        The trading day this state is in force (dates the first entry of the point-in-time
        history read by :meth:`as_of`; each :meth:`roll` with ``date=`` adds one).
    price_band : float, Fraction, Decimal or None
        Each trade must lie within ``± price_band`` of its stock's reference price (default
        0.30, KRX's daily limit; None: no band); see :attr:`IndexEngine.price_band`. A float64
        family has none.
    exact : bool
        False: a float64 family (see :class:`~kospi_fast.IndexEngine`'s ``exact``): float
        prices and ``listed`` shares, index shares not rounded to whole shares (``listed ×
        factor``, ``notional / price``), each index's running cap compensated. Price indices
        only (a total-return index's dividends are KRX's, in won).
    listed : array_like, optional
        Listed shares (supply) per stock, >= 0 (default: the universe's shares); reals for a
        float64 family.

    Examples
    --------
    >>> import kospi_fast as kf
    >>> u = kf.sample_universe()
    >>> fam = IndexFamily.kospi(u, levels={"KOSPI": 5781.20})
    >>> fam.update_many([0, 1], [200_000, 1_010_000]).shape
    (2, 23)
    """

    _ATTRS = IndexBook._ATTRS | {"_prices", "_shares", "_width", "_broad", "_rec", "_col", "_sh", "_divisors",
                                 "_caps", "_levels", "_src", "_twins", "_carry", "_history", "_band", "_comps"}

    def __init__(self, universe: Universe, definitions: Sequence[IndexDefinition], *, prices: object = None,
                 date: object = None, price_band: object = _DEFAULT_BAND, exact: bool = True,
                 listed: object = None) -> None:
        if not isinstance(universe, Universe):
            raise TypeError(f"`universe` must be a kospi_fast.Universe, got {type(universe).__name__}")
        defs = list(definitions)
        if not defs:
            raise ValueError("`definitions` must name at least one index")
        names = [d.name if isinstance(d, IndexDefinition) else None for d in defs]
        for k, d in enumerate(defs):
            if not isinstance(d, IndexDefinition):
                raise TypeError(f"`definitions[{k}]` must be an IndexDefinition, got {d!r}")
            if names.index(d.name) != k:
                raise ValueError(f"`definitions[{k}]`: duplicate index name {d.name!r}")
        if not isinstance(exact, bool):
            raise TypeError(f"`exact` must be a bool, got {exact!r}")
        price_band = _band_for(price_band, exact)
        n = len(universe)
        num = _validation.int64_array if exact else _validation.float64_array
        if prices is None:
            px = universe.base_prices.copy() if exact else universe.base_prices.astype(np.float64)
        else:
            px = num(prices, "prices")
        lst = (universe.shares.copy() if exact else universe.shares.astype(np.float64)) if listed is None \
            else num(listed, "listed")
        for arr, what in ((px, "prices"), (lst, "listed")):
            if arr.shape[0] != n:
                raise ValueError(f"`{what}` must have one entry per stock ({n}), got {arr.shape[0]}")
        _validation.check_positive(px, "prices")
        _validation.check_non_negative(lst, "listed")
        if not exact:
            for k, d in enumerate(defs):
                if d.returns != "price":
                    raise ValueError(f"`definitions[{k}]` {d.name!r} is a {d.returns!r}-return index: a float64 "
                                     "family holds price indices only (dividends are reinvested in won)")
        shares, factors = _weights_matrix(universe, defs, lst, px, exact=exact)
        caps = exact_caps(px, shares, [d.name for d in defs])
        divisors = np.empty(len(defs))
        for k, d in enumerate(defs):
            if caps[k] <= 0:
                raise ValueError(f"index {d.name!r} has a cap of 0")
            cap = caps[k] if exact else float(caps[k])
            divisors[k] = _validation.index_divisor(cap, d.base_cap, d.base_value, d.level, f"index {d.name!r}: ")
        day = None if date is None else _validation.as_date(date, "date")
        self._core_install(px, shares, divisors, universe)
        self._book_init(universe, defs, lst, lst > 0, factors, px, price_band)
        self._history: list = [(day, None)]

    # ------------------------------------------------------------------ book hooks
    def _core_prices(self) -> np.ndarray:
        return self._prices.copy()

    def _core_shares(self) -> np.ndarray:
        return self._shares.copy()

    def _core_divisors(self) -> np.ndarray:
        return self._divisors[: self._shares.shape[0]].copy()

    def _core_carries(self) -> np.ndarray:
        return self._carry[: self._shares.shape[0]].copy()

    def _core_running(self) -> np.ndarray | None:
        """A float64 family's running caps, (K, 2): each index's (cap, compensation) (a
        twin's, its price index's); None for an exact family."""
        if self._comps is None:
            return None
        src = self._src[: len(self._defs)]
        return np.stack([self._caps[src], self._comps[src]], axis=1)

    def _core_install(self, prices, shares, divisors, universe, carries=None, running=None) -> None:
        """Lay the memberships out for the kernel (``_family.pyx``) and recount every cap.
        Called with validated arrays only.

        An exact family: the index holding the most stocks (KOSPI in the KOSPI family) is the
        kernel's broad index, its shares in the per-stock records (``_rec``: lo, hi − lo, broad
        shares, row start) and its cap in a register; the other memberships are rows by stock,
        padded to the widest row with 0-share entries at dummy slots after the K real ones when
        that row is at most ``PAD_WIDTH`` wide (a constant trip count predicts better), else
        unpadded (each stock walks its own memberships only; "Speed (issue 16)" in
        docs/methodology-notes.md has the figures). A float64 family keeps every index in rows
        padded to the widest (``_width``; ``_family.run_family_f64``).

        An index whose index shares equal an earlier index's (a TR/NTR twin of its price
        index) gets no row of its own: its level divides that index's cap (``src``), so it
        adds nothing to the per-trade work. ``carries`` (K,): won added to each index's cap
        (a total-return index's dividends of the day; default 0)."""
        K, n = shares.shape
        src = np.arange(K, dtype=np.int32)
        first: dict[bytes, int] = {}
        for k in range(K):
            src[k] = first.setdefault(shares[k].tobytes(), k)
        own = np.where((src == np.arange(K))[:, None], shares, 0)
        num = np.float64 if prices.dtype == np.float64 else np.int64  # a float64 family: reals
        broad = int(np.argmax((own > 0).sum(axis=1)))
        rest = own.copy()
        if num is np.int64:
            rest[broad] = 0
        stock_k, stock_i = np.nonzero(rest)
        order = np.lexsort((stock_k, stock_i))
        stock, col, sh = stock_i[order], stock_k[order].astype(np.int32), rest[stock_k, stock_i][order]
        counts = np.bincount(stock, minlength=n)
        width = int(counts.max()) if n else 0
        if num is np.float64:
            pad = max(width, 1)
        else:
            pad = width if 0 < width <= PAD_WIDTH and not np.all(counts == width) else 0
        if pad:  # padding position j of a row points at its own dummy slot K + j (_family.pyx)
            slot = np.arange(stock.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
            ell_col = np.broadcast_to(np.arange(K, K + pad, dtype=np.int32), (n, pad)).copy()
            ell_sh = np.zeros((n, pad), dtype=num)
            ell_col[stock, slot] = col
            ell_sh[stock, slot] = sh
            col, sh, counts = ell_col.reshape(-1), ell_sh.reshape(-1), np.full(n, pad)
        self._prices = np.ascontiguousarray(prices, dtype=num)
        self._shares = np.ascontiguousarray(shares, dtype=num)
        self._shares.flags.writeable = False
        self._col = np.ascontiguousarray(col, dtype=np.int32)
        self._sh = np.ascontiguousarray(sh, dtype=num)
        if num is np.float64:
            self._width, self._broad, self._rec = pad, None, None
        else:
            self._width, self._broad = None, broad
            self._rec = np.zeros((n + 1, 4), dtype=np.int64)  # (lo, hi - lo, broad shares, row start)
            self._rec[:n, 2] = own[broad]
            self._rec[1:, 3] = np.cumsum(counts)
        self._divisors = np.ones(K + pad)  # slots after K are padding dummies
        self._divisors[:K] = divisors
        self._src = np.concatenate([src, np.arange(K, K + pad, dtype=np.int32)])
        self._carry = np.zeros(K + pad)
        if carries is not None:
            self._carry[:K] = carries
        # levels read another way than caps[k] / divisors[k]: refreshed per trade when every
        # trade is output
        self._twins = np.flatnonzero((src != np.arange(K)) | (self._carry[:K] != 0)).astype(np.int32)
        if num is np.float64:
            # each own-row index's running cap: as saved (bit for bit), else an exact recount
            self._caps, self._comps = np.zeros(K + pad), np.zeros(K + pad)
            for k in np.flatnonzero(src == np.arange(K)):
                pair = running_pair(exact_cap_f64(self._prices, self._shares[k])) if running is None \
                    else tuple(running[k])
                self._caps[k], self._comps[k] = pair
            self._levels = (self._caps[self._src] + self._comps[self._src]) / self._divisors
        else:
            self._comps = None
            self._caps = self._full_caps()
            self._levels = (self._caps[self._src] + self._carry) / self._divisors
        self._core_set_band(None, None)  # the book sets it around the reference prices

    def _core_set_band(self, lower, upper) -> None:
        """Install the per-stock price band (validated int64 arrays, or None for none), for an
        exact family also in the kernel's records as (lo, hi - lo): the band test is one
        unsigned compare, and lo >= 1 folds in ``p > 0``; an empty band (hi < lo) is
        (INT64_MIN, 0). No price ceiling: the caps' overflow is guarded exactly per trade."""
        rec = self._rec
        if lower is None:
            self._band = None
            if rec is not None:
                rec[:-1, 0], rec[:-1, 1] = 1, _validation.INT64_MAX - 1
        else:
            lo = np.ascontiguousarray(np.maximum(lower, 1), dtype=np.int64)
            hi = np.ascontiguousarray(upper, dtype=np.int64)
            self._band = (lo, hi)
            if rec is not None:
                empty = hi < lo
                rec[:-1, 0] = np.where(empty, np.iinfo(np.int64).min, lo)
                rec[:-1, 1] = np.where(empty, 0, hi - np.where(empty, 0, lo))

    def _core_band(self) -> tuple[np.ndarray, np.ndarray]:
        if self._comps is not None:  # a float64 family: any finite price > 0
            n = self._prices.shape[0]
            return np.full(n, 5e-324), np.full(n, 1.7976931348623157e308)
        if self._band is None:
            n = self._prices.shape[0]
            return np.ones(n, dtype=np.int64), np.full(n, _validation.INT64_MAX, dtype=np.int64)
        return self._band[0].copy(), self._band[1].copy()

    def _full_caps(self) -> np.ndarray:
        """An exact family's caps of every cap slot, recomputed in full and exactly from the
        index shares: each index with its own row, 0 for a twin (its level reads its price
        index's cap) and for the padding slots."""
        K = self._shares.shape[0]
        own = self._src[:K] == np.arange(K)
        caps = np.zeros(self._divisors.shape[0], dtype=np.int64)
        caps[:K][own] = exact_caps(self._prices, self._shares[own])
        return caps

    # ------------------------------------------------------------------ reading
    @property
    def levels(self) -> np.ndarray:
        """Current levels, float64 shape (n_indices,)."""
        return self._levels[: len(self._defs)].copy()

    @property
    def caps(self) -> np.ndarray:
        """Exact aggregate caps (price units × shares), int64 shape (n_indices,) (a twin's is its
        price index's); a float64 family's running caps, each rounded to one float64."""
        src = self._src[: len(self._defs)]
        if self._comps is not None:
            return self._caps[src] + self._comps[src]
        return self._caps[src]

    @property
    def divisors(self) -> np.ndarray:
        return self._divisors[: len(self._defs)].copy()

    @property
    def prices(self) -> np.ndarray:
        return self._prices.copy()

    def __len__(self) -> int:
        return len(self._defs)

    def index_shares(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(member ids, int64 index shares) of one index: its definition's members in their
        order, then stocks that joined since (new listings), by id."""
        k = self.index_of(name)
        held = self._factors[k] > 0
        index = self.universe.code_index
        first = [index[c] for c in self._defs[k].members if c in index and held[index[c]]]
        rest = np.setdiff1d(np.flatnonzero(held), first)
        ids = np.concatenate([np.array(first, dtype=np.intp), rest.astype(np.intp)])
        return ids, self._shares[k, ids].copy()

    def recompute(self) -> np.ndarray:
        """Levels from a full aggregation (the check for ``levels``); for a float64 family an
        exact rational recount of each cap, rounded once (``levels`` are within the
        documented drift of it)."""
        if self._comps is not None:
            return np.array([float(exact_cap_f64(self._prices, self._shares[k])) / self._divisors[k]
                             for k in range(len(self._defs))])
        return ((self._full_caps()[self._src] + self._carry) / self._divisors)[: len(self._defs)]

    # ------------------------------------------------------------------ trades
    def update_many(self, ids: object, prices: object, *, sample_at: object = None,
                    out: np.ndarray | None = None) -> np.ndarray:
        """Apply trades in order, all or nothing; every index holding a stock moves with it.

        Parameters
        ----------
        ids : array_like of int, shape (n_ticks,)
        prices : array_like of int, shape (n_ticks,)
            Integer price units; finite reals > 0 in a float64 family (``exact=False``).
        sample_at : array_like of int, optional
            Ascending trade positions after which to record the levels (e.g. the last trade
            before each publication time). Default: after every trade.
        out : ndarray of float64, optional
            Write the levels here and return it: the result's shape, C-contiguous, writeable,
            sharing no memory with the inputs (a reused buffer spares a large batch the page
            faults of a fresh array). On an error the family is unchanged but ``out`` may hold
            levels of the trades before the bad one.

        Returns
        -------
        ndarray of float64, shape (n_ticks, n_indices) or (len(sample_at), n_indices)
            ``out`` when given.
        """
        n = len(self.universe)
        if self._comps is not None:
            return self._update_many_f64(ids, prices, sample_at, out)
        ids, prices = prepare_ticks(ids, prices, n, "prices")
        m = prices.shape[0]
        samples = None if sample_at is None else _validation.sample_positions(sample_at, m)
        rows = m if samples is None else samples.shape[0]
        shape = (rows, len(self._defs))
        out = _validation.out_array(out, shape, (ids, prices, samples))
        if out is None:
            out = np.empty(shape, dtype=np.float64)
        work_p, work_c, work_l = self._prices.copy(), self._caps.copy(), self._levels.copy()
        bad = run_rows(work_p, self._rec.reshape(-1), self._col, self._sh, self._broad, work_c, self._divisors,
                       work_l, ids, prices, out, samples, self._src, self._twins, self._carry)
        if bad == -2:
            raise MemoryError("IndexFamily.update_many: no memory for the kernel's scratch arrays")
        if bad != -1:
            self._raise_bad_tick(bad, ids, prices, work_p, work_c)
        self._prices, self._caps, self._levels = work_p, work_c, work_l
        return out

    def _update_many_f64(self, ids: object, prices: object, sample_at: object, out: object) -> np.ndarray:
        """A float64 family's batch (``_family.run_family_f64``, the compensated step), all or
        nothing: the kernel runs on copies, swapped in when every trade was good."""
        n = len(self.universe)
        ids = _validation.id_array(ids, "ids", n, check_range=False)
        prices = _validation.float64_array(prices, "prices")
        _validation.check_same_length(ids, "ids", prices, "prices")
        m = prices.shape[0]
        samples = None if sample_at is None else _validation.sample_positions(sample_at, m)
        shape = (m if samples is None else samples.shape[0], len(self._defs))
        target = _validation.out_array(out, shape, (ids, prices, samples))
        if target is None:
            target = np.empty(shape, dtype=np.float64)
        work_p, work_c, work_e = self._prices.copy(), self._caps.copy(), self._comps.copy()
        bad = run_family_f64(work_p, self._width, self._col, self._sh, work_c, work_e, self._divisors,
                             self._src, ids, prices, target, samples)
        if bad != -1:
            i, p = int(ids[bad]), float(prices[bad])
            if not 0 <= i < n:
                raise ValueError(f"`ids[{bad}]` is out of range: ids must be in [0, {n}), got {i}")
            if not 0 < p <= 1.7976931348623157e308:
                raise ValueError(f"`prices[{bad}]` must be a finite number > 0, got {p!r}")
            raise _validation.overflow_refused(
                f"`prices[{bad}]` = {p!r} would take a float64 aggregate cap beyond float64's range; nothing was "
                "applied", bad)
        self._prices, self._caps, self._comps = work_p, work_c, work_e
        self._levels = (work_c[self._src] + work_e[self._src]) / self._divisors
        return target

    def _raise_bad_tick(self, k: int, ids: np.ndarray, prices: np.ndarray, work_p: np.ndarray,
                        work_c: np.ndarray) -> None:
        """The error for trade ``k``, refused by the kernel (``work_p``/``work_c``: the state
        just before it, which the kernel leaves exactly): naming the index whose cap it would
        take beyond int64 when that was the reason."""
        n, i = len(self.universe), int(ids[k])
        if 0 <= i < n and int(prices[k]) > 0:
            if self._band is not None and not self._band[0][i] <= int(prices[k]) <= self._band[1][i]:
                self._band_error(k, i, int(prices[k]))
            for j in range(len(self._defs)):
                s = int(self._shares[j, i])
                if int(work_c[j]) + (int(prices[k]) - int(work_p[i])) * s > _validation.INT64_MAX:
                    raise_bad_tick(k, ids, prices, n, _validation.INT64_MAX, "ids", "prices", cap=int(work_c[j]),
                                   prices=work_p, shares=self._shares[j], index=self._defs[j].name)
        raise_bad_tick(k, ids, prices, n, _validation.INT64_MAX, "ids", "prices")

    def update(self, code: str, price: object) -> np.ndarray:
        """One trade (code as a str, price in price units); returns the levels after it. An integer is
        refused (it may be a code whose leading zeros were lost): ids go to :meth:`update_id`."""
        i = self.universe.id_of(code)
        p = _validation.price_scalar(price) if self._comps is None else _validation.real_price(price)
        return self._update_one(i, p)

    def update_id(self, stock_id: int, price: object) -> np.ndarray:
        """One trade of the stock with this id (row of the universe); returns the levels."""
        i = self.universe.check_id(stock_id)
        p = _validation.price_scalar(price) if self._comps is None else _validation.real_price(price)
        return self._update_one(i, p)

    def _update_one(self, i: int, p: int | float) -> np.ndarray:
        if self._comps is not None:
            return self.update_many(np.array([i]), np.array([p], dtype=np.float64))[0]
        if self._band is not None and not self._band[0][i] <= p <= self._band[1][i]:
            self._band_error(-1, i, p)
        return self.update_many(np.array([i]), np.array([p], dtype=np.int64))[0]

    # ------------------------------------------------------------------ rebalancing and events
    def rebalance(self, changes: Mapping[str, IndexDefinition], *, date: object = None) -> dict[str, tuple[float, float]]:
        """Replace definitions (membership, float ratios, caps) of some indices at one moment,
        atomically; each rebased index keeps its level: divisor × cap_after / cap_before, with
        capping factors recomputed at the current prices. A price index's TR/NTR twins (same
        members and weights) take its new definition too, unless ``changes`` names them. Audited (one record per index).
        Returns {name: (level_before, level_after)}. To review at the open together with that
        day's corporate actions, all or nothing, pass ``rebalance=`` to :meth:`roll`."""
        return {r.index: (r.level_before, r.level_after) for r in self._rebalance(changes, date)}

    def _rebalance(self, changes: Mapping[str, IndexDefinition], date: object) -> list[RebaseRecord]:
        if not isinstance(changes, Mapping):
            raise TypeError(f"`changes` must be a mapping of index name -> IndexDefinition, got {changes!r}")
        defs = list(self._defs)
        ks = []
        for name, new in changes.items():
            k = self.index_of(name)
            if not isinstance(new, IndexDefinition):
                raise TypeError(f"`changes[{name!r}]` must be an IndexDefinition, got {new!r}")
            if new.name != name:
                raise ValueError(f"`changes[{name!r}]` is named {new.name!r}; rename by a new family instead")
            defs[k] = new
            ks.append(k)
        # a price index's TR/NTR twins (same basis before the change) follow it unless named
        for k in list(ks):
            old = self._defs[k]
            if old.returns != "price":
                continue
            for j, d in enumerate(self._defs):
                if d.returns != "price" and j not in ks and d.basis() == old.basis():
                    defs[j] = replace(defs[k], name=d.name, returns=d.returns, tax_rate=d.tax_rate,
                                      level=d.level, base_cap=d.base_cap, base_value=d.base_value)
                    ks.append(j)
        shares, factors = self._core_shares(), self._factors.copy()
        prices = self._prices.copy()
        for k in ks:
            s_k, f_k = _weights_matrix(self.universe, [defs[k]], self._listed, prices, exact=self.exact)
            shares[k], factors[k] = s_k[0], f_k[0]
            if not (shares[k] > 0).any():  # (no int64 sum: it could wrap for huge share counts)
                raise ValueError(f"index {defs[k].name!r} would have a cap of 0 (no member has index shares)")
        old_defs = self._defs
        self._defs = defs
        try:
            return self._commit(prices, shares, factors, self._listed.copy(), self._member.copy(),
                                self.universe, self.reference_prices.copy(), np.empty(0, np.intp), (), date,
                                only=ks)
        except BaseException:
            self._defs = old_defs
            raise

    def apply_events(self, events: Sequence[Event], *, date: object = None) -> dict[str, RebaseRecord]:
        """Apply every event effective at one moment to every index holding the stocks,
        together and atomically; each touched index is rebased so its level does not move.

        Listed-share changes move a cap-weighted member's index shares to round(listed ×
        float ratio × capping factor); equal-weighted and fixed members keep their value across
        price-basis events; a delisted stock leaves every index; a new listing joins the
        indices that follow the market (KOSPI) or its sector. See
        :meth:`IndexEngine.apply_events` for the events.

        Returns
        -------
        dict
            {index name: RebaseRecord} for every index the events touched (also appended to
            :attr:`audit`).

        Raises
        ------
        TypeError, ValueError, KeyError
            As :meth:`IndexEngine.apply_events`; the family is then unchanged.
        """
        return {r.index: r for r in self._apply_events(events, date)}

    def roll(self, events: Sequence[Event] = (), *, closes: object = None, date: object = None,
             rebalance: Mapping[str, IndexDefinition] | None = None, schedule=None) -> list[RebaseRecord]:
        """End of day: apply ``closes`` as trades, take the levels as previous closes, apply the
        next day's ``events`` (effective at the open), then the review's ``rebalance`` (new
        definitions effective at the same open), and make the prices the reference for
        attribution and the next day's limits. All or nothing: a rejected event or definition
        leaves the family as it was, closes included. Returns the audit records written, in
        order (an index may have one for the events and one for the review).

        ``schedule`` (a :class:`kospi_fast.kospi200.Schedule`; needs ``date``, the next trading
        day) adds what is due on ``date``: its market events after ``events``, its index
        changes (float ratios, reviews, special changes, additions) with ``rebalance``, through
        the same step. With ``date``, the day just closed is kept for :meth:`as_of`."""
        day = None if date is None else _validation.as_date(date, "date")
        if schedule is not None:
            if not isinstance(schedule, kospi200.Schedule):
                raise TypeError(f"`schedule` must be a kospi_fast.kospi200.Schedule, got {type(schedule).__name__}")
            if day is None:
                raise ValueError("`schedule` needs `date` (the trading day the roll opens)")
            events = ([events] if isinstance(events, Event) else list(events)) + schedule.events_on(day)
        if rebalance is not None and not isinstance(rebalance, Mapping):
            raise TypeError(f"`rebalance` must be a mapping of index name -> IndexDefinition, got {rebalance!r}")

        def then() -> list[RebaseRecord]:
            changes = dict(rebalance or {})
            if schedule is not None:
                due = schedule.definitions_for(self, day)
                both = sorted(set(due) & set(changes))
                if both:
                    raise ValueError(f"`rebalance` and the schedule both change {both} on {day}")
                changes.update(due)
            return self._rebalance(changes, date) if changes else []

        # point-in-time history: (day, None) is the live day; a rolled day keeps its composition
        # at its close (BookState.history: saved with the book)
        hist = self.__dict__.setdefault("_history", [(None, None)])
        if day is not None and hist[-1][0] is not None and day <= hist[-1][0]:
            raise ValueError(f"`date` {day} is not after the book's last day {hist[-1][0]}")
        closed = None
        if day is not None:  # the day now closing, at its closes (given ones are validated below)
            closed = kospi200.day_record(self, hist, self.prices)
        records = self._roll(events, closes, date, then)
        if closed is not None:
            if closes is not None:
                num = _validation.int64_array if self.exact else _validation.float64_array
                closed["prices"] = tuple(num(closes, "closes").tolist())
            hist[-1] = (hist[-1][0], closed)
            hist.append((day, None))
        return records

    def to_state(self) -> BookState:
        state = super().to_state()
        state.history = list(self.__dict__.get("_history", [(None, None)]))  # entries are immutable
        return state

    def _set_state(self, state) -> None:
        super()._set_state(state)
        self._history = list(state.history) if state.history else [(None, None)]

    def as_of(self, date: object) -> dict:
        """What the family held on ``date`` (point in time): {index name:
        :class:`~kospi_fast.kospi200.Composition`} with members, float ratios, capping factors,
        index shares and weights at that day's close (the live state for the current day)."""
        return kospi200.as_of(self, date)

    # ------------------------------------------------------------------ attribution
    def attribution(self, name: str, top: int = 10) -> dict:
        """Contributions of one index's move since the previous close (reference prices).

        Returns a dict with: ``codes``, ``points`` (per member, Δprice × shares / divisor, in
        index points; they sum to the level change when no rebase happened in between),
        ``weights`` (current, sum 1), ``sector_points`` ({sector: points}), ``top_weight``
        (Σ of the ``top`` largest weights), ``advancers``, ``decliners``, ``unchanged``.
        """
        ids, sh = self.index_shares(name)
        p, ref = self._prices[ids], self.reference_prices[ids]
        points = (p - ref).astype(np.float64) * sh / self._divisors[self.index_of(name)]
        mv = p.astype(np.float64) * sh
        weights = mv / mv.sum()
        sectors = self.universe.sectors
        sector_points: dict[str, float] = {}
        if sectors is not None:
            for i, pt in zip(ids, points):
                sector_points[sectors[i]] = sector_points.get(sectors[i], 0.0) + float(pt)
        return {
            "codes": [self.universe.codes[i] for i in ids],
            "points": points,
            "weights": weights,
            "sector_points": sector_points,
            "top_weight": float(np.sort(weights)[::-1][:top].sum()),
            "advancers": int((p > ref).sum()),
            "decliners": int((p < ref).sum()),
            "unchanged": int((p == ref).sum()),
        }

    def attribution_frame(self, name: str):
        """Per-member attribution as a pandas DataFrame (pandas must be installed)."""
        import pandas as pd  # optional dependency

        a = self.attribution(name)
        ids, _ = self.index_shares(name)
        return pd.DataFrame({
            "code": a["codes"],
            "name": [self.universe.names[i] for i in ids],
            "sector": [self.universe.sectors[i] for i in ids] if self.universe.sectors else None,
            "points": a["points"],
            "weight": a["weights"],
        }).sort_values("points", key=abs, ascending=False, ignore_index=True)

    # ------------------------------------------------------------------ built-ins
    @classmethod
    def kospi(cls, universe: Universe, *, date: object = None, price_band: object = 0.30,
              **kwargs) -> "IndexFamily":
        """The KOSPI family over ``universe``: KOSPI (full listed shares, follows the market),
        KOSPI 200/100/50 when their member lists are given (``kospi200=[codes]``, …,
        float-adjusted with ``float_ratios={code: ratio}``; KRX does not publish these as
        files, so they are inputs; ``kospi200_cap=0.30`` caps KOSPI 200), size indices (large =
        top 100 by cap, mid = 101–300, small = the rest), one index per sector (``sectors``),
        and equal-weighted variants of KOSPI 200/100/50 when ``equal_weighted``. ``levels``
        calibrates named indices; the rest start at their base value (100).
        ``returns=("price", "total", "net")`` adds the total-return twins "KOSPI TR" and
        "KOSPI NTR" (and "KOSPI 200 TR"/"NTR" when KOSPI 200 is given), NTR net of
        ``tax_rate`` (default 0.154, KRX's domestic rate); twins share their price index's
        cap, so they add no per-trade work. ``date`` dates the state for :meth:`as_of`;
        ``price_band`` as for the constructor. See
        :func:`kospi_fast.definitions.kospi_definitions`."""
        return cls(universe, kospi_definitions(universe, **kwargs), date=date, price_band=price_band)


def _weights_matrix(universe: Universe, defs: Sequence[IndexDefinition], listed: np.ndarray,
                    prices: np.ndarray, *, exact: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(K, n) index shares and factors of ``defs`` (the rebalance computation; float64 index
    shares, unrounded, for a float64 family)."""
    n = len(universe)
    shares = np.zeros((len(defs), n), dtype=np.int64 if exact else np.float64)
    factors = np.zeros((len(defs), n), dtype=np.float64)
    index = universe.code_index
    for k, d in enumerate(defs):
        ids = np.empty(len(d.members), dtype=np.intp)
        for j, c in enumerate(d.members):
            if c not in index:
                raise KeyError(f"index {d.name!r}: `members[{j}]` {c!r} is not in the universe")
            ids[j] = index[c]
        sh, f = index_weights(d, ids, listed, prices, exact=exact)
        shares[k, ids], factors[k, ids] = sh, f
    return shares, factors
