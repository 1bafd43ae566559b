// packed.cpp: the rows16 repacks of Q4_0 and Q8_0, the dispatch to the K-quant ones, and the naive matmul over any
// of them (packed.h).
#include "kernels/ref/packed.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "common/assert.h"
#include "kernels/ref/quants.h"
#include "kernels/ref/vec_dot.h"

namespace duet::ref {

namespace {

// Each layout's shape: the file's block, the bytes of a block's quants for 16 rows, and how many 4-byte lanes a
// block has (Q4_0: 4 of nibble pairs; Q8_0: 8).
struct Shape16 {
    TensorType type;
    int64_t block_bytes, quant_bytes, lanes;
    int64_t scale_offset;  // of the f16 scale inside the file's block
    int64_t quant_offset;  // of the quants inside the file's block
    uint32_t flip;         // xor'ed into each stored 4 bytes (Q8_0: 0x80 per byte, i.e. + 128 mod 256: unsigned)
};

Shape16 shape_of(WeightLayout layout) {
    if (layout == WeightLayout::q8_0_rows16)
        return {TensorType::Q8_0,        sizeof(block_q8_0),       512,        8,
                offsetof(block_q8_0, d), offsetof(block_q8_0, qs), 0x80808080u};
    return {TensorType::Q4_0, sizeof(block_q4_0), 256, 4, offsetof(block_q4_0, d), offsetof(block_q4_0, qs), 0};
}

// 4 bytes from src to dst, xor'ed with flip (the load's hot loop: a byte loop made a Llama-3-8B load take seconds).
inline void copy4(uint8_t* dst, const uint8_t* src, uint32_t flip) {
    uint32_t v;
    std::memcpy(&v, src, 4);
    v ^= flip;
    std::memcpy(dst, &v, 4);
}

// Byte offset of group g (rows 16g ..) in a matrix of rows of n.
int64_t group_offset(TensorType type, int64_t n, int64_t g) {
    return g * kRows16 * static_cast<int64_t>(row_size(type, n));
}

// Where block b of a group of nb blocks keeps its 16 scales and its quants (byte offsets in the group): its unit of
// two blocks (one, the last when nb is odd) holds the unit's scales, then the unit's quants.
struct BlockPlace {
    int64_t scales, quants;
};
BlockPlace block_place(const Shape16& s, int64_t nb, int64_t b) {
    constexpr int64_t kScaleBytes = kRows16 * 2;
    const int64_t first = b - b % 2, blocks_in_unit = std::min<int64_t>(2, nb - first);
    const int64_t unit = first * (kScaleBytes + s.quant_bytes);
    return {unit + b % 2 * kScaleBytes, unit + blocks_in_unit * kScaleBytes + b % 2 * s.quant_bytes};
}

// The K-quant layouts' functions; null for the block-of-32 layouts above.
const PackedFormat* k_format(WeightLayout layout) {
    static const PackedFormat q4_k = packed_format_q4_k(), q6_k = packed_format_q6_k();
    if (layout == WeightLayout::q4_k_rows16) return &q4_k;
    if (layout == WeightLayout::q6_k_rows16) return &q6_k;
    return nullptr;
}

}  // namespace

bool layout_fits(WeightLayout layout, TensorType type, int64_t n, int64_t d) {
    if (layout == WeightLayout::plain) return true;
    if (const PackedFormat* f = k_format(layout)) return f->fits(type, n, d);
    return type == shape_of(layout).type && n % kQK == 0 && d % kRows16 == 0 && d > 0;
}

size_t packed_size(WeightLayout layout, TensorType type, int64_t n, int64_t d) {
    if (const PackedFormat* f = k_format(layout)) return f->size(n, d);
    return row_size(type, n) * static_cast<size_t>(d);
}

void pack(WeightLayout layout, TensorType type, const void* w, int64_t n, int64_t d, void* out) {
    DUET_ASSERT(layout != WeightLayout::plain && layout_fits(layout, type, n, d));
    if (const PackedFormat* f = k_format(layout)) return f->pack(w, n, d, out);
    const Shape16 s = shape_of(layout);
    const int64_t nb = n / kQK;
    const auto* rows = static_cast<const uint8_t*>(w);
    for (int64_t g = 0; g < d / kRows16; ++g) {
        uint8_t* group = static_cast<uint8_t*>(out) + group_offset(type, n, g);
        for (int64_t b = 0; b < nb; ++b) {
            const BlockPlace at = block_place(s, nb, b);
            for (int64_t r = 0; r < kRows16; ++r) {
                const uint8_t* blk = rows + ((g * kRows16 + r) * nb + b) * s.block_bytes;
                for (int64_t k = 0; k < s.lanes; ++k)
                    copy4(group + at.quants + k * 64 + r * 4, blk + s.quant_offset + 4 * k, s.flip);
                std::memcpy(group + at.scales + r * 2, blk + s.scale_offset, 2);
            }
        }
    }
}

void unpack_row(WeightLayout layout, TensorType type, const void* packed, int64_t n, int64_t r, void* row) {
    if (const PackedFormat* f = k_format(layout)) return f->unpack_row(packed, n, r, row);
    DUET_ASSERT(layout != WeightLayout::plain && type == shape_of(layout).type);
    const Shape16 s = shape_of(layout);
    const int64_t nb = n / kQK;
    const uint8_t* group = static_cast<const uint8_t*>(packed) + group_offset(type, n, r / kRows16);
    const int64_t i = r % kRows16;
    auto* out = static_cast<uint8_t*>(row);
    for (int64_t b = 0; b < nb; ++b) {
        const BlockPlace at = block_place(s, nb, b);
        uint8_t* blk = out + b * s.block_bytes;
        for (int64_t k = 0; k < s.lanes; ++k)
            copy4(blk + s.quant_offset + 4 * k, group + at.quants + k * 64 + i * 4, s.flip);
        std::memcpy(blk + s.scale_offset, group + at.scales + i * 2, 2);
    }
}

void matmul_packed(WeightLayout layout, TensorType wtype, const void* w, int64_t n, int64_t d, const float* x,
                   int64_t n_tokens, float* y, void* scratch, ThreadPool* pool) {
    DUET_ASSERT(layout != WeightLayout::plain && layout_fits(layout, wtype, n, d));
    const size_t act_size = activation_row_size(wtype, n);
    auto* xq = static_cast<uint8_t*>(scratch);
    for (int64_t t = 0; t < n_tokens; ++t) quantize_activation_row(wtype, x + t * n, xq + t * act_size, n);
    auto work = [&](int ith, int nth) {
        int64_t begin, end;
        split_range(d, ith, nth, &begin, &end);
        std::vector<uint8_t> row(row_size(wtype, n));  // the reference path: clarity over speed
        for (int64_t i = begin; i < end; ++i) {
            unpack_row(layout, wtype, w, n, i, row.data());
            for (int64_t t = 0; t < n_tokens; ++t) y[t * d + i] = vec_dot(wtype, n, row.data(), xq + t * act_size);
        }
    };
    if (pool) pool->run(work);
    else work(0, 1);
}

float round_to_bf16(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    bits = (bits + 0x7fff + ((bits >> 16) & 1)) & 0xffff0000u;
    std::memcpy(&x, &bits, 4);
    return x;
}

void matmul_packed_bf16(WeightLayout layout, TensorType wtype, const void* w, int64_t n, int64_t d, const float* x,
                        int64_t n_tokens, float* y) {
    DUET_ASSERT(layout != WeightLayout::plain && layout_fits(layout, wtype, n, d));
    std::vector<uint8_t> row(row_size(wtype, n));
    std::vector<float> wf(static_cast<size_t>(n)), xf(static_cast<size_t>(n * n_tokens));
    for (size_t i = 0; i < xf.size(); ++i) xf[i] = round_to_bf16(x[i]);
    for (int64_t i = 0; i < d; ++i) {
        unpack_row(layout, wtype, w, n, i, row.data());
        dequantize_row(wtype, row.data(), wf.data(), n);
        for (float& v : wf) v = round_to_bf16(v);
        for (int64_t t = 0; t < n_tokens; ++t) {
            double sum = 0;
            for (int64_t k = 0; k < n; ++k) sum += static_cast<double>(wf[k]) * xf[t * n + k];
            y[t * d + i] = static_cast<float>(sum);
        }
    }
}

}  // namespace duet::ref
