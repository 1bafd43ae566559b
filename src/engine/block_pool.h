// block_pool.h: the KV block pool: reference-counted blocks, an LRU free list, and the prefix-cache hash map.
//
// Block ids never change (block tables are append-only). A block whose reference count drops to 0 goes to
// the TAIL of the free list but keeps its hash and tokens: until get_new_blocks() takes it from the HEAD and
// evicts the hash, a later request with the same prefix can take it back (touch()) with its K/V intact.
//
//   free list (intrusive, doubly linked over block ids; O(1) removal from anywhere):
//   head -> [never used ...] [freed long ago] ... [freed just now] <- tail
//           ^ get_new_blocks() takes from here        free_blocks() appends here
//
// Callers free a request's blocks in reverse order (last block first), so its tail blocks, which are the
// least likely to be shared, are evicted before its prefix blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "model/batch.h"

namespace duet::engine {

using model::BlockId;
using model::TokenId;

class BlockPool {
public:
    BlockPool(int32_t n_blocks, int32_t block_size);

    int32_t n_blocks() const { return n_blocks_; }
    int32_t block_size() const { return block_size_; }
    int32_t n_free_blocks() const { return n_free_; }
    double usage() const { return 1.0 - static_cast<double>(n_free_) / n_blocks_; }  // fraction referenced

    // Takes n blocks from the head of the free list (evicting their cached hashes), each with ref count 1,
    // and appends them to `out`. Precondition: n <= n_free_blocks().
    void get_new_blocks(int32_t n, std::vector<BlockId>& out);
    // Prefix hit: one more reference to each block; a free block leaves the free list.
    void touch(std::span<const BlockId> blocks);
    // One reference less for each block, in the given order; blocks reaching 0 are appended to the free list.
    void free_blocks(std::span<const BlockId> blocks_in_eviction_order);

    // Registers a FULL block's content under `hash`: its parent's hash and its block_size tokens are kept to
    // rule out collisions on lookup. When another block already holds this hash, nothing changes.
    void cache_block(BlockId block, uint64_t hash, uint64_t parent_hash, std::span<const TokenId> tokens);
    // The block holding exactly this content (hash, parent hash and tokens all equal), if cached.
    std::optional<BlockId> find_cached(uint64_t hash, uint64_t parent_hash, std::span<const TokenId> tokens) const;
    // Forgets every cached hash (e.g. after a failed forward pass left block contents undefined).
    void reset_prefix_cache();

    int32_t ref_count(BlockId block) const { return blocks_[block].ref_count; }
    bool is_cached(BlockId block) const { return blocks_[block].cached; }
    std::vector<BlockId> free_list() const;  // head to tail, for tests

private:
    static constexpr int32_t kNone = -1;
    struct Block {
        int32_t ref_count = 0;
        int32_t prev = kNone;  // free-list links (valid while ref_count == 0)
        int32_t next = kNone;
        bool cached = false;
        uint64_t hash = 0;
        uint64_t parent_hash = 0;
    };

    void push_back_free(BlockId block);
    void unlink_free(BlockId block);
    void evict(BlockId block);

    int32_t n_blocks_;
    int32_t block_size_;
    int32_t n_free_ = 0;
    int32_t head_ = kNone;
    int32_t tail_ = kNone;
    std::vector<Block> blocks_;                     // (n_blocks,)
    std::vector<TokenId> block_tokens_;             // (n_blocks, block_size) content of cached blocks
    std::unordered_map<uint64_t, BlockId> cached_;  // hash -> block
};

// Chained hash of one full block: hash(parent_hash, tokens). Root blocks use kRootBlockHash as parent.
constexpr uint64_t kRootBlockHash = 0x6a09e667f3bcc908ull;
uint64_t hash_block_tokens(uint64_t parent_hash, std::span<const TokenId> tokens);

}  // namespace duet::engine
