// test_keywords.cpp: the keyword file parser (and its errors) and matching (words, boundaries, CJK, regexes).
#include <gtest/gtest.h>

#include <string>

#include "router/keywords.h"
#include "router/router.h"
#include "support/fixtures.h"

namespace duet::router {
namespace {

KeywordSet parse_ok(std::string_view text) {
    auto r = KeywordSet::parse(text, "k.txt");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : KeywordSet();
}

std::string parse_error(std::string_view text) {
    auto r = KeywordSet::parse(text, "k.txt");
    return r.ok() ? "(parsed)" : r.status().message();
}

std::vector<std::string> matched_patterns(const KeywordSet& set, std::string_view text) {
    std::vector<std::string> out;
    for (const auto& h : set.match(text).hits) out.push_back(set.entries()[h.entry].pattern);
    return out;
}

TEST(Keywords, ParsesFieldsCommentsAndBlankLines) {
    const KeywordSet set = parse_ok(
        "# a comment\n\n"
        "expert 1.5 tech word pull request\n"
        "  daily\t2\t东北话\tword\t咋整  \r\n"
        "expert 3 sql regex (?i)select\\s+\\w+\\s+from\n");
    ASSERT_EQ(set.entries().size(), 3u);
    EXPECT_EQ(set.entries()[0].pattern, "pull request");
    EXPECT_EQ(set.entries()[0].weight, 1.5f);
    EXPECT_EQ(set.entries()[0].line, 3);
    EXPECT_EQ(set.entries()[1].role, Role::daily);
    EXPECT_EQ(set.entries()[1].group, "东北话");
    EXPECT_EQ(set.entries()[1].pattern, "咋整");
    EXPECT_EQ(set.entries()[2].kind, KeywordKind::regex);
    EXPECT_EQ(set.entries()[2].line, 5);
}

TEST(Keywords, ErrorsNameFileLineAndReason) {
    EXPECT_EQ(parse_error("\nexpert 1 tech word\n"),
              "k.txt:2: expected 'ROUTE WEIGHT GROUP KIND PATTERN' (5 fields), got 'expert 1 tech word'");
    EXPECT_EQ(parse_error("expret 1 tech word api\n"), "k.txt:1: unknown route 'expret' (expected expert or daily)");
    EXPECT_EQ(parse_error("expert abc tech word api"), "k.txt:1: weight 'abc' is not a number in (0, 100]");
    EXPECT_EQ(parse_error("expert 0 tech word api"), "k.txt:1: weight '0' is not a number in (0, 100]");
    EXPECT_EQ(parse_error("expert 1e9 tech word api"), "k.txt:1: weight '1e9' is not a number in (0, 100]");
    EXPECT_EQ(parse_error("expert nan tech word api"), "k.txt:1: weight 'nan' is not a number in (0, 100]");
    EXPECT_EQ(parse_error("daily 1 x phrase 咋整"), "k.txt:1: unknown kind 'phrase' (expected word or regex)");
    EXPECT_EQ(parse_error("# ok\nexpert 1 x regex (unclosed"),
              "k.txt:2: regex error at offset 9: missing closing parenthesis");
    EXPECT_EQ(parse_error("daily 1 x word \xff\xfe"), "k.txt:1: invalid UTF-8");
}

TEST(Keywords, MissingFileIsAnError) {
    auto r = KeywordSet::load_file("/no/such/keywords.txt");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("/no/such/keywords.txt"), std::string::npos);
}

TEST(Keywords, WordsMatchCaseInsensitivelyOnWholeWords) {
    const KeywordSet set = parse_ok(
        "expert 1 tech word java\n"
        "expert 1 tech word javascript\n"
        "expert 1 tech word c++\n"
        "expert 1 tech word pull request\n");
    EXPECT_EQ(matched_patterns(set, "I love JavaScript"), (std::vector<std::string>{"javascript"}));
    EXPECT_EQ(matched_patterns(set, "JAVA, not javascripts"), (std::vector<std::string>{"java"}));
    EXPECT_EQ(matched_patterns(set, "modern C++20 and a Pull Request"),
              (std::vector<std::string>{"c++", "pull request"}));  // "c++" ends in '+': no right boundary needed
    EXPECT_TRUE(matched_patterns(set, "javajava").empty());
    EXPECT_TRUE(matched_patterns(set, "").empty());
}

TEST(Keywords, CjkWordsMatchInsideRunsAndOverlap) {
    const KeywordSet set = parse_ok(
        "daily 1.5 东北话 word 咋整\n"
        "daily 1 口语 word 咋\n"
        "daily 2 粤语 word 係\n"
        "expert 1 tech word api\n");
    const KeywordScores s = set.match("这事儿咋整啊，咋整都不对，你係咪傻API");
    ASSERT_EQ(s.hits.size(), 4u);
    EXPECT_FLOAT_EQ(s.daily, 4.5f);  // each entry counts once, however often it matches
    EXPECT_FLOAT_EQ(s.expert, 1.0f);
    EXPECT_EQ(s.hits[0].offset, std::string("这事儿").size());
}

TEST(Keywords, RegexesUseMultilineAndSurviveInvalidUtf8) {
    const KeywordSet set = parse_ok(
        "expert 3 shell regex ^\\s*(sudo|git)\\s\n"
        "expert 2 log regex \\bERROR\\b\n");
    EXPECT_EQ(matched_patterns(set, "看看这个：\n  sudo apt install x").size(), 1u);
    EXPECT_TRUE(matched_patterns(set, "I said sudo apt").empty());  // not at a line start
    EXPECT_EQ(matched_patterns(set, std::string("\xff\xfe ERROR: disk\xc3", 15)).size(), 1u);
    EXPECT_GT(set.memory_bytes(), 0u);
}

TEST(Keywords, ShippedListParses) {
    const std::string path = std::string(DUET_SOURCE_DIR) + "/data/router/keywords.txt";
    auto file = KeywordSet::load_file(path);
    ASSERT_TRUE(file.ok()) << file.status().message();
    EXPECT_GT(file->entries().size(), 300u);
    auto builtin = KeywordSet::parse(builtin_keywords_text(), "<built-in>");
    ASSERT_TRUE(builtin.ok()) << builtin.status().message();
    EXPECT_EQ(builtin->fingerprint(), file->fingerprint());  // the binary embeds the file in the tree
}

}  // namespace
}  // namespace duet::router
