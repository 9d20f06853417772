"""``IndexEngine``: one index over a universe, updated trade by trade — the K = 1 index book.

State: current prices (int64 won), index shares (int64; listed shares for KOSPI, 0 = not a
member), the exact int64 aggregate cap and the divisor (``base_cap / base_value``). The hot
paths (``update``, ``update_many``) are in the Cython base class; corporate actions, the roll,
snapshots and persistence come from :class:`~kospi_fast.book.IndexBook`, shared with
:class:`~kospi_fast.IndexFamily`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kospi_fast import _session, _validation
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._engine import EngineCore
from kospi_fast.book import _DEFAULT_BAND, IndexBook, _band_for, register_book
from kospi_fast.definitions import KOSPI_BASE_VALUE, IndexDefinition
from kospi_fast.events import Event
from kospi_fast.publish import published
from kospi_fast.state import RebaseRecord, exact_cap_f64, running_pair
from kospi_fast.universe import Universe

__all__ = ["KOSPI_BASE_VALUE", "IndexEngine", "RebaseRecord", "published"]



@register_book
class IndexEngine(EngineCore, IndexBook):
    """One cap-weighted index over a universe, exact on int64 (or a float64 book, ``exact=False``).

    Parameters
    ----------
    universe : Universe
    level : float, optional
        Calibrate so the current cap maps to this level (e.g. the previous published close).
    base_cap : float or int, optional
        Calibrate from a base market cap in won: ``divisor = base_cap / base_value``.
        Give at most one of ``level`` and ``base_cap``; with neither, today's prices are the
        base (level = ``base_value``).
    base_value : float
        Index value at the base date (KOSPI: 100).
    index_shares : array_like of int, optional
        Custom shares each stock counts with (0 excludes a stock). Default: listed shares of
        the members, as KOSPI does. Custom index shares make a "fixed" index: its members keep
        their value in the index across price-basis events and new listings do not join it.
    members : array_like of bool or sequence of codes, optional
        Which stocks are index members (default: every stock with listed shares > 0).
    prices : array_like of int, optional
        Starting prices (default: the universe's base prices).
    name : str
        The index's name (default "KOSPI").
    price_band : float, Fraction, Decimal or None
        Each trade must lie within ``± price_band`` of its stock's reference price (the
        previous close, adjusted by events; :meth:`roll` moves it), the limits rounded to the
        tick grid as KRX's daily limits (default 0.30, KRX's ±30%). A price outside is refused
        (``update``/``update_many`` raise; a :class:`~kospi_fast.TradingDay` counts it as
        outside the limits). None: no band, for prices not bound by KRX's limits. A float64
        book has none (default None; another value is refused).
    exact : bool
        True (default): prices and shares are integers and the cap is exact int64. False: a
        float64 book for prices and shares that are not whole numbers (crypto, FX,
        fractional supply): ``prices`` and ``listed`` may be any finite reals, the running
        cap is compensated (the TwoSum step of :func:`~kospi_fast.replay`'s ``exact=False``)
        and stays within a relative 1e-13 of an exact rational recount (methodology notes,
        "Float64 books"). Events, checkpoints and journals work on it; KRX's price rules
        (bands, the tick grid, the :class:`~kospi_fast.TradingDay`) and the base-price
        formulas of rights and bonus issues do not apply.
    listed : array_like, optional
        Listed shares (supply) per stock, >= 0: what cap weighting and share-count events start
        from (default: the universe's shares). Reals for a float64 book, integers otherwise.

    Examples
    --------
    >>> u = Universe(["005930", "000660"], ["A", "B"], [10, 5], [70000, 150000])
    >>> e = IndexEngine(u, level=2500.0)
    >>> e.update("005930", 70100) > 2500.0
    True
    >>> e.update_id(1, 150500) > 2500.0   # the same by id (row of the universe)
    True
    """

    def __init__(
        self,
        universe: Universe,
        *,
        level: float | None = None,
        base_cap: float | None = None,
        base_value: float = KOSPI_BASE_VALUE,
        index_shares: object = None,
        members: object = None,
        prices: object = None,
        name: str = "KOSPI",
        price_band: object = _DEFAULT_BAND,
        exact: bool = True,
        listed: object = None,
    ) -> None:
        if not isinstance(universe, Universe):
            raise TypeError(f"`universe` must be a kospi_fast.Universe, got {type(universe).__name__}")
        if level is not None and base_cap is not None:
            raise ValueError("give at most one of `level` and `base_cap`, got both")
        if index_shares is not None and members is not None:
            raise ValueError("give at most one of `index_shares` and `members`, got both")
        if not isinstance(name, str) or not name:
            raise TypeError(f"`name` must be a non-empty str, got {name!r}")
        base_value = _validation.positive_float(base_value, "base_value")
        if not isinstance(exact, bool):
            raise TypeError(f"`exact` must be a bool, got {exact!r}")
        if not exact:
            self._init_f64(universe, level, base_cap, base_value, index_shares, members, prices, name,
                           price_band, listed)
            return
        price_band = _band_for(price_band, True)
        n = len(universe)
        if listed is not None:
            lst = _validation.int64_array(listed, "listed")
            if lst.shape[0] != n:
                raise ValueError(f"`listed` must have one entry per stock ({n}), got {lst.shape[0]}")
            _validation.check_non_negative(lst, "listed")
            universe_listed = lst
        else:
            universe_listed = universe.shares
        member = _member_mask(universe, members, universe_listed)
        fixed = index_shares is not None
        if fixed:
            shares = _validation.int64_array(index_shares, "index_shares")
        else:
            shares = np.where(member, universe_listed, 0).astype(np.int64)
        px = universe.base_prices if prices is None else _validation.int64_array(prices, "prices")
        for arr, what in ((shares, "index_shares"), (px, "prices")):
            if arr.shape[0] != n:
                raise ValueError(f"`{what}` must have one entry per stock ({n}), got {arr.shape[0]}")
        _validation.check_non_negative(shares, "index_shares")
        _validation.check_positive(px, "prices")
        cap = aggregate_cap(px, shares) if n else 0
        if cap <= 0:
            raise ValueError("cannot build an index with no members (its cap is 0)")
        divisor = _validation.index_divisor(cap, _positive_or_none(base_cap, "base_cap"), base_value,
                                            _positive_or_none(level, "level"))
        held = shares > 0
        defn = IndexDefinition(
            name, [universe.codes[i] for i in np.flatnonzero(held)], base_value=base_value,
            weighting="fixed" if fixed else "cap", follows_market=not fixed,
            shares=tuple(int(x) for x in shares[held]) if fixed else None,
        )
        self._core_set_state(px, shares, divisor, universe.code_index)
        self._book_init(universe, [defn], universe_listed, held if fixed else member,
                        held.astype(np.float64)[None, :], px, price_band)

    def _init_f64(self, universe, level, base_cap, base_value, index_shares, members, prices, name,
                  price_band, listed) -> None:
        """The float64 book (``exact=False``): cap-weighted by ``listed`` (reals), no band."""
        if index_shares is not None:
            raise ValueError("`index_shares` (a fixed-share index) is for the exact book; a float64 book "
                             "(exact=False) is cap-weighted by `listed` (its listed shares or supply)")
        _band_for(price_band, False)
        n = len(universe)
        lst = universe.shares.astype(np.float64) if listed is None else _validation.float64_array(listed, "listed")
        px = universe.base_prices.astype(np.float64) if prices is None else _validation.float64_array(prices, "prices")
        for arr, what in ((lst, "listed"), (px, "prices")):
            if arr.shape[0] != n:
                raise ValueError(f"`{what}` must have one entry per stock ({n}), got {arr.shape[0]}")
        _validation.check_non_negative(lst, "listed")
        _validation.check_positive(px, "prices")
        member = _member_mask(universe, members, lst)
        shares = np.where(member, lst, 0.0)
        cap = exact_cap_f64(px, shares)
        if cap <= 0:
            raise ValueError("cannot build an index with no members (its cap is 0)")
        fcap = float(cap)
        divisor = _validation.index_divisor(fcap, _positive_or_none(base_cap, "base_cap"), base_value,
                                            _positive_or_none(level, "level"))
        held = shares > 0
        defn = IndexDefinition(name, [universe.codes[i] for i in np.flatnonzero(held)], base_value=base_value,
                               follows_market=True)
        self._core_set_state(px, shares, divisor, universe.code_index, running_pair(cap))
        self._book_init(universe, [defn], lst, member, held.astype(np.float64)[None, :], px, None)

    # ------------------------------------------------------------------ book hooks
    def _core_prices(self) -> np.ndarray:
        return self.prices

    def _core_shares(self) -> np.ndarray:
        return self.index_shares[None, :]

    def _core_divisors(self) -> np.ndarray:
        return np.array([self.divisor])

    def _core_install(self, prices, shares, divisors, universe, carries=None, running=None) -> None:
        if carries is not None and carries.any():  # pragma: no cover - an engine is a price index
            raise AssertionError("an IndexEngine holds no dividend carry")
        if prices.dtype == np.float64:  # a float64 book: the running cap given, else an exact recount
            pair = running_pair(exact_cap_f64(prices, shares[0])) if running is None else tuple(running[0])
            self._core_set_state(prices, shares[0], float(divisors[0]), universe.code_index, pair)
            return
        self._core_set_state(prices, shares[0], float(divisors[0]), universe.code_index)

    # ------------------------------------------------------------------ reading
    @property
    def name(self) -> str:
        return self._defs[0].name

    @property
    def base_value(self) -> float:
        """Index value at the base date (KOSPI: 100)."""
        return self._defs[0].base_value

    @property
    def levels(self) -> np.ndarray:
        """The level as a one-element array (the book interface; see :attr:`level`)."""
        return np.array([self.level])

    @property
    def base_cap(self) -> float:
        """Base market cap (price units × shares), ``divisor × base_value`` (KRX's continuity
        variable)."""
        return self.divisor * self.base_value

    @property
    def published_level(self) -> float:
        """The level as KRX publishes it: rounded half-up to 2 decimals."""
        return published(self.level)

    @property
    def previous_close(self) -> float:
        """The level at the last :meth:`roll` (or at construction)."""
        return float(self._previous[0])

    @previous_close.setter
    def previous_close(self, value: float) -> None:
        self._previous = np.array([float(value)])

    def recompute(self) -> float:
        """Level from a full aggregation of the current prices (the check for ``level``); for a
        float64 book an exact rational recount rounded once (``level`` is within the documented
        drift of it)."""
        if not self.exact:
            return float(exact_cap_f64(self.prices, self.index_shares)) / self.divisor
        return aggregate_cap(self.prices, self.index_shares) / self.divisor

    def ids_of(self, codes: Sequence[str]) -> np.ndarray:
        """Ids of ``codes`` in this engine's universe."""
        return self.universe.ids_of(codes)

    def update_many(self, ids: object, prices: object, *, sample_at: object = None,
                    out: np.ndarray | None = None) -> np.ndarray:
        """Apply a batch of trades in order, all or nothing; return the level after each trade
        (or after each position of ``sample_at``, ascending trade positions).

        ``out``: a float64 array of the result's shape to write the levels into and return (see
        :meth:`EngineCore.update_many`; with ``sample_at``, of ``len(sample_at)``).

        Raises
        ------
        TypeError, ValueError
            On the first bad trade; nothing of the batch is applied.
        """
        if sample_at is None:
            return EngineCore.update_many(self, ids, prices, out)
        n_ticks = np.shape(prices)[0] if np.ndim(prices) == 1 else -1
        samples = _validation.sample_positions(sample_at, n_ticks)
        target = _validation.out_array(out, samples.shape, (ids, prices, samples))
        levels = EngineCore.update_many(self, ids, prices)
        if target is None:
            return levels[samples]
        return np.take(levels, samples, out=target)

    def _feed_validated(self, times: np.ndarray, ids: np.ndarray, prices: np.ndarray, rules, last_time: int,
                        stop_at_bad: bool, sample_times: np.ndarray, threads: int = 1,
                        out: np.ndarray | None = None) -> tuple:
        """The fused validated path: rules, application and the print sampling in one kernel
        pass (see :meth:`IndexBook._feed_validated` for the contract; ``rows[j]`` is written for
        the prints stamped before the batch's latest trade time, the others are undefined).
        ``threads`` >= 2 lets a "raise" batch check the rules on the second core
        (``_session.feed_engine``); ``out`` (checked) receives the levels."""
        w = rules.window
        rows = np.empty(sample_times.shape[0])
        bad, levels, status, counts, last = _session.feed_engine(
            self, times, ids, prices, rules.lower, rules.upper, rules.halted, rules.thresholds, rules.ticks,
            rules.grid, rules.fast, w[0], w[1], w[2], w[3], last_time, stop_at_bad, sample_times, rows,
            out, min(threads, 2))
        if bad != -1:
            return bad, status, counts, last, None, None
        return -1, status, counts, last, levels, rows[:, None]

    # ------------------------------------------------------------------ rebasing
    def apply_changes(
        self,
        ids: object,
        *,
        prices: object = None,
        index_shares: object = None,
    ) -> RebaseRecord:
        """Change reference prices and/or index shares of some stocks at one moment, atomically,
        and rebase the divisor so the level does not move.

        ``cap_before`` is Σ current price × current shares; ``cap_after`` the same with the
        changes; ``divisor ← divisor × cap_after / cap_before`` (methodology decision 3). A
        price-basis change (split, ex-rights) passes ``prices``; a share-count or membership
        change passes ``index_shares`` (0 removes a stock). For named corporate actions use
        :meth:`apply_events`.

        Parameters
        ----------
        ids : sequence of str codes or array_like of int ids, length k, unique
        prices : array_like of int, shape (k,), optional
            New reference prices in price units (> 0; reals in a float64 book).
        index_shares : array_like of int, shape (k,), optional
            New index shares (>= 0; reals in a float64 book).

        Returns
        -------
        RebaseRecord

        Raises
        ------
        TypeError, ValueError, KeyError
            On any bad argument; the engine is then unchanged.
        """
        idx = self._resolve_ids(ids)
        k = idx.shape[0]
        cur_p, cur_s = self.prices, self.index_shares
        num = _validation.int64_array if self.exact else _validation.float64_array  # a float64 book: reals
        new_p = cur_p[idx] if prices is None else num(prices, "prices")
        new_s = cur_s[idx] if index_shares is None else num(index_shares, "index_shares")
        for arr, name in ((new_p, "prices"), (new_s, "index_shares")):
            if arr.shape[0] != k:
                raise ValueError(f"`{name}` must have one entry per id ({k}), got {arr.shape[0]}")
        _validation.check_positive(new_p, "prices")
        _validation.check_non_negative(new_s, "index_shares")
        listed, member = self._listed.copy(), self._member.copy()
        if self._defs[0].weighting == "cap":
            # keep the event bookkeeping in step: index shares are listed shares of members
            listed[idx] = np.where(new_s > 0, new_s, listed[idx])
        member[idx] = new_s > 0
        prices_all, shares_all = cur_p.copy(), cur_s.copy()
        prices_all[idx], shares_all[idx] = new_p, new_s
        factors = self._factors.copy()
        factors[0, idx] = (new_s > 0).astype(np.float64)
        reference = self.reference_prices.copy()
        moved = new_p != cur_p[idx]
        reference[idx[moved]] = new_p[moved]
        return self._commit(prices_all, shares_all[None, :], factors, listed, member, self.universe,
                            reference, idx, (), None)[0]

    def apply_events(self, events: Sequence[Event], *, date: object = None) -> RebaseRecord:
        """Apply every event effective at one moment, together and atomically, and rebase once.

        Events on the same stock apply in the order given (e.g. a split, then new shares).
        Each price-basis event starts from the stock's current price (normally the previous
        close) and moves it to KRX's base price; share-count and membership events change
        listed shares and membership; index shares are listed shares of members (KOSPI).

        Parameters
        ----------
        events : sequence of kospi_fast.events.Event
        date : date or ISO str, optional
            The moment's trading date (selects the tick table for base-price rounding, and is
            recorded in the audit log).

        Returns
        -------
        RebaseRecord

        Raises
        ------
        TypeError, ValueError, KeyError
            Unknown code, delisting a non-member, listing an existing member, an event repeated
            (in this batch, or one with the same ``effective`` date applied before), a bad
            value. The engine is then unchanged.
        """
        return self._apply_events(events, date)[0]

    def roll(self, events: Sequence[Event] = (), *, closes: object = None, date: object = None) -> RebaseRecord | None:
        """End-of-day roll: the day's closes become the next day's reference prices, adjusted by
        the next day's ex-date and membership events, applied at once before the open.

        Parameters
        ----------
        events : sequence of Event
            Events effective at the next open.
        closes : array_like of int, shape (n_stocks,), optional
            Official closing prices, applied as trades first (default: the current prices).
        date : date or ISO str, optional
            The next trading date.

        Returns
        -------
        RebaseRecord or None
            None when there were no events (the divisor is unchanged).
        """
        records = self._roll(events, closes, date)
        return records[0] if records else None

    def _resolve_ids(self, ids: object) -> np.ndarray:
        if isinstance(ids, str):
            raise TypeError(f"`ids` must be a sequence of codes or ids, got the string {ids!r}")
        seq = list(ids) if not isinstance(ids, np.ndarray) else ids  # type: ignore[call-overload]
        if len(seq) and all(isinstance(x, str) for x in seq):
            idx = self.universe.ids_of(seq)
        else:
            idx = _validation.id_array(seq, "ids", len(self))
        uniq, counts = np.unique(idx, return_counts=True)
        if (counts > 1).any():
            dup = int(uniq[np.argmax(counts > 1)])
            raise ValueError(
                f"`ids` names stock {self.universe.codes[dup]!r} (id {dup}) more than once; "
                "combine its changes into one entry"
            )
        return np.ascontiguousarray(idx, dtype=np.intp)


def _positive_or_none(value: object, name: str) -> float | None:
    return None if value is None else _validation.positive_float(value, name)


def _member_mask(universe: Universe, members: object, listed: np.ndarray) -> np.ndarray:
    n = len(universe)
    if members is None:
        return listed > 0
    if isinstance(members, str):
        raise TypeError(f"`members` must be a bool mask or a sequence of codes, got the string {members!r}")
    seq = members if isinstance(members, np.ndarray) else list(members)  # type: ignore[arg-type]
    if len(seq) and all(isinstance(c, str) for c in seq):
        mask = np.zeros(n, dtype=bool)
        mask[universe.ids_of(seq)] = True
        return mask
    arr = np.asarray(seq)
    if arr.dtype != bool:
        raise TypeError(f"`members` must be a bool mask or a sequence of codes, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"`members` must have one entry per stock ({n}), got shape {arr.shape}")
    return arr.copy()
