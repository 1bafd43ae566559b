// test_deploy.cpp: the deployment table's measurements against the scripted server: /health, the page, TTFT and
// the streaming rhythm (3 code points per chunk), RSS of this process, an unreachable target, the printed table.
#include <gtest/gtest.h>
#include <unistd.h>

#include "eval/deploy.h"
#include "eval/scripted_server.h"

namespace duet::eval {
namespace {

TEST(EvalDeploy, MeasuresHealthPageAndStreamingRhythm) {
    test::ScriptedServer s;
    s.script = {{"keyboard", "abcdefghi"}};  // 3 chunks of 3 characters
    s.page = "<html>chat</html>";
    s.start();
    DeployOptions o;
    o.requests = 2;
    o.pid = int(::getpid());
    o.policy.read_timeout_seconds = 10;
    const DeployFigures f = measure_deployment({"x", s.url(), "m"}, o);
    EXPECT_TRUE(f.health_ok);
    EXPECT_EQ(f.page_status, 200);
    EXPECT_EQ(f.page_bytes, 17u);
    EXPECT_EQ(f.requests, 2);
    EXPECT_EQ(f.failed, 0);
    EXPECT_GE(f.ttft_p50_ms, 0);
    EXPECT_GE(f.interval_p50_ms, 0);
    EXPECT_EQ(f.chars_per_chunk, 3.0);
    EXPECT_GT(f.rss_gb, 0);
    EXPECT_EQ(s.requests().at("keyboard"), 2);

    const DeployFigures down = measure_deployment({"down", "http://127.0.0.1:1/v1", ""}, {});
    EXPECT_FALSE(down.health_ok);
    EXPECT_EQ(down.failed, down.requests);
    EXPECT_NE(down.last_error.find("transport"), std::string::npos) << down.last_error;

    const std::string table = render_deploy_table({f, down});
    EXPECT_NE(table.find("first token p50 (ms)"), std::string::npos);
    EXPECT_NE(table.find("720 / 380"), std::string::npos);
    EXPECT_NE(table.find("unreachable"), std::string::npos);
    EXPECT_NE(table.find(" (17 B)"), std::string::npos) << table;
    EXPECT_NE(table.find("3.0"), std::string::npos);
}

TEST(EvalDeploy, RssOfAMissingProcessIsUnknown) {
    EXPECT_GT(process_rss_bytes(int(::getpid())), 0);
    EXPECT_EQ(process_rss_bytes(999999999), -1);
}

}  // namespace
}  // namespace duet::eval
