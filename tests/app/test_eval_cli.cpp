// test_eval_cli.cpp: `duet eval run` and `duet eval compare` end to end against a real `duet serve` on two
// generated demo models (no fixtures needed): every item answered, the reports written, a stopped run resumed from
// the cache with the same answers, a malformed suite refused before anything is sent; long context with the
// summarise-then-answer pipeline; `duet eval deploy --launch` timing load to ready and a new session.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "server/serve_process.h"
#include "support/fixtures.h"

namespace {

struct Ran {
    int exit_code = -1;
    std::string out;
};

// Runs `duet <args>`; stdout captured, and stderr too when `with_stderr`.
Ran run_duet(const std::string& args, bool with_stderr = false) {
    const std::string cmd = duet::test::duet_binary() + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
    Ran r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(EvalCli, RunsSuitesAgainstDuetServeAndResumes) {
    if (!std::filesystem::exists(duet::test::duet_binary())) GTEST_SKIP() << "SKIPPED: no duet binary";
    const std::string dir = duet::test::temp_dir() + "/eval-cli";
    std::filesystem::create_directories(dir);
    ASSERT_EQ(run_duet("make-model --preset demo --type q8_0 --seed 1 -o " + dir + "/a.gguf").exit_code, 0);
    ASSERT_EQ(run_duet("make-model --preset demo --type q8_0 --seed 2 -o " + dir + "/b.gguf").exit_code, 0);
    // Prompt log-likelihoods must not depend on what the server's prefix cache already held: on a CPU with AMX, a
    // prefill of 48+ tokens rounds to bf16 (kernels.h amx_active) and a warm cache leaves shorter prefills, so the
    // server runs without AMX here, as README's evals section advises for runs that must reproduce to the digit.
    setenv("DUET_AMX", "0", 1);
    duet::test::ServeProcess serve({"-m", "b=" + dir + "/b.gguf"}, "a", dir + "/a.gguf");
    unsetenv("DUET_AMX");
    ASSERT_TRUE(serve.ready()) << "duet serve did not become ready";
    const std::string url = "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1";
    const std::string evals = std::string(DUET_EVALS_DIR);
    const std::string common = "eval run --suite probes,ceval --evals-dir " + evals + " --target a=" + url +
                               "#a --target b=" + url + "#b --max-tokens 12 --concurrency 2 --out ";

    // Stopped after 5 items (exit 3: resumable), then rerun to the end.
    Ran stopped = run_duet(common + dir + "/run --stop-after 5");
    EXPECT_EQ(stopped.exit_code, 3);
    Ran resumed = run_duet(common + dir + "/run");
    ASSERT_EQ(resumed.exit_code, 0);
    const nlohmann::json results = nlohmann::json::parse(slurp(dir + "/run/results.json"));
    EXPECT_TRUE(results["complete"].get<bool>());
    ASSERT_EQ(results["targets"].size(), 2u);
    for (const auto& target : results["targets"]) {
        EXPECT_EQ(target["items"].size(), 14u + 8u);  // the shipped probes and C-Eval sample
        EXPECT_EQ(target["dimensions"]["items_failed"], 0);
        for (const auto& item : target["items"]) {
            EXPECT_FALSE(item.contains("error")) << item["id"] << ": " << item["error"];
            EXPECT_GE(item["transcript"].size(), 2u);
        }
        EXPECT_TRUE(target["dimensions"].contains("probe_pass_rate"));
        EXPECT_TRUE(target["dimensions"].contains("choice_accuracy"));
        EXPECT_EQ(target["choice_method"], "log-likelihood");  // duet serve echoes prompt logprobs
        EXPECT_GT(target["dimensions"]["ttft_p50_ms"].get<double>(), 0);
    }

    // One uninterrupted run answers the same (temperature 0, same seed): resuming changed nothing.
    ASSERT_EQ(run_duet(common + dir + "/fresh").exit_code, 0);
    const nlohmann::json fresh = nlohmann::json::parse(slurp(dir + "/fresh/results.json"));
    for (size_t t = 0; t < 2; ++t)
        for (size_t i = 0; i < fresh["targets"][t]["items"].size(); ++i)
            EXPECT_EQ(fresh["targets"][t]["items"][i]["transcript"], results["targets"][t]["items"][i]["transcript"]);

    const std::string html = slurp(dir + "/run/report.html");
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("<details>"), std::string::npos);
    EXPECT_NE(slurp(dir + "/run/report.md").find("| dimension | a | b |"), std::string::npos);

    Ran compare = run_duet("eval compare " + dir + "/run/results.json " + dir + "/fresh/results.json");
    ASSERT_EQ(compare.exit_code, 0);
    EXPECT_NE(compare.out.find("target a"), std::string::npos);
    EXPECT_NE(compare.out.find("probes passed"), std::string::npos);

    // A malformed suite: refused with file:line before any request (exit 1, no results written).
    std::ofstream(dir + "/bad.jsonl") << "{\"kind\":\"flow\"}\n";
    Ran bad = run_duet("eval run --suite " + dir + "/bad.jsonl --target a=" + url + " --out " + dir + "/bad", true);
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.out.find("bad.jsonl:1"), std::string::npos) << bad.out;
    EXPECT_FALSE(std::filesystem::exists(dir + "/bad/results.json"));
}

// A port nothing listens on right now (bound, read, released; the launched server takes it a moment later).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

// The first target's cell of a `duet eval deploy` row (labels 28 wide, cells 1 + 22).
std::string deploy_cell(const std::string& table, const std::string& label) {
    const size_t at = table.find("\n" + label);
    if (at == std::string::npos) return "no row " + label;
    std::string cell = table.substr(at + 1 + 28, 23);
    cell.erase(0, cell.find_first_not_of(' '));
    return cell;
}

// Long context against duet serve: every item answered (right or wrong: random weights), the pipeline reported as
// a third target, the report's long-context section present. Then `duet eval deploy --launch` starts duet serve
// itself: load to ready, RSS and new-session time are measured, and the server is gone afterwards.
TEST(EvalCli, LongContextPipelineAndDeployLaunchAgainstDuetServe) {
    if (!std::filesystem::exists(duet::test::duet_binary())) GTEST_SKIP() << "SKIPPED: no duet binary";
    const std::string dir = duet::test::temp_dir() + "/eval-cli-long";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    ASSERT_EQ(run_duet("make-model --preset demo --type q8_0 --seed 1 -o " + dir + "/a.gguf").exit_code, 0);
    ASSERT_EQ(run_duet("make-model --preset demo --type q8_0 --seed 2 -o " + dir + "/b.gguf").exit_code, 0);
    {
        duet::test::ServeProcess serve({"-m", "b=" + dir + "/b.gguf"}, "a", dir + "/a.gguf");
        ASSERT_TRUE(serve.ready()) << "duet serve did not become ready";
        const std::string url = "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1";
        std::ofstream(dir + "/long.jsonl")
            << R"({"kind":"longctx","id":"rooms","seed":2,"lengths":[200],"positions":[0,1],)"
               R"("filler":["The {room} was cleaned on {day}.","We ordered {number} pens."],)"
               R"("slots":{"room":["red room","blue room"],"day":["Monday","Friday"]},)"
               R"("fact":"The code of the {room} is {code}.","question":"What is the code of the {room}?",)"
               R"("answer":["code"]})"
               "\n";
        Ran run = run_duet("eval run --suite " + dir + "/long.jsonl --target big=" + url + "#a --target small=" + url +
                           "#b --pipeline big,small --chunk-tokens 100 --max-tokens 8 --out " + dir + "/run");
        ASSERT_EQ(run.exit_code, 0) << run.out;
        const nlohmann::json results = nlohmann::json::parse(slurp(dir + "/run/results.json"));
        ASSERT_EQ(results["targets"].size(), 3u);
        EXPECT_EQ(results["targets"][2]["name"], "pipeline:big>small");
        for (const auto& target : results["targets"]) {
            ASSERT_EQ(target["items"].size(), 2u);
            EXPECT_EQ(target["dimensions"]["items_failed"], 0);
            EXPECT_TRUE(target["dimensions"].contains("longctx_accuracy"));
        }
        for (const auto& item : results["targets"][2]["items"]) EXPECT_GE(item["scores"]["chunks"].get<double>(), 2);
        EXPECT_TRUE(results["targets"][2]["dimensions"].contains("longctx_summarise_seconds"));
        EXPECT_TRUE(std::filesystem::exists(dir + "/run/cache.sqlite"));
        const std::string html = slurp(dir + "/run/report.html");
        EXPECT_NE(html.find("Reference accuracy by document position"), std::string::npos);
        EXPECT_NE(html.find("Summarise-then-answer against direct answering"), std::string::npos);
    }

    const int port = free_port();
    ASSERT_GT(port, 0);
    const std::string origin = "http://127.0.0.1:" + std::to_string(port);
    Ran deploy = run_duet("eval deploy --requests 1 --max-tokens 4 --target a=" + origin +
                              "/v1 --launch 'a=" + duet::test::duet_binary() + " serve -m a=" + dir +
                              "/a.gguf -t 1 --port " + std::to_string(port) + " --data-dir " + dir + "/data'",
                          true);
    ASSERT_EQ(deploy.exit_code, 0) << deploy.out;
    EXPECT_NE(deploy_cell(deploy.out, "load to ready (s)"), "-") << deploy.out;
    EXPECT_NE(deploy_cell(deploy.out, "memory RSS (GB)"), "-") << deploy.out;
    EXPECT_NE(deploy_cell(deploy.out, "new session (s)"), "-") << deploy.out;
    EXPECT_NE(deploy_cell(deploy.out, "first token p50 (ms)"), "-") << deploy.out;
    EXPECT_EQ(deploy_cell(deploy.out, "requests failed"), "0/1") << deploy.out;
    // The launched server was stopped: nothing answers on its port any more.
    httplib::Client gone(origin);
    gone.set_connection_timeout(std::chrono::seconds(1));
    EXPECT_FALSE(gone.Get("/health"));
}

}  // namespace
