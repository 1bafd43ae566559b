// oct_tile.h: the driver of the "8 lanes, 8 blocks" batch kernels (include only in *_avx2.cpp / *_vnni.cpp,
// after defining DUET_TILE_ISA). Their weights and activations come in groups of 8 blocks (Q4_0) or 8
// sub-blocks (one Q4_K super-block) laid side by side, one block per int32 lane (oct_q4_0.h draws the layout),
// so the integer dot products come out whole per lane and the float epilogue costs one op per 8 blocks.
//
// The weights are unpacked (nibbles to bytes, transposed to that layout) once per tile row and token chunk into
// a per-thread row buffer and reused by every token tile of the chunk; a chunk of one tile (a few-stream decode
// step) unpacks group by group into L1 instead. A kernel type K supplies:
//   WGroup, XGroup                       one unpacked weight group, one activation group (32-byte aligned)
//   n_groups(n)                          groups per row of n elements
//   unpack(const uint8_t* row, g, n, WGroup*)   group g of a weight row
//   kRows, kTokens                       the tile
//   group<NT>(const WGroup* w, const XGroup* const* x, g, __m256 (&f)[kRows][NT])
//                                        f[i][j] (8 lanes) += row i . token j over group g
#pragma once

#include <cstring>
#include <vector>

#include "kernels/cpu/tile_avx2.h"

namespace duet::cpu {
inline namespace DUET_TILE_ISA {

// The 8 steps of group g for rows x NT tokens: op(s, i, j, weights step s of row i, activations step s of
// token j) for every row and token, each step's vectors loaded once (the kernels' group() bodies).
template <int R, int NT, class WGroup, class XGroup, class Op>
__attribute__((always_inline)) inline void for_each_step(const WGroup* w, const XGroup* const* x, int64_t g, Op&& op) {
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
        __m256i xs[NT];
#pragma GCC unroll 8
        for (int j = 0; j < NT; ++j) xs[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(x[j][g].q + 32 * s));
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
            const __m256i ws = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[i].q + 32 * s));
#pragma GCC unroll 8
            for (int j = 0; j < NT; ++j) op(s, i, j, ws, xs[j]);
        }
    }
}

// A tile's rows in their file form (for tiles that unpack each group themselves), and its share of the next tile
// row to prefetch.
struct TileRows {
    const uint8_t* w;  // first row
    size_t row_size;
    int64_t n, nr;               // elements per row, valid rows
    const char* prefetch;        // this tile's share of the next tile row
    int64_t prefetch_per_group;  // bytes of it per group
};

// K::kRows rows x NT tokens over ng groups: out[i][j] = dot(row i, token j). The weights come from the
// unpacked row buffer wbuf, or (kUnpack: a single token tile per tile row) are unpacked group by group into a
// buffer that stays in L1. Either way the tile prefetches its share of the next tile row (rows side by side are
// short streams that the hardware prefetcher misses; tile_avx2.h does the same), into L2 so that it does not
// evict the activations.
template <class K, int NT, bool kUnpack>
inline void oct_tile(const typename K::WGroup* wbuf, const TileRows& rows, const typename K::XGroup* const* x,
                     int64_t ng, float out[K::kRows][K::kTokens]) {
    constexpr int R = K::kRows;
    __m256 f[R][NT];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NT; ++j) f[i][j] = _mm256_setzero_ps();
    typename K::WGroup local[R];
    if constexpr (kUnpack)
        for (int64_t i = rows.nr; i < R; ++i) std::memset(&local[i], 0, sizeof(local[i]));
    for (int64_t g = 0; g < ng; ++g) {
        for (int64_t p = 0; p < rows.prefetch_per_group; p += 64)
            _mm_prefetch(rows.prefetch + g * rows.prefetch_per_group + p, _MM_HINT_T1);
        const typename K::WGroup* w = wbuf + g * R;
        if constexpr (kUnpack) {
            for (int64_t i = 0; i < rows.nr; ++i) K::unpack(rows.w + i * rows.row_size, g, rows.n, &local[i]);
            w = local;
        }
        K::template group<NT>(w, x, g, f);
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NT; ++j) out[i][j] = hsum_ps(f[i][j]);
}

template <class K, int NT, bool kUnpack>
inline void oct_tile_n(int64_t nt, const typename K::WGroup* wbuf, const TileRows& rows,
                       const typename K::XGroup* const* x, int64_t ng, float out[K::kRows][K::kTokens]) {
    if constexpr (NT > 1) {
        if (nt >= NT) oct_tile<K, NT, kUnpack>(wbuf, rows, x, ng, out);
        else oct_tile_n<K, NT - 1, kUnpack>(nt, wbuf, rows, x, ng, out);
    } else {
        oct_tile<K, 1, kUnpack>(wbuf, rows, x, ng, out);
    }
}

// Rows [r0, r1) of Y for every token (a MatmulRowsFn), activations as rows of K::XGroup.
template <class K>
void matmul_rows_oct(const MatmulArgs& a, int64_t r0, int64_t r1) {
    constexpr int R = K::kRows, T = K::kTokens;
    const int64_t ng = K::n_groups(a.n);
    // The unpacked rows of one tile row: grown once per thread to the widest row seen, never on later calls.
    thread_local std::vector<typename K::WGroup> buffer;
    if (buffer.size() < static_cast<size_t>(ng * R)) buffer.resize(static_cast<size_t>(ng * R));
    typename K::WGroup* wbuf = buffer.data();
    for (int64_t tc = 0; tc < a.n_tokens; tc += kTokenChunk) {
        const int64_t te = std::min(a.n_tokens, tc + kTokenChunk);
        const int64_t n_tiles = (te - tc + T - 1) / T;
        const bool unpack_in_tile = n_tiles == 1;
        const int64_t prefetch_per_tile = static_cast<int64_t>(R * a.w_row_size) / n_tiles;
        for (int64_t r = r0; r < r1; r += R) {
            const int64_t nr = std::min<int64_t>(R, r1 - r);
            TileRows rows{a.w + r * a.w_row_size, a.w_row_size, a.n, nr, nullptr, prefetch_per_tile / ng};
            const char* next_rows = reinterpret_cast<const char*>(rows.w + R * a.w_row_size);
            if (!unpack_in_tile) {
                for (int64_t i = 0; i < R; ++i) {
                    for (int64_t g = 0; g < ng; ++g) {
                        if (i < nr) K::unpack(rows.w + i * a.w_row_size, g, a.n, &wbuf[g * R + i]);
                        else std::memset(&wbuf[g * R + i], 0, sizeof(wbuf[0]));
                    }
                }
            }
            for (int64_t k = 0; k < n_tiles; ++k) {
                const int64_t t = tc + k * T, nt = std::min<int64_t>(T, te - t);
                const typename K::XGroup* x[T] = {};
                for (int64_t j = 0; j < nt; ++j)
                    x[j] = reinterpret_cast<const typename K::XGroup*>(a.x + (t + j) * a.x_row_size);
                rows.prefetch = next_rows + k * prefetch_per_tile;
                float out[R][T];
                if (unpack_in_tile) oct_tile_n<K, T, true>(nt, wbuf, rows, x, ng, out);
                else oct_tile_n<K, T, false>(nt, wbuf, rows, x, ng, out);
                for (int64_t j = 0; j < nt; ++j)
                    for (int64_t i = 0; i < nr; ++i) a.y[(t + j) * a.d + r + i] = out[i][j];
            }
        }
    }
}

}  // namespace DUET_TILE_ISA
}  // namespace duet::cpu
