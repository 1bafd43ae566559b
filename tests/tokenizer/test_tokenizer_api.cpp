// test_tokenizer_api.cpp: merge algorithm on a hand-made vocab, special tokens, BOS/EOS, EOG, decode options.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "support/threads.h"
#include "tokenizer/tiny_vocab.h"
#include "tokenizer/vocab_cache.h"

namespace duet::test {
namespace {

using tok::TokenId;

class TinyBpe : public ::testing::Test {
protected:
    static void SetUpTestSuite() { vocab_ = load_writer(tiny_bpe_writer()).release(); }
    static void TearDownTestSuite() {
        delete vocab_;
        vocab_ = nullptr;
    }
    const tok::Tokenizer& tokenizer() const { return **vocab_->tokenizer; }
    TokenId id(std::string_view text) const { return tokenizer().find_token(text).value_or(-1); }
    static OwnedVocab* vocab_;
};
OwnedVocab* TinyBpe::vocab_ = nullptr;

TEST_F(TinyBpe, MergesByRank) {
    ASSERT_TRUE(vocab_->tokenizer.ok()) << vocab_->tokenizer.status().message();
    EXPECT_EQ(tokenizer().encode("hello", false, false), (std::vector<TokenId>{id("hello")}));
    EXPECT_EQ(tokenizer().encode("hell", false, false), (std::vector<TokenId>{id("hell")}));
    // " hello": gpt-2 pre-tokenizer keeps the space with the word; "Ġ" + "hello" has no merge -> bytes + hello
    EXPECT_EQ(tokenizer().encode(" hello", false, false), (std::vector<TokenId>{id("\xC4\xA0"), id("hello")}));
    EXPECT_EQ(tokenizer().encode("aaaaa", false, false), (std::vector<TokenId>{id("aaaa"), id("a")}));
}

TEST_F(TinyBpe, LongWordIsLinearish) {
    // 200k bytes in one word: a quadratic merge loop would take minutes; the heap takes milliseconds.
    const std::string word(200000, 'a');
    const auto ids = tokenizer().encode(word, false, false);
    ASSERT_EQ(ids.size(), 50000u);
    for (TokenId t : ids) ASSERT_EQ(t, id("aaaa"));
    EXPECT_EQ(tokenizer().decode(ids), word);
}

TEST_F(TinyBpe, SpecialTokensOnlyWhenAsked) {
    const TokenId end = id("<|end|>"), think = id("<think>");
    EXPECT_EQ(tokenizer().encode("he<|end|>", false, true), (std::vector<TokenId>{id("he"), end}));
    const auto plain = tokenizer().encode("he<|end|>", false, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), end), 0);
    EXPECT_EQ(tokenizer().decode(plain), "he<|end|>");
    // user-defined tokens are always matched (HF added tokens; llama.cpp does the same)
    EXPECT_EQ(tokenizer().encode("<think>hello", false, false), (std::vector<TokenId>{think, id("hello")}));
}

TEST_F(TinyBpe, DecodeSkipsSpecialOnRequest) {
    const TokenId end = id("<|end|>");
    const std::vector<TokenId> ids = {id("hello"), end};
    EXPECT_EQ(tokenizer().decode(ids), "hello<|end|>");
    EXPECT_EQ(tokenizer().decode(ids, /*skip_special=*/true), "hello");
    EXPECT_EQ(tokenizer().token_to_piece(end), "<|end|>");
    EXPECT_EQ(tokenizer().token_to_piece(-5), "");
    EXPECT_EQ(tokenizer().decode(std::vector<TokenId>{-1, 99999, id("he")}), "he");  // bad ids are skipped
    EXPECT_TRUE(tokenizer().is_end_of_generation(end));
    EXPECT_FALSE(tokenizer().is_end_of_generation(id("he")));
    EXPECT_EQ(tokenizer().bos_id(), -1);
}

TEST_F(TinyBpe, InvalidUtf8SurvivesRoundTrip) {
    const std::string bytes = "\xFF\xFEhe\xC3";
    EXPECT_EQ(tokenizer().decode(tokenizer().encode(bytes, false, false)), bytes);
}

class RealVocabs : public ::testing::Test {
protected:
    void SetUp() override {
        if (fixtures_dir().empty()) GTEST_SKIP() << "SKIPPED: shared fixtures not found";
    }
};

TEST_F(RealVocabs, Llama3SpecialTokensAndEog) {
    const tok::Tokenizer* t = cached_vocab("llama-bpe");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->bos_id(), 128000);
    EXPECT_EQ(t->eos_id(), 128009);
    EXPECT_TRUE(t->add_bos());
    EXPECT_TRUE(t->is_end_of_generation(128009));  // <|eot_id|>
    EXPECT_TRUE(t->is_end_of_generation(128001));  // <|end_of_text|>
    const auto ids = t->encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", true, true);
    EXPECT_EQ(ids, (std::vector<TokenId>{128000, 128006, 882, 128007, 271, 13347, 128009}));
    const auto text_only = t->encode("<|eot_id|>", false, false);
    EXPECT_GT(text_only.size(), 1u);
    EXPECT_EQ(t->decode(text_only), "<|eot_id|>");
}

TEST_F(RealVocabs, LiteralSpansKeepControlTokensAsTextAndTheRestParsed) {
    const tok::Tokenizer* t = cached_vocab("llama-bpe");
    ASSERT_NE(t, nullptr);
    const std::string text = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>x<|eot_id|>";
    // Where the control tokens are.
    const auto spans = t->control_token_spans(text);
    ASSERT_EQ(spans.size(), 4u);
    EXPECT_EQ(text.substr(spans[2].begin, spans[2].end - spans[2].begin), "<|eot_id|>");
    // No literal span: as parse_special = true.
    EXPECT_EQ(t->encode_with_literals(text, false, {}), t->encode(text, false, true));
    // The first <|eot_id|> literal: it is the text tokens of "<|eot_id|>", everything else as before.
    const std::vector<tok::TextSpan> literal = {spans[2]};
    const auto ids = t->encode_with_literals(text, false, literal);
    const auto head = t->encode("<|start_header_id|>user<|end_header_id|>", false, true);
    const auto tail = t->encode("<|eot_id|>", false, true);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), 128009), 1) << "only the last <|eot_id|> is a control token";
    EXPECT_EQ(std::vector<TokenId>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(head.size())), head);
    EXPECT_EQ(ids.back(), tail[0]);
    EXPECT_EQ(t->decode(ids), text);
    // A span that only touches part of a marker also stops it being read as one.
    const std::vector<tok::TextSpan> partial = {{spans[3].begin + 2, spans[3].begin + 3}};
    const auto cut = t->encode_with_literals(text, false, partial);
    EXPECT_EQ(std::count(cut.begin(), cut.end(), 128009), 1);
}

TEST_F(RealVocabs, DeepSeekR1ThinkTokens) {
    const tok::Tokenizer* t = cached_vocab("deepseek-r1-qwen");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->find_token("<think>"), std::optional<TokenId>(151648));
    EXPECT_EQ(t->find_token("</think>"), std::optional<TokenId>(151649));
    EXPECT_FALSE(t->find_token("<no such token>").has_value());
    EXPECT_EQ(t->bos_id(), 151646);
    EXPECT_TRUE(t->is_end_of_generation(151643));  // <｜end▁of▁sentence｜>
    const auto ids = t->encode("<think>\nok</think>", true, true);
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(ids.front(), 151646);
    EXPECT_EQ(ids[1], 151648);
    EXPECT_EQ(ids.back(), 151649);
    EXPECT_EQ(t->decode(ids, /*skip_special=*/true), "<think>\nok</think>");  // user-defined tags stay
}

TEST_F(RealVocabs, QwenNfcAppliesToDecomposedAccents) {
    const tok::Tokenizer* t = cached_vocab("qwen2");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->encode("cafe\xCC\x81", false, false), t->encode("caf\xC3\xA9", false, false));
    EXPECT_FALSE(t->add_bos());
    EXPECT_EQ(t->eos_id(), 151645);
    EXPECT_TRUE(t->is_end_of_generation(151643));  // <|endoftext|>
}

TEST_F(RealVocabs, SpmBosAndLeadingSpace) {
    const tok::Tokenizer* t = cached_vocab("llama-spm");
    ASSERT_NE(t, nullptr);
    const auto ids = t->encode("Hello world", true, false);
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(ids[0], 1);
    EXPECT_EQ(t->token_to_piece(ids[1]), " Hello");
    EXPECT_EQ(t->decode(ids, true), "Hello world");
    EXPECT_EQ(t->decode(ids, false), "<s>Hello world");
    EXPECT_TRUE(t->encode("", false, false).empty());
    EXPECT_EQ(t->encode("", true, false), (std::vector<TokenId>{1}));
}

TEST_F(RealVocabs, WordPieceAddsClsSep) {
    const tok::Tokenizer* t = cached_vocab("bert-bge");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->kind(), tok::TokenizerKind::wordpiece);
    const auto ids = t->encode("Hello, WORLD!", true, false);
    ASSERT_GE(ids.size(), 4u);
    EXPECT_EQ(ids.front(), 101);
    EXPECT_EQ(ids.back(), 102);
    EXPECT_EQ(t->encode("Héllo", false, false), t->encode("hello", false, false));  // lower-case + accents
}

TEST_F(RealVocabs, WordCacheDoesNotChangeIds) {
    const tok::Tokenizer* t = cached_vocab("llama-bpe");
    ASSERT_NE(t, nullptr);
    const std::string text = "the cache the cache THE Cache, 1234567 the cache 你好你好 the\n\n  cache ";
    tok::set_bpe_word_cache_enabled(false);
    const auto cold = t->encode(text, false, false);
    tok::set_bpe_word_cache_enabled(true);
    const auto warm1 = t->encode(text, false, false);
    const auto warm2 = t->encode(text, false, false);  // served from the cache
    EXPECT_EQ(warm1, cold);
    EXPECT_EQ(warm2, cold);
    EXPECT_EQ(t->decode(warm2), text);
}

TEST_F(RealVocabs, ConcurrentEncodeIsDeterministic) {
    DUET_REQUIRE_THREADS();
    const tok::Tokenizer* t = cached_vocab("qwen2");
    ASSERT_NE(t, nullptr);
    const std::string text = "多线程 tokenization should give the same ids: 12345 + émoji 🙂 everywhere.\n";
    const auto expected = t->encode(text, false, false);
    std::vector<std::vector<TokenId>> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            for (int k = 0; k < 50; ++k) results[i] = t->encode(text, false, false);
        });
    for (auto& th : threads) th.join();
    for (const auto& r : results) EXPECT_EQ(r, expected);
}

}  // namespace
}  // namespace duet::test
