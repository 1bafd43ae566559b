// oct_q8_0.h: the Q8_0 batch kernel's weight layout (include only in *_vnni.cpp, after defining DUET_TILE_ISA):
// oct_q4_0.h's groups of 8 blocks side by side, one per int32 lane (WOct, diagrammed there), with Q8_0's signed
// bytes stored biased to unsigned (w + 128, the operand vpdpbusd multiplies unsigned) and the bias taken out in
// integers through the activations' start values: XOctQ8 quantized with zero point 128 holds offs = -128 * sum(q),
// so after the 8 steps lane j holds  sum (w + 128) x - 128 sum x = block j's exact integer dot product.
//
//   block j (34 bytes):  d | qs[0..3] qs[4..7] ... qs[28..31]        (int8)
//   WOct step s, lane j: qs[4s..4s+3] ^ 0x80                         (uint8 = int8 + 128)
//
// AVX2 has no such kernel: maddubs sums two products in int16, and 2 x 255 x 127 overflows it.
#pragma once

#include "kernels/cpu/oct_q4_0.h"

namespace duet::cpu {
inline namespace DUET_TILE_ISA {

// The n_blocks (1-8) Q8_0 blocks at g into one group, biased to unsigned, zero-padded.
__attribute__((always_inline)) inline void unpack_group(const block_q8_0* g, int64_t n_blocks, WOct* out) {
    uint16_t h[8] = {};
    if (n_blocks == 8) {
        const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
        __m256i r[8];
        for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g[j].qs));
        // 8x8 dword transpose: row j = block j's 8 dwords -> step s = dword s of the 8 blocks
        __m256i t[8], u[8];
        for (int k = 0; k < 4; ++k) {  // t[2k]: dwords 0,1 | 4,5 of blocks 2k, 2k+1; t[2k+1]: dwords 2,3 | 6,7
            t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
            t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
        }
        for (int k = 0; k < 2; ++k) {  // u[4k + m]: dword m | m + 4 of blocks 4k..4k+3
            u[4 * k + 0] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
            u[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
            u[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
            u[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
        }
        for (int m = 0; m < 4; ++m) {
            _mm256_store_si256(reinterpret_cast<__m256i*>(out->q + 32 * m),
                               _mm256_xor_si256(_mm256_permute2x128_si256(u[m], u[4 + m], 0x20), bias));
            _mm256_store_si256(reinterpret_cast<__m256i*>(out->q + 32 * (m + 4)),
                               _mm256_xor_si256(_mm256_permute2x128_si256(u[m], u[4 + m], 0x31), bias));
        }
        for (int j = 0; j < 8; ++j) std::memcpy(&h[j], &g[j].d, 2);
    } else {
        std::memset(out->q, 0, sizeof(out->q));
        for (int64_t j = 0; j < n_blocks; ++j) {
            for (int s = 0; s < 8; ++s)
                for (int k = 0; k < 4; ++k)
                    out->q[32 * s + 4 * j + k] = static_cast<uint8_t>(g[j].qs[4 * s + k]) ^ 0x80;
            std::memcpy(&h[j], &g[j].d, 2);
        }
    }
    _mm256_store_ps(out->d, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h))));
}

struct OctQ8_0 {
    using WGroup = WOct;
    using XGroup = XOctQ8;
    static int64_t n_groups(int64_t n) { return oct_groups(n); }
    __attribute__((always_inline)) static void unpack(const uint8_t* row, int64_t g, int64_t n, WOct* out) {
        unpack_group(reinterpret_cast<const block_q8_0*>(row) + 8 * g, std::min<int64_t>(8, n / kQK - 8 * g), out);
    }
};

}  // namespace DUET_TILE_ISA
}  // namespace duet::cpu
