// test_block_pool.cpp: BlockPool (ref counts, LRU free list, hash map) and KvCacheManager with exact block ids.
#include <gtest/gtest.h>

#include <numeric>

#include "engine/block_pool.h"
#include "engine/kv_cache_manager.h"

namespace duet::engine {
namespace {

std::vector<TokenId> iota_tokens(int n, TokenId first) {
    std::vector<TokenId> t(n);
    std::iota(t.begin(), t.end(), first);
    return t;
}

TEST(BlockPool, FreshPoolHandsOutBlocksInIdOrder) {
    BlockPool pool(8, 4);
    std::vector<BlockId> got;
    pool.get_new_blocks(3, got);
    EXPECT_EQ(got, (std::vector<BlockId>{0, 1, 2}));
    EXPECT_EQ(pool.n_free_blocks(), 5);
    EXPECT_EQ(pool.ref_count(1), 1);
}

TEST(BlockPool, LruEvictionOrderFreesTailBlocksFirst) {
    BlockPool pool(8, 4);
    std::vector<BlockId> a;
    pool.get_new_blocks(3, a);  // 0 1 2
    // The manager frees in reverse order: 2, 1, 0 go to the tail in that order.
    const std::vector<BlockId> reversed(a.rbegin(), a.rend());
    pool.free_blocks(reversed);
    EXPECT_EQ(pool.free_list(), (std::vector<BlockId>{3, 4, 5, 6, 7, 2, 1, 0}));
    std::vector<BlockId> b;
    pool.get_new_blocks(6, b);  // never-used blocks first, then the freed tail block
    EXPECT_EQ(b, (std::vector<BlockId>{3, 4, 5, 6, 7, 2}));
    EXPECT_EQ(pool.free_list(), (std::vector<BlockId>{1, 0}));
}

TEST(BlockPool, TouchRemovesFromTheMiddleAndRefCounts) {
    BlockPool pool(5, 4);
    std::vector<BlockId> a;
    pool.get_new_blocks(5, a);
    pool.free_blocks(a);  // free list 0 1 2 3 4
    const BlockId mid[] = {2};
    pool.touch(mid);
    pool.touch(mid);
    EXPECT_EQ(pool.ref_count(2), 2);
    EXPECT_EQ(pool.free_list(), (std::vector<BlockId>{0, 1, 3, 4}));
    pool.free_blocks(mid);
    EXPECT_EQ(pool.n_free_blocks(), 4);  // still referenced once
    pool.free_blocks(mid);
    EXPECT_EQ(pool.free_list(), (std::vector<BlockId>{0, 1, 3, 4, 2}));
}

TEST(BlockPool, FreedBlockKeepsHashUntilReallocated) {
    BlockPool pool(2, 4);
    std::vector<BlockId> a;
    pool.get_new_blocks(1, a);  // block 0
    const auto tokens = iota_tokens(4, 100);
    const uint64_t h = hash_block_tokens(kRootBlockHash, tokens);
    pool.cache_block(a[0], h, kRootBlockHash, tokens);
    pool.free_blocks(a);
    ASSERT_EQ(pool.find_cached(h, kRootBlockHash, tokens), std::optional<BlockId>(0));
    std::vector<BlockId> b;
    pool.get_new_blocks(2, b);  // 1 (never used) then 0: evicts the hash
    EXPECT_EQ(b, (std::vector<BlockId>{1, 0}));
    EXPECT_FALSE(pool.find_cached(h, kRootBlockHash, tokens).has_value());
    EXPECT_FALSE(pool.is_cached(0));
}

TEST(BlockPool, HashCollisionIsRejectedByTokenCompare) {
    BlockPool pool(2, 4);
    std::vector<BlockId> a;
    pool.get_new_blocks(1, a);
    const auto tokens = iota_tokens(4, 1);
    pool.cache_block(a[0], /*hash=*/42, kRootBlockHash, tokens);
    EXPECT_TRUE(pool.find_cached(42, kRootBlockHash, tokens).has_value());
    EXPECT_FALSE(pool.find_cached(42, kRootBlockHash, iota_tokens(4, 2)).has_value());  // same hash, other tokens
    EXPECT_FALSE(pool.find_cached(42, kRootBlockHash + 1, tokens).has_value());         // other parent
}

TEST(BlockHash, ChainedAndContentSensitive) {
    const auto t = iota_tokens(16, 0);
    auto u = t;
    u[15] = 99;
    EXPECT_NE(hash_block_tokens(kRootBlockHash, t), hash_block_tokens(kRootBlockHash, u));
    EXPECT_NE(hash_block_tokens(kRootBlockHash, t), hash_block_tokens(1, t));
    EXPECT_EQ(hash_block_tokens(7, t), hash_block_tokens(7, t));
}

Request make_request(uint64_t id, std::vector<TokenId> tokens) {
    Request r;
    r.id = id;
    r.tokens = std::move(tokens);
    r.n_prompt_tokens = r.n_tokens();
    r.max_tokens = 8;
    return r;
}

TEST(KvCacheManager, AllocateCoversTokensAndFreeReturnsAll) {
    KvCacheManager kv(10, 16, true);
    Request r = make_request(1, iota_tokens(40, 0));
    ASSERT_TRUE(kv.allocate_slots(r, 40));
    EXPECT_EQ(r.block_ids, (std::vector<BlockId>{0, 1, 2}));
    EXPECT_EQ(r.n_registered_blocks, 2);  // 2 full blocks registered, the partial third is not
    kv.free(r);
    EXPECT_TRUE(r.block_ids.empty());
    EXPECT_EQ(kv.pool().n_free_blocks(), 10);
}

TEST(KvCacheManager, AllocateFailsWithoutChangingAnything) {
    KvCacheManager kv(2, 16, true);
    Request r = make_request(1, iota_tokens(40, 0));
    EXPECT_FALSE(kv.allocate_slots(r, 40));
    EXPECT_TRUE(r.block_ids.empty());
    EXPECT_EQ(kv.pool().n_free_blocks(), 2);
}

TEST(KvCacheManager, PrefixHitNeverCoversTheLastToken) {
    KvCacheManager kv(10, 16, true);
    Request a = make_request(1, iota_tokens(32, 0));
    ASSERT_TRUE(kv.allocate_slots(a, 32));
    Request b = make_request(2, iota_tokens(32, 0));  // identical 32-token prompt
    const ComputedBlocks hit = kv.get_computed_blocks(b);
    EXPECT_EQ(hit.blocks, (std::vector<BlockId>{0}));  // not both: token 31 must be computed for logits
    EXPECT_EQ(hit.n_tokens, 16);
    EXPECT_EQ(kv.prefix_queries(), 0u);  // counted by the scheduler on admission only
}

TEST(KvCacheManager, DisabledPrefixCachingNeverHits) {
    KvCacheManager kv(10, 16, false);
    Request a = make_request(1, iota_tokens(48, 0));
    ASSERT_TRUE(kv.allocate_slots(a, 48));
    Request b = make_request(2, iota_tokens(48, 0));
    EXPECT_TRUE(kv.get_computed_blocks(b).blocks.empty());
}

TEST(KvCacheManager, PromptLogprobRequestsSkipPrefixReuse) {
    KvCacheManager kv(10, 16, true);
    Request a = make_request(1, iota_tokens(48, 0));
    ASSERT_TRUE(kv.allocate_slots(a, 48));
    Request b = make_request(2, iota_tokens(48, 0));
    b.want_prompt_logprobs = true;
    EXPECT_TRUE(kv.get_computed_blocks(b).blocks.empty());
}

TEST(KvCacheManager, HitOnFreedBlocksTakesThemOffTheFreeList) {
    KvCacheManager kv(4, 16, true);
    Request a = make_request(1, iota_tokens(40, 0));
    ASSERT_TRUE(kv.allocate_slots(a, 40));  // 0 1 2
    kv.free(a);                             // free list: 3 2 1 0
    Request b = make_request(2, iota_tokens(50, 0));
    const ComputedBlocks hit = kv.get_computed_blocks(b);
    ASSERT_EQ(hit.blocks, (std::vector<BlockId>{0, 1}));
    // 50 tokens = 4 blocks: 2 hits + 2 new; free blocks are 4 but 2 of them are the hits themselves.
    ASSERT_TRUE(kv.allocate_slots(b, 50 - 32, hit.blocks));
    EXPECT_EQ(b.block_ids, (std::vector<BlockId>{0, 1, 3, 2}));
    EXPECT_EQ(kv.pool().n_free_blocks(), 0);
    Request c = make_request(3, iota_tokens(50, 0));
    const ComputedBlocks hit_c = kv.get_computed_blocks(c);
    EXPECT_EQ(hit_c.blocks.size(), 3u);                   // 0 1 3 (b's third block became full: registered)
    EXPECT_FALSE(kv.allocate_slots(c, 2, hit_c.blocks));  // needs one more block: none free
    EXPECT_EQ(kv.pool().ref_count(0), 1);                 // the failed allocation took no reference
}

}  // namespace
}  // namespace duet::engine
