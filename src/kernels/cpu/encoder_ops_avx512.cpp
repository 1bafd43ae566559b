// encoder_ops_avx512.cpp: the encoder's element-wise and attention kernels on 512-bit vectors: the table GELU by
// gathers, LayerNorm after the residual add (sums in double, as the reference), and one attention head over a
// short sequence with K transposed into scratch so each query's scores come 16 keys per fma.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cmath>
#include <limits>

#include "kernels/cpu/kernels_avx512.h"

namespace duet::cpu {

namespace {

// e^x for 16 floats: ops_avx2.cpp's exp256 (Cephes' polynomial, 2^n built in two halves) on 512-bit vectors.
inline __m512 exp512(__m512 x_in) {
    const __mmask16 underflow = _mm512_cmp_ps_mask(x_in, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
    const __m512 x = _mm512_min_ps(_mm512_max_ps(x_in, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i ni = _mm512_cvtps_epi32(n);
    const __m512i half = _mm512_srai_epi32(ni, 1);
    const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, _mm512_set1_epi32(127)), 23));
    const __m512 s2 = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(ni, half), _mm512_set1_epi32(127)), 23));
    return _mm512_maskz_mul_ps(static_cast<__mmask16>(~underflow), _mm512_mul_ps(p, s1), s2);
}

// sum of the 16 floats widened to double (8 + 8 lanes)
inline __m512d add_widened(__m512d acc, __m512 v) {
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    return _mm512_add_pd(acc, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}

}  // namespace

void gelu_avx512(float* out, const float* x, int64_t n, const float* table) {
    int64_t i = 0;
    const __m512 lo = _mm512_set1_ps(-10.0f), hi = _mm512_set1_ps(10.0f);
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 y = _mm512_i32gather_ps(_mm512_cvtepu16_epi32(h), table, 4);
        y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(v, hi, _CMP_GE_OQ), v);
        y = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, lo, _CMP_GT_OQ), y);
        _mm512_storeu_ps(out + i, y);
    }
    for (; i < n; ++i) {
        const float v = x[i];
        if (v <= -10.0f) out[i] = 0.0f;
        else if (v >= 10.0f) out[i] = v;
        else out[i] = table[static_cast<uint16_t>(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))];
    }
}

void add_layernorm_avx512(float* x, const float* y, const float* w, const float* b, int64_t n, float eps) {
    int64_t i = 0;
    __m512d acc = _mm512_setzero_pd();
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i));
        _mm512_storeu_ps(x + i, v);
        acc = add_widened(acc, v);
    }
    double sum = _mm512_reduce_add_pd(acc);
    for (; i < n; ++i) {
        x[i] += y[i];
        sum += x[i];
    }
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    const __m512 vmean = _mm512_set1_ps(mean);
    acc = _mm512_setzero_pd();
    i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_sub_ps(_mm512_loadu_ps(x + i), vmean);
        _mm512_storeu_ps(x + i, v);
        acc = add_widened(acc, _mm512_mul_ps(v, v));
    }
    double sum2 = _mm512_reduce_add_pd(acc);
    for (; i < n; ++i) {
        x[i] -= mean;
        sum2 += static_cast<double>(x[i] * x[i]);
    }
    const float variance = static_cast<float>(sum2 / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(variance + eps);
    const __m512 vs = _mm512_set1_ps(scale);
    i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(x + i,
                         _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vs), _mm512_loadu_ps(w + i)),
                                       _mm512_loadu_ps(b + i)));
    for (; i < n; ++i) x[i] = x[i] * scale * w[i] + b[i];
}

// scratch: kt (head_dim, lp) = K transposed, keys padded to lp = len rounded up to 16; then p (lp,) the scores.
void attention_head_avx512(const float* q, const float* k, const float* v, float* out, int64_t len, int64_t head_dim,
                           int64_t stride, float scale, float* scratch) {
    const int64_t lp = (len + 15) / 16 * 16;
    float* kt = scratch;
    float* p = scratch + head_dim * lp;
    for (int64_t j = 0; j < lp; ++j)
        for (int64_t e = 0; e < head_dim; ++e) kt[e * lp + j] = j < len ? k[j * stride + e] : 0.0f;
    const __m512 vscale = _mm512_set1_ps(scale);
    const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int64_t t = 0; t < len; ++t) {
        const float* qt = q + t * stride;
        // scores of 16 keys per vector: sum over e of q[e] * kt[e][j]
        __m512 vmax = neg_inf;
        for (int64_t j = 0; j < lp; j += 16) {
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            int64_t e = 0;
            for (; e + 2 <= head_dim; e += 2) {
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(qt[e]), _mm512_loadu_ps(kt + e * lp + j), a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(qt[e + 1]), _mm512_loadu_ps(kt + (e + 1) * lp + j), a1);
            }
            if (e < head_dim) a0 = _mm512_fmadd_ps(_mm512_set1_ps(qt[e]), _mm512_loadu_ps(kt + e * lp + j), a0);
            __m512 s = _mm512_mul_ps(vscale, _mm512_add_ps(a0, a1));
            if (j + 16 > len) {
                const __mmask16 valid = static_cast<__mmask16>((1u << (len - j)) - 1u);
                s = _mm512_mask_mov_ps(neg_inf, valid, s);
            }
            _mm512_storeu_ps(p + j, s);
            vmax = _mm512_max_ps(vmax, s);
        }
        const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
        __m512 vsum = _mm512_setzero_ps();
        for (int64_t j = 0; j < lp; j += 16) {
            const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(p + j), m));
            _mm512_storeu_ps(p + j, e);
            vsum = _mm512_add_ps(vsum, e);
        }
        const float inv = 1.0f / _mm512_reduce_add_ps(vsum);
        // out[t] = sum_j p[j] v[j] / sum: two accumulators (even and odd keys) per 16 dims
        float* ot = out + t * stride;
        for (int64_t e = 0; e < head_dim; e += 16) {
            __m512 o0 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps();
            int64_t j = 0;
            for (; j + 2 <= len; j += 2) {
                o0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_loadu_ps(v + j * stride + e), o0);
                o1 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 1]), _mm512_loadu_ps(v + (j + 1) * stride + e), o1);
            }
            if (j < len) o0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_loadu_ps(v + j * stride + e), o0);
            _mm512_storeu_ps(ot + e, _mm512_mul_ps(_mm512_add_ps(o0, o1), _mm512_set1_ps(inv)));
        }
    }
}

}  // namespace duet::cpu
