// packed_q6_k.cpp: the q6_k_rows16 layout (Q6_K rows in groups of 16 for the avx512 kernel,
// kernels/cpu/matmul_q6_k_rows16_avx512.cpp) and its repack. W (d,n), nsb = n / 256 super-blocks per row; group g
// = rows 16g .. 16g+15, at byte g * G:
//
//   scales:  nsb x [16 s][16 rows] int8    sc[b][s][r] = scale s of super-block b of row 16g+r (16 bytes: one
//                                          128-bit load -> the 16 rows' scales of a group of 16 values)
//            nsb x [16 rows] half          d[b][r] = d of super-block b of row 16g+r
//            (each super-block's 256 + 32 bytes in turn; then zeros up to a multiple of 64 bytes)
//   quants:  nsb x { ql: [32 k][16 rows][4 bytes]   ql[b][k][r][j] = byte 4k+j of ql of super-block b, row 16g+r
//                    qh: [16 k][16 rows][4 bytes] } qh[b][k][r][j] = byte 4k+j of qh
//            so one 64-byte load holds 4 bytes of each of the 16 rows (vpdpbusd's operand), as in q4_0_rows16
//
//   G = roundup(nsb * 288, 64) + nsb * 3072: the file's 16 * 210 bytes per super-block, plus at most 32 bytes per
//   group so that every quant load starts a cache line (nsb odd: 8960 / 256 = 35 in Qwen2-1.5B's ffn_down).
//   The scales come first: a pass prefetching the group's bytes in order reaches them before the quants they scale.
//
// The file's 4 + 2-bit split stays (unpacked 6-bit bytes would be a third more to stream); the kernel rebuilds a
// vector of 6-bit values from one ql vector and one qh vector (values 128h + 32f + 4m + j, f = 0..3, m = 0..7):
//   f = 0: ql[16h+m] & 15 | (qh[8h+m] >> 0 & 3) << 4      f = 1: ql[16h+8+m] & 15 | (qh[8h+m] >> 2 & 3) << 4
//   f = 2: ql[16h+m] >> 4 | (qh[8h+m] >> 4 & 3) << 4      f = 3: ql[16h+8+m] >> 4 | (qh[8h+m] >> 6 & 3) << 4
#include <cstddef>
#include <cstring>

#include "common/assert.h"
#include "kernels/ref/packed.h"

namespace duet::ref {

namespace {

constexpr int64_t kQlBytes = 16 * kQK_K / 2;      // 2048: one super-block's ql for 16 rows
constexpr int64_t kQhBytes = 16 * kQK_K / 4;      // 1024
constexpr int64_t kScaleBytes = 16 * kQK_K / 16;  // 256
constexpr int64_t kHalfBytes = 16 * 2;            // 32

int64_t scales_section(int64_t nsb) { return (nsb * (kScaleBytes + kHalfBytes) + 63) / 64 * 64; }
int64_t group_bytes(int64_t n) {
    const int64_t nsb = n / kQK_K;
    return scales_section(nsb) + nsb * (kQlBytes + kQhBytes);
}

bool fits(TensorType type, int64_t n, int64_t d) {
    return type == TensorType::Q6_K && n % kQK_K == 0 && n > 0 && d % kRows16 == 0 && d > 0;
}
size_t size(int64_t n, int64_t d) { return static_cast<size_t>(group_bytes(n) * (d / kRows16)); }

// Where super-block b of row r (of its group) lives in a group against the file's blocks: copy(packed, file, bytes)
// per field, so pack (group writable) and unpack (blocks writable) walk one map.
template <class GroupByte, class BlockByte, class Copy>
void walk_row(GroupByte* group, int64_t nsb, int64_t r, BlockByte* blocks, Copy copy) {
    const int64_t scales = scales_section(nsb);
    for (int64_t b = 0; b < nsb; ++b) {
        BlockByte* blk = blocks + b * static_cast<int64_t>(sizeof(block_q6_K));
        GroupByte* sc = group + b * (kScaleBytes + kHalfBytes);
        for (int64_t s = 0; s < 16; ++s) copy(sc + s * 16 + r, blk + offsetof(block_q6_K, scales) + s, 1);
        copy(sc + kScaleBytes + r * 2, blk + offsetof(block_q6_K, d), 2);
        GroupByte* ql = group + scales + b * (kQlBytes + kQhBytes);
        GroupByte* qh = ql + kQlBytes;
        for (int64_t k = 0; k < 32; ++k) copy(ql + k * 64 + r * 4, blk + offsetof(block_q6_K, ql) + 4 * k, 4);
        for (int64_t k = 0; k < 16; ++k) copy(qh + k * 64 + r * 4, blk + offsetof(block_q6_K, qh) + 4 * k, 4);
    }
}

void pack_rows(const void* w, int64_t n, int64_t d, void* out) {
    DUET_ASSERT(fits(TensorType::Q6_K, n, d));
    const int64_t nsb = n / kQK_K, gb = group_bytes(n);
    const auto* rows = static_cast<const uint8_t*>(w);
    const int64_t used = nsb * (kScaleBytes + kHalfBytes);
    for (int64_t g = 0; g < d / kRows16; ++g) {
        std::memset(static_cast<uint8_t*>(out) + g * gb + used, 0, scales_section(nsb) - used);  // the padding
        for (int64_t r = 0; r < kRows16; ++r)
            walk_row(static_cast<uint8_t*>(out) + g * gb, nsb, r, rows + (g * kRows16 + r) * nsb * sizeof(block_q6_K),
                     [](uint8_t* p, const uint8_t* f, size_t k) { std::memcpy(p, f, k); });
    }
}

void unpack(const void* packed, int64_t n, int64_t r, void* row) {
    walk_row(static_cast<const uint8_t*>(packed) + r / kRows16 * group_bytes(n), n / kQK_K, r % kRows16,
             static_cast<uint8_t*>(row), [](const uint8_t* p, uint8_t* f, size_t k) { std::memcpy(f, p, k); });
}

}  // namespace

PackedFormat packed_format_q6_k() { return {&fits, &size, &pack_rows, &unpack}; }

}  // namespace duet::ref
