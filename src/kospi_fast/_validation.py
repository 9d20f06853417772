"""The one place that checks inputs.

Everything public funnels its arguments through these helpers, which either return a
C-contiguous array of the canonical dtype or raise ``TypeError`` (wrong kind of thing) /
``ValueError`` (wrong value) with a message that names the argument and echoes the value.
Kernels behind them run without bounds checks.

Canonical dtypes: prices and shares ``int64`` (won and share counts are integers), ids
``intp``, levels and divisors ``float64``.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from decimal import Decimal
from fractions import Fraction

import numpy as np

INT64_MAX = int(np.iinfo(np.int64).max)


def overflow_refused(message: str, position: int | None = None) -> ValueError:
    """The ValueError of a trade refused because the true aggregate cap after it would exceed
    int64, like every other bad trade's; its ``overflow_position`` attribute is the trade's
    index in its batch (None when not a batch), which a book uses to set that trade aside."""
    err = ValueError(message)
    err.overflow_position = position  # type: ignore[attr-defined]
    return err


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray(dtype={value.dtype}, shape={value.shape})"
    return repr(value)


def int64_array(value: object, name: str, *, ndim: int = 1, allow_float: bool = True) -> np.ndarray:
    """Return ``value`` as a C-contiguous int64 array.

    Integer arrays of any width are accepted. Float arrays are accepted only if every element is
    finite and integral (prices arrive as floats from many feeds); a NaN, infinity or fraction is a
    ``ValueError`` naming its index. Booleans, strings and objects are a ``TypeError``.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"`{name}` must be an array of integers, got {_describe(value)}")
    arr = np.asarray(value)
    if arr.ndim != ndim:
        raise ValueError(f"`{name}` must be {ndim}-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if arr.size == 0 and kind in "iuf":  # np.asarray([]) is float64; empty is empty
        return np.empty(arr.shape, dtype=np.int64)
    if kind in "iu":
        if kind == "u" and arr.dtype.itemsize >= 8 and arr.size and arr.max() > INT64_MAX:
            idx = int(np.argmax(arr > INT64_MAX))
            raise ValueError(f"`{name}[{idx}]` does not fit in int64, got {arr[idx].item()}")
        return np.ascontiguousarray(arr, dtype=np.int64)
    if kind == "f" and allow_float:
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = int(np.argmax(bad))
            raise ValueError(f"`{name}[{idx}]` must be a finite number, got {arr[idx].item()!r}")
        frac = arr != np.floor(arr)
        if frac.any():
            idx = int(np.argmax(frac))
            raise ValueError(f"`{name}[{idx}]` must be a whole number (of price units or shares), got {arr[idx].item()!r}")
        too_big = np.abs(arr) > 2.0**62
        if too_big.any():
            idx = int(np.argmax(too_big))
            raise ValueError(f"`{name}[{idx}]` is out of the int64 range, got {arr[idx].item()!r}")
        return np.ascontiguousarray(arr, dtype=np.int64)
    raise TypeError(f"`{name}` must be an integer array (int64), got dtype {arr.dtype}")


def float64_array(value: object, name: str) -> np.ndarray:
    """Return ``value`` as a C-contiguous 1-d float64 array of finite numbers."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"`{name}` must be an array of numbers, got {_describe(value)}")
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-dimensional, got shape {arr.shape}")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"`{name}` must be a numeric array, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = int(np.argmax(bad))
        raise ValueError(f"`{name}[{idx}]` must be a finite number, got {arr[idx].item()!r}")
    return arr


def out_array(out: object, shape: tuple[int, ...], inputs: tuple = (), name: str = "out") -> np.ndarray | None:
    """A caller's output buffer for a batch (``out=``), or None when not given: an ndarray of
    exactly float64 in native byte order, ``shape``, C-contiguous, aligned and writeable, and
    sharing no memory with any of ``inputs`` (the arrays the kernel reads while it writes; a
    bounds test, so an interleaved view is refused too). Else TypeError/ValueError naming it."""
    if out is None:
        return None
    if not isinstance(out, np.ndarray):
        raise TypeError(f"`{name}` must be a numpy float64 array, got {type(out).__name__}")
    if out.dtype != np.float64 or not out.dtype.isnative:
        raise TypeError(f"`{name}` must have dtype float64 (native byte order), got {out.dtype.str!r}")
    if out.shape != tuple(shape):
        raise ValueError(f"`{name}` must have shape {tuple(shape)}, got {out.shape}")
    if not out.flags.c_contiguous or not out.flags.aligned:
        raise ValueError(f"`{name}` must be C-contiguous and aligned (numpy.empty), got strides {out.strides}")
    if not out.flags.writeable:
        raise ValueError(f"`{name}` must be writeable")
    for arr in inputs:
        if isinstance(arr, np.ndarray) and np.may_share_memory(out, arr):
            raise ValueError(f"`{name}` must not share memory with an input array (the levels would overwrite it)")
    return out


def id_array(value: object, name: str, n_stocks: int, *, check_range: bool = True) -> np.ndarray:
    """Return ``value`` as a C-contiguous intp array of ids in ``[0, n_stocks)``.

    ``check_range=False`` only converts (a value beyond int64 is still refused): for the tick
    kernels, which check each id in the same pass as its price, so the first bad *trade* is the
    one reported, whichever of its fields is bad."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"`{name}` must be an array of integer ids, got {_describe(value)}")
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-dimensional, got shape {arr.shape}")
    if arr.size == 0 and arr.dtype.kind in "iuf":  # np.asarray([]) is float64; empty is empty
        return np.empty(0, dtype=np.intp)
    if arr.dtype.kind not in "iu":
        hint = ("; stock codes? convert them with book.ids_of(codes) (or universe.ids_of)"
                if arr.dtype.kind in "OUS" else "")
        raise TypeError(f"`{name}` must be an integer array of ids, got dtype {arr.dtype}{hint}")
    if arr.size and not check_range:
        if arr.dtype.kind == "u" and arr.dtype.itemsize >= 8 and arr.max() > INT64_MAX:
            idx = int(np.argmax(arr > INT64_MAX))
            raise ValueError(f"`{name}[{idx}]` is out of range: ids must be in [0, {n_stocks}), got {arr[idx].item()}")
    elif arr.size:
        bad = (arr < 0) | (arr >= n_stocks)
        if bad.any():
            idx = int(np.argmax(bad))
            raise ValueError(
                f"`{name}[{idx}]` is out of range: ids must be in [0, {n_stocks}), got {arr[idx].item()}"
            )
    return np.ascontiguousarray(arr, dtype=np.intp)


def check_same_length(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"`{a_name}` and `{b_name}` must have the same length, got {a.shape[0]} and {b.shape[0]}"
        )


def check_positive(arr: np.ndarray, name: str) -> None:
    if arr.size:
        bad = arr <= 0
        if bad.any():
            idx = int(np.argmax(bad))
            raise ValueError(f"`{name}[{idx}]` must be > 0, got {arr[idx].item()}")


def check_non_negative(arr: np.ndarray, name: str) -> None:
    if arr.size:
        bad = arr < 0
        if bad.any():
            idx = int(np.argmax(bad))
            raise ValueError(f"`{name}[{idx}]` must be >= 0, got {arr[idx].item()}")


def positive_float(value: object, name: str) -> float:
    """A finite number > 0 (divisors, base caps, levels, base values)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {_describe(value)}")
    try:
        out = float(value)
    except OverflowError:  # an int or Fraction beyond float64
        raise ValueError(f"`{name}` must be a finite number > 0 (within float64), got {_short(value)}") from None
    if not math.isfinite(out) or out <= 0.0:
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return out


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}…{text[-8:]} ({len(text)} characters)"


def calibrated_divisor(numerator: object, denominator: object, cap: int, what: str) -> float:
    """``numerator / denominator`` as a divisor (``base_cap / base_value`` or ``cap / level``),
    refused (``ValueError`` naming ``what``) unless the divisor and the level it gives at
    ``cap``, ``cap / divisor``, are finite numbers > 0: a divisor that underflows to 0 or
    overflows to inf (``base_cap=5e-324``, ``level=1e-320``) would make a book that can be
    neither published nor saved."""
    try:
        divisor = float(numerator) / float(denominator)  # type: ignore[arg-type]
    except (OverflowError, ZeroDivisionError):
        divisor = math.inf
    level = cap / divisor if divisor else math.inf
    if not (math.isfinite(divisor) and divisor > 0 and math.isfinite(level) and level > 0):
        raise ValueError(f"{what} gives a divisor of {divisor!r} and a level of {level!r} at the cap {cap}: "
                         "both must be finite numbers > 0")
    return divisor


def index_divisor(cap: object, base_cap: object, base_value: object, level: object, prefix: str = "") -> float:
    """An index's divisor at ``cap``: ``base_cap / base_value`` when ``base_cap`` is given, else
    ``cap / level`` (``level`` None: ``base_value``), checked by :func:`calibrated_divisor` with
    the argument used named (after ``prefix``)."""
    if base_cap is not None:
        return calibrated_divisor(base_cap, base_value, cap, f"{prefix}`base_cap` = {base_cap!r}")
    name, target = ("`base_value`", base_value) if level is None else ("`level`", level)
    return calibrated_divisor(cap, target, cap, f"{prefix}{name} = {target!r}")


def ambiguous_int(key: object, id_way: str) -> str:
    """The message for an integer given where a stock code is expected: ``660`` may be the code
    ``'000660'`` with its leading zeros lost, or the id 660; neither is assumed."""
    k = int(key)  # type: ignore[call-overload]
    hint = f" ('{k:06d}' if that is the code)" if 0 <= k <= 999_999 else ""
    return (f"`code` must be a 6-character stock code string such as '000660', got the integer {k}: an integer "
            f"is ambiguous (a code whose leading zeros were lost, or a stock id). Pass the code as a str{hint}, "
            f"or {id_way}")


def price_scalar(value: object, name: str = "price") -> int:
    """One price in price units (won for KRX): an int > 0 (a float is accepted when it is finite and whole)."""
    if isinstance(value, bool):
        raise TypeError(f"`{name}` must be an integer number of price units, got {value!r}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f) or f != math.floor(f):
            raise ValueError(f"`{name}` must be a whole, finite number of price units, got {value!r}")
        out = int(f)
    else:
        raise TypeError(f"`{name}` must be an integer number of price units, got {_describe(value)}")
    if out <= 0:
        raise ValueError(f"`{name}` must be > 0, got {value!r}")
    if out > INT64_MAX:
        raise ValueError(f"`{name}` does not fit in int64, got {value!r}")
    return out


def real_price(value: object, name: str = "price") -> float:
    """One price of a float64 book: a real number (int, float, Fraction, NumPy scalar; not a
    bool), finite and > 0 after conversion to float64."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {_describe(value)}")
    try:
        f = float(value)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f) or f <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return f


def check_codes(codes: object, name: str = "codes") -> list[str]:
    """Stock codes: unique non-empty strings with no blank at either end, in any market's form
    ('005930', 'AAPL', 'BRK.B', 'US0378331005'). KRX's own 6-character rule is
    :func:`kospi_fast.krx.check_krx_codes`, applied where KRX rules are asked for."""
    if isinstance(codes, (str, bytes)):
        raise TypeError(f"`{name}` must be a sequence of code strings, got {codes!r}")
    out = []
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):  # type: ignore[arg-type]
        if not isinstance(code, str):
            raise TypeError(f"`{name}[{i}]` must be a str such as 'AAPL' or '005930', got {code!r}")
        if not code or code != code.strip():
            raise ValueError(f"`{name}[{i}]` must be a non-empty code with no blank at either end, got {code!r}")
        if code in seen:
            raise ValueError(f"`{name}[{i}]` duplicates `{name}[{seen[code]}]`: {code!r}")
        seen[code] = i
        out.append(code)
    return out


# ---------------------------------------------------------------------------------- dates
#: The one date grammar of the package: year, month and day with '-', '/' or '.' between them
#: (the same separator twice) or none at all, optionally followed by a time (' ' or 'T' first).
_DATE_RE = re.compile(r"^(\d{4})([-/.]?)(\d{2})\2(\d{2})(?:[ T].*)?$")
_DATE_KINDS = "a datetime.date, datetime.datetime, pandas.Timestamp, numpy.datetime64 or a string"


def as_date(value: object, name: str = "date") -> _dt.date:
    """One calendar day from a date-like value: the package's only date parser.

    Accepted: :class:`datetime.date`; :class:`datetime.datetime` and :class:`pandas.Timestamp`
    (their calendar day, in their own time zone); :class:`numpy.datetime64` (not NaT); and strings
    ``'2026-03-10'``, ``'20260310'``, ``'2026/03/10'`` or ``'2026.03.10'``, optionally followed
    by a time after a space or a ``'T'`` (``'2026-03-10 00:00:00'``, ``'2026-03-10T09:00+09:00'``).

    Raises
    ------
    TypeError
        For anything else (ints such as ``20260310``, bytes, None), naming `name`.
    ValueError
        For a string outside the grammar, a day that does not exist (``'2026-02-30'``) or NaT,
        naming `name` and echoing the value.
    """
    if isinstance(value, _dt.datetime):  # before date: datetime subclasses date
        if value != value:  # pandas.NaT is a datetime that is not equal to itself
            raise ValueError(f"`{name}` must be a date, not NaT, got {value!r}")
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError(f"`{name}` must be a date, not NaT, got {value!r}")
        day = value.astype("datetime64[D]").item()
        if not isinstance(day, _dt.date):  # numpy years beyond 1..9999
            raise ValueError(f"`{name}` is out of the range of dates (years 1-9999), got {value!r}")
        return day
    if isinstance(value, str):
        m = _DATE_RE.match(value.strip())
        if m is None:
            raise ValueError(f"`{name}` must be an ISO date such as '2026-03-10' (or '20260310', "
                             f"'2026/03/10', '2026.03.10'), got {value!r}")
        try:
            return _dt.date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        except ValueError:
            raise ValueError(f"`{name}` must be a valid ISO date such as '2026-03-10', got {value!r}") from None
    raise TypeError(f"`{name}` must be {_DATE_KINDS} such as '2026-03-10', got "
                    f"{type(value).__name__}: {value!r}")


def iso_date(value: object, name: str = "date") -> str:
    """``as_date(value, name).isoformat()``: ``'YYYY-MM-DD'``."""
    return as_date(value, name).isoformat()


# ---------------------------------------------------------------------------------- exact scalars
ROUNDINGS = ("up", "down", "nearest")


def check_rounding(value: object, name: str = "rounding") -> str:
    """One of :data:`ROUNDINGS` (rounding to the KRX tick grid)."""
    if not isinstance(value, str) or value not in ROUNDINGS:
        raise ValueError(f"`{name}` must be one of 'up', 'down', 'nearest', got {value!r}")
    return value


def exact_number(value: object, name: str, bound: str = "") -> int | Fraction:
    """A real scalar as an exact ``int`` or :class:`~fractions.Fraction`.

    A float means the decimal it prints as (``0.3`` is 3/10, not the nearest double);
    ``Decimal`` is exact. `bound` (such as ``"> 0"``) only completes the NaN/inf message.
    Raises ``TypeError`` for anything that is not a real number (bools and strings included) and
    ``ValueError`` for NaN and infinities.
    """
    if type(value) is int:  # the common case, kept cheap
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a real number, not a bool, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"`{name}` must be a finite number{bound and ' ' + bound}, got {value}")
        return Fraction(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError(f"`{name}` must be a finite number{bound and ' ' + bound}, got {value}")
        return Fraction(str(value))  # str() of a float is its shortest round-trip decimal
    if isinstance(value, numbers.Rational):
        return Fraction(value.numerator, value.denominator)
    raise TypeError(
        f"`{name}` must be a real number (int, float, Fraction or Decimal), "
        f"got {type(value).__name__}: {value!r}"
    )


def positive_exact(value: object, name: str) -> int | Fraction:
    """:func:`exact_number` > 0."""
    x = exact_number(value, name, "> 0")
    if x <= 0:
        raise ValueError(f"`{name}` must be > 0, got {value}")
    return x


def non_negative_exact(value: object, name: str) -> int | Fraction:
    """:func:`exact_number` >= 0."""
    x = exact_number(value, name, ">= 0")
    if x < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value}")
    return x


def whole_positive_exact(value: object, name: str, unit: str = "price units") -> int:
    """:func:`positive_exact` that is a whole number (of ``unit``: won for KRX's rules)."""
    x = positive_exact(value, name)
    if isinstance(x, Fraction):
        if x.denominator != 1:
            raise ValueError(f"`{name}` must be a whole number of {unit}, got {value}")
        x = x.numerator
    return x


# ---------------------------------------------------------------------------------- n-d real arrays
# (the KRX rules take a scalar or an array of any shape; errors name the element's full index)

#: Float arrays hold integers exactly only below 2**53.
FLOAT_EXACT_LIMIT = 2.0**53


def is_array_like(value: object) -> bool:
    """True for the containers the KRX rules treat element-wise (ndarray, list, tuple)."""
    return isinstance(value, (np.ndarray, list, tuple))


def index_name(name: str, index: tuple[int, ...]) -> str:
    """```name[1, 0]``` for an element of an n-d array (```name``` for a 0-d one)."""
    if not index:
        return f"`{name}`"
    return f"`{name}[{', '.join(str(int(i)) for i in index)}]`"


def first_bad(bad: np.ndarray) -> tuple[int, ...] | None:
    """The n-d index of the first True of `bad`, or None."""
    if not bad.any():
        return None
    return tuple(np.argwhere(bad)[0])


def real_array(value: object, name: str) -> np.ndarray:
    """Array-like -> int64 or float64 ndarray of any shape (no value checks)."""
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind in "iu":
        if kind == "u" and arr.size and int(arr.max()) > INT64_MAX:
            i = tuple(np.argwhere(arr > INT64_MAX)[0])
            raise ValueError(f"{index_name(name, i)} must fit in int64, got {arr[i]}")
        return arr.astype(np.int64, copy=False)
    if kind == "f":
        return arr.astype(np.float64, copy=False)
    raise TypeError(f"`{name}` must have an integer or float dtype, got dtype {arr.dtype}")


def check_positive_real_array(arr: np.ndarray, name: str) -> None:
    """Raise ValueError naming the first element that is not a finite number > 0 (and, in a
    float array, below 2**53)."""
    if arr.dtype.kind == "f":
        i = first_bad(~np.isfinite(arr))
        if i is not None:
            raise ValueError(f"{index_name(name, i)} must be a finite number > 0, got {arr[i]}")
        i = first_bad(arr >= FLOAT_EXACT_LIMIT)
        if i is not None:
            raise ValueError(f"{index_name(name, i)} must be < 2**53 in a float array, got {arr[i]}")
    i = first_bad(~(arr > 0))
    if i is not None:
        raise ValueError(f"{index_name(name, i)} must be > 0, got {arr[i]}")


def positive_int(value: object, name: str) -> int:
    """A count (shares, prices): an int > 0 that fits in int64; a finite whole float is accepted."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    else:
        f = float(value)
        if not math.isfinite(f) or f != math.floor(f):
            raise ValueError(f"`{name}` must be a whole, finite number, got {value!r}")
        out = int(f)
    if out <= 0:
        raise ValueError(f"`{name}` must be > 0, got {value!r}")
    if out > INT64_MAX:
        raise ValueError(f"`{name}` does not fit in int64, got {value!r}")
    return out


def non_negative_int(value: object, name: str) -> int:
    """:func:`positive_int`, or 0."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == 0:
        return 0
    return positive_int(value, name)


def non_negative_float(value: object, name: str) -> float:
    """A finite real number >= 0, as a float (amounts of money such as a dividend)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f) or f < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    return f


def code_str(value: object, name: str = "code") -> str:
    """A stock code's type only (a str); :func:`check_codes` also checks its form."""
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be a stock code string such as 'AAPL' or '005930', got {value!r}")
    return value


# ---------------------------------------------------------------------------------- ratios
#: The one ratio grammar: 'old:new' with two decimal numbers (digits, optional decimal part),
#: blanks allowed around each side.
_RATIO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")


def ratio(value: object, name: str = "ratio") -> Fraction:
    """New shares per old share, exactly: a real number > 0, or a string ``'old:new'``.

    ``'1:10'`` (one old share becomes ten) is ``Fraction(10)``, the same as ``10``; ``'2:1'``
    is ``Fraction(1, 2)``. Both sides of a string are decimal numbers > 0 (``'1.5:3'`` is fine;
    signs, exponents, ``'1/10'`` and a missing side are not). Numbers go through
    :func:`exact_number` (``0.1`` is exactly 1/10).
    """
    if isinstance(value, str):
        m = _RATIO_RE.match(value)
        if m is None:
            raise ValueError(f"`{name}` must be a string 'old:new' such as '1:10', got {value!r}")
        old, new = Fraction(m.group(1)), Fraction(m.group(2))
        if old == 0 or new == 0:
            raise ValueError(f"`{name}` must have both sides > 0, got {value!r}")
        return new / old
    return Fraction(positive_exact(value, name))


def thread_count(value: object, name: str = "threads") -> int:
    """``threads=`` of a batch entry point: an int >= 1, how many threads the caller allows (the
    split kernels use at most 2; ``_parallel``). Else TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an int >= 1 (1: one thread, 2: the second core too), got {_short(value)}")
    out = int(value)
    if out < 1:
        raise ValueError(f"`{name}` must be >= 1, got {out}")
    return out


def sample_positions(sample_at: object, n_ticks: int) -> np.ndarray:
    """``sample_at`` as int64 ascending trade positions in [0, n_ticks) (any upper end when
    ``n_ticks`` < 0): the rows of a sampled batch (``IndexEngine``/``IndexFamily.update_many``)."""
    samples = int64_array(sample_at, "sample_at", allow_float=False)
    if samples.size and (samples[0] < 0 or (n_ticks >= 0 and samples[-1] >= n_ticks) or (np.diff(samples) < 0).any()):
        raise ValueError(f"`sample_at` must be ascending positions in [0, {n_ticks}), got {samples[:5]}...")
    return samples
