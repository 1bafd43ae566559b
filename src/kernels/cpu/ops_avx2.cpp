// ops_avx2.cpp: AVX2/FMA/F16C element-wise ops: RMSNorm, softmax, SiLU·mul, add, dots and axpys for attention,
// argmax. The loops are ops_simd.h's (argmax's is here); this file gives them 8-float AVX2 vectors and the
// exponential.
#include "kernels/cpu/ops_simd.h"
#include "kernels/cpu/tile_avx2.h"
#include "kernels/ref/ops.h"

namespace duet::cpu {

namespace {

// e^x for 8 floats: 2^n * e^r with n = round(x / ln 2), |r| <= ln2 / 2, degree-6 polynomial (Cephes'
// coefficients); relative error ~2 ulp. Inputs above 88.7 give 2^128-ish (finite), below -87.3 (and -inf) give 0.
inline __m256 exp256(__m256 x_in) {
    const __m256 underflow = _mm256_cmp_ps(x_in, _mm256_set1_ps(-87.3f), _CMP_LT_OQ);
    const __m256 x = _mm256_min_ps(_mm256_max_ps(x_in, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.7f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n: n in [-126, 128]; build 2^(n/2) twice so n = 128 and n = -126 stay representable
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    const __m256 s2 = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(_mm256_mul_ps(p, s1), s2));
}

// The vector type of ops_simd.h: 8 floats.
struct Avx2 {
    using T = __m256;
    static constexpr int64_t kLanes = 8;
    static T zero() { return _mm256_setzero_ps(); }
    static T splat(float v) { return _mm256_set1_ps(v); }
    static T load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
    static T load_f16(const uint16_t* p) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
    static void store_f16(uint16_t* p, T v) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                         _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    static T add(T a, T b) { return _mm256_add_ps(a, b); }
    static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
    static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
    static T div(T a, T b) { return _mm256_div_ps(a, b); }
    static T max(T a, T b) { return _mm256_max_ps(a, b); }
    static T neg(T a) { return _mm256_sub_ps(_mm256_setzero_ps(), a); }
    static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
    static T exp(T x) { return exp256(x); }
    static float hsum(T v) { return hsum_ps(v); }
    static float hmax(T v) {
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
    }
};

}  // namespace

// ref::argmax's answer in two passes: the largest value (vmaxps returns its second operand when the first is NaN,
// so NaNs are passed over), then the first position equal to it. The reference loop compares each value with the
// best so far, one dependent compare per value: bench_kernels argmax/151936 (R1-1.5B's logits, in L2) 40.2 -> 9.1 us
// a token; the loop was 0.6% of a 4-stream `duet serve`'s CPU time.
int64_t argmax_avx2(const float* x, int64_t n) {
    if (n < 16 || std::isnan(x[0])) return ref::argmax(x, n);
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
        m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
    }
    float max = Avx2::hmax(_mm256_max_ps(m0, m1));
    for (; i < n; ++i)
        if (x[i] > max) max = x[i];
    const __m256 vmax = _mm256_set1_ps(max);
    for (i = 0; i + 8 <= n; i += 8) {
        const int equal = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), vmax, _CMP_EQ_OQ));
        if (equal != 0) return i + __builtin_ctz(static_cast<unsigned>(equal));
    }
    for (; i < n; ++i)
        if (x[i] == max) return i;
    return 0;  // not reached: max is one of x's values
}

void rmsnorm_avx2(float* out, const float* x, const float* w, int64_t n, float eps) {
    rmsnorm_simd<Avx2>(out, x, w, n, eps);
}
void softmax_avx2(float* x, int64_t n) { softmax_simd<Avx2>(x, n); }
void silu_mul_avx2(float* out, const float* gate, const float* up, int64_t n) { silu_mul_simd<Avx2>(out, gate, up, n); }
void add_avx2(float* out, const float* a, const float* b, int64_t n) { add_simd<Avx2>(out, a, b, n); }
float dot_f32_avx2(const float* a, const float* b, int64_t n) { return dot_f32_simd<Avx2>(a, b, n); }
float dot_f16_f32_avx2(const uint16_t* a, const float* b, int64_t n) { return dot_f16_f32_simd<Avx2>(a, b, n); }
void axpy_f16_avx2(float* out, float w, const uint16_t* v, int64_t n) { axpy_f16_simd<Avx2>(out, w, v, n); }
void axpy_f32_avx2(float* out, float w, const float* v, int64_t n) { axpy_f32_simd<Avx2>(out, w, v, n); }
void f32_to_f16_avx2(uint16_t* out, const float* x, int64_t n) { f32_to_f16_simd<Avx2>(out, x, n); }

}  // namespace duet::cpu
