"""``IndexEngine``: one index over a universe, updated trade by trade.

State: current prices (int64 won), index shares (int64; listed shares for KOSPI, 0 = not a
member), the exact int64 aggregate cap and the divisor (``base_cap / base_value``). The hot
paths (``update``, ``update_many``) are in the Cython base class; this layer calibrates,
validates and applies changes that rebase the divisor.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from kospi_fast import _validation
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._engine import EngineCore
from kospi_fast._rebase import apply_changes_inplace, rebase_divisor
from kospi_fast.events import CashDividend, Event, Plan, SetReferencePrice, StockState
from kospi_fast.universe import Universe

KOSPI_BASE_VALUE = 100.0  # 1980-01-04 = 100


def published(level: float) -> float:
    """KRX's published form of a level: rounded half-up to 2 decimals (internal state is never
    rounded). The exact binary value of ``level`` is rounded, not its shortest repr."""
    return float(Decimal(level).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class RebaseRecord:
    """What one rebasing did: caps at the same prices before and after, divisors, levels."""

    ids: tuple[int, ...]
    cap_before: int
    cap_after: int
    divisor_before: float
    divisor_after: float
    level_before: float
    level_after: float
    events: tuple = ()
    effective: object = None


class IndexEngine(EngineCore):
    """One cap-weighted index over a universe, exact on int64.

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
        the members, as KOSPI does. An engine with custom index shares accepts trades and
        :meth:`apply_changes`, but not share-count events (:meth:`apply_events`).
    members : array_like of bool or sequence of codes, optional
        Which stocks are index members (default: every stock with listed shares > 0).
    prices : array_like of int, optional
        Starting prices (default: the universe's base prices).

    Examples
    --------
    >>> u = Universe(["005930", "000660"], ["A", "B"], [10, 5], [70000, 150000])
    >>> e = IndexEngine(u, level=2500.0)
    >>> e.update("005930", 70100) > 2500.0
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
    ) -> None:
        if not isinstance(universe, Universe):
            raise TypeError(f"`universe` must be a kospi_fast.Universe, got {type(universe).__name__}")
        if level is not None and base_cap is not None:
            raise ValueError("give at most one of `level` and `base_cap`, got both")
        self.universe = universe
        self.base_value = _validation.positive_float(base_value, "base_value")
        n = len(universe)
        if index_shares is not None and members is not None:
            raise ValueError("give at most one of `index_shares` and `members`, got both")
        member = _member_mask(universe, members)
        self._full_cap = index_shares is None
        if index_shares is None:
            shares = np.where(member, universe.shares, 0).astype(np.int64)
        else:
            shares = _validation.int64_array(index_shares, "index_shares")
        px = universe.base_prices if prices is None else _validation.int64_array(prices, "prices")
        for arr, name in ((shares, "index_shares"), (px, "prices")):
            if arr.shape[0] != n:
                raise ValueError(f"`{name}` must have one entry per stock ({n}), got {arr.shape[0]}")
        _validation.check_non_negative(shares, "index_shares")
        _validation.check_positive(px, "prices")
        _validation.check_price_bound(px, "prices", _validation.price_bound(shares))
        cap = aggregate_cap(px, shares) if n else 0
        if base_cap is not None:
            divisor = _validation.positive_float(base_cap, "base_cap") / self.base_value
        else:
            target = self.base_value if level is None else _validation.positive_float(level, "level")
            if cap <= 0:
                raise ValueError("cannot calibrate to a level: the index has no members (cap is 0)")
            divisor = cap / target
        self._core_set_state(px, shares, divisor, universe.code_index)
        self._listed = universe.shares.copy()
        self._member = shares > 0 if index_shares is not None else member
        self.reference_prices = px.copy()  # start-of-day reference (previous close, adjusted)
        self.previous_close = self.level
        self.audit: list[RebaseRecord] = []
        self.dividends: list = []
        self._applied: set = set()

    # ------------------------------------------------------------------ reading
    @property
    def base_cap(self) -> float:
        """Base market cap in won, ``divisor × base_value`` (KRX's continuity variable)."""
        return self.divisor * self.base_value

    @property
    def published_level(self) -> float:
        """The level as KRX publishes it: rounded half-up to 2 decimals."""
        return published(self.level)

    def recompute(self) -> float:
        """Level from a full aggregation of the current prices (the check for ``level``)."""
        return aggregate_cap(self.prices, self.index_shares) / self.divisor

    def ids_of(self, codes: Sequence[str]) -> np.ndarray:
        """Ids of ``codes`` in this engine's universe."""
        return self.universe.ids_of(codes)

    # ------------------------------------------------------------------ rebasing
    @property
    def listed_shares(self) -> np.ndarray:
        """Copy of the listed shares (int64) the engine tracks for events."""
        return self._listed.copy()

    @property
    def members(self) -> np.ndarray:
        """Copy of the membership mask (bool)."""
        return self._member.copy()

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
            New reference prices in won (> 0).
        index_shares : array_like of int, shape (k,), optional
            New index shares (>= 0).

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
        new_p = cur_p[idx] if prices is None else _validation.int64_array(prices, "prices")
        new_s = cur_s[idx] if index_shares is None else _validation.int64_array(index_shares, "index_shares")
        for arr, name in ((new_p, "prices"), (new_s, "index_shares")):
            if arr.shape[0] != k:
                raise ValueError(f"`{name}` must have one entry per id ({k}), got {arr.shape[0]}")
        _validation.check_positive(new_p, "prices")
        _validation.check_non_negative(new_s, "index_shares")
        listed, member = self._listed.copy(), self._member.copy()
        if self._full_cap:
            # keep the event bookkeeping in step: index shares are listed shares of members
            member[idx] = new_s > 0
            listed[idx] = np.where(new_s > 0, new_s, listed[idx])
        else:
            member[idx] = new_s > 0
        return self._install(cur_p, cur_s, idx, new_p, new_s, self.universe, listed, member)

    def _install(self, cur_p, cur_s, idx, new_p, new_s, universe, listed, member, events=(), effective=None):
        """Validate the rebased state on copies and install it in one step."""
        cap_before = self.cap
        if cap_before <= 0:
            raise ValueError("cannot rebase an index whose cap is 0 (no members)")
        work_p, work_s = cur_p.copy(), cur_s.copy()
        work_p[idx] = new_p
        work_s[idx] = new_s
        bound = _validation.price_bound(work_s)
        _validation.check_price_bound(work_p, "prices", bound)
        work_p[idx], work_s[idx] = cur_p[idx], cur_s[idx]
        delta = apply_changes_inplace(work_p, work_s, idx, new_p, new_s)
        cap_after = cap_before + delta
        if cap_after <= 0:
            raise ValueError("the changes would leave the index with no members (cap 0)")
        div_before = self.divisor
        div_after = rebase_divisor(div_before, cap_before, cap_after)
        level_before = self.level
        # ---- commit point: nothing below can fail on user input
        if universe is not self.universe:
            grown = len(universe) - len(self.reference_prices)
            self.reference_prices = np.concatenate([self.reference_prices, work_p[len(work_p) - grown:]])
            self.universe = universe
        self._core_set_state(work_p, work_s, div_after, universe.code_index)
        self._listed, self._member = listed, member
        if self.cap != cap_after:  # the kernel's delta must agree with a full recount
            raise AssertionError(f"rebase delta mismatch: {self.cap} != {cap_after}")
        record = RebaseRecord(
            ids=tuple(int(i) for i in idx),
            cap_before=cap_before,
            cap_after=cap_after,
            divisor_before=div_before,
            divisor_after=div_after,
            level_before=level_before,
            level_after=self.level,
            events=tuple(events),
            effective=effective,
        )
        self.audit.append(record)
        return record

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
        if isinstance(events, Event):
            events = [events]
        events = list(events)
        for k, ev in enumerate(events):
            if not isinstance(ev, Event):
                raise TypeError(f"`events[{k}]` must be a kospi_fast.events.Event, got {ev!r}")
        seen: set = set()
        for k, ev in enumerate(events):
            if ev in seen:
                raise ValueError(f"`events[{k}]` repeats an earlier event of the batch: {ev!r}")
            seen.add(ev)
            if getattr(ev, "effective", None) is not None and ev in self._applied:
                raise ValueError(f"`events[{k}]` was already applied: {ev!r}")
        cur_p, cur_s = self.prices, self.index_shares
        index = self.universe.code_index

        def lookup(code: str):
            i = index.get(code)
            if i is None:
                return None
            return StockState(price=int(cur_p[i]), listed=int(self._listed[i]), member=bool(self._member[i]))

        plan = Plan(lookup, date=date)
        for ev in events:
            ev.apply(plan)
        if not self._full_cap and any(
            not isinstance(ev, (CashDividend, SetReferencePrice)) for ev in events
        ):
            raise ValueError("share-count and price-basis events need an engine whose index shares are "
                             "listed shares (built without `index_shares`)")
        universe = self.universe
        listed, member = self._listed.copy(), self._member.copy()
        if plan.new_stocks:
            codes = list(plan.new_stocks)
            universe = universe.with_added(
                codes,
                [plan.new_stocks[c][0] for c in codes],
                [plan.states[c].listed for c in codes],
                [plan.states[c].price for c in codes],
                [plan.new_stocks[c][1] or "" for c in codes] if universe.sectors is not None else None,
            )
            grow = len(codes)
            cur_p = np.concatenate([cur_p, [plan.states[c].price for c in codes]]).astype(np.int64)
            cur_s = np.concatenate([cur_s, np.zeros(grow, dtype=np.int64)])
            listed = np.concatenate([listed, np.zeros(grow, dtype=np.int64)])
            member = np.concatenate([member, np.zeros(grow, dtype=bool)])
            index = universe.code_index
        codes_changed = list(plan.states)
        for c in codes_changed:
            st = plan.states[c]
            if st.price > _validation.INT64_MAX or st.listed > _validation.INT64_MAX:
                raise ValueError(f"events take {c!r} beyond int64: price {st.price}, listed shares {st.listed}")
        idx = np.array([index[c] for c in codes_changed], dtype=np.intp)
        new_p = np.array([plan.states[c].price for c in codes_changed], dtype=np.int64)
        new_l = np.array([plan.states[c].listed for c in codes_changed], dtype=np.int64)
        new_m = np.array([plan.states[c].member for c in codes_changed], dtype=bool)
        new_s = np.where(new_m, new_l, 0).astype(np.int64) if self._full_cap else cur_s[idx]
        _validation.check_positive(new_p, "prices")
        listed[idx], member[idx] = new_l, new_m
        record = self._install(cur_p, cur_s, idx, new_p, new_s, universe, listed, member,
                               events=events, effective=date)
        for ev in events:
            if isinstance(ev, CashDividend):
                self.dividends.append((date, ev))
            if getattr(ev, "effective", None) is not None:
                self._applied.add(ev)
        return record

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
        events = list(events)
        saved = self._snapshot()
        try:
            if closes is not None:
                c = _validation.int64_array(closes, "closes")
                if c.shape[0] != len(self):
                    raise ValueError(f"`closes` must have one entry per stock ({len(self)}), got {c.shape[0]}")
                _validation.check_positive(c, "closes")
                self.update_many(np.arange(len(self), dtype=np.intp), c)
            self.previous_close = self.level
            record = self.apply_events(events, date=date) if events else None
        except BaseException:
            self._restore(saved)  # a rejected roll changes nothing
            raise
        self.reference_prices = self.prices
        return record

    def _snapshot(self) -> tuple:
        return (self.prices, self.index_shares, self.divisor, self.universe, self._listed.copy(),
                self._member.copy(), self.reference_prices.copy(), self.previous_close, len(self.audit),
                set(self._applied), len(self.dividends))

    def _restore(self, saved: tuple) -> None:
        (prices, shares, divisor, universe, listed, member, ref, prev, n_audit, applied, n_div) = saved
        self._core_set_state(prices, shares, divisor, universe.code_index)
        self.universe, self._listed, self._member = universe, listed, member
        self.reference_prices, self.previous_close = ref, prev
        del self.audit[n_audit:]
        del self.dividends[n_div:]
        self._applied = applied

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole state (universe, prices, index shares, divisor, audit log, dividends,
        applied events) to ``path`` atomically, in a versioned, checksummed format (no pickle).
        See :mod:`kospi_fast.persist` (journal and crash recovery live there too)."""
        from kospi_fast.persist import save_engine

        save_engine(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, event_types: Sequence[type] = ()) -> IndexEngine:
        """Read an engine written by :meth:`save`, bit for bit (no re-calibration).

        Raises ``kospi_fast.persist.CorruptStateError`` (a ``ValueError``) naming the file and
        the problem when it is truncated, torn, corrupted, of an unknown version or not ours.
        ``event_types``: extra Event subclasses the audit log may hold."""
        from kospi_fast.persist import load_engine

        return load_engine(path, cls=cls, event_types=event_types)

    def audit_table(self) -> list[dict]:
        """The audit log as rows (one per rebasing): effective, events, caps, divisors, levels.
        ``pandas.DataFrame(engine.audit_table())`` gives a table."""
        return [
            {
                "effective": r.effective,
                "events": "; ".join(type(e).__name__ + ":" + getattr(e, "code", getattr(e, "target", "")) for e in r.events),
                "n_stocks": len(r.ids),
                "cap_before": r.cap_before,
                "cap_after": r.cap_after,
                "base_cap_before": r.divisor_before * self.base_value,
                "base_cap_after": r.divisor_after * self.base_value,
                "level_before": r.level_before,
                "level_after": r.level_after,
            }
            for r in self.audit
        ]

    def _resolve_ids(self, ids: object) -> np.ndarray:
        if isinstance(ids, str):
            raise TypeError(f"`ids` must be a sequence of codes or ids, got the string {ids!r}")
        seq = list(ids) if not isinstance(ids, np.ndarray) else ids
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


def _member_mask(universe: Universe, members: object) -> np.ndarray:
    n = len(universe)
    if members is None:
        return universe.shares > 0
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
