from collections.abc import Sequence
from typing import Any, Literal, NamedTuple, overload

import numpy as np
import numpy.typing as npt

class ReplayState(NamedTuple):
    levels: npt.NDArray[np.float64]
    prices: npt.NDArray[np.int64] | npt.NDArray[np.float64]  # float64 on the exact=False path
    shares: npt.NDArray[np.int64] | npt.NDArray[np.float64]
    cap: int | float  # exact int; a float on the exact=False path
    divisor: float

@overload
def replay(
    shares: npt.ArrayLike,  # const int64_t[::1]
    prices: npt.ArrayLike,  # const int64_t[::1]
    divisor: float,  # double
    ids: npt.ArrayLike,  # const int32_t[::1] or const int64_t[::1]
    new_prices: npt.ArrayLike,  # const int64_t[::1]
    *,
    rebalances: Sequence[tuple[int, Any, Any]] | None = ...,
    return_state: Literal[False] = ...,
    exact: bool = ...,
    out: npt.NDArray[np.float64] | None = ...,
    threads: int = ...,
) -> npt.NDArray[np.float64]: ...
@overload
def replay(
    shares: npt.ArrayLike,
    prices: npt.ArrayLike,
    divisor: float,
    ids: npt.ArrayLike,
    new_prices: npt.ArrayLike,
    *,
    rebalances: Sequence[tuple[int, Any, Any]] | None = ...,
    return_state: Literal[True],
    exact: bool = ...,
    out: npt.NDArray[np.float64] | None = ...,
    threads: int = ...,
) -> ReplayState: ...
SPLIT_AT: float
SPLIT_MIN_TICKS: int
SPLIT_MIN_TICKS_PER_STOCK: int
SPLIT_PROBE: float

def prepare_ticks(
    ids: npt.ArrayLike, new_prices: npt.ArrayLike, n_stocks: int, prices_name: str = ...
) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.int64]]: ...
def apply_ticks_inplace(
    prices: npt.NDArray[np.int64],  # int64_t[::1], mutated
    shares: npt.NDArray[np.int64],  # const int64_t[::1]
    ids: npt.NDArray[np.integer],  # const int32_t/int64_t[::1]
    new_prices: npt.NDArray[np.int64],  # const int64_t[::1]
    pmax: int,  # int64_t
    cap: int,  # int64_t
    divisor: float,  # double
    levels: npt.NDArray[np.float64] | None,  # double[::1] or NULL
) -> tuple[int, int]: ...
def raise_bad_tick(
    k: int,
    ids: npt.NDArray[np.integer],
    new_prices: npt.NDArray[np.int64],
    n_stocks: int,
    pmax: int,
    ids_name: str = ...,
    prices_name: str = ...,
    *,
    cap: int | None = ...,
    prices: npt.NDArray[np.int64] | None = ...,
    shares: npt.NDArray[np.int64] | None = ...,
    index: str | None = ...,
) -> None: ...
def overflow_error(
    name: str, p: int, cap: int | None = ..., old: int | None = ..., shares: int | None = ...,
    index: str | None = ..., position: int | None = ...,
) -> ValueError: ...
