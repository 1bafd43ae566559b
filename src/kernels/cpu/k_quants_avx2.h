// k_quants_avx2.h: helpers shared by the K-quant kernels (matmul_k_avx2.cpp, matmul_k_vnni.cpp): the Q8_K
// activation block prep, and the unpacking of K-quant values and scales. Include only from those files (after choosing
// DUET_TILE_ISA); everything lives in tile_avx2.h's per-ISA inline namespace.
#pragma once

#include <cstring>

#include "kernels/cpu/tile_avx2.h"

namespace duet::cpu {
inline namespace DUET_TILE_ISA {

struct XQ8K {
    using XBlock = block_q8_K;
    static constexpr int64_t kElems = kQK_K;
    // per activation block, shared by every row of a tile: the block, its scale, and the sums of its 8
    // 32-element groups (bsums[2j] + bsums[2j+1]) for the Q4_K/Q5_K mins
    struct XPrep {
        const block_q8_K* x;
        __m128i bsum32;
        float d;
    };
    static XPrep xprep(const block_q8_K* x) {
        const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->bsums));
        const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->bsums + 8));
        return {x, _mm_hadd_epi16(lo, hi), x->d};
    }
};

// (d, dmin) of a K-quant block times the activation scale, as two broadcast vectors.
inline void scales_times(const uint16_t* d_and_dmin, float dx, __m256* d, __m256* dmin) {
    uint32_t both;
    std::memcpy(&both, d_and_dmin, 4);
    const __m128 f = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(both))), _mm_set1_ps(dx));
    *d = _mm256_broadcastss_ps(f);
    *dmin = _mm256_broadcastss_ps(_mm_movehdup_ps(f));
}

// The 8 six-bit scales and mins of a Q4_K/Q5_K block as 16-bit lanes.
inline void unpack_scales_k4(const uint8_t* scales, __m128i* sc16, __m128i* mn16) {
    uint32_t a[3];
    std::memcpy(a, scales, 12);
    const uint32_t sc_lo = a[0] & 0x3f3f3f3f, mn_lo = a[1] & 0x3f3f3f3f;
    const uint32_t sc_hi = (a[2] & 0x0f0f0f0f) | (((a[0] >> 6) & 0x03030303) << 4);
    const uint32_t mn_hi = ((a[2] >> 4) & 0x0f0f0f0f) | (((a[1] >> 6) & 0x03030303) << 4);
    *sc16 = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(sc_hi), static_cast<int>(sc_lo)));
    *mn16 = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(mn_hi), static_cast<int>(mn_lo)));
}

// Broadcast 16-bit lane k of a 128-bit vector (copied to both halves) to all 16 lanes.
inline __m256i broadcast_lane16(__m256i v, int k) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16(static_cast<short>(0x0100 + 0x0202 * k)));
}

// The fifth bits of Q5_K sub-block k as 0x10 in each of its 32 bytes (bit k of qh[l] belongs to sub-block k).
inline __m256i q5_k_high_bits(__m256i qh, int k) {
    return _mm256_and_si256(_mm256_slli_epi16(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(k)), 4), _mm256_set1_epi8(0x10));
}

// Q6_K half `half` (128 values) unpacked to 0..63: v[k] = values 32k..32k+31 of the half.
inline void unpack_q6_k_half(const block_q6_K* w, int half, __m256i v[4]) {
    const __m256i m4 = low_nibbles_mask(), m2 = _mm256_set1_epi8(0x03), m30 = _mm256_set1_epi8(0x30);
    const uint8_t* ql = w->ql + 64 * half;
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
    const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->qh + 32 * half));
    v[0] = _mm256_or_si256(_mm256_and_si256(q0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
    v[1] = _mm256_or_si256(_mm256_and_si256(q1, m4), _mm256_slli_epi16(_mm256_and_si256(h, _mm256_set1_epi8(0x0C)), 2));
    v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q0, 4), m4), _mm256_and_si256(h, m30));
    v[3] =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
}

// The int16 scales of Q6_K values 32k..32k+31 of half `half`: [group 2k x 8 | group 2k+1 x 8] of that half
// (sc8: the block's 16 signed scales).
inline __m256i q6_k_scales(__m128i sc8, int half, int k) {
    const __m256i sc_half =
        _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half == 0 ? sc8 : _mm_unpackhi_epi64(sc8, sc8)));
    return _mm256_shuffle_epi8(sc_half,
                               _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * k + 1))),
                                                _mm_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * k)))));
}

}  // namespace DUET_TILE_ISA
}  // namespace duet::cpu
