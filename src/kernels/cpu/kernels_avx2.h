// kernels_avx2.h: entry points of the AVX2/FMA/F16C kernels (defined in *_avx2.cpp, compiled with -mavx2 ...).
// Callers must check cpu_has_avx2() first; this header itself has no intrinsics.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"
#include "kernels/cpu/matmul_rows.h"
#include "kernels/formats.h"

namespace duet::cpu {

struct XRows16;  // kernels_decode_avx512.h

// True when the CPU (and OS) support AVX2, FMA and F16C.
bool cpu_has_avx2();
// True when it also has AVX512F + AVX512VL + AVX512BW + AVX512_VNNI (the *_vnni.cpp kernels).
bool cpu_has_avx512_vnni();

// Computes Y[t][r] for rows r in [r0, r1) (MatmulArgs, kernels/cpu/matmul_rows.h). The *_fn_* lookups return nullptr
// for a type without AVX2 kernels.
MatmulRowsFn matmul_rows_fn_avx2(TensorType wtype);
MatmulRowsFn matmul_rows_fn_legacy_avx2(TensorType wtype);  // F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
MatmulRowsFn matmul_rows_fn_k_avx2(TensorType wtype);       // Q4_K Q5_K Q6_K
MatmulRowsFn matmul_rows_fn_k_vnni(TensorType wtype);       // Q4_K Q5_K Q6_K; needs cpu_has_avx512_vnni()
// Thread row chunks are multiples of this (the prefill tile heights divide it).
int64_t matmul_row_granularity_avx2(int64_t n_tokens);

// Q4_0 fast path (n a multiple of 64): activations quantized as Q8_1-style blocks, then laid out in pairs of
// blocks to match two Q4_0 blocks loaded as one 256-bit vector (low nibbles | high nibbles):
//   lo = [x0 0..15 | x1 0..15], hi = [x0 16..31 | x1 16..31], d = [d0 x4 | d1 x4], s = [2 s0 x4 | 2 s1 x4]
struct XPairQ8 {
    int8_t lo[32];
    int8_t hi[32];
    float d[8];
    float s[8];
};
static_assert(sizeof(XPairQ8) == 128);
void quantize_row_q8_pairs_avx2(const float* x, XPairQ8* y, int64_t n);
MatmulRowsFn matmul_rows_fn_q4_0_pairs_avx2();
MatmulRowsFn matmul_rows_fn_q4_0_pairs_vnni();  // needs cpu_has_avx512_vnni()

// Q4_0 / Q8_0 batches (any n a multiple of 32; kernels.cpp picks the batch sizes): activations as Q8_1-style blocks
// in groups of 8 blocks, block j in int32 lane j (layout diagram in oct_q4_0.h): q[32 * s + 4 * j + k] = value
// 4 * s + k of block j; offs[j] = -zero_point * sum of block j's q; d[j] its scale. The last group is zero-padded.
struct XOctQ8 {
    alignas(32) int8_t q[256];
    int32_t offs[8];
    float d[8];
};
static_assert(sizeof(XOctQ8) == 320);
inline int64_t oct_groups(int64_t n) { return (n / 32 + 7) / 8; }
// zero_point: offs[j] = -zero_point * sum of block j's q: 8 for Q4_0 (its nibbles' -8), 128 for Q8_0 (its bytes
// biased to unsigned, oct_q8_0.h).
void quantize_row_q8_oct_avx2(const float* x, XOctQ8* y, int64_t n, int32_t zero_point);
MatmulRowsFn matmul_rows_fn_q4_0_oct_vnni();  // needs cpu_has_avx512_vnni()
MatmulRowsFn matmul_rows_fn_q4_0_oct_avx2();
MatmulRowsFn matmul_rows_fn_q8_0_oct_vnni();  // needs cpu_has_avx512_vnni()

// Q4_K / Q5_K batches: Q8_K activations (same int8 values and scale) in the same layout, one super-block per
// group, sub-block j in lane j: q[32 * s + 4 * j + k] = value 32 * j + 4 * s + k; xs[j] = d * (sum of sub-block
// j's q), the factor of Q4_K's mins; d the super-block's scale.
struct XOctQ8K {
    alignas(32) int8_t q[256];
    float xs[8];
    float d;
    float pad[7];
};
static_assert(sizeof(XOctQ8K) == 320);
void quantize_row_q8_k_oct_avx2(const float* x, XOctQ8K* y, int64_t n);
MatmulRowsFn matmul_rows_fn_q4_k_oct_vnni();  // needs cpu_has_avx512_vnni()
MatmulRowsFn matmul_rows_fn_q4_k_oct_avx2();
MatmulRowsFn matmul_rows_fn_q5_k_oct_vnni();  // needs cpu_has_avx512_vnni()
MatmulRowsFn matmul_rows_fn_q5_k_oct_avx2();

// Activation quantizers, bit-identical to the reference ones except for exact |max| ties.
void quantize_row_q8_1f_avx2(const float* x, block_q8_1f* y, int64_t n);
// The same blocks for the rows16 kernels: corr = -offset * sum(q) in place of s (kernels_decode_avx512.h).
void quantize_row_rows16_avx2(const float* x, XRows16* y, int64_t n, int32_t offset);
void quantize_row_q8_K_avx2(const float* x, block_q8_K* y, int64_t n);

void rmsnorm_avx2(float* out, const float* x, const float* w, int64_t n, float eps);
void softmax_avx2(float* x, int64_t n);
int64_t argmax_avx2(const float* x, int64_t n);
void silu_mul_avx2(float* out, const float* gate, const float* up, int64_t n);
void add_avx2(float* out, const float* a, const float* b, int64_t n);
float dot_f32_avx2(const float* a, const float* b, int64_t n);
float dot_f16_f32_avx2(const uint16_t* a, const float* b, int64_t n);
void axpy_f16_avx2(float* out, float w, const uint16_t* v, int64_t n);
void axpy_f32_avx2(float* out, float w, const float* v, int64_t n);
void f32_to_f16_avx2(uint16_t* out, const float* x, int64_t n);

}  // namespace duet::cpu
