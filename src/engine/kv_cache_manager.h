// kv_cache_manager.h: which KV blocks each request holds: prefix-cache lookup, slot allocation, freeing.
//
// A request's blocks cover its tokens in order; block i holds positions [i * block_size, (i+1) * block_size).
// allocate_slots() covers the token ranges below, taking a reference on the prefix-hit blocks and fresh
// blocks from the pool for the rest:
//
//   tokens:  | computed          | prefix hit        | new                 |
//            0      num_computed_tokens     + n_hit_tokens        + n_new_tokens
//   blocks:  [ already held    ][ cached, touched  ][ get_new_blocks()   ]   (ceil(end / block_size) in all)
//
// Prefix caching: every FULL block is named by a chained hash, hash(parent block's hash, its tokens), so a
// block's hash identifies the whole prefix up to it. Hashes are registered as soon as a block will be full
// after this step (prompt AND generated tokens), so turn N+1 of a chat reuses turn N's blocks. A lookup
// compares the stored tokens and parent hash too, so a 64-bit collision cannot hand out wrong K/V.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/block_pool.h"
#include "engine/request.h"

namespace duet::engine {

struct ComputedBlocks {
    std::vector<BlockId> blocks;  // leading cached blocks of the request, in order
    int32_t n_tokens = 0;         // blocks.size() * block_size
};

class KvCacheManager {
public:
    KvCacheManager(int32_t n_blocks, int32_t block_size, bool enable_prefix_caching);

    // Prefix hits for a request being admitted (it holds no blocks): its leading full blocks that are cached,
    // at most (n_tokens - 1) / block_size of them, since the last token must be computed to give logits.
    // Empty when prefix caching is off or the request wants prompt logprobs. No side effects on the pool.
    ComputedBlocks get_computed_blocks(Request& request);
    // Counts one admitted request's lookup for the hit-rate stats (a lookup that did not lead to admission is
    // repeated in a later step and must not count twice).
    void record_lookup(int32_t n_query_tokens, int32_t n_hit_tokens);

    // Makes the request's blocks cover num_computed_tokens + hit blocks + n_new_tokens tokens (picture above).
    // Returns false, changing nothing, when the pool lacks free blocks.
    bool allocate_slots(Request& request, int32_t n_new_tokens, std::span<const BlockId> hit_blocks = {});

    // Returns the request's blocks to the pool, last block first (they keep their hashes for later hits).
    void free(Request& request);

    int32_t n_blocks_for_tokens(int32_t n_tokens) const { return (n_tokens + block_size_ - 1) / block_size_; }
    int32_t block_size() const { return block_size_; }
    bool prefix_caching() const { return enable_prefix_caching_; }
    BlockPool& pool() { return pool_; }
    const BlockPool& pool() const { return pool_; }

    uint64_t prefix_queries() const { return prefix_queries_; }  // tokens looked up
    uint64_t prefix_hits() const { return prefix_hits_; }        // tokens found

private:
    void update_block_hashes(Request& request, int32_t n_full_blocks) const;
    void register_full_blocks(Request& request, int32_t n_full_blocks);

    int32_t block_size_;
    bool enable_prefix_caching_;
    BlockPool pool_;
    std::vector<BlockId> scratch_;  // reversed block list for free()
    uint64_t prefix_queries_ = 0;
    uint64_t prefix_hits_ = 0;
};

}  // namespace duet::engine
