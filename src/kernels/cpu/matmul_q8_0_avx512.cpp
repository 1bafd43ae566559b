// matmul_q8_0_avx512.cpp: Q8_0 decode and few-stream steps on 512-bit vectors: two weight blocks per vector. The
// weights stay signed; the activations are biased to unsigned (q + 128) so that one vpdpbusd multiplies them, and
// the bias (128 * the sum of each lane's 4 weights) is computed once per step from the weights and taken out by
// starting every token's sums at its negative. Per token and two blocks: one vpdpbusd, one convert, two float ops.
#include <cstring>

#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/cpu/tile_avx512.h"

namespace duet::cpu {

void quantize_row_q8_u_pairs_avx512(const float* x, XPairQ8U* y, int64_t n) {
    for (int64_t p = 0; p < n / (2 * kQK); ++p, x += 2 * kQK) {
        block_q8_1f tmp[2];
        quantize_row_q8_1f_avx2(x, tmp, 2 * kQK);
        for (int k = 0; k < 2; ++k) {
            for (int i = 0; i < kQK; ++i) y[p].q[kQK * k + i] = static_cast<uint8_t>(tmp[k].qs[i]) ^ 0x80;
            for (int l = 0; l < 8; ++l) y[p].d[8 * k + l] = tmp[k].d;
        }
    }
}

namespace {

struct Q8_0Pair {
    block_q8_0 b[2];
};
static_assert(sizeof(Q8_0Pair) == 68);

struct KQ8_0Pairs {
    using WBlock = Q8_0Pair;
    using XBlock = XPairQ8U;
    static constexpr int64_t kElems = 2 * kQK;
    static constexpr int kRows = 4;
    struct Prep {
        __m512i q;     // [block 0 | block 1], signed
        __m512i bias;  // -128 * (sum of the lane's 4 weights)
        __m512 d;      // [d0 x8 | d1 x8]
    };
    using XPrep = const XPairQ8U*;
    static Prep prep(const Q8_0Pair* w) {
        const __m512i q =
            _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->b[0].qs))),
                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->b[1].qs)), 1);
        const __m512i sum128 =
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(static_cast<char>(0x80)), q);
        uint16_t h0, h1;
        std::memcpy(&h0, &w->b[0].d, 2);
        std::memcpy(&h1, &w->b[1].d, 2);
        const __m256 d8 = _mm256_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(h0 | (static_cast<uint32_t>(h1) << 16))));
        const __m512 d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                               _mm512_castps256_ps512(d8));
        return {q, _mm512_sub_epi32(_mm512_setzero_si512(), sum128), d};
    }
    static XPrep xprep(const XPairQ8U* x) { return x; }
    // sum over each block's 8 lanes of (q_x + 128) * w - 128 * w = its exact integer dot product
    static __m512 apply(const Prep& p, XPrep x, __m512 acc) {
        const __m512i sums = _mm512_dpbusd_epi32(p.bias, _mm512_loadu_si512(x->q), p.q);
        return _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sums), _mm512_loadu_ps(x->d)), p.d, acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q8_0_pairs_avx512() { return &matmul_rows_wide<KQ8_0Pairs>; }

}  // namespace duet::cpu
