"""The index book: one state model for a set of indices over one universe.

:class:`IndexBook` holds what every index computation shares — the universe, listed shares
and market membership, reference prices, previous closes, the audit log, the recorded
dividends and the applied events — and does, once for every book, what changes them:
corporate actions (:meth:`apply_events`), the end-of-day :meth:`roll`, snapshots
(:meth:`to_state` / :meth:`from_state`) and persistence (:meth:`save` / :meth:`load`).

A concrete book stores its indices' hot state its own way and implements four hooks:
``_core_prices()``, ``_core_shares()`` (K, n), ``_core_divisors()`` (K,) and
``_core_install(prices, shares, divisors, universe, carries=None)`` (plus ``_core_carries()``
for a book holding total-return indices), ``levels`` and
``update_many``. :class:`~kospi_fast.IndexEngine` is the K = 1 book with the fast scalar
``update``; :class:`~kospi_fast.IndexFamily` holds K indices in the padded-row layout.

How events reach every index (methodology notes, "Index books"): the events of one moment
plan per-stock changes (reference price, listed shares, market membership); then, per index,
a member leaving the market leaves the index; a cap-weighted member's index shares become
``round(listed × factor)`` (factor = float ratio × capping factor, fixed between rebalances)
when its listed shares change; an equal-weighted member keeps its value in the index across a
price-basis change (``shares × old price / new price``, rounded); a "fixed" member keeps
its given shares through every event but a split, which scales them by its ratio (they count
the stock's shares); a new
listing joins the indices that follow the market or its sector. Each index whose members
changed is rebased, ``divisor × cap_after / cap_before`` at the same prices, so no level
moves; everything is checked before anything is installed, so a rejected batch changes
nothing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from kospi_fast import _session, _validation, krx, persist
from kospi_fast._rebase import rebase_divisor
from kospi_fast.definitions import IndexDefinition, equal_shares, joins_on_listing, shares_from_listed
from kospi_fast.events import (CashDividend, DividendCorrection, Event, Plan, Split, StockState, dividend_amount,
                               parse_ratio)
from kospi_fast.persist.codec import check_storable
from kospi_fast.state import BOOK_TYPES, BookState, RebaseRecord, exact_caps


__all__ = ["IndexBook", "carry_divisor", "register_book"]


class _DefaultBand:
    """``price_band``'s default: KRX's ±30% (0.30) for an exact book, no band for a float64 book."""

    def __repr__(self) -> str:
        return "0.30"


#: The books' ``price_band`` default (see :class:`_DefaultBand`).
_DEFAULT_BAND: object = _DefaultBand()


def _band_for(price_band: object, exact: bool) -> object:
    """The band rate a book is built with: the default resolved (0.30 exact, None float64);
    a float64 book refuses any band (KRX's daily limits live on its integer tick grid)."""
    if price_band is _DEFAULT_BAND:
        return 0.30 if exact else None
    if not exact and price_band is not None:
        raise ValueError(f"`price_band` = {price_band!r}: a float64 book (exact=False) has no price band "
                         "(KRX's daily limits live on its integer tick grid); pass None or leave it out")
    return price_band


def carry_divisor(divisor: float, cap_before: int, cap_after: int, carry_before: object = 0,
                  carry_after: object = 0) -> float:
    """A divisor rebased so the level does not move when the cap a level divides goes from
    ``cap_before + carry_before`` to ``cap_after + carry_after`` at the same prices:
    ``divisor × (cap_after + carry_after) / (cap_before + carry_before)``, exact, rounded once.

    A total-return index's level is ``(cap + carry) / divisor``, ``carry`` being the cash
    dividends (won) it reinvests on the day (methodology notes, "Total return"). Events during
    such a day rebase with the carry on both sides; the roll folds the carry into the divisor
    (``carry_after = 0``, ``cap_after = cap_before``). Without carries this is
    :func:`~kospi_fast.rebase_divisor`.

    Parameters
    ----------
    divisor : float
        > 0, finite.
    cap_before, cap_after : int
        Σ price × index shares, > 0.
    carry_before, carry_after : int, float or Fraction
        Finite; each ``cap + carry`` must be > 0.

    Returns
    -------
    float

    Examples
    --------
    >>> carry_divisor(1000.0, 2_000_000, 2_000_000, 40_000, 0)  # the roll folds 40,000 won in
    980.3921568627451
    """
    d = _validation.positive_float(divisor, "divisor")
    total = []
    for cap, carry, side in ((cap_before, carry_before, "before"), (cap_after, carry_after, "after")):
        if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)):
            raise TypeError(f"`cap_{side}` must be an int, got {cap!r}")
        if cap <= 0:
            raise ValueError(f"`cap_{side}` must be > 0, got {cap}")
        if isinstance(carry, bool) or not isinstance(carry, (int, np.integer, Fraction, float, np.floating)):
            raise TypeError(f"`carry_{side}` must be an int, float or Fraction, got {carry!r}")
        if isinstance(carry, (float, np.floating)) and not math.isfinite(carry):
            raise ValueError(f"`carry_{side}` must be finite, got {carry!r}")
        x = int(cap) + (Fraction(int(carry)) if isinstance(carry, (int, np.integer)) else Fraction(carry))
        if x <= 0:
            raise ValueError(f"`cap_{side} + carry_{side}` must be > 0, got {cap} + {carry!r}")
        total.append(x)
    return float(Fraction(d) * total[1] / total[0])


def register_book(cls: type) -> type:
    """Class decorator: make ``cls`` loadable from a :class:`BookState` of its kind."""
    BOOK_TYPES[cls.__name__] = cls
    return cls


class IndexBook:
    """Shared state and behaviour of every index book (see the module docstring).

    Attributes set by the concrete book: ``universe``, ``reference_prices``, ``audit``,
    ``dividends``; private ``_defs``, ``_listed``, ``_member``, ``_factors`` (K, n),
    ``_previous`` (K,), ``_applied``, ``_version``.
    """

    #: Instance attributes the book's state consists of; :meth:`to_state` refuses a book
    #: carrying any other (it would be silently lost by a save). Concrete books add theirs.
    _ATTRS = frozenset({
        "universe", "reference_prices", "audit", "dividends", "_defs", "_listed", "_member", "_factors",
        "_previous", "_applied", "_version", "_band_rate",
    })

    # ------------------------------------------------------------------ hooks (concrete books)
    def _core_prices(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _core_shares(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _core_divisors(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _core_install(self, prices: np.ndarray, shares: np.ndarray, divisors: np.ndarray, universe,
                      carries: np.ndarray | None = None) -> None:
        raise NotImplementedError  # pragma: no cover - abstract

    def _core_carries(self) -> np.ndarray:
        """Won added to each index's cap (K,): a total-return index's dividends of the day."""
        return np.zeros(len(self._defs))

    def _core_running(self) -> object:  # pragma: no cover - the engine core's
        return None

    def _core_running_caps(self) -> list[Fraction] | None:
        """A float64 book's running caps, each its pair (cap, compensation) summed exactly;
        None for an exact book."""
        pair = self._core_running()
        if pair is None:
            return None
        pairs = np.asarray(pair, dtype=np.float64).reshape(-1, 2)
        return [Fraction(c) + Fraction(e) for c, e in pairs.tolist()]

    # ------------------------------------------------------------------ common set-up
    def _book_init(self, universe, defs: list[IndexDefinition], listed: np.ndarray, member: np.ndarray,
                   factors: np.ndarray, prices: np.ndarray, price_band: object = None) -> None:
        self._band_rate = _check_band(price_band)
        self.universe = universe
        self._defs = list(defs)
        num = np.float64 if np.asarray(prices).dtype == np.float64 else np.int64  # a float64 book: reals
        self._listed = np.ascontiguousarray(listed, dtype=num).copy()
        self._member = np.asarray(member, dtype=bool).copy()
        self._factors = np.ascontiguousarray(factors, dtype=np.float64).copy()
        self.reference_prices = np.ascontiguousarray(prices, dtype=num).copy()
        self._previous = np.asarray(self.levels, dtype=np.float64).copy()
        self.audit: list[RebaseRecord] = []
        self.dividends: list = []
        self._applied: set = set()
        self._version = 0
        self._refresh_band()

    # ------------------------------------------------------------------ price band
    @property
    def price_band(self) -> object:
        """The price band's rate: each stock's trades must lie within ``± rate`` of its
        reference price (the base price: the previous close, adjusted by events; :meth:`roll`
        moves it), limits rounded to the KRX tick grid as KRX's daily limits are
        (:func:`kospi_fast.krx.price_limits`). Default 0.30, KRX's daily limit; None: no band
        (prices only need to be > 0 and within the overflow bound)."""
        return self._band_rate

    @property
    def exact(self) -> bool:
        """True for an exact (int64) book, False for a float64 book (``exact=False``)."""
        return self.reference_prices.dtype != np.float64

    def set_price_band(self, rate: object) -> None:
        """Set the price band's rate (see :attr:`price_band`; None removes the band). Prices
        already outside the new band stay; later trades are checked against it."""
        if rate is not None and not self.exact:
            raise ValueError(f"`rate` = {rate!r}: a float64 book has no price band (KRX's daily limits live on "
                             "its integer tick grid)")
        self._band_rate = _check_band(rate)
        self._refresh_band()
        self._version += 1

    def band_limits(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) int64 per stock: the prices a trade may take now (the band, with
        ``p > 0`` and the overflow bound folded in)."""
        return self._core_band()

    def _refresh_band(self) -> None:
        """Install the band around the current reference prices (after any change of them)."""
        if self._band_rate is None:
            self._core_set_band(None, None)
        else:
            lo, hi = krx.price_limits(self.reference_prices, rate=self._band_rate)
            self._core_set_band(np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64))

    def _band_error(self, k: int, i: int, p: int) -> None:
        lo, hi = self._core_band()
        where = "`price`" if k < 0 else f"`prices[{k}]`"
        raise ValueError(
            f"{where} = {int(p):,} for stock {self.universe.codes[int(i)]!r} (id {int(i)}) is outside its price band "
            f"[{int(lo[i]):,}, {int(hi[i]):,}] (±{self._band_rate} of its reference price "
            f"{int(self.reference_prices[i]):,}); nothing was applied. A mis-keyed price or stock? Pass "
            "price_band=None (or set_price_band(None)) for prices outside KRX's limits")

    # ------------------------------------------------------------------ reading
    def __repr__(self) -> str:
        """One line: each index's level (the first three), the universe, the version."""
        names, levels = self.names, self.levels
        shown = ", ".join(f"{n} {v:,.2f}" for n, v in zip(names[:3], levels.tolist()))
        more = f", ... ({len(names)} indices)" if len(names) > 3 else ""
        div = f", divisor {float(self._core_divisors()[0]):.6g}" if len(names) == 1 else ""
        return (f"{type(self).__name__}({shown}{more}{div}; {len(self.universe)} stocks, "
                f"{int(self._member.sum())} members, version {self._version})")

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the book's indices, in order."""
        return tuple(d.name for d in self._defs)

    @property
    def definitions(self) -> tuple[IndexDefinition, ...]:
        """The indices' definitions (as given at construction or the last rebalance)."""
        return tuple(self._defs)

    def index_of(self, name: str) -> int:
        """Position of index ``name`` in :attr:`names`; ``KeyError`` naming the known ones."""
        for k, d in enumerate(self._defs):
            if d.name == name:
                return k
        raise KeyError(f"unknown index {name!r}; have {list(self.names)}")

    def definition(self, name: str) -> IndexDefinition:
        return self._defs[self.index_of(name)]

    @property
    def previous_levels(self) -> np.ndarray:
        """Each index's level at the last :meth:`roll` (the previous close), float64 (K,)."""
        return self._previous.copy()

    @property
    def listed_shares(self) -> np.ndarray:
        """Copy of the listed shares (int64) the book tracks for events."""
        return self._listed.copy()

    @property
    def members(self) -> np.ndarray:
        """Copy of the market-membership mask (bool): the stocks events treat as listed members."""
        return self._member.copy()

    @property
    def version(self) -> int:
        """Counter bumped by every change that is not a trade (events, rebalances, restores):
        a :class:`~kospi_fast.TradingDay` re-reads the book's shape and limits when it moves."""
        return self._version

    def recompute_levels(self) -> np.ndarray:
        """Every index's level from a full recount of Σ price × index shares (float64 (K,))."""
        prices = self._core_prices()
        caps = exact_caps(prices, self._core_shares())
        return np.array([(float(c) + x) / d for c, x, d in zip(caps, self._core_carries(), self._core_divisors())],
                        dtype=np.float64)

    # ------------------------------------------------------------------ validated trades
    def _feed_validated(self, times: np.ndarray, ids: np.ndarray, prices: np.ndarray, rules, last_time: int,
                        stop_at_bad: bool, sample_times: np.ndarray, threads: int = 1,
                        out: np.ndarray | None = None) -> tuple:
        """One validated batch for :class:`~kospi_fast.TradingDay` (arrays already prepared):
        the KRX rules kernel classifies every trade, then the accepted ones go through the
        book's own ``update_many`` (all or nothing). Returns ``(bad, status, counts,
        last_time, per_trade_levels_or_None, rows)``, ``rows[j]`` being every index's level
        after the last applied trade at or before ``sample_times[j]`` (the levels before the
        batch when there is none), needed for the sample times before the batch's latest
        trade time only; ``last_time`` is the latest trade time seen before. With ``stop_at_bad`` and a rejected trade, nothing is
        applied and ``bad`` is its position. ``threads``: this path runs on one thread (only an
        :class:`~kospi_fast.IndexEngine` splits a batch); ``out``: it has no per-trade levels
        to write (TypeError)."""
        if out is not None:
            raise TypeError(f"`out` is for a one-index IndexEngine book: the feed of an {type(self).__name__} returns "
                            "no per-trade levels (FeedResult.levels is None)")
        n = times.shape[0]
        status = np.empty(n, dtype=np.uint8)
        counts = np.zeros(len(_session.STATUS_NAMES), dtype=np.int64)
        w = rules.window
        bad, last = _session.classify(times, ids, prices, rules.lower, rules.upper, rules.halted,
                                      rules.thresholds, rules.ticks, rules.grid, rules.fast, w[0], w[1], w[2],
                                      w[3], _validation.INT64_MAX, len(self.universe), last_time,
                                      status, counts, stop_at_bad)
        if bad != -1:
            return bad, status, counts, last, None, None
        if counts[_session.APPLIED] == n:  # every trade good: no copies
            kt, kids, kpx = times, ids, prices
        else:
            keep = status == _session.APPLIED
            kt, kids, kpx = times[keep], ids[keep], prices[keep]
        # only the sample times before the latest trade time can be final: sample those
        m = int(np.searchsorted(sample_times, last, side="left"))
        pos = np.searchsorted(kt, sample_times[:m], side="right") - 1
        before = np.asarray(self.levels, dtype=np.float64)
        while True:
            try:
                sampled = self.update_many(kids, kpx, sample_at=pos[pos >= 0])  # type: ignore[attr-defined]
                break
            except ValueError as exc:
                k = getattr(exc, "overflow_position", None)
                if k is None:
                    raise
                # a trade the rules accept but whose cap would overflow: refused as BAD_PRICE
                # (the book is unchanged: update_many is all or nothing); under "reject" the
                # batch runs again without it
                at = int(np.flatnonzero(status == _session.APPLIED)[k])
                status[at] = _session.BAD_PRICE
                counts[_session.APPLIED] -= 1
                counts[_session.BAD_PRICE] += 1
                if stop_at_bad:
                    return at, status, counts, last, None, None
                keep = status == _session.APPLIED
                kt, kids, kpx = times[keep], ids[keep], prices[keep]
                pos = np.searchsorted(kt, sample_times[:m], side="right") - 1
        rows = np.empty((sample_times.shape[0], before.shape[0]))
        rows[:m][pos < 0] = before
        rows[:m][pos >= 0] = np.asarray(sampled).reshape(-1, before.shape[0])
        return -1, status, counts, last, None, rows

    # ------------------------------------------------------------------ corporate actions
    def _check_events(self, events: object) -> list[Event]:
        if isinstance(events, Event):
            events = [events]
        if isinstance(events, (str, bytes)):
            raise TypeError(f"`events` must be a sequence of kospi_fast.events.Event, got {events!r}")
        try:
            events = list(events)  # type: ignore[call-overload]
        except TypeError:
            raise TypeError(f"`events` must be a sequence of kospi_fast.events.Event, got {events!r}") from None
        seen: set = set()
        for k, ev in enumerate(events):
            if not isinstance(ev, Event):
                raise TypeError(f"`events[{k}]` must be a kospi_fast.events.Event, got {ev!r}")
            try:
                hash(ev)
            except TypeError as exc:
                raise TypeError(f"`events[{k}]` holds an unhashable value ({exc}): {ev!r}") from None
            # recorded in the audit log: refused now if a checkpoint could not hold it
            check_storable(ev, f"`events[{k}]`")
            if ev in seen:
                raise ValueError(f"`events[{k}]` repeats an earlier event of the batch: {ev!r}")
            seen.add(ev)
            if getattr(ev, "effective", None) is not None and ev in self._applied:
                raise ValueError(f"`events[{k}]` was already applied: {ev!r}")
        return events

    def _apply_events(self, events: object, date: object) -> list[RebaseRecord]:
        """Plan the events together, move every index, rebase, install; one record per index
        touched (every index, for a one-index book)."""
        events = self._check_events(events)
        prices = self._core_prices()
        listed, member = self._listed, self._member
        index = self.universe.code_index

        def lookup(code: str) -> StockState | None:
            i = index.get(code)
            if i is None:
                return None
            # Python ints (an exact book) or floats (a float64 book)
            return StockState(price=prices[i].item(), listed=listed[i].item(), member=bool(member[i]))

        exact = self.exact
        plan = Plan(lookup, date=date, dividends=self._latest_dividend, exact=exact)
        for ev in events:
            ev.apply(plan)
        for c, st in plan.states.items():
            if exact and (st.price > _validation.INT64_MAX or st.listed > _validation.INT64_MAX):
                raise ValueError(f"events take {c!r} beyond int64: price {st.price}, listed shares {st.listed}")
            if not exact and not (math.isfinite(st.price) and math.isfinite(st.listed)):
                raise ValueError(f"events take {c!r} beyond float64: price {st.price}, listed shares {st.listed}")
            if st.price <= 0:
                raise ValueError(f"events leave {c!r} with a price of {st.price} (must be > 0)")
        num = np.int64 if exact else np.float64

        universe = self.universe
        shares = self._core_shares()
        factors = self._factors.copy()
        listed, member = listed.copy(), member.copy()
        reference = self.reference_prices.copy()
        new_codes = list(plan.new_stocks)
        if new_codes:
            universe = universe.with_added(
                new_codes,
                [plan.new_stocks[c][0] for c in new_codes],
                # the universe records integers: a float64 book's new stock as its listing's
                # close and shares (NewListing takes whole numbers), rounded if an event of the
                # same batch moved them
                [plan.states[c].listed if exact else round(plan.states[c].listed) for c in new_codes],
                [plan.states[c].price if exact else max(1, round(plan.states[c].price)) for c in new_codes],
                [plan.new_stocks[c][1] or "" for c in new_codes] if universe.sectors is not None else None,
            )
            g = len(new_codes)
            new_px = np.array([plan.states[c].price for c in new_codes], dtype=num)
            prices = np.concatenate([prices, new_px])
            reference = np.concatenate([reference, new_px])
            listed = np.concatenate([listed, np.zeros(g, num)])
            member = np.concatenate([member, np.zeros(g, bool)])
            shares = np.concatenate([shares, np.zeros((shares.shape[0], g), num)], axis=1)
            factors = np.concatenate([factors, np.zeros((factors.shape[0], g))], axis=1)
            index = universe.code_index
        codes = list(plan.states)
        idx = np.array([index[c] for c in codes], dtype=np.intp)
        new_p = np.array([plan.states[c].price for c in codes], dtype=num)
        new_l = np.array([plan.states[c].listed for c in codes], dtype=num)
        new_m = np.array([plan.states[c].member for c in codes], dtype=bool)
        old_p, old_l, old_m = prices[idx], listed[idx], member[idx]
        sector_of = {c: plan.new_stocks[c][1] if c in plan.new_stocks else
                     (universe.sectors[index[c]] if universe.sectors is not None else None) for c in codes}
        joining = new_m & ~old_m
        splits = _split_ratios(events)  # code -> product of this batch's split ratios
        for k, d in enumerate(self._defs):
            sh, f = shares[k], factors[k]
            held = f[idx] > 0
            new_sh = sh[idx].copy()
            new_f = f[idx].copy()
            leave = held & ~new_m
            new_sh[leave], new_f[leave] = 0, 0.0
            stay = held & new_m
            if d.weighting == "cap":
                moved = stay & (new_l != old_l)
                # a float64 book's index shares are its listed shares (factor 1), unrounded
                new_sh[moved] = shares_from_listed(new_l[moved], new_f[moved]) if exact else new_l[moved] * new_f[moved]
            elif d.weighting == "equal":  # keep the member's value in the index across a price-basis change
                moved = stay & (new_p != old_p)
                if exact:
                    new_sh[moved] = np.maximum(
                        np.rint(new_sh[moved].astype(np.float64) * old_p[moved] / new_p[moved]), 1).astype(np.int64)
                else:  # a float64 book: the value kept exactly up to one rounding, no whole shares
                    new_sh[moved] = new_sh[moved] * old_p[moved] / new_p[moved]
            elif d.weighting == "fixed" and splits:
                # given index shares count the stock's shares: a split redenominates them
                for j, c in enumerate(codes):
                    if stay[j] and c in splits:
                        new_sh[j] = _split_shares(new_sh[j].item(), splits[c], d.name, c)
            join = joining & ~held & np.array([joins_on_listing(d, sector_of[c]) for c in codes], dtype=bool)
            if join.any():
                new_f[join] = 1.0
                new_sh[join] = (new_l[join] if d.weighting == "cap" else 1 if d.weighting == "price" else
                                equal_shares(d, new_p[join], exact=exact))
            sh[idx], f[idx] = new_sh, new_f
        price_moved = new_p != old_p
        reference[idx[price_moved]] = new_p[price_moved]
        prices[idx], listed[idx], member[idx] = new_p, new_l, new_m
        records = self._commit(prices, shares, factors, listed, member, universe, reference, idx,
                               events, date, credits=self._credits(plan.credits, shares, prices, universe))
        for ev in events:
            if isinstance(ev, (CashDividend, DividendCorrection)):
                self.dividends.append((date, ev))
            if getattr(ev, "effective", None) is not None:
                self._applied.add(ev)
        return records

    def _latest_dividend(self, code: str) -> tuple[Fraction, bool] | None:
        """(amount per share, estimated) of ``code``'s latest cash dividend as corrected since,
        from the recorded dividends; None when it has none."""
        for _, ev in reversed(self.dividends):
            if ev.code == code:
                if isinstance(ev, DividendCorrection):
                    return dividend_amount(ev.amount), True
                return dividend_amount(ev.amount), ev.estimated
        return None

    def _credits(self, per_share: dict, shares: np.ndarray, prices: np.ndarray, universe) -> dict[int, Fraction]:
        """{index: Σ dividend × index shares × reinvested share} (won, exact) of the dividends
        of one moment, for the total-return indices they reach (the ex-date's index shares).
        A dividend (or correction) per share not below the stock's price is refused when a
        total-return index holds the stock."""
        out: dict[int, Fraction] = {}
        if not per_share:
            return out
        index = universe.code_index
        for k, d in enumerate(self._defs):
            r = d.reinvested
            if r:
                for c, a in per_share.items():
                    if a >= int(prices[index[c]]) and shares[k, index[c]] > 0:
                        raise ValueError(f"the cash dividend of {c!r} ({float(a):g} won per share) is not below its "
                                         f"price {int(prices[index[c]])}: index {d.name!r} cannot reinvest it")
                total = sum((a * int(shares[k, index[c]]) for c, a in per_share.items()), Fraction(0))
                if total:
                    out[k] = total * r
        return out

    def _commit(self, prices: np.ndarray, shares: np.ndarray, factors: np.ndarray, listed: np.ndarray,
                member: np.ndarray, universe, reference: np.ndarray, idx: np.ndarray, events: Sequence[Event],
                effective: object, only: Sequence[int] | None = None,
                credits: dict[int, Fraction] | None = None) -> list[RebaseRecord]:
        """Check the new state, rebase every touched index (those holding a changed stock
        before or after, or ``only``), install it in one step.

        ``credits[k]``: the cash dividends (won) total-return index k reinvests at this moment:
        they join its carry, ``level = (cap + carry) / divisor``, so the index does not move
        when the prices fall by exactly the dividends, and the roll folds the carry into the
        divisor (methodology notes, "Total return"). An index with a carry is rebased with it
        on both sides (:func:`carry_divisor`)."""
        credits = credits or {}
        K = len(self._defs)
        old_shares = self._core_shares()
        n_old = old_shares.shape[1]
        old_idx = idx[idx < n_old]
        if only is not None:
            touched = sorted(only)
        else:
            touched = [k for k in range(K)
                       if K == 1 or (old_shares[k, old_idx] > 0).any() or (shares[k, idx] > 0).any()]
        check_storable(effective, "`date`")  # recorded in the audit log: must be savable
        running = self._core_running_caps()
        # a float64 book rebases from its running cap (the level it shows), so no level moves
        # by the running cap's drift; the new running cap is the exact recount of the new state
        caps_before = exact_caps(self._core_prices(), old_shares) if running is None else running
        caps_after = exact_caps(prices, shares, [d.name for d in self._defs], "the change of prices or index shares")
        divisors = self._core_divisors()
        carries = self._core_carries()
        new_div, new_carry = divisors.copy(), carries.copy()
        for k in touched:
            name = self._defs[k].name
            if caps_before[k] <= 0:
                raise ValueError(f"cannot rebase index {name!r}: its cap is 0 (no members)")
            if caps_after[k] <= 0:
                raise ValueError(f"the changes would leave index {name!r} with no members (cap 0)")
            c = float(carries[k])
            if c == 0:
                new_div[k] = rebase_divisor(float(divisors[k]), caps_before[k], caps_after[k])
            else:
                if caps_after[k] + c <= 0:
                    raise ValueError(f"the changes would leave index {name!r} with cap + carried dividends <= 0")
                new_div[k] = carry_divisor(float(divisors[k]), caps_before[k], caps_after[k], c, c)
            credit = credits.get(k)
            if credit is not None:
                new_carry[k] = float(Fraction(c) + credit)
                if caps_after[k] + Fraction(c) + credit <= 0:
                    raise ValueError(f"the dividend corrections of index {name!r} ({float(credit):.6g} won) would "
                                     f"leave its cap + carried dividends <= 0")
        levels_before = self.levels
        # ---- commit point: nothing below can fail on user input
        self._core_install(prices, shares, new_div, universe, carries=new_carry)
        self.universe = universe
        self._listed, self._member, self._factors = listed, member, factors
        self.reference_prices = reference
        self._refresh_band()
        if self._previous.shape[0] != K:  # pragma: no cover - K never changes here
            raise AssertionError("index count changed during a rebase")
        ids = tuple(int(i) for i in idx)
        records = [
            RebaseRecord(ids=ids, cap_before=caps_before[k], cap_after=caps_after[k],
                         divisor_before=float(divisors[k]), divisor_after=float(new_div[k]),
                         level_before=float(levels_before[k]),
                         level_after=(float(caps_after[k]) + float(new_carry[k])) / float(new_div[k]),
                         events=tuple(events), effective=effective, index=self._defs[k].name,
                         credit=credits.get(k, 0))
            for k in touched
        ]
        self.audit.extend(records)
        self._version += 1
        return records

    def _roll(self, events: object, closes: object, date: object, then=None) -> list[RebaseRecord]:
        """End-of-day roll shared by every book (see the concrete books' ``roll``); ``then()``,
        when given, runs last inside the same all-or-nothing step (a family's review) and
        returns its records."""
        events = self._check_events(events)
        saved = self.to_state()
        try:
            if closes is not None:
                c = (_validation.int64_array if self.exact else _validation.float64_array)(closes, "closes")
                n = len(self.universe)
                if c.shape[0] != n:
                    raise ValueError(f"`closes` must have one entry per stock ({n}), got {c.shape[0]}")
                _validation.check_positive(c, "closes")
                self.update_many(np.arange(n, dtype=np.intp), c)  # type: ignore[attr-defined]
            self._previous = np.asarray(self.levels, dtype=np.float64).copy()
            records = self._fold_carries(date)
            records += self._apply_events(events, date) if events else []
            if then is not None:
                records += then()
        except BaseException:
            self.restore(saved)  # a rejected roll changes nothing
            raise
        self.reference_prices = self._core_prices()
        self._refresh_band()
        self._version += 1
        return records

    def _fold_carries(self, date: object) -> list[RebaseRecord]:
        """At the close, each total-return index's carried dividends are reinvested: the
        divisor becomes ``divisor × cap / (cap + carry)`` at the closing prices (the level does
        not move) and the carry goes to 0. One audit row per index folded (no ids, no events)."""
        carries = self._core_carries()
        folded = np.flatnonzero(carries != 0)
        if not folded.size:
            return []
        prices, shares = self._core_prices(), self._core_shares()
        caps = exact_caps(prices, shares)
        divisors = self._core_divisors()
        new_div = divisors.copy()
        for k in folded:
            new_div[k] = carry_divisor(float(divisors[k]), caps[k], caps[k], float(carries[k]), 0)
        levels_before = self.levels
        self._core_install(prices, shares, new_div, self.universe, carries=np.zeros(len(self._defs)))
        records = [
            RebaseRecord(ids=(), cap_before=caps[k], cap_after=caps[k], divisor_before=float(divisors[k]),
                         divisor_after=float(new_div[k]), level_before=float(levels_before[k]),
                         level_after=caps[k] / float(new_div[k]), events=(), effective=date,
                         index=self._defs[k].name)
            for k in folded
        ]
        self.audit.extend(records)
        self._version += 1
        return records

    # ------------------------------------------------------------------ dividends
    def theoretical_ex_dividend_level(self, dividends: object, *, index: str | None = None,
                                      prices: object = None) -> float:
        """The level a price index would stand at if the prices fell by exactly the expected
        cash dividends (KRX's 이론 현금배당락지수, published before the December ex-date):
        ``float(Σ (price − dividend) × index shares) / divisor``, the sum exact.

        Parameters
        ----------
        dividends : mapping of code -> amount, or iterable of CashDividend
            Expected dividends per share in won (KRX assumes last year's).
        index : str, optional
            A price index of the book (default: the first index).
        prices : array_like of int, shape (n_stocks,), optional
            The prices to start from (default: the current prices; after a roll, the closes).

        Returns
        -------
        float

        Raises
        ------
        KeyError
            An unknown index or code.
        ValueError
            A total-return index, a negative amount, a dividend not below its price, a
            repeated code.
        """
        k = 0 if index is None else self.index_of(index)
        if not self.exact:
            raise ValueError("the theoretical ex-dividend level is KRX's, on integer won prices: not defined for a "
                             "float64 book")
        if self._defs[k].returns != "price":
            raise ValueError(f"index {self._defs[k].name!r} is a {self._defs[k].returns!r}-return index: the "
                             "theoretical ex-dividend level is that of a price index")
        px = self._core_prices()
        if prices is not None:
            px = _validation.int64_array(prices, "prices")
            if px.shape[0] != len(self.universe):
                raise ValueError(f"`prices` must have one entry per stock ({len(self.universe)}), got {px.shape[0]}")
            _validation.check_positive(px, "prices")
        if isinstance(dividends, Mapping):
            pairs = list(dividends.items())
        elif isinstance(dividends, (str, bytes)):
            raise TypeError(f"`dividends` must be a mapping code -> amount or CashDividend events, got {dividends!r}")
        else:
            pairs = []
            for j, ev in enumerate(dividends):  # type: ignore[attr-defined]
                if not isinstance(ev, CashDividend):
                    raise TypeError(f"`dividends[{j}]` must be a CashDividend, got {ev!r}")
                pairs.append((ev.code, ev.amount))
        shares = self._core_shares()[k]
        index_of = self.universe.code_index
        seen: set[str] = set()
        credit = Fraction(0)
        for code, amount in pairs:
            if code not in index_of:
                raise KeyError(f"`dividends`: unknown stock code {code!r}")
            if code in seen:
                raise ValueError(f"`dividends` names {code!r} twice")
            seen.add(code)
            _validation.non_negative_float(amount, f"dividends[{code!r}]")
            i = index_of[code]
            a = dividend_amount(amount)
            if a >= int(px[i]):
                raise ValueError(f"`dividends[{code!r}]` {amount!r} is not below its price {int(px[i])}")
            credit += a * int(shares[i])
        cap = exact_caps(px, shares[None, :])[0]
        return float(cap - credit) / float(self._core_divisors()[k])

    # ------------------------------------------------------------------ audit
    def audit_table(self) -> list[dict]:
        """The audit log as rows, one per index and rebasing: index, effective date, events,
        caps, base caps, divisors' levels, and the cash dividends (won) a total-return index
        reinvested (``credit``). ``pandas.DataFrame(book.audit_table())`` gives a
        table."""
        base = {d.name: d.base_value for d in self._defs}
        return [
            {
                "index": r.index,
                "effective": r.effective,
                "events": "; ".join(type(e).__name__ + ":" + getattr(e, "code", getattr(e, "target", ""))
                                    for e in r.events),
                "n_stocks": len(r.ids),
                "cap_before": r.cap_before,
                "cap_after": r.cap_after,
                "base_cap_before": r.divisor_before * base.get(r.index, 100.0),
                "base_cap_after": r.divisor_after * base.get(r.index, 100.0),
                "level_before": r.level_before,
                "level_after": r.level_after,
                "credit": float(r.credit),
            }
            for r in self.audit
        ]

    # ------------------------------------------------------------------ state
    def to_state(self) -> BookState:
        """The whole state as plain data (copies): see :class:`~kospi_fast.state.BookState`.

        Raises ``ValueError`` when the book carries attributes its state does not know (a
        subclass's own data would otherwise be lost by a save)."""
        extra = sorted(set(vars(self)) - type(self)._ATTRS)
        if extra:
            raise ValueError(f"cannot take the state of this {type(self).__name__}: attributes unknown to "
                             f"kospi_fast.persist {extra}; a checkpoint must hold the whole state")
        return BookState(
            kind=_registered_kind(type(self)),
            universe=self.universe,
            prices=self._core_prices(),
            reference_prices=self.reference_prices.copy(),
            listed=self._listed.copy(),
            member=self._member.copy(),
            definitions=list(self._defs),
            index_shares=self._core_shares(),
            factors=self._factors.copy(),
            divisors=self._core_divisors(),
            carries=self._core_carries(),
            previous_levels=self._previous.copy(),
            audit=list(self.audit),
            dividends=list(self.dividends),
            applied=set(self._applied),
            price_band=self._band_rate,
            running=None if self._core_running() is None else
            np.asarray(self._core_running(), dtype=np.float64).reshape(-1, 2),
        )

    def restore(self, state: BookState) -> None:
        """Put the book back to ``state`` (from :meth:`to_state` of this book), bit for bit."""
        if not isinstance(state, BookState):
            raise TypeError(f"`state` must be a kospi_fast.state.BookState, got {type(state).__name__}")
        if [d.name for d in state.definitions] != list(self.names) and self._defs:
            raise ValueError("`state` holds other indices than this book")
        self._set_state(state)

    def _set_state(self, state: BookState) -> None:
        state.check()
        self._defs = list(state.definitions)
        if state.running is None:
            self._core_install(state.prices.copy(), state.index_shares.copy(), state.divisors.copy(), state.universe,
                               carries=state.carries.copy())
        else:  # a float64 book: its running caps as saved (the levels come back bit for bit)
            self._core_install(state.prices.copy(), state.index_shares.copy(), state.divisors.copy(), state.universe,
                               carries=state.carries.copy(), running=state.running.copy())
        self.universe = state.universe
        self.reference_prices = state.reference_prices.copy()
        self._band_rate = state.price_band
        self._refresh_band()
        self._listed = state.listed.copy()
        self._member = state.member.copy()
        self._factors = state.factors.copy()
        self._previous = state.previous_levels.copy()
        self.audit = list(state.audit)
        self.dividends = list(state.dividends)
        self._applied = set(state.applied)
        self._version = getattr(self, "_version", -1) + 1

    @classmethod
    def from_state(cls, state: BookState):
        """A book of this class rebuilt from ``state`` exactly (no re-calibration)."""
        if not isinstance(state, BookState):
            raise TypeError(f"`state` must be a kospi_fast.state.BookState, got {type(state).__name__}")
        book = cls.__new__(cls)
        book._set_state(state)
        return book

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole state to ``path`` atomically, versioned and checksummed (no pickle).
        See :mod:`kospi_fast.persist` (journal and crash recovery live there too)."""
        persist.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, event_types: Sequence[type] = ()):
        """Read a book written by :meth:`save`, bit for bit. Raises
        ``kospi_fast.persist.CorruptStateError`` (a ``ValueError``) naming the file and the
        problem when it is damaged, and ``TypeError`` when it holds another kind of book."""
        return persist.load(path, cls=cls, event_types=event_types)


def _split_ratios(events: Sequence[Event]) -> dict[str, Fraction]:
    """{code: product of the ratios of the batch's splits of that code}."""
    out: dict[str, Fraction] = {}
    for ev in events:
        if isinstance(ev, Split):
            out[ev.code] = out.get(ev.code, Fraction(1)) * parse_ratio(ev.ratio)
    return out


def _split_shares(shares: int | float, ratio: Fraction, index: str, code: str) -> int | float:
    """A fixed member's index shares after a split of ``ratio``: ``shares × ratio``, rounded
    half-up to a whole share (at least 1) in an exact book, rounded once to float64 in a float64
    book."""
    if isinstance(shares, float):
        return float(Fraction(shares) * ratio)
    x = Fraction(shares) * ratio
    out = max(1, (2 * x.numerator + x.denominator) // (2 * x.denominator))
    if out > _validation.INT64_MAX:
        raise ValueError(f"the split of {code!r} takes its index shares in {index!r} beyond int64: {out}")
    return out


def _check_band(rate: object) -> object:
    """A price band's rate: None, or a real number > 0 (kept as given: 0.3 means 3/10)."""
    if rate is not None:
        _validation.positive_exact(rate, "price_band")
    return rate


def _registered_kind(cls: type) -> str:
    for base in cls.__mro__:
        if base.__name__ in BOOK_TYPES and BOOK_TYPES[base.__name__] is base:
            return base.__name__
    raise TypeError(f"{cls.__name__} is not a registered book type")
