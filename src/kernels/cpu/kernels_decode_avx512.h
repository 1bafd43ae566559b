// kernels_decode_avx512.h: entry points of the full-width (512-bit) decode and few-stream kernels (*_avx512.cpp, compiled
// with AVX-512 F/VL/BW/VNNI): tile_avx512.h describes them. Callers must check cpu_has_avx512_vnni() first; this
// header itself has no intrinsics. kernels.cpp sends them steps of 1-4 tokens when the 512-bit backend was chosen.
#pragma once

#include <cstdint>

#include "kernels/cpu/matmul_rows.h"
#include "kernels/cpu/width_probe.h"
#include "common/tensor_type.h"
#include "kernels/formats.h"

namespace duet::cpu {

// Q4_0 (n a multiple of 128): four weight blocks per 512-bit vector (low nibbles | high nibbles) against
// activations laid out the same way: lo = [x0 0..15 | x1 0..15 | x2 0..15 | x3 0..15], hi = the same for values
// 16..31, d = [d0 x4 | d1 x4 | d2 x4 | d3 x4], s = [2 s0 x4 | ...] (Q8_1-style blocks, s = d * sum of q).
struct XQuadQ8 {
    int8_t lo[64];
    int8_t hi[64];
    float d[16];
    float s[16];
};
static_assert(sizeof(XQuadQ8) == 256);
void quantize_row_q8_quads_avx512(const float* x, XQuadQ8* y, int64_t n);
MatmulRowsFn matmul_rows_fn_q4_0_quads_avx512();

// Q8_0 (n a multiple of 64): two weight blocks per vector against activations biased to unsigned (q + 128, the
// operand vpdpbusd multiplies unsigned); the bias comes out through the weights' sums (128 * sum of w, once per
// step). q = [block 0's 32 | block 1's 32], d = [d0 x8 | d1 x8].
struct XPairQ8U {
    uint8_t q[64];
    float d[16];
};
static_assert(sizeof(XPairQ8U) == 128);
void quantize_row_q8_u_pairs_avx512(const float* x, XPairQ8U* y, int64_t n);
MatmulRowsFn matmul_rows_fn_q8_0_pairs_avx512();

// Kernels over weights repacked at load (kernels/ref/packed.h): how a token's activations are prepared (x_row_size
// bytes each, in the matmul scratch) and the row function (rows r0, r1 multiples of 16; MatmulArgs::w_row_size is
// a group's bytes / 16). All null for a layout without one.
// One token's block of 32 activations for them: q = round(x / d), corr = -offset * sum(q) (offset 8 for Q4_0's
// nibbles, 128 for Q8_0's bytes stored unsigned), where the block's integer sums start.
struct XRows16 {
    float d;
    int32_t corr;
    int8_t qs[32];
};
static_assert(sizeof(XRows16) == 40);
// quantize_row_rows16_avx2's bytes (kernels_avx2.h) on 512-bit vectors (ops_avx512.cpp).
void quantize_row_rows16_avx512(const float* x, XRows16* y, int64_t n, int32_t offset);
struct PackedKernel {
    size_t (*x_row_size)(int64_t n) = nullptr;
    void (*prepare)(const float* x, uint8_t* row, int64_t n) = nullptr;
    MatmulRowsFn rows = nullptr;
};
// hint: how the kernel prefetches the weights it streams (chosen at start, width_probe.h).
PackedKernel packed_kernel_avx512(WeightLayout layout, StreamPrefetch hint);  // matmul_rows16_avx512.cpp
PackedKernel packed_kernel_q4_k_avx512(StreamPrefetch hint);                  // matmul_q4_k_rows16_avx512.cpp
PackedKernel packed_kernel_q6_k_avx512(StreamPrefetch hint);                  // matmul_q6_k_rows16_avx512.cpp
// One token's super-block of 256 activations for q6_k_rows16: Q8_K's d and values, corr[s] = -32 * the sum of
// values 16s .. 16s+15 (the weights' offset, where group s's integer sums start).
struct XRows16Q6K {
    float d;
    int32_t corr[16];
    int8_t qs[256];
};
static_assert(sizeof(XRows16Q6K) == 324);

// Q4_K against plain Q8_K activation rows (two sub-blocks per vector).
MatmulRowsFn matmul_rows_fn_q4_k_avx512();

}  // namespace duet::cpu
