// kv_cache_manager.cpp: prefix-cache lookup by chained block hashes, slot allocation and freeing per request.
#include "engine/kv_cache_manager.h"

#include <algorithm>

#include "common/assert.h"

namespace duet::engine {

KvCacheManager::KvCacheManager(int32_t n_blocks, int32_t block_size, bool enable_prefix_caching)
    : block_size_(block_size), enable_prefix_caching_(enable_prefix_caching), pool_(n_blocks, block_size) {}

void KvCacheManager::update_block_hashes(Request& request, int32_t n_full_blocks) const {
    DUET_ASSERT(static_cast<int64_t>(n_full_blocks) * block_size_ <= request.n_tokens());
    while (static_cast<int32_t>(request.block_hashes.size()) < n_full_blocks) {
        const size_t i = request.block_hashes.size();
        const uint64_t parent = i == 0 ? kRootBlockHash : request.block_hashes[i - 1];
        const std::span<const TokenId> tokens(request.tokens.data() + i * block_size_, block_size_);
        request.block_hashes.push_back(hash_block_tokens(parent, tokens));
    }
}

ComputedBlocks KvCacheManager::get_computed_blocks(Request& request) {
    ComputedBlocks hit;
    DUET_ASSERT(request.block_ids.empty());
    if (!enable_prefix_caching_ || request.want_prompt_logprobs) return hit;
    const int32_t max_blocks = (request.n_tokens() - 1) / block_size_;
    update_block_hashes(request, max_blocks);
    for (int32_t i = 0; i < max_blocks; ++i) {
        const uint64_t parent = i == 0 ? kRootBlockHash : request.block_hashes[i - 1];
        const std::span<const TokenId> tokens(request.tokens.data() + static_cast<size_t>(i) * block_size_,
                                              block_size_);
        const auto block = pool_.find_cached(request.block_hashes[i], parent, tokens);
        if (!block) break;
        hit.blocks.push_back(*block);
    }
    hit.n_tokens = static_cast<int32_t>(hit.blocks.size()) * block_size_;
    return hit;
}

void KvCacheManager::record_lookup(int32_t n_query_tokens, int32_t n_hit_tokens) {
    prefix_queries_ += static_cast<uint64_t>(n_query_tokens);
    prefix_hits_ += static_cast<uint64_t>(n_hit_tokens);
}

bool KvCacheManager::allocate_slots(Request& request, int32_t n_new_tokens, std::span<const BlockId> hit_blocks) {
    const int32_t n_hit_tokens = static_cast<int32_t>(hit_blocks.size()) * block_size_;
    const int32_t end = request.num_computed_tokens + n_hit_tokens + n_new_tokens;
    DUET_ASSERT(end <= request.n_tokens());
    const int32_t n_held = static_cast<int32_t>(request.block_ids.size() + hit_blocks.size());
    const int32_t n_needed = std::max(0, n_blocks_for_tokens(end) - n_held);

    // Hit blocks that are free right now sit in the free list; touching them takes them out of it.
    int32_t n_hit_free = 0;
    for (BlockId block : hit_blocks) n_hit_free += pool_.ref_count(block) == 0 ? 1 : 0;
    if (n_needed > pool_.n_free_blocks() - n_hit_free) return false;

    pool_.touch(hit_blocks);
    request.block_ids.insert(request.block_ids.end(), hit_blocks.begin(), hit_blocks.end());
    pool_.get_new_blocks(n_needed, request.block_ids);
    if (enable_prefix_caching_) register_full_blocks(request, end / block_size_);
    return true;
}

void KvCacheManager::register_full_blocks(Request& request, int32_t n_full_blocks) {
    if (n_full_blocks <= request.n_registered_blocks) return;
    update_block_hashes(request, n_full_blocks);
    for (int32_t i = request.n_registered_blocks; i < n_full_blocks; ++i) {
        const uint64_t parent = i == 0 ? kRootBlockHash : request.block_hashes[i - 1];
        const std::span<const TokenId> tokens(request.tokens.data() + static_cast<size_t>(i) * block_size_,
                                              block_size_);
        pool_.cache_block(request.block_ids[i], request.block_hashes[i], parent, tokens);
    }
    request.n_registered_blocks = n_full_blocks;
}

void KvCacheManager::free(Request& request) {
    scratch_.assign(request.block_ids.rbegin(), request.block_ids.rend());
    pool_.free_blocks(scratch_);
    request.block_ids.clear();
    request.n_registered_blocks = 0;
}

}  // namespace duet::engine
