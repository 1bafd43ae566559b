// test_route_cli.cpp: `duet route`, `duet route eval` and `duet route fit` end to end: the built binary via popen.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

#include "support/fixtures.h"

namespace duet::test {
namespace {

struct RunResult {
    int exit_code = -1;
    std::string out;
};

// Runs `duet route ARGS` (ARGS already shell-quoted); stdout, or stderr too with 2>&1 in args.
RunResult run_route(const std::string& args) {
    RunResult r;
    const std::string cmd = "'" + duet_binary() + "' route " + args;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string data_file(const std::string& name) {
    return "'" + std::string(DUET_SOURCE_DIR) + "/data/router/" + name + "'";
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
}

TEST(RouteCli, JsonIsOneDecisionObjectOnOneLine) {
    const RunResult r = run_route("--json -- 'React hooks里useEffect的依赖数组到底咋写？'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    ASSERT_EQ(r.out.back(), '\n');
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1);
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["role"], "expert");
    EXPECT_EQ(j["mode"], "auto");
    EXPECT_TRUE(j["model"].is_null());
    EXPECT_GE(j["probability"].get<double>(), j["threshold"].get<double>());
    bool react = false;
    for (const auto& m : j["signals"]["keywords"]["matches"]) react = react || m["pattern"] == "react";
    EXPECT_TRUE(react);
    EXPECT_GT(j["signals"]["script"]["han_ratio"].get<double>(), 0.0);
    EXPECT_TRUE(j["signals"]["classifier"].contains("probability"));
    EXPECT_TRUE(j["signals"]["embedding"].is_null());
    EXPECT_TRUE(j["stickiness"].is_null());
    EXPECT_TRUE(j["latency_us"].is_number_integer());
}

TEST(RouteCli, ExplanationAndStickiness) {
    RunResult r = run_route("-- '老板让我写个周报，但我这周就改了个bug，咋写才显得忙？'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out.rfind("route: daily", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("写作:周报"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("classifier:"), std::string::npos);
    r = run_route("--json --conversation daily --cached-tokens 1500 -- 'Why does my Rust code not compile?'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["stickiness"]["previous"], "daily");
    EXPECT_EQ(j["stickiness"]["recompute_tokens"], 1500);
    EXPECT_EQ(j["role"], "expert");  // clear English technical evidence clears the margin
    EXPECT_EQ(j["stickiness"]["switched"], true);
}

TEST(RouteCli, EvalPrintsAccuracyConfusionCategoriesAndLatency) {
    const RunResult r = run_route("eval --data " + data_file("dev.jsonl"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out.rfind("messages: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("accuracy: "), std::string::npos);
    EXPECT_NE(r.out.find("confusion (rows: label, columns: routed)"), std::string::npos);
    EXPECT_NE(r.out.find("dialect-cantonese"), std::string::npos);
    EXPECT_NE(r.out.find("incidental-tech"), std::string::npos);
    EXPECT_NE(r.out.find("latency per decision: p50 "), std::string::npos);
}

TEST(RouteCli, FitRebuildsTheShippedModel) {
    const std::string out = temp_dir() + "/router.bin";
    const RunResult r =
        run_route("fit --data " + data_file("train.jsonl") + " --dev " + data_file("dev.jsonl") + " -o '" + out + "'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("reliability (dev)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("threshold: "), std::string::npos);
    EXPECT_TRUE(read_file(out) == read_file(std::string(DUET_SOURCE_DIR) + "/data/router/router.bin"));
}

TEST(RouteCli, Errors) {
    const std::string dir = temp_dir();
    write_file(dir + "/bad_keywords.txt", "# header\nexpert 1 tech word api\ndialy 1 x word 咋\n");
    RunResult r = run_route("--config '" + dir + "/bad_keywords.txt' -- hi 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "error: " + dir + "/bad_keywords.txt:3: unknown route 'dialy' (expected expert or daily)\n");
    write_file(dir + "/bad.jsonl",
               "{\"text\": \"hi\", \"label\": \"expert\"}\n{\"text\": \"x\", \"label\": \"maybe\"}\n");
    r = run_route("eval --data '" + dir + "/bad.jsonl' 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("bad.jsonl:2: \"label\" must be \"expert\" or \"daily\", got \"maybe\""), std::string::npos)
        << r.out;
    r = run_route("--embed-model " + data_file("train.jsonl") + " -- hi 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out.rfind("error: route: --embed-model: ", 0), 0u) << r.out;
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one error line";
    r = run_route("--bogus -- hi 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("unknown argument '--bogus'"), std::string::npos);
    r = run_route("--model /no/such/router.bin -- hi 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("/no/such/router.bin"), std::string::npos);
    r = run_route("fit --data " + data_file("train.jsonl") + " 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("-o ROUTER.bin is required"), std::string::npos);
}

TEST(RouteCli, EditedKeywordListWorksAndSaysTheModelWasFittedWithAnother) {
    const std::string path = temp_dir() + "/my_keywords.txt";
    write_file(path, "expert 5 mine word frobnicate\n");
    RunResult r = run_route("--config '" + path + "' -- 'please frobnicate the widget'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("mine:frobnicate"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("note:           the keyword list is not the one the model was fitted with"),
              std::string::npos);
    r = run_route("--config " + std::string("'") + DUET_SOURCE_DIR + "/data/router/keywords.txt' -- hi");
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.find("note:"), std::string::npos) << r.out;
}

TEST(RouteCli, EmbedModelAddsNearestExemplars) {
    const std::string model = temp_dir() + "/route-tiny-bert.gguf";
    const std::string make =
        "'" + duet_binary() + "' make-model --preset tiny-bert --type f32 -o '" + model + "' > /dev/null 2>&1";
    ASSERT_EQ(std::system(make.c_str()), 0) << "duet make-model --preset tiny-bert failed";
    const RunResult r = run_route("--embed-model '" + model + "' --json -- '周末去哪儿玩'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    const auto& e = j["signals"]["embedding"];
    ASSERT_TRUE(e.is_object()) << r.out;
    ASSERT_EQ(e["nearest"].size(), 5u);
    for (const auto& n : e["nearest"]) {
        EXPECT_TRUE(n["text"].is_string());
        EXPECT_LE(n["similarity"].get<double>(), 1.0001);
    }
    EXPECT_GE(e["nearest"][0]["similarity"].get<double>(), e["nearest"][4]["similarity"].get<double>());
    std::remove(model.c_str());
}

TEST(RouteCli, EmptyMessageRoutes) {
    const RunResult r = run_route("--json -- ''");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["role"], "daily");
    EXPECT_EQ(j["borderline"], true);
    EXPECT_EQ(j["message_bytes"], 0);
}

}  // namespace
}  // namespace duet::test
