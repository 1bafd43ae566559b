// vec_dot.h: the activation formats of the weight-row · activation dot products, and their reference versions.
//
// matmul quantizes each activation row ONCE into the format its weight type multiplies with:
//   Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 -> block_q8_1f (32 values, float scale and float scaled sum)
//   Q4_K Q5_K Q6_K            -> block_q8_K  (256 values, 16-element sums)
//   F32 F16 BF16              -> the float row itself (float FMA)
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"

namespace duet::ref {

enum class ActivationFormat { f32, q8_1f, q8_K };

ActivationFormat activation_format(TensorType wtype);
// Bytes of one quantized activation row of n elements (0 for f32: the row is used as is).
size_t activation_row_size(TensorType wtype, int64_t n);
// x (n,) -> xq in activation_format(wtype) (nothing to do for f32).
void quantize_activation_row(TensorType wtype, const float* x, void* xq, int64_t n);
// dot(W row (n,), activation row (n,)); xq is the quantized row, or the float row for f32 formats.
float vec_dot(TensorType wtype, int64_t n, const void* w_row, const void* xq);

}  // namespace duet::ref
