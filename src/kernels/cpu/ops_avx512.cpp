// ops_avx512.cpp: the element-wise ops of ops_simd.h (RMSNorm, softmax, SiLU·mul, add, f32 -> f16) on 16-float
// AVX-512 vectors, RoPE's rotation, and the rows16 kernels' activation quantizer; chosen over the 8-float AVX2 ones
// (the reference loop for RoPE) when the backend is avx512 or avx512_vnni (kernels_ops.cpp, matmul_rows16_avx512.cpp).
// A 4-stream decode step of R1-1.5B spent ~0.5 ms of CPU in SiLU and the quantizer, where the exponential and the
// per-block horizontal max cost the most per value, and ~0.1 ms in the reference RoPE loop on the calling thread.
// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/cpu/exp_avx512.h"
#include "kernels/cpu/kernels_avx512.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/cpu/ops_simd.h"

namespace duet::cpu {

namespace {

// The vector type of ops_simd.h: 16 floats.
struct Avx512 {
    using T = __m512;
    static constexpr int64_t kLanes = 16;
    static T zero() { return _mm512_setzero_ps(); }
    static T splat(float v) { return _mm512_set1_ps(v); }
    static T load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
    static T load_f16(const uint16_t* p) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    }
    static void store_f16(uint16_t* p, T v) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                            _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    static T add(T a, T b) { return _mm512_add_ps(a, b); }
    static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
    static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
    static T div(T a, T b) { return _mm512_div_ps(a, b); }
    static T max(T a, T b) { return _mm512_max_ps(a, b); }
    static T neg(T a) { return _mm512_sub_ps(_mm512_setzero_ps(), a); }
    static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
    static T exp(T x) { return exp512(x); }
    static float hsum(T v) { return _mm512_reduce_add_ps(v); }
    static float hmax(T v) { return _mm512_reduce_max_ps(v); }
};

// Products, sums and differences that stay separate operations (RoPE's rotation; rope_rotate_avx512).
constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
inline __m512 mul_rn(__m512 a, __m512 b) { return _mm512_mul_round_ps(a, b, kNearest); }
inline __m512 add_rn(__m512 a, __m512 b) { return _mm512_add_round_ps(a, b, kNearest); }
inline __m512 sub_rn(__m512 a, __m512 b) { return _mm512_sub_round_ps(a, b, kNearest); }

}  // namespace

void rmsnorm_avx512(float* out, const float* x, const float* w, int64_t n, float eps) {
    rmsnorm_simd<Avx512>(out, x, w, n, eps);
}
void softmax_avx512(float* x, int64_t n) { softmax_simd<Avx512>(x, n); }
void silu_mul_avx512(float* out, const float* gate, const float* up, int64_t n) {
    silu_mul_simd<Avx512>(out, gate, up, n);
}
void add_avx512(float* out, const float* a, const float* b, int64_t n) { add_simd<Avx512>(out, a, b, n); }
void f32_to_f16_avx512(uint16_t* out, const float* x, int64_t n) { f32_to_f16_simd<Avx512>(out, x, n); }

// RoPE's rotation (kernels::rope_rotate) 16 values at a time, for n_heads heads sharing one position's cos/sin pairs
// cs = (c0, s0, c1, s1, ...). The products and sums are the reference loop's, in its order and without FMAs, so the
// results are its bits: they go through the explicitly rounded intrinsics (round to nearest, as the plain ones), which
// GCC does not contract into FMAs as it does the plain ones under -ffp-contract=fast, its default for C++.
//   neox (pairs i, i + n_rot/2): 16 pairs a vector, c and s taken apart from two vectors of cs by one permute each
//   norm (pairs 2i, 2i+1): 8 pairs a vector, c and s duplicated in place, x's pairs swapped by a permute
bool rope_avx512_fits(int64_t n_rot, bool neox) { return neox ? (n_rot / 2) % 16 == 0 : n_rot % 16 == 0; }

void rope_rotate_avx512(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs, bool neox) {
    if (neox) {
        const int64_t half = n_rot / 2;
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
        for (int64_t i = 0; i < half; i += 16) {
            const __m512 a = _mm512_loadu_ps(cs + 2 * i), b = _mm512_loadu_ps(cs + 2 * i + 16);
            const __m512 c = _mm512_permutex2var_ps(a, even, b), s = _mm512_permutex2var_ps(a, odd, b);
            for (int64_t h = 0; h < n_heads; ++h) {
                float* p0 = x + h * head_dim + i;
                float* p1 = p0 + half;
                const __m512 x0 = _mm512_loadu_ps(p0), x1 = _mm512_loadu_ps(p1);
                _mm512_storeu_ps(p0, sub_rn(mul_rn(x0, c), mul_rn(x1, s)));
                _mm512_storeu_ps(p1, add_rn(mul_rn(x0, s), mul_rn(x1, c)));
            }
        }
        return;
    }
    for (int64_t i = 0; i < n_rot; i += 16) {
        const __m512 pairs = _mm512_loadu_ps(cs + i);
        const __m512 c = _mm512_moveldup_ps(pairs), s = _mm512_movehdup_ps(pairs);
        for (int64_t h = 0; h < n_heads; ++h) {
            float* p = x + h * head_dim + i;
            const __m512 v = _mm512_loadu_ps(p);                      // x0 x1 | x0 x1 ...
            const __m512 vc = mul_rn(v, c);                           // x0 c, x1 c
            const __m512 vs = mul_rn(_mm512_permute_ps(v, 0xB1), s);  // x1 s, x0 s
            // even lanes x0 c - x1 s, odd lanes x1 c + x0 s (= x0 s + x1 c: a sum does not depend on its order)
            _mm512_storeu_ps(p, _mm512_mask_blend_ps(0xAAAA, sub_rn(vc, vs), add_rn(vc, vs)));
        }
    }
}

// quantize_row_rows16_avx2's values (d = max|x| / 127, q = round-to-nearest-even(x / d), corr = -offset * sum(q))
// a block of 32 in two vectors: one horizontal max and one horizontal sum a block, where the AVX2 one pays two
// 4-step reductions and a pack/permute. The quantities are exact, so the bytes are the same.
void quantize_row_rows16_avx512(const float* x, XRows16* y, int64_t n, int32_t offset) {
    for (int64_t i = 0; i < n / 32; ++i, x += 32) {
        const __m512 a0 = _mm512_loadu_ps(x), a1 = _mm512_loadu_ps(x + 16);
        const float d = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a0), _mm512_abs_ps(a1))) / 127.0f;
        const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        const __m512i q0 =
            _mm512_cvt_roundps_epi32(_mm512_mul_ps(a0, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m512i q1 =
            _mm512_cvt_roundps_epi32(_mm512_mul_ps(a1, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs), _mm512_cvtsepi32_epi8(q0));  // |q| <= 127: no saturation
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs + 16), _mm512_cvtsepi32_epi8(q1));
        y[i].d = d;
        y[i].corr = -offset * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

}  // namespace duet::cpu
