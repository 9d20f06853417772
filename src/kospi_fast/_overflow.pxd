# cython: language_level=3
"""The exact overflow guard of the running caps, for ``cimport`` (C code only: no module)."""

from libc.stdint cimport int64_t, uint64_t


# The exact overflow guard: ``cap + d * s`` in int64, or 1 when the true value does not fit
# (the product or the sum overflows). GCC and Clang do it with the overflow flags of the
# multiply and the add themselves (``__builtin_*_overflow``: two predicted branches, nothing
# on the cap's dependency chain); other compilers take a portable checked path. A running cap
# is a sum of price x shares >= 0, and the true cap after a trade is >= 0, so "does not fit"
# means "above INT64_MAX": the guard refuses exactly the trades whose true cap would exceed it.
cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__GNUC__) || defined(__clang__)
    static inline int kf_cap_add(int64_t cap, int64_t d, int64_t s, int64_t* out) {
        int64_t t;
        int bad = __builtin_mul_overflow(d, s, &t);
        bad |= __builtin_add_overflow(cap, t, out);
        return bad;
    }
    #else
    static inline int kf_cap_add(int64_t cap, int64_t d, int64_t s, int64_t* out) {
        int64_t t;
        if (s != 0 && d != 0) {
            if (s > 0 ? (d > INT64_MAX / s || d < INT64_MIN / s)
                      : (s == -1 ? d == INT64_MIN : (d > INT64_MIN / s || d < INT64_MAX / s)))
                return 1;
        }
        t = d * s;
        if ((t > 0 && cap > INT64_MAX - t) || (t < 0 && cap < INT64_MIN - t))
            return 1;
        *out = cap + t;
        return 0;
    }
    #endif
    """
    bint kf_cap_add(int64_t cap, int64_t d, int64_t s, int64_t* out) noexcept nogil


# The slow half of a batch kernel's step, kept out of its loop (not inlined, so the loop keeps
# the shape and registers of the plain step): the trade's own check (id < n, 0 < p <= pmax)
# and the exact checked cap step. Returns the new cap (>= 0) with ``prices[i] = p``, or -1 with
# nothing touched when the trade is refused.
cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define KF_NOINLINE __attribute__((noinline))
    #elif defined(_MSC_VER)
    #define KF_NOINLINE __declspec(noinline)
    #else
    #define KF_NOINLINE
    #endif
    static KF_NOINLINE int64_t kf_slow_step(int64_t cap, int64_t* prices, const int64_t* shares,
                                            uint64_t i, uint64_t n, int64_t p, int64_t pmax) {
        int64_t c;
        if (!(i < n && (uint64_t)p - 1 < (uint64_t)pmax)) return -1;
        if (kf_cap_add(cap, p - prices[i], shares[i], &c)) return -1;
        prices[i] = p;
        return c;
    }
    """
    int64_t kf_slow_step(int64_t cap, int64_t* prices, const int64_t* shares, uint64_t i,
                         uint64_t n, int64_t p, int64_t pmax) noexcept nogil
