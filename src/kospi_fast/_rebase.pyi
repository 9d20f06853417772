import numpy as np
import numpy.typing as npt

def apply_changes_inplace(
    prices: npt.NDArray[np.int64],  # int64_t[::1], mutated
    shares: npt.NDArray[np.int64],  # int64_t[::1], mutated
    ids: npt.NDArray[np.intp],  # const Py_ssize_t[::1], unique
    new_prices: npt.NDArray[np.int64],  # const int64_t[::1]
    new_shares: npt.NDArray[np.int64],  # const int64_t[::1]
) -> int: ...  # int64_t delta
def rebase_divisor(divisor: float, cap_before: float, cap_after: float) -> float: ...
