"""KRX market rules: tick sizes, daily price limits and base prices after corporate actions.

Pure Python + NumPy; nothing here imports the compiled extensions.

The KOSPI 200 calendar rules (float-ratio banding, futures expiries, review and special-change
dates) are at the end; their dates come from the XKRX calendar of ``exchange-calendars`` (the
``calendar`` extra), the one trading calendar of the package (:func:`xkrx_calendar`).

Everything is exact. Scalars are turned into :class:`fractions.Fraction` before any arithmetic,
so a theoretical price such as 29000/3 (9666.66...) is never a float on its way to the tick grid.
A float argument is taken to mean the decimal it prints as (``0.3`` means 3/10, not the binary
double nearest to it); for prices this changes nothing, because every grid price and every
half-way point between two grid prices is exactly representable as a double.

Two tick-size tables are known (methodology 3.1):

* the unified KOSPI/KOSDAQ/KONEX table in force from :data:`UNIFIED_TABLE_DATE` (2023-01-25),
* the previous KOSPI table, used for every earlier date (its own start in 2010 is unconfirmed,
  so older dates also get it). The pre-2023 KOSDAQ table is not modelled.

The *grid* of a table is the set of valid prices ``p >= 1`` with ``p % tick_size(p) == 0``.
Every band of both tables starts on a multiple of its own tick, so within a band the grid is an
arithmetic progression and the first price of the next band is the next grid price after the
last one of the band. Rounding therefore only ever needs the tick of the band that ``x`` lies in.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple, TypeAlias, overload

import numpy as np
import numpy.typing as npt

from kospi_fast._validation import (
    INT64_MAX,
    as_date,
    check_positive_real_array,
    check_rounding,
    exact_number,
    first_bad,
    index_name,
    is_array_like,
    non_negative_exact,
    positive_exact,
    real_array,
    whole_positive_exact,
)
from kospi_fast._optional import require
from kospi_fast._validation import ratio as parse_ratio

__all__ = [
    "UNIFIED_TABLE_DATE",
    "tick_table",
    "tick_size",
    "is_on_tick",
    "round_to_tick",
    "price_limit_amount",
    "price_limits",
    "theoretical_ex_rights_price",
    "ex_rights_price",
    "bonus_issue_price",
    "stock_dividend_price",
    "split_price",
    "FLOAT_RATIO_STEP",
    "MIN_FLOAT_RATIO",
    "xkrx_calendar",
    "ELECTION_DAYS",
    "is_trading_day",
    "next_trading_day",
    "previous_trading_day",
    "round_float_ratio",
    "float_eligible",
    "futures_expiry",
    "review_effective_date",
    "quarterly_entry_date",
    "special_change_removal_date",
    "KRX_CODE_RE",
    "check_krx_codes",
]

#: A KRX short code: six digits or capital letters, such as '005930' (KRX's own form; other
#: markets' codes are any non-empty strings, see :func:`kospi_fast._validation.check_codes`).
KRX_CODE_RE = re.compile(r"^[0-9A-Z]{6}$")


def check_krx_codes(codes, name: str = "codes") -> list[str]:
    """Codes that must be KRX short codes (where KRX's rules are asked for: KRX files, the
    KOSPI family): each a 6-character code such as '005930', else ``ValueError`` naming it."""
    if isinstance(codes, (str, bytes)):
        raise TypeError(f"`{name}` must be a sequence of 6-character KRX codes, got {codes!r}")
    out = list(codes)
    for i, code in enumerate(out):
        if not isinstance(code, str) or not KRX_CODE_RE.match(code):
            raise ValueError(f"`{name}[{i}]` must be a 6-character KRX code such as '005930', got {code!r}")
    return out

#: One price, share count or rate (the annotations of the functions below).
Number: TypeAlias = "int | float | Fraction | Decimal | np.integer[Any] | np.floating[Any]"
#: Many of them: an array or a sequence (the result is then an array of the same shape).
Numbers: TypeAlias = "npt.NDArray[Any] | Sequence[Number]"
_Ints: TypeAlias = "npt.NDArray[np.int64]"

#: First trading day of the unified tick-size table (methodology 3.1).
UNIFIED_TABLE_DATE = datetime.date(2023, 1, 25)


class _TickTable(NamedTuple):
    bounds: tuple[int, ...]  # lower edge of every band but the first (which starts at 0)
    ticks: tuple[int, ...]  # len(bounds) + 1 tick sizes
    bounds_arr: np.ndarray  # read-only int64 copies for the vectorised paths
    ticks_arr: np.ndarray


def _make_table(bounds: tuple[int, ...], ticks: tuple[int, ...]) -> _TickTable:
    b = np.array(bounds, dtype=np.int64)
    t = np.array(ticks, dtype=np.int64)
    b.flags.writeable = False
    t.flags.writeable = False
    return _TickTable(bounds, ticks, b, t)


_UNIFIED = _make_table(
    (2_000, 5_000, 20_000, 50_000, 200_000, 500_000), (1, 5, 10, 50, 100, 500, 1_000)
)
_PRE_2023 = _make_table(
    (1_000, 5_000, 10_000, 50_000, 100_000, 500_000), (1, 5, 10, 50, 100, 500, 1_000)
)


def _grid_table(date, grid) -> _TickTable:
    """KRX's tick table on ``date``, or (``grid``: a whole number of price units > 0) a uniform
    grid of that step: the base-price rule of another market (1 = round to the price unit)."""
    if grid is None:
        return _resolve_table(date)
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or int(grid) <= 0:
        raise ValueError(f"`grid` must be a whole number of price units > 0 (or None for KRX's tick table), got {grid!r}")
    return _make_table((), (int(grid),))


# --------------------------------------------------------------------------------------------
# the table in force on a date (arguments are checked by kospi_fast._validation)
# --------------------------------------------------------------------------------------------


def _resolve_table(date) -> _TickTable:
    """Pick the tick table in force on `date` (None -> current, i.e. unified)."""
    if date is None:
        return _UNIFIED
    return _UNIFIED if as_date(date, "date") >= UNIFIED_TABLE_DATE else _PRE_2023


# --------------------------------------------------------------------------------------------
# tick grid
# --------------------------------------------------------------------------------------------


def tick_table(date: object = None) -> tuple[_Ints, _Ints]:
    """Return the tick-size table in force on `date`.

    Parameters
    ----------
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Trading date; a string is 'YYYY-MM-DD', 'YYYYMMDD', 'YYYY/MM/DD' or 'YYYY.MM.DD' (the
        package's one date grammar, :func:`kospi_fast._validation.as_date`). None means the
        current (unified) table.

    Returns
    -------
    bounds : ndarray of int64, shape (6,)
        Lower edge of every band after the first (the first band starts at 0), read-only.
    ticks : ndarray of int64, shape (7,)
        Tick of each band, read-only. The tick of price ``p`` is
        ``ticks[np.searchsorted(bounds, p, side="right")]``.

    Raises
    ------
    TypeError
        If `date` is not one of the accepted kinds.
    ValueError
        If a `date` string is not a valid date, or `date` is NaT.

    Examples
    --------
    >>> bounds, ticks = tick_table("2023-01-25")
    >>> bounds.tolist(), ticks.tolist()
    ([2000, 5000, 20000, 50000, 200000, 500000], [1, 5, 10, 50, 100, 500, 1000])
    """
    table = _resolve_table(date)
    return table.bounds_arr, table.ticks_arr


def _tick_of(x, table: _TickTable) -> int:
    return table.ticks[bisect.bisect_right(table.bounds, x)]


@overload
def tick_size(price: Number, date: object = None) -> int: ...
@overload
def tick_size(price: Numbers, date: object = None) -> _Ints: ...
def tick_size(price: Number | Numbers, date: object = None) -> int | _Ints:
    """Tick size (호가가격단위) at the level of `price`.

    Parameters
    ----------
    price : int, float, Fraction, Decimal or array_like of int/float
        Price(s) in won, each > 0. Need not lie on the grid: the band is picked by value.
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Trading date selecting the table; None means the current (unified) table.

    Returns
    -------
    int or ndarray of int64
        A Python int for a scalar, an int64 array of the same shape for array input.

    Raises
    ------
    TypeError
        If `price` is not a real number / numeric array, or `date` has a wrong kind.
    ValueError
        If a price is <= 0 or not finite (the message gives the index for arrays).

    Examples
    --------
    >>> tick_size(1999), tick_size(2000), tick_size(1999, date="2023-01-24")
    (1, 5, 5)
    >>> tick_size([4999, 5000, 250000]).tolist()
    [5, 10, 500]
    """
    table = _resolve_table(date)
    if is_array_like(price):
        arr = real_array(price, "price")
        check_positive_real_array(arr, "price")
        return table.ticks_arr[np.searchsorted(table.bounds_arr, arr, side="right")]
    return _tick_of(positive_exact(price, "price"), table)


@overload
def is_on_tick(price: Number, date: object = None) -> bool: ...
@overload
def is_on_tick(price: Numbers, date: object = None) -> npt.NDArray[np.bool_]: ...
def is_on_tick(price: Number | Numbers, date: object = None) -> bool | npt.NDArray[np.bool_]:
    """Whether `price` is a valid price on the tick grid in force on `date`.

    A valid price is a whole number of won, > 0, and a multiple of the tick at its own level.
    Non-positive, fractional, NaN or infinite values are simply not on the grid (False), so the
    function can be used to count bad ticks without raising.

    Parameters
    ----------
    price : int, float, Fraction, Decimal or array_like of int/float
        Price(s) in won.
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Trading date selecting the table; None means the current (unified) table.

    Returns
    -------
    bool or ndarray of bool
        A Python bool for a scalar, a bool array of the same shape for array input.

    Raises
    ------
    TypeError
        If `price` is not a real number / numeric array, or `date` has a wrong kind.

    Examples
    --------
    >>> is_on_tick(2005), is_on_tick(2003), is_on_tick(2003, date="2023-01-24")
    (True, False, False)
    >>> is_on_tick([12970, 12975, 0]).tolist()
    [True, False, False]
    """
    table = _resolve_table(date)
    if is_array_like(price):
        arr = real_array(price, "price")
        ticks = table.ticks_arr[np.searchsorted(table.bounds_arr, arr, side="right")]
        if arr.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                ok = np.isfinite(arr) & (arr > 0) & (np.fmod(arr, ticks) == 0)
            return ok
        return (arr > 0) & (arr % ticks == 0)
    try:
        x = exact_number(price, "price", "> 0")
    except ValueError:  # NaN / inf: not a price
        return False
    if x <= 0:
        return False
    if isinstance(x, Fraction):
        if x.denominator != 1:
            return False
        x = x.numerator
    return x % _tick_of(x, table) == 0


def _round_exact(x, mode: str, table: _TickTable, what: str) -> int:
    """Round an exact positive number `x` to the grid; see :func:`round_to_tick`."""
    t = _tick_of(x, table)
    # x lies in a band that starts on a multiple of t and ends on one, so floor/ceil to a
    # multiple of t never leave the band (ceil may land on the next band's first price,
    # which is itself a grid price).
    down = (x // t) * t
    up = down if down == x else down + t
    if mode == "up":
        return int(up)
    if mode == "down":
        if down == 0:
            raise ValueError(
                f"{what} must be >= 1 to round down (no tick price lies below 1), got {x}"
            )
        return int(down)
    # nearest, ties up; 0 is not a price, so anything below 1 goes to 1
    if down == 0 or (up - x) <= (x - down):
        return int(up)
    return int(down)


def _round_array(arr: np.ndarray, mode: str, table: _TickTable) -> np.ndarray:
    ticks = table.ticks_arr[np.searchsorted(table.bounds_arr, arr, side="right")]
    # floor_divide is exact for float64 (numpy builds it on fmod) and for int64.
    q = np.floor_divide(arr, ticks)
    down = q * ticks
    up = np.where(down == arr, down, down + ticks)
    if mode == "up":
        out = up
    elif mode == "down":
        i = first_bad(down == 0)
        if i is not None:
            raise ValueError(
                f"{index_name('price', i)} must be >= 1 to round down "
                f"(no tick price lies below 1), got {arr[i]}"
            )
        out = down
    else:
        # r = arr - down is exact (down is within one tick of arr); ties go up
        r = arr - down
        out = np.where((down == 0) | (2 * r >= ticks), up, down)
    return out.astype(np.int64, copy=False)


@overload
def round_to_tick(price: Number, mode: str = "up", date: object = None) -> int: ...
@overload
def round_to_tick(price: Numbers, mode: str = "up", date: object = None) -> _Ints: ...
def round_to_tick(price: Number | Numbers, mode: str = "up", date: object = None) -> int | _Ints:
    """Round `price` to the tick grid in force on `date`, exactly.

    Grid semantics: ``"up"`` gives the smallest grid price >= `price`, ``"down"`` the largest
    grid price <= `price`, ``"nearest"`` the nearer of the two (ties go up). The tick used is
    the one of the band `price` lies in, so across a band edge the result may be the next
    band's first price (1999.5 up -> 2000).

    Parameters
    ----------
    price : int, float, Fraction, Decimal or array_like of int/float
        Value(s) in won, each > 0. Scalars are rounded exactly (Fraction arithmetic).
    mode : {"up", "down", "nearest"}, optional
        Rounding direction, default "up" (KRX's "rounded up", methodology decision 6).
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Trading date selecting the table; None means the current (unified) table.

    Returns
    -------
    int or ndarray of int64
        A Python int for a scalar, an int64 array of the same shape for array input.

    Raises
    ------
    TypeError
        If `price` is not a real number / numeric array, or `date` has a wrong kind.
    ValueError
        If `mode` is unknown, a price is <= 0 or not finite, or `mode` is "down" and a
        price is below 1 (no grid price lies below 1).

    Examples
    --------
    >>> from fractions import Fraction
    >>> round_to_tick(Fraction(29000, 3))  # 9666.66...
    9670
    >>> round_to_tick(1999.5), round_to_tick(2003, "down"), round_to_tick(2002.5, "nearest")
    (2000, 2000, 2005)
    """
    mode = check_rounding(mode, "mode")
    table = _resolve_table(date)
    if is_array_like(price):
        arr = real_array(price, "price")
        check_positive_real_array(arr, "price")
        return _round_array(arr, mode, table)
    return _round_exact(positive_exact(price, "price"), mode, table, "`price`")


# --------------------------------------------------------------------------------------------
# daily price limits
# --------------------------------------------------------------------------------------------


def _rate(rate) -> Fraction:
    r = positive_exact(rate, "rate")
    return Fraction(r)


def _limit_amount_scalar(base: int, rate: Fraction, table: _TickTable) -> int:
    # Step 1: base x rate; step 2: truncate to the tick at the BASE price's level.
    t = _tick_of(base, table)
    return ((base * rate) // t) * t


def _floor_grid_scalar(x: int, table: _TickTable) -> int:
    t = _tick_of(x, table)
    return (x // t) * t


@overload
def price_limit_amount(base_price: Number, date: object = None, rate: Number = 0.30) -> int: ...
@overload
def price_limit_amount(base_price: Numbers, date: object = None, rate: Number = 0.30) -> _Ints: ...
def price_limit_amount(base_price: Number | Numbers, date: object = None, rate: Number = 0.30) -> int | _Ints:
    """Daily price-limit amount (가격제한폭): ``base_price × rate`` truncated to the base tick.

    Parameters
    ----------
    base_price : int or array_like of int
        Base price(s) (기준가) in won: whole numbers > 0.
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Trading date selecting the tick table; None means the current (unified) table.
    rate : int, float, Fraction or Decimal, optional
        Limit rate, > 0. Default 0.30 (KOSPI since 2015-06-15; pass 0.15 for older dates).
        A float is read as the decimal it prints as, so 9980 × 0.3 is exactly 2994.

    Returns
    -------
    int or ndarray of int64

    Raises
    ------
    TypeError
        For a wrong kind of `base_price`, `rate` or `date`.
    ValueError
        If `base_price` is not a whole number > 0, or `rate` is not a finite number > 0.

    Examples
    --------
    >>> price_limit_amount(9980)  # 2994 truncated to the 10-won tick of 9980
    2990
    """
    table = _resolve_table(date)
    r = _rate(rate)
    if is_array_like(base_price):
        base = _as_base_array(base_price)
        return _limits_array(base, r, table)[0]
    return _limit_amount_scalar(whole_positive_exact(base_price, "base_price", "won"), r, table)


def _as_base_array(base_price) -> np.ndarray:
    arr = real_array(base_price, "base_price")
    check_positive_real_array(arr, "base_price")
    if arr.dtype.kind == "f":
        i = first_bad(arr != np.floor(arr))
        if i is not None:
            raise ValueError(
                f"{index_name('base_price', i)} must be a whole number of won, got {arr[i]}"
            )
        arr = arr.astype(np.int64)
    return arr


def _limits_array(base: np.ndarray, rate: Fraction, table: _TickTable):
    """Return (limit, lower, upper) int64 arrays for int64 `base`."""
    n, d = rate.numerator, rate.denominator
    work = base
    if base.size and int(base.max()) > INT64_MAX // max(n, 1):
        # base * n would overflow int64: do the same steps on Python ints.
        work = base.astype(object)

    def tick_at(x):
        return table.ticks_arr[np.searchsorted(table.bounds_arr, x.astype(np.int64), side="right")]

    t_base = tick_at(base)
    # floor(floor(base*n/d) / t) == floor(base*n/(d*t)) for integer t
    limit = ((work * n) // d // t_base) * t_base
    limit = np.asarray(limit).astype(np.int64)
    upper_raw = base + limit
    upper = (upper_raw // tick_at(upper_raw)) * tick_at(upper_raw)
    lower_raw = base - limit
    t_low = tick_at(np.maximum(lower_raw, 1))
    lower = np.maximum((lower_raw // t_low) * t_low, 1)
    return limit, lower.astype(np.int64), upper.astype(np.int64)


@overload
def price_limits(base_price: Number, date: object = None, rate: Number = 0.30) -> tuple[int, int]: ...
@overload
def price_limits(base_price: Numbers, date: object = None, rate: Number = 0.30) -> tuple[_Ints, _Ints]: ...
def price_limits(base_price: Number | Numbers, date: object = None, rate: Number = 0.30) -> tuple[int, int] | tuple[_Ints, _Ints]:
    """Daily lower and upper price limits (하한가, 상한가) around `base_price`.

    KRX's steps (methodology 3.2, conformance ``krx_price_limit_base_9980.json``):

    1. ``raw = base_price × rate`` (exact);
    2. ``limit = raw`` truncated down to a multiple of the tick at the *base price's* level;
    3. ``upper = base_price + limit`` and ``lower = base_price - limit``, each truncated down
       to the grid at its own level.

    For a base on the grid, step 3 never moves ``lower``: ``lower`` is a multiple of the base's
    tick, and every smaller band's tick divides it, so ``lower = base - limit >= base × (1 -
    rate)`` exactly. ``upper`` can move when it lands in a band with a coarser tick (KOSDAQ's
    pre-2023 example: 9940 + 2980 = 12920 -> 12900). An off-grid base gets step 3 literally
    (truncated down) for both sides. ``lower`` is never below 1 (relevant for rate >= 1).

    Parameters
    ----------
    base_price : int or array_like of int
        Base price(s) (기준가) in won: whole numbers > 0.
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Trading date selecting the tick table; None means the current (unified) table.
    rate : int, float, Fraction or Decimal, optional
        Limit rate, > 0. Default 0.30 (KOSPI since 2015-06-15; pass 0.15 for older dates).
        A float is read as the decimal it prints as, so 9980 × 0.3 is exactly 2994.

    Returns
    -------
    lower, upper : int or ndarray of int64
        Python ints for a scalar base, int64 arrays of the base's shape for array input.

    Raises
    ------
    TypeError
        For a wrong kind of `base_price`, `rate` or `date`.
    ValueError
        If `base_price` is not a whole number > 0, or `rate` is not a finite number > 0.

    Examples
    --------
    >>> price_limits(9980)
    (6990, 12970)
    >>> price_limits(9980, date="2023-01-24")  # 12970 truncated to the old 50-won tick
    (6990, 12950)
    """
    table = _resolve_table(date)
    r = _rate(rate)
    if is_array_like(base_price):
        base = _as_base_array(base_price)
        _, lower, upper = _limits_array(base, r, table)
        return lower, upper
    base = whole_positive_exact(base_price, "base_price", "won")
    limit = _limit_amount_scalar(base, r, table)
    upper = _floor_grid_scalar(base + limit, table)
    lower_raw = base - limit
    lower = _floor_grid_scalar(lower_raw, table) if lower_raw >= 1 else 1
    return int(lower), int(upper)


# --------------------------------------------------------------------------------------------
# base prices after corporate actions (methodology 1.6)
# --------------------------------------------------------------------------------------------


def theoretical_ex_rights_price(cum_price: Number, old_shares: Number, issue_price: Number,
                                new_shares: Number) -> Fraction:
    """Exact theoretical ex-rights price, before rounding to the tick grid.

    ``(cum_price × old_shares + issue_price × new_shares) / (old_shares + new_shares)``.
    Only the ratio of the share counts matters, so fractional counts (a per-share allotment
    ratio such as 0.2 against 1) are accepted.

    Parameters
    ----------
    cum_price : int, float, Fraction or Decimal
        Cum-rights price (normally the previous close), > 0.
    old_shares : int, float, Fraction or Decimal
        Shares before the issue, > 0.
    issue_price : int, float, Fraction or Decimal
        Issue price of the new shares, >= 0 (0 for a bonus issue).
    new_shares : int, float, Fraction or Decimal
        Shares allotted, > 0.

    Returns
    -------
    fractions.Fraction

    Raises
    ------
    TypeError
        If an argument is not a real number (strings and bools included).
    ValueError
        If a price or share count is out of range or not finite.

    Examples
    --------
    >>> theoretical_ex_rights_price(10000, 100, 8000, 20)
    Fraction(29000, 3)
    """
    cum = positive_exact(cum_price, "cum_price")
    old = positive_exact(old_shares, "old_shares")
    issue = non_negative_exact(issue_price, "issue_price")
    new = positive_exact(new_shares, "new_shares")
    return Fraction(cum * old + issue * new) / (old + new)


def ex_rights_price(cum_price: Number, old_shares: Number, issue_price: Number, new_shares: Number,
                    rounding: str = "up", date: object = None, grid: object = None) -> int:
    """KRX base price on the ex-rights date of a paid-in rights issue (권리락 기준가).

    The exact theoretical price (see :func:`theoretical_ex_rights_price`) rounded to the tick
    grid in force on `date`.

    Parameters
    ----------
    cum_price, old_shares, issue_price, new_shares
        As in :func:`theoretical_ex_rights_price`.
    rounding : {"up", "down", "nearest"}, optional
        Rounding to the grid, default "up" (methodology decision 6).
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Ex-date selecting the tick table; None means the current (unified) table.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If an argument has a wrong kind.
    ValueError
        If an argument is out of range, or `rounding` is unknown.

    Examples
    --------
    >>> ex_rights_price(10000, 100, 8000, 20)  # 9666.67 -> up to the 10-won tick
    9670
    """
    mode = check_rounding(rounding, "rounding")
    table = _grid_table(date, grid)
    p = theoretical_ex_rights_price(cum_price, old_shares, issue_price, new_shares)
    return _round_exact(p, mode, table, "the theoretical ex-rights price")


def bonus_issue_price(cum_price: Number, old_shares: Number, new_shares: Number, rounding: str = "up",
                      date: object = None, grid: object = None) -> int:
    """KRX base price on the ex-date of a bonus issue (무상증자): issue price 0.

    ``cum_price × old_shares / (old_shares + new_shares)``, rounded to the tick grid.

    Parameters
    ----------
    cum_price : int, float, Fraction or Decimal
        Cum-rights price, > 0.
    old_shares, new_shares : int, float, Fraction or Decimal
        Shares before the issue and shares allotted, both > 0.
    rounding : {"up", "down", "nearest"}, optional
        Rounding to the grid, default "up" (methodology decision 6).
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Ex-date selecting the tick table; None means the current (unified) table.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If an argument has a wrong kind.
    ValueError
        If an argument is out of range, or `rounding` is unknown.

    Examples
    --------
    >>> bonus_issue_price(10000, 100, 50)  # 6666.67 -> 6670
    6670
    """
    mode = check_rounding(rounding, "rounding")
    table = _grid_table(date, grid)
    p = theoretical_ex_rights_price(cum_price, old_shares, 0, new_shares)
    return _round_exact(p, mode, table, "the theoretical bonus-issue price")


def stock_dividend_price(cum_price: Number, old_shares: Number, new_shares: Number, rounding: str = "up",
                         date: object = None, grid: object = None) -> int:
    """KRX base price on a stock-dividend ex-date (주식배당 락).

    ``cum_price × old_shares / (old_shares + new_shares)``, rounded to the tick grid.

    Parameters
    ----------
    cum_price : int, float, Fraction or Decimal
        Cum-dividend price, > 0.
    old_shares, new_shares : int, float, Fraction or Decimal
        Shares before the dividend and shares distributed, both > 0.
    rounding : {"up", "down", "nearest"}, optional
        Rounding to the grid, default "up" (methodology decision 6).
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Ex-date selecting the tick table; None means the current (unified) table.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If an argument has a wrong kind.
    ValueError
        If an argument is out of range, or `rounding` is unknown.

    Examples
    --------
    >>> stock_dividend_price(21000, 100, 5)  # 20000 exactly
    20000
    """
    mode = check_rounding(rounding, "rounding")
    table = _grid_table(date, grid)
    cum = positive_exact(cum_price, "cum_price")
    old = positive_exact(old_shares, "old_shares")
    new = positive_exact(new_shares, "new_shares")
    p = Fraction(cum * old) / (old + new)
    return _round_exact(p, mode, table, "the theoretical stock-dividend price")


def split_price(prev_close: Number, ratio: object, rounding: str = "up", date: object = None,
                grid: object = None) -> int:
    """KRX base price after a stock split or consolidation: ``prev_close / ratio``.

    Parameters
    ----------
    prev_close : int, float, Fraction or Decimal
        Previous close, > 0.
    ratio : int, float, Fraction, Decimal or str
        New shares per old share, > 0: 10 for a 1-to-10 split (price / 10), 0.1 or
        ``Fraction(1, 10)`` for a 10-to-1 consolidation (price × 10). A string ``"a:b"`` means
        ``a`` old shares become ``b`` new ones ("1:10" is the same as 10).
    rounding : {"up", "down", "nearest"}, optional
        Rounding to the grid, default "up" (methodology decision 6).
    date : datetime.date, datetime.datetime, numpy.datetime64, str or None, optional
        Ex-date selecting the tick table; None means the current (unified) table.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If an argument has a wrong kind.
    ValueError
        If `prev_close` or `ratio` is out of range or malformed, or `rounding` is unknown.

    Examples
    --------
    >>> split_price(10000, "1:10"), split_price(10000, 10), split_price(1000, 0.1)
    (1000, 1000, 10000)
    """
    mode = check_rounding(rounding, "rounding")
    table = _grid_table(date, grid)
    close = positive_exact(prev_close, "prev_close")
    r = parse_ratio(ratio)
    return _round_exact(Fraction(close) / r, mode, table, "the theoretical split price")


# --------------------------------------------------------------------------------------------
# KOSPI 200: float ratios and the review calendar (methodology 2.4, 7.1, 7.3)
# --------------------------------------------------------------------------------------------

#: KRX rounds a float ratio UP to a multiple of this (5% steps; methodology 7.1, newsway 2016-06-07).
FLOAT_RATIO_STEP = Fraction(5, 100)

#: Smallest float ratio of an eligible stock (10% since 2007; methodology 7.1, hankyung 2007-01-19).
MIN_FLOAT_RATIO = Fraction(10, 100)

_XKRX = None
_SESSIONS: list | None = None


def xkrx_calendar():
    """The XKRX calendar of ``exchange-calendars``, built once; the package's one trading calendar
    (the session rules of :mod:`kospi_fast.session` and the review dates here use it).

    Raises
    ------
    ImportError
        When ``exchange-calendars`` is not installed, naming the fix:
        ``pip install 'kospi-fast[calendar]'``. No date here is ever guessed without it.
    """
    global _XKRX
    if _XKRX is None:
        xc = require("exchange_calendars", "calendar", package="exchange-calendars",
                     what="the KRX trading calendar")
        import warnings

        # building it is slow and, with some pandas versions, emits a deprecation warning from
        # inside exchange-calendars that is not ours to act on
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            _XKRX = _with_election_days(xc)
    return _XKRX


#: Statutory election days (Public Official Election Act, art. 34: the end-of-term elections) that
#: the installed XKRX calendar may still list as sessions. Such a day is a public holiday
#: (Regulations on Holidays of Government Offices, art. 2) and KRX closes its markets on it; XKRX
#: itself lists every past one as a holiday (the local elections of 2018-06-13 and 2022-06-01, the
#: general election of 2024-04-10, ...). exchange-calendars 4.13 lists the 9th local elections,
#: 2026-06-03 (the first Wednesday of June), as a session.
ELECTION_DAYS = (datetime.date(2026, 6, 3),)


def _with_election_days(xc: object) -> object:
    """XKRX with :data:`ELECTION_DAYS` added to its ad-hoc holidays."""
    import pandas as pd
    from exchange_calendars.exchange_calendar_xkrx import XKRXExchangeCalendar

    class _XKRX(XKRXExchangeCalendar):  # type: ignore[misc,valid-type]
        @property
        def adhoc_holidays(self) -> object:
            return list(super().adhoc_holidays) + [pd.Timestamp(d) for d in ELECTION_DAYS]

    return _XKRX()


def _sessions() -> list:
    """The XKRX sessions as a sorted list of :class:`datetime.date`."""
    global _SESSIONS
    if _SESSIONS is None:
        _SESSIONS = [d.date() for d in xkrx_calendar().sessions]
    return _SESSIONS


def _in_range(day: datetime.date, name: str) -> list:
    s = _sessions()
    if not s[0] <= day <= s[-1]:
        raise ValueError(f"`{name}` {day.isoformat()} is outside the XKRX calendar's range "
                         f"{s[0].isoformat()} .. {s[-1].isoformat()}")
    return s


def is_trading_day(date) -> bool:
    """True when XKRX lists `date` as a session (a KRX trading day).

    >>> is_trading_day("2025-06-13"), is_trading_day("2025-06-14")  # Friday, Saturday
    (True, False)
    """
    day = as_date(date, "date")
    s = _in_range(day, "date")
    i = bisect.bisect_left(s, day)
    return i < len(s) and s[i] == day


def next_trading_day(date, n: int = 1) -> datetime.date:
    """The `n`-th trading day after `date` (`date` itself need not be one); n >= 1.

    >>> next_trading_day("2025-06-12"), next_trading_day("2025-03-06", 2)
    (datetime.date(2025, 6, 13), datetime.date(2025, 3, 10))
    """
    day = as_date(date, "date")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be an int >= 1, got {n!r}")
    s = _in_range(day, "date")
    i = bisect.bisect_right(s, day) + n - 1
    if i >= len(s):
        raise ValueError(f"the {n}-th trading day after {day.isoformat()} is beyond the XKRX calendar "
                         f"(last session {s[-1].isoformat()})")
    return s[i]


def previous_trading_day(date, n: int = 1) -> datetime.date:
    """The `n`-th trading day before `date` (`date` itself need not be one); n >= 1."""
    day = as_date(date, "date")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be an int >= 1, got {n!r}")
    s = _in_range(day, "date")
    i = bisect.bisect_left(s, day) - n
    if i < 0:
        raise ValueError(f"the {n}-th trading day before {day.isoformat()} is before the XKRX calendar "
                         f"(first session {s[0].isoformat()})")
    return s[i]


def round_float_ratio(x) -> float:
    """KRX's float ratio: `x` rounded UP to a 5% step, exactly (methodology 7.1: "5% 단위로 올림").

    `x` is taken as the decimal it prints as (0.4321 is 4321/10000), so a ratio already on a
    step stays there (0.45 -> 0.45) and anything above moves to the next (0.4501 -> 0.50).
    The result is the float whose shortest repr is that step (``0.45``), which is how index
    shares read it (:func:`kospi_fast.definitions.shares_from_listed`).

    Parameters
    ----------
    x : int, float, Fraction or Decimal
        Raw float ratio in [0, 1].

    Raises
    ------
    TypeError
        `x` is not a real number.
    ValueError
        `x` is outside [0, 1] or not finite.

    Examples
    --------
    >>> round_float_ratio(0.4321), round_float_ratio(0.45), round_float_ratio(0.4501)
    (0.45, 0.45, 0.5)
    """
    r = Fraction(exact_number(x, "x", "in [0, 1]"))
    if not 0 <= r <= 1:
        raise ValueError(f"`x` (a float ratio) must be in [0, 1], got {x!r}")
    steps = -((-r) // FLOAT_RATIO_STEP)  # ceiling, exact
    return float(steps * FLOAT_RATIO_STEP)


def float_eligible(x) -> bool:
    """Whether a stock of raw float ratio `x` may be a KOSPI 200 member: ``x >= 10%``.

    The test is on the raw ratio, before the 5% round-up (a decision: rounding 0.06 up to 0.10
    must not make a stock eligible; docs/methodology-notes.md, "KOSPI 200 float ratios").

    >>> float_eligible(0.10), float_eligible(0.0999)
    (True, False)
    """
    r = Fraction(exact_number(x, "x", "in [0, 1]"))
    if not 0 <= r <= 1:
        raise ValueError(f"`x` (a float ratio) must be in [0, 1], got {x!r}")
    return r >= MIN_FLOAT_RATIO


def _year_month(year, month) -> tuple[int, int]:
    for name, v in (("year", year), ("month", month)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"`{name}` must be an int, got {v!r}")
    if not 1 <= int(month) <= 12:
        raise ValueError(f"`month` must be in 1..12, got {month!r}")
    return int(year), int(month)


def futures_expiry(year, month) -> datetime.date:
    """Last trading day of the KOSPI 200 futures/options of (`year`, `month`): the second
    Thursday of the month, or the trading day before it when that Thursday is a holiday
    (methodology 2.4).

    >>> futures_expiry(2025, 6), futures_expiry(2023, 12)
    (datetime.date(2025, 6, 12), datetime.date(2023, 12, 14))
    """
    year, month = _year_month(year, month)
    first = datetime.date(year, month, 1)
    thursday = first + datetime.timedelta(days=(3 - first.weekday()) % 7 + 7)
    return thursday if is_trading_day(thursday) else previous_trading_day(thursday)


def review_effective_date(year, month) -> datetime.date:
    """First day of a regular KOSPI 200 review (June or December): the trading day after that
    month's futures/options expiry (methodology 2.4; reviews are semi-annual since 2020).

    >>> review_effective_date(2025, 6), review_effective_date(2025, 12)
    (datetime.date(2025, 6, 13), datetime.date(2025, 12, 12))
    """
    year, month = _year_month(year, month)
    if month not in (6, 12):
        raise ValueError(f"regular KOSPI 200 reviews are in June and December, got `month` {month}")
    return next_trading_day(futures_expiry(year, month))


def quarterly_entry_date(date) -> datetime.date:
    """Fast entry of a large new listing (특례편입): the trading day after the first quarterly
    (Mar/Jun/Sep/Dec) futures expiry on or after `date`, the day its 15-trading-day window
    ends (methodology 2.1, 7.3). Whether the listing qualifies (top 50 by average cap) is the
    caller's call.

    >>> quarterly_entry_date("2015-01-12")  # Cheil Industries: listed 2014-12-18, window ends 2015-01-12
    datetime.date(2015, 3, 13)
    """
    day = as_date(date, "date")
    y, m = day.year, day.month
    while True:
        if m % 3 == 0 and futures_expiry(y, m) >= day:
            return next_trading_day(futures_expiry(y, m))
        m += 1
        if m == 13:
            y, m = y + 1, 1


def special_change_removal_date(designated, resumed=None, *, halted: bool = False) -> datetime.date:
    """Day a KOSPI 200 member designated 관리종목 or given a delisting decision on `designated`
    leaves the index (rule since 2014-03-03; methodology 7.3).

    * Not halted: on the next trading day after two trading days have passed since the
      designation, i.e. the 3rd trading day after `designated`.
    * Halted, trading resumed on `resumed`: two trading days after the resumption (the day it
      resumes counts as the first), but no later than the 16th trading day of the halt (the
      halt's first day is `designated`, or the next trading day when that is not one).
    * Halted and not resumed (``halted=True``, no `resumed`): the 16th trading day of the halt.

    Worked example (smarttoday 74349, 2025-03): 금양 designated on 2025-03-05, halted that day,
    resumed 2025-03-06, removed from 2025-03-10.

    >>> special_change_removal_date("2025-03-05", "2025-03-06")
    datetime.date(2025, 3, 10)
    """
    d = as_date(designated, "designated")
    if not isinstance(halted, bool):
        raise TypeError(f"`halted` must be a bool, got {halted!r}")
    if resumed is None and not halted:
        return next_trading_day(d, 3)
    first = d if is_trading_day(d) else next_trading_day(d)
    limit = next_trading_day(first, 15)  # the 16th trading day counting `first` as the 1st
    if resumed is None:
        return limit
    r = as_date(resumed, "resumed")
    if r <= d:
        raise ValueError(f"`resumed` {r.isoformat()} must be after `designated` {d.isoformat()}")
    if not is_trading_day(r):
        raise ValueError(f"`resumed` {r.isoformat()} is not a KRX trading day (XKRX calendar)")
    return min(next_trading_day(r, 2), limit)
