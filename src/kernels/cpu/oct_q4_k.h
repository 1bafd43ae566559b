// oct_q4_k.h: the Q4_K and Q5_K batch kernels' shared layout (include only in *_avx2.cpp / *_vnni.cpp, after defining
// DUET_TILE_ISA): oct_tile.h's 8 lanes hold the 8 sub-blocks of 32 of one super-block (step s of lane j:
// values 4s..4s+3 of sub-block j), so per super-block, row and token the 8 sub-blocks' integer dots I_j come out
// whole (Q5_K: values 0..31, the fifth bit ORed in while unpacking) and
//   y += cvt(I) * (d * sc_j * d_x)  -  (dmin * m_j) * (d_x * sum of sub-block j's q)
// costs one convert, one multiply, one fma and one fnmadd. Unpacking a row's super-block (once per tile row and
// token chunk) is an 8x8 dword transpose of its nibbles; the 6-bit scales and mins become float vectors.
#pragma once

#include <type_traits>

#include "kernels/cpu/k_quants_avx2.h"
#include "kernels/cpu/oct_tile.h"

namespace duet::cpu {
inline namespace DUET_TILE_ISA {

struct alignas(32) WOctK {
    uint8_t q[256];
    float dsc[8];   // d * sc_j
    float dmin[8];  // dmin * m_j
};
static_assert(sizeof(WOctK) == 320);

// The layout half of a Q4_K / Q5_K kernel type for oct_tile.h's driver (the kernels add the tile and group()).
template <class Block>
struct OctK {
    static constexpr bool kFiveBits = std::is_same_v<Block, block_q5_K>;
    using WGroup = WOctK;
    using XGroup = XOctQ8K;
    static int64_t n_groups(int64_t n) { return n / kQK_K; }

    __attribute__((always_inline)) static void unpack(const uint8_t* row, int64_t g, int64_t, WOctK* out) {
        const Block* b = reinterpret_cast<const Block*>(row) + g;
        __m128i sc16, mn16;
        unpack_scales_k4(b->scales, &sc16, &mn16);
        uint16_t d, dmin;
        std::memcpy(&d, &b->d, 2);
        std::memcpy(&dmin, &b->dmin, 2);
        _mm256_store_ps(out->dsc,
                        _mm256_mul_ps(_mm256_set1_ps(f16_to_f32(d)), _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(sc16))));
        _mm256_store_ps(out->dmin, _mm256_mul_ps(_mm256_set1_ps(f16_to_f32(dmin)),
                                                 _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(mn16))));
        // r[j] = sub-block j's 32 values as bytes (chunk k of 32 bytes: low nibbles sub-block 2k, high 2k+1)
        const __m256i mask = low_nibbles_mask();
        __m256i r[8];
        for (int k = 0; k < 4; ++k) {
            const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->qs + 32 * k));
            r[2 * k] = _mm256_and_si256(c, mask);
            r[2 * k + 1] = _mm256_and_si256(_mm256_srli_epi16(c, 4), mask);
        }
        if constexpr (kFiveBits) {
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->qh));
            for (int j = 0; j < 8; ++j) r[j] = _mm256_or_si256(r[j], q5_k_high_bits(qh, j));
        }
        // 8x8 dword transpose: step s = dword s of r[0..7]
        __m256i t[8], u[8];
        for (int k = 0; k < 4; ++k) {
            t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
            t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
        }
        for (int h = 0; h < 2; ++h) {  // rows 4h..4h+3
            const __m256i* th = t + 4 * h;
            u[4 * h + 0] = _mm256_unpacklo_epi64(th[0], th[2]);  // dword 0 | dword 4
            u[4 * h + 1] = _mm256_unpackhi_epi64(th[0], th[2]);  // dword 1 | dword 5
            u[4 * h + 2] = _mm256_unpacklo_epi64(th[1], th[3]);  // dword 2 | dword 6
            u[4 * h + 3] = _mm256_unpackhi_epi64(th[1], th[3]);  // dword 3 | dword 7
        }
        for (int s = 0; s < 4; ++s) {
            _mm256_store_si256(reinterpret_cast<__m256i*>(out->q + 32 * s),
                               _mm256_permute2x128_si256(u[s], u[4 + s], 0x20));
            _mm256_store_si256(reinterpret_cast<__m256i*>(out->q + 32 * (s + 4)),
                               _mm256_permute2x128_si256(u[s], u[4 + s], 0x31));
        }
    }

    // f + the 8 sub-blocks' integer dots (int32 lanes) of one row and token, scaled, minus the mins' term.
    // dsc, dmin: the row's WOctK::dsc and ::dmin, loaded once per row.
    __attribute__((always_inline)) static __m256 accumulate(__m256 dsc, __m256 dmin, const XOctQ8K& x, __m256i sums,
                                                            __m256 f) {
        const __m256 t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(dsc, _mm256_broadcast_ss(&x.d)), f);
        return _mm256_fnmadd_ps(dmin, _mm256_load_ps(x.xs), t);
    }
};
using OctQ4_K = OctK<block_q4_K>;
using OctQ5_K = OctK<block_q5_K>;

}  // namespace DUET_TILE_ISA
}  // namespace duet::cpu
