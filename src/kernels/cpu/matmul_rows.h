// matmul_rows.h: the operands of one matmul as the SIMD row kernels of every architecture see them
// (kernels_avx2.h, kernels_neon.h). Plain data, no intrinsics.
#pragma once

#include <cstddef>
#include <cstdint>

namespace duet::cpu {

// One matmul's operands: W (d,n) in its block layout; X (n_tokens, n) as float rows or as quantized
// activation rows (kernels/ref/vec_dot.h formats); Y (n_tokens, d).
struct MatmulArgs {
    const uint8_t* w;
    size_t w_row_size;  // bytes per weight row
    int64_t n;          // row length (elements)
    int64_t d;          // number of rows
    const uint8_t* x;   // activations: float rows (F32/F16/BF16 weights) or quantized rows
    size_t x_row_size;  // bytes per activation row
    int64_t n_tokens;
    float* y;  // (n_tokens, d)
};

// Computes Y[t][r] for every token t and rows r in [r0, r1).
using MatmulRowsFn = void (*)(const MatmulArgs& args, int64_t r0, int64_t r1);

}  // namespace duet::cpu
