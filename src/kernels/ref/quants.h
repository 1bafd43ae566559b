// quants.h: reference dequantize/quantize of rows in ggml's block formats (kernels/formats.h) and the
// activation quantizers (Q8_K, our Q8_1-style block with a float sum) that the quantized dot products consume.
// Dequantization follows ggml's formulas exactly (bit for bit).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"
#include "kernels/formats.h"

namespace duet {

// Dequantize n elements (a multiple of the block size) of `type` to floats.
void dequantize_row(TensorType type, const void* src, float* dst, int64_t n);
// Reference quantizer: n floats (a multiple of the block size) into `type` blocks.
void quantize_row(TensorType type, const float* src, void* dst, int64_t n);
// The types dequantize_row / quantize_row / matmul / get_row handle.
bool type_has_kernels(TensorType type);

// Activation quantizers used by the quantized dot products (reference versions).
void quantize_row_q8_1f(const float* x, block_q8_1f* y, int64_t n);
void quantize_row_q8_K(const float* x, block_q8_K* y, int64_t n);

// Helpers shared by the quantizers and kernels.
void get_scale_min_k4(int j, const uint8_t* scales, uint8_t* sc, uint8_t* m);  // Q4_K/Q5_K 6-bit unpack

// Row-type helpers of the individual formats (n elements).
void dequantize_row_q4_K(const block_q4_K* x, float* y, int64_t n);
void dequantize_row_q5_K(const block_q5_K* x, float* y, int64_t n);
void dequantize_row_q6_K(const block_q6_K* x, float* y, int64_t n);
void quantize_row_q4_K(const float* x, block_q4_K* y, int64_t n);
void quantize_row_q5_K(const float* x, block_q5_K* y, int64_t n);
void quantize_row_q6_K(const float* x, block_q6_K* y, int64_t n);

}  // namespace duet
