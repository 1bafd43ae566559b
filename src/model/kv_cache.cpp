// kv_cache.cpp: one reservation for every layer's K/V blocks (layout in kv_cache.h).
#include "model/kv_cache.h"

#include <cstdlib>
#include <sys/mman.h>

#include "common/assert.h"

namespace duet::model {

size_t KvCache::bytes_per_block(const ModelConfig& config, int32_t block_size, KvType type) {
    const size_t element = type == KvType::f16 ? 2 : 4;
    return static_cast<size_t>(config.n_layers) * 2 * block_size * config.kv_dim() * element;
}

KvCache::KvCache(const ModelConfig& config, int32_t n_blocks, int32_t block_size, KvType type)
    : n_blocks_(n_blocks), block_size_(block_size), n_layers_(config.n_layers), kv_dim_(config.kv_dim()), type_(type) {
    DUET_ASSERT(n_blocks > 0 && block_size > 0 && n_layers_ > 0 && kv_dim_ > 0);
    row_bytes_ = static_cast<size_t>(kv_dim_) * element_size();
    block_bytes_ = 2 * static_cast<size_t>(block_size_) * row_bytes_;
    total_bytes_ = block_bytes_ * n_blocks_ * n_layers_;
    // Anonymous mapping: zero pages, physical memory only where blocks are written.
    void* p = ::mmap(nullptr, total_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    DUET_ASSERT(p != MAP_FAILED);
    data_ = static_cast<uint8_t*>(p);
}

KvCache::~KvCache() {
    if (data_ != nullptr) ::munmap(data_, total_bytes_);
}

}  // namespace duet::model
