// test_tokenizer_codec.cpp: the real TextCodec on vocab fixtures: chat templates (and the "plain" fallback), one
// BOS, R1's <think> split, stop strings in the streaming decoder.
#include <gtest/gtest.h>

#include "gguf/gguf.h"
#include "registry/tokenizer_codec.h"
#include "support/fixtures.h"

namespace duet::test {
namespace {

struct LoadedCodec {
    std::shared_ptr<gguf::GgufFile> file;
    std::shared_ptr<const registry::TextCodec> codec;
};

LoadedCodec load(const std::string& relative) {
    LoadedCodec out;
    auto file = gguf::GgufFile::open(fixture(relative));
    EXPECT_TRUE(file.ok()) << file.status().message();
    if (!file.ok()) return out;
    out.file = std::shared_ptr<gguf::GgufFile>(std::move(file).value());
    auto codec = registry::make_tokenizer_codec(*out.file, out.file);
    EXPECT_TRUE(codec.ok()) << codec.status().message();
    if (codec.ok()) out.codec = *codec;
    return out;
}

std::vector<registry::ChatMessage> user(const std::string& text) { return {{"user", text, ""}}; }

TEST(TokenizerCodec, DeepSeekR1TemplateOpensThinkAndSplitsReasoning) {
    DUET_REQUIRE_FIXTURES();
    auto r1 = load("vocab-derived/vocab-deepseek-r1-distill-qwen.derived.gguf");
    ASSERT_TRUE(r1.codec);
    auto ids = r1.codec->encode_chat(user("Hi"), true);
    ASSERT_TRUE(ids.ok()) << ids.status().message();
    const std::string text = r1.codec->decode(*ids);
    EXPECT_NE(text.find("Hi"), std::string::npos);
    EXPECT_NE(text.find("<think>"), std::string::npos) << text;
    ASSERT_GE(ids->size(), 2u);
    EXPECT_NE((*ids)[0], (*ids)[1]) << "BOS added twice";
    auto splitter = r1.codec->make_reasoning_splitter(*ids);
    ASSERT_TRUE(splitter);
    std::string reasoning, content;
    splitter->push("Let me think.</th", &reasoning, &content);
    splitter->push("ink>\n\nThe answer.", &reasoning, &content);
    splitter->flush(&reasoning, &content);
    EXPECT_EQ(reasoning, "Let me think.");
    EXPECT_EQ(content, "The answer.");
}

TEST(TokenizerCodec, Llama3HasOneBosAndNoReasoning) {
    DUET_REQUIRE_FIXTURES();
    auto llama = load("vocab-derived/vocab-llama3-instruct.derived.gguf");
    ASSERT_TRUE(llama.codec);
    auto ids = llama.codec->encode_chat(user("Hello"), true);
    ASSERT_TRUE(ids.ok());
    const std::string text = llama.codec->decode(*ids);
    EXPECT_EQ(text.rfind("<|begin_of_text|>", 0), 0u) << text;
    EXPECT_EQ(text.find("<|begin_of_text|>", 1), std::string::npos) << "BOS twice: " << text;
    EXPECT_FALSE(llama.codec->make_reasoning_splitter(*ids));
    // Stop strings: the decoder holds back a possible start and stops at the match.
    auto decoder = llama.codec->make_decoder({"world"});
    std::string shown;
    for (auto id : llama.codec->encode("hello world again", false, false)) shown += decoder->feed(id);
    shown += decoder->flush();
    EXPECT_TRUE(decoder->stopped());
    EXPECT_EQ(shown, "hello ");
}

TEST(TokenizerCodec, StoriesFallsBackToPlainTemplateWithBos) {
    DUET_REQUIRE_FIXTURES();
    auto stories = load("stories260K/stories260K.gguf");
    ASSERT_TRUE(stories.codec);
    auto ids = stories.codec->encode_chat(user("Once"), true);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ((*ids)[0], 1) << "SentencePiece BOS";
    const std::string text = stories.codec->decode(*ids);
    EXPECT_NE(text.find("Once"), std::string::npos) << text;
    EXPECT_NE(text.find("assistant:"), std::string::npos) << text;
}

}  // namespace
}  // namespace duet::test
