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

__attribute__((target("avx2"))) static void kf_cap_pass_avx2(const int64_t* p, const int64_t* s,
                                                             ptrdiff_t n, kf_cap_summary* out) {
    const __m256i one = _mm256_set1_epi64x(1);
    __m256i por = _mm256_setzero_si256(), pm1 = _mm256_setzero_si256();
    __m256i sor = _mm256_setzero_si256(), ssum = _mm256_setzero_si256();
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i*)(p + i));
        __m256i c = _mm256_loadu_si256((const __m256i*)(p + i + 4));
        __m256i b = _mm256_loadu_si256((const __m256i*)(s + i));
        __m256i d = _mm256_loadu_si256((const __m256i*)(s + i + 4));
        por = _mm256_or_si256(por, _mm256_or_si256(a, c));
        pm1 = _mm256_or_si256(pm1, _mm256_or_si256(_mm256_sub_epi64(a, one), _mm256_sub_epi64(c, one)));
        sor = _mm256_or_si256(sor, _mm256_or_si256(b, d));
        ssum = _mm256_add_epi64(ssum, _mm256_add_epi64(b, d));
        acc0 = _mm256_add_epi64(acc0, kf_mul64_avx2(a, b));
        acc1 = _mm256_add_epi64(acc1, kf_mul64_avx2(c, d));
    }
    uint64_t r_por = kf_hor_avx2(por), r_pm1 = kf_hor_avx2(pm1), r_sor = kf_hor_avx2(sor);
    uint64_t r_ssum = kf_hadd_avx2(ssum), r_total = kf_hadd_avx2(_mm256_add_epi64(acc0, acc1));
    for (; i < n; i++) {
        uint64_t a = (uint64_t)p[i], b = (uint64_t)s[i];
        r_por |= a;
        r_pm1 |= a - 1u;
        r_sor |= b;
        r_ssum += b;
        r_total += a * b;
    }
    out->por = (int64_t)r_por;
    out->pm1or = (int64_t)r_pm1;
    out->sor = (int64_t)r_sor;
    out->ssum = r_ssum;
    out->total = r_total;
}

/* AVX-512DQ's 64-bit multiply on 256-bit registers (AVX-512VL). Timed from Python on Zen 4,
 * the 512-bit form paid a fixed ~100-200 ns per call beside this ymm form (380 vs 180 ns for
 * 850 pairs) though it was as fast in a tight C loop; the ymm form gets the same multiply without it. */
__attribute__((target("avx2,avx512f,avx512dq,avx512vl"))) static void kf_cap_pass_avx512(
    const int64_t* p, const int64_t* s, ptrdiff_t n, kf_cap_summary* out) {
    const __m256i one = _mm256_set1_epi64x(1);
    __m256i por = _mm256_setzero_si256(), pm1 = _mm256_setzero_si256();
    __m256i sor = _mm256_setzero_si256(), ssum = _mm256_setzero_si256();
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i*)(p + i));
        __m256i c = _mm256_loadu_si256((const __m256i*)(p + i + 4));
        __m256i b = _mm256_loadu_si256((const __m256i*)(s + i));
        __m256i d = _mm256_loadu_si256((const __m256i*)(s + i + 4));
        por = _mm256_or_si256(por, _mm256_or_si256(a, c));
        pm1 = _mm256_or_si256(pm1, _mm256_or_si256(_mm256_sub_epi64(a, one), _mm256_sub_epi64(c, one)));
        sor = _mm256_or_si256(sor, _mm256_or_si256(b, d));
        ssum = _mm256_add_epi64(ssum, _mm256_add_epi64(b, d));
        acc0 = _mm256_add_epi64(acc0, _mm256_mullo_epi64(a, b));
        acc1 = _mm256_add_epi64(acc1, _mm256_mullo_epi64(c, d));
    }
    uint64_t r_por = kf_hor_avx2(por), r_pm1 = kf_hor_avx2(pm1), r_sor = kf_hor_avx2(sor);
    uint64_t r_ssum = kf_hadd_avx2(ssum), r_total = kf_hadd_avx2(_mm256_add_epi64(acc0, acc1));
    for (; i < n; i++) {
        uint64_t a = (uint64_t)p[i], b = (uint64_t)s[i];
        r_por |= a;
        r_pm1 |= a - 1u;
        r_sor |= b;
        r_ssum += b;
        r_total += a * b;
    }
    out->por = (int64_t)r_por;
    out->pm1or = (int64_t)r_pm1;
    out->sor = (int64_t)r_sor;
    out->ssum = r_ssum;
    out->total = r_total;
}

#else
#define KF_HAVE_X86_SIMD 0

static int kf_simd_detect(void) { return KF_SIMD_PORTABLE; }

/* Never called: kf_simd_detect returns KF_SIMD_PORTABLE and the setter refuses the others. */
static void kf_cap_pass_avx2(const int64_t* p, const int64_t* s, ptrdiff_t n, kf_cap_summary* out) {
    (void)p; (void)s; (void)n;
    out->por = out->pm1or = out->sor = -1;
    out->ssum = out->total = 0;
}
static void kf_cap_pass_avx512(const int64_t* p, const int64_t* s, ptrdiff_t n, kf_cap_summary* out) {
    kf_cap_pass_avx2(p, s, n, out);
}
#endif

#endif /* KOSPI_FAST_SIMD_H */
