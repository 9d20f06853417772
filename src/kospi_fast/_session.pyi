from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from kospi_fast._engine import EngineCore

# status codes of a trade (one home: the rules kernel); STATUS_NAMES[code] says it in words
APPLIED: int
IGNORED: int
BAD_ID: int
BAD_PRICE: int
OFF_GRID: int
OUTSIDE_LIMITS: int
HALTED: int
OUT_OF_ORDER: int
IN_CLOSING_CALL: int
STATUS_NAMES: tuple[str, ...]
FEED_SPLIT_MIN_TICKS: int

def run_validated(
    prices: npt.NDArray[np.int64],  # int64_t[::1], mutated
    shares: npt.NDArray[np.int64],  # const int64_t[::1]
    lower: npt.NDArray[np.int64],  # const int64_t[::1]
    upper: npt.NDArray[np.int64],  # const int64_t[::1]
    halted: npt.NDArray[np.uint8],  # const uint8_t[::1]
    thresholds: npt.NDArray[np.int64],  # const int64_t[::1], ascending band edges of the tick table
    ticks: npt.NDArray[np.int64],  # const int64_t[::1], tick size per band (len(thresholds) + 1), > 0
    grid: npt.NDArray[np.uint8],  # const uint8_t[::1] bitmap of on-grid prices
    fast: npt.NDArray[np.int64],  # const int64_t[n_stocks, 2]: (lo, span) fast-path bounds
    win_open: int,
    call_start: int,
    call_end: int,
    win_close: int,
    times: npt.NDArray[np.int64],  # const int64_t[::1]
    ids: npt.NDArray[np.integer],  # const int32_t/int64_t[::1]
    new_prices: npt.NDArray[np.int64],  # const int64_t[::1]
    pmax: int,
    cap: int,
    last_time: int,
    divisor: float,
    levels: npt.NDArray[np.float64] | None,  # double[::1] or NULL
    status: npt.NDArray[np.uint8],  # uint8_t[::1], written
    counts: npt.NDArray[np.int64],  # int64_t[len(STATUS_NAMES)], incremented
    stop_at_bad: bool,
) -> tuple[int, int, int]: ...  # (bad, cap, last_time)
def feed_engine(
    core: EngineCore,
    times: npt.NDArray[np.int64],  # const int64_t[::1]
    ids: npt.NDArray[np.integer],  # const int32_t/int64_t[::1]
    prices: npt.NDArray[np.int64],  # const int64_t[::1]
    lower: npt.NDArray[np.int64],
    upper: npt.NDArray[np.int64],
    halted: npt.NDArray[np.uint8],
    thresholds: npt.NDArray[np.int64],
    ticks: npt.NDArray[np.int64],
    grid: npt.NDArray[np.uint8],
    fast: npt.NDArray[np.int64],
    win_open: int,
    call_start: int,
    call_end: int,
    win_close: int,
    last_time: int,
    stop_at_bad: bool,
    print_times: npt.NDArray[np.int64] | None = None,  # const int64_t[::1]
    print_levels: npt.NDArray[np.float64] | None = None,  # double[::1], written
    levels: npt.NDArray[np.float64] | None = None,  # double[::1], written and returned
    threads: int = 1,
) -> tuple[int, npt.NDArray[np.float64], npt.NDArray[np.uint8], npt.NDArray[np.int64], int]: ...
def classify(
    times: npt.NDArray[np.int64],  # const int64_t[::1]
    ids: npt.NDArray[np.integer],  # const int32_t/int64_t[::1]
    prices: npt.NDArray[np.int64],  # const int64_t[::1]
    lower: npt.NDArray[np.int64],
    upper: npt.NDArray[np.int64],
    halted: npt.NDArray[np.uint8],
    thresholds: npt.NDArray[np.int64],
    ticks: npt.NDArray[np.int64],
    grid: npt.NDArray[np.uint8],
    fast: npt.NDArray[np.int64],
    win_open: int,
    call_start: int,
    call_end: int,
    win_close: int,
    pmax: int,
    n_stocks: int,
    last_time: int,
    status: npt.NDArray[np.uint8],  # uint8_t[::1], written
    counts: npt.NDArray[np.int64],  # int64_t[len(STATUS_NAMES)], incremented
    stop_at_bad: bool,
) -> tuple[int, int]: ...  # (bad, last_time)

class SingleTrade:
    """The validated single-trade path of a TradingDay (see _session.pyx)."""

    version: object
    stale: bool
    raise_bad: bool
    last_time: int
    next_print: int
    def __init__(
        self,
        book: object,
        refresh: Callable[[], None],
        on_due: Callable[[int], int],
        fallback: Callable[[int, object, object], int],
        reject: Callable[[int, object, object, int], None],
        raise_bad: bool,
    ) -> None: ...
    def set_rules(
        self,
        version: object,
        lower: npt.NDArray[np.int64],
        upper: npt.NDArray[np.int64],
        halted: npt.NDArray[np.uint8],
        thresholds: npt.NDArray[np.int64],
        ticks: npt.NDArray[np.int64],
        grid: npt.NDArray[np.uint8],
        fast: npt.NDArray[np.int64],
        win_open: int,
        call_start: int,
        call_end: int,
        win_close: int,
        pmax: int,
    ) -> None: ...
    @property
    def counts(self) -> npt.NDArray[np.int64]: ...
    def add_counts(self, counts: npt.NDArray[np.int64]) -> None: ...
    def on_trade(self, time_ns: int, code_or_id: str | int, price: int) -> int: ...
