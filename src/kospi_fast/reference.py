"""Plain-Python model of the methodology: slow, obvious, independent of the kernels.

Every fast function has a twin here with the same name and the same meaning, written with
Python ints (never overflowing), full recomputation instead of incremental deltas, and
``fractions.Fraction`` where a ratio is taken. Tests compare the fast path against it; users
can too.

    level = Σ price_i × shares_i / divisor,   divisor = base_cap / base_value
    rebasing: divisor_new = divisor_old × cap_after / cap_before   (same prices on both sides)
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Iterable, Sequence


def aggregate_cap(prices: Iterable, shares: Iterable) -> int | float:
    """Σ price × shares: an exact int for integer inputs, ``math.fsum`` for floats."""
    ps, ss = list(prices), list(shares)
    if len(ps) != len(ss):
        raise ValueError("prices and shares differ in length")
    if all(_is_int(p) for p in ps) and all(_is_int(s) for s in ss):
        return sum(int(p) * int(s) for p, s in zip(ps, ss))
    return math.fsum(float(p) * float(s) for p, s in zip(ps, ss))


def level(cap: int, divisor: float) -> float:
    """The level from an exact cap: one IEEE division of float(cap) by the divisor."""
    return float(cap) / divisor


def replay(
    shares: Sequence[int], prices: Sequence[int], divisor: float, ids: Iterable[int], new_prices: Iterable[int]
) -> list[float]:
    """Level after each trade, recomputing the whole aggregate every time (O(n) per trade)."""
    cur = [int(p) for p in prices]
    sh = [int(s) for s in shares]
    out = []
    for i, p in zip(ids, new_prices):
        cur[int(i)] = int(p)
        out.append(level(sum(a * b for a, b in zip(cur, sh)), divisor))
    return out


def rebase_divisor(divisor: float, cap_before: int | float, cap_after: int | float) -> float:
    """``divisor × cap_after / cap_before``, the ratio exact, rounded once."""
    return float(Fraction(divisor) * Fraction(cap_after) / Fraction(cap_before))


def published(level_value: float) -> float:
    """Round half-up to 2 decimals, as KRX publishes."""
    return float(Decimal(level_value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class ReferenceEngine:
    """Dict-based twin of :class:`kospi_fast.IndexEngine`.

    ``prices`` and ``shares`` map code -> int; the level is always recomputed in full.
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

    def apply_changes(
        self,
        codes: Sequence[str],
        prices: Sequence[int] | None = None,
        shares: Sequence[int] | None = None,
    ) -> float:
        """Apply new reference prices / shares at one moment and rebase; returns the new divisor."""
        before = self.cap()
        for k, c in enumerate(codes):
            if prices is not None:
                self.prices[c] = int(prices[k])
            if shares is not None:
                self.shares[c] = int(shares[k])
        after = self.cap()
        self.divisor = rebase_divisor(self.divisor, before, after)
        return self.divisor


def _is_int(x: object) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    try:
        import numpy as np

        return isinstance(x, np.integer)
    except ImportError:  # pragma: no cover
        return False
