# cython: language_level=3
"""The engine's hot state, for ``cimport`` by the kernels that drive it (the rules kernel,
``_session.feed_engine``), so that they need not go through Python and ``_engine`` need not
know them."""

cimport numpy as cnp
from libc.stdint cimport int64_t


cdef class EngineCore:
    cdef cnp.ndarray _prices       # current prices, int64 C-contiguous; _pp points into it
    cdef cnp.ndarray _scratch      # a buffer like _prices: a batch runs here, then is swapped in
    cdef cnp.ndarray _shares       # index shares, int64 C-contiguous, read-only; _sp points into it
    cdef int64_t* _pp
    cdef const int64_t* _sp
    cdef Py_ssize_t _n             # number of stocks
    cdef int64_t _cap              # exact Σ prices × shares (each trade guarded: never wraps)
    cdef double _divisor
    cdef dict _code_index
    cdef cnp.ndarray _band_lo      # per stock: lowest / highest price a trade may take (the price
    cdef cnp.ndarray _band_hi      # band, p > 0 folded in); int64 C-contiguous
    cdef const int64_t* _blo
    cdef const int64_t* _bhi
    cdef cnp.ndarray _band_rec     # per stock (lo, hi - lo, shares), flat: the banded batch
    cdef const int64_t* _brec      # kernel's records (``_ticks.apply_ticks_band``)
    cdef bint _banded              # a band narrower than (1, INT64_MAX) is set
    # The float64 book (``IndexEngine(..., exact=False)``): prices and index shares as doubles,
    # the running cap as the unevaluated sum _fcap + _fcomp (``_ticks.step_f64``). In a float
    # book the int64 fields above hold zeros of the same length (no int path reads them:
    # every entry point branches on _float first).
    cdef bint _float
    cdef cnp.ndarray _fprices      # float64 C-contiguous; _fpp points into it
    cdef cnp.ndarray _fscratch     # a buffer like _fprices (the batch's scratch copy)
    cdef cnp.ndarray _fshares      # float64 C-contiguous, read-only; _fsp points into it
    cdef double* _fpp
    cdef const double* _fsp
    cdef double _fcap
    cdef double _fcomp

    cdef Py_ssize_t _resolve(self, key) except -1  # a code (str) -> row, else the error
    cdef Py_ssize_t _resolve_id(self, key) except -1  # an int id -> row, else the error
    cdef _apply_one(self, Py_ssize_t i, price)  # one trade of row i: checks, then the cap step
    cdef tuple _run_banded(self, ids, prices, levels)  # a batch on the scratch copy, band in the loop
    cdef _apply_one_f64(self, Py_ssize_t i, price)  # one trade of row i of a float book
    cdef _update_many_f64(self, ids, prices, out)  # a float book's batch, all or nothing

    # A batch, all or nothing: ``_begin_batch`` copies the prices into the scratch buffer and
    # returns it (a kernel then runs there); ``_commit_batch`` swaps it in with the batch's
    # cap. A batch that fails is simply not committed. Both with the GIL held (the swap is
    # what readers on other threads see, whole).
    cdef int64_t* _begin_batch(self) except? NULL
    cdef void _commit_batch(self, int64_t cap) noexcept
