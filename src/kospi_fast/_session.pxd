# cython: language_level=3
"""The validating (KRX rules) kernel, for ``cimport`` (public through ``kospi_fast.kernels``)."""

from libc.stdint cimport int64_t, uint8_t, uint64_t

from kospi_fast._ticks cimport id_t


# The day's rules as data, filled by the caller (``_session._day_rules`` checks and fills one
# from arrays): see ``_session.pyx`` for the rules and the fast path.
ctypedef struct DayRules:
    uint64_t n_stocks
    const int64_t* lower       # per stock: daily lower / upper price limit
    const int64_t* upper
    const uint8_t* halted      # per stock: 1 when halted
    const int64_t* fast        # per stock (lo, span): the fast path takes lo <= p <= lo + span
    const int64_t* thresholds  # n_bands - 1 ascending band edges of the tick table
    const int64_t* ticks       # tick size of each band: ticks[b] from thresholds[b - 1] on
    Py_ssize_t n_bands
    const uint8_t* grid        # bit p set: price p is on the day's tick grid
    uint64_t grid_bits         # 8 * len(grid): prices from here on take the slow path
    int64_t win_open, call_start, call_end, win_close
    int64_t pmax               # the caller's price ceiling (INT64_MAX: none; the cap's
                               # overflow is guarded exactly per trade)


# Apply a batch under the rules: every trade gets a status code (``_session.STATUS_NAMES``:
# 0 applied, 1 ignored off-hours, 2 bad id, 3 bad price or a cap that would exceed int64, 4 off
# the tick grid, 5 outside the limits, 6 halted, 7 out of order, 8 in the closing call), counts
# per code are added to ``counts``; applied trades move ``prices`` and the exact ``*cap``;
# ``levels`` (may be NULL) gets the level after each trade; prints (``n_prints`` ascending
# ``print_times``, may be 0) are sampled into ``print_levels``. Returns -1, or with
# ``stop_at_bad`` the index of the first trade neither applied nor ignored.
cdef Py_ssize_t apply_validated(
        int64_t* prices, const int64_t* shares, const DayRules* rules,
        const int64_t* times, const id_t* ids, const int64_t* new_prices, Py_ssize_t n_ticks,
        int64_t* cap, int64_t* last_time, double divisor,
        double* levels, uint8_t* status, int64_t* counts, bint stop_at_bad,
        const int64_t* print_times, Py_ssize_t n_prints, double* print_levels) noexcept nogil
