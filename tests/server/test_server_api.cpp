// test_server_api.cpp: every route over fake engines: shapes, streaming, usage, logprobs, stop strings, n, errors.
#include "server_harness.h"

namespace duet::test {
namespace {

std::vector<engine::TokenId> chat_prompt(const std::string& user) {
    return FakeCodec().encode(FakeCodec::chat_text({{"user", user}}), true, false);
}

json chat_body(const std::string& user, int max_tokens, const std::string& model = "alpha") {
    return {{"model", model}, {"messages", {{{"role", "user"}, {"content", user}}}}, {"max_tokens", max_tokens}};
}

TEST(ServerApi, HealthModelsAndRequestIds) {
    ServerHarness h;
    auto c = h.client();
    auto health = c->Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    EXPECT_FALSE(health->get_header_value("x-request-id").empty());

    h.server->set_ready(false);
    health = c->Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 503);
    EXPECT_TRUE(is_error_body(health->body));
    EXPECT_FALSE(health->get_header_value("Retry-After").empty());
    h.server->set_ready(true);

    auto models = c->Get("/v1/models");
    ASSERT_TRUE(models);
    ASSERT_EQ(models->status, 200);
    json j = json::parse(models->body);
    EXPECT_EQ(j["object"], "list");
    ASSERT_EQ(j["data"].size(), 2u);
    EXPECT_EQ(j["data"][0]["id"], "alpha");
    EXPECT_EQ(j["data"][1]["id"], "beta");
    EXPECT_EQ(j["data"][0]["object"], "model");
    EXPECT_NE(models->get_header_value("x-request-id"), health->get_header_value("x-request-id"));
}

TEST(ServerApi, ChatCompletionMatchesEngineOutputWithUsage) {
    ServerHarness h;
    auto res = h.client()->Post("/v1/chat/completions", chat_body("hello there", 7).dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json j = json::parse(res->body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["model"], "alpha");
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(j["choices"][0]["message"]["content"], fake_expected_output(chat_prompt("hello there"), 7));
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    const int n_prompt = static_cast<int>(chat_prompt("hello there").size());
    EXPECT_EQ(j["usage"]["prompt_tokens"], n_prompt);
    EXPECT_EQ(j["usage"]["completion_tokens"], 7);
    EXPECT_EQ(j["usage"]["total_tokens"], n_prompt + 7);
    EXPECT_TRUE(j["usage"]["prompt_tokens_details"]["cached_tokens"].is_number_integer());
    for (const char* key : {"queue_ms", "prompt_ms", "ttft_ms", "tokens_per_second", "cached_prompt_tokens"})
        EXPECT_TRUE(j["timings"].contains(key)) << key;
    EXPECT_GT(j["timings"]["tokens_per_second"].get<double>(), 0.0);
}

TEST(ServerApi, ChatStreamEqualsBlockingAndEndsWithUsageAndDone) {
    ServerHarness h;
    json body = chat_body("stream me", 9);
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    auto res = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
    auto events = sse_payloads(res->body);
    ASSERT_GE(events.size(), 4u);
    EXPECT_EQ(events.back(), "[DONE]");
    json first = json::parse(events.front());
    EXPECT_EQ(first["object"], "chat.completion.chunk");
    EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
    std::string text;
    int n_finish = 0;
    for (size_t i = 0; i + 2 < events.size(); ++i) {
        json chunk = json::parse(events[i]);
        ASSERT_EQ(chunk["choices"].size(), 1u);
        const json& choice = chunk["choices"][0];
        if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
        if (!choice["finish_reason"].is_null()) {
            ++n_finish;
            EXPECT_EQ(choice["finish_reason"], "length");
        }
    }
    EXPECT_EQ(n_finish, 1);
    EXPECT_EQ(text, fake_expected_output(chat_prompt("stream me"), 9));
    json usage_chunk = json::parse(events[events.size() - 2]);
    EXPECT_TRUE(usage_chunk["choices"].empty());
    EXPECT_EQ(usage_chunk["usage"]["completion_tokens"], 9);
}

TEST(ServerApi, StopStringsCutTheTextAndFinishWithStop) {
    ServerHarness h;
    const std::string expected = fake_expected_output(chat_prompt("stop test"), 20);
    const std::string stop = expected.substr(5, 2);
    const size_t cut = expected.find(stop);
    for (bool stream : {false, true}) {
        json body = chat_body("stop test", 20);
        body["stop"] = json::array({stop, "ZZZZ"});
        body["stream"] = stream;
        auto res = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
        ASSERT_TRUE(res);
        ASSERT_EQ(res->status, 200);
        std::string text, finish;
        if (!stream) {
            json j = json::parse(res->body);
            text = j["choices"][0]["message"]["content"];
            finish = j["choices"][0]["finish_reason"];
        } else {
            for (const auto& e : sse_payloads(res->body)) {
                if (e == "[DONE]") continue;
                json c = json::parse(e);
                if (c["choices"].empty()) continue;
                if (c["choices"][0]["delta"].contains("content")) text += c["choices"][0]["delta"]["content"];
                if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
            }
        }
        EXPECT_EQ(text, expected.substr(0, cut)) << "stream=" << stream;
        EXPECT_EQ(finish, "stop");
    }
}

TEST(ServerApi, EosTokenFinishesWithStopAndIsNotShown) {
    ServerHarness h;
    auto res = h.client()->Post("/v1/chat/completions", chat_body("say EOS", 10).dump(), "application/json");
    ASSERT_TRUE(res);
    json j = json::parse(res->body);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["choices"][0]["message"]["content"], fake_expected_output(chat_prompt("say EOS"), 3));
}

TEST(ServerApi, MinTokensReachesTheEngineForChatAndCompletions) {
    ServerHarness h;
    json chat = chat_body("say EOS", 10);
    chat["min_tokens"] = 6;
    auto res = h.client()->Post("/v1/chat/completions", chat.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json j = json::parse(res->body);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["choices"][0]["message"]["content"], fake_expected_output(chat_prompt("say EOS"), 6));

    json text = {{"model", "alpha"}, {"prompt", "say EOS"}, {"max_tokens", 10}, {"min_tokens", 5}};
    res = h.client()->Post("/v1/completions", text.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    j = json::parse(res->body);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["choices"][0]["text"], fake_expected_output(FakeCodec().encode("say EOS", true, true), 5));

    // Without max_tokens, min_tokens is checked against what the context (512) leaves.
    text.erase("max_tokens");
    text["min_tokens"] = 600;
    res = h.client()->Post("/v1/completions", text.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_TRUE(is_error_body(res->body));
    EXPECT_EQ(json::parse(res->body)["error"]["param"], "min_tokens");
}

TEST(ServerApi, SeveralChoicesAndLogprobs) {
    ServerHarness h;
    json body = chat_body("n test", 4);
    body["n"] = 3;
    body["logprobs"] = true;
    body["top_logprobs"] = 2;
    auto res = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json j = json::parse(res->body);
    ASSERT_EQ(j["choices"].size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(j["choices"][i]["index"], i);
        const json& content = j["choices"][i]["logprobs"]["content"];
        ASSERT_EQ(content.size(), 4u);
        EXPECT_FLOAT_EQ(content[0]["logprob"].get<float>(), -0.25f);
        EXPECT_EQ(content[0]["top_logprobs"].size(), 2u);
        EXPECT_TRUE(content[0]["bytes"].is_array());
    }
    EXPECT_EQ(j["usage"]["completion_tokens"], 12);
}

TEST(ServerApi, CompletionsEchoLogprobsForScoring) {
    ServerHarness h;
    // lm-eval-harness loglikelihood: echo, max_tokens 0, logprobs 1.
    json body = {{"model", "beta"}, {"prompt", "The cat"}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 1}};
    auto res = h.client()->Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json j = json::parse(res->body);
    const json& lp = j["choices"][0]["logprobs"];
    const auto prompt = FakeCodec().encode("The cat", true, true);
    ASSERT_EQ(lp["tokens"].size(), prompt.size());
    EXPECT_TRUE(lp["token_logprobs"][0].is_null());
    EXPECT_TRUE(lp["top_logprobs"][0].is_null());
    for (size_t i = 1; i < prompt.size(); ++i) {
        EXPECT_FLOAT_EQ(lp["token_logprobs"][i].get<float>(), -0.5f * float(i));
        EXPECT_EQ(lp["top_logprobs"][i].size(), 1u);
    }
    EXPECT_EQ(lp["text_offset"][0], 0);
    EXPECT_EQ(lp["tokens"][1], "T");
    EXPECT_EQ(j["choices"][0]["text"], "The cat");
    EXPECT_EQ(j["usage"]["completion_tokens"], 0);
}

TEST(ServerApi, CompletionsEchoTextOffsetsIndexIntoTheText) {
    ServerHarness h;
    // The BOS the server adds is not in the echoed text: it does not move the offsets.
    json body = {{"model", "beta"}, {"prompt", "The cat"}, {"max_tokens", 3}, {"echo", true}, {"logprobs", 1}};
    auto res = h.client()->Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json answer = json::parse(res->body);
    const json& choice = answer["choices"][0];
    const std::string text = choice["text"];
    const json& lp = choice["logprobs"];
    ASSERT_EQ(lp["tokens"].size(), lp["text_offset"].size());
    EXPECT_EQ(lp["tokens"][0], "<s>");
    EXPECT_EQ(lp["text_offset"][0], 0);
    for (size_t i = 1; i < lp["tokens"].size(); ++i) {
        const std::string token = lp["tokens"][i];
        const size_t offset = lp["text_offset"][i];
        ASSERT_LE(offset + token.size(), text.size()) << i;
        EXPECT_EQ(text.substr(offset, token.size()), token) << "token " << i;
    }
}

TEST(ServerApi, CompletionsWithTokenIdsAndStreaming) {
    ServerHarness h;
    json body = {{"model", "alpha"}, {"prompt", {72, 105}}, {"max_tokens", 5}, {"stream", true}};
    auto res = h.client()->Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    std::string text;
    auto events = sse_payloads(res->body);
    ASSERT_EQ(events.back(), "[DONE]");
    for (size_t i = 0; i + 1 < events.size(); ++i) text += json::parse(events[i])["choices"][0]["text"];
    EXPECT_EQ(text, fake_expected_output({72, 105}, 5));
}

TEST(ServerApi, TokenizeDetokenizeRoundTrip) {
    ServerHarness h;
    auto c = h.client();
    auto res = c->Post("/tokenize", json({{"content", "héllo"}, {"add_special", false}}).dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    json tokens = json::parse(res->body)["tokens"];
    EXPECT_EQ(tokens.size(), std::string("héllo").size());
    auto back = c->Post("/detokenize", json({{"tokens", tokens}}).dump(), "application/json");
    ASSERT_TRUE(back);
    EXPECT_EQ(json::parse(back->body)["content"], "héllo");
    auto with_bos = c->Post("/tokenize", json({{"prompt", "x"}}).dump(), "application/json");
    EXPECT_EQ(json::parse(with_bos->body)["tokens"], json::array({kFakeBos, 'x'}));
    auto bad = c->Post("/detokenize", json({{"tokens", {1, 99999}}}).dump(), "application/json");
    EXPECT_EQ(bad->status, 400);
    EXPECT_TRUE(is_error_body(bad->body));
}

TEST(ServerApi, MetricsUseVllmNamesWithModelLabel) {
    ServerHarness h;
    auto c = h.client();
    ASSERT_EQ(c->Post("/v1/chat/completions", chat_body("metrics", 3).dump(), "application/json")->status, 200);
    auto res = c->Get("/metrics");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    for (const char* name : {"vllm:time_to_first_token_seconds_bucket", "vllm:inter_token_latency_seconds_count",
                             "vllm:e2e_request_latency_seconds_sum", "vllm:num_requests_running",
                             "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:prefix_cache_queries",
                             "vllm:prefix_cache_hits", "vllm:prompt_tokens_total", "vllm:generation_tokens_total"})
        EXPECT_NE(res->body.find(name), std::string::npos) << name;
    EXPECT_NE(res->body.find("vllm:e2e_request_latency_seconds_count{model_name=\"alpha\"} 1"), std::string::npos)
        << res->body;
    EXPECT_NE(res->body.find("vllm:generation_tokens_total{model_name=\"alpha\"} 3"), std::string::npos);
}

TEST(ServerApi, SecondTurnHitsThePrefixCache) {
    ServerHarness h;
    auto c = h.client();
    const std::string long_user(100, 'q');
    json first = chat_body(long_user, 4);
    auto r1 = c->Post("/v1/chat/completions", first.dump(), "application/json");
    ASSERT_EQ(r1->status, 200);
    json second = first;
    second["messages"].push_back(
        {{"role", "assistant"}, {"content", json::parse(r1->body)["choices"][0]["message"]["content"]}});
    second["messages"].push_back({{"role", "user"}, {"content", "and then?"}});
    auto r2 = c->Post("/v1/chat/completions", second.dump(), "application/json");
    ASSERT_EQ(r2->status, 200);
    EXPECT_GT(json::parse(r2->body)["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
}

}  // namespace
}  // namespace duet::test
