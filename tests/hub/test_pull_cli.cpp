// test_pull_cli.cpp: `duet pull` and `duet models list|show|rm` as a person runs them (the built binary, the fake
// hub through HF_ENDPOINT, the cache through DUET_MODELS_DIR).
#include <gtest/gtest.h>

#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "hub/fake_hub.h"
#include "hub/sha256.h"
#include "support/fixtures.h"

namespace duet::hub {
namespace {

namespace fs = std::filesystem;

struct Run {
    int exit_code = -1;
    std::string out;
};

// Runs `env ... duet ARGS`; stdout only, or stdout and stderr together.
Run run(const std::string& env, const std::string& args, bool with_stderr) {
    const std::string cmd =
        "env " + env + " " + test::duet_binary() + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
    Run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

TEST(PullCli, PullThenModelsListShowRm) {
    test::FakeHub hub;
    const std::string content = test::make_bytes(200 * 1024, 3);
    hub.add_file("acme/Tiny-GGUF", "tiny-Q4_K_M.gguf", content);
    hub.add_file("acme/Tiny-GGUF", "tiny-Q8_0.gguf", test::make_bytes(5000, 4));
    const std::string dir = test::temp_dir() + "/cli-cache";
    fs::remove_all(dir);
    const std::string env = "-u HF_TOKEN -u HF_HUB_OFFLINE HF_ENDPOINT=" + hub.base_url() + " DUET_MODELS_DIR=" + dir;

    auto pulled = run(env, "pull acme/Tiny-GGUF", false);
    ASSERT_EQ(pulled.exit_code, 0) << run(env, "pull acme/Tiny-GGUF", true).out;
    const std::string path = pulled.out.substr(0, pulled.out.find('\n'));
    EXPECT_EQ(test::read_file(path), content);
    auto q8 = run(env, "pull acme/Tiny-GGUF:q8_0", true);  // stderr too: the progress lines (not a TTY)
    ASSERT_EQ(q8.exit_code, 0) << q8.out;
    EXPECT_NE(q8.out.find("tiny-Q8_0.gguf 100.0%"), std::string::npos) << q8.out;
    EXPECT_NE(q8.out.find("verified (sha256 "), std::string::npos) << q8.out;

    auto list = run(env, "models list --json", false);
    ASSERT_EQ(list.exit_code, 0);
    const auto j = nlohmann::json::parse(list.out);
    ASSERT_EQ(j["models"].size(), 2u);
    EXPECT_EQ(j["models"][0]["name"], "acme/Tiny-GGUF:Q4_K_M");
    EXPECT_EQ(j["models"][0]["sha256"], sha256_hex(content));
    EXPECT_EQ(j["models"][1]["name"], "acme/Tiny-GGUF:Q8_0");
    auto table = run(env, "models list", false);
    EXPECT_NE(table.out.find("acme/Tiny-GGUF:Q8_0"), std::string::npos) << table.out;

    auto show = run(env, "models show acme/Tiny-GGUF:Q4_K_M", false);
    ASSERT_EQ(show.exit_code, 0);
    EXPECT_NE(show.out.find("sha256:    " + sha256_hex(content)), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("path:      " + path), std::string::npos) << show.out;

    auto ambiguous_rm = run(env, "models rm acme/Tiny-GGUF", true);
    EXPECT_EQ(ambiguous_rm.exit_code, 2) << ambiguous_rm.out;
    EXPECT_NE(ambiguous_rm.out.find("names 2 models"), std::string::npos) << ambiguous_rm.out;
    auto rm = run(env, "models rm acme/Tiny-GGUF:Q4_K_M", false);
    ASSERT_EQ(rm.exit_code, 0);
    EXPECT_FALSE(fs::exists(path));
    auto after = nlohmann::json::parse(run(env, "models list --json", false).out);
    ASSERT_EQ(after["models"].size(), 1u);
    EXPECT_EQ(after["models"][0]["quant"], "Q8_0");
    auto unknown = run(env, "models show acme/Tiny-GGUF:Q4_K_M", true);
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.out.find("error: 'acme/Tiny-GGUF:Q4_K_M' is not in the model cache"), std::string::npos)
        << unknown.out;
}

TEST(PullCli, OfflineFlagAndEnvironmentAndErrors) {
    test::FakeHub hub;
    hub.add_file("acme/Tiny-GGUF", "tiny-Q4_K_M.gguf", test::make_bytes(1000, 5));
    hub.require_token("hf_secret");
    const std::string dir = test::temp_dir() + "/cli-offline";
    fs::remove_all(dir);
    const std::string env = "-u HF_TOKEN -u HF_HUB_OFFLINE HF_ENDPOINT=" + hub.base_url() + " DUET_MODELS_DIR=" + dir;

    auto denied = run(env, "pull acme/Tiny-GGUF", true);
    EXPECT_EQ(denied.exit_code, 1);
    EXPECT_NE(denied.out.find("error: hub: listing acme/Tiny-GGUF: HTTP 401"), std::string::npos) << denied.out;
    auto miss = run(env, "pull --offline acme/Tiny-GGUF", true);
    EXPECT_EQ(miss.exit_code, 1);
    EXPECT_NE(miss.out.find("offline"), std::string::npos) << miss.out;
    ASSERT_EQ(run(env + " HF_TOKEN=hf_secret", "pull -q acme/Tiny-GGUF", false).exit_code, 0);
    hub.stop();
    auto offline = run(env + " HF_HUB_OFFLINE=1", "pull acme/Tiny-GGUF", true);
    EXPECT_EQ(offline.exit_code, 0) << offline.out;
    EXPECT_NE(offline.out.find("is in the cache"), std::string::npos) << offline.out;
    auto bad = run(env, "pull not-a-repo", true);
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.out.find("'not-a-repo'"), std::string::npos) << bad.out;
}

TEST(PullCli, ServeByNameResolvesThroughTheCache) {
    const std::string dir = test::temp_dir() + "/cli-serve";
    fs::remove_all(dir);
    const std::string model = test::temp_dir() + "/serve-by-name.gguf";
    ASSERT_EQ(run("", "make-model --preset tiny-qwen2 --type f32 --seed 1 -o " + model, false).exit_code, 0);
    test::FakeHub hub;
    hub.add_file("acme/Tiny-GGUF", "tiny-Q4_K_M.gguf", test::read_file(model));
    const std::string env = "-u HF_TOKEN -u HF_HUB_OFFLINE HF_ENDPOINT=" + hub.base_url() + " DUET_MODELS_DIR=" + dir;

    auto missing = run(env, "serve -m t=acme/Tiny-GGUF:Q4_K_M --port 0", true);  // not pulled yet
    EXPECT_EQ(missing.exit_code, 1) << missing.out;
    EXPECT_EQ(missing.out, "error: 'acme/Tiny-GGUF:Q4_K_M' is not in the model cache (" + dir +
                               "): run `duet pull acme/Tiny-GGUF:Q4_K_M` first\n");
    ASSERT_EQ(run(env, "pull -q acme/Tiny-GGUF", false).exit_code, 0);
    hub.stop();

    // `duet serve` in the background; the shell prints its pid, then serve prints the port it listens on.
    const std::string cmd = "env " + env + " " + test::duet_binary() +
                            " serve -m t=acme/Tiny-GGUF:Q4_K_M --port 0 -t 1 2>/dev/null & echo pid:$!; wait";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char line[256];
    int pid = 0, port = 0;
    while ((pid == 0 || port == 0) && std::fgets(line, sizeof line, p) != nullptr) {
        std::sscanf(line, "pid:%d", &pid);
        std::sscanf(line, "duet serve: listening on http://127.0.0.1:%d", &port);
    }
    ASSERT_GT(pid, 0);
    std::string models;
    if (port > 0) {
        httplib::Client client("127.0.0.1", port);
        client.set_read_timeout(30, 0);
        for (int i = 0; i < 600; ++i) {  // /health is 503 while the model loads
            auto health = client.Get("/health");
            if (health && health->status == 200) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        auto res = client.Get("/v1/models");
        if (res && res->status == 200) models = res->body;
    }
    ::kill(pid, SIGTERM);
    ::pclose(p);
    ASSERT_GT(port, 0);
    EXPECT_NE(models.find("\"id\":\"t\""), std::string::npos) << models;
}

}  // namespace
}  // namespace duet::hub
