// test_vocab_validation.cpp: every bad tokenizer value in a GGUF comes back as an error naming it, never a crash.
#include <gtest/gtest.h>

#include "tokenizer/tiny_vocab.h"

namespace duet::test {
namespace {

std::string load_error(const gguf::GgufWriter& w) {
    auto v = load_writer(w);
    return v->tokenizer.ok() ? std::string("<loaded>") : v->tokenizer.status().message();
}

TEST(VocabValidation, TinyVocabLoads) {
    auto v = load_writer(tiny_bpe_writer());
    ASSERT_TRUE(v->tokenizer.ok()) << v->tokenizer.status().message();
    EXPECT_EQ((*v->tokenizer)->n_vocab(), 264);
    EXPECT_EQ((*v->tokenizer)->kind(), tok::TokenizerKind::bpe);
}

TEST(VocabValidation, TokenizerOutlivesTheFile) {
    auto v = load_writer(tiny_bpe_writer());
    ASSERT_TRUE(v->tokenizer.ok());
    auto tokenizer = std::move(v->tokenizer).value();
    v.reset();  // file and its bytes are gone
    const auto ids = tokenizer->encode("hello<|end|>", false, true);
    EXPECT_EQ(ids.size(), 2u);
    EXPECT_EQ(tokenizer->decode(ids), "hello<|end|>");
}

TEST(VocabValidation, MissingModel) {
    gguf::GgufWriter w;
    w.set_array_string("tokenizer.ggml.tokens", {"a"});
    EXPECT_NE(load_error(w).find("tokenizer.ggml.model"), std::string::npos) << load_error(w);
}

TEST(VocabValidation, UnsupportedModelAndPre) {
    auto w = tiny_bpe_writer();
    w.set_string("tokenizer.ggml.model", "t5");
    EXPECT_NE(load_error(w).find("unsupported tokenizer.ggml.model 't5'"), std::string::npos) << load_error(w);
    w = tiny_bpe_writer();
    w.set_string("tokenizer.ggml.pre", "no-such-pre");
    EXPECT_NE(load_error(w).find("no-such-pre"), std::string::npos) << load_error(w);
}

TEST(VocabValidation, TokensMustBeStrings) {
    auto w = tiny_bpe_writer();
    w.set_array_i32("tokenizer.ggml.tokens", {1, 2, 3});
    EXPECT_NE(load_error(w).find("tokenizer.ggml.tokens"), std::string::npos) << load_error(w);
}

TEST(VocabValidation, ArrayLengthsMustMatchVocab) {
    auto w = tiny_bpe_writer();
    w.set_array_i32("tokenizer.ggml.token_type", {1, 1, 1});
    EXPECT_NE(load_error(w).find("token_type has 3 entries"), std::string::npos) << load_error(w);
    w = tiny_bpe_writer();
    w.set_array_f32("tokenizer.ggml.scores", {0.5f});
    EXPECT_NE(load_error(w).find("scores has 1 entries"), std::string::npos) << load_error(w);
}

TEST(VocabValidation, BadTokenTypeValue) {
    auto w = tiny_bpe_writer();
    std::vector<int32_t> types(264, 1);
    types[7] = 42;
    w.set_array_i32("tokenizer.ggml.token_type", types);
    EXPECT_NE(load_error(w).find("invalid token_type 42"), std::string::npos) << load_error(w);
}

TEST(VocabValidation, SpecialIdOutOfRange) {
    auto w = tiny_bpe_writer();
    w.set_u32("tokenizer.ggml.bos_token_id", 100000);
    EXPECT_NE(load_error(w).find("bos_token_id = 100000 out of range"), std::string::npos) << load_error(w);
    w = tiny_bpe_writer();
    w.set_u32("tokenizer.ggml.bos_token_id", 0xFFFFFFFFu);  // converters' "absent"
    EXPECT_EQ(load_error(w), "<loaded>");
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    EXPECT_NE(load_error(w).find("add_bos_token"), std::string::npos) << load_error(w);
}

TEST(VocabValidation, MalformedByteToken) {
    gguf::GgufWriter w;
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_array_string("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0xZZ>"});
    w.set_array_i32("tokenizer.ggml.token_type", {2, 3, 3, 6});
    EXPECT_NE(load_error(w).find("'<0xZZ>', expected <0xZZ>"), std::string::npos) << load_error(w);
}

TEST(VocabValidation, MergeWithoutSpaceAndMissingMerges) {
    auto w = tiny_bpe_writer();
    w.set_array_string("tokenizer.ggml.merges", {"a a", "ab"});
    EXPECT_NE(load_error(w).find("merge 1 'ab'"), std::string::npos) << load_error(w);
    gguf::GgufWriter no_merges;
    no_merges.set_string("tokenizer.ggml.model", "gpt2");
    no_merges.set_array_string("tokenizer.ggml.tokens", {"a", "b"});
    EXPECT_NE(load_error(no_merges).find("tokenizer.ggml.merges"), std::string::npos) << load_error(no_merges);
}

TEST(VocabValidation, DuplicateToken) {
    gguf::GgufWriter w;
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_array_string("tokenizer.ggml.tokens", {"<unk>", "a", "a"});
    EXPECT_NE(load_error(w).find("duplicate token 'a'"), std::string::npos) << load_error(w);
}

TEST(VocabValidation, EmptyVocab) {
    auto w = tiny_bpe_writer();
    w.set_array_string("tokenizer.ggml.tokens", {});
    EXPECT_NE(load_error(w).find("bad length"), std::string::npos) << load_error(w);
}

}  // namespace
}  // namespace duet::test
