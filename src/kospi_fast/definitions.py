"""What an index is: members, weighting, capping and calibration (``IndexDefinition``), the
rebalance computation of index shares, and the KOSPI family's catalogue.

Each index keeps the exact int64 path: per-member index shares are integers,
``round(listed × float ratio × capping factor)`` for cap-weighted indices,
``round(EQUAL_NOTIONAL / price)`` at the rebalance for equal-weighted ones, or given
("fixed", e.g. a price-weighted basket).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction

import numpy as np

from kospi_fast import _validation
from kospi_fast.krx import check_krx_codes
from kospi_fast.universe import Universe

__all__ = [
    "CONSTITUENT_INDICES",
    "EQUAL_NOTIONAL",
    "IndexDefinition",
    "KOSPI_BASE_VALUE",
    "KRX_TAX_DOMESTIC",
    "KRX_TAX_FOREIGN",
    "RETURNS",
    "WEIGHTINGS",
    "cap_weights",
    "constituent_index",
    "equal_shares",
    "index_weights",
    "joins_on_listing",
    "kospi_definition",
    "kospi_definitions",
    "shares_from_listed",
]

#: The default notional per member of an equal-weighted index, in price units (won for KOSPI):
#: index shares = round(notional / price) at a rebalance. Large enough that share rounding moves
#: a weight by < 1e-6 even for a 2,000,000-won stock. An index sets its own (``notional=``).
EQUAL_NOTIONAL = 10**12

#: KOSPI's base value (1980-01-04 = 100).
KOSPI_BASE_VALUE = 100.0

WEIGHTINGS = ("cap", "equal", "fixed", "price")

#: Return types of an index: "price" ignores cash dividends (KOSPI itself); "total" reinvests
#: them index-wide on the ex-date (TR); "net" reinvests them net of withholding tax (NTR).
RETURNS = ("price", "total", "net")

#: KRX's NTR withholding rates (methodology §7.5): 15.4% domestic, 22% foreign holders.
KRX_TAX_DOMESTIC = 0.154
KRX_TAX_FOREIGN = 0.22

#: Fields that say what an index holds and how (not its name, return type or calibration): two
#: definitions equal on these are twins (a TR/NTR index over its price index's members).
_NOT_BASIS = ("name", "returns", "tax_rate", "level", "base_cap", "base_value", "extra")


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
    weighting : {"cap", "equal", "fixed", "price"}
        "cap": index shares = listed shares × float ratio × capping factor; "equal": index
        shares = round(notional / price) at each rebalance; "fixed": the index shares are
        given per member (``shares``: e.g. float-adjusted shares computed by the user);
        "price": price-weighted (Dow-style), one index share per member, the divisor absorbing
        splits and changes.
    shares : sequence of int, optional
        Index shares per member, for ``weighting="fixed"`` only (each > 0).
    notional : int, optional
        For ``weighting="equal"``: the notional per member in price units (default
        :data:`EQUAL_NOTIONAL`); a larger one makes the share rounding finer.
    follows_market : bool
        Membership follows the market (KOSPI: every listed common stock): a
        :class:`~kospi_fast.events.NewListing` joins the index. Default False (KOSPI 200, size
        and custom indices change members at a rebalance only).
    sector : str, optional
        A sector index: a new listing of this sector joins it.
    base_value : float
        Level at the base date (KOSPI 100; KOSPI 200 100).
    level : float, optional
        Calibrate to this level now (e.g. its previous published close).
    base_cap : float, optional
        Or calibrate from a base market cap in won.
    returns : {"price", "total", "net"}
        "price" (default) ignores cash dividends; "total" (TR) reinvests each cash dividend
        index-wide on its ex-date, "net" (NTR) the dividend net of ``tax_rate``: Σ dividend ×
        index shares (× (1 − tax_rate)) is added to its cap for the day and folded into its
        divisor at the roll, TR_t = TR_{t−1} × (cap_t + D_t) / cap_{t−1}; see
        :class:`~kospi_fast.events.CashDividend` and the methodology notes, "Total return".
    tax_rate : float, optional
        Withholding tax rate in [0, 1) of a "net" index (KRX: 0.154 domestic, 0.22 foreign);
        required for "net", refused otherwise.
    cap : float, optional
        KRX's capped variant (e.g. 0.30): the weight cap its reviews apply. The book never
        computes it from one day: :mod:`kospi_fast.kospi200` turns the AVERAGE weight over the
        review window into ``cap_factors`` at each June/December review (methodology 7.2).
    cap_factors : sequence of float, optional
        Capping factor per member, each in (0, 1], held until the next review (default 1):
        index shares = round(listed × float ratio × capping factor).
    """

    name: str
    members: tuple[str, ...]
    float_ratios: tuple[float, ...] | None = None
    caps: object = None
    weighting: str = "cap"
    base_value: float = 100.0
    shares: tuple[int, ...] | None = None
    follows_market: bool = False
    sector: str | None = None
    level: float | None = None
    base_cap: float | None = None
    returns: str = "price"
    tax_rate: float | None = None
    notional: int | None = None
    extra: dict = field(default_factory=dict, compare=False)
    cap: float | None = None
    cap_factors: tuple[float, ...] | None = None

    def __repr__(self) -> str:
        opts = [f"weighting={self.weighting!r}"]
        if self.caps is not None:
            opts.append(f"caps={self.caps!r}")
        if self.float_ratios is not None:
            opts.append("float_ratios=...")
        if self.follows_market:
            opts.append("follows_market=True")
        if self.sector is not None:
            opts.append(f"sector={self.sector!r}")
        if self.returns != "price":
            opts.append(f"returns={self.returns!r}")
        for name in ("tax_rate", "base_value", "level", "base_cap"):
            v = getattr(self, name)
            if v is not None and not (name == "base_value" and v == 100.0):
                opts.append(f"{name}={v!r}")
        return f"IndexDefinition({self.name!r}, {len(self.members)} members, {', '.join(opts)})"

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
        if self.cap is not None:
            c = _validation.positive_float(self.cap, "cap")
            if c > 1:
                raise ValueError(f"index {self.name!r}: `cap` must be in (0, 1], got {self.cap!r}")
            if self.caps is not None:
                raise ValueError(f"index {self.name!r}: give `cap` (from the review window) or `caps` "
                                 "(from the rebalance day's weights), not both")
        if self.cap_factors is not None:
            cf = _validation.float64_array(self.cap_factors, "cap_factors")
            if cf.shape[0] != len(members):
                raise ValueError(f"index {self.name!r}: `cap_factors` must have one entry per member "
                                 f"({len(members)}), got {cf.shape[0]}")
            bad = ~((cf > 0) & (cf <= 1))
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"index {self.name!r}: `cap_factors[{i}]` ({members[i]}) must be in (0, 1], "
                                 f"got {cf[i].item()!r}")
            if self.caps is not None:
                raise ValueError(f"index {self.name!r}: `cap_factors` and `caps` cannot be combined")
            object.__setattr__(self, "cap_factors", tuple(cf.tolist()))
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"index {self.name!r}: `weighting` must be one of {WEIGHTINGS}, got {self.weighting!r}")
        if self.weighting != "cap" and (self.caps is not None or self.float_ratios is not None
                                        or self.cap is not None or self.cap_factors is not None):
            kind = {"equal": "an equal-weighted", "fixed": "a fixed-share", "price": "a price-weighted"}[self.weighting]
            raise ValueError(f"index {self.name!r}: {kind} index takes no `caps`, `cap`, `cap_factors` "
                             "or `float_ratios`")
        if (self.weighting == "fixed") != (self.shares is not None):
            raise ValueError(f"index {self.name!r}: `shares` is given exactly when weighting is 'fixed'")
        if self.shares is not None:
            sh = _validation.int64_array(self.shares, "shares", allow_float=False)
            if sh.shape[0] != len(members):
                raise ValueError(f"index {self.name!r}: `shares` must have one entry per member "
                                 f"({len(members)}), got {sh.shape[0]}")
            _validation.check_positive(sh, "shares")
            object.__setattr__(self, "shares", tuple(int(x) for x in sh))
        if self.notional is not None:
            if self.weighting != "equal":
                raise ValueError(f"index {self.name!r}: `notional` is for an equal-weighted index only")
            object.__setattr__(self, "notional", _validation.positive_int(self.notional, "notional"))
        if not isinstance(self.follows_market, bool):
            raise TypeError(f"index {self.name!r}: `follows_market` must be a bool, got {self.follows_market!r}")
        if self.weighting == "fixed" and (self.follows_market or self.sector is not None):
            raise ValueError(f"index {self.name!r}: a 'fixed' index cannot take new listings "
                             "(`follows_market`/`sector`): their shares would be unknown")
        if self.sector is not None and not isinstance(self.sector, str):
            raise TypeError(f"index {self.name!r}: `sector` must be a str, got {self.sector!r}")
        if self.level is not None and self.base_cap is not None:
            raise ValueError(f"index {self.name!r}: give at most one of `level` and `base_cap`")
        _validation.positive_float(self.base_value, "base_value")
        if self.level is not None:
            _validation.positive_float(self.level, "level")
        if self.base_cap is not None:
            _validation.positive_float(self.base_cap, "base_cap")
        if self.returns not in RETURNS:
            raise ValueError(f"index {self.name!r}: `returns` must be one of {RETURNS}, got {self.returns!r}")
        if (self.returns == "net") != (self.tax_rate is not None):
            raise ValueError(f"index {self.name!r}: `tax_rate` is given exactly when returns is 'net' "
                             f"(returns={self.returns!r}, tax_rate={self.tax_rate!r})")
        if self.tax_rate is not None:
            t = self.tax_rate
            if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)):
                raise TypeError(f"index {self.name!r}: `tax_rate` must be a number, got {t!r}")
            if not 0.0 <= float(t) < 1.0:
                raise ValueError(f"index {self.name!r}: `tax_rate` must be in [0, 1), got {t!r}")
            object.__setattr__(self, "tax_rate", float(t))

    @property
    def reinvested(self) -> Fraction:
        """The share of a cash dividend the index reinvests, exact: 0 for a price index, 1 for
        TR, 1 − tax_rate for NTR (the rate taken as the decimal it prints as: 0.154 is 154/1000)."""
        if self.returns == "price":
            return Fraction(0)
        return 1 - Fraction(repr(self.tax_rate)) if self.returns == "net" else Fraction(1)

    def basis(self) -> tuple:
        """What the index holds and how (every field but name, return type and calibration):
        a TR/NTR definition with its price index's basis is that index's twin."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in _NOT_BASIS)

    def twin(self, returns: str, *, tax_rate: float | None = None, name: str | None = None,
             level: float | None = None) -> "IndexDefinition":
        """This index's TR (``returns="total"``) or NTR (``"net"``, with ``tax_rate``) twin: the
        same members and weights, named ``"<name> TR"`` / ``"<name> NTR"`` by default,
        calibrated to ``level`` (default: the same calibration as this index)."""
        if returns not in ("total", "net"):
            raise ValueError(f"`returns` of a twin must be 'total' or 'net', got {returns!r}")
        suffix = " TR" if returns == "total" else " NTR"
        kw: dict = {"level": level, "base_cap": None} if level is not None else {}
        return replace(self, name=name or self.name + suffix, returns=returns, tax_rate=tax_rate, **kw)


def index_weights(defn: IndexDefinition, ids: np.ndarray, listed: np.ndarray,
                  prices: np.ndarray, *, exact: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The rebalance computation of one index: ``(index shares, factors)`` of ``defn``'s members
    ``ids`` at these listed shares and prices.

    ``factors`` are index shares per listed share for cap-weighted members (float ratio ×
    capping factor): between rebalances a change of listed shares moves the index shares to
    ``round(listed × factor)``. For "equal" and "fixed" indices the factor is 1 (unused).
    ``exact=False`` (a float64 book): float64 index shares, nothing rounded to whole shares
    (``listed × factor``, ``notional / price``).
    """
    m = ids.shape[0]
    num = np.int64 if exact else np.float64
    if defn.weighting == "equal":
        return equal_shares(defn, prices[ids], exact=exact), np.ones(m)
    if defn.weighting == "price":
        return np.ones(m, dtype=num), np.ones(m)
    if defn.weighting == "fixed":
        return np.array(defn.shares, dtype=num), np.ones(m)
    fr = np.ones(m) if defn.float_ratios is None else np.asarray(defn.float_ratios, dtype=np.float64)
    factor = fr.copy()
    if defn.cap_factors is not None:
        factor = fr * np.asarray(defn.cap_factors, dtype=np.float64)
    if defn.caps is not None:
        mv = listed[ids].astype(np.float64) * fr * prices[ids]
        if (mv <= 0).any():
            i = int(np.argmax(mv <= 0))
            raise ValueError(f"index {defn.name!r}: member {defn.members[i]!r} has no shares to weight")
        w = cap_weights(mv, defn.caps)
        factor = fr * (w / (mv / mv.sum()))
    if not exact:
        return np.asarray(listed[ids], dtype=np.float64) * factor, factor
    return shares_from_listed(listed[ids], factor), factor


def equal_shares(defn: IndexDefinition, prices: np.ndarray, *, exact: bool = True) -> np.ndarray:
    """An equal-weighted index's shares at these prices: max(1, round(notional / price));
    ``exact=False`` (a float64 book): ``notional / price`` itself."""
    notional = EQUAL_NOTIONAL if defn.notional is None else defn.notional
    if not exact:
        return float(notional) / np.asarray(prices, dtype=np.float64)
    return np.maximum(np.rint(notional / np.asarray(prices, dtype=np.float64)), 1).astype(np.int64)


def shares_from_listed(listed: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Index shares ``listed × factor`` rounded half-up, computed exactly (int64).

    The factor is taken as the decimal it was written as (its shortest repr: a float ratio of
    0.55 is 55/100, not the binary double just above it), so a product that lands exactly on
    .5 — frequent, KRX's float ratios being 5% steps — rounds up whatever the binary error;
    a factor of 1 gives the listed shares themselves (methodology notes, "Index shares")."""
    listed = np.asarray(listed, dtype=np.int64)
    factor = np.asarray(factor, dtype=np.float64)
    out = listed.copy()
    for j in np.flatnonzero(factor != 1.0):
        f = Fraction(repr(float(factor[j])))
        num, den = int(listed[j]) * f.numerator, f.denominator
        x = (2 * num + den) // (2 * den)
        if x > _validation.INT64_MAX:
            raise ValueError(f"index shares {int(listed[j])} listed × factor {float(factor[j])!r} = {x} do not fit "
                             "in int64")
        out[j] = x
    return out


def joins_on_listing(defn: IndexDefinition, sector: str | None) -> bool:
    """Does a new listing (of ``sector``) join this index?"""
    return defn.follows_market or (defn.sector is not None and defn.sector == sector)


def kospi_definitions(
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
    returns: Sequence[str] = ("price",),
    tax_rate: float = KRX_TAX_DOMESTIC,
) -> list[IndexDefinition]:
    """The KOSPI family's definitions over ``universe`` (see :meth:`IndexFamily.kospi`)."""
    check_krx_codes(universe.codes, "universe.codes")  # the KOSPI family is KRX's: so are its codes
    levels = dict(levels or {})
    kinds = _check_returns(returns)
    members = [c for c, s in zip(universe.codes, universe.shares) if s > 0]
    defs = [IndexDefinition("KOSPI", members, level=levels.pop("KOSPI", None), follows_market=True)]
    defs += _twins(defs[0], kinds, tax_rate, levels)
    fr = dict(float_ratios or {})
    known = universe.code_index
    for name, lst in (("KOSPI 200", kospi200), ("KOSPI 100", kospi100), ("KOSPI 50", kospi50)):
        if lst is None:
            continue
        if isinstance(lst, str):
            raise TypeError(f"the {name} members must be a sequence of codes, got the string {lst!r}")
        for k, c in enumerate(lst):
            if c not in known:
                arg = name.replace(" ", "").lower()
                raise KeyError(f"`{arg}[{k}]` {c!r} is not in the universe (a {name} member must be listed)")
        ratios = tuple(fr.get(c, 1.0) for c in lst)
        cap = kospi200_cap if name == "KOSPI 200" else None
        defs.append(IndexDefinition(name, tuple(lst), float_ratios=ratios, caps=cap, level=levels.pop(name, None)))
        if name == "KOSPI 200":  # KRX publishes TR/NTR of KOSPI and KOSPI 200 (methodology §7.5)
            defs += _twins(defs[-1], kinds, tax_rate, levels)
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
            defs.append(IndexDefinition(s, tuple(by[s]), level=levels.pop(s, None), sector=s))
    if levels:
        raise KeyError(f"`levels` names unknown indices: {sorted(levels)}")
    return defs


def _check_returns(returns: Sequence[str]) -> tuple[str, ...]:
    if isinstance(returns, str):
        raise TypeError(f"`returns` must be a sequence of return types such as ('price', 'total'), got {returns!r}")
    kinds = tuple(returns)
    for k, r in enumerate(kinds):
        if r not in RETURNS:
            raise ValueError(f"`returns[{k}]` must be one of {RETURNS}, got {r!r}")
    if "price" not in kinds or len(set(kinds)) != len(kinds):
        raise ValueError(f"`returns` must hold 'price' and no repeats, got {kinds!r}")
    return kinds


def _twins(price: IndexDefinition, kinds: tuple[str, ...], tax_rate: float,
           levels: dict) -> list[IndexDefinition]:
    """The TR/NTR twins of ``price`` named in ``kinds``, calibrated like it unless ``levels``
    names them."""
    out = []
    for r in kinds:
        if r != "price":
            t = price.twin(r, tax_rate=tax_rate if r == "net" else None)
            lvl = levels.pop(t.name, None)
            out.append(t if lvl is None else replace(t, level=lvl, base_cap=None))
    return out


#: KOSPI-family indices whose members are an input (KRX publishes no file of them), with the
#: keyword of :func:`kospi_definitions` that takes them.
CONSTITUENT_INDICES = {"KOSPI 200": "kospi200", "KOSPI 100": "kospi100", "KOSPI 50": "kospi50"}


def constituent_index(name: str) -> str | None:
    """``'KOSPI 200'`` for ``'KOSPI 200'`` and ``'KOSPI 200 Equal Weight'``; None for an index
    whose members follow from the universe (KOSPI, size, sectors)."""
    base = name.removesuffix(" Equal Weight")
    return base if base in CONSTITUENT_INDICES else None


def kospi_definition(universe: Universe, name: str, *, members: object = None,
                     constituents: Sequence[str] | None = None, level: float | None = None) -> IndexDefinition:
    """One index of the KOSPI family over the market members ``members`` (bool mask; default
    every stock with shares), calibrated to ``level``: KOSPI, the size and sector indices, or
    KOSPI 200/100/50 (and their "Equal Weight" variants) of ``constituents`` (codes).

    Raises
    ------
    ValueError
        KOSPI 200/100/50 without ``constituents``.
    KeyError
        An index this universe does not have (the message lists those it has).
    """
    mask = universe.shares > 0 if members is None else np.asarray(members, dtype=bool)
    base = constituent_index(name)
    kwargs: dict = {}
    if base is not None:
        if constituents is None:
            raise ValueError(f"index {name!r} needs its constituents (KRX publishes no file of them)")
        kwargs = {CONSTITUENT_INDICES[base]: list(constituents), "equal_weighted": name != base}
    market = Universe(universe.codes, universe.names, np.where(mask, universe.shares, 0), universe.base_prices,
                      universe.sectors)
    defs = {d.name: d for d in kospi_definitions(market, **kwargs)}
    if name not in defs:
        have = list(defs) + [n for n in CONSTITUENT_INDICES if n not in defs]
        raise KeyError(f"unknown index {name!r}; this universe has {have} (KOSPI 200/100/50 need their members)")
    return replace(defs[name], level=level)
