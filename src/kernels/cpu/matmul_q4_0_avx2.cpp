// matmul_q4_0_avx2.cpp: the Q4_0 fast path: two weight blocks per 256-bit vector against activations laid out
// in matching block pairs (XPairQ8), so a pair costs one nibble unpack, two maddubs and one madd per row.
#include <cstring>

#include "kernels/cpu/tile_avx2.h"

namespace duet::cpu {

void quantize_row_q8_pairs_avx2(const float* x, XPairQ8* y, int64_t n) {
    for (int64_t p = 0; p < n / (2 * kQK); ++p, x += 2 * kQK) {
        block_q8_1f tmp[2];
        quantize_row_q8_1f_avx2(x, tmp, 2 * kQK);
        for (int h = 0; h < 2; ++h) {
            std::memcpy(y[p].lo + 16 * h, tmp[h].qs, 16);
            std::memcpy(y[p].hi + 16 * h, tmp[h].qs + 16, 16);
            for (int k = 0; k < 4; ++k) {
                y[p].d[4 * h + k] = tmp[h].d;
                y[p].s[4 * h + k] = 2.0f * tmp[h].s;  // 4 lanes x 2s = 8s: the -8 offset of Q4_0
            }
        }
    }
}

void quantize_row_q8_oct_avx2(const float* x, XOctQ8* y, int64_t n, int32_t zero_point) {
    const int64_t nb = n / kQK;
    for (int64_t b0 = 0; b0 < nb; b0 += 8, ++y) {
        std::memset(y, 0, sizeof(XOctQ8));
        for (int64_t j = 0; j < 8 && b0 + j < nb; ++j) {
            block_q8_1f tmp;
            quantize_row_q8_1f_avx2(x + (b0 + j) * kQK, &tmp, kQK);
            int32_t sum = 0;
            for (int k = 0; k < kQK; ++k) sum += tmp.qs[k];
            for (int s = 0; s < 8; ++s) std::memcpy(y->q + 32 * s + 4 * j, tmp.qs + 4 * s, 4);
            y->offs[j] = -zero_point * sum;
            y->d[j] = tmp.d;
        }
    }
}

namespace {

struct KQ4_0Pairs {
    using WBlock = Q4_0Pair;
    using XBlock = XPairQ8;
    using XPrep = const XPairQ8*;
    static constexpr int64_t kElems = 2 * kQK;
    static constexpr int kPrefillRows = 1, kPrefillTokens = 4;  // 4 accumulators + 1 decoded pair: no spills
    using Prep = Q4_0PairPrep;
    static Prep prep(const Q4_0Pair* w) { return unpack_q4_0_pair(w); }
    static XPrep xprep(const XPairQ8* x) { return x; }
    static __m256 apply(const Prep& p, XPrep x, __m256 acc) {
        const __m256i plo = _mm256_maddubs_epi16(p.lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->lo)));
        const __m256i phi = _mm256_maddubs_epi16(p.hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->hi)));
        const __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_add_epi16(plo, phi), ones_epi16()));
        const __m256 t = _mm256_fmsub_ps(f, _mm256_loadu_ps(x->d), _mm256_loadu_ps(x->s));
        return _mm256_fmadd_ps(t, p.d, acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_0_pairs_avx2() { return &matmul_rows<KQ4_0Pairs>; }

}  // namespace duet::cpu
