// k_quants_avx2.h: helpers shared by the K-quant kernels (matmul_k_avx2.cpp, matmul_k_vnni.cpp): the Q8_K
// activation block prep, and the unpacking of K-quant scales. Include only from those files (after choosing
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
    struct XPrep { const block_q8_K* x; __m128i bsum32; float d; };
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

}  // namespace DUET_TILE_ISA
}  // namespace duet::cpu
