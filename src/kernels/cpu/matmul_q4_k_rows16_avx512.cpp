// matmul_q4_k_rows16_avx512.cpp: Q4_K matmuls of any number of tokens over weights repacked in groups of 16 rows
// (q4_k_rows16: kernels/ref/packed_q4_k.cpp), on 512-bit vectors, the way matmul_rows16_avx512.cpp does Q4_0. One
// group's 16 rows are one vector of outputs:
//
//   per super-block s:   per chunk c (64 values): 8 loads of 64 bytes (4 bytes x 16 rows) -> 8 low-nibble vectors
//                        (sub-block 2c) and 8 high-nibble ones (sub-block 2c+1); the two sub-blocks' 16 scales
//                        (uint8 -> int32); at the end the mins, 4 vectors of int16 pairs (m_2p, m_2p+1 x 16 rows)
//   per token:           per chunk: 8 + 8 vpdpbusd against 4 activation bytes broadcast from memory (no shuffle),
//                        two vpmulld by the scales, two adds; at the super-block's end 4 vpdpwssd of the mins
//                        against the token's int16 sums of each sub-block (pairs broadcast), then the reference's
//                        own float steps, x.d * (d * scaled - dmin * mins), added to the row's sum
//
// The sums are the reference's integers (kernels/ref/vec_dot.cpp dot_k4) and the float steps are its steps in its
// order, so the kernel gives the reference's results on the same activations (bit for bit: test_packed.cpp). A step
// of T tokens unpacks each super-block once for all of them and spends about 90 vector ops per token per 16 rows x
// 256 values, 64 of them vpdpbusd. A thread's rows are one contiguous run of groups: one stream, prefetched ahead.
// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/rows16_avx512.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/ref/packed.h"

namespace duet::cpu {

namespace {

// Tokens per pass over a group: the accumulators of 4 tokens (8 vectors) fit next to the 16 nibble vectors of a
// chunk in the 32 registers. Passes of 8 measured no faster for 8 and 64 tokens (bench_kernels batch_packed/q4_K,
// 1 thread): from 4 tokens on the kernel is bound by its multiplies, not by reading the group again.
constexpr int kMaxTokens = 4;

// Non-temporal prefetch this far ahead on a group's first pass (matmul_rows16_avx512.cpp measured 8 KiB for Q4_0).
constexpr int64_t kPrefetchAhead = 8 << 10;

// q4_k_rows16's super-block of 16 rows (packed_q4_k.cpp).
constexpr int64_t kSuperBlockBytes = 2368, kScaleOffset = 2048, kMinOffset = 2176, kDOffset = 2304, kDminOffset = 2336;

// One token's super-block of activations: block_q8_K's d and qs, with the 16 sums of 16 replaced by the 8 sums of
// each sub-block of 32 (the mins term's operand; |sum| <= 32 * 128 fits int16). The same 292 bytes as block_q8_K.
struct XQ4K16 {
    float d;
    int8_t qs[kQK_K];
    int16_t sums[8];
    int16_t unused[8];
};
static_assert(sizeof(XQ4K16) == sizeof(block_q8_K) && offsetof(XQ4K16, qs) == offsetof(block_q8_K, qs) &&
              offsetof(XQ4K16, sums) == offsetof(block_q8_K, bsums));

inline __m512i broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
inline __m512 mul_rn(__m512 a, __m512 b) { return _mm512_mul_round_ps(a, b, kNearest); }
inline __m512 sub_rn(__m512 a, __m512 b) { return _mm512_sub_round_ps(a, b, kNearest); }
inline __m512 add_rn(__m512 a, __m512 b) { return _mm512_add_round_ps(a, b, kNearest); }

// 16 uint8 -> 16 int32.
inline __m512i widen16(const uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// y[t][0..15] = the group's 16 rows . token t, for NT tokens. g: the group's first super-block.
template <int NT, Fetch kFetch>
inline void group_pass(const uint8_t* g, int64_t ns, const XQ4K16* const* x, float* const* y) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 tot[NT];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) tot[t] = _mm512_setzero_ps();
    for (int64_t s = 0; s < ns; ++s, g += kSuperBlockBytes) {
        __m512i scaled[NT];  // sum_j sc_j * dot_j, per token
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
            if constexpr (kFetch != Fetch::none) {  // a quarter of the super-block's lines per chunk
                constexpr int64_t kLines = kSuperBlockBytes / 64;
#pragma GCC unroll 10
                for (int64_t line = kLines * c / 4; line < kLines * (c + 1) / 4; ++line)
                    prefetch_line<kFetch>(g + prefetch_ahead<kFetch>(kPrefetchAhead) + 64 * line);
            }
            __m512i lo[8], hi[8];
#pragma GCC unroll 8
            for (int k = 0; k < 8; ++k) {
                const __m512i q = _mm512_loadu_si512(g + 512 * c + 64 * k);
                lo[k] = _mm512_and_si512(q, m4);  // sub-block 2c, values 4k .. 4k+3
                // sub-block 2c+1; one token takes its values in place (16 x, not shifted: the sum is, once)
                hi[k] = NT == 1 ? _mm512_andnot_si512(m4, q) : _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
            }
            const __m512i sc_lo = widen16(g + kScaleOffset + 16 * (2 * c));
            const __m512i sc_hi = widen16(g + kScaleOffset + 16 * (2 * c + 1));
#pragma GCC unroll 8
            for (int t = 0; t < NT; ++t) {
                const int8_t* xq = x[t][s].qs + 64 * c;
                __m512i s0 = dpbusd_bcst(_mm512_setzero_si512(), lo[0], xq);
                __m512i s1 = dpbusd_bcst(_mm512_setzero_si512(), hi[0], xq + 32);
                if constexpr (NT == 1) {  // one token: four chains (the latency is not hidden by other tokens)
                    __m512i s2 = dpbusd_bcst(_mm512_setzero_si512(), lo[4], xq + 16);
                    __m512i s3 = dpbusd_bcst(_mm512_setzero_si512(), hi[4], xq + 48);
#pragma GCC unroll 4
                    for (int k = 1; k < 4; ++k) {
                        s0 = dpbusd_bcst(s0, lo[k], xq + 4 * k);
                        s1 = dpbusd_bcst(s1, hi[k], xq + 32 + 4 * k);
                        s2 = dpbusd_bcst(s2, lo[4 + k], xq + 16 + 4 * k);
                        s3 = dpbusd_bcst(s3, hi[4 + k], xq + 48 + 4 * k);
                    }
                    s0 = _mm512_add_epi32(s0, s2);
                    s1 = _mm512_srai_epi32(_mm512_add_epi32(s1, s3), 4);  // exact: each product is a multiple of 16
                } else {
#pragma GCC unroll 8
                    for (int k = 1; k < 8; ++k) {
                        s0 = dpbusd_bcst(s0, lo[k], xq + 4 * k);
                        s1 = dpbusd_bcst(s1, hi[k], xq + 32 + 4 * k);
                    }
                }
                const __m512i p = _mm512_add_epi32(_mm512_mullo_epi32(s0, sc_lo), _mm512_mullo_epi32(s1, sc_hi));
                scaled[t] = c == 0 ? p : _mm512_add_epi32(scaled[t], p);
            }
        }
        __m512i mins[4];  // int16 pairs (m_2p, m_2p+1) of the 16 rows
#pragma GCC unroll 4
        for (int p = 0; p < 4; ++p)
            mins[p] =
                _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + kMinOffset + 32 * p)));
        const __m512 dv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + kDOffset)));
        const __m512 mv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + kDminOffset)));
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
            const int8_t* sums = reinterpret_cast<const int8_t*>(x[t][s].sums);
            __m512i m = _mm512_dpwssd_epi32(_mm512_setzero_si512(), mins[0], broadcast4(sums));
#pragma GCC unroll 4
            for (int p = 1; p < 4; ++p) m = _mm512_dpwssd_epi32(m, mins[p], broadcast4(sums + 4 * p));
            // dot_k4's steps: x.d * (d * scaled - dmin * mins), then the sum (builtins with their rounding
            // spelled out, which the compiler does not contract to FMAs: the reference's roundings)
            const __m512 f = sub_rn(mul_rn(dv, _mm512_cvtepi32_ps(scaled[t])), mul_rn(mv, _mm512_cvtepi32_ps(m)));
            tot[t] = add_rn(tot[t], mul_rn(_mm512_set1_ps(x[t][s].d), f));
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y[t], tot[t]);
}

// One pass of a group (rows16_passes).
struct Q4KPass {
    int64_t ns;  // super-blocks per row
    template <int NT, Fetch kFetch>
    void run(const uint8_t* group, const XQ4K16* const* x, float* const* y) const {
        group_pass<NT, kFetch>(group, ns, x, y);
    }
};

template <Fetch kFetch>
void matmul_q4_k_rows16(const MatmulArgs& a, int64_t r0, int64_t r1) {
    rows16_passes<XQ4K16, kMaxTokens, kFetch>(a, r0, r1, Q4KPass{a.n / kQK_K});
}

// Activations: Q8_K (the AVX2 quantizer), then each super-block's 16 sums of 16 become 8 sums of 32.
void prepare_q4_k_rows16(const float* x, uint8_t* row, int64_t n) {
    quantize_row_q8_K_avx2(x, reinterpret_cast<block_q8_K*>(row), n);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        uint8_t* blk = row + b * sizeof(block_q8_K);
        int16_t bsums[16];
        std::memcpy(bsums, blk + offsetof(block_q8_K, bsums), sizeof bsums);
        int16_t sums[16] = {};
        for (int j = 0; j < 8; ++j) sums[j] = static_cast<int16_t>(bsums[2 * j] + bsums[2 * j + 1]);
        std::memcpy(blk + offsetof(XQ4K16, sums), sums, sizeof sums);
    }
}

size_t q4_k_rows16_x_size(int64_t n) { return static_cast<size_t>(n / kQK_K) * sizeof(XQ4K16); }

}  // namespace

PackedKernel packed_kernel_q4_k_avx512(StreamPrefetch hint) {
    return {&q4_k_rows16_x_size, &prepare_q4_k_rows16,
            for_hint(hint, []<Fetch kF>() { return &matmul_q4_k_rows16<kF>; })};
}

}  // namespace duet::cpu
