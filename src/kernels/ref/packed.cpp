// packed.cpp: the q4_0_rows16 repack and its naive matmul (packed.h).
#include "kernels/ref/packed.h"

#include <cstring>
#include <vector>

#include "common/assert.h"
#include "kernels/ref/vec_dot.h"

namespace duet::ref {

namespace {

constexpr int64_t kGroupBlockBytes = kRows16 * static_cast<int64_t>(sizeof(block_q4_0));  // 288 per block index

// Byte offset of group g (rows 16g ..) in a matrix of rows of n.
int64_t group_offset(int64_t n, int64_t g) { return g * kRows16 * static_cast<int64_t>(row_size(TensorType::Q4_0, n)); }

}  // namespace

bool layout_fits(WeightLayout layout, TensorType type, int64_t n, int64_t d) {
    switch (layout) {
        case WeightLayout::plain:
            return true;
        case WeightLayout::q4_0_rows16:
            return type == TensorType::Q4_0 && n % kQK == 0 && d % kRows16 == 0 && d > 0;
    }
    return false;
}

void pack_q4_0_rows16(const void* w, int64_t n, int64_t d, void* out) {
    DUET_ASSERT(layout_fits(WeightLayout::q4_0_rows16, TensorType::Q4_0, n, d));
    const int64_t nb = n / kQK;
    const auto* rows = static_cast<const block_q4_0*>(w);
    for (int64_t g = 0; g < d / kRows16; ++g) {
        uint8_t* qs = static_cast<uint8_t*>(out) + group_offset(n, g);
        uint8_t* dh = qs + nb * 256;
        for (int64_t b = 0; b < nb; ++b)
            for (int64_t r = 0; r < kRows16; ++r) {
                const block_q4_0& blk = rows[(g * kRows16 + r) * nb + b];
                for (int k = 0; k < 4; ++k) std::memcpy(qs + b * 256 + k * 64 + r * 4, blk.qs + 4 * k, 4);
                std::memcpy(dh + (b * kRows16 + r) * 2, &blk.d, 2);
            }
    }
    static_assert(kGroupBlockBytes == 256 + 32);
}

void unpack_row_q4_0_rows16(const void* packed, int64_t n, int64_t r, block_q4_0* row) {
    const int64_t nb = n / kQK;
    const uint8_t* qs = static_cast<const uint8_t*>(packed) + group_offset(n, r / kRows16);
    const uint8_t* dh = qs + nb * 256;
    const int64_t i = r % kRows16;
    for (int64_t b = 0; b < nb; ++b) {
        for (int k = 0; k < 4; ++k) std::memcpy(row[b].qs + 4 * k, qs + b * 256 + k * 64 + i * 4, 4);
        std::memcpy(&row[b].d, dh + (b * kRows16 + i) * 2, 2);
    }
}

void matmul_packed(WeightLayout layout, TensorType wtype, const void* w, int64_t n, int64_t d, const float* x,
                   int64_t n_tokens, float* y, void* scratch, ThreadPool* pool) {
    DUET_ASSERT(layout == WeightLayout::q4_0_rows16 && layout_fits(layout, wtype, n, d));
    const size_t act_size = activation_row_size(wtype, n);
    auto* xq = static_cast<uint8_t*>(scratch);
    for (int64_t t = 0; t < n_tokens; ++t) quantize_activation_row(wtype, x + t * n, xq + t * act_size, n);
    auto work = [&](int ith, int nth) {
        int64_t begin, end;
        split_range(d, ith, nth, &begin, &end);
        std::vector<block_q4_0> row(static_cast<size_t>(n / kQK));  // the reference path: clarity over speed
        for (int64_t i = begin; i < end; ++i) {
            unpack_row_q4_0_rows16(w, n, i, row.data());
            for (int64_t t = 0; t < n_tokens; ++t) y[t * d + i] = vec_dot(wtype, n, row.data(), xq + t * act_size);
        }
    };
    if (pool) pool->run(work);
    else work(0, 1);
}

}  // namespace duet::ref
