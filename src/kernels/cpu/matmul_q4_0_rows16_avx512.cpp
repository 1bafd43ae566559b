// matmul_q4_0_rows16_avx512.cpp: Q4_0 matmuls of any number of tokens over weights repacked in groups of 16 rows
// (q4_0_rows16, kernels/ref/packed.h), on 512-bit vectors. One group's 16 rows are one vector of outputs:
//
//   per block b of the group:  4 loads of 64 bytes = 4 bytes x 16 rows each -> 8 nibble vectors (and, shift)
//                              1 load of 16 halves -> the 16 rows' scales (one convert)
//   per token:                 8 vpdpbusd against 4 activation bytes broadcast from memory (no shuffle),
//                              one convert, fmsub (the -8 offset, folded into the activation's sum), one FMA
//
// so a step of T tokens unpacks each block once for all of them and spends 12 vector ops per token and 16 blocks,
// where the row-at-a-time kernels spend 3 float ops per token and 4 blocks. A thread's rows are one contiguous run
// of groups: one stream for the hardware prefetcher. Tokens are taken 8 at a time (the group's bytes stay in L1 or
// L2 between passes).
// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/ref/packed.h"

namespace duet::cpu {

void quantize_row_q8_rows16_avx512(const float* x, block_q8_1f* y, int64_t n) {
    quantize_row_q8_1f_avx2(x, y, n);
    for (int64_t b = 0; b < n / kQK; ++b) y[b].s *= 8.0f;  // 8 d sum(q): the -8 of every Q4_0 value, at once
}

namespace {

constexpr int kMaxTokens = 8;  // tokens per pass over a group

inline __m512i broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// How far ahead of its loads a pass prefetches (the first pass over a group; later ones find it in L1/L2), as
// non-temporal hints (the weights are read once per step). The hardware prefetcher alone left decode at 48-65 GB/s
// on 2 threads of Zen 5 (bench_kernels batch_packed/q4_0, 1 token); 1, 2, 4, 8, 12, 16, 24 KiB ahead (T0 hint) gave
// 50-67, 66-74, 76-82, 76-90, 77-95, 76-93, 77-92. End to end (duet bench tg64, R1-1.5B Q4_0, 2 threads) T0 at
// 12 KiB gave 76 tok/s, T1 50, NTA 77-79; NTA at 4, 8, 16 KiB 77, 82, 79: NTA 8 KiB. Groups are contiguous, so
// past a group's end the addresses run on into the next one's.
constexpr int64_t kPrefetchAhead = 8 << 10;

// y[t][0..15] = the group's 16 rows . token t, for NT tokens. qs, dh: the group's blocks and scales (packed.h).
template <int NT, bool kPrefetch>
inline void group_pass(const uint8_t* qs, const uint16_t* dh, int64_t nb, const block_q8_1f* const* x,
                       float* const* y) {
    __m512 acc[NT];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int64_t b = 0; b < nb; ++b, qs += 256) {
        if constexpr (kPrefetch) {
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k)
                _mm_prefetch(reinterpret_cast<const char*>(qs) + kPrefetchAhead + 64 * k, _MM_HINT_NTA);
            if (b % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(dh + 16 * b) + kPrefetchAhead, _MM_HINT_NTA);
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dh + 16 * b)));
        __m512i lo[4], hi[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
            const __m512i q = _mm512_loadu_si512(qs + 64 * k);
            lo[k] = _mm512_and_si512(q, m4);
            hi[k] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        }
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
            const block_q8_1f& xb = x[t][b];
            // two chains of 4 (low and high nibbles); one chain of 8 or four of 2 measured the same
            const __m512i z = _mm512_setzero_si512();
            __m512i s0 = _mm512_dpbusd_epi32(z, lo[0], broadcast4(xb.qs));
            __m512i s1 = _mm512_dpbusd_epi32(z, hi[0], broadcast4(xb.qs + 16));
            s0 = _mm512_dpbusd_epi32(s0, lo[1], broadcast4(xb.qs + 4));
            s1 = _mm512_dpbusd_epi32(s1, hi[1], broadcast4(xb.qs + 20));
            s0 = _mm512_dpbusd_epi32(s0, lo[2], broadcast4(xb.qs + 8));
            s1 = _mm512_dpbusd_epi32(s1, hi[2], broadcast4(xb.qs + 24));
            s0 = _mm512_dpbusd_epi32(s0, lo[3], broadcast4(xb.qs + 12));
            s1 = _mm512_dpbusd_epi32(s1, hi[3], broadcast4(xb.qs + 28));
            const __m512i s = _mm512_add_epi32(s0, s1);
            const __m512 f = _mm512_fmsub_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(xb.d), _mm512_set1_ps(xb.s));
            acc[t] = _mm512_fmadd_ps(f, dw, acc[t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y[t], acc[t]);
}

template <int NT>
inline void group_pass_n(bool first, const uint8_t* qs, const uint16_t* dh, int64_t nb, const block_q8_1f* const* x,
                         float* const* y) {
    if (first) group_pass<NT, true>(qs, dh, nb, x, y);
    else group_pass<NT, false>(qs, dh, nb, x, y);
}

// Rows [r0, r1) (multiples of 16) of Y for every token.
void matmul_rows_q4_0_rows16(const MatmulArgs& a, int64_t r0, int64_t r1) {
    const int64_t nb = a.n / kQK;
    const int64_t group_bytes = ref::kRows16 * static_cast<int64_t>(a.w_row_size);
    for (int64_t r = r0; r < r1; r += ref::kRows16) {
        const uint8_t* qs = a.w + r / ref::kRows16 * group_bytes;
        const auto* dh = reinterpret_cast<const uint16_t*>(qs + nb * 256);
        for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kMaxTokens) {
            const int nt = static_cast<int>(std::min<int64_t>(kMaxTokens, a.n_tokens - t0));
            const block_q8_1f* x[kMaxTokens];
            float* y[kMaxTokens];
            for (int t = 0; t < nt; ++t) {
                x[t] = reinterpret_cast<const block_q8_1f*>(a.x + (t0 + t) * a.x_row_size);
                y[t] = a.y + (t0 + t) * a.d + r;
            }
            const bool first = t0 == 0;
            switch (nt) {
                case 1:
                    group_pass_n<1>(first, qs, dh, nb, x, y);
                    break;
                case 2:
                    group_pass_n<2>(first, qs, dh, nb, x, y);
                    break;
                case 3:
                    group_pass_n<3>(first, qs, dh, nb, x, y);
                    break;
                case 4:
                    group_pass_n<4>(first, qs, dh, nb, x, y);
                    break;
                case 5:
                    group_pass_n<5>(first, qs, dh, nb, x, y);
                    break;
                case 6:
                    group_pass_n<6>(first, qs, dh, nb, x, y);
                    break;
                case 7:
                    group_pass_n<7>(first, qs, dh, nb, x, y);
                    break;
                default:
                    group_pass_n<8>(first, qs, dh, nb, x, y);
                    break;
            }
        }
    }
}

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_0_rows16_avx512() { return &matmul_rows_q4_0_rows16; }

}  // namespace duet::cpu
