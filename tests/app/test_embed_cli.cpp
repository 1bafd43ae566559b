// test_embed_cli.cpp: `duet make-model --preset tiny-bert` and `duet embed` end to end via popen, and `embed` on
// the reference-embeddings fixture against llama.cpp's vectors for the same texts.
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

// Runs `duet <args>`; stdout (and stderr when asked) captured.
RunResult run_duet(const std::string& args, bool with_stderr = false) {
    const std::string cmd = duet::test::duet_binary() + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
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

double norm(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x * x;
    return std::sqrt(s);
}

class EmbedCli : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(duet::test::duet_binary()))
            GTEST_SKIP() << "SKIPPED: duet binary not built at " << duet::test::duet_binary();
    }
};

TEST_F(EmbedCli, TinyBertPresetEmbedsTexts) {
    const std::string path = duet::test::temp_dir() + "/tiny-bert-f16.gguf";
    ASSERT_EQ(run_duet("make-model --preset tiny-bert --type f16 --seed 5 -o " + path).exit_code, 0);
    auto r = run_duet("embed -m " + path + " --json -t 2 -- 'hello world' '你好，世界' 'hello world'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["embeddings"].size(), 3u);
    const auto a = j["embeddings"][0].get<std::vector<double>>();
    const auto b = j["embeddings"][1].get<std::vector<double>>();
    const auto c = j["embeddings"][2].get<std::vector<double>>();
    ASSERT_EQ(a.size(), 64u);  // tiny-bert's n_embd
    EXPECT_NEAR(norm(a), 1.0, 1e-5);
    EXPECT_NEAR(norm(b), 1.0, 1e-5);
    EXPECT_EQ(a, c);  // same text, same vector, whatever else is in the batch
    EXPECT_NE(a, b);
    // the generated vocabulary has characters, not words: [CLS] ▁h e l l o ▁w o r l d [SEP] = 12 tokens;
    // [CLS] ▁你 ▁好 [UNK] (the full-width comma) ▁世 ▁界 [SEP] = 7
    EXPECT_EQ(j["n_tokens"].get<std::vector<int>>(), (std::vector<int>{12, 7, 12}));

    auto plain = run_duet("embed -m " + path + " -- 'hello world'");
    ASSERT_EQ(plain.exit_code, 0);
    EXPECT_EQ(std::count(plain.out.begin(), plain.out.end(), '\n'), 1);
    EXPECT_EQ(std::count(plain.out.begin(), plain.out.end(), ' '), 63);
}

TEST_F(EmbedCli, MatchesLlamaCppOnTheFixtureTexts) {
    DUET_REQUIRE_FIXTURES();
    const std::string base = duet::test::fixture("reference-embeddings/bert-tiny-mean-F32");
    const auto ref = nlohmann::json::parse(duet::test::read_file(base + ".json"));
    const auto& input = ref["inputs"][2];  // en_sentence: text tokenized by our WordPiece, then encoded
    ASSERT_EQ(input["name"], "en_sentence");
    auto r = run_duet("embed -m " + base + ".gguf --json -- '" + input["text"].get<std::string>() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["n_tokens"][0].get<int>(), input["n_tokens"].get<int>());
    const auto got = j["embeddings"][0].get<std::vector<double>>();
    const auto want = ref["embeddings"][2].get<std::vector<double>>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 3e-5) << i;
}

TEST_F(EmbedCli, RefusesDecodersAndBadArguments) {
    const std::string path = duet::test::temp_dir() + "/tiny-llama-embed.gguf";
    ASSERT_EQ(run_duet("make-model --preset tiny-llama --type q8_0 -o " + path).exit_code, 0);
    auto r = run_duet("embed -m " + path + " -- hi", true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("not an encoder"), std::string::npos) << r.out;
    EXPECT_NE(run_duet("embed -m " + path).exit_code, 0);  // no text
    EXPECT_NE(run_duet("embed -- hi").exit_code, 0);       // no model
}

TEST_F(EmbedCli, DecoderCommandsRefuseEncoders) {
    const std::string path = duet::test::temp_dir() + "/tiny-bert-q8_0.gguf";
    ASSERT_EQ(run_duet("make-model --preset tiny-bert --type q8_0 -o " + path).exit_code, 0);
    for (const std::string& cmd : {"generate -m " + path + " -p hi -n 2", "logits -m " + path + " --tokens 101,102",
                                   "bench -m " + path + " -p 8 -n 2 -r 1"}) {
        auto r = run_duet(cmd, true);
        EXPECT_EQ(r.exit_code, 1) << cmd;
        EXPECT_NE(r.out.find("error: model: a bert file is an encoder"), std::string::npos) << cmd << ": " << r.out;
    }
}

}  // namespace
