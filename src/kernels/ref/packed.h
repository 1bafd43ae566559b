// packed.h: weight layouts repacked at load for a kernel's loads (common/tensor_type.h WeightLayout), and the
// naive twin of the matmul over them. The avx512 backend reads Q4_0 and Q8_0 matrices with d a multiple of 16
// this way:
//
//   q4_0_rows16, W (d,n), nb = n / 32 blocks per row; group g = rows 16g .. 16g+15, at byte 16g * row_size, made of
//   units of two blocks (the last one of a single block when nb is odd), each its blocks' scales, then their quants:
//
//     unit u (blocks 2u, 2u+1), at byte 2u * 288 of the group:
//       +0    d:  [2][16] half      d[i][r] = scale of block 2u+i of row 16g+r
//       +64   qs: [2][4][16][4]     qs[i][k][r][j] = byte 4k+j of block 2u+i of row 16g+r (low nibble: value 4k+j,
//                                   high nibble: value 16+4k+j), so one 64-byte load holds 4 bytes of each of the
//                                   16 rows: vpdpbusd's operand, against 4 activation bytes broadcast to every lane
//     (576 bytes = 9 cache lines; a last unit of one block: 32 bytes of scales, then its 256 bytes of quants)
//
//   The group is nb * 288 bytes = 16 rows of Q4_0: the same size as the file's rows, in the same place. A pass over
//   a group reads one stream. With the scales in a run of their own after the group's quants, it read two, and
//   the 2-thread decode of an 8960x1536 matrix (bench_kernels batch_packed/*/tokens:1/threads:2, probe 96 GB/s)
//   streamed at 73 GB/s for Q4_0 and 80 for Q8_0; in units, at 85 and 86-87.
//
//   q8_0_rows16, the same for Q8_0 (34-byte blocks): units of 2 x 32 bytes of scales, then 2 x 512 of quants
//
//     qs: [8][16][4] bytes per block   qs[k][r][j] = value 4k+j of the block of row 16g+r, plus 128 (unsigned: the
//                                      operand vpdpbusd wants; the activation's sum takes the 128 back out)
//
//   nb * 544 bytes = 16 rows of Q8_0.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"
#include "common/thread_pool.h"
#include "kernels/formats.h"

namespace duet::ref {

constexpr int64_t kRows16 = 16;  // rows per group of q4_0_rows16

// Whether W (d,n) of `type` can take `layout` (plain always can).
bool layout_fits(WeightLayout layout, TensorType type, int64_t n, int64_t d);

// The K-quant layouts, each in its own file (packed_q4_k.cpp, packed_q6_k.cpp; drawn there): whether W (d,n) fits,
// its bytes, the repack and one row back to the file's bytes. fits() is false until a layout has its kernel.
struct PackedFormat {
    bool (*fits)(TensorType type, int64_t n, int64_t d);
    size_t (*size)(int64_t n, int64_t d);
    void (*pack)(const void* w, int64_t n, int64_t d, void* out);
    void (*unpack_row)(const void* packed, int64_t n, int64_t r, void* row);
};
PackedFormat packed_format_q4_k();
PackedFormat packed_format_q6_k();

// Bytes of W (d,n) of `type` in `layout` (d * row_size for Q4_0 and Q8_0).
size_t packed_size(WeightLayout layout, TensorType type, int64_t n, int64_t d);
// W (d,n) of `type` in file rows -> `layout` (layout_fits); out holds packed_size bytes.
void pack(WeightLayout layout, TensorType type, const void* w, int64_t n, int64_t d, void* out);
// Row r of a packed matrix back to its file bytes (row_size(type, n) of them).
void unpack_row(WeightLayout layout, TensorType type, const void* packed, int64_t n, int64_t r, void* row);

// The naive twin of kernels::matmul over a packed matrix: every row unpacked, then ref::matmul's dot products
// (so the results equal ref::matmul's on the file rows exactly). scratch as ref::matmul_scratch_size.
void matmul_packed(WeightLayout layout, TensorType wtype, const void* w, int64_t n, int64_t d, const float* x,
                   int64_t n_tokens, float* y, void* scratch, ThreadPool* pool);

// The naive twin of the AMX kernel (kernels/cpu/amx.h): every row unpacked and dequantized, each weight and each
// activation rounded to bf16 (to nearest, ties to even), the products summed in double.
void matmul_packed_bf16(WeightLayout layout, TensorType wtype, const void* w, int64_t n, int64_t d, const float* x,
                        int64_t n_tokens, float* y);
// x rounded to bf16's 8 significant bits (to nearest, ties to even), as a float.
float round_to_bf16(float x);

}  // namespace duet::ref
