// quants.h: ggml/GGUF block layouts, reference dequantize/quantize of rows, and the activation formats
// (Q8_K, and our Q8_1-style block with a float sum) that the quantized dot products consume.
//
// Legacy quants: 32 elements per block; element j of the first half sits in the low nibble of qs[j],
// element j + 16 in the high nibble. K-quants: 256-element super-blocks of 8 (or 16) sub-blocks with
// 6-bit (or 8-bit) sub-block scales. Dequantization follows ggml's formulas exactly (bit for bit).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"

namespace duet {

using f16_bits = uint16_t;  // IEEE half, stored as raw bits

struct block_q4_0 {
    f16_bits d;           // scale
    uint8_t qs[kQK / 2];  // nibbles, x = (q - 8) * d
};
static_assert(sizeof(block_q4_0) == 18);

struct block_q4_1 {
    f16_bits d, m;        // scale, min
    uint8_t qs[kQK / 2];  // nibbles, x = q * d + m
};
static_assert(sizeof(block_q4_1) == 20);

struct block_q5_0 {
    f16_bits d;
    uint8_t qh[4];        // fifth bits, bit j of the little-endian u32 belongs to element j
    uint8_t qs[kQK / 2];  // low nibbles, x = (q - 16) * d
};
static_assert(sizeof(block_q5_0) == 22);

struct block_q5_1 {
    f16_bits d, m;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];  // x = q * d + m
};
static_assert(sizeof(block_q5_1) == 24);

struct block_q8_0 {
    f16_bits d;
    int8_t qs[kQK];  // x = q * d
};
static_assert(sizeof(block_q8_0) == 34);

struct block_q4_K {
    f16_bits d, dmin;       // super-block scale for the 6-bit sub-block scales / mins
    uint8_t scales[12];     // 8 scales + 8 mins, 6 bits each
    uint8_t qs[kQK_K / 2];  // x = d * sc * q - dmin * m
};
static_assert(sizeof(block_q4_K) == 144);

struct block_q5_K {
    f16_bits d, dmin;
    uint8_t scales[12];
    uint8_t qh[kQK_K / 8];  // fifth bits
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(block_q5_K) == 176);

struct block_q6_K {
    uint8_t ql[kQK_K / 2];      // low 4 bits
    uint8_t qh[kQK_K / 4];      // high 2 bits
    int8_t scales[kQK_K / 16];  // 16 sub-blocks of 16, 8-bit scales
    f16_bits d;                 // x = d * sc * (q - 32)
};
static_assert(sizeof(block_q6_K) == 210);

struct block_q8_K {
    float d;
    int8_t qs[kQK_K];
    int16_t bsums[kQK_K / 16];  // sums of each group of 16 qs
};
static_assert(sizeof(block_q8_K) == 292);

// Activation block for the legacy-quant dot products (not a file format): x ~= q * d, s = d * sum(q).
struct block_q8_1f {
    float d;
    float s;
    int8_t qs[kQK];
};
static_assert(sizeof(block_q8_1f) == 40);

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
