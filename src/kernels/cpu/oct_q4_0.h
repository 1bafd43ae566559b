// oct_q4_0.h: the Q4_0 batch kernels' shared layout (include only in *_avx2.cpp / *_vnni.cpp, after defining
// DUET_TILE_ISA): eight blocks side by side, one per int32 lane, so the integer dot products of a group of 8
// blocks come out whole per lane and the float epilogue (convert, scale, accumulate) costs one op each per 256
// values instead of per 64 as in the pair kernels, whose epilogue kept the vector multiply pipes half busy.
//
// One group of 8 blocks, the same for a tile's unpacked weight rows (WOct) and the activations (XOctQ8):
//
//             lane 0          lane 1          ...   lane 7            (4 bytes per lane, 32 per step)
//   step 0    blk0[0..3]      blk1[0..3]            blk7[0..3]
//   step 1    blk0[4..7]      blk1[4..7]            blk7[4..7]
//   ...
//   step 7    blk0[28..31]    blk1[28..31]          blk7[28..31]
//   d         d0              d1                    d7                (float scales)
//   offs      -8*sum(q0)      -8*sum(q1)            -8*sum(q7)        (activations only, int32)
//
// A multiply-add of weights step s with activations step s adds 4 products to each block's own lane; starting
// the sums at offs applies Q4_0's -8 in integers, so after 8 steps lane j holds block j's exact integer dot
// product and   y += cvt(sums) * (d_w * d_x).   A group past the row's end is padded with zero blocks.
//
// OctQ4_0 is the layout half of a kernel type for oct_tile.h's driver; the kernels add the tile and its group().
#pragma once

#include "kernels/cpu/oct_tile.h"

namespace duet::cpu {
inline namespace DUET_TILE_ISA {

struct alignas(32) WOct {
    uint8_t q[256];
    float d[8];
};
static_assert(sizeof(WOct) == 288);

// The n_blocks (1-8) Q4_0 blocks at g into one group, zero-padded.
__attribute__((always_inline)) inline void unpack_group(const block_q4_0* g, int64_t n_blocks, WOct* out) {
    if (n_blocks == 8) {
        const __m256i mask = low_nibbles_mask();
        auto load_pair = [&](int j) {  // [block j qs | block j+4 qs]
            return _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(g[j + 4].qs),
                                       reinterpret_cast<const __m128i*>(g[j].qs));
        };
        const __m256i y0 = load_pair(0), y1 = load_pair(1), y2 = load_pair(2), y3 = load_pair(3);
        // 4x4 dword transpose in each 128-bit half: t_s = dword s of blocks 0-3 | dword s of blocks 4-7
        const __m256i a0 = _mm256_unpacklo_epi32(y0, y1), a1 = _mm256_unpackhi_epi32(y0, y1);
        const __m256i a2 = _mm256_unpacklo_epi32(y2, y3), a3 = _mm256_unpackhi_epi32(y2, y3);
        auto store_step = [&](int s, __m256i t) {  // low nibbles: values 4s.., high nibbles: values 16 + 4s..
            _mm256_store_si256(reinterpret_cast<__m256i*>(out->q + 32 * s), _mm256_and_si256(t, mask));
            _mm256_store_si256(reinterpret_cast<__m256i*>(out->q + 32 * (s + 4)),
                               _mm256_and_si256(_mm256_srli_epi16(t, 4), mask));
        };
        store_step(0, _mm256_unpacklo_epi64(a0, a2));
        store_step(1, _mm256_unpackhi_epi64(a0, a2));
        store_step(2, _mm256_unpacklo_epi64(a1, a3));
        store_step(3, _mm256_unpackhi_epi64(a1, a3));
        // the 8 scales: word 0 of each block, interleaved down to d0..d3 | d4..d7 and moved into one 128-bit half
        auto load_head = [&](int j) {  // [block j bytes 0-15 | block j+4 bytes 0-15]
            return _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(&g[j + 4]),
                                       reinterpret_cast<const __m128i*>(&g[j]));
        };
        const __m256i d01 = _mm256_unpacklo_epi16(load_head(0), load_head(1));  // d0 d1 .. | d4 d5 ..
        const __m256i d23 = _mm256_unpacklo_epi16(load_head(2), load_head(3));  // d2 d3 .. | d6 d7 ..
        const __m128i d16 = _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_unpacklo_epi32(d01, d23), 0x08));
        _mm256_store_ps(out->d, _mm256_cvtph_ps(d16));
    } else {
        std::memset(out, 0, sizeof(WOct));
        for (int64_t j = 0; j < n_blocks; ++j) {
            const block_q4_0& blk = g[j];
            for (int s = 0; s < 4; ++s)
                for (int k = 0; k < 4; ++k) {
                    out->q[32 * s + 4 * j + k] = blk.qs[4 * s + k] & 15;
                    out->q[32 * (s + 4) + 4 * j + k] = blk.qs[4 * s + k] >> 4;
                }
            uint16_t h;
            std::memcpy(&h, &blk.d, 2);
            out->d[j] = f16_to_f32(h);
        }
    }
}

struct OctQ4_0 {
    using WGroup = WOct;
    using XGroup = XOctQ8;
    static int64_t n_groups(int64_t n) { return oct_groups(n); }
    __attribute__((always_inline)) static void unpack(const uint8_t* row, int64_t g, int64_t n, WOct* out) {
        unpack_group(reinterpret_cast<const block_q4_0*>(row) + 8 * g, std::min<int64_t>(8, n / kQK - 8 * g), out);
    }
};

}  // namespace DUET_TILE_ISA
}  // namespace duet::cpu
