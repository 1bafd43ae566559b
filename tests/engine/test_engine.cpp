// test_engine.cpp: the engine loop on a tiny random-weight model: batching, preemption, aborts and the prefix
// cache must not change what a request generates (compared with the same request run alone).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "engine/engine.h"
#include "support/fixtures.h"

namespace duet::engine {
namespace {

constexpr double kWait = 60.0;  // seconds; a hang fails the test instead of blocking CI

std::shared_ptr<const model::Model> load_model(const std::string& name) {
    model::LoadOptions lo;
    lo.progress = false;
    lo.prefetch = false;
    auto m = model::Model::load(test::fixture("reference-logits/" + name), lo);
    EXPECT_TRUE(m.ok()) << m.status().message();
    return m.ok() ? std::shared_ptr<const model::Model>(std::move(m).value()) : nullptr;
}

std::shared_ptr<const model::Model> tiny_model() {
    static std::shared_ptr<const model::Model> model = load_model("qwen2-tiny-F32.gguf");
    return model;
}

size_t block_bytes(int32_t block_size = 16) {
    return model::KvCache::bytes_per_block(tiny_model()->config(), block_size, model::KvType::f32);
}

EngineOptions options(int32_t n_blocks, bool prefix_caching = true) {
    EngineOptions o;
    o.n_threads = 1;
    o.kv_type = model::KvType::f32;
    o.kv_memory_bytes = block_bytes() * n_blocks;
    o.context_length = 512;
    o.enable_prefix_caching = prefix_caching;
    return o;
}

std::unique_ptr<Engine> make_engine(const EngineOptions& o) {
    auto e = Engine::create(tiny_model(), o);
    EXPECT_TRUE(e.ok()) << e.status().message();
    if (!e.ok()) return nullptr;
    (*e)->start();
    return std::move(e).value();
}

RequestParams greedy(std::vector<TokenId> prompt, int32_t max_tokens) {
    RequestParams p;
    p.prompt = std::move(prompt);
    p.max_tokens = max_tokens;
    p.sampling.temperature = 0.0f;
    p.ignore_eos = true;
    return p;
}

std::vector<TokenId> random_prompt(std::mt19937& rng, int n) {
    std::uniform_int_distribution<int> dist(0, 499);
    std::vector<TokenId> p(n);
    for (auto& t : p) t = dist(rng);
    return p;
}

struct Outcome {
    std::vector<TokenId> tokens;
    Delta final_delta;
};

// Reads a stream to its final delta.
Outcome drain(RequestStream& stream) {
    Outcome o;
    for (;;) {
        auto d = stream.next(kWait);
        if (!d) {
            ADD_FAILURE() << "stream " << stream.id() << " timed out";
            return o;
        }
        o.tokens.insert(o.tokens.end(), d->tokens.begin(), d->tokens.end());
        if (d->finish != FinishReason::none) {
            o.final_delta = std::move(*d);
            return o;
        }
    }
}

Outcome run_alone(Engine& engine, const RequestParams& params) {
    auto stream = engine.submit(params);
    EXPECT_TRUE(stream.ok()) << stream.status().message();
    return stream.ok() ? drain(**stream) : Outcome{};
}

// Waits until the loop has published a state with every block free.
bool all_blocks_free(Engine& engine) {
    for (int i = 0; i < 2000; ++i) {
        if (engine.n_free_blocks() == engine.n_blocks()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

class EngineTest : public ::testing::Test {
protected:
    void SetUp() override {
        DUET_REQUIRE_FIXTURES();
        ASSERT_NE(tiny_model(), nullptr);
        reference_ = make_engine(options(256, /*prefix_caching=*/false));
    }
    // The request run alone on an engine with no prefix cache: the ground truth.
    std::vector<TokenId> reference(const RequestParams& p) { return run_alone(*reference_, p).tokens; }
    std::unique_ptr<Engine> reference_;
};

TEST_F(EngineTest, ConcurrentGreedyRequestsMatchRunningAlone) {
    std::mt19937 rng(1);
    std::vector<RequestParams> params;
    for (int i = 0; i < 8; ++i) params.push_back(greedy(random_prompt(rng, 3 + 9 * i), 10));
    auto engine = make_engine(options(256));
    std::vector<std::unique_ptr<RequestStream>> streams;
    for (const auto& p : params) {
        auto s = engine->submit(p);
        ASSERT_TRUE(s.ok()) << s.status().message();
        streams.push_back(std::move(s).value());
    }
    for (size_t i = 0; i < params.size(); ++i) {
        Outcome o = drain(*streams[i]);
        EXPECT_EQ(o.final_delta.finish, FinishReason::length);
        EXPECT_EQ(o.final_delta.n_generated_tokens, 10);
        EXPECT_EQ(o.final_delta.n_prompt_tokens, static_cast<int32_t>(params[i].prompt.size()));
        EXPECT_GE(o.final_delta.total_seconds, o.final_delta.first_token_seconds);
        EXPECT_GT(o.final_delta.first_token_seconds, 0.0);
        EXPECT_EQ(o.tokens, reference(params[i])) << "request " << i;
    }
    EXPECT_TRUE(all_blocks_free(*engine));
    const EngineStats st = engine->stats();
    EXPECT_EQ(st.generation_tokens_total, 80u);
    EXPECT_EQ(st.n_running, 0);
    EXPECT_EQ(st.kv_usage, 0.0);
}

// An idle engine waits out a burst: requests submitted back to back share their first step, so none of them decodes
// while the others prefill (3 tokens each: one step for the 4 prompts, then 2 decode steps).
TEST_F(EngineTest, BurstOnAnIdleEngineSharesOneStep) {
    std::mt19937 rng(7);
    EngineOptions o = options(256);
    o.batch_window_us = 200'000;  // generous: the window closes once no request came for this long
    auto engine = make_engine(o);
    std::vector<std::unique_ptr<RequestStream>> streams;
    for (int i = 0; i < 4; ++i) {
        auto s = engine->submit(greedy(random_prompt(rng, 20 + i), 3));
        ASSERT_TRUE(s.ok()) << s.status().message();
        streams.push_back(std::move(s).value());
    }
    for (auto& s : streams) EXPECT_EQ(drain(*s).final_delta.n_generated_tokens, 3);
    EXPECT_EQ(engine->stats().steps_total, 3u);

    // The next burst, after the engine went idle again, is gathered the same way.
    streams.clear();
    for (int i = 0; i < 2; ++i) streams.push_back(engine->submit(greedy(random_prompt(rng, 9), 2)).value());
    for (auto& s : streams) EXPECT_EQ(drain(*s).final_delta.n_generated_tokens, 2);
    EXPECT_EQ(engine->stats().steps_total, 5u);
}

TEST_F(EngineTest, PreemptionDoesNotChangeOutputs) {
    // 10 blocks of 16 tokens; 6 requests of up to 24 + 24 tokens (3 blocks each) cannot all run at once.
    EngineOptions o = options(10);
    o.max_batch_tokens = 64;
    o.long_prefill_chunk = 16;
    auto engine = make_engine(o);
    std::mt19937 rng(2);
    std::vector<RequestParams> params;
    std::vector<std::unique_ptr<RequestStream>> streams;
    for (int i = 0; i < 6; ++i) {
        params.push_back(greedy(random_prompt(rng, 14 + 2 * i), 24));
        streams.push_back(std::move(engine->submit(params.back())).value());
    }
    for (size_t i = 0; i < params.size(); ++i) {
        Outcome out = drain(*streams[i]);
        EXPECT_EQ(out.tokens, reference(params[i])) << "request " << i;
    }
    EXPECT_GT(engine->n_preemptions(), 0u);
    EXPECT_TRUE(all_blocks_free(*engine));
}

TEST_F(EngineTest, AbortingSomeLeavesTheOthersUnaffected) {
    EngineOptions o = options(128);
    o.max_batch_tokens = 128;
    auto engine = make_engine(o);
    std::mt19937 rng(3);
    std::vector<RequestParams> params;
    std::vector<std::unique_ptr<RequestStream>> streams;
    for (int i = 0; i < 40; ++i) {
        params.push_back(greedy(random_prompt(rng, 4 + i % 13), 12));
        streams.push_back(std::move(engine->submit(params.back())).value());
    }
    // Abort every 4th request once it has produced its first token (10 of 40), mid-generation.
    std::map<size_t, Outcome> results;
    for (size_t i = 0; i < streams.size(); i += 4) {
        auto first = streams[i]->next(kWait);
        ASSERT_TRUE(first.has_value());
        engine->abort(streams[i]->id());
        Outcome rest = drain(*streams[i]);
        EXPECT_TRUE(rest.final_delta.finish == FinishReason::abort || rest.final_delta.finish == FinishReason::length);
    }
    for (size_t i = 0; i < streams.size(); ++i) {
        if (i % 4 == 0) continue;
        results[i] = drain(*streams[i]);
    }
    for (auto& [i, out] : results) EXPECT_EQ(out.tokens, reference(params[i])) << "request " << i;
    EXPECT_TRUE(all_blocks_free(*engine));
    EXPECT_EQ(engine->stats().n_waiting, 0);
}

TEST_F(EngineTest, DroppedStreamAbortsItsRequest) {
    auto engine = make_engine(options(64));
    std::mt19937 rng(4);
    {
        auto s = engine->submit(greedy(random_prompt(rng, 20), 400));
        ASSERT_TRUE(s.ok());
        ASSERT_TRUE((*s)->next(kWait).has_value());
    }  // the reader goes away
    EXPECT_TRUE(all_blocks_free(*engine));
    EXPECT_LT(engine->stats().generation_tokens_total, 400u);
}

TEST_F(EngineTest, ExtendedPromptHitsThePrefixCache) {
    auto engine = make_engine(options(64));
    std::mt19937 rng(5);
    const RequestParams first = greedy(random_prompt(rng, 40), 8);
    const Outcome out1 = run_alone(*engine, first);
    ASSERT_EQ(out1.tokens.size(), 8u);
    const uint64_t hits_before = engine->stats().prefix_hits;
    // Turn 2: the first prompt, its answer and a new message. 47 computed tokens = 2 full blocks cached.
    RequestParams second = first;
    second.prompt.insert(second.prompt.end(), out1.tokens.begin(), out1.tokens.end());
    for (int i = 0; i < 6; ++i) second.prompt.push_back(100 + i);
    const Outcome out2 = run_alone(*engine, second);
    EXPECT_EQ(out2.final_delta.n_cached_prompt_tokens, 32);
    EXPECT_EQ(engine->stats().prefix_hits - hits_before, 32u);
    EXPECT_EQ(out2.tokens, reference(second));  // reused K/V gives the same continuation
}

TEST_F(EngineTest, IdenticalPromptsInOneStepShareBlocksBeingComputed) {
    // The first request registers its full blocks when they are allocated; the others, admitted in the same
    // step, hit them and attend to K/V that the first request writes earlier in the same batch.
    std::mt19937 rng(13);
    const RequestParams p = greedy(random_prompt(rng, 40), 6);
    auto created = Engine::create(tiny_model(), options(64));
    ASSERT_TRUE(created.ok());
    auto engine = std::move(created).value();
    std::vector<std::unique_ptr<RequestStream>> streams;
    for (int i = 0; i < 4; ++i) streams.push_back(std::move(engine->submit(p)).value());
    engine->start();  // all four are in the first step
    const std::vector<TokenId> expected = reference(p);
    for (auto& s : streams) {
        const Outcome out = drain(*s);
        EXPECT_EQ(out.tokens, expected);
    }
    EXPECT_EQ(engine->stats().prefix_hits, 3u * 32u);
    EXPECT_TRUE(all_blocks_free(*engine));
}

TEST_F(EngineTest, QueueFullIsADistinctError) {
    EngineOptions o = options(64);
    o.max_queue = 2;
    auto created = Engine::create(tiny_model(), o);  // not started: nothing leaves the queue
    ASSERT_TRUE(created.ok());
    Engine& engine = **created;
    std::mt19937 rng(6);
    auto a = engine.submit(greedy(random_prompt(rng, 5), 3));
    auto b = engine.submit(greedy(random_prompt(rng, 5), 3));
    ASSERT_TRUE(a.ok() && b.ok());
    auto c = engine.submit(greedy(random_prompt(rng, 5), 3));
    ASSERT_FALSE(c.ok());
    EXPECT_TRUE(is_queue_full(c.status()));
    engine.start();
    EXPECT_EQ(drain(**a).tokens.size(), 3u);
    EXPECT_EQ(drain(**b).tokens.size(), 3u);
}

TEST_F(EngineTest, RejectsRequestsThatCanNeverRun) {
    auto engine = make_engine(options(8));  // 128 token slots, context 512
    std::mt19937 rng(7);
    auto too_big_for_pool = engine->submit(greedy(random_prompt(rng, 100), 40));
    ASSERT_FALSE(too_big_for_pool.ok());
    EXPECT_EQ(too_big_for_pool.status().code(), StatusCode::invalid_argument);
    EXPECT_FALSE(is_queue_full(too_big_for_pool.status()));
    EngineOptions big = options(64);
    auto engine2 = make_engine(big);
    EXPECT_EQ(engine2->submit(greedy(random_prompt(rng, 500), 13)).status().code(), StatusCode::invalid_argument);
    EXPECT_EQ(engine2->submit(greedy({1, 2, 512}, 1)).status().code(), StatusCode::invalid_argument);
    EXPECT_EQ(engine2->submit(greedy({}, 1)).status().code(), StatusCode::invalid_argument);
    EXPECT_TRUE(engine2->submit(greedy(random_prompt(rng, 499), 13)).ok());
    RequestParams min_over_max = greedy(random_prompt(rng, 5), 4);
    min_over_max.min_tokens = 5;
    EXPECT_EQ(engine2->submit(min_over_max).status().code(), StatusCode::invalid_argument);
    min_over_max.min_tokens = -1;
    EXPECT_EQ(engine2->submit(min_over_max).status().code(), StatusCode::invalid_argument);
}

TEST_F(EngineTest, ContextIsNeverMoreThanThePoolHoldsForOneSequence) {
    auto small = make_engine(options(8));  // 128 token slots, context 512 asked
    EXPECT_EQ(small->requested_context_length(), 512);
    EXPECT_EQ(small->context_length(), 128);
    std::mt19937 rng(9);
    auto fits = small->submit(greedy(random_prompt(rng, 100), 28));  // exactly the pool
    ASSERT_TRUE(fits.ok()) << fits.status().message();
    small->start();
    EXPECT_EQ(drain(**fits).tokens.size(), 28u);
    auto big = make_engine(options(64));  // 1024 slots: the asked 512 fits
    EXPECT_EQ(big->context_length(), 512);
}

TEST_F(EngineTest, LogprobsAndPromptLogprobs) {
    auto engine = make_engine(options(64));
    std::mt19937 rng(8);
    RequestParams p = greedy(random_prompt(rng, 21), 4);
    p.n_logprobs = 3;
    p.want_prompt_logprobs = true;
    auto s = engine->submit(p);
    ASSERT_TRUE(s.ok());
    std::vector<TokenLogprob> logprobs, prompt_logprobs;
    std::vector<TokenId> tokens;
    for (;;) {
        auto d = (*s)->next(kWait);
        ASSERT_TRUE(d.has_value());
        tokens.insert(tokens.end(), d->tokens.begin(), d->tokens.end());
        logprobs.insert(logprobs.end(), d->logprobs.begin(), d->logprobs.end());
        prompt_logprobs.insert(prompt_logprobs.end(), d->prompt_logprobs.begin(), d->prompt_logprobs.end());
        if (d->finish != FinishReason::none) break;
    }
    ASSERT_EQ(logprobs.size(), tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        EXPECT_EQ(logprobs[i].token, tokens[i]);
        ASSERT_EQ(logprobs[i].top.size(), 3u);
        EXPECT_EQ(logprobs[i].top[0].first, tokens[i]);  // greedy picks the most likely token
        EXPECT_FLOAT_EQ(logprobs[i].top[0].second, logprobs[i].logprob);
        EXPECT_LT(logprobs[i].logprob, 0.0f);
    }
    ASSERT_EQ(prompt_logprobs.size(), p.prompt.size());
    EXPECT_TRUE(prompt_logprobs[0].top.empty());
    for (size_t i = 1; i < p.prompt.size(); ++i) {
        EXPECT_EQ(prompt_logprobs[i].token, p.prompt[i]);
        EXPECT_LT(prompt_logprobs[i].logprob, 0.0f);
        ASSERT_EQ(prompt_logprobs[i].top.size(), 3u);
        EXPECT_GE(prompt_logprobs[i].top[0].second, prompt_logprobs[i].logprob);
    }
    EXPECT_EQ(tokens, reference(greedy(p.prompt, 4)));
}

TEST_F(EngineTest, PromptLogprobsEqualTheLogprobsOfTheSameTokensWhenGenerated) {
    // Generate 5 tokens with logprobs; then echo prompt + those tokens as a prompt, computed in chunks of 7
    // tokens across several steps: the prompt logprobs of the echoed tokens are the generation logprobs.
    EngineOptions o = options(64);
    o.long_prefill_chunk = 7;
    auto engine = make_engine(o);
    std::mt19937 rng(14);
    RequestParams gen = greedy(random_prompt(rng, 17), 5);
    gen.n_logprobs = 2;
    auto s1 = engine->submit(gen);
    ASSERT_TRUE(s1.ok());
    std::vector<TokenId> tokens;
    std::vector<TokenLogprob> logprobs;
    for (;;) {
        auto d = (*s1)->next(kWait);
        ASSERT_TRUE(d.has_value());
        tokens.insert(tokens.end(), d->tokens.begin(), d->tokens.end());
        logprobs.insert(logprobs.end(), d->logprobs.begin(), d->logprobs.end());
        if (d->finish != FinishReason::none) break;
    }
    ASSERT_EQ(logprobs.size(), 5u);
    RequestParams echo = greedy(gen.prompt, 1);
    echo.prompt.insert(echo.prompt.end(), tokens.begin(), tokens.end());
    echo.want_prompt_logprobs = true;
    echo.n_logprobs = 2;
    auto s2 = engine->submit(echo);
    ASSERT_TRUE(s2.ok());
    std::vector<TokenLogprob> prompt_logprobs;
    for (;;) {
        auto d = (*s2)->next(kWait);
        ASSERT_TRUE(d.has_value());
        prompt_logprobs.insert(prompt_logprobs.end(), d->prompt_logprobs.begin(), d->prompt_logprobs.end());
        if (d->finish != FinishReason::none) {
            EXPECT_EQ(d->n_cached_prompt_tokens, 0);  // prompt logprobs need every position computed
            break;
        }
    }
    ASSERT_EQ(prompt_logprobs.size(), echo.prompt.size());
    for (size_t i = 0; i < 5; ++i) {
        const TokenLogprob& a = logprobs[i];
        const TokenLogprob& b = prompt_logprobs[gen.prompt.size() + i];
        EXPECT_EQ(a.token, b.token);
        EXPECT_NEAR(a.logprob, b.logprob, 1e-4f) << i;
        ASSERT_EQ(b.top.size(), 2u);
        EXPECT_EQ(a.top[1].first, b.top[1].first);
    }
}

TEST_F(EngineTest, SeededSamplingIsReproducibleUnderBatching) {
    auto engine = make_engine(options(128));
    std::mt19937 rng(9);
    std::vector<RequestParams> params;
    std::vector<std::unique_ptr<RequestStream>> streams;
    for (int i = 0; i < 4; ++i) {
        RequestParams p = greedy(random_prompt(rng, 10 + i), 12);
        p.sampling.temperature = 1.0f;
        p.sampling.seed = 42 + i;
        p.sampling.has_seed = true;
        params.push_back(p);
        streams.push_back(std::move(engine->submit(p)).value());
    }
    for (size_t i = 0; i < params.size(); ++i) EXPECT_EQ(drain(*streams[i]).tokens, reference(params[i]));
}

TEST_F(EngineTest, StopAbortsPendingRequests) {
    auto created = Engine::create(tiny_model(), options(64));
    ASSERT_TRUE(created.ok());
    std::mt19937 rng(10);
    auto s = (*created)->submit(greedy(random_prompt(rng, 5), 3));
    ASSERT_TRUE(s.ok());
    (*created)->stop();
    auto d = (*s)->next(kWait);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->finish, FinishReason::abort);
    EXPECT_FALSE((*s)->next(0.01).has_value());  // nothing after the final delta
}

TEST_F(EngineTest, StopTokenEndsTheRequestAfterEmittingIt) {
    std::mt19937 rng(11);
    RequestParams p = greedy(random_prompt(rng, 12), 10);
    const std::vector<TokenId> full = reference(p);
    ASSERT_EQ(full.size(), 10u);
    const TokenId stop = full[3];
    const size_t first = std::find(full.begin(), full.end(), stop) - full.begin();
    p.ignore_eos = false;
    p.stop_token_ids = {stop};
    auto engine = make_engine(options(64));
    const Outcome out = run_alone(*engine, p);
    EXPECT_EQ(out.final_delta.finish, FinishReason::stop);
    EXPECT_EQ(out.tokens, std::vector<TokenId>(full.begin(), full.begin() + first + 1));
}

TEST_F(EngineTest, MinTokensKeepsStopTokensOutUntilReached) {
    std::mt19937 rng(13);
    RequestParams p = greedy(random_prompt(rng, 9), 12);
    const std::vector<TokenId> full = reference(p);  // unconstrained greedy run
    ASSERT_EQ(full.size(), 12u);
    const TokenId stop = full[2];  // the 3rd greedy token becomes a stop id
    const size_t first = std::find(full.begin(), full.end(), stop) - full.begin();
    ASSERT_LE(first, 2u);
    p.ignore_eos = false;
    p.stop_token_ids = {stop};
    auto engine = make_engine(options(64));

    const Outcome early = run_alone(*engine, p);  // without min_tokens it stops on the stop id
    EXPECT_EQ(early.final_delta.finish, FinishReason::stop);
    EXPECT_EQ(early.tokens, std::vector<TokenId>(full.begin(), full.begin() + first + 1));

    constexpr int32_t kMinTokens = 8;
    p.min_tokens = kMinTokens;
    const Outcome held = run_alone(*engine, p);
    ASSERT_GE(held.tokens.size(), static_cast<size_t>(kMinTokens));
    for (int32_t i = 0; i < kMinTokens; ++i) EXPECT_NE(held.tokens[i], stop) << "token " << i;
    // Greedy tokens before the first stop are unchanged; after min_tokens the stop id may end it again.
    EXPECT_EQ(std::vector<TokenId>(held.tokens.begin(), held.tokens.begin() + first),
              std::vector<TokenId>(full.begin(), full.begin() + first));
    if (held.final_delta.finish == FinishReason::stop) {
        EXPECT_EQ(held.tokens.back(), stop);
    } else {
        EXPECT_EQ(held.final_delta.finish, FinishReason::length);
        EXPECT_EQ(held.tokens.size(), 12u);
    }

    p.min_tokens = p.max_tokens;  // min_tokens == max_tokens: exactly max_tokens, none of them the stop id
    const Outcome all = run_alone(*engine, p);
    EXPECT_EQ(all.final_delta.finish, FinishReason::length);
    ASSERT_EQ(all.tokens.size(), 12u);
    EXPECT_EQ(std::count(all.tokens.begin(), all.tokens.end(), stop), 0);
}

// Llama-shaped model (GQA group 4, norm RoPE) with the default F16 KV cache: batching is still invisible.
TEST(EngineLlama, ConcurrentMatchesAloneWithF16Kv) {
    DUET_REQUIRE_FIXTURES();
    auto model = load_model("llama3-tiny-F32.gguf");
    ASSERT_NE(model, nullptr);
    EngineOptions o;
    o.n_threads = 1;
    o.kv_memory_bytes = model::KvCache::bytes_per_block(model->config(), 16, model::KvType::f16) * 64;
    o.context_length = 256;
    o.max_batch_tokens = 48;
    o.long_prefill_chunk = 20;
    auto engine = Engine::create(model, o);
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    (*engine)->start();
    std::mt19937 rng(12);
    std::vector<RequestParams> params;
    std::vector<std::unique_ptr<RequestStream>> streams;
    for (int i = 0; i < 6; ++i) {
        params.push_back(greedy(random_prompt(rng, 5 + 11 * i), 8));
        streams.push_back(std::move((*engine)->submit(params.back())).value());
    }
    std::vector<std::vector<TokenId>> together;
    for (auto& s : streams) together.push_back(drain(*s).tokens);
    o.enable_prefix_caching = false;  // the reference: one request at a time, everything computed
    auto alone = Engine::create(model, o);
    ASSERT_TRUE(alone.ok());
    (*alone)->start();
    for (size_t i = 0; i < params.size(); ++i) EXPECT_EQ(together[i], run_alone(**alone, params[i]).tokens);
}

TEST(KvBudget, SameTokenSlotsForEveryModel) {
    const size_t per_block[] = {1000, 3000};
    const auto split = split_kv_memory(100500, per_block);
    ASSERT_EQ(split.size(), 2u);
    EXPECT_EQ(split[0], 25u * 1000);  // 100500 / 4000 = 25 blocks each
    EXPECT_EQ(split[1], 25u * 3000);
    EXPECT_LE(split[0] + split[1], 100500u);
}

TEST(KvBudget, DefaultIsAQuarterOfWhatTheWeightsLeaveWithinBounds) {
    constexpr size_t GiB = size_t{1} << 30;
    EXPECT_EQ(default_kv_memory(16 * GiB, 4 * GiB), 3 * GiB);
    EXPECT_EQ(default_kv_memory(2 * GiB, 1900 * (size_t{1} << 20)), kMinDefaultKvMemory);  // little left
    EXPECT_EQ(default_kv_memory(0, 0), kMinDefaultKvMemory);                               // unknown
    EXPECT_EQ(default_kv_memory(1, 2), kMinDefaultKvMemory);
    EXPECT_EQ(default_kv_memory(512 * GiB, 8 * GiB), kMaxDefaultKvMemory);
}

}  // namespace
}  // namespace duet::engine
