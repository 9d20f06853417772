# cython: language_level=3
# ``cimport kospi_fast``: the package's own kernels without going through Python, kept for the
# consumers written before the versioned API existed. The public, versioned Cython API is
# ``cimport kospi_fast.kernels`` (kernels.pxd, ``KERNELS_API_VERSION``): new code should use it.
# Build with ``include_path=[kospi_fast.get_include()]``; the functions are bound at import time
# from the installed extension modules' ``__pyx_capi__``. Contracts (what the caller must
# validate) are documented beside each declaration in the module's own .pxd.

from kospi_fast._aggregate cimport checked_cap_i64, sum_cap_f64, sum_cap_i64
from kospi_fast._rebase cimport apply_changes_i64
from kospi_fast._ticks cimport apply_ticks_i64, id_t
