// kv_cache.h: the paged KV cache: K and V of every layer in fixed-size blocks of block_size token slots.
//
// One allocation, layer-major; within a layer, block b holds K for its block_size slots, then V:
//
//   layer 0                                                    layer 1 ...
//   | block 0           | block 1           | ... | block n-1 | block 0 ...
//   | K[bs][kv_dim] V[bs][kv_dim] |
//        slot s: K row = n_kv_heads heads x head_dim, head h at [h * head_dim, (h+1) * head_dim)
//
// A token at position pos of a sequence lives in block block_table[pos / block_size], slot pos % block_size
// (see batch.h). Which blocks belong to which sequence is the engine's bookkeeping; the cache only stores.
// The memory is reserved up front but pages are touched only when a block is first written.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/batch.h"
#include "model/config.h"

namespace duet::model {

enum class KvType { f16, f32 };

class KvCache {
public:
    KvCache(const ModelConfig& config, int32_t n_blocks, int32_t block_size = 16, KvType type = KvType::f16);
    ~KvCache();
    KvCache(const KvCache&) = delete;
    KvCache& operator=(const KvCache&) = delete;

    // Bytes one block takes over all layers (K and V), to size a pool from a memory budget.
    static size_t bytes_per_block(const ModelConfig& config, int32_t block_size, KvType type);

    int32_t n_blocks() const { return n_blocks_; }
    int32_t block_size() const { return block_size_; }
    int32_t n_layers() const { return n_layers_; }
    int32_t kv_dim() const { return kv_dim_; }
    KvType type() const { return type_; }
    size_t element_size() const { return type_ == KvType::f16 ? 2 : 4; }
    size_t total_bytes() const { return total_bytes_; }

    // Start of slot `slot` (0..block_size-1) of block `block` in layer `layer`: kv_dim elements of type().
    void* k_slot(int32_t layer, BlockId block, int32_t slot) const { return slot_ptr(layer, block, slot, 0); }
    void* v_slot(int32_t layer, BlockId block, int32_t slot) const { return slot_ptr(layer, block, slot, 1); }

private:
    void* slot_ptr(int32_t layer, BlockId block, int32_t slot, int kv) const {
        const size_t block_index = static_cast<size_t>(layer) * n_blocks_ + block;
        return data_ + block_index * block_bytes_ + (static_cast<size_t>(kv) * block_size_ + slot) * row_bytes_;
    }

    int32_t n_blocks_;
    int32_t block_size_;
    int32_t n_layers_;
    int32_t kv_dim_;
    KvType type_;
    size_t row_bytes_;    // kv_dim * element size
    size_t block_bytes_;  // 2 * block_size * row_bytes (one layer)
    size_t total_bytes_;
    uint8_t* data_ = nullptr;
};

}  // namespace duet::model
