// test_study.cpp: the study summary (shares with Wilson intervals, one answer per participant and question)
// and the AI-speak counter.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arena/ai_speak.h"
#include "arena/study.h"

namespace duet::arena {
namespace {

TEST(AiSpeak, CountsListedPhrasesCaseInsensitively) {
    const AiSpeakCount c = count_ai_speak(
        "As an AI language model, I can't. as an ai, I HOPE THIS HELPS! 综上所述，"
        "根据我的分析，综上所述。");
    EXPECT_EQ(c.total, 6);
    ASSERT_EQ(c.phrases.size(), 5u);  // list order: 综上所述, 根据我的分析, As an AI, As an AI language model, ...
    EXPECT_EQ(c.phrases[0].phrase, "综上所述");
    EXPECT_EQ(c.phrases[0].count, 2);
    EXPECT_EQ(c.phrases[1].phrase, "根据我的分析");
    EXPECT_EQ(c.phrases[1].count, 1);
    EXPECT_EQ(c.phrases[2].phrase, "As an AI");
    EXPECT_EQ(c.phrases[2].count, 1);  // the other one is inside the longer phrase
    EXPECT_EQ(c.phrases[3].phrase, "As an AI language model");
    EXPECT_EQ(c.phrases[3].count, 1);
    EXPECT_EQ(c.phrases[4].phrase, "I hope this helps");
}

TEST(AiSpeak, PlainTextHasNone) {
    EXPECT_EQ(count_ai_speak("键帽可以用拔键器取下来。Use a keycap puller.").total, 0);
    EXPECT_EQ(count_ai_speak("").total, 0);
    EXPECT_EQ(count_ai_speak("x", {}).total, 0);
}

TEST(AiSpeak, CustomListAndNoOverlap) {
    const AiSpeakCount c = count_ai_speak("aaaa", {"aa"});
    EXPECT_EQ(c.total, 2);
}

TEST(Study, SharesWithWilsonIntervalsLikeTheSeedTable) {
    const std::vector<std::string> models = {"r1", "llama"};
    const std::vector<std::string> questions = {"keep", "understood", "too_ai"};
    std::vector<StudyAnswer> answers;
    for (int p = 0; p < 12; ++p) {
        const std::string who = "p" + std::to_string(p);
        answers.push_back({who, "keep", {p < 10 ? "r1" : "llama"}});  // 10 of 12 keep r1 (83%)
        std::vector<std::string> understood;
        if (p < 9) understood.push_back("r1");      // 75%
        if (p >= 7) understood.push_back("llama");  // 5 of 12 (42%); p7, p8 name both
        answers.push_back({who, "understood", understood});
    }
    for (int p = 0; p < 9; ++p) answers.push_back({"p" + std::to_string(p), "too_ai", {p < 7 ? "llama" : "r1"}});
    answers.push_back({"p0", "keep", {"r1"}});  // a repeated answer replaces the earlier one, counted once

    const std::vector<StudyFreeText> texts = {
        {"p0", "llama", "It kept saying As an AI and 综上所述."},
        {"p1", "llama", "综上所述 at the end of every answer"},
        {"p1", "r1", "felt natural"},
        {"p2", "gpt", "not in this study"},
    };
    const StudySummary s = summarize_study(models, questions, answers, texts);
    EXPECT_EQ(s.participants, 12);
    EXPECT_EQ(s.unknown_models, 1);
    ASSERT_EQ(s.questions.size(), 3u);

    const QuestionSummary& keep = s.questions[0];
    EXPECT_EQ(keep.respondents, 12);
    EXPECT_EQ(keep.models[0].model, "r1");
    EXPECT_EQ(keep.models[0].named, 10);
    EXPECT_NEAR(keep.models[0].share.estimate, 10.0 / 12.0, 1e-12);
    EXPECT_NEAR(keep.models[0].share.low, 0.5520, 5e-5);
    EXPECT_NEAR(keep.models[0].share.high, 0.9530, 5e-5);
    EXPECT_EQ(keep.models[1].named, 2);

    const QuestionSummary& understood = s.questions[1];
    EXPECT_EQ(understood.models[0].named, 9);
    EXPECT_EQ(understood.models[1].named, 5);
    EXPECT_NEAR(understood.models[0].share.estimate, 0.75, 1e-12);

    const QuestionSummary& too_ai = s.questions[2];
    EXPECT_EQ(too_ai.respondents, 9);
    EXPECT_EQ(too_ai.models[0].named, 2);
    EXPECT_EQ(too_ai.models[1].named, 7);

    ASSERT_EQ(s.ai_speak.size(), 2u);
    EXPECT_EQ(s.ai_speak[0].model, "r1");
    EXPECT_EQ(s.ai_speak[0].texts, 1);
    EXPECT_EQ(s.ai_speak[0].count.total, 0);
    EXPECT_EQ(s.ai_speak[1].texts, 2);
    EXPECT_EQ(s.ai_speak[1].count.total, 3);
    ASSERT_EQ(s.ai_speak[1].count.phrases.size(), 2u);
    EXPECT_EQ(s.ai_speak[1].count.phrases[0].phrase, "综上所述");  // first seen first
    EXPECT_EQ(s.ai_speak[1].count.phrases[0].count, 2);
    EXPECT_EQ(s.ai_speak[1].count.phrases[1].phrase, "As an AI");
}

TEST(Study, EmptyStudyHasZeroSharesAndUninformativeIntervals) {
    const StudySummary s = summarize_study({"a", "b"}, {"keep"}, {}, {});
    ASSERT_EQ(s.questions.size(), 1u);
    EXPECT_EQ(s.questions[0].respondents, 0);
    EXPECT_EQ(s.questions[0].models[0].share.estimate, 0.0);
    EXPECT_EQ(s.questions[0].models[0].share.high, 1.0);
    EXPECT_EQ(s.participants, 0);
}

TEST(Study, ModelNamedTwiceInOneAnswerCountsOnce) {
    const StudySummary s = summarize_study({"a"}, {"q"}, {{"p", "q", {"a", "a"}}}, {});
    EXPECT_EQ(s.questions[0].models[0].named, 1);
    EXPECT_EQ(s.questions[0].models[0].share.estimate, 1.0);
}

}  // namespace
}  // namespace duet::arena
