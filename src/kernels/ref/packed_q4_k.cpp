// packed_q4_k.cpp: the q4_k_rows16 layout (Q4_K rows in groups of 16 for the avx512 kernel,
// kernels/cpu/matmul_q4_k_rows16_avx512.cpp) and its repack:
//
//   q4_k_rows16, W (d,n), ns = n / 256 super-blocks per row; group g = rows 16g .. 16g+15, at byte g * ns * 2368;
//   super-block s of the group at byte s * 2368 of it (2368 = 37 cache lines):
//
//     +0     qs:   [4 chunks][8 k][16 rows][4 bytes]   qs[c][k][r][j] = byte 32c+4k+j of row 16g+r's qs (low nibble:
//                                                      value 4k+j of sub-block 2c, high nibble: of sub-block 2c+1),
//                                                      so one 64-byte load holds 4 bytes of each of the 16 rows
//     +2048  sc:   [8 sub-blocks][16 rows] uint8       the 6-bit scales, decoded from the file's scales[12]
//     +2176  m:    [4 pairs][16 rows][2] uint8         m[p][r][i] = the 6-bit min of sub-block 2p+i (the kernel widens
//                                                      a pair to int16 x 2 for vpdpwssd against the sub-block sums)
//     +2304  d:    [16 rows] half                      the super-block scales
//     +2336  dmin: [16 rows] half
//
//   One super-block of a group is 2368 bytes where the file's 16 rows hold 2304 (the scales take 2 bytes each
//   instead of 1.5): the layout is 64/2304 = 2.8% larger than the file's rows. The decoded scales and mins are the
//   file's 96 bits of scales[12] exactly, so unpack_row encodes them back to the same bytes.
#include <cstring>

#include "common/assert.h"
#include "kernels/ref/packed.h"
#include "kernels/ref/quants.h"

namespace duet::ref {

namespace {

constexpr int64_t kQuantBytes = 2048, kScaleOffset = 2048, kMinOffset = 2176, kDOffset = 2304, kDminOffset = 2336;
constexpr int64_t kSuperBlockBytes = 2368;  // one super-block of 16 rows

bool fits(TensorType type, int64_t n, int64_t d) {
    return type == TensorType::Q4_K && n % kQK_K == 0 && n > 0 && d % kRows16 == 0 && d > 0;
}

size_t size(int64_t n, int64_t d) { return static_cast<size_t>(d / kRows16 * (n / kQK_K) * kSuperBlockBytes); }

// Where the min of sub-block j of row r is in the mins.
int64_t min_index(int j, int64_t r) { return j / 2 * 2 * kRows16 + r * 2 + j % 2; }

// Byte offset of super-block s of group g.
int64_t super_block_offset(int64_t n, int64_t g, int64_t s) { return (g * (n / kQK_K) + s) * kSuperBlockBytes; }

void pack_rows(const void* w, int64_t n, int64_t d, void* out) {
    const int64_t ns = n / kQK_K;
    const auto* rows = static_cast<const block_q4_K*>(w);
    for (int64_t g = 0; g < d / kRows16; ++g)
        for (int64_t s = 0; s < ns; ++s) {
            uint8_t* sb = static_cast<uint8_t*>(out) + super_block_offset(n, g, s);
            for (int64_t r = 0; r < kRows16; ++r) {
                const block_q4_K& blk = rows[(g * kRows16 + r) * ns + s];
                for (int64_t c = 0; c < 4; ++c)
                    for (int64_t k = 0; k < 8; ++k)
                        std::memcpy(sb + c * 512 + k * 64 + r * 4, blk.qs + 32 * c + 4 * k, 4);
                for (int j = 0; j < 8; ++j)
                    get_scale_min_k4(j, blk.scales, sb + kScaleOffset + j * kRows16 + r,
                                     sb + kMinOffset + min_index(j, r));
                std::memcpy(sb + kDOffset + 2 * r, &blk.d, 2);
                std::memcpy(sb + kDminOffset + 2 * r, &blk.dmin, 2);
            }
        }
}

// The inverse of get_scale_min_k4 over all 8 sub-blocks: scales[0..3] = sc0-3 | sc4-7's top 2 bits << 6,
// scales[4..7] = m0-3 | m4-7's top 2 bits << 6, scales[8..11] = sc4-7's low 4 bits | m4-7's low 4 bits << 4.
void encode_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t scales[12]) {
    for (int j = 0; j < 4; ++j) {
        scales[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        scales[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
    }
}

void unpack(const void* packed, int64_t n, int64_t r, void* row) {
    const int64_t ns = n / kQK_K, g = r / kRows16, i = r % kRows16;
    auto* out = static_cast<block_q4_K*>(row);
    for (int64_t s = 0; s < ns; ++s) {
        const uint8_t* sb = static_cast<const uint8_t*>(packed) + super_block_offset(n, g, s);
        block_q4_K& blk = out[s];
        for (int64_t c = 0; c < 4; ++c)
            for (int64_t k = 0; k < 8; ++k) std::memcpy(blk.qs + 32 * c + 4 * k, sb + c * 512 + k * 64 + i * 4, 4);
        uint8_t sc[8], m[8];
        for (int j = 0; j < 8; ++j) {
            sc[j] = sb[kScaleOffset + j * kRows16 + i];
            m[j] = sb[kMinOffset + min_index(j, i)];
        }
        encode_scales(sc, m, blk.scales);
        std::memcpy(&blk.d, sb + kDOffset + 2 * i, 2);
        std::memcpy(&blk.dmin, sb + kDminOffset + 2 * i, 2);
    }
}

static_assert(kDminOffset + 2 * kRows16 == kSuperBlockBytes && kSuperBlockBytes % 64 == 0 &&
              kScaleOffset == kQuantBytes);

}  // namespace

PackedFormat packed_format_q4_k() { return {&fits, &size, &pack_rows, &unpack}; }

}  // namespace duet::ref
