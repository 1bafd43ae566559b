// attention_avx512.cpp: kernels.h's attn_scores_f16 / attn_values_f16 on 512-bit vectors (head_dim 64, 128 or 256),
// for the n_q query heads that share one KV head. Each K or V row is loaded and converted from f16 once for all of
// them (the position-at-a-time loops of dot_f16_f32 / axpy_f16 convert it n_q times and pay a call per head and
// position).
//
//   scores: per position p, K row -> NV vectors (NV = head_dim / 16); per head j, NV FMAs into two chains and one
//           horizontal sum: scores[j][p]
//   values: out in chunks of 64 columns (4 vectors) for up to 6 heads at a time (24 accumulators in registers);
//           per position p, V's 4 vectors of the chunk, then per head one broadcast weight and 4 FMAs
// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/cpu/kernels_avx512.h"

namespace duet::cpu {

namespace {

inline __m512 load_f16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

template <int NV>
void scores_f16(float* scores, int64_t ld, const float* q, int64_t n_q, const uint16_t* k, int64_t stride, int64_t n,
                float scale) {
    constexpr int64_t kHeadDim = 16 * NV;
    for (int64_t p = 0; p < n; ++p) {
        __m512 kr[NV];
        const uint16_t* kp = k + p * stride;
#pragma GCC unroll 16
        for (int i = 0; i < NV; ++i) kr[i] = load_f16(kp + 16 * i);
        for (int64_t j = 0; j < n_q; ++j) {
            const float* qj = q + j * kHeadDim;
            __m512 a0 = _mm512_mul_ps(kr[0], _mm512_loadu_ps(qj));
            __m512 a1 = _mm512_mul_ps(kr[1], _mm512_loadu_ps(qj + 16));
#pragma GCC unroll 16
            for (int i = 2; i < NV; i += 2) {
                a0 = _mm512_fmadd_ps(kr[i], _mm512_loadu_ps(qj + 16 * i), a0);
                a1 = _mm512_fmadd_ps(kr[i + 1], _mm512_loadu_ps(qj + 16 * (i + 1)), a1);
            }
            scores[j * ld + p] = scale * _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        }
    }
}

constexpr int kChunkVectors = 4;  // 64 columns of out per pass
constexpr int kMaxHeads = 6;      // heads per pass: 6 x 4 accumulators + 4 V vectors of 32 registers

template <int NJ>
void values_chunk_f16(float* out, const float* w, int64_t ld, const uint16_t* v, int64_t stride, int64_t n,
                      int64_t head_dim) {
    __m512 acc[NJ][kChunkVectors];
#pragma GCC unroll 8
    for (int j = 0; j < NJ; ++j)
#pragma GCC unroll 4
        for (int i = 0; i < kChunkVectors; ++i) acc[j][i] = _mm512_loadu_ps(out + j * head_dim + 16 * i);
    for (int64_t p = 0; p < n; ++p) {
        __m512 vr[kChunkVectors];
        const uint16_t* vp = v + p * stride;
#pragma GCC unroll 4
        for (int i = 0; i < kChunkVectors; ++i) vr[i] = load_f16(vp + 16 * i);
#pragma GCC unroll 8
        for (int j = 0; j < NJ; ++j) {
            const __m512 wj = _mm512_set1_ps(w[j * ld + p]);
#pragma GCC unroll 4
            for (int i = 0; i < kChunkVectors; ++i) acc[j][i] = _mm512_fmadd_ps(wj, vr[i], acc[j][i]);
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < NJ; ++j)
#pragma GCC unroll 4
        for (int i = 0; i < kChunkVectors; ++i) _mm512_storeu_ps(out + j * head_dim + 16 * i, acc[j][i]);
}

}  // namespace

bool attn_avx512_fits(int64_t head_dim) { return head_dim == 64 || head_dim == 128 || head_dim == 256; }

void attn_scores_f16_avx512(float* scores, int64_t ld, const float* q, int64_t n_q, const uint16_t* k, int64_t stride,
                            int64_t n, int64_t head_dim, float scale) {
    switch (head_dim) {
        case 64:
            return scores_f16<4>(scores, ld, q, n_q, k, stride, n, scale);
        case 128:
            return scores_f16<8>(scores, ld, q, n_q, k, stride, n, scale);
        case 256:
            return scores_f16<16>(scores, ld, q, n_q, k, stride, n, scale);
        default:
            break;  // attn_avx512_fits() is the caller's check
    }
}

void attn_values_f16_avx512(float* out, const float* w, int64_t ld, int64_t n_q, const uint16_t* v, int64_t stride,
                            int64_t n, int64_t head_dim) {
    for (int64_t c = 0; c < head_dim; c += 16 * kChunkVectors) {
        for (int64_t j0 = 0; j0 < n_q; j0 += kMaxHeads) {
            float* o = out + j0 * head_dim + c;
            const float* wj = w + j0 * ld;
            const uint16_t* vc = v + c;
            const int n_heads = static_cast<int>(std::min<int64_t>(kMaxHeads, n_q - j0));
            [&]<int... J>(std::integer_sequence<int, J...>) {  // the chunk compiled for exactly n_heads heads
                ((n_heads == J + 1 ? values_chunk_f16<J + 1>(o, wj, ld, vc, stride, n, head_dim) : void()), ...);
            }
            (std::make_integer_sequence<int, kMaxHeads>{});
        }
    }
}

}  // namespace duet::cpu
