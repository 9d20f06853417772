# cython: language_level=3
"""Divisor (base cap) rebasing kernels, for ``cimport`` by other Cython code."""

from libc.stdint cimport int64_t

# Set prices[ids[j]] = new_prices[j] and shares[ids[j]] = new_shares[j] for j < k (ids unique,
# validated) and return cap_after − cap_before = Σ_j (new_p × new_s − old_p × old_s).
cdef int64_t apply_changes_i64(int64_t* prices, int64_t* shares, const Py_ssize_t* ids,
                               const int64_t* new_prices, const int64_t* new_shares,
                               Py_ssize_t k) noexcept nogil
