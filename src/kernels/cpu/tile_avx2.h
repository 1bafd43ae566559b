// tile_avx2.h: AVX2 helpers and the tiled matmul driver shared by the *_avx2.cpp kernels (include only there).
//
// A kernel type K describes one weight format:
//   WBlock, XBlock, kElems          weight block, activation block, elements per block
//   Prep prep(const WBlock*)        decode a weight block once per tile row (reused for every token)
//   XPrep xprep(const XBlock*)      load an activation block once per tile column (reused for every row)
//   __m256 apply(Prep, XPrep, acc)  acc += partial dot (the 8 lanes sum to the block's dot product)
// The driver walks rows r0..r1 in tiles of NR rows x NT tokens; each weight block is decoded once per tile
// and each activation block loaded once per tile, over token chunks that stay in L2.
//
// The header is compiled into TUs with different -m flags (AVX2, AVX-512 VNNI): everything in it lives in an
// inline namespace named by DUET_TILE_ISA, so no inline function compiled for one ISA can be picked by the
// linker for the other.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/kernels_avx2.h"

#ifndef DUET_TILE_ISA
#define DUET_TILE_ISA avx2
#endif

namespace duet::cpu {
inline namespace DUET_TILE_ISA {

inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

// Broadcast one IEEE half from memory to 8 floats.
inline __m256 load_f16_broadcast(const uint16_t* h) { return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(*h))); }

// Constants as loads from memory: GCC otherwise rematerializes set1 constants (mov + movd + broadcast) inside
// the hot loops; a load folds into the using instruction.
alignas(32) inline constexpr int16_t kOnes16[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
alignas(32) inline constexpr uint8_t kLowNibbles[32] = {15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
                                                        15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15};
inline __m256i ones_epi16() { return _mm256_load_si256(reinterpret_cast<const __m256i*>(kOnes16)); }
inline __m256i low_nibbles_mask() { return _mm256_load_si256(reinterpret_cast<const __m256i*>(kLowNibbles)); }

// Integer dot of 32 unsigned (0..127) bytes with 32 signed bytes, as 8 float lanes summing to it.
inline __m256 dot_u8_i8(__m256i u, __m256i s) {
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u, s), ones_epi16()));
}

// Two Q4_0 blocks loaded as one 256-bit vector (the Q4_0 pair kernels, AVX2 and VNNI): low nibbles | high
// nibbles of both blocks, and the two scales as [d0 x4 | d1 x4] (matching XPairQ8's layout).
struct Q4_0Pair {
    block_q4_0 b[2];
};
static_assert(sizeof(Q4_0Pair) == 2 * sizeof(block_q4_0));
struct Q4_0PairPrep {
    __m256i lo, hi;
    __m256 d;
};
inline Q4_0PairPrep unpack_q4_0_pair(const Q4_0Pair* w) {
    const __m256i raw = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w->b[1].qs)),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(w->b[0].qs)));
    const __m256i mask = low_nibbles_mask();
    uint16_t d0, d1;
    std::memcpy(&d0, &w->b[0].d, 2);
    std::memcpy(&d1, &w->b[1].d, 2);
    const __m256 d2 = _mm256_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d0 | (static_cast<uint32_t>(d1) << 16))));
    return {_mm256_and_si256(raw, mask), _mm256_and_si256(_mm256_srli_epi16(raw, 4), mask),
            _mm256_permutevar8x32_ps(d2, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1))};
}

constexpr int64_t kTokenChunk = 64;  // tokens whose activations stay in L2 while a thread sweeps its rows

// Decode walks one row at a time by default: the weights are then one linear stream that the hardware
// prefetchers follow. A kernel may set K::kDecodeRows to walk several rows side by side (the VNNI Q4_0 kernel:
// 4, with the next tile prefetched); for the AVX2 K-quant kernels that measured 2-4x slower (register spills).
constexpr int kDecodeRows = 1;
template <class K>
constexpr int kDecodeRowsOf = kDecodeRows;
template <class K>
requires requires { K::kDecodeRows; }
constexpr int kDecodeRowsOf<K> = K::kDecodeRows;

template <class K, int NR, int NT>
inline void matmul_tile(const MatmulArgs& a, int64_t r, int64_t t, int64_t nb) {
    const typename K::WBlock* w[NR];
    const typename K::XBlock* x[NT];
#pragma GCC unroll 8
    for (int i = 0; i < NR; ++i) w[i] = reinterpret_cast<const typename K::WBlock*>(a.w + (r + i) * a.w_row_size);
#pragma GCC unroll 8
    for (int j = 0; j < NT; ++j) x[j] = reinterpret_cast<const typename K::XBlock*>(a.x + (t + j) * a.x_row_size);
    __m256 acc[NR][NT];
#pragma GCC unroll 8
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NT; ++j) acc[i][j] = _mm256_setzero_ps();
    __m256 acc_odd = _mm256_setzero_ps();
    // NR rows read side by side are NR short streams that the hardware prefetcher follows badly (multi-row
    // decode read DRAM at 8 GB/s instead of 23 per thread), so multi-row tiles prefetch the next tile's rows,
    // contiguous after this tile's, at the pace this tile consumes its own: NR blocks' bytes per block step.
    constexpr int64_t kBlockBytes = static_cast<int64_t>(sizeof(typename K::WBlock));
    const char* next_tile = reinterpret_cast<const char*>(w[0]) + NR * static_cast<int64_t>(a.w_row_size);
    for (int64_t b = 0; b < nb; ++b) {
        if constexpr (NR > 1) {
#pragma GCC unroll 8
            for (int i = 0; i < NR; ++i) _mm_prefetch(next_tile + (b * NR + i) * kBlockBytes, _MM_HINT_T0);
        }
        if constexpr (NT == 1 && NR == 1) {
            // one row, one token: two accumulators (even / odd blocks) hide the FMA latency
            if (b + 1 < nb) {
                acc[0][0] = K::apply(K::prep(w[0] + b), K::xprep(x[0] + b), acc[0][0]);
                acc_odd = K::apply(K::prep(w[0] + b + 1), K::xprep(x[0] + b + 1), acc_odd);
                ++b;
            } else {
                acc[0][0] = K::apply(K::prep(w[0] + b), K::xprep(x[0] + b), acc[0][0]);
            }
            continue;
        } else if constexpr (NT == 1) {
            // one token: decode and use each row's block right away (few live registers, no spills)
            const typename K::XPrep xp = K::xprep(x[0] + b);
#pragma GCC unroll 8
            for (int i = 0; i < NR; ++i) acc[i][0] = K::apply(K::prep(w[i] + b), xp, acc[i][0]);
            continue;
        }
        typename K::Prep p[NR];
#pragma GCC unroll 8
        for (int i = 0; i < NR; ++i) p[i] = K::prep(w[i] + b);
#pragma GCC unroll 8
        for (int j = 0; j < NT; ++j) {
            const typename K::XPrep xp = K::xprep(x[j] + b);
#pragma GCC unroll 8
            for (int i = 0; i < NR; ++i) acc[i][j] = K::apply(p[i], xp, acc[i][j]);
        }
    }
    acc[0][0] = _mm256_add_ps(acc[0][0], acc_odd);
    // every index is a compile-time constant after unrolling, so acc stays in registers
#pragma GCC unroll 8
    for (int j = 0; j < NT; ++j)
#pragma GCC unroll 8
        for (int i = 0; i < NR; ++i) a.y[(t + j) * a.d + r + i] = hsum_ps(acc[i][j]);
}

// The last tokens of a chunk (fewer than a tile's width): one tile of NR rows x n_left tokens, so a batch of
// 2-3 tokens (a server's decode step) still decodes each weight block once.
template <class K, int NR, int NT>
inline void matmul_tail_tile(const MatmulArgs& a, int64_t r, int64_t t, int64_t nb, int64_t n_left) {
    if constexpr (NT > 1) {
        if (n_left >= NT) matmul_tile<K, NR, NT>(a, r, t, nb);
        else matmul_tail_tile<K, NR, NT - 1>(a, r, t, nb, n_left);
    } else {
        matmul_tile<K, NR, 1>(a, r, t, nb);
    }
}

// Tile shapes: decode 1 row x 1 token (a linear weight stream); batches K::kPrefillRows x K::kPrefillTokens.
template <class K>
void matmul_rows(const MatmulArgs& a, int64_t r0, int64_t r1) {
    const int64_t nb = a.n / K::kElems;
    if (a.n_tokens == 1) {
        int64_t r = r0;
        constexpr int DR = kDecodeRowsOf<K>;
        for (; r + DR <= r1; r += DR) matmul_tile<K, DR, 1>(a, r, 0, nb);
        for (; r < r1; ++r) matmul_tile<K, 1, 1>(a, r, 0, nb);
        return;
    }
    constexpr int PR = K::kPrefillRows, PT = K::kPrefillTokens;
    for (int64_t tc = 0; tc < a.n_tokens; tc += kTokenChunk) {
        const int64_t te = std::min(a.n_tokens, tc + kTokenChunk);
        int64_t r = r0;
        for (; r + PR <= r1; r += PR) {
            int64_t t = tc;
            for (; t + PT <= te; t += PT) matmul_tile<K, PR, PT>(a, r, t, nb);
            if (t < te) matmul_tail_tile<K, PR, PT - 1>(a, r, t, nb, te - t);
        }
        for (; r < r1; ++r) {
            int64_t t = tc;
            for (; t + PT <= te; t += PT) matmul_tile<K, 1, PT>(a, r, t, nb);
            if (t < te) matmul_tail_tile<K, 1, PT - 1>(a, r, t, nb, te - t);
        }
    }
}

}  // namespace DUET_TILE_ISA
}  // namespace duet::cpu
