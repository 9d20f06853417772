"""Corporate actions and membership changes as small value types.

Two kinds of change are kept apart (methodology, decision 4):

* **price-basis** changes on the ex-date move a stock's reference price to KRX's base price
  (split, ex-rights, bonus issue, stock dividend, capital reduction, spin-off parent);
* **share-count / membership** changes on their own effective date (additional listing of new
  shares, buyback cancellation, listing, delisting, merger, plain "set listed shares").

Each event turns into a *plan*: for each affected stock, a new reference price, new listed
shares and membership. The engine applies all events effective at one moment together,
atomically, and rebases once: ``base_cap_new = base_cap_old × cap_after / cap_before``.
Cash dividends (and corrections of an estimated dividend) change nothing in a price index;
a total-return index reinvests them through its divisor.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from fractions import Fraction

from kospi_fast import krx

# Arguments are checked by kospi_fast._validation, the one home of the checkers.
from kospi_fast._validation import (  # noqa: F401  (ROUNDINGS re-exported)
    ROUNDINGS,
    check_codes,
    check_rounding,
    code_str,
    non_negative_float,
    non_negative_int,
    positive_int,
)
from kospi_fast._validation import ratio as parse_ratio


# ---------------------------------------------------------------------------- plan
@dataclass
class StockState:
    """The working state of one stock while a batch of events is planned."""

    price: int
    listed: int
    member: bool
    known: bool = True  # False for a stock that is joining the universe in this batch


class Plan:
    """Mutable view of the affected stocks; events read and write it in order."""

    def __init__(self, lookup, date: object = None, dividends=None, exact: bool = True) -> None:
        self._lookup = lookup  # code -> StockState (a fresh copy) or None when unknown
        # False for a float64 book: prices and listed shares are floats, there is no tick grid
        self.exact = exact
        self._dividends = dividends  # code -> (amount, estimated) of its latest cash dividend, or None
        self.states: dict[str, StockState] = {}
        self.new_stocks: dict[str, tuple[str, str | None]] = {}  # code -> (name, sector)
        self.date = date
        self.credits: dict[str, Fraction] = {}  # code -> cash dividend per share reinvested now
        self.current: dict[str, tuple[Fraction, bool]] = {}  # dividends set in this batch

    def credit(self, code: str, amount: Fraction) -> None:
        self.credits[code] = self.credits.get(code, Fraction(0)) + amount

    def dividend_of(self, code: str) -> tuple[Fraction, bool] | None:
        """(amount per share, estimated) of the stock's latest cash dividend, or None."""
        if code in self.current:
            return self.current[code]
        return None if self._dividends is None else self._dividends(code)

    def get(self, code: str, event: "Event") -> StockState:
        if code not in self.states:
            st = self._lookup(code)
            if st is None:
                raise KeyError(f"{type(event).__name__}: unknown stock code {code!r}")
            self.states[code] = st
        return self.states[code]

    def exact_only(self, event: "Event", why: str) -> None:
        """Refuse ``event`` on a float64 book, saying why it needs integer prices."""
        if not self.exact:
            raise ValueError(f"{type(event).__name__} on {getattr(event, 'code', '?')!r}: not defined for a float64 "
                             f"book: {why}")

    def member(self, code: str, event: "Event") -> StockState:
        st = self.get(code, event)
        if not st.member:
            raise ValueError(f"{type(event).__name__}: {code!r} is not an index member")
        return st


def _check_grid(grid: object) -> None:
    """A price-basis event's ``grid``: None (KRX's tick table on the ex-date, the default) or a
    whole number of price units > 0 (another market's rule: the base price is rounded, with the
    event's ``rounding``, to that uniform grid; 1 = to the price unit itself, e.g. a cent)."""
    if grid is not None and (isinstance(grid, bool) or not isinstance(grid, int) or grid <= 0):
        raise ValueError(f"`grid` must be None (KRX's tick table) or a whole number of price units > 0, got {grid!r}")


# ---------------------------------------------------------------------------- events
@dataclass(frozen=True)
class Event:
    """Base of all events. ``effective`` (ISO date) lets the engine refuse a repeat."""

    def apply(self, plan: Plan) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Split(Event):
    """Split or reverse split: ``ratio`` new shares per old share (10 = 1-to-10 split;
    Fraction(1, 10) or '10:1' = reverse split). Base price = reference × 1/ratio, rounded to the
    tick (``grid``: KRX's tick table by default, or a uniform grid of that many price units,
    e.g. 1 for a US split to the cent); shares × ratio. Cap-neutral up to that rounding."""

    code: str
    ratio: object
    rounding: str = "up"
    effective: str | None = None
    grid: int | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        parse_ratio(self.ratio)
        check_rounding(self.rounding)
        _check_grid(self.grid)

    def apply(self, plan: Plan) -> None:
        st = plan.get(self.code, self)
        r = parse_ratio(self.ratio)
        if not plan.exact:
            # a float64 book has no tick grid: price / ratio and shares × ratio, each rounded
            # once to float64 (the split is cap-neutral up to that rounding)
            if self.grid is not None:
                raise ValueError(f"Split on {self.code!r}: `grid` = {self.grid!r} rounds to whole price units; a "
                                 "float64 book has none (leave grid=None: the price becomes price / ratio, "
                                 "rounded once to float64)")
            st.price = float(Fraction(st.price) / r)
            st.listed = float(Fraction(st.listed) * r)
            return
        new_listed = Fraction(st.listed) * r
        if new_listed.denominator != 1:
            raise ValueError(f"Split: {st.listed} shares × {r} of {self.code!r} is not a whole number of shares")
        st.price = krx.split_price(st.price, r, rounding=self.rounding, date=plan.date, grid=self.grid)
        st.listed = int(new_listed)


@dataclass(frozen=True)
class RightsIssue(Event):
    """Ex-rights date of a paid-in rights issue (유상증자 권리락): the reference price becomes
    KRX's ex-rights base price ``(cum × old + issue × new) / (old + new)`` rounded to the tick.
    The new shares are NOT counted here: they join on their listing date
    (:class:`AdditionalListing`). ``old_shares`` defaults to the current listed shares."""

    code: str
    issue_price: object
    new_shares: int
    old_shares: int | None = None
    rounding: str = "up"
    effective: str | None = None
    grid: int | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        non_negative_float(self.issue_price, "issue_price")
        positive_int(self.new_shares, "new_shares")
        if self.old_shares is not None:
            positive_int(self.old_shares, "old_shares")
        check_rounding(self.rounding)
        _check_grid(self.grid)

    def apply(self, plan: Plan) -> None:
        plan.exact_only(self, "its base price is KRX's ex-rights formula on whole won, rounded to the tick grid; "
                              "give the new price with SetReferencePrice (and the shares with AdditionalListing)")
        st = plan.get(self.code, self)
        old = st.listed if self.old_shares is None else int(self.old_shares)
        if float(self.issue_price) >= st.price:
            # Since 1998-02-04 an issue above the market price gets no theoretical base price;
            # the ex-date opening auction sets it (methodology 1.5): nothing to do at the close.
            return
        st.price = krx.ex_rights_price(st.price, old, self.issue_price, int(self.new_shares),
                                       rounding=self.rounding, date=plan.date, grid=self.grid)


@dataclass(frozen=True)
class BonusIssue(Event):
    """Ex-date of a bonus issue (무상증자): base = cum × old / (old + new), issue price 0.
    New shares join on their listing date (:class:`AdditionalListing`)."""

    code: str
    new_shares: int
    old_shares: int | None = None
    rounding: str = "up"
    effective: str | None = None
    grid: int | None = None

    _base_price = staticmethod(krx.bonus_issue_price)

    def __post_init__(self) -> None:
        code_str(self.code)
        positive_int(self.new_shares, "new_shares")
        if self.old_shares is not None:
            positive_int(self.old_shares, "old_shares")
        check_rounding(self.rounding)
        _check_grid(self.grid)

    def apply(self, plan: Plan) -> None:
        plan.exact_only(self, "its base price is KRX's formula on whole won, rounded to the tick grid; give the "
                              "new price with SetReferencePrice (and the shares with AdditionalListing)")
        st = plan.get(self.code, self)
        old = st.listed if self.old_shares is None else int(self.old_shares)
        st.price = self._base_price(st.price, old, int(self.new_shares), rounding=self.rounding, date=plan.date,
                                    grid=self.grid)


@dataclass(frozen=True)
class StockDividend(BonusIssue):
    """Ex-date of a stock dividend (주식배당): base = cum × old / (old + new), the same
    arithmetic as a bonus issue, through KRX's stock-dividend formula. A distinct event type
    (never equal to a BonusIssue) so the audit log says which it was."""

    _base_price = staticmethod(krx.stock_dividend_price)


@dataclass(frozen=True)
class CapitalReduction(Event):
    """Capital reduction (감자): the opening-price method — KRX sets the base price by the
    ex-date opening call auction, so the caller gives it (``base_price``) with the listed shares
    after the reduction."""

    code: str
    new_listed_shares: int
    base_price: int
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        positive_int(self.new_listed_shares, "new_listed_shares")
        positive_int(self.base_price, "base_price")

    def apply(self, plan: Plan) -> None:
        st = plan.get(self.code, self)
        st.price = int(self.base_price)
        st.listed = int(self.new_listed_shares)


@dataclass(frozen=True)
class SpinOffParent(Event):
    """Spin-off (인적분할), parent side: re-based by the opening-price method (``base_price``)
    with its listed shares after the split-off. The new company joins as a
    :class:`NewListing` on the trading day after its relisting."""

    code: str
    base_price: int
    new_listed_shares: int | None = None
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        positive_int(self.base_price, "base_price")
        if self.new_listed_shares is not None:
            positive_int(self.new_listed_shares, "new_listed_shares")

    def apply(self, plan: Plan) -> None:
        st = plan.get(self.code, self)
        st.price = int(self.base_price)
        if self.new_listed_shares is not None:
            st.listed = int(self.new_listed_shares)


@dataclass(frozen=True)
class AdditionalListing(Event):
    """New shares listed (추가상장): rights or bonus shares, CB/BW conversion, warrant exercise.
    ``reason`` is kept for the audit log."""

    code: str
    shares: int
    reason: str = "other"
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        positive_int(self.shares, "shares")

    def apply(self, plan: Plan) -> None:
        st = plan.get(self.code, self)
        st.listed += int(self.shares)


@dataclass(frozen=True)
class BuybackCancellation(Event):
    """Treasury shares cancelled (자사주 소각): listed shares go down."""

    code: str
    shares: int
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        positive_int(self.shares, "shares")

    def apply(self, plan: Plan) -> None:
        st = plan.get(self.code, self)
        if int(self.shares) >= st.listed:
            raise ValueError(f"BuybackCancellation: cancelling {self.shares} of {st.listed} listed shares of "
                             f"{self.code!r} leaves none; use Delisting")
        st.listed -= int(self.shares)


@dataclass(frozen=True)
class SetListedShares(Event):
    """Data-driven update: the listed share count is now ``shares``."""

    code: str
    shares: int
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        positive_int(self.shares, "shares")

    def apply(self, plan: Plan) -> None:
        plan.get(self.code, self).listed = int(self.shares)


@dataclass(frozen=True)
class SetReferencePrice(Event):
    """Data-driven update: the reference (base) price is now ``price`` (e.g. Close − Changes)."""

    code: str
    price: int
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        positive_int(self.price, "price")

    def apply(self, plan: Plan) -> None:
        plan.get(self.code, self).price = int(self.price)


@dataclass(frozen=True)
class NewListing(Event):
    """A new listing joins on the trading day after listing, at its listing-day close
    (methodology decision 5). Apply it at that next day's open. A code not yet in the universe
    is added; one already in it must not be a member."""

    code: str
    shares: int
    close: int
    name: str = ""
    sector: str | None = None
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        positive_int(self.shares, "shares")
        positive_int(self.close, "close")
        if not isinstance(self.name, str):
            raise TypeError(f"`name` must be a str, got {self.name!r}")

    def apply(self, plan: Plan) -> None:
        if self.code in plan.states or plan._lookup(self.code) is not None:
            st = plan.get(self.code, self)
            if st.member:
                raise ValueError(f"NewListing: {self.code!r} is already an index member")
        else:
            check_codes([self.code], "code")
            plan.states[self.code] = StockState(price=0, listed=0, member=False, known=False)
            plan.new_stocks[self.code] = (self.name or self.code, self.sector)
            st = plan.states[self.code]
        st.price = int(self.close)
        st.listed = int(self.shares)
        st.member = True


@dataclass(frozen=True)
class Delisting(Event):
    """A member leaves at the close of its last trading day (decision 5): apply after that
    day's close, before the next open."""

    code: str
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)

    def apply(self, plan: Plan) -> None:
        plan.member(self.code, self).member = False


@dataclass(frozen=True)
class Merger(Event):
    """Merger (합병): the target leaves, the acquirer lists ``new_shares`` more."""

    target: str
    acquirer: str
    new_shares: int
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.target, "target")
        code_str(self.acquirer, "acquirer")
        if self.target == self.acquirer:
            raise ValueError(f"Merger: `target` and `acquirer` are the same code {self.target!r}")
        non_negative_int(self.new_shares, "new_shares")

    def apply(self, plan: Plan) -> None:
        plan.member(self.target, self).member = False
        plan.get(self.acquirer, self).listed += int(self.new_shares)


def dividend_amount(x: object) -> Fraction:
    """A dividend per share as an exact number: an int as itself, a float as the decimal it
    prints as (361.5 is 723/2, not the binary double)."""
    return Fraction(int(x)) if isinstance(x, numbers.Integral) else Fraction(repr(float(x)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class CashDividend(Event):
    """Cash dividend of ``amount`` won per share, applied on its ex-date (two trading days
    before the record date). No change to a price index (KRX adjusts base prices for stock
    dividends only); a total-return index reinvests it: Σ amount × index shares (× (1 − tax
    rate) for a net index) is added to its cap for the day (its carry, folded into the divisor
    at the roll), so the ex-dividend drop of the price does not move it (methodology notes,
    "Total return").

    ``estimated=True`` (KRX's flow: the previous fiscal year's dividend enters on the ex-date)
    lets a later :class:`DividendCorrection` give the final amount; ``estimated=False`` is a
    final amount from the start. A total-return index holding the stock refuses an amount
    that is not below the stock's price (its theoretical ex-dividend price would be <= 0)."""

    code: str
    amount: float
    effective: str | None = None
    estimated: bool = True

    def __post_init__(self) -> None:
        code_str(self.code)
        non_negative_float(self.amount, "amount")
        if not isinstance(self.estimated, bool):
            raise TypeError(f"`estimated` must be a bool, got {self.estimated!r}")

    def apply(self, plan: Plan) -> None:
        plan.get(self.code, self)  # must be known
        amount = dividend_amount(self.amount)
        plan.credit(self.code, amount)
        plan.current[self.code] = (amount, self.estimated)


@dataclass(frozen=True)
class DividendCorrection(Event):
    """The final cash dividend per share (``amount``) of a stock whose latest
    :class:`CashDividend` entered as an estimate. A total-return index takes the difference
    from the amount it reinvested (the estimate, or an earlier correction) at the correction's
    moment: Σ (final − previous) × index shares (× (1 − tax rate)) joins its carry. Published
    history is not restated (KRX, methodology §7.5)."""

    code: str
    amount: float
    effective: str | None = None

    def __post_init__(self) -> None:
        code_str(self.code)
        non_negative_float(self.amount, "amount")

    def apply(self, plan: Plan) -> None:
        plan.get(self.code, self)  # must be known
        prev = plan.dividend_of(self.code)
        if prev is None:
            raise ValueError(f"DividendCorrection: {self.code!r} has no cash dividend to correct")
        before, estimated = prev
        if not estimated:
            raise ValueError(f"DividendCorrection: the latest cash dividend of {self.code!r} was final "
                             "(estimated=False); nothing to correct")
        amount = dividend_amount(self.amount)
        plan.credit(self.code, amount - before)
        plan.current[self.code] = (amount, True)


ALL_EVENTS = (
    Split, RightsIssue, BonusIssue, StockDividend, CapitalReduction, SpinOffParent, AdditionalListing,
    BuybackCancellation, SetListedShares, SetReferencePrice, NewListing, Delisting, Merger, CashDividend,
    DividendCorrection,
)

__all__ = [e.__name__ for e in ALL_EVENTS] + ["Event", "Plan", "StockState", "dividend_amount"]
