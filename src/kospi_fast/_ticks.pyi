import numpy as np
import numpy.typing as npt

def replay(
    shares: npt.ArrayLike,  # const int64_t[::1]
    prices: npt.ArrayLike,  # const int64_t[::1]
    divisor: float,  # double
    ids: npt.ArrayLike,  # const int32_t[::1] or const int64_t[::1]
    new_prices: npt.ArrayLike,  # const int64_t[::1]
) -> npt.NDArray[np.float64]: ...
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
) -> None: ...
