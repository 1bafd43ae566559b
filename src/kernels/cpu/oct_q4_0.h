// oct_q4_0.h: the Q4_0 batch kernels' shared part (include only in *_avx2.cpp / *_vnni.cpp, after defining
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
// The weights are unpacked (nibbles to bytes, transposed to the layout above) once per tile row and token
// chunk into a per-thread row buffer and reused by every token tile of the chunk; a chunk of one tile (a
// few-stream decode step) unpacks group by group into L1 instead. A kernel type K supplies the tile shape
// (kRows, kTokens) and group<NT>(w, x, g, f): f[i][j] += row i . token j over group g.
#pragma once

#include <cstring>
#include <vector>

#include "kernels/cpu/tile_avx2.h"

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
            return _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(&g[j + 4]), reinterpret_cast<const __m128i*>(&g[j]));
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

// One Q4_0 row of nb blocks into ceil(nb / 8) groups at out[g * stride] (a tile's row buffer is group-major).
inline void unpack_row(const block_q4_0* w, int64_t nb, WOct* out, int64_t stride) {
    for (int64_t b0 = 0; b0 < nb; b0 += 8, out += stride) unpack_group(w + b0, std::min<int64_t>(8, nb - b0), out);
}

// A tile's rows in Q4_0 form (for tiles that unpack each group themselves), and its share of the next tile
// row to prefetch.
struct TileRows {
    const uint8_t* w;          // first row
    size_t row_size;
    int64_t nb, nr;            // blocks per row, valid rows
    const char* prefetch;      // this tile's share of the next tile row
    int64_t prefetch_per_group;  // bytes of it per group
};

// K::kRows rows x NT tokens over ng groups: out[i][j] = dot(row i, token j). The weights come from the
// unpacked row buffer wbuf, or (kUnpack: a single token tile per tile row) are unpacked group by group into a
// buffer that stays in L1. Either way the tile prefetches its share of the next tile row (rows side by side are
// short streams that the hardware prefetcher misses; tile_avx2.h does the same), into L2 so that it does not
// evict the activations.
template <class K, int NT, bool kUnpack>
inline void oct_tile(const WOct* wbuf, const TileRows& rows, const XOctQ8* const* x, int64_t ng,
                     float out[K::kRows][K::kTokens]) {
    constexpr int R = K::kRows;
    __m256 f[R][NT];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NT; ++j) f[i][j] = _mm256_setzero_ps();
    WOct local[R];
    if constexpr (kUnpack)
        for (int64_t i = rows.nr; i < R; ++i) std::memset(&local[i], 0, sizeof(WOct));
    for (int64_t g = 0; g < ng; ++g) {
        for (int64_t p = 0; p < rows.prefetch_per_group; p += 64)
            _mm_prefetch(rows.prefetch + g * rows.prefetch_per_group + p, _MM_HINT_T1);
        const WOct* w = wbuf + g * R;
        if constexpr (kUnpack) {
            const int64_t n_blocks = std::min<int64_t>(8, rows.nb - 8 * g);
            for (int64_t i = 0; i < rows.nr; ++i)
                unpack_group(reinterpret_cast<const block_q4_0*>(rows.w + i * rows.row_size) + 8 * g, n_blocks,
                             &local[i]);
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
inline void oct_tile_n(int64_t nt, const WOct* wbuf, const TileRows& rows, const XOctQ8* const* x, int64_t ng,
                       float out[K::kRows][K::kTokens]) {
    if constexpr (NT > 1) {
        if (nt >= NT) oct_tile<K, NT, kUnpack>(wbuf, rows, x, ng, out);
        else oct_tile_n<K, NT - 1, kUnpack>(nt, wbuf, rows, x, ng, out);
    } else {
        oct_tile<K, 1, kUnpack>(wbuf, rows, x, ng, out);
    }
}

// Rows [r0, r1) of Y for every token (a MatmulRowsFn), activations as XOctQ8 rows.
template <class K>
void matmul_rows_oct(const MatmulArgs& a, int64_t r0, int64_t r1) {
    constexpr int R = K::kRows, T = K::kTokens;
    const int64_t nb = a.n / kQK, ng = (nb + 7) / 8;
    // The unpacked rows of one tile row: grown once per thread to the widest row seen, never on later calls.
    thread_local std::vector<WOct> buffer;
    if (buffer.size() < static_cast<size_t>(ng * R)) buffer.resize(static_cast<size_t>(ng * R));
    WOct* wbuf = buffer.data();
    for (int64_t tc = 0; tc < a.n_tokens; tc += kTokenChunk) {
        const int64_t te = std::min(a.n_tokens, tc + kTokenChunk);
        const int64_t n_tiles = (te - tc + T - 1) / T;
        const bool unpack_in_tile = n_tiles == 1;
        const int64_t prefetch_per_tile = static_cast<int64_t>(R * a.w_row_size) / n_tiles;
        for (int64_t r = r0; r < r1; r += R) {
            const int64_t nr = std::min<int64_t>(R, r1 - r);
            TileRows rows{a.w + r * a.w_row_size, a.w_row_size, nb, nr, nullptr, prefetch_per_tile / ng};
            const char* next_rows = reinterpret_cast<const char*>(rows.w + R * a.w_row_size);
            if (!unpack_in_tile) {
                for (int64_t i = 0; i < R; ++i) {
                    if (i < nr) unpack_row(reinterpret_cast<const block_q4_0*>(rows.w + i * a.w_row_size), nb, wbuf + i, R);
                    else for (int64_t g = 0; g < ng; ++g) std::memset(&wbuf[g * R + i], 0, sizeof(WOct));
                }
            }
            for (int64_t k = 0; k < n_tiles; ++k) {
                const int64_t t = tc + k * T, nt = std::min<int64_t>(T, te - t);
                const XOctQ8* x[T];
                for (int64_t j = 0; j < nt; ++j) x[j] = reinterpret_cast<const XOctQ8*>(a.x + (t + j) * a.x_row_size);
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
