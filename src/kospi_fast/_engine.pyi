import numpy as np
import numpy.typing as npt

class EngineCore:
    def _core_set_state(
        self,
        prices: npt.NDArray[np.int64],  # int64_t[::1]
        shares: npt.NDArray[np.int64],  # int64_t[::1]
        divisor: float,  # double
        code_index: dict[str, int],
        running: tuple[float, float] | None = None,  # a float64 book's (cap, compensation)
    ) -> None: ...
    def _core_running(self) -> tuple[float, float] | None: ...
    def _core_set_band(
        self,
        lower: npt.NDArray[np.int64] | None,
        upper: npt.NDArray[np.int64] | None,
    ) -> None: ...
    def _core_band(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
    def update(self, code: str, price: int | float) -> float: ...  # a float64 book: any real > 0
    def update_id(self, stock_id: int, price: int | float) -> float: ...
    def update_many(
        self,
        ids: npt.ArrayLike,  # const int32_t/int64_t[::1]
        prices: npt.ArrayLike,  # const int64_t[::1] (const double[::1] in a float64 book)
        out: npt.NDArray[np.float64] | None = ...,
    ) -> npt.NDArray[np.float64]: ...
    @property
    def level(self) -> float: ...
    @property
    def cap(self) -> int: ...  # a float64 book's running cap is a float (typed int for the exact book)
    @property
    def exact(self) -> bool: ...
    @property
    def divisor(self) -> float: ...
    @property
    def prices(self) -> npt.NDArray[np.int64]: ...  # float64 in a float64 book
    @property
    def index_shares(self) -> npt.NDArray[np.int64]: ...  # float64 in a float64 book
    def __len__(self) -> int: ...

def first_outside_band(
    ids: npt.ArrayLike,  # const int32_t/int64_t[::1]
    prices: npt.NDArray[np.int64],  # const int64_t[::1]
    lower: npt.NDArray[np.int64],  # const int64_t[::1]
    upper: npt.NDArray[np.int64],  # const int64_t[::1]
    pmax: int,  # int64_t
) -> int: ...
