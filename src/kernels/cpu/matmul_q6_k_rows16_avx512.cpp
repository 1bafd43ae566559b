// matmul_q6_k_rows16_avx512.cpp: the avx512 kernel over q6_k_rows16 (kernels/ref/packed_q6_k.cpp draws the layout):
// Q6_K matmuls of any number of tokens, one group's 16 rows = one vector of outputs, as matmul_rows16_avx512.cpp
// does for Q4_0 / Q8_0:
//
//   per super-block b of the group:  16 scale vectors d * sc (16 bytes -> int32 -> float, times the 16 rows' d)
//   per group s of 16 values:        4 value vectors of 6 bits (4 values of 16 rows each) rebuilt from a ql and a
//                                    qh vector: and / shift for each part, one ternary-logic op merges them
//   per token and group s:           4 vpdpbusd against 4 activation bytes broadcast from memory, the chain
//                                    starting at -32 * sum(q) (the weights' offset taken out in integers), one
//                                    convert, one FMA with the scale vector
//   per token and super-block:       one FMA with the token's d
//
// Tokens are taken 8 at a time (the group's bytes stay in L1 or L2 between passes); a thread's rows are one
// contiguous run of groups, prefetched on the first pass only (non-temporal: Prefetcher below).
// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/rows16_avx512.h"
#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/ref/packed.h"

namespace duet::cpu {

namespace {

constexpr int kMaxTokens = 8;                     // tokens per pass over a group
constexpr int64_t kPrefetchAhead = 8 << 10;       // as matmul_rows16_avx512.cpp (measured there)
constexpr int64_t kQlBytes = 2048;                // a super-block's ql for 16 rows
constexpr int64_t kQuantBytes = kQlBytes + 1024;  // ql + qh
constexpr int64_t kScaleStride = 256 + 32;        // a super-block's int8 scales [16][16] and 16 halves

// Four vectors of values 128h + 32f + 4m .. +3 (m = 4p .. 4p+3) of the 16 rows, 0..63 (packed_q6_k.cpp).
template <int h, int p, int f>
inline void rebuild(const uint8_t* ql, const uint8_t* qh, __m512i v[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
#pragma GCC unroll 4
    for (int mm = 0; mm < 4; ++mm) {
        const int m = 4 * p + mm;
        const __m512i q = _mm512_loadu_si512(ql + 64 * (16 * h + (f % 2 == 1 ? 8 : 0) + m));
        const __m512i hb = _mm512_loadu_si512(qh + 64 * (8 * h + m));
        const __m512i lo = f < 2 ? _mm512_and_si512(q, m4) : _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        __m512i hi;
        if constexpr (f == 0) hi = _mm512_slli_epi16(hb, 4);
        else if constexpr (f == 1) hi = _mm512_slli_epi16(hb, 2);
        else if constexpr (f == 2) hi = hb;
        else hi = _mm512_srli_epi16(hb, 2);
        v[mm] = _mm512_ternarylogic_epi32(lo, hi, m30, 0xF8);  // lo | (hi & 0x30)
    }
}

// Non-temporal prefetches of what a pass reads, running on into the next groups past a group's end.
//   - A group whose scales are short (at most kOneStreamScales: 1.7 KiB for rows of 1536, the 151936-row output of
//     Qwen2-1.5B) is one stream, its bytes in order, 8 KiB ahead: the scales come first and arrive in time.
//     2-thread decode of 8960x1536 (bench_kernels batch_packed/q6_K, 1 token, rotating over 1 GiB) read 76-77
//     GB/s with the two streams below and 78-82 as one.
//   - Longer scales (Qwen2-1.5B's ffn_down: 10 KiB) are a stream of their own, a few super-blocks ahead, and the
//     quants another, 8 KiB ahead (skipping the scales' bytes): one stream through such a group in order arrived
//     late for its first super-blocks' quants (1536x8960: 76-80 GB/s as two streams, ~60 as one).
class Prefetcher {
public:
    static constexpr int64_t kOneStreamScales = 4 << 10;

    // distance: bytes ahead (kPrefetchAhead for NTA, prefetch_ahead's share of it for T0).
    Prefetcher(const uint8_t* group, int64_t nsb, int64_t group_bytes, int64_t distance)
        : group_bytes_(group_bytes), scales_bytes_(group_bytes - nsb * kQuantBytes), nsb_(nsb) {
        if (scales_bytes_ <= kOneStreamScales) {
            one_stream_ = group + distance;
            return;
        }
        const int64_t ahead = distance / (nsb * kQuantBytes), within = distance % (nsb * kQuantBytes);
        quant_ = group + ahead * group_bytes + scales_bytes_ + within;
        quant_end_ = group + (ahead + 1) * group_bytes;
        const int64_t k = std::min<int64_t>(8, nsb);  // super-blocks ahead in the scale stream
        scale_group_ = group + k / nsb * group_bytes;
        scale_index_ = k % nsb;
    }
    // A super-block's share of the quant stream: `count` lines.
    template <Fetch kF>
    [[gnu::always_inline]] void quants(int count) {
        if (one_stream_ != nullptr) return lines<kF>(count);
        for (int i = 0; i < count; ++i) {
            prefetch_line<kF>(quant_);
            quant_ += 64;
            if (quant_ == quant_end_) {
                quant_ += scales_bytes_;
                quant_end_ += group_bytes_;
            }
        }
    }
    // A super-block's share of the scale stream: its scales and d (288 bytes: 5 lines from anywhere 32-byte
    // aligned).
    template <Fetch kF>
    [[gnu::always_inline]] void scales() {
        constexpr int kLines = (kScaleStride + 63) / 64;
        if (one_stream_ != nullptr) return lines<kF>(kLines);
        const uint8_t* p = scale_group_ + scale_index_ * kScaleStride;
        for (int i = 0; i < kLines; ++i) prefetch_line<kF>(p + 64 * i);
        if (++scale_index_ == nsb_) {
            scale_index_ = 0;
            scale_group_ += group_bytes_;
        }
    }

private:
    // Out of line, while quants() and scales() are inlined: 2-thread decode of 8960x1536 (one stream; bench_kernels
    // batch_packed/q6_K, old and new binaries alternated) read 76-81 GB/s with quants() a call, 77-79 with all of
    // it inlined, 82-89 so; 4 tokens 77-79, 70, 85. The call, not the loop, is what it keeps: measured, not
    // explained (Q4_K's and Q4_0's prefetches moved into a call lost 20-50%: their live vectors spill around it).
    template <Fetch kF>
    [[gnu::noinline]] void lines(int count) {
        for (int i = 0; i < count; ++i, one_stream_ += 64) prefetch_line<kF>(one_stream_);
    }

    const uint8_t* one_stream_ = nullptr;
    const uint8_t *quant_ = nullptr, *quant_end_ = nullptr, *scale_group_ = nullptr;
    int64_t group_bytes_, scales_bytes_, nsb_, scale_index_ = 0;
};

// Scale group s = 8h + 2f + p of super-block b for every token: sacc[t] += (sum over the group) * d * sc.
template <int NT, Fetch kFetch, int h, int p, int f>
inline void scale_group(const uint8_t* sc, const uint8_t* ql, __m512 dw, int64_t b, const XRows16Q6K* const* x,
                        __m512 sacc[NT], Prefetcher& pf) {
    constexpr int s = 8 * h + 2 * f + p;
    if constexpr (kFetch != Fetch::none) pf.quants<kFetch>(static_cast<int>(kQuantBytes / 64 / 16));  // its share
    const __m512i sc32 = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + 16 * s)));
    const __m512 scale = _mm512_mul_ps(_mm512_cvtepi32_ps(sc32), dw);
    __m512i v[4];
    rebuild<h, p, f>(ql, ql + kQlBytes, v);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
        const XRows16Q6K& xb = x[t][b];
        const int8_t* q = xb.qs + 16 * s;
        __m512i acc = dpbusd_bcst(_mm512_set1_epi32(xb.corr[s]), v[0], q);
        acc = dpbusd_bcst(acc, v[1], q + 4);
        acc = dpbusd_bcst(acc, v[2], q + 8);
        acc = dpbusd_bcst(acc, v[3], q + 12);
        sacc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), scale, sacc[t]);
    }
}

template <int NT, Fetch kFetch, int h, int p>
inline void scale_groups(const uint8_t* sc, const uint8_t* ql, __m512 dw, int64_t b, const XRows16Q6K* const* x,
                         __m512 sacc[NT], Prefetcher& pf) {
    scale_group<NT, kFetch, h, p, 0>(sc, ql, dw, b, x, sacc, pf);
    scale_group<NT, kFetch, h, p, 1>(sc, ql, dw, b, x, sacc, pf);
    scale_group<NT, kFetch, h, p, 2>(sc, ql, dw, b, x, sacc, pf);
    scale_group<NT, kFetch, h, p, 3>(sc, ql, dw, b, x, sacc, pf);
}

// y[t][0..15] = the group's 16 rows . token t, for NT tokens; group: the group's bytes (scales, then quants).
template <int NT, Fetch kFetch>
void group_pass(const uint8_t* group, int64_t nsb, int64_t group_bytes, const XRows16Q6K* const* x, float* const* y) {
    const int64_t scales_bytes = group_bytes - nsb * kQuantBytes;
    Prefetcher pf(group, nsb, group_bytes, prefetch_ahead<kFetch>(kPrefetchAhead));
    __m512 acc[NT];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nsb; ++b) {
        const uint8_t* sc = group + b * kScaleStride;
        const uint8_t* ql = group + scales_bytes + b * kQuantBytes;
        if constexpr (kFetch != Fetch::none) pf.scales<kFetch>();
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sc + 256)));
        __m512 sacc[NT];
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) sacc[t] = _mm512_setzero_ps();
        scale_groups<NT, kFetch, 0, 0>(sc, ql, dw, b, x, sacc, pf);
        scale_groups<NT, kFetch, 0, 1>(sc, ql, dw, b, x, sacc, pf);
        scale_groups<NT, kFetch, 1, 0>(sc, ql, dw, b, x, sacc, pf);
        scale_groups<NT, kFetch, 1, 1>(sc, ql, dw, b, x, sacc, pf);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_fmadd_ps(sacc[t], _mm512_set1_ps(x[t][b].d), acc[t]);
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y[t], acc[t]);
}

// One pass of a group (rows16_passes).
struct Q6KPass {
    int64_t nsb, group_bytes;  // super-blocks per row, bytes per group
    template <int NT, Fetch kFetch>
    void run(const uint8_t* group, const XRows16Q6K* const* x, float* const* y) const {
        group_pass<NT, kFetch>(group, nsb, group_bytes, x, y);
    }
};

template <Fetch kFetch>
void matmul_q6_k_rows16(const MatmulArgs& a, int64_t r0, int64_t r1) {
    rows16_passes<XRows16Q6K, kMaxTokens, kFetch>(a, r0, r1,
                                                  Q6KPass{a.n / kQK_K,
                                                          ref::kRows16 * static_cast<int64_t>(a.w_row_size)});
}

// Activations: Q8_K (the AVX2 quantizer, as the reference's dot takes them) and the offset's sums.
void prepare_q6_k(const float* x, uint8_t* row, int64_t n) {
    auto* y = reinterpret_cast<XRows16Q6K*>(row);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        block_q8_K q8;
        quantize_row_q8_K_avx2(x + b * kQK_K, &q8, kQK_K);
        y[b].d = q8.d;
        std::memcpy(y[b].qs, q8.qs, sizeof(q8.qs));
        for (int s = 0; s < 16; ++s) y[b].corr[s] = -32 * q8.bsums[s];
    }
}

size_t q6_k_x_size(int64_t n) { return static_cast<size_t>(n / kQK_K) * sizeof(XRows16Q6K); }

}  // namespace

PackedKernel packed_kernel_q6_k_avx512(StreamPrefetch hint) {
    return {&q6_k_x_size, &prepare_q6_k, for_hint(hint, []<Fetch kF>() { return &matmul_q6_k_rows16<kF>; })};
}

}  // namespace duet::cpu
