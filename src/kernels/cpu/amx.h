// amx.h: prefill over the rows16 layouts of Q4_0, Q8_0, Q4_K and Q6_K (kernels/ref/packed.h) on Intel AMX tiles,
// for steps of kAmxMinTokens tokens or more on the avx512 backend (matmul_rows16_amx.cpp; kernels.cpp's
// matmul_packed_on calls it). The weights are dequantized to bf16 a group (16 rows) and a chunk of blocks at a time,
// once for every token of the step; the activations are bf16 too (rounded from the floats, not quantized);
// TDPBF16PS sums in fp32.
// The result is the naive twin ref::matmul_packed_bf16's (kernels/ref/packed.h) up to the order of the fp32 sums,
// and differs from the VNNI kernels' (8-bit activations) by bf16's rounding. Header without intrinsics.
//
// The prepared activations (the matmul scratch), for T tokens of n values, T16 = T rounded down to 16:
//
//   tiles:  [T16 / 16][n / 32][16 tokens][32 values] bf16    one A tile (16 x 64 bytes) per 16 tokens and block
//   tail:   [T - T16] rows of the VNNI kernel's own            the last tokens, for that kernel (packed_kernel_avx512),
//                                                            at most 2 bytes a value
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"
#include "kernels/cpu/matmul_rows.h"
#include "kernels/cpu/width_probe.h"

namespace duet::cpu {

// CPUID's AMX-TILE, AMX-BF16 and AVX512-BF16, and the OS's leave to use the tile registers (Linux: asked once with
// arch_prctl(ARCH_REQ_XCOMP_PERM)). False off x86-64 Linux.
bool cpu_has_amx_bf16();

constexpr int64_t kAmxTileTokens = 16;  // tokens per A tile
// Fewer tokens take the VNNI kernels: at 32 the two measured even, at 48 AMX 1.1-1.25x ahead (matmul_rows16_amx.cpp).
constexpr int64_t kAmxMinTokens = 48;

// Bytes of the prepared activations above.
inline size_t amx_scratch_size(int64_t n, int64_t n_tokens) { return static_cast<size_t>(n * n_tokens) * 2; }

struct AmxKernel {
    // Token t of n_tokens (x: its n floats) into its place in the scratch (any order, any thread).
    void (*prepare)(const float* x, int64_t t, int64_t n, int64_t n_tokens, uint8_t* scratch) = nullptr;
    // Rows [r0, r1) (multiples of 16) of every token; MatmulArgs::x is the scratch, w_row_size a group's bytes / 16.
    MatmulRowsFn rows = nullptr;
};
// The kernel of a rows16 layout (q4_0, q8_0, q4_k, q6_k; hint: the tail tokens' VNNI kernel's prefetch); empty for
// others. Callers check cpu_has_amx_bf16() first.
AmxKernel amx_kernel(WeightLayout layout, StreamPrefetch hint);

}  // namespace duet::cpu
