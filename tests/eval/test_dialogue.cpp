// test_dialogue.cpp: flow scores on fixed transcripts (the 5-step keyboard flow, good and bad answers), the
// flow runner with a scripted model, and the clarification loop with the simulated user.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eval/dialogue.h"

namespace duet::eval {
namespace {

// A compact version of the keyboard flow in evals/flows.jsonl, kept here so the test pins its own input.
const char* kKeyboardFlow =
    R"({"kind":"flow","id":"kbd","language":"zh","entities":{"k8":["Keychron K8","K8"],"hhkb":["HHKB"],"filco":["Filco","圣手"]},"turns":[)"
    R"({"user":"推荐三款适合程序员的机械键盘","checks":[{"check":"mention","any":["K8","HHKB","Filco"],"min":3}]},)"
    R"({"user":"对比一下前两款","checks":[{"check":"refers_back","turn":1,"min":2}]},)"
    R"({"user":"我买 HHKB 了。它的键帽怎么换？","checks":[{"check":"resolves","pronoun":"它","entity":"hhkb","wrong":["k8","filco"]},{"check":"on_task","topic":["键帽","拔键器"],"off_topic":["防滑"]}]},)"
    R"({"user":"我手汗多，有防滑的办法吗？","checks":[{"check":"on_task","topic":["防滑","手托"],"off_topic":["拔键器"]}]},)"
    R"({"user":"把上面的整理成购物清单","checks":[{"check":"refers_back","turn":3,"entity":"hhkb"},{"check":"mention","any":["拔键器","手托"],"min":2},{"check":"max_ai_speak","max":0}]}]})";

Flow keyboard_flow() {
    Result<Suite> suite = parse_suite(kKeyboardFlow, "inline");
    EXPECT_TRUE(suite.ok()) << suite.status().message();
    return suite.ok() ? suite->flows[0] : Flow{};
}

const std::vector<std::string> kGoodReplies = {
    "1. Keychron K8：无线，Mac/Win 切换。2. HHKB：静电容，布局紧凑。3. Filco 圣手二代：做工扎实。",
    "K8 价格更低、支持无线；HHKB 手感更好但要适应布局。",
    "HHKB 的键帽用拔键器垂直拔起，HHKB 的键帽是 PBT 材质。",
    "可以用硅胶手托，或者贴防滑贴。",
    "购物清单：HHKB 键盘、拔键器、硅胶手托。",
};

TEST(FlowScore, GoodTranscriptPassesEveryCheck) {
    const FlowScore s = score_flow(keyboard_flow(), kGoodReplies);
    EXPECT_EQ(s.checks_total, 8);
    EXPECT_EQ(s.checks_passed, 8);
    EXPECT_DOUBLE_EQ(s.task_coherence, 1.0);
    EXPECT_EQ(s.coreference_errors, 0);
    EXPECT_EQ(s.ai_speak, 0);
    EXPECT_EQ(s.confirmations, 0);
    // Reuses: turn 2 K8+HHKB, turn 3 HHKB (the user named it, the reply reuses it), turn 5 HHKB.
    EXPECT_EQ(s.turns[1].reused_entities, (std::vector<std::string>{"k8", "hhkb"}));
    EXPECT_EQ(s.turns[2].reused_entities, (std::vector<std::string>{"hhkb"}));
    EXPECT_TRUE(s.turns[3].reused_entities.empty());
    EXPECT_EQ(s.context_reuses, 4);
}

TEST(FlowScore, BadTranscriptLosesExactlyTheBrokenRules) {
    std::vector<std::string> bad = kGoodReplies;
    bad[0] = "推荐 Keychron K8 和 HHKB。";                                  // only two keyboards
    bad[2] = "K8 的键帽很好换，K8 用拔键器就行。";                          // 它 read as the K8
    bad[3] = "如前所述，拔键器可以拔键帽；也可以加防滑贴。拔键器很便宜。";  // drifts back to keycaps
    bad[4] = "综上所述，购物清单：HHKB、拔键器、手托。希望对你有帮助";
    const FlowScore s = score_flow(keyboard_flow(), bad);
    EXPECT_FALSE(s.turns[0].passed);
    EXPECT_TRUE(s.turns[1].passed);
    EXPECT_FALSE(s.turns[2].passed);
    EXPECT_FALSE(s.turns[3].passed);
    EXPECT_FALSE(s.turns[4].passed);
    EXPECT_EQ(s.coreference_errors, 1);
    EXPECT_EQ(s.turns[2].checks[0].detail, "the entity is not mentioned");
    EXPECT_EQ(s.turns[3].checks[0].detail, "1 on-task mentions, 2 off-task");
    EXPECT_EQ(s.confirmations, 1);
    EXPECT_EQ(s.ai_speak, 2);
    EXPECT_EQ(s.checks_passed, 8 - 4);         // failed: mention (turn 1), resolves (3), on_task (4), max_ai_speak (5)
    EXPECT_TRUE(s.turns[2].checks[1].passed);  // turn 3 is still about keycaps, just the wrong keyboard's
    EXPECT_DOUBLE_EQ(s.task_coherence, 1.0 / 5.0);
}

TEST(FlowScore, MissingRepliesFailTheirTurns) {
    const FlowScore s = score_flow(keyboard_flow(), {kGoodReplies[0], kGoodReplies[1]});
    EXPECT_EQ(s.checks_passed, 2);
    EXPECT_FALSE(s.turns[2].answered);
    EXPECT_EQ(s.turns[2].error, "no reply");
    EXPECT_EQ(s.turns[4].checks[0].detail, "no reply");
    EXPECT_DOUBLE_EQ(s.task_coherence, 2.0 / 5.0);
}

TEST(FlowRunner, SendsTheGrowingHistoryAndStopsAtAnError) {
    std::vector<size_t> history_sizes;
    const SendTurn model = [&](const std::vector<Message>& history) -> Result<std::string> {
        history_sizes.push_back(history.size());
        EXPECT_EQ(history.back().role, "user");
        if (history.size() == 5) return Status::unavailable("HTTP 503 from target");
        return kGoodReplies[history.size() / 2];
    };
    const FlowScore s = run_flow(keyboard_flow(), model);
    EXPECT_EQ(history_sizes, (std::vector<size_t>{1, 3, 5}));
    EXPECT_TRUE(s.turns[1].passed);
    EXPECT_EQ(s.turns[2].error, "HTTP 503 from target");
    EXPECT_FALSE(s.turns[3].answered);
}

const char* kClarify =
    R"({"kind":"clarify","id":"refund","language":"zh","style":"dialect","opening":"俺那个东西坏咧，咋整嘛","intent":"上周买的蓝牙耳机左耳没声音，想换货",)"
    R"("facts":[{"cues":["什么东西","哪个商品","产品"],"answer":"就是上礼拜买的蓝牙耳机"},{"cues":["问题","故障","怎么坏"],"answer":"左耳没声音"},{"cues":["退","换"],"answer":"想换个新的"}],)"
    R"("fallback":"你没听懂俺的意思。","checks":[{"check":"mention","any":["换货"]},{"check":"mention","any":["耳机"]}],"max_rounds":3})";

ClarifyDialogue clarify_dialogue() {
    Result<Suite> suite = parse_suite(kClarify, "inline");
    EXPECT_TRUE(suite.ok()) << suite.status().message();
    return suite.ok() ? suite->clarifications[0] : ClarifyDialogue{};
}

// A scripted model: replies in order, ignoring the history.
SendTurn scripted(std::vector<std::string> replies) {
    auto next = std::make_shared<size_t>(0);
    return [replies, next](const std::vector<Message>&) -> Result<std::string> {
        if (*next >= replies.size()) return Status::unavailable("script exhausted");
        return replies[(*next)++];
    };
}

TEST(Clarification, CountsRoundsUntilTheIntentIsMet) {
    const ClarifyResult r =
        run_clarification(clarify_dialogue(), scripted({"请问是什么东西坏了？", "耳机出了什么问题？",
                                                        "左耳没声音的话，可以申请换货，耳机寄回即可。"}));
    EXPECT_TRUE(r.satisfied);
    EXPECT_EQ(r.rounds, 2);
    ASSERT_EQ(r.transcript.size(), 6u);
    EXPECT_EQ(r.transcript[2].content, "就是上礼拜买的蓝牙耳机");
    EXPECT_EQ(r.transcript[4].content, "左耳没声音");
}

TEST(Clarification, AnswersTheFactTheQuestionTouchesFirst) {
    std::vector<bool> given;
    const ClarifyDialogue d = clarify_dialogue();
    EXPECT_EQ(simulated_user_reply(d, "是想退还是换？", given), "想换个新的");
    EXPECT_EQ(simulated_user_reply(d, "还有别的吗？", given), "就是上礼拜买的蓝牙耳机");   // next in order
    EXPECT_EQ(simulated_user_reply(d, "好的。", given), "你没听懂俺的意思。 左耳没声音");  // no question: fallback
    EXPECT_EQ(simulated_user_reply(d, "好的。", given), "你没听懂俺的意思。");             // nothing left to tell
}

TEST(Clarification, ImmediateAnswerIsZeroRounds) {
    const ClarifyResult r = run_clarification(clarify_dialogue(), scripted({"耳机坏了可以直接申请换货。"}));
    EXPECT_TRUE(r.satisfied);
    EXPECT_EQ(r.rounds, 0);
}

TEST(Clarification, CapEndsUnsatisfiedAndErrorsAreReported) {
    const ClarifyResult capped =
        run_clarification(clarify_dialogue(), scripted({"什么？", "什么？", "什么？", "什么？", "什么？"}));
    EXPECT_FALSE(capped.satisfied);
    EXPECT_EQ(capped.rounds, 3);
    EXPECT_EQ(capped.transcript.size(), 8u);  // opening, then 4 replies and 3 answers; ends on the 4th reply
    const ClarifyResult broken = run_clarification(clarify_dialogue(), scripted({"什么？"}));
    EXPECT_FALSE(broken.satisfied);
    EXPECT_EQ(broken.error, "script exhausted");
    EXPECT_EQ(broken.rounds, 1);
}

}  // namespace
}  // namespace duet::eval
