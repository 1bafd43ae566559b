// test_server_streaming.cpp: 100 concurrent streams with 10 clients vanishing mid-stream: the other 90 get exactly
// their own output, every cancelled request is aborted in the engine, and nothing stays running (no KV leak).
#include <thread>

#include "server_harness.h"

namespace duet::test {
namespace {

TEST(ServerStreaming, HundredConcurrentWithTenCancelled) {
    ServerHarness h;
    constexpr int kRequests = 100;
    constexpr int kCancelEvery = 10;
    constexpr int kMaxTokens = 40;
    std::vector<std::string> outputs(kRequests);
    std::vector<int> statuses(kRequests, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < kRequests; ++i) {
        threads.emplace_back([&, i] {
            const std::string user = "request number " + std::to_string(i);
            json body = {{"model", "alpha"},
                         {"messages", {{{"role", "user"}, {"content", user}}}},
                         {"max_tokens", kMaxTokens},
                         {"stream", true}};
            if (i % kCancelEvery == 0) {
                // Cancelled: read the head and a first chunk, then drop the connection.
                body["max_tokens"] = 400;
                raw_exchange(h.port(), http_post_bytes("/v1/chat/completions", body.dump()), 300);
                statuses[i] = -1;
                return;
            }
            auto res = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
            if (!res) {
                ADD_FAILURE() << "request " << i << ": " << httplib::to_string(res.error());
                return;
            }
            statuses[i] = res->status;
            for (const auto& e : sse_payloads(res->body)) {
                if (e == "[DONE]") continue;
                json chunk = json::parse(e);
                if (!chunk["choices"].empty() && chunk["choices"][0]["delta"].contains("content"))
                    outputs[i] += chunk["choices"][0]["delta"]["content"].get<std::string>();
            }
        });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kRequests; ++i) {
        if (i % kCancelEvery == 0) continue;
        const std::string user = "request number " + std::to_string(i);
        const auto prompt = FakeCodec().encode(FakeCodec::chat_text({{"user", user}}), true, false);
        EXPECT_EQ(statuses[i], 200) << i;
        EXPECT_EQ(outputs[i], fake_expected_output(prompt, kMaxTokens)) << i;
    }
    // Every cancelled stream is noticed and aborted; the engine drains to idle.
    for (int i = 0; i < 3000 && !(h.alpha->idle() && h.alpha->n_aborted_requests() >= 10); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(h.alpha->idle());
    EXPECT_EQ(h.alpha->n_aborted_requests(), 10);
    auto metrics = h.client()->Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find("vllm:num_requests_running{model_name=\"alpha\"} 0"), std::string::npos);
    EXPECT_NE(metrics->body.find("vllm:kv_cache_usage_perc{model_name=\"alpha\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace duet::test
