// matmul_q4_0_oct_avx2.cpp: the Q4_0 batch kernel with AVX2, in the 8-blocks-per-vector layout of oct_q4_0.h.
// Per group, row and token: 8 maddubs (unsigned weight x signed activation byte pairs -> int16), summed in
// int16 (8 steps x 2 products x 15 x 127 = 30480 fits), one madd against ones to int32 block sums, then one
// add (the -8 offsets), convert, multiply and fma — 20 ops per 256 values where the pair kernel spends 28.
// Tiles of 4 rows x 1 token (AVX2 has 16 vector registers: 4 int16 sums, 4 float sums, a weight step, an
// activation step); the token loop reuses the unpacked rows from L1/L2. 2 rows x 2 tokens measured the same.
// Measured (bench_kernels batch/q4_0, 2 threads, DUET_BACKEND=avx2 on the Zen 4 VM): 64 tokens 1.3-1.6x the
// pair kernel, 16 tokens 1.3x; 4 tokens 1.5x on 1536x8960 but 0.85-0.9x on 8960x1536 (rows of 1536: the
// pair kernel's 1x4 tiles are cheap there), a net gain over the model's matrices.
#include "kernels/cpu/oct_q4_0.h"

namespace duet::cpu {

namespace {

struct KOctAvx2 : OctQ4_0 {
    static constexpr int kRows = 4, kTokens = 1;
    template <int NT>
    __attribute__((always_inline)) static void group(const WOct* w, const XOctQ8* const* x, int64_t g,
                                                     __m256 (&f)[kRows][NT]) {
        __m256i acc[kRows][NT];
        for_each_step<kRows, NT>(
            w, x, g, [&](int s, int i, int j, __m256i ws, __m256i xs) __attribute__((always_inline)) {
                const __m256i p = _mm256_maddubs_epi16(ws, xs);
                acc[i][j] = s == 0 ? p : _mm256_add_epi16(acc[i][j], p);
            });
#pragma GCC unroll 8
        for (int i = 0; i < kRows; ++i) {
            const __m256 dw = _mm256_load_ps(w[i].d);
#pragma GCC unroll 8
            for (int j = 0; j < NT; ++j) {
                const __m256i sums =
                    _mm256_add_epi32(_mm256_madd_epi16(acc[i][j], ones_epi16()),
                                     _mm256_load_si256(reinterpret_cast<const __m256i*>(x[j][g].offs)));
                f[i][j] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(dw, _mm256_load_ps(x[j][g].d)), f[i][j]);
            }
        }
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_0_oct_avx2() { return &matmul_rows_oct<KOctAvx2>; }

}  // namespace duet::cpu
