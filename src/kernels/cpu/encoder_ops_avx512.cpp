// encoder_ops_avx512.cpp: the encoder's element-wise and attention kernels on 512-bit vectors: the table GELU by
// gathers, LayerNorm after the residual add (sums in double, as the reference), and one attention head over a
// short sequence with K transposed into scratch so each query's scores come 16 keys per fma.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cmath>
#include <limits>

#include "kernels/cpu/exp_avx512.h"
#include "kernels/cpu/kernels_avx512.h"

namespace duet::cpu {

namespace {

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

namespace {

// Queries t0 .. t0 + R - 1 of one head: scores of 16 keys per vector (R independent fma chains per key block),
// softmax per query, then the value rows weighted (R chains per 16 dims). kt: K transposed, (head_dim, lp);
// p: (R, lp) scores.
template <int R>
__attribute__((always_inline)) inline void attention_queries(const float* q, const float* kt, const float* v,
                                                             float* out, int64_t len, int64_t lp, int64_t head_dim,
                                                             int64_t stride, float scale, float* p) {
    const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    __m512 vmax[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) vmax[r] = neg_inf;
    for (int64_t j = 0; j < lp; j += 16) {
        __m512 acc[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
        for (int64_t e = 0; e < head_dim; ++e) {
            const __m512 kv = _mm512_loadu_ps(kt + e * lp + j);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[r * stride + e]), kv, acc[r]);
        }
        const __mmask16 valid =
            j + 16 <= len ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (len - j)) - 1u);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const __m512 sc = _mm512_mask_mul_ps(neg_inf, valid, acc[r], _mm512_set1_ps(scale));
            _mm512_storeu_ps(p + r * lp + j, sc);
            vmax[r] = _mm512_max_ps(vmax[r], sc);
        }
    }
    float inv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vmax[r]));
        __m512 vsum = _mm512_setzero_ps();
        for (int64_t j = 0; j < lp; j += 16) {
            const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(p + r * lp + j), m));
            _mm512_storeu_ps(p + r * lp + j, e);
            vsum = _mm512_add_ps(vsum, e);
        }
        inv[r] = 1.0f / _mm512_reduce_add_ps(vsum);
    }
    for (int64_t e = 0; e < head_dim; e += 16) {
        __m512 o[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) o[r] = _mm512_setzero_ps();
        for (int64_t j = 0; j < len; ++j) {
            const __m512 vv = _mm512_loadu_ps(v + j * stride + e);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) o[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[r * lp + j]), vv, o[r]);
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + r * stride + e, _mm512_mul_ps(o[r], _mm512_set1_ps(inv[r])));
    }
}

}  // namespace

// scratch: kt (head_dim, lp) = K transposed, keys padded to lp = len rounded up to 16; then p (8, lp) the scores
// of a tile of queries.
void attention_head_avx512(const float* q, const float* k, const float* v, float* out, int64_t len, int64_t head_dim,
                           int64_t stride, float scale, float* scratch) {
    constexpr int R = 8;
    const int64_t lp = (len + 15) / 16 * 16;
    float* kt = scratch;
    float* p = scratch + head_dim * lp;
    for (int64_t j = 0; j < lp; ++j)
        for (int64_t e = 0; e < head_dim; ++e) kt[e * lp + j] = j < len ? k[j * stride + e] : 0.0f;
    int64_t t = 0;
    for (; t + R <= len; t += R)
        attention_queries<R>(q + t * stride, kt, v, out + t * stride, len, lp, head_dim, stride, scale, p);
    for (; t < len; ++t)
        attention_queries<1>(q + t * stride, kt, v, out + t * stride, len, lp, head_dim, stride, scale, p);
}

}  // namespace duet::cpu
