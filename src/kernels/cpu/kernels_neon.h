// kernels_neon.h: entry points of the AArch64 NEON kernels (defined in *_neon.cpp, plain ARMv8-A, and
// *_dotprod.cpp, compiled for ARMv8.2-A + FEAT_DotProd). Only built on AArch64; this header has no intrinsics.
// Callers must check cpu_has_neon_dotprod() before using a *_dotprod function.
#pragma once

#include <cstdint>

#include "common/tensor_type.h"
#include "kernels/cpu/matmul_rows.h"

namespace duet::cpu {

// True when the CPU has the SDOT/UDOT instructions (Linux: HWCAP_ASIMDDP; macOS: hw.optional.arm.FEAT_DotProd).
bool cpu_has_neon_dotprod();

// Row kernels over the reference activation formats (kernels/ref/vec_dot.h: block_q8_1f, block_q8_K or float
// rows), one weight row against up to 4 tokens at a time (the weights are unpacked once per tile).
// nullptr for a type without a NEON kernel (Q4_1, Q5_0, Q5_1, BF16: the reference path runs them).
MatmulRowsFn matmul_rows_fn_neon(TensorType wtype);          // F32 F16 Q4_0 Q8_0 Q4_K Q5_K Q6_K
MatmulRowsFn matmul_rows_fn_neon_dotprod(TensorType wtype);  // the same with SDOT; needs cpu_has_neon_dotprod()

void rmsnorm_neon(float* out, const float* x, const float* w, int64_t n, float eps);
void softmax_neon(float* x, int64_t n);
void silu_mul_neon(float* out, const float* gate, const float* up, int64_t n);
void add_neon(float* out, const float* a, const float* b, int64_t n);
float dot_f32_neon(const float* a, const float* b, int64_t n);
float dot_f16_f32_neon(const uint16_t* a, const float* b, int64_t n);
void axpy_f16_neon(float* out, float w, const uint16_t* v, int64_t n);
void axpy_f32_neon(float* out, float w, const float* v, int64_t n);
void f32_to_f16_neon(uint16_t* out, const float* x, int64_t n);

}  // namespace duet::cpu
