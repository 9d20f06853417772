"""Many indices over one universe, updated from one feed: ``IndexFamily``.

Each index keeps the exact int64 path: per-member index shares are integers,
``round(listed × float ratio × capping factor)`` for cap-weighted indices, or
``round(EQUAL_NOTIONAL / price)`` at the rebalance for equal-weighted ones. A trade touches only
the indices holding the stock (padded rows by stock, see ``_family.pyx``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from kospi_fast import _validation
from kospi_fast._family import caps_from_ell, run_family
from kospi_fast._rebase import rebase_divisor
from kospi_fast._ticks import prepare_ticks, raise_bad_tick
from kospi_fast.universe import Universe

#: Won per member for equal-weighted indices at a rebalance (index shares = round(this / price)).
#: Large enough that share rounding moves a weight by < 1e-6 even for a 2,000,000-won stock.
EQUAL_NOTIONAL = 10**12


# --------------------------------------------------------------------------- capping
def cap_weights(market_values: object, caps: object) -> np.ndarray:
    """Capped weights: names above their cap are set to it and the excess is shared among the
    uncapped names in proportion to their market values, repeated until no name breaches.

    Parameters
    ----------
    market_values : array_like of float, shape (n,)
        Market values (> 0).
    caps : float or array_like of float, shape (n,)
        Weight cap per name (a scalar applies to all), each in (0, 1].

    Returns
    -------
    ndarray of float64, shape (n,)
        Weights summing to 1, each <= its cap.

    Raises
    ------
    ValueError
        A cap outside (0, 1], a market value <= 0, or caps that cannot be met (Σ caps < 1).

    Examples
    --------
    >>> cap_weights([1, 2, 3], [0.02, 1, 1]).round(6).tolist()
    [0.02, 0.392, 0.588]
    """
    mv = _validation.float64_array(market_values, "market_values")
    _validation.check_positive(mv, "market_values")
    n = mv.shape[0]
    if n == 0:
        raise ValueError("`market_values` must not be empty")
    if np.ndim(caps) == 0:
        if isinstance(caps, bool) or not isinstance(caps, (int, float, np.integer, np.floating)):
            raise TypeError(f"`caps` must be a number or an array of numbers, got {caps!r}")
        cap = np.full(n, float(caps))
    else:
        cap = _validation.float64_array(caps, "caps")
        if cap.shape[0] != n:
            raise ValueError(f"`caps` must have one entry per name ({n}), got {cap.shape[0]}")
    bad = (cap <= 0) | (cap > 1) | ~np.isfinite(cap)
    if bad.any():
        i = int(np.argmax(bad))
        name = "caps" if np.ndim(caps) == 0 else f"caps[{i}]"
        raise ValueError(f"`{name}` must be in (0, 1], got {cap[i]!r}")
    if cap.sum() < 1.0 - 1e-12:
        raise ValueError(f"the caps cannot be met: they sum to {cap.sum():.6g} < 1")
    capped = np.zeros(n, dtype=bool)
    w = mv / mv.sum()
    for _ in range(n + 1):
        free = ~capped
        room = 1.0 - cap[capped].sum()
        w = np.where(capped, cap, 0.0)
        if free.any():
            w[free] = room * mv[free] / mv[free].sum()
        breach = free & (w > cap * (1 + 1e-12))
        if not breach.any():
            return w
        capped |= breach
    raise AssertionError("capping did not converge")  # pragma: no cover - n+1 rounds suffice


# --------------------------------------------------------------------------- definitions
@dataclass(frozen=True)
class IndexDefinition:
    """One index: members, weighting and calibration.

    Parameters
    ----------
    name : str
    members : sequence of str
        Member codes (unique, all in the universe).
    float_ratios : sequence of float, optional
        Free-float ratio per member, each in (0, 1] (default 1: full listed shares).
    caps : float or sequence of float, optional
        Weight cap(s) applied at each rebalance (e.g. 0.30), turned into capping factors.
    weighting : {"cap", "equal"}
    base_value : float
        Level at the base date (KOSPI 100; KOSPI 200 100).
    level : float, optional
        Calibrate to this level now (e.g. its previous published close).
    base_cap : float, optional
        Or calibrate from a base market cap in won.
    """

    name: str
    members: tuple[str, ...]
    float_ratios: tuple[float, ...] | None = None
    caps: object = None
    weighting: str = "cap"
    base_value: float = 100.0
    level: float | None = None
    base_cap: float | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"`name` must be a non-empty str, got {self.name!r}")
        if isinstance(self.members, str):
            raise TypeError(f"`members` of {self.name!r} must be a sequence of codes, got the string {self.members!r}")
        members = tuple(self.members)
        object.__setattr__(self, "members", members)
        if not members:
            raise ValueError(f"index {self.name!r} has no members")
        seen: dict[str, int] = {}
        for k, c in enumerate(members):
            if c in seen:
                raise ValueError(f"index {self.name!r}: `members[{k}]` duplicates `members[{seen[c]}]`: {c!r}")
            seen[c] = k
        if self.float_ratios is not None:
            fr = _validation.float64_array(self.float_ratios, "float_ratios")
            if fr.shape[0] != len(members):
                raise ValueError(f"index {self.name!r}: `float_ratios` must have one entry per member "
                                 f"({len(members)}), got {fr.shape[0]}")
            bad = (fr <= 0) | (fr > 1)
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"index {self.name!r}: `float_ratios[{i}]` ({members[i]}) must be in (0, 1], "
                                 f"got {fr[i].item()!r}")
            object.__setattr__(self, "float_ratios", tuple(fr.tolist()))
        if self.weighting not in ("cap", "equal"):
            raise ValueError(f"index {self.name!r}: `weighting` must be 'cap' or 'equal', got {self.weighting!r}")
        if self.weighting == "equal" and self.caps is not None:
            raise ValueError(f"index {self.name!r}: an equal-weighted index takes no `caps`")
        if self.level is not None and self.base_cap is not None:
            raise ValueError(f"index {self.name!r}: give at most one of `level` and `base_cap`")
        _validation.positive_float(self.base_value, "base_value")
        if self.level is not None:
            _validation.positive_float(self.level, "level")
        if self.base_cap is not None:
            _validation.positive_float(self.base_cap, "base_cap")


def _index_shares(defn: IndexDefinition, ids: np.ndarray, listed: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """int64 index shares of ``defn``'s members at these prices (the rebalance computation)."""
    if defn.weighting == "equal":
        return np.maximum(np.rint(EQUAL_NOTIONAL / prices[ids]), 1).astype(np.int64)
    fr = np.ones(ids.shape[0]) if defn.float_ratios is None else np.asarray(defn.float_ratios)
    base = listed[ids].astype(np.float64) * fr
    if defn.caps is not None:
        mv = base * prices[ids]
        if (mv <= 0).any():
            i = int(np.argmax(mv <= 0))
            raise ValueError(f"index {defn.name!r}: member {defn.members[i]!r} has no shares to weight")
        w = cap_weights(mv, defn.caps)
        base = base * (w / (mv / mv.sum()))
    return np.rint(base).astype(np.int64)


# --------------------------------------------------------------------------- family
class IndexFamily:
    """K indices over one universe, all updated by each trade in one kernel pass.

    Parameters
    ----------
    universe : Universe
    definitions : sequence of IndexDefinition
    prices : array_like of int, optional
        Current prices (default: the universe's base prices).

    Examples
    --------
    >>> import kospi_fast as kf
    >>> u = kf.sample_universe()
    >>> fam = IndexFamily.kospi(u, levels={"KOSPI": 5781.20})
    >>> fam.update_many([0, 1], [200_000, 1_010_000]).shape
    (2, 23)
    """

    def __init__(self, universe: Universe, definitions: Sequence[IndexDefinition], *, prices: object = None) -> None:
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
        self.universe = universe
        n = len(universe)
        px = universe.base_prices.copy() if prices is None else _validation.int64_array(prices, "prices")
        if px.shape[0] != n:
            raise ValueError(f"`prices` must have one entry per stock ({n}), got {px.shape[0]}")
        _validation.check_positive(px, "prices")
        self._defs = defs
        self._member_ids = [self._ids_of(d) for d in defs]
        self._shares = [_index_shares(d, ids, universe.shares, px) for d, ids in zip(defs, self._member_ids)]
        self._prices = np.ascontiguousarray(px, dtype=np.int64)
        self._build_csr()
        caps = self._full_caps()
        divisors = np.ones(len(defs) + self._width)  # slots after K are padding dummies
        for k, d in enumerate(defs):
            if caps[k] <= 0:
                raise ValueError(f"index {d.name!r} has a cap of 0")
            if d.base_cap is not None:
                divisors[k] = d.base_cap / d.base_value
            else:
                divisors[k] = int(caps[k]) / (d.base_value if d.level is None else d.level)
        self._caps = caps
        self._divisors = divisors
        self._levels = caps / divisors
        self.reference_prices = self._prices.copy()
        self.previous_levels = self._levels.copy()

    # ------------------------------------------------------------------ construction helpers
    def _ids_of(self, d: IndexDefinition) -> np.ndarray:
        index = self.universe.code_index
        out = np.empty(len(d.members), dtype=np.intp)
        for k, c in enumerate(d.members):
            if c not in index:
                raise KeyError(f"index {d.name!r}: `members[{k}]` {c!r} is not in the universe")
            out[k] = index[c]
        return out

    def _build_csr(self) -> None:
        """Lay memberships out by stock, padded to the widest row (see ``_family.pyx``)."""
        n, K = len(self.universe), len(self._defs)
        stock = np.concatenate(self._member_ids)
        col = np.concatenate([np.full(ids.shape[0], k, np.int32) for k, ids in enumerate(self._member_ids)])
        sh = np.concatenate(self._shares)
        keep = sh > 0
        stock, col, sh = stock[keep], col[keep], sh[keep]
        order = np.lexsort((col, stock))
        stock, col, sh = stock[order], col[order], sh[order]
        counts = np.bincount(stock, minlength=n)
        width = max(int(counts.max()) if n else 0, 1)
        slot = np.arange(stock.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        # padding position j points at its own dummy slot K + j (see _family.pyx)
        ell_col = np.broadcast_to(np.arange(K, K + width, dtype=np.int32), (n, width)).copy()
        ell_sh = np.zeros((n, width), dtype=np.int64)
        ell_col[stock, slot] = col
        ell_sh[stock, slot] = sh
        self._width = width
        self._col = ell_col.reshape(-1)
        self._sh = ell_sh.reshape(-1)
        totals = np.array([int(s.sum(dtype=np.int64)) for s in self._shares] + [0])
        self._pmax = _validation.CAP_LIMIT // max(int(totals.max()), 1)
        _validation.check_price_bound(self._prices, "prices", self._pmax)

    def _full_caps(self) -> np.ndarray:
        """Caps of every index plus the padding slot (always 0), recomputed in full."""
        return caps_from_ell(self._prices, self._width, self._col, self._sh, len(self._defs) + self._width)

    # ------------------------------------------------------------------ reading
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self._defs)

    @property
    def levels(self) -> np.ndarray:
        """Current levels, float64 shape (n_indices,)."""
        return self._levels[: len(self._defs)].copy()

    @property
    def caps(self) -> np.ndarray:
        """Exact aggregate caps in won, int64 shape (n_indices,)."""
        return self._caps[: len(self._defs)].copy()

    @property
    def divisors(self) -> np.ndarray:
        return self._divisors[: len(self._defs)].copy()

    @property
    def prices(self) -> np.ndarray:
        return self._prices.copy()

    def __len__(self) -> int:
        return len(self._defs)

    def index_of(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown index {name!r}; have {list(self.names)}") from None

    def definition(self, name: str) -> IndexDefinition:
        return self._defs[self.index_of(name)]

    def index_shares(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(member ids, int64 index shares) of one index."""
        k = self.index_of(name)
        return self._member_ids[k].copy(), self._shares[k].copy()

    def recompute(self) -> np.ndarray:
        """Levels from a full aggregation (the check for ``levels``)."""
        return (self._full_caps() / self._divisors)[: len(self._defs)]

    # ------------------------------------------------------------------ trades
    def update_many(self, ids: object, prices: object, *, sample_at: object = None) -> np.ndarray:
        """Apply trades in order, all or nothing; every index holding a stock moves with it.

        Parameters
        ----------
        ids : array_like of int, shape (n_ticks,)
        prices : array_like of int, shape (n_ticks,)
        sample_at : array_like of int, optional
            Ascending trade positions after which to record the levels (e.g. the last trade
            before each publication time). Default: after every trade.

        Returns
        -------
        ndarray of float64, shape (n_ticks, n_indices) or (len(sample_at), n_indices)
        """
        n = len(self.universe)
        ids, prices = prepare_ticks(ids, prices, n, "prices")
        m = prices.shape[0]
        samples = None
        if sample_at is not None:
            samples = _validation.int64_array(sample_at, "sample_at", allow_float=False)
            if samples.size and (samples[0] < 0 or samples[-1] >= m or (np.diff(samples) < 0).any()):
                raise ValueError(f"`sample_at` must be ascending positions in [0, {m}), got {samples[:5]}...")
        rows = m if samples is None else samples.shape[0]
        out = np.empty((rows, len(self._defs)), dtype=np.float64)
        work_p, work_c, work_l = self._prices.copy(), self._caps.copy(), self._levels.copy()
        bad = run_family(work_p, self._width, self._col, self._sh, work_c, self._divisors, work_l,
                         ids, prices, self._pmax, out, samples)
        if bad == -2:
            raise MemoryError("IndexFamily.update_many: no memory for the kernel's scratch arrays")
        if bad != -1:
            raise_bad_tick(bad, ids, prices, n, self._pmax, "ids", "prices")
        self._prices, self._caps, self._levels = work_p, work_c, work_l
        return out

    def update(self, key: object, price: object) -> np.ndarray:
        """One trade (code or id, price in won); returns the levels after it."""
        i = self.universe.id_of(key)
        p = _validation.price_scalar(price)
        return self.update_many(np.array([i]), np.array([p], dtype=np.int64))[0]

    # ------------------------------------------------------------------ rebalancing
    def rebalance(self, changes: Mapping[str, IndexDefinition]) -> dict[str, tuple[float, float]]:
        """Replace definitions (membership, float ratios, caps) of some indices at one moment,
        atomically; each rebased index keeps its level: divisor × cap_after / cap_before, with
        capping factors recomputed at the current prices. Returns {name: (level_before,
        level_after)}."""
        defs = list(self._defs)
        member_ids = list(self._member_ids)
        shares = list(self._shares)
        for name, new in changes.items():
            k = self.index_of(name)
            if not isinstance(new, IndexDefinition):
                raise TypeError(f"`changes[{name!r}]` must be an IndexDefinition, got {new!r}")
            if new.name != name:
                raise ValueError(f"`changes[{name!r}]` is named {new.name!r}; rename by a new family instead")
            defs[k] = new
            member_ids[k] = self._ids_of(new)
            shares[k] = _index_shares(new, member_ids[k], self.universe.shares, self._prices)
        for name in changes:
            k = self.index_of(name)
            if int(shares[k].sum()) <= 0:
                raise ValueError(f"index {name!r} would have a cap of 0 (no member has index shares)")
        old = (self._defs, self._member_ids, self._shares, self._col, self._sh, self._width, self._pmax)
        self._defs, self._member_ids, self._shares = defs, member_ids, shares
        try:
            # everything that can fail happens before the commit below
            self._build_csr()
            caps_after = self._full_caps()
            K = len(self._defs)
            divisors = np.ones(caps_after.shape[0])  # the padding width may have changed
            divisors[:K] = self._divisors[:K]
            out = {}
            for name in changes:
                k = self.index_of(name)
                before = self._levels[k]
                divisors[k] = rebase_divisor(self._divisors[k], int(self._caps[k]), int(caps_after[k]))
                out[name] = (before, caps_after[k] / divisors[k])
        except Exception:
            self._defs, self._member_ids, self._shares, self._col, self._sh, self._width, self._pmax = old
            raise
        self._divisors, self._caps = divisors, caps_after
        self._levels = caps_after / divisors
        return out

    def roll(self) -> None:
        """End of day: current prices become the reference for attribution, levels the previous
        closes."""
        self.reference_prices = self._prices.copy()
        self.previous_levels = self._levels.copy()

    # ------------------------------------------------------------------ attribution
    def attribution(self, name: str, top: int = 10) -> dict:
        """Contributions of one index's move since the previous close (reference prices).

        Returns a dict with: ``codes``, ``points`` (per member, Δprice × shares / divisor, in
        index points; they sum to the level change when no rebase happened in between),
        ``weights`` (current, sum 1), ``sector_points`` ({sector: points}), ``top_weight``
        (Σ of the ``top`` largest weights), ``advancers``, ``decliners``, ``unchanged``.
        """
        k = self.index_of(name)
        ids, sh = self._member_ids[k], self._shares[k]
        p, ref = self._prices[ids], self.reference_prices[ids]
        points = (p - ref).astype(np.float64) * sh / self._divisors[k]
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
        k = self.index_of(name)
        ids = self._member_ids[k]
        return pd.DataFrame({
            "code": a["codes"],
            "name": [self.universe.names[i] for i in ids],
            "sector": [self.universe.sectors[i] for i in ids] if self.universe.sectors else None,
            "points": a["points"],
            "weight": a["weights"],
        }).sort_values("points", key=abs, ascending=False, ignore_index=True)

    # ------------------------------------------------------------------ built-ins
    @classmethod
    def kospi(
        cls,
        universe: Universe,
        *,
        kospi200: Sequence[str] | None = None,
        kospi100: Sequence[str] | None = None,
        kospi50: Sequence[str] | None = None,
        float_ratios: Mapping[str, float] | None = None,
        sectors: bool = True,
        size: bool = True,
        equal_weighted: bool = False,
        kospi200_cap: float | None = None,
        levels: Mapping[str, float] | None = None,
    ) -> "IndexFamily":
        """The KOSPI family over ``universe``: KOSPI (full listed shares), KOSPI 200/100/50
        when their member lists are given (float-adjusted with ``float_ratios``; KRX does not
        publish these as files, so they are inputs), size indices (large = top 100 by cap, mid
        = 101–300, small = the rest), one index per sector, and equal-weighted variants of
        KOSPI 200/100/50 when ``equal_weighted``. ``levels`` calibrates named indices; the rest
        start at their base value (100)."""
        levels = dict(levels or {})
        members = [c for c, s in zip(universe.codes, universe.shares) if s > 0]
        defs = [IndexDefinition("KOSPI", members, level=levels.pop("KOSPI", None))]
        fr = dict(float_ratios or {})
        for name, lst in (("KOSPI 200", kospi200), ("KOSPI 100", kospi100), ("KOSPI 50", kospi50)):
            if lst is None:
                continue
            ratios = tuple(fr.get(c, 1.0) for c in lst)
            cap = kospi200_cap if name == "KOSPI 200" else None
            defs.append(IndexDefinition(name, tuple(lst), float_ratios=ratios, caps=cap, level=levels.pop(name, None)))
            if equal_weighted:
                ew = f"{name} Equal Weight"
                defs.append(IndexDefinition(ew, tuple(lst), weighting="equal", level=levels.pop(ew, None)))
        if size:
            caps = universe.base_prices.astype(np.float64) * universe.shares
            order = [universe.codes[i] for i in np.argsort(-caps, kind="stable") if universe.shares[i] > 0]
            for name, lst in (("KOSPI Large", order[:100]), ("KOSPI Mid", order[100:300]), ("KOSPI Small", order[300:])):
                if lst:
                    defs.append(IndexDefinition(name, tuple(lst), level=levels.pop(name, None)))
        if sectors and universe.sectors is not None:
            by: dict[str, list[str]] = {}
            for c, s, sh in zip(universe.codes, universe.sectors, universe.shares):
                if sh > 0 and s:
                    by.setdefault(s, []).append(c)
            for s in sorted(by):
                defs.append(IndexDefinition(s, tuple(by[s]), level=levels.pop(s, None)))
        if levels:
            raise KeyError(f"`levels` names unknown indices: {sorted(levels)}")
        return cls(universe, defs)
