// test_script_stats.cpp: the script-statistics signal and the scan window.
#include <gtest/gtest.h>

#include <string>

#include "router/script_stats.h"
#include "router/text_scan.h"

namespace duet::router {
namespace {

TEST(ScriptStats, CountsEachClass) {
    const ScriptStats s = compute_script_stats("abc 你好 {x}=1; 😀 Привет");
    // a b c | 你 好 | { x } = 1 ; | 😀 | П р и в е т   (spaces are not counted)
    EXPECT_EQ(s.n_chars, 3 + 2 + 6 + 1 + 6);
    EXPECT_EQ(s.n_latin, 4);
    EXPECT_EQ(s.n_han, 2);
    EXPECT_EQ(s.n_code, 4);  // { } = ;
    EXPECT_EQ(s.n_digit, 1);
    EXPECT_EQ(s.n_emoji, 1);
    EXPECT_EQ(s.n_other_letter, 6);
    EXPECT_FLOAT_EQ(s.han_ratio(), 2.0f / 18.0f);
    EXPECT_EQ(s.n_letters(), 12);
}

TEST(ScriptStats, TraditionalAgainstSimplified) {
    const ScriptStats trad = compute_script_stats("佢哋話呢間嘢好食，我哋聽日再嚟，這個會點樣");
    EXPECT_GT(trad.n_traditional, 0);
    EXPECT_EQ(trad.n_simplified, 0);
    EXPECT_FLOAT_EQ(trad.traditional_share(), 1.0f);
    const ScriptStats simp = compute_script_stats("这个会怎么样，我们说说");
    EXPECT_EQ(simp.n_traditional, 0);
    EXPECT_GT(simp.n_simplified, 0);
    EXPECT_FLOAT_EQ(simp.traditional_share(), 0.0f);
}

TEST(ScriptStats, EmptyAndWhitespaceOnly) {
    for (const char* text : {"", "  \n\t　"}) {
        const ScriptStats s = compute_script_stats(text);
        EXPECT_EQ(s.n_chars, 0);
        EXPECT_EQ(s.han_ratio(), 0.0f);
        EXPECT_EQ(s.traditional_share(), 0.0f);
    }
}

TEST(ScanWindow, ShortMessagesAreReadWhole) {
    const ScanWindow w = make_scan_window("hello");
    EXPECT_EQ(w.text, "hello");
    EXPECT_FALSE(w.truncated);
    EXPECT_EQ(w.message_bytes, 5u);
}

TEST(ScanWindow, LongMessagesKeepHeadAndTailOnCharacterBoundaries) {
    std::string msg;
    while (msg.size() < 100000) msg += "中";  // 3-byte characters: cuts must not split one
    msg += "END";
    const ScanWindow w = make_scan_window(msg);
    EXPECT_TRUE(w.truncated);
    EXPECT_EQ(w.message_bytes, msg.size());
    EXPECT_LE(w.text.size(), kHeadBytes + kTailBytes + 1);
    EXPECT_EQ(w.text.substr(w.text.size() - 3), "END");
    const ScriptStats s = compute_script_stats(w.text);
    EXPECT_EQ(s.n_chars, s.n_han + 3);  // no U+FFFD from a split character
}

TEST(ScanWindow, DecodesAndRejectsUtf8) {
    const std::string text = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xff\xc3";
    size_t pos = 0;
    EXPECT_EQ(next_codepoint(text, &pos), 'a');
    EXPECT_EQ(next_codepoint(text, &pos), 0xE9u);
    EXPECT_EQ(next_codepoint(text, &pos), 0x4E2Du);
    EXPECT_EQ(next_codepoint(text, &pos), 0x1F600u);
    EXPECT_EQ(next_codepoint(text, &pos), 0xFFFDu);  // stray byte
    EXPECT_EQ(next_codepoint(text, &pos), 0xFFFDu);  // truncated sequence
    EXPECT_EQ(pos, text.size());
}

}  // namespace
}  // namespace duet::router
