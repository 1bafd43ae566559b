// matmul_rows16_avx512.cpp: Q4_0 and Q8_0 matmuls of any number of tokens over weights repacked in groups of 16
// rows (q4_0_rows16, q8_0_rows16: kernels/ref/packed.h), on 512-bit vectors. One group's 16 rows are one vector of
// outputs:
//
//   per block b of the group:  Q4_0: 4 loads of 64 bytes (4 bytes x 16 rows) -> 8 nibble vectors (and, shift);
//                              Q8_0: 8 loads, used as they are (stored biased to unsigned, w + 128)
//                              1 load of 16 halves -> the 16 rows' scales (one convert)
//   per token:                 8 vpdpbusd against 4 activation bytes broadcast from memory (no shuffle), the
//                              first starting from -offset * sum(q) (the weights' offset, 8 or 128, taken out
//                              in integers), one convert, one multiply, one FMA
//
// so a step of T tokens unpacks each block once for all of them and spends 12 vector ops per token and 16 blocks,
// where the row-at-a-time kernels spend 3 float ops per token and 4 blocks. A thread's rows are one contiguous run
// of groups: one stream, prefetched ahead. Tokens are taken 8 at a time (the group's bytes stay in L1 or L2 between
// passes). One token (decode) takes dot_1 instead: no unpacked vectors kept, Q4_0's high nibbles not shifted.
// Q4_0 at 2 to 4 tokens takes two groups a pass (q4_0_pair_pass), so each broadcast serves 32 rows.
// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/rows16_avx512.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/ref/packed.h"

namespace duet::cpu {

namespace {

constexpr int kMaxTokens = 8;  // tokens per pass over a group

// How far ahead of its loads a pass prefetches (the first pass over a group; later ones find it in L1/L2), as
// non-temporal hints (the weights are read once per step). The hardware prefetcher alone left Q4_0 decode at
// 48-65 GB/s on 2 threads of Zen 5 (bench_kernels batch_packed/q4_0, 1 token); 1, 2, 4, 8, 12, 16, 24 KiB ahead
// (T0 hint) gave 50-67, 66-74, 76-82, 76-90, 77-95, 76-93, 77-92. End to end (duet bench tg64, R1-1.5B Q4_0,
// 2 threads) T0 at 12 KiB gave 76 tok/s, T1 50, NTA 77-79; NTA at 4, 8, 16 KiB 77, 82, 79: NTA 8 KiB. The hint is
// chosen at start (rows16_avx512.h's Fetch): on an Intel Xeon with AMX, NTA read 10.7 GB/s on 2 threads, T0 at 8,
// 4, 2, 1 KiB 26.0, 25.2, 26.8, 27.2, no prefetch 26.1 (probe 30); T0 goes a quarter as far (prefetch_ahead). Groups
// are contiguous, so past a group's end the addresses run on into the next one's.
constexpr int64_t kPrefetchAhead = 8 << 10;

// The two formats: bytes of a block's quants for 16 rows, and the 8 vectors vpdpbusd multiplies, where vector k
// meets activation bytes 4k'..4k'+3 with k' = kActivationOffset[k] / 4.
struct Q4_0Format {
    static constexpr int64_t kBlockBytes = 256;
    static void unpack(const uint8_t* qs, __m512i v[8]) {
        const __m512i m4 = _mm512_set1_epi8(0x0f);
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
            const __m512i q = _mm512_loadu_si512(qs + 64 * k);
            v[k] = _mm512_and_si512(q, m4);                            // values 4k .. 4k+3
            v[4 + k] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);  // values 16+4k .. 16+4k+3
        }
    }
    // One token (decode): the high nibbles stay where they are (16 x their value, no shift per load) in a chain of
    // their own, divided by 16 once at the end (exact: every product is a multiple of 16). 3 vector ops a block
    // fewer than unpack(); one thread's Q4_0 decode read 41.6 -> 42.8-44.4 GB/s, two 82 -> 85.6-86.9
    // (bench_kernels batch_packed/q4_0/*/tokens:1, when its weights rotated over 192 MiB: partly from the L3).
    static __m512i dot_1(const uint8_t* qs, const XRows16& xb) {
        const __m512i m4 = _mm512_set1_epi8(0x0f);
        __m512i lo = _mm512_set1_epi32(xb.corr), hi = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
            const __m512i q = _mm512_loadu_si512(qs + 64 * k);
            lo = dpbusd_bcst(lo, _mm512_and_si512(q, m4), xb.qs + 4 * k);
            hi = dpbusd_bcst(hi, _mm512_andnot_si512(m4, q), xb.qs + 16 + 4 * k);
        }
        return _mm512_add_epi32(lo, _mm512_srai_epi32(hi, 4));
    }
};
struct Q8_0Format {
    static constexpr int64_t kBlockBytes = 512;
    static void unpack(const uint8_t* qs, __m512i v[8]) {
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) v[k] = _mm512_loadu_si512(qs + 64 * k);  // values 4k .. 4k+3
    }
    static __m512i dot_1(const uint8_t* qs, const XRows16& xb) {
        __m512i s0 = _mm512_set1_epi32(xb.corr), s1 = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
            s0 = dpbusd_bcst(s0, _mm512_loadu_si512(qs + 64 * k), xb.qs + 4 * k);
            s1 = dpbusd_bcst(s1, _mm512_loadu_si512(qs + 256 + 64 * k), xb.qs + 16 + 4 * k);
        }
        return _mm512_add_epi32(s0, s1);
    }
};

// acc[t] += the 16 rows' products of one block with token t's block b, for NT tokens. qs, dh: the block's quants and
// its 16 rows' scales.
template <class F, int NT>
inline void block_step(const uint8_t* qs, const uint16_t* dh, int64_t b, const XRows16* const* x, __m512 acc[NT]) {
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dh)));
    if constexpr (NT == 1) {
        const XRows16& xb = x[0][b];
        const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(F::dot_1(qs, xb)), _mm512_set1_ps(xb.d));
        acc[0] = _mm512_fmadd_ps(f, dw, acc[0]);
        return;
    }
    __m512i v[8];
    F::unpack(qs, v);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
        const XRows16& xb = x[t][b];
        // one chain of 8 (the tokens' chains are independent): on Zen 5 two chains of 4 plus an add, one of 8 and
        // four of 2 measured the same; on the Xeon with AMX one chain's pp512 was 1-3% faster (an add fewer)
        __m512i s = dpbusd_bcst(_mm512_set1_epi32(xb.corr), v[0], xb.qs);
        s = dpbusd_bcst(s, v[1], xb.qs + 4);
        s = dpbusd_bcst(s, v[2], xb.qs + 8);
        s = dpbusd_bcst(s, v[3], xb.qs + 12);
        s = dpbusd_bcst(s, v[4], xb.qs + 16);
        s = dpbusd_bcst(s, v[5], xb.qs + 20);
        s = dpbusd_bcst(s, v[6], xb.qs + 24);
        s = dpbusd_bcst(s, v[7], xb.qs + 28);
        const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(xb.d));
        acc[t] = _mm512_fmadd_ps(f, dw, acc[t]);
    }
}

// y[t][0..15] = the group's 16 rows . token t, for NT tokens. The group is nb blocks in units of two, each the two
// blocks' scales (64 bytes), then their quants (packed.h); with nb odd, the last unit holds one block.
template <class F, int NT, Fetch kFetch>
inline void group_pass(const uint8_t* group, int64_t nb, const XRows16* const* x, float* const* y) {
    constexpr int64_t kScaleBytes = 32, kUnitBytes = 2 * (kScaleBytes + F::kBlockBytes);
    __m512 acc[NT];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* unit = group;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2, unit += kUnitBytes) {
        if constexpr (kFetch != Fetch::none) {
#pragma GCC unroll 17
            for (int64_t off = 0; off < kUnitBytes; off += 64)
                prefetch_line<kFetch>(unit + prefetch_ahead<kFetch>(kPrefetchAhead) + off);
        }
        const auto* dh = reinterpret_cast<const uint16_t*>(unit);
        block_step<F, NT>(unit + 2 * kScaleBytes, dh, b, x, acc);
        block_step<F, NT>(unit + 2 * kScaleBytes + F::kBlockBytes, dh + 16, b + 1, x, acc);
    }
    if (b < nb)  // the last unit, of one block (prefetched by the units before it)
        block_step<F, NT>(unit + kScaleBytes, reinterpret_cast<const uint16_t*>(unit), b, x, acc);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y[t], acc[t]);
}

// One pass of a group (rows16_passes).
template <class F>
struct Rows16Pass {
    int64_t nb;  // blocks per row
    template <int NT, Fetch kFetch>
    void run(const uint8_t* group, const XRows16* const* x, float* const* y) const {
        group_pass<F, NT, kFetch>(group, nb, x, y);
    }
};

// Q4_0, 2 to 4 tokens: two adjacent groups (32 rows) at once, so each activation broadcast feeds two vpdpbusd, one
// per group, where block_step's embedded broadcasts feed one each (its 4-token pass is bound by them, see README).
//
//   block b of group A and of group B:  4 + 4 loads of 64 bytes -> 8 + 8 nibble vectors
//   per token, per 4 value bytes k:     2 broadcasts (values 4k.., 16+4k..) -> 4 vpdpbusd (A lo, B lo, A hi, B hi)
//   per token:                          2 converts, 2 multiplies, 2 FMAs (A's and B's 16 rows)
//
// (registers: 2 x 4 float sums, 2 x 4 integer chains, 4 nibble vectors; 8 tokens would spill, so 5..8 tokens keep
// the one-group passes.) The weights come as two streams, A's and B's, each prefetched kPairPrefetchAhead ahead.
// A's stream would run past A's end into B, already being read: it goes on in the next pair's B instead, and B's
// runs on into the next pair's A, so a pair starts with both its streams' first bytes on the way.
// kPairPrefetchAhead: in-run A/B (duet bench --batch 2,4, R1-1.5B Q4_0, 2 threads, the variant switched every
// step on a noisy host), step with pairs against without: 8 KiB a stream 1.08x (slower), 6 KiB 0.99-1.01x,
// 5 KiB 0.94-0.98x, 4 KiB 0.89-0.97x, 3 KiB 0.88-0.93x, 2 KiB 0.97-0.99x: 4 KiB a stream, the one-group kernel's
// 8 KiB in all.
constexpr int64_t kPairPrefetchAhead = 4 << 10;

template <int NT>
[[gnu::always_inline]] inline void q4_0_pair_block(const uint8_t* qa, const uint8_t* qb, const uint16_t* dha,
                                                   const uint16_t* dhb, int64_t b, const XRows16* const* x,
                                                   __m512 acc_a[NT], __m512 acc_b[NT]) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512i sa[NT], sb[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) sa[t] = sb[t] = _mm512_set1_epi32(x[t][b].corr);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
        const __m512i wa = _mm512_loadu_si512(qa + 64 * k), wb = _mm512_loadu_si512(qb + 64 * k);
        const __m512i lo_a = _mm512_and_si512(wa, m4), lo_b = _mm512_and_si512(wb, m4);
        const __m512i hi_a = _mm512_and_si512(_mm512_srli_epi16(wa, 4), m4);
        const __m512i hi_b = _mm512_and_si512(_mm512_srli_epi16(wb, 4), m4);
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
            int32_t lo4, hi4;
            std::memcpy(&lo4, x[t][b].qs + 4 * k, 4);
            std::memcpy(&hi4, x[t][b].qs + 16 + 4 * k, 4);
            const __m512i x_lo = _mm512_set1_epi32(lo4), x_hi = _mm512_set1_epi32(hi4);
            sa[t] = _mm512_dpbusd_epi32(sa[t], lo_a, x_lo);
            sb[t] = _mm512_dpbusd_epi32(sb[t], lo_b, x_lo);
            sa[t] = _mm512_dpbusd_epi32(sa[t], hi_a, x_hi);
            sb[t] = _mm512_dpbusd_epi32(sb[t], hi_b, x_hi);
        }
    }
    const __m512 dwa = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dha)));
    const __m512 dwb = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dhb)));
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
        const __m512 d = _mm512_set1_ps(x[t][b].d);
        acc_a[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sa[t]), d), dwa, acc_a[t]);
        acc_b[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sb[t]), d), dwb, acc_b[t]);
    }
}

// y[t][0..31] = groups A (rows 0..15) and B (16..31, group_bytes after A) . token t, for NT tokens.
template <int NT, Fetch kFetch>
void q4_0_pair_pass(const uint8_t* ga, int64_t group_bytes, int64_t nb, const XRows16* const* x, float* const* y) {
    constexpr int64_t kScaleBytes = 32, kBlockBytes = Q4_0Format::kBlockBytes;
    constexpr int64_t kUnitBytes = 2 * (kScaleBytes + kBlockBytes);
    const uint8_t* gb = ga + group_bytes;
    __m512 acc_a[NT], acc_b[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) acc_a[t] = acc_b[t] = _mm512_setzero_ps();
    const uint8_t *ua = ga, *ub = gb;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2, ua += kUnitBytes, ub += kUnitBytes) {
        constexpr int64_t kAhead = prefetch_ahead<kFetch>(kPairPrefetchAhead);
        const uint8_t* ahead_a = ua + kAhead;
        if (ahead_a >= gb) ahead_a += 2 * group_bytes;  // past A's end: the next pair's B
        const uint8_t* ahead_b = ub + kAhead;           // past B's end: the next pair's A
#pragma GCC unroll 9
        for (int64_t off = 0; off < kUnitBytes; off += 64) {
            prefetch_line<kFetch>(ahead_a + off);
            prefetch_line<kFetch>(ahead_b + off);
        }
        const auto* dha = reinterpret_cast<const uint16_t*>(ua);
        const auto* dhb = reinterpret_cast<const uint16_t*>(ub);
        q4_0_pair_block<NT>(ua + 2 * kScaleBytes, ub + 2 * kScaleBytes, dha, dhb, b, x, acc_a, acc_b);
        q4_0_pair_block<NT>(ua + 2 * kScaleBytes + kBlockBytes, ub + 2 * kScaleBytes + kBlockBytes, dha + 16, dhb + 16,
                            b + 1, x, acc_a, acc_b);
    }
    if (b < nb)  // the last unit, of one block
        q4_0_pair_block<NT>(ua + kScaleBytes, ub + kScaleBytes, reinterpret_cast<const uint16_t*>(ua),
                            reinterpret_cast<const uint16_t*>(ub), b, x, acc_a, acc_b);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
        _mm512_storeu_ps(y[t], acc_a[t]);
        _mm512_storeu_ps(y[t] + ref::kRows16, acc_b[t]);
    }
}

// Q4_0: pairs of groups for 2..4 tokens (an odd last group, and every other token count, as the other formats).
template <Fetch kFetch>
void matmul_q4_0_rows16(const MatmulArgs& a, int64_t r0, int64_t r1) {
    const int64_t nb = a.n / kQK;
    int64_t r = r0;
    if (a.n_tokens >= 2 && a.n_tokens <= 4) {
        const int64_t group_bytes = ref::kRows16 * static_cast<int64_t>(a.w_row_size);
        const int nt = static_cast<int>(a.n_tokens);
        const XRows16* x[4];
        for (int t = 0; t < nt; ++t) x[t] = reinterpret_cast<const XRows16*>(a.x + t * a.x_row_size);
        for (; r + 2 * ref::kRows16 <= r1; r += 2 * ref::kRows16) {
            const uint8_t* ga = a.w + r / ref::kRows16 * group_bytes;
            float* y[4];
            for (int t = 0; t < nt; ++t) y[t] = a.y + t * a.d + r;
            if (nt == 2) q4_0_pair_pass<2, kFetch>(ga, group_bytes, nb, x, y);
            else if (nt == 3) q4_0_pair_pass<3, kFetch>(ga, group_bytes, nb, x, y);
            else q4_0_pair_pass<4, kFetch>(ga, group_bytes, nb, x, y);
        }
    }
    if (r < r1) rows16_passes<XRows16, kMaxTokens, kFetch>(a, r, r1, Rows16Pass<Q4_0Format>{nb});
}

template <class F, Fetch kFetch>
void matmul_rows16(const MatmulArgs& a, int64_t r0, int64_t r1) {
    rows16_passes<XRows16, kMaxTokens, kFetch>(a, r0, r1, Rows16Pass<F>{a.n / kQK});
}

// Activations: Q8_0-style blocks and the weights' offset taken out in integers, -offset * sum(q), where each
// block's sums start (exact; a float correction would cancel against the biased sums).
template <int kOffset>
void prepare_rows16(const float* x, uint8_t* row, int64_t n) {
    quantize_row_rows16_avx512(x, reinterpret_cast<XRows16*>(row), n, kOffset);
}

size_t rows16_x_size(int64_t n) { return static_cast<size_t>(n / kQK) * sizeof(XRows16); }

}  // namespace

PackedKernel packed_kernel_avx512(WeightLayout layout, StreamPrefetch hint) {
    switch (layout) {
        case WeightLayout::q4_0_rows16:
            return {&rows16_x_size, &prepare_rows16<8>,
                    for_hint(hint, []<Fetch kF>() { return &matmul_q4_0_rows16<kF>; })};
        case WeightLayout::q8_0_rows16:
            return {&rows16_x_size, &prepare_rows16<128>,
                    for_hint(hint, []<Fetch kF>() { return &matmul_rows16<Q8_0Format, kF>; })};
        case WeightLayout::q4_k_rows16:
            return packed_kernel_q4_k_avx512(hint);
        case WeightLayout::q6_k_rows16:
            return packed_kernel_q6_k_avx512(hint);
        default:
            return {};
    }
}

}  // namespace duet::cpu
