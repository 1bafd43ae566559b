// test_bench_url.cpp: `duet bench --url` against an in-process server over fake engines: every request completes,
// exactly max_tokens come back (ignore_eos honoured), and the JSON report carries every metric.
#include <cstdio>

#include "server_harness.h"
#include "support/fixtures.h"

namespace duet::test {
namespace {

std::string run_capture(const std::string& command) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
}

TEST(BenchUrl, JsonReportAgainstFakeServer) {
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    ServerHarness h;
    const std::string cmd = duet_binary() + " bench --url http://127.0.0.1:" + std::to_string(h.port()) +
                            "/v1 --model alpha --concurrency 1,3 --requests 6 --prompt-tokens 16 --max-tokens 5 "
                            "--json 2>/dev/null";
    json report = json::parse(run_capture(cmd), nullptr, false);
    ASSERT_FALSE(report.is_discarded());
    ASSERT_EQ(report["levels"].size(), 2u);
    for (const auto& level : report["levels"]) {
        EXPECT_EQ(level["completed"], 6);
        EXPECT_EQ(level["failed"], 0);
        EXPECT_DOUBLE_EQ(level["mean_output_tokens"].get<double>(), 5.0);
        for (const char* metric : {"ttft", "tpot", "itl", "e2e"}) {
            EXPECT_GE(level[metric]["p99_ms"].get<double>(), level[metric]["median_ms"].get<double>()) << metric;
            EXPECT_GT(level[metric]["mean_ms"].get<double>(), 0.0) << metric;
        }
        EXPECT_GT(level["request_throughput"].get<double>(), 0.0);
        EXPECT_GT(level["output_token_throughput"].get<double>(), 0.0);
    }
    EXPECT_EQ(h.alpha->n_submitted(), 12);
    // A wrong model: every request fails, exit code non-zero, the error is reported.
    const std::string bad = duet_binary() + " bench --url http://127.0.0.1:" + std::to_string(h.port()) +
                            " --model nope --concurrency 1 --requests 2 2>/dev/null";
    EXPECT_NE(run_capture(bad).find("model_not_found"), std::string::npos);
}

}  // namespace
}  // namespace duet::test
