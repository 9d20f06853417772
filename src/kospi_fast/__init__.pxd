# cython: language_level=3
# Public Cython API of kospi_fast: ``cimport kospi_fast`` (or ``from kospi_fast cimport ...``)
# gives the exact kernels without going through Python. Build with
# ``include_path=[kospi_fast.get_include()]``; the functions are bound at import time from the
# installed extension modules' ``__pyx_capi__``. Contracts (what the caller must validate) are
# documented beside each declaration in the module's own .pxd.

from kospi_fast._aggregate cimport checked_cap_i64, sum_cap_f64, sum_cap_i64
from kospi_fast._rebase cimport apply_changes_i64
from kospi_fast._ticks cimport apply_ticks_i64, id_t
