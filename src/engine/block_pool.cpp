// block_pool.cpp: reference counts, the intrusive LRU free list and the prefix-cache hash map of KV blocks.
#include "engine/block_pool.h"

#include <algorithm>

#include "common/assert.h"

namespace duet::engine {

namespace {

// splitmix64's finalizer: a full 64-bit avalanche.
uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

}  // namespace

uint64_t hash_block_tokens(uint64_t parent_hash, std::span<const TokenId> tokens) {
    uint64_t h = mix64(parent_hash ^ (0x9e3779b97f4a7c15ull * (tokens.size() + 1)));
    for (TokenId token : tokens) h = mix64(h + 0x9e3779b97f4a7c15ull + static_cast<uint32_t>(token));
    return h;
}

BlockPool::BlockPool(int32_t n_blocks, int32_t block_size)
    : n_blocks_(n_blocks),
      block_size_(block_size),
      blocks_(n_blocks),
      block_tokens_(static_cast<size_t>(n_blocks) * block_size) {
    DUET_ASSERT(n_blocks > 0 && block_size > 0);
    cached_.reserve(n_blocks);
    for (BlockId b = 0; b < n_blocks; ++b) push_back_free(b);
}

void BlockPool::push_back_free(BlockId block) {
    Block& b = blocks_[block];
    b.prev = tail_;
    b.next = kNone;
    if (tail_ != kNone) blocks_[tail_].next = block;
    else head_ = block;
    tail_ = block;
    ++n_free_;
}

void BlockPool::unlink_free(BlockId block) {
    Block& b = blocks_[block];
    if (b.prev != kNone) blocks_[b.prev].next = b.next;
    else head_ = b.next;
    if (b.next != kNone) blocks_[b.next].prev = b.prev;
    else tail_ = b.prev;
    b.prev = b.next = kNone;
    --n_free_;
}

void BlockPool::evict(BlockId block) {
    Block& b = blocks_[block];
    if (!b.cached) return;
    auto it = cached_.find(b.hash);
    if (it != cached_.end() && it->second == block) cached_.erase(it);
    b.cached = false;
}

void BlockPool::get_new_blocks(int32_t n, std::vector<BlockId>& out) {
    DUET_ASSERT(n >= 0 && n <= n_free_);
    for (int32_t i = 0; i < n; ++i) {
        const BlockId block = head_;
        unlink_free(block);
        evict(block);
        blocks_[block].ref_count = 1;
        out.push_back(block);
    }
}

void BlockPool::touch(std::span<const BlockId> blocks) {
    for (BlockId block : blocks) {
        if (blocks_[block].ref_count == 0) unlink_free(block);
        ++blocks_[block].ref_count;
    }
}

void BlockPool::free_blocks(std::span<const BlockId> blocks_in_eviction_order) {
    for (BlockId block : blocks_in_eviction_order) {
        Block& b = blocks_[block];
        DUET_ASSERT(b.ref_count > 0);
        if (--b.ref_count == 0) push_back_free(block);
    }
}

void BlockPool::cache_block(BlockId block, uint64_t hash, uint64_t parent_hash, std::span<const TokenId> tokens) {
    DUET_ASSERT(static_cast<int32_t>(tokens.size()) == block_size_);
    Block& b = blocks_[block];
    if (b.cached) return;
    if (!cached_.emplace(hash, block).second) return;  // the same content is already cached in another block
    b.cached = true;
    b.hash = hash;
    b.parent_hash = parent_hash;
    std::copy(tokens.begin(), tokens.end(), block_tokens_.begin() + static_cast<size_t>(block) * block_size_);
}

std::optional<BlockId> BlockPool::find_cached(uint64_t hash, uint64_t parent_hash,
                                              std::span<const TokenId> tokens) const {
    auto it = cached_.find(hash);
    if (it == cached_.end()) return std::nullopt;
    const BlockId block = it->second;
    const Block& b = blocks_[block];
    if (b.parent_hash != parent_hash || static_cast<int32_t>(tokens.size()) != block_size_) return std::nullopt;
    const auto stored = block_tokens_.begin() + static_cast<size_t>(block) * block_size_;
    if (!std::equal(tokens.begin(), tokens.end(), stored)) return std::nullopt;  // hash collision
    return block;
}

void BlockPool::reset_prefix_cache() {
    for (auto& b : blocks_) b.cached = false;
    cached_.clear();
}

std::vector<BlockId> BlockPool::free_list() const {
    std::vector<BlockId> out;
    for (int32_t b = head_; b != kNone; b = blocks_[b].next) out.push_back(b);
    return out;
}

}  // namespace duet::engine
