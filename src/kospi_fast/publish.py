"""How a level is published: KRX rounds half-up to 2 decimals (internal state never is)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["published"]


def published(level: float) -> float:
    """KRX's published form of a level: rounded half-up to 2 decimals (internal state is never
    rounded). The exact binary value of ``level`` is rounded, not its shortest repr.

    >>> published(5781.2051)
    5781.21
    """
    return float(Decimal(level).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
