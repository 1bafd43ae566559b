// matmul_rows16_amx.cpp: Q4_0, Q8_0, Q4_K and Q6_K prefill over the rows16 layouts on AMX tiles (amx.h), bf16 x
// bf16 -> fp32.
//
// A thread's rows [r0, r1) go by in chunks of blocks (a whole row when it has at most kAmxChunkBlocks; longer rows in
// chunks whose A tiles of every token fit kChunkATileBytes, so they stay in L2 while the groups go by), and in each
// chunk two groups (32 rows) at a time:
//
//   dequantize:  each block of each group -> one B tile, 16 rows of 64 bytes: row i holds, for each of the 16 weight
//                rows, the bf16 pair (value 2i, value 2i+1), rounded from the reference's float     (AVX-512, 1 KiB)
//   every 32 tokens of the step (the prepared A tiles of 16 tokens each, amx.h):
//                C tiles = 0 (the first chunk), else the sums so far, loaded back from y
//                per block: A0, A1 (tokens t.., t+16..), B0, B1 (the pair's groups) -> 4 TDPBF16PS
//                  tmm4 += A0.B0  tmm5 += A0.B1   (y rows t.. ;    columns r.., r+16..)
//                  tmm6 += A1.B0  tmm7 += A1.B1   (y rows t+16..)
//                C tiles -> y
//
// so the weights are dequantized once a step and every TDP reads 2 KiB of tiles for 16 x 16 x 32 products. Blocks
// keep their own scales inside the bf16 values: nothing is scaled after the sums (with 8-bit tiles, TDPBSUD, each
// block's sums would have to be stored and scaled by the vector units: 1.2-1.4x the VNNI kernel, where this is 2x+).
// The last tokens of a step (below a multiple of 16) take the VNNI kernel of the layout.
//
// Measured on an Intel Xeon with AMX (2 vCPUs, KVM; bench_kernels batch_packed/*/8960x1536/tokens:T/threads:2), VNNI
// -> AMX: Q8_0 at 48, 64, 256 tokens 2083 -> 1757, 2615 -> 1906, 8763 -> 4153 us; Q4_K 2207 -> 1887, 3193 -> 2595,
// 11533 -> 4453; at 32 tokens the two were even (amx.h's kAmxMinTokens).
// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "common/assert.h"
#include "kernels/cpu/amx.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/ref/packed.h"

namespace duet::cpu {

namespace {

constexpr int64_t kBlock = 32;           // values per block (Q4_0, Q8_0) and per tile row of bf16
constexpr int64_t kTileElems = 16 * 32;  // bf16 values per A or B tile (16 rows of 64 bytes)
constexpr int64_t kAmxChunkBlocks = 64;  // most blocks of a group dequantized at once: 2 x 64 KiB of B tiles (stack)
constexpr int64_t kChunkATileBytes = 512 << 10;  // A tiles of a chunk, every token

// Every tile the kernel uses is 16 rows of 64 bytes (palette 1: tmm0..7).
struct alignas(64) TileConfig {
    uint8_t palette = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
    uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};
static_assert(sizeof(TileConfig) == 64);

// The tile instructions, as asm (GCC 12's _tile_* macros clobber all memory on stores and declare no memory read on
// loads). Loads and stores clobber memory here too: the dequantized tiles are written just before they are read.
#define DUET_TILE_LOAD(T, base, stride) \
    asm volatile("tileloadd (%0,%1,1), %%tmm" #T ::"r"(base), "r"(static_cast<int64_t>(stride)) : "memory")
#define DUET_TILE_STORE(T, base, stride) \
    asm volatile("tilestored %%tmm" #T ", (%0,%1,1)" ::"r"(base), "r"(static_cast<int64_t>(stride)) : "memory")
#define DUET_TILE_ZERO(T) asm volatile("tilezero %%tmm" #T ::)
#define DUET_TILE_DP(C, A, B) asm volatile("tdpbf16ps %%tmm" #B ", %%tmm" #A ", %%tmm" #C ::)

// One 16 x 4-byte vector of a block (lane r: bytes of values 4k .. 4k+3 of weight row r, unsigned) -> B tile rows 2k
// and 2k+1 (out, 32 bf16 each): the pairs (4k, 4k+1) and (4k+2, 4k+3) of every row, each value(q) (the format's
// dequantization of 16 lanes of int32 q, rounded as its reference rounds) rounded to bf16.
template <class Value>
inline void dequant_vector(__m512i v, const Value& value, uint16_t* out) {
    const __m512i m8 = _mm512_set1_epi32(0xff);
    // word 2r <- first vector's lane r, word 2r+1 <- second's (cvtne2ps_pbh puts them in halves)
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                                6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512 f0 = value(_mm512_and_si512(v, m8));
    const __m512 f1 = value(_mm512_and_si512(_mm512_srli_epi32(v, 8), m8));
    const __m512 f2 = value(_mm512_and_si512(_mm512_srli_epi32(v, 16), m8));
    const __m512 f3 = value(_mm512_srli_epi32(v, 24));
    _mm512_store_si512(out, _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(f1, f0)));
    _mm512_store_si512(out + 32, _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(f3, f2)));
}

// (q - offset) * scale, one rounding: the reference's Q4_0 / Q8_0 ((q - offset) * d) and Q6_K ((d * sc) * q').
inline auto offset_times(__m512i offset, __m512 scale) {
    return [=](__m512i q) { return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, offset)), scale); };
}

// Where block b of a group of nb blocks keeps its 16 scales and its quants (packed.h: units of two blocks, scales
// first; a last unit of one block when nb is odd).
template <int64_t kQuantBytes>
inline void block_bytes(const uint8_t* group, int64_t b, int64_t nb, const uint16_t** dh, const uint8_t** qs) {
    constexpr int64_t kUnitBytes = 2 * (32 + kQuantBytes);
    const uint8_t* unit = group + b / 2 * kUnitBytes;
    const bool whole_unit = b / 2 * 2 + 1 < nb;
    *dh = reinterpret_cast<const uint16_t*>(unit) + (b % 2) * 16;
    *qs = unit + (whole_unit ? 64 : 32) + (b % 2) * kQuantBytes;
}

// The formats: block b (32 values) of a group of nb blocks -> its B tile (1 KiB at out, 64-byte aligned).
template <WeightLayout L>
struct LegacyAmx {  // Q4_0, Q8_0 (packed.h)
    static void dequant(const uint8_t* group, int64_t b, int64_t nb, uint16_t* out) {
        constexpr bool kQ8 = L == WeightLayout::q8_0_rows16;
        const uint16_t* dh;
        const uint8_t* qs;
        block_bytes<kQ8 ? 512 : 256>(group, b, nb, &dh, &qs);
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dh)));
        const auto value = offset_times(_mm512_set1_epi32(kQ8 ? 128 : 8), dw);
        if constexpr (kQ8) {
#pragma GCC unroll 8
            for (int k = 0; k < 8; ++k)  // vector k: values 4k .. 4k+3
                dequant_vector(_mm512_loadu_si512(qs + 64 * k), value, out + 64 * k);
        } else {
            const __m512i m4 = _mm512_set1_epi8(0x0f);
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) {  // low nibbles: values 4k .., high: 16 + 4k ..
                const __m512i q = _mm512_loadu_si512(qs + 64 * k);
                dequant_vector(_mm512_and_si512(q, m4), value, out + 64 * k);
                dequant_vector(_mm512_and_si512(_mm512_srli_epi16(q, 4), m4), value, out + 64 * (4 + k));
            }
        }
    }
};

// Q4_K (packed_q4_k.cpp): block b is sub-block j = b % 8 of super-block b / 8, whose 2368 bytes hold the quants as
// [4 chunks][8 k][16 rows][4 bytes] (sub-block 2c in chunk c's low nibbles, 2c+1 in its high), then the 16 rows'
// 6-bit scales [8][16], mins [4 pairs][16 rows][2], d [16] and dmin [16] (halves).
struct Q4KAmx {
    static void dequant(const uint8_t* group, int64_t b, int64_t /*nb*/, uint16_t* out) {
        constexpr int64_t kSuperBlockBytes = 2368, kScales = 2048, kMins = 2176, kD = 2304, kDmin = 2336;
        const uint8_t* sb = group + b / 8 * kSuperBlockBytes;
        const int j = static_cast<int>(b % 8);
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kD)));
        const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kDmin)));
        const __m512i sc =
            _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kScales + 16 * j)));
        __m512i m =
            _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kMins + 32 * (j / 2))));
        m = j % 2 ? _mm512_srli_epi32(m, 8) : _mm512_and_si512(m, _mm512_set1_epi32(0xff));
        const __m512 scale = _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc));   // the reference's d1 = d * sc,
        const __m512 bias = _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m));  // m1 = dmin * m, d1 * q - m1
        const auto value = [&](__m512i q) {
            __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(q), scale);
            asm("" : "+v"(p));  // no contraction into an FMA: the reference rounds the product first
            return _mm512_sub_ps(p, bias);
        };
        const uint8_t* qs = sb + j / 2 * 512;
        const __m512i m4 = _mm512_set1_epi8(0x0f);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
            const __m512i q = _mm512_loadu_si512(qs + 64 * k);
            const __m512i v = j % 2 ? _mm512_and_si512(_mm512_srli_epi16(q, 4), m4) : _mm512_and_si512(q, m4);
            dequant_vector(v, value, out + 64 * k);
        }
    }
};

// Q6_K (packed_q6_k.cpp): the group's scales first (per super-block [16][16 rows] int8, then the 16 rows' d as
// halves; the section padded to 64 bytes), then per super-block ql [32 k][16 rows][4 bytes] and qh [16 k][16 rows]
// [4 bytes]. Block b' = 4h + f of a super-block holds values 128h + 32f + 4m + j (m = 0..7): the low (f < 2) or high
// nibbles of ql vector 16h + 8(f % 2) + m, bits 2f and 2f+1 of qh vector 8h + m above them, and is
// (d * sc[2b' + m / 4]) * (q - 32).
struct Q6KAmx {
    static void dequant(const uint8_t* group, int64_t b, int64_t nb, uint16_t* out) {
        constexpr int64_t kScaleBytes = 256 + 32, kQuantBytes = 2048 + 1024;
        const int64_t nsb = nb / 8;
        const uint8_t* sc = group + b / 8 * kScaleBytes;
        const uint8_t* ql = group + (nsb * kScaleBytes + 63) / 64 * 64 + b / 8 * kQuantBytes;
        const uint8_t* qh = ql + 2048;
        const int bb = static_cast<int>(b % 8), h = bb / 4, f = bb % 4;
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sc + 256)));
        auto scale = [&](int s) {
            const __m128i sc16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + 16 * s));
            return _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc16)));
        };
        const __m512i offset = _mm512_set1_epi32(32);
        const auto value_lo = offset_times(offset, scale(2 * bb)), value_hi = offset_times(offset, scale(2 * bb + 1));
        const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(0x03);
#pragma GCC unroll 8
        for (int m = 0; m < 8; ++m) {
            const __m512i l = _mm512_loadu_si512(ql + 64 * (16 * h + 8 * (f % 2) + m));
            const __m512i nib = f < 2 ? _mm512_and_si512(l, m4) : _mm512_and_si512(_mm512_srli_epi16(l, 4), m4);
            const __m512i hb = _mm512_loadu_si512(qh + 64 * (8 * h + m));
            const __m512i high =
                _mm512_slli_epi16(_mm512_and_si512(_mm512_srl_epi16(hb, _mm_cvtsi32_si128(2 * f)), m2), 4);
            const __m512i v = _mm512_or_si512(nib, high);  // 6-bit values, one a byte
            if (m < 4) dequant_vector(v, value_lo, out + 64 * m);
            else dequant_vector(v, value_hi, out + 64 * m);
        }
    }
};

// The C tiles of up to 32 tokens x 32 rows over nk blocks (the file's diagram): kTwo, the second 16 tokens; kPair,
// the second group. a: the first 16 tokens' A tile of the chunk's first block (a_next elements on: the next 16
// tokens'); b0, b1: the groups' B tiles; y: rows t.., column r (y_stride bytes a token); first: start from zero.
template <bool kTwo, bool kPair>
void tile_pass(const uint16_t* a, int64_t a_next, const uint16_t* b0, const uint16_t* b1, int64_t nk, float* y,
               int64_t y_stride, bool first) {
    float* y_lo = y + 16 * (y_stride / 4);  // tokens t+16 ..
    if (first) {
        DUET_TILE_ZERO(4);
        if constexpr (kPair) DUET_TILE_ZERO(5);
        if constexpr (kTwo) DUET_TILE_ZERO(6);
        if constexpr (kTwo && kPair) DUET_TILE_ZERO(7);
    } else {
        DUET_TILE_LOAD(4, y, y_stride);
        if constexpr (kPair) DUET_TILE_LOAD(5, y + 16, y_stride);
        if constexpr (kTwo) DUET_TILE_LOAD(6, y_lo, y_stride);
        if constexpr (kTwo && kPair) DUET_TILE_LOAD(7, y_lo + 16, y_stride);
    }
    for (int64_t s = 0; s < nk; ++s) {
        DUET_TILE_LOAD(0, a + s * kTileElems, 64);
        if constexpr (kTwo) DUET_TILE_LOAD(1, a + a_next + s * kTileElems, 64);
        DUET_TILE_LOAD(2, b0 + s * kTileElems, 64);
        if constexpr (kPair) DUET_TILE_LOAD(3, b1 + s * kTileElems, 64);
        DUET_TILE_DP(4, 0, 2);
        if constexpr (kPair) DUET_TILE_DP(5, 0, 3);
        if constexpr (kTwo) DUET_TILE_DP(6, 1, 2);
        if constexpr (kTwo && kPair) DUET_TILE_DP(7, 1, 3);
    }
    DUET_TILE_STORE(4, y, y_stride);
    if constexpr (kPair) DUET_TILE_STORE(5, y + 16, y_stride);
    if constexpr (kTwo) DUET_TILE_STORE(6, y_lo, y_stride);
    if constexpr (kTwo && kPair) DUET_TILE_STORE(7, y_lo + 16, y_stride);
}

template <WeightLayout L, class F, StreamPrefetch kHint>
void matmul_rows16_amx(const MatmulArgs& a, int64_t r0, int64_t r1) {
    const int64_t nb = a.n / kBlock, tiled = a.n_tokens / kAmxTileTokens * kAmxTileTokens;
    const auto* tiles = reinterpret_cast<const uint16_t*>(a.x);
    const int64_t group_bytes = ref::kRows16 * static_cast<int64_t>(a.w_row_size);
    const int64_t y_stride = a.d * static_cast<int64_t>(sizeof(float));
    const int64_t token_tile = nb * kTileElems;  // elements from one 16 tokens' A tiles to the next's
    alignas(64) uint16_t b_tiles[2][kAmxChunkBlocks * kTileElems];
    static const TileConfig config;
    asm volatile("ldtilecfg %0" ::"m"(config));
    // Rows of up to kAmxChunkBlocks blocks in one chunk (C tiles stored once); longer ones in chunks whose A tiles of
    // every token stay in L2 while the pairs of groups go by (the C tiles reloaded from y each chunk).
    const int64_t chunk =
        nb <= kAmxChunkBlocks ? nb : std::clamp<int64_t>(kChunkATileBytes / (tiled * 64), 8, kAmxChunkBlocks);
    for (int64_t kb = 0; kb < nb; kb += chunk) {
        const int64_t nk = std::min(chunk, nb - kb);
        for (int64_t r = r0; r < r1; r += 2 * ref::kRows16) {
            const bool pair = r + 2 * ref::kRows16 <= r1;
            const uint8_t* group = a.w + r / ref::kRows16 * group_bytes;
            for (int64_t b = 0; b < nk; ++b) {
                F::dequant(group, kb + b, nb, b_tiles[0] + b * kTileElems);
                if (pair) F::dequant(group + group_bytes, kb + b, nb, b_tiles[1] + b * kTileElems);
            }
            for (int64_t t = 0; t < tiled; t += 2 * kAmxTileTokens) {
                const bool two = t + 2 * kAmxTileTokens <= tiled;
                const uint16_t* at = tiles + t / kAmxTileTokens * token_tile + kb * kTileElems;
                float* y = a.y + t * a.d + r;
                const bool first = kb == 0;
                if (two && pair) tile_pass<true, true>(at, token_tile, b_tiles[0], b_tiles[1], nk, y, y_stride, first);
                else if (two) tile_pass<true, false>(at, token_tile, b_tiles[0], b_tiles[1], nk, y, y_stride, first);
                else if (pair) tile_pass<false, true>(at, token_tile, b_tiles[0], b_tiles[1], nk, y, y_stride, first);
                else tile_pass<false, false>(at, token_tile, b_tiles[0], b_tiles[1], nk, y, y_stride, first);
            }
        }
    }
    asm volatile("tilerelease" ::);
    if (tiled < a.n_tokens) {  // the tail tokens on the VNNI kernel, from its prepared rows after the tiles
        const PackedKernel vnni = packed_kernel_avx512(L, kHint);
        MatmulArgs tail = a;
        tail.x = a.x + static_cast<size_t>(tiled * a.n) * 2;
        tail.x_row_size = vnni.x_row_size(a.n);
        tail.n_tokens = a.n_tokens - tiled;
        tail.y = a.y + tiled * a.d;
        vnni.rows(tail, r0, r1);
    }
}

// Token t's floats -> its 32-value rows in the A tiles of its 16 tokens, or (a tail token) the VNNI kernel's row.
template <WeightLayout L>
void prepare_amx(const float* x, int64_t t, int64_t n, int64_t n_tokens, uint8_t* scratch) {
    const int64_t nb = n / kBlock, tiled = n_tokens / kAmxTileTokens * kAmxTileTokens;
    if (t >= tiled) {
        const PackedKernel vnni = packed_kernel_avx512(L, StreamPrefetch::t0);  // (the hint does not change the rows)
        DUET_ASSERT(vnni.x_row_size(n) <= static_cast<size_t>(2 * n));          // amx_scratch_size's bound
        vnni.prepare(x, scratch + static_cast<size_t>(tiled * n) * 2 + (t - tiled) * vnni.x_row_size(n), n);
        return;
    }
    auto* out = reinterpret_cast<uint16_t*>(scratch) + t / kAmxTileTokens * nb * kTileElems + t % kAmxTileTokens * 32;
    for (int64_t b = 0; b < nb; ++b) {
        const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + b * kBlock + 16), _mm512_loadu_ps(x + b * kBlock));
        _mm512_storeu_si512(out + b * kTileElems, (__m512i)v);
    }
}

template <WeightLayout L, class F>
AmxKernel amx_kernel_of(StreamPrefetch hint) {
    return {&prepare_amx<L>, hint == StreamPrefetch::t0 ? &matmul_rows16_amx<L, F, StreamPrefetch::t0>
                                                        : &matmul_rows16_amx<L, F, StreamPrefetch::nta>};
}

}  // namespace

AmxKernel amx_kernel(WeightLayout layout, StreamPrefetch hint) {
    switch (layout) {
        case WeightLayout::q4_0_rows16:
            return amx_kernel_of<WeightLayout::q4_0_rows16, LegacyAmx<WeightLayout::q4_0_rows16>>(hint);
        case WeightLayout::q8_0_rows16:
            return amx_kernel_of<WeightLayout::q8_0_rows16, LegacyAmx<WeightLayout::q8_0_rows16>>(hint);
        case WeightLayout::q4_k_rows16:
            return amx_kernel_of<WeightLayout::q4_k_rows16, Q4KAmx>(hint);
        case WeightLayout::q6_k_rows16:
            return amx_kernel_of<WeightLayout::q6_k_rows16, Q6KAmx>(hint);
        default:
            return {};
    }
}

}  // namespace duet::cpu
