// test_eval_cli.cpp: `duet eval run` and `duet eval compare` end to end against a real `duet serve` on two
// generated demo models (no fixtures needed): every item answered, the reports written, a stopped run resumed from
// the cache with the same answers, a malformed suite refused before anything is sent.
#include <gtest/gtest.h>

#include <sys/wait.h>

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
    duet::test::ServeProcess serve({"-m", "b=" + dir + "/b.gguf"}, "a", dir + "/a.gguf");
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

}  // namespace
