// test_scheduler.cpp: the scheduler on CPU with no model: fabricated runner outputs, exact block ids.
#include <gtest/gtest.h>

#include <map>
#include <numeric>

#include "engine/scheduler.h"

namespace duet::engine {
namespace {

std::unique_ptr<Request> make_request(uint64_t id, int n_prompt, int max_tokens, TokenId first_token = 0) {
    auto r = std::make_unique<Request>();
    r->id = id;
    r->tokens.resize(n_prompt);
    std::iota(r->tokens.begin(), r->tokens.end(), first_token);
    r->n_prompt_tokens = n_prompt;
    r->max_tokens = max_tokens;
    return r;
}

// A runner that "samples" token 1000 + id for every request whose step reaches the end of its tokens.
RunnerOutput fake_output(const SchedulerOutput& out) {
    RunnerOutput r;
    for (const auto& s : out.scheduled) {
        SampledOutput o;
        if (s.samples()) o.token = static_cast<TokenId>(1000 + s.request->id);
        r.outputs.push_back(o);
    }
    return r;
}

std::map<uint64_t, int32_t> tokens_by_id(const SchedulerOutput& out) {
    std::map<uint64_t, int32_t> m;
    for (const auto& s : out.scheduled) m[s.request->id] = s.n_new_tokens;
    return m;
}

SchedulerConfig config(int n_blocks, int block_size = 16) {
    SchedulerConfig c;
    c.n_blocks = n_blocks;
    c.block_size = block_size;
    c.max_model_len = 4096;
    return c;
}

TEST(Scheduler, ChunkedPrefillFillsTheBudget) {
    SchedulerConfig c = config(1000);
    c.max_batch_tokens = 1024;
    c.long_prefill_chunk = 400;
    Scheduler sched(c);
    for (uint64_t id = 1; id <= 3; ++id) sched.add_request(make_request(id, 1000, 4, 10000 * id));
    SchedulerOutput out = sched.schedule();
    ASSERT_EQ(out.scheduled.size(), 3u);
    EXPECT_EQ(out.scheduled[0].n_new_tokens, 400);
    EXPECT_EQ(out.scheduled[1].n_new_tokens, 400);
    EXPECT_EQ(out.scheduled[2].n_new_tokens, 224);
    EXPECT_EQ(out.n_tokens, 1024);
    EXPECT_FALSE(out.scheduled[0].samples());
    EXPECT_TRUE(sched.update_from_output(out, fake_output(out)).empty());  // no prompt finished: no updates

    // Step 2: running requests continue from where they are.
    out = sched.schedule();
    EXPECT_EQ(tokens_by_id(out), (std::map<uint64_t, int32_t>{{1, 400}, {2, 400}, {3, 224}}));
    EXPECT_EQ(out.scheduled[2].num_computed_tokens, 224);
    sched.update_from_output(out, fake_output(out));
    // Step 3: 200, 200 finish their prompts and sample; the third gets the chunk cap.
    out = sched.schedule();
    EXPECT_EQ(tokens_by_id(out), (std::map<uint64_t, int32_t>{{1, 200}, {2, 200}, {3, 400}}));
    auto updates = sched.update_from_output(out, fake_output(out));
    ASSERT_EQ(updates.size(), 2u);
    EXPECT_EQ(updates[0].new_tokens, (std::vector<TokenId>{1001}));
    EXPECT_EQ(sched.find(1)->n_tokens(), 1001);
}

TEST(Scheduler, DecodeIsNotStarvedByALongPrompt) {
    SchedulerConfig c = config(1000);
    c.max_batch_tokens = 64;
    c.long_prefill_chunk = 32;
    Scheduler sched(c);
    sched.add_request(make_request(1, 8, 100));
    SchedulerOutput out = sched.schedule();
    sched.update_from_output(out, fake_output(out));
    sched.add_request(make_request(2, 500, 4, 5000));
    for (int step = 0; step < 5; ++step) {
        out = sched.schedule();
        EXPECT_EQ(tokens_by_id(out), (std::map<uint64_t, int32_t>{{1, 1}, {2, 32}}));
        sched.update_from_output(out, fake_output(out));
    }
    EXPECT_EQ(sched.find(1)->n_generated(), 6);
}

TEST(Scheduler, PrefixHitGetsTheSameBlockIds) {
    Scheduler sched(config(64));
    sched.add_request(make_request(1, 40, 1));
    SchedulerOutput out = sched.schedule();
    EXPECT_EQ(std::vector<BlockId>(out.scheduled[0].block_table.begin(), out.scheduled[0].block_table.end()),
              (std::vector<BlockId>{0, 1, 2}));
    // Request 2 shares the first 2 blocks (32 tokens) and then differs.
    auto second = make_request(2, 45, 4);
    for (int i = 32; i < 45; ++i) second->tokens[i] = 7000 + i;
    sched.add_request(std::move(second));
    auto updates = sched.update_from_output(out, fake_output(out));  // request 1 finishes (max_tokens 1)
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_EQ(updates[0].finish, FinishReason::length);
    EXPECT_EQ(sched.kv().pool().n_free_blocks(), 64);

    out = sched.schedule();
    ASSERT_EQ(out.scheduled.size(), 1u);
    const ScheduledRequest& s = out.scheduled[0];
    EXPECT_EQ(s.num_computed_tokens, 32);
    EXPECT_EQ(s.n_new_tokens, 13);
    // Blocks 0 and 1 are reused; the new block is the least recently used free one (never used: 3).
    EXPECT_EQ(std::vector<BlockId>(s.block_table.begin(), s.block_table.end()), (std::vector<BlockId>{0, 1, 3}));
    EXPECT_EQ(sched.kv().prefix_hits(), 32u);
    EXPECT_EQ(sched.kv().prefix_queries(), 40u + 45u);
    updates = sched.update_from_output(out, fake_output(out));
    EXPECT_EQ(updates[0].new_tokens, (std::vector<TokenId>{1002}));
}

TEST(Scheduler, NextTurnReusesGeneratedTokensBlocks) {
    Scheduler sched(config(64));
    sched.add_request(make_request(1, 20, 20));
    std::vector<TokenId> turn1;
    while (sched.has_unfinished()) {
        SchedulerOutput out = sched.schedule();
        if (const Request* r = sched.find(1)) turn1 = r->tokens;
        sched.update_from_output(out, fake_output(out));
    }
    turn1.push_back(1001);  // the last sampled token
    ASSERT_EQ(turn1.size(), 40u);
    // Turn 2: the whole first turn (prompt + 20 generated tokens) plus a new user message.
    auto r2 = std::make_unique<Request>();
    r2->id = 2;
    r2->tokens = turn1;
    for (int i = 0; i < 5; ++i) r2->tokens.push_back(3000 + i);
    r2->n_prompt_tokens = r2->n_tokens();
    r2->max_tokens = 1;
    sched.add_request(std::move(r2));
    SchedulerOutput out = sched.schedule();
    ASSERT_EQ(out.scheduled.size(), 1u);
    EXPECT_EQ(out.scheduled[0].num_computed_tokens, 32);  // blocks 0, 1 hold prompt AND generated tokens
    EXPECT_EQ(out.scheduled[0].block_table[0], 0);
    EXPECT_EQ(out.scheduled[0].block_table[1], 1);
    auto updates = sched.update_from_output(out, fake_output(out));
    EXPECT_EQ(updates[0].n_cached_prompt_tokens, 32);
}

TEST(Scheduler, PreemptsTheNewestAndResumesIt) {
    // 4 blocks of 4 tokens; two requests of prompt 6 + 10 new tokens (4 blocks each at the end).
    Scheduler sched(config(4, 4));
    sched.add_request(make_request(1, 6, 10, 100));
    sched.add_request(make_request(2, 6, 10, 200));
    std::vector<uint64_t> preempted;
    std::vector<std::vector<BlockId>> first_preemption_tables;
    std::map<uint64_t, std::vector<TokenId>> generated;
    std::map<uint64_t, FinishReason> finished;
    int steps = 0;
    while (sched.has_unfinished() && steps < 100) {
        SchedulerOutput out = sched.schedule();
        if (!out.preempted.empty() && preempted.empty()) {
            // Step 4: request 1 needs a third block for position 8; request 2 is the newest and goes.
            EXPECT_EQ(steps, 3);
            ASSERT_EQ(out.scheduled.size(), 1u);
            EXPECT_EQ(out.scheduled[0].request->id, 1u);
            EXPECT_EQ(std::vector<BlockId>(out.scheduled[0].block_table.begin(), out.scheduled[0].block_table.end()),
                      (std::vector<BlockId>{0, 1, 3}));  // 3 = request 2's tail block, freed first
            const Request* r2 = sched.find(2);
            EXPECT_EQ(r2->num_computed_tokens, 0);
            EXPECT_TRUE(r2->block_ids.empty());
            EXPECT_EQ(r2->status, RequestStatus::waiting);
            EXPECT_EQ(sched.n_waiting(), 1);
        }
        preempted.insert(preempted.end(), out.preempted.begin(), out.preempted.end());
        for (const auto& u : sched.update_from_output(out, fake_output(out))) {
            generated[u.id].insert(generated[u.id].end(), u.new_tokens.begin(), u.new_tokens.end());
            if (u.finish != FinishReason::none) finished[u.id] = u.finish;
        }
        ++steps;
    }
    ASSERT_FALSE(preempted.empty());
    EXPECT_EQ(preempted[0], 2u);
    EXPECT_EQ(finished[1], FinishReason::length);
    EXPECT_EQ(finished[2], FinishReason::length);
    EXPECT_EQ(generated[1], std::vector<TokenId>(10, 1001));
    EXPECT_EQ(generated[2], std::vector<TokenId>(10, 1002));
    EXPECT_EQ(sched.kv().pool().n_free_blocks(), 4);
    for (BlockId b = 0; b < 4; ++b) EXPECT_EQ(sched.kv().pool().ref_count(b), 0);
    // Admissions: 6 + 6 tokens, then request 2 again with 9 (6 + 3 generated). Its failed admission attempts
    // while request 1 held the pool are not counted.
    EXPECT_EQ(sched.kv().prefix_queries(), 21u);
    EXPECT_EQ(sched.n_preemptions(), 1u);
}

TEST(Scheduler, AbortFreesBlocks) {
    Scheduler sched(config(16));
    sched.add_request(make_request(1, 40, 100));
    sched.add_request(make_request(2, 20, 100, 500));
    SchedulerOutput out = sched.schedule();
    sched.update_from_output(out, fake_output(out));
    EXPECT_EQ(sched.kv().pool().n_free_blocks(), 16 - 3 - 2);
    auto update = sched.finish_request(1, FinishReason::abort);
    ASSERT_TRUE(update.has_value());
    EXPECT_EQ(update->finish, FinishReason::abort);
    EXPECT_EQ(update->n_generated_tokens, 1);
    EXPECT_EQ(sched.kv().pool().n_free_blocks(), 16 - 2);
    EXPECT_EQ(sched.find(1), nullptr);
    EXPECT_FALSE(sched.finish_request(1, FinishReason::abort).has_value());
    out = sched.schedule();
    EXPECT_EQ(tokens_by_id(out), (std::map<uint64_t, int32_t>{{2, 1}}));
    // Aborting a waiting request works too.
    sched.add_request(make_request(3, 20, 100, 900));
    EXPECT_TRUE(sched.finish_request(3, FinishReason::abort).has_value());
    EXPECT_EQ(sched.n_waiting(), 0);
}

TEST(Scheduler, StopTokenFinishesAfterEmittingIt) {
    Scheduler sched(config(16));
    auto r = make_request(1, 5, 100);
    r->stop_token_ids = {1001};
    sched.add_request(std::move(r));
    SchedulerOutput out = sched.schedule();
    auto updates = sched.update_from_output(out, fake_output(out));
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_EQ(updates[0].new_tokens, (std::vector<TokenId>{1001}));
    EXPECT_EQ(updates[0].finish, FinishReason::stop);
    EXPECT_FALSE(sched.has_unfinished());
}

TEST(Scheduler, MaxTokensZeroComputesThePromptOnly) {
    Scheduler sched(config(16));
    sched.add_request(make_request(1, 5, 0));
    SchedulerOutput out = sched.schedule();
    auto updates = sched.update_from_output(out, fake_output(out));
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_TRUE(updates[0].new_tokens.empty());
    EXPECT_EQ(updates[0].finish, FinishReason::length);
}

TEST(Scheduler, RejectsRequestsThatCanNeverFit) {
    SchedulerConfig c = config(4, 16);  // 64 token slots
    c.max_model_len = 100;
    Scheduler sched(c);
    RequestParams p;
    p.prompt.assign(50, 1);
    p.max_tokens = 14;
    EXPECT_TRUE(sched.check_request(p).ok());
    p.max_tokens = 15;  // 65 tokens: 5 blocks > 4
    EXPECT_EQ(sched.check_request(p).code(), StatusCode::invalid_argument);
    c.n_blocks = 100;
    Scheduler big(c);
    p.max_tokens = 51;  // 101 > context 100
    EXPECT_EQ(big.check_request(p).code(), StatusCode::invalid_argument);
    p.prompt.clear();
    p.max_tokens = 1;
    EXPECT_EQ(big.check_request(p).code(), StatusCode::invalid_argument);
}

TEST(Scheduler, RespectsMaxNumSeqs) {
    SchedulerConfig c = config(64);
    c.max_num_seqs = 2;
    Scheduler sched(c);
    for (uint64_t id = 1; id <= 3; ++id) sched.add_request(make_request(id, 4, 3, 100 * id));
    SchedulerOutput out = sched.schedule();
    EXPECT_EQ(out.scheduled.size(), 2u);
    EXPECT_EQ(sched.n_waiting(), 1);
}

TEST(Scheduler, NoBlockLeaksUnderChurn) {
    SchedulerConfig c = config(24, 4);
    c.max_batch_tokens = 32;
    c.long_prefill_chunk = 8;
    Scheduler sched(c);
    uint64_t next_id = 1;
    int steps = 0;
    uint32_t rng = 12345;
    auto rand = [&](int n) {
        rng = rng * 1664525u + 1013904223u;
        return static_cast<int>((rng >> 8) % n);
    };
    std::map<uint64_t, int> remaining;  // expected tokens left per request
    for (; steps < 400; ++steps) {
        if (next_id <= 40 && rand(2) == 0) {
            const int n_prompt = 1 + rand(30);
            const int max_tokens = 1 + rand(20);
            // Shared prefixes (same first tokens) on purpose, so prefix hits and sharing happen.
            sched.add_request(make_request(next_id, n_prompt, max_tokens, rand(3) * 100));
            remaining[next_id] = max_tokens;
            ++next_id;
        }
        if (rand(10) == 0 && !remaining.empty()) {
            const uint64_t victim = remaining.begin()->first;
            if (sched.finish_request(victim, FinishReason::abort)) remaining.erase(victim);
        }
        SchedulerOutput out = sched.schedule();
        EXPECT_LE(out.n_tokens, 32);
        for (const auto& u : sched.update_from_output(out, fake_output(out))) {
            remaining[u.id] -= static_cast<int>(u.new_tokens.size());
            if (u.finish != FinishReason::none) {
                EXPECT_EQ(u.finish, FinishReason::length);
                EXPECT_EQ(remaining[u.id], 0);
                remaining.erase(u.id);
            }
        }
        if (next_id > 40 && !sched.has_unfinished()) break;
    }
    EXPECT_FALSE(sched.has_unfinished());
    EXPECT_TRUE(remaining.empty());
    EXPECT_EQ(sched.kv().pool().n_free_blocks(), 24);
    for (BlockId b = 0; b < 24; ++b) EXPECT_EQ(sched.kv().pool().ref_count(b), 0);
    EXPECT_GT(sched.kv().prefix_hits(), 0u);
}

}  // namespace
}  // namespace duet::engine
