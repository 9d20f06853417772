"""The plain data of an index book: what persistence, journals and workers move.

A book (an :class:`~kospi_fast.IndexEngine` with one index, an
:class:`~kospi_fast.IndexFamily` with K) is fully described by a :class:`BookState`:
the universe, current and reference prices, listed shares and market membership, and per
index its definition, index shares, share factors, divisor and previous close, plus the
audit log, the recorded dividends and the set of applied events. ``book.to_state()`` gives
one (copies); ``type(book).from_state(state)`` rebuilds the book bit for bit. Nothing here
imports a book class: :data:`BOOK_TYPES` maps ``state.kind`` to the class, filled by the
book modules when they are imported.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from kospi_fast import _validation
from kospi_fast._aggregate import aggregate_cap
from kospi_fast.definitions import IndexDefinition
from kospi_fast.events import CashDividend, DividendCorrection, Event
from kospi_fast.universe import Universe

__all__ = [
    "BOOK_TYPES",
    "BookState",
    "RebaseRecord",
    "exact_cap_f64",
    "exact_caps",
    "levels_of",
    "running_pair",
]

#: ``BookState.kind`` -> book class (IndexEngine, IndexFamily, …), registered by book.py users.
BOOK_TYPES: dict[str, type] = {}


def exact_cap_f64(prices: np.ndarray, shares: np.ndarray) -> Fraction:
    """Exact Σ price × shares of float64 arrays, as a Fraction: the rational recount a float64
    book's running cap is measured against (each double is m × 2**e, so the sum is one integer
    over a common power of two: no rounding anywhere)."""
    terms = []
    for p, s in zip(prices.tolist(), shares.tolist()):
        if s:
            a, b = float(p).as_integer_ratio()
            c, d = float(s).as_integer_ratio()
            terms.append((a * c, (b * d).bit_length() - 1))
    if not terms:
        return Fraction(0)
    top = max(t[1] for t in terms)
    return Fraction(sum(n << (top - e) for n, e in terms), 1 << top)


def running_pair(cap: Fraction) -> tuple[float, float]:
    """An exact cap as a float64 book's running cap: the pair (hi, lo) of doubles with hi the
    cap rounded to nearest and lo the rest rounded (hi + lo is the cap to ~2**-106)."""
    hi = float(cap)
    return hi, float(cap - Fraction(hi))


def exact_caps(prices: np.ndarray, shares: np.ndarray, names: object = None, what: str = "`prices`") -> list:
    """Exact Σ price × shares of each index (Python ints), for (K, n) index shares.

    Each must fit in int64 (the books keep their running caps there): otherwise a
    ``ValueError`` names ``what`` (the argument, in backticks, or what changed), the index
    (``names[k]`` when given) and the true cap. For a float64 book (float64 prices and
    shares) each is a Fraction (:func:`exact_cap_f64`) whose float64 value must be finite.
    """
    if prices.dtype.kind == "f" or shares.dtype.kind == "f":
        caps = [exact_cap_f64(prices, row) for row in shares]
        for k, c in enumerate(caps):
            if c >= Fraction(1.7976931348623157e308):
                label = names[k] if names is not None else k  # type: ignore[index]
                raise ValueError(f"{what} would take the float64 aggregate cap of index {label!r} beyond "
                                 "float64's range (Σ price × shares > 1.8e308)")
        return caps
    out = []
    for k, row in enumerate(shares):
        try:
            out.append(int(aggregate_cap(prices, row)) if row.size else 0)
        except ValueError:
            true = int(np.dot(prices.astype(object), row.astype(object)))
            label = names[k] if names is not None else k  # type: ignore[index]
            raise ValueError(
                f"{what} would overflow the int64 aggregate cap of index {label!r}: Σ price × "
                f"shares would be {true}, beyond the maximum {_validation.INT64_MAX}"
            ) from None
    return out


def levels_of(caps: list[int], divisors: np.ndarray, carries: np.ndarray | None = None) -> list[float]:
    """Each index's level ``(cap + carry) / divisor`` (as the books compute it; ``carries`` the
    total-return indices' dividends of the day, 0 for the others); ``ValueError`` when one is
    not a finite number > 0 (a divisor so small or large that the level overflows or
    underflows cannot be saved, loaded or published)."""
    xs = [0.0] * len(caps) if carries is None else carries.tolist()
    out = [(float(c) + x) / d for c, x, d in zip(caps, xs, divisors.tolist())]
    for k, x in enumerate(out):
        if not (math.isfinite(x) and x > 0):
            raise ValueError(f"index {k}: the level cap / divisor = {caps[k]} / {divisors[k]!r} is {x!r}, "
                             "not a finite number > 0")
    return out


@dataclass(frozen=True)
class RebaseRecord:
    """What one rebasing did to one index: caps at the same prices before and after, divisors,
    levels, the events and the effective date. ``index`` names the index (a family writes one
    record per index the events touched). ``credit``: the cash dividends in won (a Fraction,
    exact) a total-return index reinvests from this moment (added to its carry); 0 otherwise.
    A roll's row folding a carry into the divisor has no ids and no events."""

    ids: tuple[int, ...]
    cap_before: int
    cap_after: int
    divisor_before: float
    divisor_after: float
    level_before: float
    level_after: float
    events: tuple = ()
    effective: object = None
    index: str = "KOSPI"
    credit: object = 0  # cash dividends (won, exact) a total-return index reinvested here

    def __repr__(self) -> str:
        return (f"RebaseRecord({self.index!r}, effective {self.effective}, {len(self.events)} events on "
                f"{len(self.ids)} stocks, divisor {self.divisor_before:.9g} -> {self.divisor_after:.9g}, "
                f"level {self.level_before:,.4f} -> {self.level_after:,.4f}"
                f"{f', credit {float(self.credit):,.0f} won' if self.credit else ''})")

    def check(self, n_stocks: int, where: str = "audit record") -> None:
        """Raise ``ValueError`` when a field is not what a rebasing writes (ids of stocks in
        ``[0, n_stocks)``, caps ints >= 0, divisors finite > 0, levels finite, events)."""
        if type(self.ids) is not tuple or not all(type(i) is int and 0 <= i < n_stocks for i in self.ids):
            raise ValueError(f"{where}: `ids` must be a tuple of stock ids in [0, {n_stocks}), got {self.ids!r:.200}")
        for name in ("cap_before", "cap_after"):
            v = getattr(self, name)
            # an int (exact book), or a Fraction (a float64 book's exact caps)
            if isinstance(v, bool) or not isinstance(v, numbers.Rational) or v < 0:
                raise ValueError(f"{where}: `{name}` must be an int or Fraction >= 0, got {v!r}")
        for name in ("divisor_before", "divisor_after", "level_before", "level_after"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) \
                    or (name.startswith("divisor") and not v > 0) or v < 0:
                raise ValueError(f"{where}: `{name}` must be a finite number{' > 0' if 'divisor' in name else ' >= 0'}, "
                                 f"got {v!r}")
        if type(self.events) is not tuple or not all(isinstance(e, Event) for e in self.events):
            raise ValueError(f"{where}: `events` must be a tuple of events, got {self.events!r:.200}")
        if not isinstance(self.index, str):
            raise ValueError(f"{where}: `index` must be an index name, got {self.index!r}")  # noqa: TRY004


@dataclass
class BookState:
    """Everything a book holds, as plain values (arrays are owned copies).

    Shapes: ``n`` stocks, ``K`` indices. ``index_shares`` (K, n) int64 (0 = not a member),
    ``factors`` (K, n) float64 (index shares per listed share of cap-weighted members; > 0
    exactly for members), ``divisors`` and ``previous_levels`` (K,) float64, ``carries`` (K,)
    float64 (won of dividends a total-return index reinvests today; None reads as zeros).
    """

    kind: str
    universe: Universe
    prices: np.ndarray
    reference_prices: np.ndarray
    listed: np.ndarray
    member: np.ndarray
    definitions: list[IndexDefinition]
    index_shares: np.ndarray
    factors: np.ndarray
    divisors: np.ndarray
    previous_levels: np.ndarray
    audit: list[RebaseRecord] = field(default_factory=list)
    dividends: list = field(default_factory=list)
    applied: set[Event] = field(default_factory=set)
    carries: np.ndarray | None = None  # (K,) float64: a total-return index's dividends of the day (won)
    #: point-in-time history of a family (:meth:`IndexFamily.as_of`): ``(date or None, day
    #: record or None)`` per day, plain data (:mod:`kospi_fast.kospi200`); the last entry
    #: (record None) is the live day.
    history: list = field(default_factory=list)
    price_band: object = None  # the band's rate (None: no band), see IndexBook.price_band
    #: a float64 book's (``IndexEngine(..., exact=False)``) running caps, (K, 2) float64: each
    #: index's cap as the unevaluated sum cap + compensation, kept so that a restore or a
    #: checkpoint gives the levels back bit for bit; None for an exact (int64) book.
    running: np.ndarray | None = None

    @property
    def exact(self) -> bool:
        """False for a float64 book (float64 prices, listed and index shares), else True."""
        return not (isinstance(self.prices, np.ndarray) and self.prices.dtype == np.float64)

    def levels(self) -> list[float]:
        """Each index's level as the book computes it: ``(cap + carry) / divisor`` from the
        exact caps, or for a float64 book ``(cap + compensation) / divisor`` from its running
        caps (see :func:`levels_of`)."""
        if self.running is None:
            return levels_of(exact_caps(self.prices, self.index_shares), self.divisors, self.carries)
        out = [(float(c) + float(e)) / float(d) for (c, e), d in zip(self.running.tolist(), self.divisors.tolist())]
        for k, x in enumerate(out):
            if not (math.isfinite(x) and x > 0):
                raise ValueError(f"index {k}: the level (running cap) / divisor is {x!r}, not a finite number > 0")
        return out

    def __repr__(self) -> str:
        k, n = self.index_shares.shape
        return (f"BookState({self.kind}, {k} ind{'ex' if k == 1 else 'ices'}, {n} stocks, "
                f"{len(self.audit)} audit records, {len(self.applied)} applied events)")

    def check(self) -> None:
        """Raise ``ValueError`` when the parts do not fit together (shapes, dtypes, values)."""
        n, K = len(self.universe), len(self.definitions)
        if self.carries is None:
            self.carries = np.zeros(K)
        # a float64 book: float64 prices, reference prices, listed and index shares, and its
        # running caps; an exact book: all four int64 and no running caps
        num = np.int64 if self.exact else np.float64
        checks = [
            ("prices", num, (n,)), ("reference_prices", num, (n,)), ("listed", num, (n,)),
            ("member", np.bool_, (n,)), ("index_shares", num, (K, n)), ("factors", np.float64, (K, n)),
            ("divisors", np.float64, (K,)), ("previous_levels", np.float64, (K,)), ("carries", np.float64, (K,)),
        ]
        if not self.exact:
            checks.append(("running", np.float64, (K, 2)))
        elif self.running is not None:
            raise ValueError("book state `running`: an exact (int64) book has no running float caps, got an array")
        for name, dtype, shape in checks:
            a = getattr(self, name)
            if not isinstance(a, np.ndarray) or a.dtype != dtype or a.shape != shape:
                got = f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
                raise ValueError(f"book state `{name}`: expected {np.dtype(dtype)} {shape}, got {got}")
        if K == 0:
            raise ValueError("book state has no index")
        if not self.exact:
            for name in ("prices", "reference_prices", "listed", "index_shares", "running"):
                a = getattr(self, name)
                if not np.isfinite(a).all():
                    raise ValueError(f"book state `{name}` must be finite")
            if (self.carries != 0).any():
                raise ValueError("book state `carries`: a float64 book holds no total-return index")
        for name in ("prices", "reference_prices"):
            _validation.check_positive(getattr(self, name), f"book state {name}")
        _validation.check_non_negative(self.index_shares.reshape(-1), "book state index_shares")
        _validation.check_non_negative(self.listed, "book state listed")
        if not (np.isfinite(self.factors).all() and (self.factors >= 0).all()):
            raise ValueError("book state `factors` must be finite and >= 0")
        if ((self.index_shares > 0) & ~(self.factors > 0)).any():
            raise ValueError("book state `factors` must be > 0 wherever a stock has index shares")
        for name in ("divisors", "previous_levels"):
            a = getattr(self, name)
            if not (np.isfinite(a).all() and (a > 0).all()):
                raise ValueError(f"book state `{name}` must be finite and > 0, got {a.tolist()[:5]}")
        exact_caps(self.prices, self.index_shares, [d.name for d in self.definitions], "book state `prices`")
        if self.running is not None:
            self.levels()  # each running cap / divisor a finite level > 0
        if not np.isfinite(self.carries).all():
            raise ValueError("book state `carries` must be finite")
        for k, d in enumerate(self.definitions):
            if self.carries[k] != 0 and d.returns == "price":
                raise ValueError(f"book state `carries[{k}]`: price index {d.name!r} carries no dividends")
        names = [d.name for d in self.definitions]
        if not all(isinstance(d, IndexDefinition) for d in self.definitions):
            raise ValueError("book state `definitions` holds something other than IndexDefinitions")
        if len(set(names)) != K:
            raise ValueError(f"book state has duplicate index names: {names}")
        for k, r in enumerate(self.audit):
            if type(r) is not RebaseRecord:
                raise ValueError(f"book state `audit[{k}]` is not a RebaseRecord: {r!r:.200}")
            r.check(n, f"book state `audit[{k}]`")
        for j, d in enumerate(self.dividends):
            if not (isinstance(d, tuple) and len(d) == 2 and isinstance(d[1], (CashDividend, DividendCorrection))):
                raise ValueError(f"book state `dividends[{j}]` must be a (date, CashDividend or DividendCorrection) "
                                 f"pair, got {d!r:.200}")
        if self.price_band is not None:
            _validation.positive_exact(self.price_band, "book state price_band")
        for e in self.applied:
            if not isinstance(e, Event):
                raise ValueError(f"book state `applied` holds something other than events: {e!r:.200}")  # noqa: TRY004
        if type(self.history) is not list or not all(
                type(h) is tuple and len(h) == 2 and (h[1] is None or type(h[1]) is dict) for h in self.history):
            raise ValueError("book state `history` must be a list of (date, compositions) pairs")
