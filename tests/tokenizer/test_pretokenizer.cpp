// test_pretokenizer.cpp: regex splitting: gaps kept, Unicode White_Space for \s, `$` only at the very end, errors.
#include <gtest/gtest.h>

#include "tokenizer/pretokenizer.h"

namespace duet::test {
namespace {

std::vector<std::string> split(const tok::PreTokenizer& pre, std::string_view text) {
    std::vector<std::string_view> words;
    pre.split(text, words);
    return {words.begin(), words.end()};
}

using Words = std::vector<std::string>;

TEST(PreTokenizer, GapsBetweenMatchesAreWords) {
    auto pre = tok::PreTokenizer::from_patterns({"[0-9]+"});
    ASSERT_TRUE(pre.ok());
    EXPECT_EQ(split(*pre, "ab12cd345"), (Words{"ab", "12", "cd", "345"}));
    EXPECT_EQ(split(*pre, ""), Words{});
}

TEST(PreTokenizer, WhiteSpaceIsUnicodeWhiteSpace) {
    auto pre = tok::PreTokenizer::from_patterns({"\\s+"});
    ASSERT_TRUE(pre.ok());
    // U+0085 (NEL) and U+00A0 (NBSP) are White_Space, as in Python/Rust regex; PCRE2's own \s misses NEL
    EXPECT_EQ(split(*pre,
                    "a\xC2\x85"
                    "b\xC2\xA0"
                    "c"),
              (Words{"a", "\xC2\x85", "b", "\xC2\xA0", "c"}));
    auto not_space = tok::PreTokenizer::from_patterns({"[^\\s]+"});
    ASSERT_TRUE(not_space.ok());
    EXPECT_EQ(split(*not_space, "x\xC2\x85y"), (Words{"x", "\xC2\x85", "y"}));
}

TEST(PreTokenizer, DollarOnlyAtTheEnd) {
    auto pre = tok::PreTokenizer::from_patterns({"\\s+$"});
    ASSERT_TRUE(pre.ok());
    EXPECT_EQ(split(*pre, "a \n"), (Words{"a", " \n"}));
    EXPECT_EQ(split(*pre, "a \nb"), (Words{"a \nb"}));
}

TEST(PreTokenizer, StagesSplitEachOthersPieces) {
    auto pre = tok::PreTokenizer::from_patterns({"[\r\n]", "\\p{N}"});
    ASSERT_TRUE(pre.ok());
    EXPECT_EQ(pre->n_stages(), 2u);
    EXPECT_EQ(split(*pre, "ab12\ncd"), (Words{"ab", "1", "2", "\n", "cd"}));
}

TEST(PreTokenizer, InvalidUtf8BytesAreKept) {
    auto pre = tok::PreTokenizer::for_name("llama-bpe");
    ASSERT_TRUE(pre.ok());
    const std::string text = "ok \xFF\xFE bad \xE4\xB8 cut";
    std::string joined;
    for (const auto& w : split(*pre, text)) joined += w;
    EXPECT_EQ(joined, text);
}

TEST(PreTokenizer, Llama3Contractions) {
    auto pre = tok::PreTokenizer::for_name("llama-bpe");
    ASSERT_TRUE(pre.ok());
    EXPECT_EQ(split(*pre, "I'M here 12345"), (Words{"I", "'M", " here", " ", "123", "45"}));
}

TEST(PreTokenizer, Errors) {
    EXPECT_FALSE(tok::PreTokenizer::from_patterns({"("}).ok());
    auto unknown = tok::PreTokenizer::for_name("gpt-5");
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.status().message().find("'gpt-5'"), std::string::npos);
    EXPECT_NE(unknown.status().message().find("qwen2"), std::string::npos);  // lists what is supported
    for (std::string_view name : tok::supported_pre_names())
        EXPECT_TRUE(tok::PreTokenizer::for_name(name).ok()) << name;
}

}  // namespace
}  // namespace duet::test
