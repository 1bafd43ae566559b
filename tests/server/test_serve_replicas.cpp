// test_serve_replicas.cpp: two `duet serve` processes with `--store postgres://…` on one database, as two replicas
// behind a load balancer: what the page writes through one is read and extended through the other. Needs the
// PostgreSQL test server of the store suites (tests/store/pg_test_server.sh, ctest fixture store_pg); skips loudly
// without it. Also: --store refuses what is not a postgres URL, and an unreachable server stops `duet serve`.
#include <stdio.h>
#include <sys/wait.h>

#include "serve_process.h"
#include "store/pg_test_server.h"

namespace duet::test {
namespace {

json body_of(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

TEST(ServeReplicas, TwoServersShareConversationsThroughPostgres) {
    store::testing::TempDir dir;
    DUET_STORE_LOCATION_OR_SKIP(location, store::testing::Backend::postgres, dir);
    ServeProcess a({"--store", location});
    REQUIRE_SERVE(a);
    ServeProcess b({"--store", location});
    REQUIRE_SERVE(b);

    auto created = a.client()->Post("/api/conversations", R"({"title":"shared","mode":"expert"})", "application/json");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    std::string id = body_of(created)["id"];
    auto first = a.client()->Post("/api/conversations/" + id + "/messages", R"({"role":"user","content":"from a"})",
                                  "application/json");
    ASSERT_TRUE(first && first->status == 201);
    auto second = b.client()->Post("/api/conversations/" + id + "/messages",
                                   R"({"role":"assistant","content":"from b"})", "application/json");
    ASSERT_TRUE(second);
    ASSERT_EQ(second->status, 201) << second->body;
    EXPECT_EQ(body_of(second)["ordinal"], 1);

    json seen = body_of(a.client()->Get("/api/conversations/" + id));
    EXPECT_EQ(seen["title"], "shared");
    ASSERT_EQ(seen["messages"].size(), 2u);
    EXPECT_EQ(seen["messages"][0]["content"], "from a");
    EXPECT_EQ(seen["messages"][1]["content"], "from b");
    json listed = body_of(b.client()->Get("/api/conversations"));
    ASSERT_EQ(listed["data"].size(), 1u) << listed.dump();
    EXPECT_EQ(listed["data"][0]["id"], id);

    auto removed = b.client()->Delete("/api/conversations/" + id);
    ASSERT_TRUE(removed);
    EXPECT_LT(removed->status, 300);
    auto gone = a.client()->Get("/api/conversations/" + id);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->status, 404);
}

// Runs `duet serve` with these arguments and returns (exit status, everything it printed).
std::pair<int, std::string> run_serve(const std::string& args) {
    std::string command = duet_binary() + " serve -m stories=" + fixture("stories260K/stories260K.gguf") +
                          " --port 0 -t 1 " + args + " 2>&1";
    FILE* p = ::popen(command.c_str(), "r");
    std::string out;
    char buf[512];
    while (p && std::fgets(buf, sizeof buf, p)) out += buf;
    int status = p ? ::pclose(p) : -1;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(ServeReplicas, StoreFlagRefusesWhatIsNotAPostgresUrlAndAnUnreachableServer) {
    DUET_REQUIRE_FIXTURES();
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    auto [code, out] = run_serve("--store /tmp/duet.db");
    EXPECT_NE(code, 0);
    EXPECT_NE(out.find("not a postgres:// or postgresql:// URL"), std::string::npos) << out;
    std::tie(code, out) = run_serve("--store 'postgresql://duet:s3cret@/duet?host=/nonexistent-duet-dir&port=1'");
    EXPECT_NE(code, 0);
    EXPECT_NE(out.find("--store"), std::string::npos) << out;
    EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
    EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;  // the password never reaches the log
}

}  // namespace
}  // namespace duet::test
