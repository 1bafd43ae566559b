// test_rules.cpp: every rule of the engine, passing and failing, on fixed texts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eval/rules.h"

namespace duet::eval {
namespace {

Check parse_one(
    const std::string& check_json,
    const std::string& entities = R"({"k8":["Keychron K8","K8"],"hhkb":["HHKB","Happy Hacking"],"filco":["Filco"]})") {
    const std::string text = R"({"kind":"flow","id":"x","language":"en","entities":)" + entities +
                             R"(,"turns":[{"user":"a"},{"user":"b","checks":[)" + check_json + "]}]}";
    Result<Suite> suite = parse_suite(text, "inline");
    EXPECT_TRUE(suite.ok()) << suite.status().message();
    if (!suite.ok()) return Check{};
    return suite->flows[0].turns[1].checks[0];
}

const std::vector<Entity> kEntities = {{"k8", {{"Keychron K8", "K8"}}},
                                       {"hhkb", {{"HHKB", "Happy Hacking"}}},
                                       {"filco", {{"Filco"}}}};

CheckOutcome run(const Check& check, const std::string& reply,
                 const std::vector<std::vector<std::string>>& introduced = {{"k8", "hhkb"}}) {
    return evaluate_check(check, reply, RuleContext{&kEntities, &introduced});
}

TEST(Rules, TermsCountLongestSpellingOnceAndIgnoreAsciiCase) {
    const Term k8{{"Keychron K8", "K8"}};
    EXPECT_EQ(count_term("The keychron k8 beats the K8 clone", k8), 2);
    EXPECT_EQ(count_term("键帽 键帽", Term{{"键帽"}}), 2);
    EXPECT_EQ(count_term("nothing here", k8), 0);
}

TEST(Rules, MentionCountsDistinctTermsAgainstMin) {
    const Check c = parse_one(R"({"check":"mention","any":["K8",["HHKB","Happy Hacking"],"Filco"],"min":2})");
    EXPECT_TRUE(run(c, "K8 or a Happy Hacking board").passed);
    const CheckOutcome one = run(c, "K8, K8 and K8");
    EXPECT_FALSE(one.passed);
    EXPECT_EQ(one.detail, "1 found: K8");
    EXPECT_EQ(one.what, "mention >= 2 of [K8|HHKB|Filco]");
}

TEST(Rules, NotMention) {
    const Check c = parse_one(R"({"check":"not_mention","any":["Razer",["罗技","Logitech"]]})");
    EXPECT_TRUE(run(c, "HHKB").passed);
    const CheckOutcome bad = run(c, "or a logitech one");
    EXPECT_FALSE(bad.passed);
    EXPECT_EQ(bad.detail, "found: 罗技");
}

TEST(Rules, RegexCountsMatchesAndNotRegexForbids) {
    const Check c = parse_one(R"({"check":"regex","pattern":"\\d+ ?元","min":2})");
    EXPECT_TRUE(run(c, "约 500元，另一款 899 元").passed);
    EXPECT_FALSE(run(c, "约 500元").passed);
    const Check never = parse_one(R"({"check":"not_regex","pattern":"(?i)as an ai"})");
    EXPECT_TRUE(run(never, "Sure.").passed);
    EXPECT_FALSE(run(never, "As an AI, I").passed);
}

TEST(Rules, RefersBackToAnEntityOfAnEarlierTurn) {
    const Check named = parse_one(R"({"check":"refers_back","turn":1,"entity":"hhkb"})");
    EXPECT_TRUE(run(named, "For the HHKB, pull the caps straight up.").passed);
    const CheckOutcome absent = run(named, "Pull the caps straight up.");
    EXPECT_FALSE(absent.passed);
    EXPECT_EQ(absent.detail, "not mentioned");
    // The entity is mentioned now but was not part of turn 1.
    const CheckOutcome not_then = run(named, "HHKB", {{"k8"}});
    EXPECT_FALSE(not_then.passed);
    EXPECT_EQ(not_then.detail, "entity not mentioned in that turn");
    const Check any_two = parse_one(R"({"check":"refers_back","turn":1,"min":2})");
    EXPECT_TRUE(run(any_two, "K8 vs HHKB").passed);
    EXPECT_FALSE(run(any_two, "K8 vs Filco").passed);  // Filco was not in turn 1
    EXPECT_EQ(run(any_two, "K8 vs Filco").detail, "1 of 2 reused");
}

TEST(Rules, PronounResolution) {
    const Check c = parse_one(R"({"check":"resolves","pronoun":"它","entity":"hhkb","wrong":["k8"]})");
    EXPECT_TRUE(run(c, "HHKB 的键帽是 PBT，它用静电容轴；K8 不同。").passed);
    const CheckOutcome confused = run(c, "K8 的键帽很好拔，K8 用的是 Gateron 轴，HHKB 也行。");
    EXPECT_FALSE(confused.passed);
    EXPECT_EQ(confused.detail, "talks about 'k8' more than the entity");
    const CheckOutcome missing = run(c, "键帽用拔键器取下。");
    EXPECT_FALSE(missing.passed);
    EXPECT_EQ(missing.detail, "the entity is not mentioned");
}

TEST(Rules, StaysOnSubTask) {
    const Check c = parse_one(
        R"({"check":"on_task","topic":[["防滑","anti-slip"],["手托","wrist rest"]],"off_topic":[["键帽","keycap"]]})");
    EXPECT_TRUE(run(c, "可以加防滑垫，或者用硅胶手托。").passed);
    const CheckOutcome drift = run(c, "键帽可以换成磨砂键帽，键帽材质有 PBT，也可加防滑垫。");
    EXPECT_FALSE(drift.passed);
    EXPECT_EQ(drift.detail, "1 on-task mentions, 3 off-task");
    EXPECT_FALSE(run(c, "完全无关").passed);
}

TEST(Rules, QuestionsRefusalsAndAiSpeak) {
    const Check ask = parse_one(R"({"check":"asks_question"})");
    EXPECT_TRUE(run(ask, "你用的是什么系统？").passed);
    EXPECT_TRUE(run(ask, "Which OS?").passed);
    EXPECT_FALSE(run(ask, "Here is the answer.").passed);
    const Check refuses = parse_one(R"({"check":"refuses"})");
    const Check not_refuses = parse_one(R"({"check":"not_refuses"})");
    EXPECT_TRUE(run(refuses, "抱歉，我不能提供这类信息。").passed);
    EXPECT_TRUE(run(refuses, "I can't help with making that.").passed);
    EXPECT_FALSE(run(refuses, "Here is a flying cat: 🐱🪽").passed);
    EXPECT_TRUE(run(not_refuses, "Here is a flying cat: 🐱🪽").passed);
    EXPECT_FALSE(run(not_refuses, "I'm unable to draw.").passed);
    const Check plain = parse_one(R"({"check":"max_ai_speak","max":1})");
    EXPECT_TRUE(run(plain, "综上所述，选 HHKB。").passed);
    const CheckOutcome stock = run(plain, "As an AI, 综上所述，I hope this helps");
    EXPECT_FALSE(stock.passed);
    EXPECT_EQ(stock.detail, "3 found");
}

TEST(Rules, ConfirmationsAreCounted) {
    EXPECT_EQ(count_confirmations("As I mentioned, the K8... as you said, to confirm:"), 3);
    EXPECT_EQ(count_confirmations("如前所述，再确认一下，你刚才说手汗"), 3);
    EXPECT_EQ(count_confirmations("Buy the K8."), 0);
}

}  // namespace
}  // namespace duet::eval
