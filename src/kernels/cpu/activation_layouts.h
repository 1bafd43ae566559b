// activation_layouts.h: how the SIMD matmul kernels over file rows want their activations (kernels.cpp's
// matmul_many): the layout a backend, weight type and step size take, the bytes of one row of it, the row kernel that
// reads it and the quantizer that writes it, and the scratch the largest of them needs. Internal to kernels/cpu.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"
#include "kernels/cpu/matmul_rows.h"
#include "kernels/kernels.h"

namespace duet::kernels {

// How the SIMD kernels want the activations: the reference formats (kernels/ref/vec_dot.h), or one of the
// layouts that match a kernel's weight loads.
enum class XLayout {
    plain,        // Q8_1-style / Q8_K rows (the per-block kernels), or floats
    q4_0_pairs,   // XPairQ8: Q4_0 rows of a multiple of 64, one token or a few (the pair kernels)
    q4_0_octs,    // XOctQ8: Q4_0 batches on the 8-lane kernels
    q8_0_octs,    // XOctQ8 with zero point 128: Q8_0 batches on the 8-lane VNNI kernel
    k_octs,       // XOctQ8K: Q4_K / Q5_K batches on the 8-lane kernels
    q4_0_quads,   // XQuadQ8: Q4_0 steps of 1-4 tokens on the 512-bit kernel (avx512)
    q8_0_upairs,  // XPairQ8U: Q8_0 steps of 1-4 tokens on the 512-bit kernel (avx512)
    q8_k_wide,    // plain Q8_K rows: Q4_K steps of 1-4 tokens on the 512-bit kernel (avx512)
};

// The layout of an op's activations on this backend (choose_layout's comment in activation_layouts.cpp says why).
XLayout choose_layout(Backend backend, TensorType wtype, int64_t n, int64_t n_tokens);
// Bytes of one activation row of n elements in `layout`.
size_t layout_row_size(XLayout layout, TensorType wtype, int64_t n);
// The row kernel of this backend, layout and weight type; nullptr where the backend has none.
cpu::MatmulRowsFn rows_fn_for(Backend backend, XLayout layout, TensorType wtype);
// x (n,) -> one activation row in `layout` (x86: the AVX2 quantizers; elsewhere the plain reference formats).
void quantize_activation_row(XLayout layout, TensorType wtype, const float* x, uint8_t* row, int64_t n);

}  // namespace duet::kernels
