// test_streaming.cpp: StreamingDecoder holds back split UTF-8 and possible stop strings, and loses nothing.
#include <gtest/gtest.h>

#include "tokenizer/vocab_cache.h"

namespace duet::test {
namespace {

using tok::TokenId;

class Streaming : public ::testing::Test {
protected:
    void SetUp() override {
        if (fixtures_dir().empty()) GTEST_SKIP() << "SKIPPED: shared fixtures not found";
    }
    static std::string stream_all(tok::StreamingDecoder& d, const std::vector<TokenId>& ids,
                                  std::vector<std::string>* chunks = nullptr) {
        std::string out;
        for (TokenId id : ids) {
            std::string chunk = d.feed(id);
            if (chunks) chunks->push_back(chunk);
            out += chunk;
        }
        return out + d.flush();
    }
};

TEST_F(Streaming, HoldsBackSplitUtf8) {
    const tok::Tokenizer* t = cached_vocab("llama-spm");
    ASSERT_NE(t, nullptr);
    // "中" = E4 B8 AD as three byte tokens
    const TokenId b1 = *t->find_token("<0xE4>"), b2 = *t->find_token("<0xB8>"), b3 = *t->find_token("<0xAD>");
    tok::StreamingDecoder d(*t);
    EXPECT_EQ(d.feed(b1), "");
    EXPECT_EQ(d.feed(b2), "");
    EXPECT_EQ(d.feed(b3), "中");
    EXPECT_EQ(d.flush(), "");
    // 4-byte "😀" = F0 9F 98 80, one byte token at a time
    tok::StreamingDecoder emoji(*t);
    std::string out;
    for (const char* b : {"<0xF0>", "<0x9F>", "<0x98>"}) out += emoji.feed(*t->find_token(b));
    EXPECT_EQ(out, "");
    EXPECT_EQ(emoji.feed(*t->find_token("<0x80>")), "😀");
    // ED A0 would be a surrogate: invalid at once, not held back
    tok::StreamingDecoder surrogate(*t);
    EXPECT_EQ(surrogate.feed(*t->find_token("<0xED>")), "");
    EXPECT_EQ(surrogate.feed(*t->find_token("<0xA0>")), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_F(Streaming, FlushReplacesIncompleteBytes) {
    const tok::Tokenizer* t = cached_vocab("llama-spm");
    ASSERT_NE(t, nullptr);
    tok::StreamingDecoder d(*t);
    EXPECT_EQ(d.feed(*t->find_token("<0xE4>")), "");
    EXPECT_EQ(d.flush(), "\xEF\xBF\xBD");
    // an invalid byte in the middle is replaced at once, the valid text after it passes
    tok::StreamingDecoder d2(*t);
    EXPECT_EQ(d2.feed(*t->find_token("<0xFF>")), "\xEF\xBF\xBD");
    EXPECT_EQ(d2.feed(*t->find_token("<0x41>")), "A");
}

TEST_F(Streaming, ConcatenationEqualsDecode) {
    const tok::Tokenizer* t = cached_vocab("qwen2");
    ASSERT_NE(t, nullptr);
    const std::string text = "Grüße, 世界! 🙂👍🏽 emoji and κόσμε\n  code: int x = 42; // done\n";
    const auto ids = t->encode(text, false, false);
    tok::StreamingDecoder d(*t);
    std::vector<std::string> chunks;
    EXPECT_EQ(stream_all(d, ids, &chunks), text);
    for (const auto& c : chunks) EXPECT_EQ(tok::sanitize_utf8(c), c) << "chunk is not valid UTF-8";
    EXPECT_FALSE(d.stopped());
}

TEST_F(Streaming, StopStringIsNotReturned) {
    const tok::Tokenizer* t = cached_vocab("llama-bpe");
    ASSERT_NE(t, nullptr);
    const auto ids = t->encode("The answer is 42.\nUser: and more text", false, false);
    tok::StreamingDecoder d(*t, {"\nUser:"});
    std::string out;
    size_t fed = 0;
    for (TokenId id : ids) {
        out += d.feed(id);
        ++fed;
        if (d.stopped()) break;
    }
    EXPECT_TRUE(d.stopped());
    EXPECT_LT(fed, ids.size());
    EXPECT_EQ(out, "The answer is 42.");
    EXPECT_EQ(d.feed(ids.back()), "");
    EXPECT_EQ(d.flush(), "");
}

TEST_F(Streaming, StopPrefixHeldThenReleased) {
    const tok::Tokenizer* t = cached_vocab("llama-bpe");
    ASSERT_NE(t, nullptr);
    const TokenId st = t->encode("ST", false, false).at(0);
    tok::StreamingDecoder d(*t, {"STOP"});
    ASSERT_EQ(t->token_to_piece(st), "ST");
    EXPECT_EQ(d.feed(st), "");  // could be the start of "STOP"
    const auto ay = t->encode("ay", false, false);
    std::string rest;
    for (TokenId id : ay) rest += d.feed(id);
    EXPECT_EQ(rest, "STay");
    EXPECT_FALSE(d.stopped());
    // a stop string split across tokens and chunks is still found
    tok::StreamingDecoder d2(*t, {"STOP"});
    std::string out = d2.feed(t->encode("go", false, false).at(0));
    for (TokenId id : t->encode("ST", false, false)) out += d2.feed(id);
    for (TokenId id : t->encode("OP now", false, false)) out += d2.feed(id);
    EXPECT_TRUE(d2.stopped());
    EXPECT_EQ(out, "go");
    // end of stream releases a held prefix
    tok::StreamingDecoder d3(*t, {"STOP"});
    EXPECT_EQ(d3.feed(st), "");
    EXPECT_EQ(d3.flush(), "ST");
}

TEST_F(Streaming, SkipSpecial) {
    const tok::Tokenizer* t = cached_vocab("llama-bpe");
    ASSERT_NE(t, nullptr);
    tok::StreamingDecoder d(*t, {}, /*skip_special=*/true);
    EXPECT_EQ(d.feed(128009), "");
    tok::StreamingDecoder keep(*t);
    EXPECT_EQ(keep.feed(128009), "<|eot_id|>");
}

}  // namespace
}  // namespace duet::test
