// matmul_q4_k_oct_avx2.cpp: the Q4_K and Q5_K batch kernels with AVX2 in oct_q4_k.h's layout: per super-block, row and
// token 8 maddubs summed in int16 (Q4_K: 8 steps x 2 products x 15 x 127 = 30480 fits; Q5_K: 4 steps at a time), one madd against ones to the
// 8 sub-blocks' int32 dots, then the 4-op float epilogue. Tiles of 4 rows x 1 token, as the Q4_0 AVX2 batch
// kernel (matmul_q4_0_oct_avx2.cpp). Same integer sums as the reference.
#include "kernels/cpu/oct_q4_k.h"

namespace duet::cpu {

namespace {

template <class Layout>
struct KOctKAvx2 : Layout {
    using Layout::accumulate;
    static constexpr int kRows = 4, kTokens = 1;
    // Q5_K's values reach 31: 8 steps of int16 sums would overflow (62992), so they go to int32 after 4.
    static constexpr bool kSplit = Layout::kFiveBits;
    template <int NT>
    __attribute__((always_inline)) static void group(const WOctK* w, const XOctQ8K* const* x, int64_t g,
                                                     __m256 (&f)[kRows][NT]) {
        __m256i acc[kRows][NT], first_half[kRows][NT];
        for_each_step<kRows, NT>(
            w, x, g, [&](int s, int i, int j, __m256i ws, __m256i xs) __attribute__((always_inline)) {
                const __m256i p = _mm256_maddubs_epi16(ws, xs);
                if (kSplit && s == 4) first_half[i][j] = _mm256_madd_epi16(acc[i][j], ones_epi16());
                acc[i][j] = s == 0 || (kSplit && s == 4) ? p : _mm256_add_epi16(acc[i][j], p);
            });
#pragma GCC unroll 8
        for (int i = 0; i < kRows; ++i) {
            const __m256 dsc = _mm256_load_ps(w[i].dsc), dmin = _mm256_load_ps(w[i].dmin);
#pragma GCC unroll 8
            for (int j = 0; j < NT; ++j) {
                __m256i sums = _mm256_madd_epi16(acc[i][j], ones_epi16());
                if constexpr (kSplit) sums = _mm256_add_epi32(sums, first_half[i][j]);
                f[i][j] = accumulate(dsc, dmin, x[j][g], sums, f[i][j]);
            }
        }
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_k_oct_avx2() { return &matmul_rows_oct<KOctKAvx2<OctQ4_K>>; }
MatmulRowsFn matmul_rows_fn_q5_k_oct_avx2() { return &matmul_rows_oct<KOctKAvx2<OctQ5_K>>; }

}  // namespace duet::cpu
