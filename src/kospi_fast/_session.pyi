import numpy as np
import numpy.typing as npt

def run_validated(
    prices: npt.NDArray[np.int64],  # int64_t[::1], mutated
    shares: npt.NDArray[np.int64],  # const int64_t[::1]
    lower: npt.NDArray[np.int64],  # const int64_t[::1]
    upper: npt.NDArray[np.int64],  # const int64_t[::1]
    halted: npt.NDArray[np.uint8],  # const uint8_t[::1]
    thresholds: npt.NDArray[np.int64],  # const int64_t[6]
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
    counts: npt.NDArray[np.int64],  # int64_t[9], incremented
    stop_at_bad: bool,
) -> tuple[int, int, int]: ...
