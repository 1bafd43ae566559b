// test_upstream_serve.cpp: `duet serve --upstream` in front of a second `duet serve` process (a generated demo
// model): the same greedy answer whether asked directly or through the proxy, whole and streamed chunk by chunk;
// /v1/models shows both kinds; an upstream that goes away becomes a 502 in the API's shape.
#include <gtest/gtest.h>

#include <cstdlib>

#include "server/serve_process.h"
#include "support/fixtures.h"

namespace duet::test {
namespace {

std::string demo_model() {
    const std::string path = temp_dir() + "/upstream-demo.gguf";
    const std::string cmd = "'" + duet_binary() + "' make-model --preset demo --type f32 -o '" + path + "' > /dev/null";
    return std::system(cmd.c_str()) == 0 ? path : std::string();
}

json greedy_chat(const std::string& model, bool stream) {
    return {{"model", model},     {"messages", json::array({{{"role", "user"}, {"content", "Tell me a story"}}})},
            {"max_tokens", 12},   {"temperature", 0},
            {"ignore_eos", true}, {"stream", stream}};
}

std::vector<std::string> stream_texts(const std::string& body) {
    std::vector<std::string> texts;
    for (const auto& payload : sse_payloads(body)) {
        if (payload == "[DONE]") continue;
        const json chunk = json::parse(payload);
        if (chunk.contains("choices") && !chunk["choices"].empty())
            texts.push_back(chunk["choices"][0]["delta"].value("content", ""));
    }
    return texts;
}

TEST(UpstreamServe, ProxiedAnswersEqualDirectOnesAndADeadUpstreamIs502) {
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    const std::string model = demo_model();
    ASSERT_FALSE(model.empty()) << "duet make-model failed";
    struct RemoveOnExit {
        std::string path;
        ~RemoveOnExit() { std::remove(path.c_str()); }
    } remove_model{model};
    auto upstream = std::make_unique<ServeProcess>(std::vector<std::string>{"--kv-memory", "64M"}, "demo", model);
    ASSERT_TRUE(upstream->ready()) << "upstream duet serve did not become ready";
    const std::string url = "http://127.0.0.1:" + std::to_string(upstream->port()) + "/v1#demo";
    ServeProcess proxy({"--kv-memory", "64M", "--upstream", "remote=" + url, "--upstream-health", "0"}, "local", model);
    ASSERT_TRUE(proxy.ready()) << "proxy duet serve did not become ready";

    auto direct =
        upstream->client()->Post("/v1/chat/completions", greedy_chat("demo", false).dump(), "application/json");
    auto proxied =
        proxy.client()->Post("/v1/chat/completions", greedy_chat("remote", false).dump(), "application/json");
    ASSERT_TRUE(direct && proxied);
    ASSERT_EQ(direct->status, 200) << direct->body;
    ASSERT_EQ(proxied->status, 200) << proxied->body;
    const std::string direct_text = json::parse(direct->body)["choices"][0]["message"]["content"];
    EXPECT_FALSE(direct_text.empty());
    EXPECT_EQ(json::parse(proxied->body)["choices"][0]["message"]["content"], direct_text);
    EXPECT_EQ(json::parse(proxied->body)["usage"]["completion_tokens"], 12);

    auto direct_stream =
        upstream->client()->Post("/v1/chat/completions", greedy_chat("demo", true).dump(), "application/json");
    auto proxied_stream =
        proxy.client()->Post("/v1/chat/completions", greedy_chat("remote", true).dump(), "application/json");
    ASSERT_TRUE(direct_stream && proxied_stream);
    ASSERT_EQ(proxied_stream->status, 200);
    const auto direct_chunks = stream_texts(direct_stream->body), proxied_chunks = stream_texts(proxied_stream->body);
    EXPECT_GT(direct_chunks.size(), 2u);
    EXPECT_EQ(proxied_chunks, direct_chunks) << "chunk by chunk, the same chunks";
    EXPECT_EQ(sse_payloads(proxied_stream->body).back(), "[DONE]");

    const json models = json::parse(proxy.client()->Get("/v1/models")->body)["data"];
    ASSERT_EQ(models.size(), 2u);
    EXPECT_EQ(models[0]["id"], "local");
    EXPECT_EQ(models[0]["state"], "loaded");
    EXPECT_EQ(models[1]["id"], "remote");
    EXPECT_EQ(models[1]["state"], "remote");
    // The local model still answers beside the remote one.
    auto local = proxy.client()->Post("/v1/chat/completions", greedy_chat("local", false).dump(), "application/json");
    ASSERT_TRUE(local);
    EXPECT_EQ(json::parse(local->body)["choices"][0]["message"]["content"], direct_text);

    upstream.reset();  // the upstream process exits: its port refuses connections
    auto dead = proxy.client()->Post("/v1/chat/completions", greedy_chat("remote", true).dump(), "application/json");
    ASSERT_TRUE(dead);
    EXPECT_EQ(dead->status, 502);
    EXPECT_TRUE(is_error_body(dead->body)) << dead->body;
    EXPECT_EQ(json::parse(dead->body)["error"]["code"], "upstream_unreachable");
}

}  // namespace
}  // namespace duet::test
