// matmul_q4_k_oct_avx2.cpp: the Q4_K batch kernel with AVX2 in oct_q4_k.h's layout: per super-block, row and
// token 8 maddubs summed in int16 (8 steps x 2 products x 15 x 127 = 30480 fits), one madd against ones to the
// 8 sub-blocks' int32 dots, then the 4-op float epilogue. Tiles of 4 rows x 1 token, as the Q4_0 AVX2 batch
// kernel (matmul_q4_0_oct_avx2.cpp). Same integer sums as the reference.
#include "kernels/cpu/oct_q4_k.h"

namespace duet::cpu {

namespace {

struct KQ4_KOctAvx2 : OctQ4_K {
    static constexpr int kRows = 4, kTokens = 1;
    template <int NT>
    __attribute__((always_inline)) static void group(const WOctK* w, const XOctQ8K* const* x, int64_t g,
                                                     __m256 (&f)[kRows][NT]) {
        __m256i acc[kRows][NT];
        for_each_step<kRows, NT>(w, x, g, [&](int s, int i, int j, __m256i ws, __m256i xs) __attribute__((always_inline)) {
            const __m256i p = _mm256_maddubs_epi16(ws, xs);
            acc[i][j] = s == 0 ? p : _mm256_add_epi16(acc[i][j], p);
        });
#pragma GCC unroll 8
        for (int i = 0; i < kRows; ++i) {
            const __m256 dsc = _mm256_load_ps(w[i].dsc), dmin = _mm256_load_ps(w[i].dmin);
#pragma GCC unroll 8
            for (int j = 0; j < NT; ++j)
                f[i][j] = accumulate(dsc, dmin, x[j][g], _mm256_madd_epi16(acc[i][j], ones_epi16()), f[i][j]);
        }
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_k_oct_avx2() { return &matmul_rows_oct<KQ4_KOctAvx2>; }

}  // namespace duet::cpu
