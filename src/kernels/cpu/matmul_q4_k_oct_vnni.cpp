// matmul_q4_k_oct_vnni.cpp: the Q4_K and Q5_K batch kernels (8+ tokens) with AVX-512 VNNI in oct_q4_k.h's layout:
// per super-block, row and token 8 vpdpbusd (the per-32 kernel, matmul_k_vnni.cpp, spends a maddubs +
// vpdpwssd pair per 32 values and token), then the 4-op float epilogue. Tiles of 4 rows x 4 tokens.
// Same integer sums as the reference; results differ only in float rounding order.
// Measured (bench_kernels, 2 threads): batch/q4_K 64 tokens 3.6-4.1 ms against 8.5-10.0 for the per-32 kernel,
// prefill512/q4_K/1536x1536 5.8 against 12.9 ms; R1-1.5B Q4_K_M pp512 129 against 78 tok/s.
#define DUET_TILE_ISA avx512_vnni
#include "kernels/cpu/oct_q4_k.h"

namespace duet::cpu {

namespace {

template <class Layout>
struct KOctKVnni : Layout {
    using Layout::accumulate;
    static constexpr int kRows = 4, kTokens = 4;
    template <int NT>
    __attribute__((always_inline)) static void group(const WOctK* w, const XOctQ8K* const* x, int64_t g,
                                                     __m256 (&f)[kRows][NT]) {
        __m256i acc[kRows][NT];
        for_each_step<kRows, NT>(
            w, x, g, [&](int s, int i, int j, __m256i ws, __m256i xs) __attribute__((always_inline)) {
                acc[i][j] = _mm256_dpbusd_epi32(s == 0 ? _mm256_setzero_si256() : acc[i][j], ws, xs);
            });
#pragma GCC unroll 8
        for (int i = 0; i < kRows; ++i) {
            const __m256 dsc = _mm256_load_ps(w[i].dsc), dmin = _mm256_load_ps(w[i].dmin);
#pragma GCC unroll 8
            for (int j = 0; j < NT; ++j) f[i][j] = accumulate(dsc, dmin, x[j][g], acc[i][j], f[i][j]);
        }
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_k_oct_vnni() { return &matmul_rows_oct<KOctKVnni<OctQ4_K>>; }
MatmulRowsFn matmul_rows_fn_q5_k_oct_vnni() { return &matmul_rows_oct<KOctKVnni<OctQ5_K>>; }

}  // namespace duet::cpu
