import numpy.typing as npt

def aggregate_cap(
    prices: npt.ArrayLike,  # const int64_t[::1] (exact) or const double[::1] (compensated)
    shares: npt.ArrayLike,  # const int64_t[::1] or const double[::1]
) -> int | float: ...
