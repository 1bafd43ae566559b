// quantize_avx2.cpp: AVX2 activation quantizers (Q8_1-style and Q8_K), same arithmetic as the reference ones.
#include <cmath>
#include <cstring>

#include "kernels/cpu/kernels_decode_avx512.h"  // XRows16 (a plain struct)
#include "kernels/cpu/tile_avx2.h"

namespace duet::cpu {

namespace {

inline float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

// Round 32 floats * scale to int32 (nearest even), pack to 32 int8 in order; returns the 4 int32 vectors' sum.
inline __m256i round_pack_32(const float* x, __m256 scale, int8_t* out, __m256i* sum) {
    __m256i v[4];
    for (int k = 0; k < 4; ++k)
        v[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), scale),
                                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    *sum = _mm256_add_epi32(_mm256_add_epi32(v[0], v[1]), _mm256_add_epi32(v[2], v[3]));
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    const __m256i ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), ordered);
    return ordered;
}

// One block of 32: q = round(x / d) with d = max|x| / 127 into qs; returns d, and sum(q) in *isum.
inline float quantize_block_32(const float* x, int8_t* qs, int32_t* isum) {
    const __m256 sign_mask = _mm256_set1_ps(-0.0f);
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, _mm256_loadu_ps(x + 8 * k)));
    const float d = hmax_ps(amax) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    __m256i sum;
    round_pack_32(x, _mm256_set1_ps(id), qs, &sum);
    *isum = hsum_epi32(sum);
    return d;
}

}  // namespace

void quantize_row_q8_1f_avx2(const float* x, block_q8_1f* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        int32_t isum;
        y[i].d = quantize_block_32(x, y[i].qs, &isum);
        y[i].s = y[i].d * static_cast<float>(isum);
    }
}

void quantize_row_rows16_avx2(const float* x, XRows16* y, int64_t n, int32_t offset) {
    for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        int32_t isum;
        y[i].d = quantize_block_32(x, y[i].qs, &isum);
        y[i].corr = -offset * isum;
    }
}

void quantize_row_q8_K_avx2(const float* x, block_q8_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        __m256 vmax = _mm256_set1_ps(-INFINITY), vmin = _mm256_set1_ps(INFINITY);
        for (int k = 0; k < kQK_K / 8; ++k) {
            const __m256 v = _mm256_loadu_ps(x + 8 * k);
            vmax = _mm256_max_ps(vmax, v);
            vmin = _mm256_min_ps(vmin, v);
        }
        const float max = hmax_ps(vmax), min = -hmax_ps(_mm256_sub_ps(_mm256_setzero_ps(), vmin));
        const float signed_max = max >= -min ? max : min;
        if (signed_max == 0.0f) {
            std::memset(&y[i], 0, sizeof(block_q8_K));
            continue;
        }
        const float iscale = -127.0f / signed_max;
        const __m256 scale = _mm256_set1_ps(iscale);
        for (int k = 0; k < kQK_K / 32; ++k) {
            __m256i sum;
            const __m256i q = round_pack_32(x + 32 * k, scale, y[i].qs + 32 * k, &sum);
            // the +128 that a value of exactly max rounds to cannot occur (|iscale * x| <= 127); sums of 16
            const __m256i pairs = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);    // 16 x i16, sums of 2
            const __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));  // 8 x i32, sums of 4
            const __m256i eights = _mm256_hadd_epi32(quads, quads);                // per lane: s0 s1 s0 s1
            const __m256i sixteens = _mm256_hadd_epi32(eights, eights);            // per lane: g g g g
            y[i].bsums[2 * k] = static_cast<int16_t>(_mm256_extract_epi32(sixteens, 0));
            y[i].bsums[2 * k + 1] = static_cast<int16_t>(_mm256_extract_epi32(sixteens, 4));
        }
        y[i].d = 1.0f / iscale;
    }
}

void quantize_row_q8_k_oct_avx2(const float* x, XOctQ8K* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK_K; ++b, ++y) {
        block_q8_K tmp;
        quantize_row_q8_K_avx2(x + b * kQK_K, &tmp, kQK_K);
        for (int j = 0; j < 8; ++j) {
            for (int s = 0; s < 8; ++s) std::memcpy(y->q + 32 * s + 4 * j, tmp.qs + 32 * j + 4 * s, 4);
            y->xs[j] = tmp.d * static_cast<float>(tmp.bsums[2 * j] + tmp.bsums[2 * j + 1]);
        }
        y->d = tmp.d;
        for (float& p : y->pad) p = 0.0f;
    }
}

}  // namespace duet::cpu
