"""``IndexEngine``: one index over a universe, updated trade by trade.

State: current prices (int64 won), index shares (int64; listed shares for KOSPI, 0 = not a
member), the exact int64 aggregate cap and the divisor (``base_cap / base_value``). The hot
paths (``update``, ``update_many``) are in the Cython base class; this layer calibrates,
validates and applies changes that rebase the divisor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from kospi_fast import _validation
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._engine import EngineCore
from kospi_fast._rebase import apply_changes_inplace, rebase_divisor
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
        Shares each stock counts with (default: the universe's listed shares, as KOSPI does;
        0 excludes a stock).
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
        prices: object = None,
    ) -> None:
        if not isinstance(universe, Universe):
            raise TypeError(f"`universe` must be a kospi_fast.Universe, got {type(universe).__name__}")
        if level is not None and base_cap is not None:
            raise ValueError("give at most one of `level` and `base_cap`, got both")
        self.universe = universe
        self.base_value = _validation.positive_float(base_value, "base_value")
        n = len(universe)
        shares = universe.shares if index_shares is None else _validation.int64_array(index_shares, "index_shares")
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
        self.audit: list[RebaseRecord] = []

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
        change passes ``index_shares`` (0 removes a stock).

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
        cap_before = self.cap
        if cap_before <= 0:
            raise ValueError("cannot rebase an index whose cap is 0 (no members)")
        # Work on copies; install only when everything checks out.
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
        self._core_set_state(work_p, work_s, div_after, self.universe.code_index)
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
        )
        self.audit.append(record)
        return record

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
