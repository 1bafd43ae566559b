// test_server_real_model.cpp: `duet serve` as a subprocess on stories260K: concurrency with cancellations, KV
// pressure (preemption), and the prefix cache on a chat's second turn, checked through the HTTP API and /metrics.
#include <algorithm>
#include <optional>
#include <thread>

#include "serve_process.h"

namespace duet::test {
namespace {

json completion_body(const std::string& prompt, int max_tokens, bool stream) {
    return {
        {"model", "stories"}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}, {"stream", stream}};
}

std::string text_of(const httplib::Result& r) {
    if (!r || r->status != 200) return "<error>";
    return json::parse(r->body)["choices"][0]["text"].get<std::string>();
}

std::string streamed_text(const std::string& body) {
    std::string text;
    for (const auto& e : sse_payloads(body)) {
        if (e == "[DONE]") continue;
        json c = json::parse(e);
        if (!c["choices"].empty()) text += c["choices"][0]["text"].get<std::string>();
    }
    return text;
}

const std::vector<std::string> kPrompts = {"Once upon a time", "The little dog",     "Lily and Tom", "One day, a cat",
                                           "The sun was",      "Tim had a red ball", "In the park",  "Mom said"};

TEST(ServerRealModel, HundredConcurrentTenCancelledSurvivorsMatchAloneAndKvIsFreed) {
    ServeProcess proc({"--kv-memory", "64M"});
    REQUIRE_SERVE(proc);
    constexpr int kMaxTokens = 24;
    std::vector<std::string> alone;
    for (const auto& p : kPrompts)
        alone.push_back(text_of(
            proc.client()->Post("/v1/completions", completion_body(p, kMaxTokens, false).dump(), "application/json")));
    std::vector<std::string> outputs(100);
    std::vector<std::thread> threads;
    for (int i = 0; i < 100; ++i)
        threads.emplace_back([&, i] {
            const std::string& prompt = kPrompts[i % kPrompts.size()];
            if (i % 10 == 3) {
                raw_exchange(proc.port(),
                             http_post_bytes("/v1/completions", completion_body(prompt, 1000, true).dump()), 400);
                return;
            }
            auto r = proc.client()->Post("/v1/completions", completion_body(prompt, kMaxTokens, true).dump(),
                                         "application/json");
            outputs[i] = r && r->status == 200 ? streamed_text(r->body) : "<error>";
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 100; ++i) {
        if (i % 10 == 3) continue;
        EXPECT_EQ(outputs[i], alone[i % kPrompts.size()]) << "request " << i;
    }
    double running = -1, kv = -1;
    for (int i = 0; i < 200; ++i) {
        running = proc.metric("vllm:num_requests_running");
        kv = proc.metric("vllm:kv_cache_usage_perc");
        if (running == 0 && kv == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_EQ(running, 0);
    EXPECT_EQ(proc.metric("vllm:num_requests_waiting"), 0);
    EXPECT_EQ(kv, 0) << "KV blocks still in use after every request finished or was cancelled";
}

TEST(ServerRealModel, TinyKvBudgetPreemptsButOutputsMatchAlone) {
    // ~24 blocks of 16 tokens for 16 requests of ~100 tokens each: the scheduler must preempt and recompute.
    ServeProcess proc({"--kv-memory", "256K"});
    REQUIRE_SERVE(proc);
    constexpr int kMaxTokens = 96;
    std::vector<std::string> alone;
    for (const auto& p : kPrompts)
        alone.push_back(text_of(
            proc.client()->Post("/v1/completions", completion_body(p, kMaxTokens, false).dump(), "application/json")));
    std::vector<std::string> outputs(16);
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i)
        threads.emplace_back([&, i] {
            outputs[i] =
                text_of(proc.client()->Post("/v1/completions",
                                            completion_body(kPrompts[i % kPrompts.size()], kMaxTokens, false).dump(),
                                            "application/json"));
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 16; ++i) EXPECT_EQ(outputs[i], alone[i % kPrompts.size()]) << "request " << i;
}

TEST(ServerRealModel, SecondChatTurnHitsThePrefixCache) {
    ServeProcess proc({"--kv-memory", "16M"});
    REQUIRE_SERVE(proc);
    auto c = proc.client();
    json body = {{"model", "stories"},
                 {"messages",
                  {{{"role", "user"},
                    {"content",
                     "Once upon a time there was a little girl named Lily. "
                     "She loved to play in the park with her big red ball."}}}},
                 {"max_tokens", 8},
                 {"temperature", 0}};
    auto first = c->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, 200) << first->body;
    const double hits_before = proc.metric("vllm:prefix_cache_hits");
    body["messages"].push_back(
        {{"role", "assistant"}, {"content", json::parse(first->body)["choices"][0]["message"]["content"]}});
    body["messages"].push_back({{"role", "user"}, {"content", "What happened next?"}});
    auto second = c->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(second);
    ASSERT_EQ(second->status, 200) << second->body;
    json j = json::parse(second->body);
    EXPECT_GT(j["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
    EXPECT_GT(proc.metric("vllm:prefix_cache_hits"), hits_before);
    EXPECT_GT(j["timings"]["cached_prompt_tokens"].get<int>(), 0);
}

TEST(ServerRealModel, WithoutMaxTokensOnASmallKvBudgetTheContextIsWhatThePoolHolds) {
    ServeProcess proc({"--kv-memory", "256K"});
    REQUIRE_SERVE(proc);
    auto models = proc.client()->Get("/v1/models");
    ASSERT_TRUE(models);
    const int max_model_len = json::parse(models->body)["data"][0]["max_model_len"];
    EXPECT_GT(max_model_len, 0);
    EXPECT_LT(max_model_len, 2048) << "stories260K's own context (2048) does not fit in 256 KiB of KV";
    // No max_tokens (what most clients send): it defaults to what the context leaves, and the request runs.
    json body = {{"model", "stories"},
                 {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                 {"temperature", 0},
                 {"ignore_eos", true}};
    auto r = proc.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json usage = json::parse(r->body)["usage"];
    EXPECT_EQ(usage["prompt_tokens"].get<int>() + usage["completion_tokens"].get<int>(), max_model_len);
}

TEST(ServerRealModel, CompletionPromptsKeepControlTokenSpellingsAsTextUnlessParseSpecial) {
    ServeProcess proc({"--kv-memory", "16M"});
    REQUIRE_SERVE(proc);
    auto tokens_of = [&](std::optional<bool> parse_special) {
        json body = {{"model", "stories"}, {"prompt", "a</s>b"}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 0}};
        if (parse_special) body["parse_special"] = *parse_special;
        auto r = proc.client()->Post("/v1/completions", body.dump(), "application/json");
        EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
        return r && r->status == 200 ? json::parse(r->body)["choices"][0]["logprobs"]["tokens"] : json::array();
    };
    const json as_text = tokens_of(std::nullopt);
    const json as_control = tokens_of(true);
    EXPECT_EQ(tokens_of(false), as_text);
    // "</s>" as one control token only when asked; else it is spelled out in ordinary pieces.
    EXPECT_NE(std::find(as_control.begin(), as_control.end(), json("</s>")), as_control.end()) << as_control;
    EXPECT_EQ(std::find(as_text.begin(), as_text.end(), json("</s>")), as_text.end()) << as_text;
    EXPECT_GT(as_text.size(), as_control.size());
}

}  // namespace
}  // namespace duet::test
