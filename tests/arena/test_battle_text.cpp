// test_battle_text.cpp: name masking (whole text and streamed piece by piece, every split point) and the
// language label.
#include <gtest/gtest.h>

#include "arena/battle_text.h"

namespace duet::arena {
namespace {

TEST(NameMask, MasksModelNamesAndFamiliesCaseInsensitively) {
    auto terms = mask_terms_for({"llama-3-8b-instruct", "my-r1"});
    EXPECT_EQ(mask_names("Hello! I am LLaMA, made by Meta.", terms), "Hello! I am [hidden], made by Meta.");
    EXPECT_EQ(mask_names("我是DeepSeek-R1，很高兴见到你", terms), "我是[hidden]-[hidden]，很高兴见到你");
    EXPECT_EQ(mask_names("我是通义千问", terms), "我是[hidden][hidden]");
    EXPECT_EQ(mask_names("served as my-r1 today", terms), "served as [hidden] today");
    // "instruct" is a generic part of a name: not masked on its own.
    EXPECT_EQ(mask_names("follow the instructions", terms), "follow the instructions");
}

TEST(NameMask, RespectsWordBoundaries) {
    auto terms = mask_terms_for({"phi"});
    EXPECT_EQ(mask_names("philosophy and phi", terms), "philosophy and [hidden]");
    EXPECT_EQ(mask_names("r10 r1 xr1", terms), "r10 [hidden] xr1");
}

TEST(NameMask, StreamedPiecesGiveTheSameTextAtEverySplit) {
    auto terms = mask_terms_for({"alpha-model"});
    const std::string text = "I am alpha-model (Alpha), not Qwen or r1; alphabet stays. 我是千问";
    const std::string expected = mask_names(text, terms);
    EXPECT_EQ(expected, "I am [hidden] ([hidden]), not [hidden] or [hidden]; alphabet stays. 我是[hidden]");
    for (size_t a = 0; a <= text.size(); ++a) {
        for (size_t b = a; b <= text.size(); b += 3) {
            NameMasker masker(terms);
            std::string shown = masker.feed(text.substr(0, a));
            shown += masker.feed(text.substr(a, b - a));
            shown += masker.feed(text.substr(b));
            shown += masker.finish();
            ASSERT_EQ(shown, expected) << "split at " << a << ", " << b;
        }
    }
}

TEST(NameMask, HoldsBackOnlyWhatCouldStillBecomeATerm) {
    NameMasker masker(mask_terms_for({"beta"}));
    EXPECT_EQ(masker.feed("Hello, I am Lla"), "Hello, I am ");
    EXPECT_EQ(masker.feed("ma"), "");  // "Llama" could still be "Llamas" (no mask then)
    EXPECT_EQ(masker.feed(", bye"), "[hidden], bye");
    EXPECT_EQ(masker.feed(" be"), " ");
    EXPECT_EQ(masker.finish(), "be");
}

TEST(Language, GuessesChineseEnglishOrNothing) {
    EXPECT_EQ(guess_language("你好，世界"), "zh");
    EXPECT_EQ(guess_language("explain 量子 please"), "zh");
    EXPECT_EQ(guess_language("Hello there"), "en");
    EXPECT_EQ(guess_language("12345 !?"), "");
    EXPECT_EQ(guess_language("café"), "en");
}

}  // namespace
}  // namespace duet::arena
