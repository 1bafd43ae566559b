// tile_avx512.h: the driver of the full-width (512-bit) decode and few-stream kernels (*_avx512.cpp only).
//
// Decode and a server's few-stream steps (1-4 tokens) are one pass over the weights per step. These kernels
// decode each weight block once per step (K::prep) and apply it to every token of the step in registers
// (K::apply), so a step of 4 streams adds only the multiply-adds of the 3 extra tokens, never a second unpack.
// A kernel type K describes one weight format on 512-bit vectors:
//   WBlock, XBlock, kElems          weight unit, activation unit, elements per unit
//   Prep prep(const WBlock*)        decode one weight unit (once per step)
//   XPrep xprep(const XBlock*)      the activation unit of one token (loads that fold into apply)
//   __m512 apply(Prep, XPrep, acc)  acc += partial dot (the 16 lanes sum to the unit's dot product)
//   kRows                           rows walked side by side (independent accumulator chains)
// Batches of more tokens are walked 4 tokens at a time (kernels.cpp sends them to the batch kernels instead).
//
// Everything lives in tile_avx2.h's per-ISA inline namespace (DUET_TILE_ISA avx512), so no inline function
// compiled with these flags can be picked by the linker for a 256-bit TU.
#pragma once

#define DUET_TILE_ISA avx512
#include "kernels/cpu/tile_avx2.h"

namespace duet::cpu {
inline namespace DUET_TILE_ISA {

constexpr int kWideTokens = 4;  // tokens per pass

inline float hsum512_ps(__m512 v) { return _mm512_reduce_add_ps(v); }

// NR rows x NT tokens over nb units: y[t + j][r + i] = dot(row r + i, token t + j).
template <class K, int NR, int NT>
inline void wide_tile(const MatmulArgs& a, int64_t r, int64_t t, int64_t nb) {
    const typename K::WBlock* w[NR];
    const typename K::XBlock* x[NT];
#pragma GCC unroll 8
    for (int i = 0; i < NR; ++i) w[i] = reinterpret_cast<const typename K::WBlock*>(a.w + (r + i) * a.w_row_size);
#pragma GCC unroll 8
    for (int j = 0; j < NT; ++j) x[j] = reinterpret_cast<const typename K::XBlock*>(a.x + (t + j) * a.x_row_size);
    __m512 acc[NR][NT];
#pragma GCC unroll 8
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NT; ++j) acc[i][j] = _mm512_setzero_ps();
    // Rows side by side are NR short streams that the hardware prefetcher follows badly: prefetch the next
    // tile's rows (contiguous after this tile's) at the pace this tile reads its own (tile_avx2.h does the same).
    constexpr int64_t kUnitBytes = static_cast<int64_t>(sizeof(typename K::WBlock));
    const char* next_tile = reinterpret_cast<const char*>(w[0]) + NR * static_cast<int64_t>(a.w_row_size);
    for (int64_t b = 0; b < nb; ++b) {
        if constexpr (NR > 1) {
#pragma GCC unroll 8
            for (int i = 0; i < NR; ++i)
                for (int64_t off = 0; off < kUnitBytes; off += 64)
                    _mm_prefetch(next_tile + (b * NR + i) * kUnitBytes + off, _MM_HINT_T0);
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
#pragma GCC unroll 8
    for (int j = 0; j < NT; ++j)
#pragma GCC unroll 8
        for (int i = 0; i < NR; ++i) a.y[(t + j) * a.d + r + i] = hsum512_ps(acc[i][j]);
}

template <class K, int NR>
inline void wide_tile_n(const MatmulArgs& a, int64_t r, int64_t t, int64_t nb, int64_t nt) {
    switch (nt) {
        case 1:
            return wide_tile<K, NR, 1>(a, r, t, nb);
        case 2:
            return wide_tile<K, NR, 2>(a, r, t, nb);
        case 3:
            return wide_tile<K, NR, 3>(a, r, t, nb);
        default:
            return wide_tile<K, NR, 4>(a, r, t, nb);
    }
}

// Rows [r0, r1) of Y for every token (a MatmulRowsFn): tiles of K::kRows rows x up to 4 tokens.
template <class K>
void matmul_rows_wide(const MatmulArgs& a, int64_t r0, int64_t r1) {
    const int64_t nb = a.n / K::kElems;
    constexpr int NR = K::kRows;
    for (int64_t t = 0; t < a.n_tokens; t += kWideTokens) {
        const int64_t nt = std::min<int64_t>(kWideTokens, a.n_tokens - t);
        int64_t r = r0;
        for (; r + NR <= r1; r += NR) wide_tile_n<K, NR>(a, r, t, nb, nt);
        for (; r < r1; ++r) wide_tile_n<K, 1>(a, r, t, nb, nt);
    }
}

}  // namespace DUET_TILE_ISA
}  // namespace duet::cpu
