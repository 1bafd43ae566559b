// formats.h: ggml/GGUF block layouts, byte for byte (static_asserted), shared by the reference twins
// (kernels/ref) and the optimized kernels (kernels/cpu), plus the activation blocks the quantized dot products
// consume. Layout only: no functions. Includes common/tensor_type.h (kQK, kQK_K) only.
//
// Legacy quants: 32 elements per block; element j of the first half sits in the low nibble of qs[j],
// element j + 16 in the high nibble. K-quants: 256-element super-blocks of 8 (or 16) sub-blocks with
// 6-bit (or 8-bit) sub-block scales.
#pragma once

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

}  // namespace duet
