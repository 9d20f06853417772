/* One-pass cap summaries for x86-64 vector units, chosen at run time.
 *
 * The wheel is built for the x86-64 baseline (SSE2), so these functions carry their own
 * `target` attribute and are only called after `kf_simd_detect` has found the instructions on
 * the running CPU (and the OS saving their registers: GCC's and Clang's __builtin_cpu_supports
 * check XCR0). Elsewhere (MSVC, arm64, other compilers) only the portable path exists and
 * `kf_simd_detect` returns KF_SIMD_PORTABLE.
 *
 * Each pass computes, over n (price, shares) pairs:
 *   por   = OR of the prices            (its sign bit: some price < 0)
 *   pm1or = OR of (price - 1)            (its sign bit: some price == 0, or < 0)
 *   sor   = OR of the share counts       (its sign bit: some count < 0)
 *   ssum  = Σ shares mod 2**64
 *   total = Σ price × shares mod 2**64
 * All of it is integer arithmetic modulo 2**64, so any order of the terms gives the same bits:
 * when the caller's bound proves that no product or partial sum leaves int64, `total` is the
 * exact aggregate, bit for bit the scalar loop's.
 */
#ifndef KOSPI_FAST_SIMD_H
#define KOSPI_FAST_SIMD_H

#include <stddef.h>
#include <stdint.h>

#define KF_SIMD_PORTABLE 0
#define KF_SIMD_AVX2 1
#define KF_SIMD_AVX512 2

/* The family kernel's test of one trade (the portable runs in _family.pyx and the AVX-512 run
 * below): stock i of the record r = (lo, hi - lo, ...) in range, its price p in [lo, hi], and p
 * in [1, lim] (lim: the headroom bound; 0 sends every trade to the exact checked step). */
#define KF_FAMILY_TAKE(r, p, i, n, lim) \
    ((i) < (n) && (uint64_t)(p) - (uint64_t)(r)[0] <= (uint64_t)(r)[1] \
     && (uint64_t)(p) - 1u < (uint64_t)(lim))

typedef struct {
    int64_t por;
    int64_t pm1or;
    int64_t sor;
    uint64_t ssum;
    uint64_t total;
} kf_cap_summary;

#if defined(__GNUC__) && defined(__x86_64__) && !defined(KOSPI_FAST_NO_SIMD)
#define KF_HAVE_X86_SIMD 1
#include <immintrin.h>

static int kf_simd_detect(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return KF_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return KF_SIMD_AVX2;
    return KF_SIMD_PORTABLE;
}

/* AVX2 has no 64-bit multiply: the low 64 bits of a × b are
 * lo(a)·lo(b) + ((hi(a)·lo(b) + lo(a)·hi(b)) << 32), three 32×32→64 multiplies. */
__attribute__((target("avx2"))) static inline __m256i kf_mul64_avx2(__m256i a, __m256i b) {
    __m256i lo = _mm256_mul_epu32(a, b);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b),
                                     _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

__attribute__((target("avx2"))) static inline uint64_t kf_hadd_avx2(__m256i v) {
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i*)lanes, v);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

__attribute__((target("avx2"))) static inline uint64_t kf_hor_avx2(__m256i v) {
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i*)lanes, v);
    return lanes[0] | lanes[1] | lanes[2] | lanes[3];
}

/* One summary pass on 256-bit registers, 8 pairs a step in two accumulators, the rest scalar.
 * MUL is the low 64 bits of a 64 × 64-bit product: kf_mul64_avx2 (three 32-bit multiplies) on
 * AVX2, AVX-512DQ's vpmullq (on ymm, AVX-512VL) on AVX-512. Timed from Python on Zen 4, the
 * 512-bit form of the latter paid a fixed ~100-200 ns per call beside this ymm form (380 vs 180
 * ns for 850 pairs) though it was as fast in a tight C loop. */
#define KF_CAP_PASS(NAME, TARGET, MUL) \
__attribute__((target(TARGET))) static void NAME(const int64_t* p, const int64_t* s, ptrdiff_t n, \
                                                 kf_cap_summary* out) { \
    const __m256i one = _mm256_set1_epi64x(1); \
    __m256i por = _mm256_setzero_si256(), pm1 = _mm256_setzero_si256(); \
    __m256i sor = _mm256_setzero_si256(), ssum = _mm256_setzero_si256(); \
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256(); \
    ptrdiff_t i = 0; \
    uint64_t r_por, r_pm1, r_sor, r_ssum, r_total; \
    for (; i + 8 <= n; i += 8) { \
        __m256i a = _mm256_loadu_si256((const __m256i*)(p + i)); \
        __m256i c = _mm256_loadu_si256((const __m256i*)(p + i + 4)); \
        __m256i b = _mm256_loadu_si256((const __m256i*)(s + i)); \
        __m256i d = _mm256_loadu_si256((const __m256i*)(s + i + 4)); \
        por = _mm256_or_si256(por, _mm256_or_si256(a, c)); \
        pm1 = _mm256_or_si256(pm1, _mm256_or_si256(_mm256_sub_epi64(a, one), _mm256_sub_epi64(c, one))); \
        sor = _mm256_or_si256(sor, _mm256_or_si256(b, d)); \
        ssum = _mm256_add_epi64(ssum, _mm256_add_epi64(b, d)); \
        acc0 = _mm256_add_epi64(acc0, MUL(a, b)); \
        acc1 = _mm256_add_epi64(acc1, MUL(c, d)); \
    } \
    r_por = kf_hor_avx2(por); r_pm1 = kf_hor_avx2(pm1); r_sor = kf_hor_avx2(sor); \
    r_ssum = kf_hadd_avx2(ssum); r_total = kf_hadd_avx2(_mm256_add_epi64(acc0, acc1)); \
    for (; i < n; i++) { \
        uint64_t a = (uint64_t)p[i], b = (uint64_t)s[i]; \
        r_por |= a; \
        r_pm1 |= a - 1u; \
        r_sor |= b; \
        r_ssum += b; \
        r_total += a * b; \
    } \
    out->por = (int64_t)r_por; \
    out->pm1or = (int64_t)r_pm1; \
    out->sor = (int64_t)r_sor; \
    out->ssum = r_ssum; \
    out->total = r_total; \
}
KF_CAP_PASS(kf_cap_pass_avx2, "avx2", kf_mul64_avx2)
KF_CAP_PASS(kf_cap_pass_avx512, "avx2,avx512f,avx512dq,avx512vl", _mm256_mullo_epi64)

/* The family's dense run with every cap slot in AVX-512 registers (IndexFamily on a sampled
 * grid; _family.pyx's KF_DENSE_RUN is the portable twin and defines the contract). Each stock
 * has a dense row of 8 × NV share counts, one per cap slot (0 where it is no member); a trade
 * adds (new − old price) × that row into NV accumulators with vpmullq, so no cap goes through
 * memory between trades (the portable loop's limit: a store-to-load chain per membership).
 * The run's sums are added into bank 0 of each slot at the end: the same integer sums modulo
 * 2**64 as the portable run, bit for bit. A trade the portable run would stop at (id out of
 * range, outside its band, above the headroom bound ``lim``) stops this one at the same t. */
#define KF_DENSE512(NAME, IDT, NV) \
__attribute__((target("avx512f,avx512dq"))) static ptrdiff_t NAME( \
        int64_t* prices, const int64_t* rec, uint64_t n, const int64_t* dense, uint64_t* w, \
        ptrdiff_t n_slots, const IDT* ids, const int64_t* new_prices, ptrdiff_t t, ptrdiff_t stop, \
        int64_t lim, int64_t* cbp) { \
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0; \
    uint64_t cb = (uint64_t)*cbp; \
    uint64_t lanes[32]; \
    ptrdiff_t k; \
    for (; t < stop; t++) { \
        uint64_t i = (uint64_t)ids[t]; \
        int64_t p = new_prices[t]; \
        const int64_t* r = rec + 4 * i; \
        const int64_t* row; \
        __m512i dv; \
        uint64_t d; \
        if (!KF_FAMILY_TAKE(r, p, i, n, lim)) break; \
        d = (uint64_t)p - (uint64_t)prices[i]; \
        prices[i] = p; \
        cb += d * (uint64_t)r[2]; \
        dv = _mm512_set1_epi64((long long)d); \
        row = dense + i * (8 * NV); \
        a0 = _mm512_add_epi64(a0, _mm512_mullo_epi64(dv, _mm512_loadu_si512((const void*)row))); \
        if (NV > 1) a1 = _mm512_add_epi64(a1, _mm512_mullo_epi64(dv, _mm512_loadu_si512((const void*)(row + 8)))); \
        if (NV > 2) a2 = _mm512_add_epi64(a2, _mm512_mullo_epi64(dv, _mm512_loadu_si512((const void*)(row + 16)))); \
        if (NV > 3) a3 = _mm512_add_epi64(a3, _mm512_mullo_epi64(dv, _mm512_loadu_si512((const void*)(row + 24)))); \
    } \
    _mm512_storeu_si512((void*)lanes, a0); \
    if (NV > 1) _mm512_storeu_si512((void*)(lanes + 8), a1); \
    if (NV > 2) _mm512_storeu_si512((void*)(lanes + 16), a2); \
    if (NV > 3) _mm512_storeu_si512((void*)(lanes + 24), a3); \
    for (k = 0; k < n_slots && k < 8 * NV; k++) w[k << 2] += lanes[k]; \
    *cbp = (int64_t)cb; \
    return t; \
}
KF_DENSE512(kf_dense512_1_i32, int32_t, 1)
KF_DENSE512(kf_dense512_2_i32, int32_t, 2)
KF_DENSE512(kf_dense512_3_i32, int32_t, 3)
KF_DENSE512(kf_dense512_4_i32, int32_t, 4)
KF_DENSE512(kf_dense512_1_i64, int64_t, 1)
KF_DENSE512(kf_dense512_2_i64, int64_t, 2)
KF_DENSE512(kf_dense512_3_i64, int64_t, 3)
KF_DENSE512(kf_dense512_4_i64, int64_t, 4)

/* The dense run for rows of 8 × nv slots (nv in 1..4); -1 in a build without AVX-512. */
#define KF_DENSE512_PICK(NAME, IDT, SUFFIX) \
static inline ptrdiff_t NAME(ptrdiff_t nv, int64_t* prices, const int64_t* rec, uint64_t n, \
        const int64_t* dense, uint64_t* w, ptrdiff_t n_slots, const IDT* ids, \
        const int64_t* new_prices, ptrdiff_t t, ptrdiff_t stop, int64_t lim, int64_t* cbp) { \
    switch (nv) { \
    case 1: return kf_dense512_1_##SUFFIX(prices, rec, n, dense, w, n_slots, ids, new_prices, t, stop, lim, cbp); \
    case 2: return kf_dense512_2_##SUFFIX(prices, rec, n, dense, w, n_slots, ids, new_prices, t, stop, lim, cbp); \
    case 3: return kf_dense512_3_##SUFFIX(prices, rec, n, dense, w, n_slots, ids, new_prices, t, stop, lim, cbp); \
    default: return kf_dense512_4_##SUFFIX(prices, rec, n, dense, w, n_slots, ids, new_prices, t, stop, lim, cbp); \
    } \
}
KF_DENSE512_PICK(kf_dense512_i32, int32_t, i32)
KF_DENSE512_PICK(kf_dense512_i64, int64_t, i64)

#else
#define KF_HAVE_X86_SIMD 0

static int kf_simd_detect(void) { return KF_SIMD_PORTABLE; }

/* Never called: kf_simd_detect returns KF_SIMD_PORTABLE and the setter refuses the others. */
static void kf_cap_pass_avx2(const int64_t* p, const int64_t* s, ptrdiff_t n, kf_cap_summary* out) {
    (void)p; (void)s; (void)n;
    out->por = out->pm1or = out->sor = -1;
    out->ssum = out->total = 0;
}
#define kf_cap_pass_avx512 kf_cap_pass_avx2
#define KF_DENSE512_NONE(NAME, IDT) \
static inline ptrdiff_t NAME(ptrdiff_t nv, int64_t* prices, const int64_t* rec, uint64_t n, \
        const int64_t* dense, uint64_t* w, ptrdiff_t n_slots, const IDT* ids, \
        const int64_t* new_prices, ptrdiff_t t, ptrdiff_t stop, int64_t lim, int64_t* cbp) { \
    (void)nv; (void)prices; (void)rec; (void)n; (void)dense; (void)w; (void)n_slots; (void)ids; \
    (void)new_prices; (void)t; (void)stop; (void)lim; (void)cbp; \
    return -1; \
}
KF_DENSE512_NONE(kf_dense512_i32, int32_t)
KF_DENSE512_NONE(kf_dense512_i64, int64_t)
#endif

#endif /* KOSPI_FAST_SIMD_H */
