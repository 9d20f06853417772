import numpy as np
import numpy.typing as npt

def run_family(
    prices: npt.NDArray[np.int64],  # int64_t[::1], mutated
    width: int,  # Py_ssize_t, memberships per stock (padded)
    col: npt.NDArray[np.int32],  # const int32_t[::1]
    sh: npt.NDArray[np.int64],  # const int64_t[::1]
    caps: npt.NDArray[np.int64],  # int64_t[::1], mutated
    divisors: npt.NDArray[np.float64],  # const double[::1]
    levels: npt.NDArray[np.float64],  # double[::1], mutated
    ids: npt.NDArray[np.integer],  # const int32_t/int64_t[::1]
    new_prices: npt.NDArray[np.int64],  # const int64_t[::1]
    pmax: int,  # int64_t
    out: npt.NDArray[np.float64] | None,  # double[:, ::1] or NULL
    sample_at: npt.NDArray[np.int64] | None,  # const int64_t[::1] or NULL
    src: npt.NDArray[np.int32] | None = None,  # const int32_t[::1], cap slot of each level
    twins: npt.NDArray[np.int32] | None = None,  # const int32_t[::1], slots read another way
    carry: npt.NDArray[np.float64] | None = None,  # const double[::1], won added to each cap read
) -> int: ...
def run_rows(
    prices: npt.NDArray[np.int64],  # int64_t[::1], mutated
    rec: npt.NDArray[np.int64],  # const int64_t[::1], 4 per stock + 4: (lo, hi - lo, broad shares, row start)
    col: npt.NDArray[np.int32],  # const int32_t[::1], cap slot of each membership (not the broad one)
    sh: npt.NDArray[np.int64],  # const int64_t[::1], index shares of each membership
    broad: int,  # Py_ssize_t, the slot kept in a register, -1 for none
    caps: npt.NDArray[np.int64],  # int64_t[::1], mutated
    divisors: npt.NDArray[np.float64],  # const double[::1]
    levels: npt.NDArray[np.float64],  # double[::1], mutated
    ids: npt.NDArray[np.integer],  # const int32_t/int64_t[::1]
    new_prices: npt.NDArray[np.int64],  # const int64_t[::1]
    out: npt.NDArray[np.float64] | None,  # double[:, ::1] or NULL
    sample_at: npt.NDArray[np.int64] | None,  # const int64_t[::1] or NULL
    src: npt.NDArray[np.int32] | None = None,
    twins: npt.NDArray[np.int32] | None = None,
    carry: npt.NDArray[np.float64] | None = None,
    path: int = 0,  # 0 auto, 1 dense, 2 lazy
) -> int: ...
def caps_from_ell(
    prices: npt.NDArray[np.int64],
    width: int,
    col: npt.NDArray[np.int32],
    sh: npt.NDArray[np.int64],
    n_slots: int,
) -> npt.NDArray[np.int64]: ...
def run_family_f64(
    prices: npt.NDArray[np.float64],  # double[::1], mutated
    width: int,  # Py_ssize_t, memberships per stock (padded)
    col: npt.NDArray[np.int32],  # const int32_t[::1]
    sh: npt.NDArray[np.float64],  # const double[::1]
    caps: npt.NDArray[np.float64],  # double[::1], mutated: running caps
    comps: npt.NDArray[np.float64],  # double[::1], mutated: their compensations
    divisors: npt.NDArray[np.float64],  # const double[::1]
    src: npt.NDArray[np.int32],  # const int32_t[::1], cap slot of each level
    ids: npt.NDArray[np.integer],  # const int32_t/int64_t[::1]
    new_prices: npt.NDArray[np.float64],  # const double[::1]
    out: npt.NDArray[np.float64] | None,  # double[:, ::1] or NULL
    sample_at: npt.NDArray[np.int64] | None,  # const int64_t[::1] or NULL
) -> int: ...
