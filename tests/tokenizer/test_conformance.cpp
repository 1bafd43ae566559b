// test_conformance.cpp: exact ids against llama.cpp's tokenizer vectors, HF vectors and run.c, plus round trips.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "tokenizer/vocab_cache.h"

namespace duet::test {
namespace {

using tok::TokenId;

std::string ids_to_string(const std::vector<TokenId>& ids) {
    std::string s;
    for (TokenId id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
    return s;
}

struct LlamaCppCase {
    std::string text;
    std::vector<TokenId> ids;
};

// X.gguf.inp: strings each followed by "\n__ggml_vocab_test__\n"; X.gguf.out: one line of ids per string.
std::vector<LlamaCppCase> read_llamacpp_cases(const std::string& name) {
    const std::string inp = read_file(fixture("llamacpp-vocab/ggml-vocab-" + name + ".gguf.inp"));
    const std::string out = read_file(fixture("llamacpp-vocab/ggml-vocab-" + name + ".gguf.out"));
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<LlamaCppCase> cases;
    for (size_t pos = 0;;) {
        const size_t end = inp.find(sep, pos);
        if (end == std::string::npos) break;
        cases.push_back({inp.substr(pos, end - pos), {}});
        pos = end + sep.size();
    }
    std::istringstream lines(out);
    std::string line;
    for (auto& c : cases) {
        if (!std::getline(lines, line)) break;
        std::istringstream ids(line);
        TokenId id;
        while (ids >> id) c.ids.push_back(id);
    }
    return cases;
}

class LlamaCppVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaCppVectors, ExactIdsAndRoundTrip) {
    DUET_REQUIRE_FIXTURES();
    const std::string name = GetParam();
    std::string error;
    const tok::Tokenizer* tokenizer = cached_vocab(name, &error);
    ASSERT_NE(tokenizer, nullptr) << name << ": " << error;
    const auto cases = read_llamacpp_cases(name);
    ASSERT_GE(cases.size(), 40u) << name;
    int n_fail = 0;
    for (const auto& c : cases) {
        const auto ids = tokenizer->encode(c.text, /*add_special=*/false, /*parse_special=*/false);
        if (ids != c.ids) ++n_fail;
        EXPECT_EQ(ids_to_string(ids), ids_to_string(c.ids)) << name << " text: '" << c.text << "'";
        if (tokenizer->kind() != tok::TokenizerKind::wordpiece) {
            EXPECT_EQ(tokenizer->decode(ids), c.text) << name << " round trip";
        }
    }
    EXPECT_EQ(n_fail, 0) << name << ": " << n_fail << "/" << cases.size() << " strings differ";
}

INSTANTIATE_TEST_SUITE_P(Vocabs, LlamaCppVectors,
                         ::testing::Values("llama-bpe", "qwen2", "deepseek-r1-qwen", "gpt-2", "deepseek-coder",
                                           "deepseek-llm", "llama-spm", "phi-3", "bert-bge"),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& c : n)
                                 if (c == '-') c = '_';
                             return n;
                         });

// tokenizer-vectors/bpe_extra_vectors.json: HF ids with special tokens parsed inside the text.
class ExtraVectors : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(ExtraVectors, ExactIdsParseSpecial) {
    DUET_REQUIRE_FIXTURES();
    const auto& [json_name, vocab] = GetParam();
    std::string error;
    const tok::Tokenizer* tokenizer = cached_vocab(vocab, &error);
    ASSERT_NE(tokenizer, nullptr) << vocab << ": " << error;
    const auto doc = nlohmann::json::parse(read_file(fixture("tokenizer-vectors/bpe_extra_vectors.json")));
    const auto& cases = doc.at("tokenizers").at(json_name).at("cases");
    ASSERT_GE(cases.size(), 80u);
    for (const auto& c : cases) {
        const std::string text = c.at("text");
        const auto expected = c.at("ids").get<std::vector<TokenId>>();
        const auto ids = tokenizer->encode(text, false, /*parse_special=*/true);
        EXPECT_EQ(ids_to_string(ids), ids_to_string(expected)) << json_name << " text: '" << text << "'";
        if (c.at("roundtrip").get<bool>()) {
            EXPECT_EQ(tokenizer->decode(ids), text) << json_name << " round trip";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, ExtraVectors,
                         ::testing::Values(std::pair<std::string, std::string>{"llama3", "llama-bpe"},
                                           std::pair<std::string, std::string>{"qwen2.5", "qwen2"},
                                           std::pair<std::string, std::string>{"deepseek-r1-distill-qwen",
                                                                               "deepseek-r1-qwen"}),
                         [](const auto& info) {
                             std::string n = info.param.second;
                             for (char& c : n)
                                 if (c == '-') c = '_';
                             return n;
                         });

// stories260K/tok512_encode_runc.json: llama2.c run.c encode() (BOS + dummy prefix + score merges + bytes).
TEST(Stories260K, MatchesRunC) {
    DUET_REQUIRE_FIXTURES();
    std::string error;
    const tok::Tokenizer* tokenizer = cached_vocab("stories260K", &error);
    ASSERT_NE(tokenizer, nullptr) << error;
    EXPECT_EQ(tokenizer->kind(), tok::TokenizerKind::spm);
    const auto doc = nlohmann::json::parse(read_file(fixture("stories260K/tok512_encode_runc.json")));
    ASSERT_GE(doc.at("cases").size(), 40u);
    for (const auto& c : doc.at("cases")) {
        const std::string text = c.at("text");
        const auto expected = c.at("ids_with_bos").get<std::vector<TokenId>>();
        const auto ids = tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/false);
        EXPECT_EQ(ids_to_string(ids), ids_to_string(expected)) << "text: '" << text << "'";
        EXPECT_EQ(tokenizer->decode(ids, /*skip_special=*/true), text);
    }
}

}  // namespace
}  // namespace duet::test
