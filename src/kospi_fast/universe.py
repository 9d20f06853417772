"""The constituents: codes, names, listed shares, base prices and sectors, validated once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kospi_fast import _validation
from kospi_fast._aggregate import aggregate_cap


__all__ = ["Universe"]

@dataclass(frozen=True, eq=False)
class Universe:
    """A set of stocks stored as contiguous arrays, row ``i`` being stock id ``i``.

    Parameters
    ----------
    codes : sequence of str, length n
        Unique non-empty codes in any market's form: KRX short codes such as ``'005930'`` (kept
        as strings: leading zeros matter), tickers such as ``'AAPL'`` or ``'BRK.B'``, ISINs.
    names : sequence of str, length n
    shares : array_like of int, shape (n,)
        Listed common shares, >= 0.
    base_prices : array_like of int, shape (n,)
        Base prices in integer price units (won for KRX, cents, ...; normally the previous
        close), > 0.
    sectors : sequence of str, length n, optional
        Sector label per stock.

    Raises
    ------
    TypeError, ValueError
        On any bad element, naming it.

    Examples
    --------
    >>> u = Universe(["005930", "000660"], ["Samsung Elec", "SK hynix"], [10, 5], [70000, 150000])
    >>> u.index_of("000660")
    1
    """

    codes: tuple[str, ...]
    names: tuple[str, ...]
    shares: np.ndarray
    base_prices: np.ndarray
    sectors: tuple[str, ...] | None = None
    _index: dict[str, int] = field(init=False, repr=False)

    def __init__(
        self,
        codes: Sequence[str],
        names: Sequence[str],
        shares: object,
        base_prices: object,
        sectors: Sequence[str] | None = None,
    ) -> None:
        codes_t = tuple(_validation.check_codes(codes, "codes"))
        n = len(codes_t)
        names_t = _string_tuple(names, "names", n)
        sh = _validation.int64_array(shares, "shares")
        bp = _validation.int64_array(base_prices, "base_prices")
        for arr, name in ((sh, "shares"), (bp, "base_prices")):
            if arr.shape[0] != n:
                raise ValueError(f"`{name}` must have one entry per code ({n}), got {arr.shape[0]}")
        _validation.check_non_negative(sh, "shares")
        _validation.check_positive(bp, "base_prices")
        sec = None if sectors is None else _string_tuple(sectors, "sectors", n)
        sh.flags.writeable = False
        bp.flags.writeable = False
        object.__setattr__(self, "codes", codes_t)
        object.__setattr__(self, "names", names_t)
        object.__setattr__(self, "shares", sh)
        object.__setattr__(self, "base_prices", bp)
        object.__setattr__(self, "sectors", sec)
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(codes_t)})

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        return f"Universe(n={len(self)}, cap={self.base_cap():.6g} price units)"

    @property
    def code_index(self) -> dict[str, int]:
        """Mapping code -> id (a copy)."""
        return dict(self._index)

    def index_of(self, code: str) -> int:
        """Id (row) of ``code``; ``KeyError`` naming the code when it is unknown."""
        if not isinstance(code, str):
            raise TypeError(f"`code` must be a str such as 'AAPL' or '005930', got {code!r}")
        try:
            return self._index[code]
        except KeyError:
            raise KeyError(f"unknown stock code {code!r}") from None

    def id_of(self, code: object) -> int:
        """Id (row) of a stock given its code as a str.

        An integer is refused with a ``TypeError``: it may be a code whose leading zeros were
        lost (``660`` for ``'000660'``) as well as an id, and taking one for the other moves
        the wrong stock in silence. Ids go through :meth:`check_id` (or the ``*_id`` methods
        and ``id=`` keywords of the books and the trading day)."""
        if isinstance(code, str):
            return self.index_of(code)
        if isinstance(code, (int, np.integer)) and not isinstance(code, bool):
            raise TypeError(_validation.ambiguous_int(code, "the id explicitly (update_id, id=)"))
        raise TypeError(f"`code` must be a stock code string such as 'AAPL' or '005930', got {code!r}")

    def check_id(self, stock_id: object, name: str = "id") -> int:
        """A stock id (row) checked against the universe: an integer in ``[0, n)``."""
        if isinstance(stock_id, (bool, str)) or not isinstance(stock_id, (int, np.integer)):
            raise TypeError(f"`{name}` must be an integer stock id (a row of the universe), got {stock_id!r}")
        if not 0 <= int(stock_id) < len(self):
            raise ValueError(f"`{name}` is out of range: ids must be in [0, {len(self)}), got {stock_id}")
        return int(stock_id)

    def ids_of(self, codes: Sequence[str]) -> np.ndarray:
        """Ids (intp array) of a sequence of codes."""
        if isinstance(codes, str):
            raise TypeError(f"`codes` must be a sequence of codes, got the string {codes!r}")
        out = np.empty(len(codes), dtype=np.intp)
        for k, c in enumerate(codes):
            if c not in self._index:
                raise KeyError(f"`codes[{k}]`: unknown stock code {c!r}")
            out[k] = self._index[c]
        return out

    def with_added(
        self,
        codes: Sequence[str],
        names: Sequence[str],
        shares: object,
        base_prices: object,
        sectors: Sequence[str] | None = None,
    ) -> "Universe":
        """A new universe with these stocks appended (ids of existing stocks are unchanged)."""
        codes = list(codes)
        for k, c in enumerate(codes):
            if c in self._index:
                raise ValueError(f"`codes[{k}]` {c!r} is already in the universe")
        if self.sectors is not None and sectors is None:
            sectors = [""] * len(codes)
        return Universe(
            list(self.codes) + codes,
            list(self.names) + list(names),
            np.concatenate([self.shares, _validation.int64_array(shares, "shares")]),
            np.concatenate([self.base_prices, _validation.int64_array(base_prices, "base_prices")]),
            None if self.sectors is None else list(self.sectors) + list(sectors or []),
        )

    def base_cap(self) -> int:
        """Σ base_prices × shares, exact (in price units × shares)."""
        return aggregate_cap(self.base_prices, self.shares) if len(self) else 0

    def base_cap_won(self) -> int:
        """:meth:`base_cap` under its KRX name (won)."""
        return self.base_cap()


def _string_tuple(values: Sequence[str], name: str, n: int) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"`{name}` must be a sequence of str, got the string {values!r}")
    out = tuple(values)
    if len(out) != n:
        raise ValueError(f"`{name}` must have one entry per code ({n}), got {len(out)}")
    for i, v in enumerate(out):
        if not isinstance(v, str):
            raise TypeError(f"`{name}[{i}]` must be a str, got {v!r}")
    return out
