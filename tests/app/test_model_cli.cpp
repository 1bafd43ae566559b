// test_model_cli.cpp: `duet make-model`, `duet logits`, `duet generate`, `duet bench` end to end via popen.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace {

struct RunResult {
    int exit_code = -1;
    std::string out;
};

// Runs `duet <args>` with stderr discarded; stdout captured.
RunResult run_duet(const std::string& args) {
    const std::string cmd = duet::test::duet_binary() + " " + args + " 2>/dev/null";
    RunResult r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class ModelCli : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!std::filesystem::exists(duet::test::duet_binary())) return;
        path_ = duet::test::temp_dir() + "/tiny-qwen2-q8_0.gguf";
        made_ = run_duet("make-model --preset tiny-qwen2 --type q8_0 --seed 3 -o " + path_);
    }
    void SetUp() override {
        if (!std::filesystem::exists(duet::test::duet_binary()))
            GTEST_SKIP() << "SKIPPED: duet binary not built at " << duet::test::duet_binary();
        ASSERT_EQ(made_.exit_code, 0);
    }
    static std::string path_;
    static RunResult made_;
};
std::string ModelCli::path_;
RunResult ModelCli::made_;

std::vector<std::vector<double>> rows_of(const nlohmann::json& j) {
    std::vector<std::vector<double>> rows;
    for (const auto& r : j) rows.push_back(r.get<std::vector<double>>());
    return rows;
}

TEST_F(ModelCli, MakeModelIsDeterministicPerSeed) {
    const std::string again = duet::test::temp_dir() + "/again.gguf";
    const std::string other = duet::test::temp_dir() + "/other.gguf";
    ASSERT_EQ(run_duet("make-model --preset tiny-qwen2 --type q8_0 --seed 3 -t 1 -o " + again).exit_code, 0);
    ASSERT_EQ(run_duet("make-model --preset tiny-qwen2 --type q8_0 --seed 4 -o " + other).exit_code, 0);
    const std::string a = duet::test::read_file(path_), b = duet::test::read_file(again),
                      c = duet::test::read_file(other);
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b);  // same seed, different thread count: same bytes
    EXPECT_EQ(a.size(), c.size());
    EXPECT_NE(a, c);
}

TEST_F(ModelCli, MakeModelRejectsBadArguments) {
    EXPECT_NE(run_duet("make-model --preset nope --type q8_0 -o /dev/null").exit_code, 0);
    EXPECT_NE(run_duet("make-model --preset tiny-llama --type q3_k -o /dev/null").exit_code, 0);
    EXPECT_NE(run_duet("make-model --preset tiny-llama --type q8_0").exit_code, 0);
}

TEST_F(ModelCli, LogitsSingleAndBatch) {
    auto single = run_duet("logits -m " + path_ + " --tokens 1,2,3 -t 1");
    ASSERT_EQ(single.exit_code, 0);
    auto js = nlohmann::json::parse(single.out);
    auto rows = rows_of(js["logits"]);
    ASSERT_EQ(rows.size(), 3u);
    for (const auto& r : rows) {
        ASSERT_EQ(r.size(), 512u);
        for (double v : r) ASSERT_TRUE(std::isfinite(v));
    }
    EXPECT_NE(rows[0], rows[1]);

    auto batch = run_duet("logits -m " + path_ + " --batch \"1,2,3;4,5\" -t 2");
    ASSERT_EQ(batch.exit_code, 0);
    auto jb = nlohmann::json::parse(batch.out);
    ASSERT_EQ(jb["logits"].size(), 2u);
    auto seq0 = rows_of(jb["logits"][0]);
    auto seq1 = rows_of(jb["logits"][1]);
    ASSERT_EQ(seq0.size(), 3u);
    ASSERT_EQ(seq1.size(), 2u);
    double worst = 0;
    for (size_t i = 0; i < 3; ++i)
        for (size_t k = 0; k < 512; ++k) worst = std::max(worst, std::fabs(seq0[i][k] - rows[i][k]));
    EXPECT_LT(worst, 1e-5);

    EXPECT_NE(run_duet("logits -m " + path_ + " --tokens 1,x").exit_code, 0);
    EXPECT_NE(run_duet("logits -m " + path_ + " --tokens 100000").exit_code, 0);
    EXPECT_NE(run_duet("logits -m /nonexistent.gguf --tokens 1").exit_code, 0);
}

TEST_F(ModelCli, GenerateGreedyJsonAgreesWithLogits) {
    auto gen = run_duet("generate -m " + path_ + " -p \"the cat\" -n 6 --temp 0 --kv-type f32 --json -t 1");
    ASSERT_EQ(gen.exit_code, 0) << gen.out;
    auto j = nlohmann::json::parse(gen.out);  // stdout holds the JSON object and nothing else
    const auto prompt = j["prompt_ids"].get<std::vector<int>>();
    const auto completion = j["completion_ids"].get<std::vector<int>>();
    ASSERT_FALSE(prompt.empty());
    ASSERT_FALSE(completion.empty());
    EXPECT_LE(completion.size(), 6u);
    EXPECT_TRUE(j["text"].is_string());

    // Greedy: every generated id is the argmax of the logits of the sequence so far.
    std::vector<int> seq = prompt;
    seq.insert(seq.end(), completion.begin(), completion.end() - 1);
    std::string ids;
    for (int id : seq) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    auto lg = run_duet("logits -m " + path_ + " --tokens " + ids + " -t 1");
    ASSERT_EQ(lg.exit_code, 0);
    auto rows = rows_of(nlohmann::json::parse(lg.out)["logits"]);
    for (size_t i = 0; i < completion.size(); ++i) {
        const auto& r = rows[prompt.size() - 1 + i];
        const int best = static_cast<int>(std::max_element(r.begin(), r.end()) - r.begin());
        EXPECT_EQ(completion[i], best) << "step " << i;
    }
}

TEST_F(ModelCli, GenerateSeededSamplingIsReproducible) {
    const std::string cmd = "generate -m " + path_ + " -p hello -n 8 --temp 1.0 --top-k 0 --top-p 1 --seed 11 --json";
    auto a = run_duet(cmd);
    auto b = run_duet(cmd);
    ASSERT_EQ(a.exit_code, 0);
    EXPECT_EQ(nlohmann::json::parse(a.out)["completion_ids"], nlohmann::json::parse(b.out)["completion_ids"]);
}

TEST_F(ModelCli, DemoPresetGeneratesWithBuiltInVocabulary) {
    const std::string demo = duet::test::temp_dir() + "/demo.gguf";
    ASSERT_EQ(run_duet("make-model --preset demo --type q8_0 --seed 1 -o " + demo).exit_code, 0);
    auto gen = run_duet("generate -m " + demo + " -p \"hello there\" -n 5 --temp 0 --json");
    ASSERT_EQ(gen.exit_code, 0);
    auto j = nlohmann::json::parse(gen.out);
    // "hello there" in a byte-level BPE with merges: fewer ids than bytes, none of them special.
    const auto prompt = j["prompt_ids"].get<std::vector<int>>();
    EXPECT_LT(prompt.size(), std::string("hello there").size());
    EXPECT_GT(prompt.size(), 0u);
}

TEST_F(ModelCli, MakeModelCopiesVocabulary) {
    if (duet::test::fixtures_dir().empty()) GTEST_SKIP() << "SKIPPED: shared fixtures not found";
    const std::string vocab = duet::test::fixture("vocab-derived/vocab-qwen2.5-instruct.derived.gguf");
    const std::string out = duet::test::temp_dir() + "/tiny-qwen-vocab.gguf";
    ASSERT_EQ(run_duet("make-model --preset tiny-qwen2 --type q4_0 --seed 2 --vocab " + vocab + " -o " + out).exit_code,
              0);
    // The real Qwen2.5 tokenizer: "Hello world" is two tokens (9707, 1879) and no BOS is added.
    auto gen = run_duet("generate -m " + out + " -p \"Hello world\" -n 2 --temp 0 --json");
    ASSERT_EQ(gen.exit_code, 0);
    auto j = nlohmann::json::parse(gen.out);
    EXPECT_EQ(j["prompt_ids"], nlohmann::json({9707, 1879}));
    EXPECT_LE(j["completion_ids"].size(), 2u);
}

TEST_F(ModelCli, MakeModelQ5KMUsesQ5KWithQ6KForOutputAndMoreBitsLayers) {
    const std::string out = duet::test::temp_dir() + "/tiny-qwen-q5km.gguf";
    ASSERT_EQ(run_duet("make-model --preset tiny-qwen2 --type q5_k_m --seed 2 -o " + out).exit_code, 0);
    auto info = run_duet("inspect " + out);
    ASSERT_EQ(info.exit_code, 0);
    EXPECT_NE(info.out.find("blk.0.attn_q.weight"), std::string::npos);
    // llama.cpp's rule: Q5_K, but Q6_K for output.weight (tied here: none) and attn_v / ffn_down of the "more
    // bits" layers (of 2 layers: layer 1, >= 7/8 of them)
    auto type_of = [&](const std::string& name) {
        const size_t at = info.out.find(name + " ");
        if (at == std::string::npos) return std::string("missing");
        const size_t b = info.out.find_first_not_of(' ', at + name.size());
        return info.out.substr(b, info.out.find(' ', b) - b);
    };
    EXPECT_EQ(type_of("blk.0.attn_q.weight"), "q5_K");
    EXPECT_EQ(type_of("blk.1.ffn_gate.weight"), "q5_K");
    EXPECT_EQ(type_of("blk.0.attn_v.weight"), "q5_K");
    EXPECT_EQ(type_of("blk.0.ffn_down.weight"), "q5_K");
    EXPECT_EQ(type_of("blk.1.attn_v.weight"), "q6_K");
    EXPECT_EQ(type_of("blk.1.ffn_down.weight"), "q6_K");
    auto gen = run_duet("generate -m " + out + " -p \"hello\" -n 3 --temp 0 --json");
    ASSERT_EQ(gen.exit_code, 0) << gen.out;
    EXPECT_EQ(nlohmann::json::parse(gen.out)["completion_ids"].size(), 3u);
}

TEST_F(ModelCli, BenchJson) {
    auto b = run_duet("bench -m " + path_ + " -p 16 -n 4 -t 1 -r 2 --json");
    ASSERT_EQ(b.exit_code, 0) << b.out;
    auto j = nlohmann::json::parse(b.out);
    ASSERT_EQ(j["results"].size(), 2u);
    EXPECT_EQ(j["results"][0]["n_prompt"], 16);
    EXPECT_EQ(j["results"][0]["n_gen"], 0);
    EXPECT_EQ(j["results"][1]["n_gen"], 4);
    for (const auto& r : j["results"]) {
        EXPECT_EQ(r["threads"], 1);
        EXPECT_GT(r["tokens_per_second"].get<double>(), 0.0);
        EXPECT_GE(r["stddev"].get<double>(), 0.0);
    }
    EXPECT_GT(j["weights_bytes_per_token"].get<double>(), 0.0);
    EXPECT_GT(j["read_bandwidth_gbs"].get<double>(), 0.0);
    EXPECT_FALSE(j["read_bandwidth_method"].get<std::string>().empty());  // which read loop reached it
    EXPECT_GT(j["peak_rss_bytes"].get<double>(), 0.0);
    EXPECT_GE(j["load_seconds"].get<double>(), 0.0);
    EXPECT_NE(run_duet("bench --url http://127.0.0.1:1").exit_code, 0);
}

}  // namespace
