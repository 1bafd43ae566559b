// test_suite_loader.cpp: suite files parse into the expected structs, and every kind of bad input fails with
// file, line and reason before anything is sent.
#include <gtest/gtest.h>

#include <string>

#include "eval/suite.h"

namespace duet::eval {
namespace {

const char* kGoodSuite = R"(# a comment line, then a blank line

{"kind":"flow","id":"f1","language":"en","title":"t","entities":{"k8":["Keychron K8","K8"],"hhkb":["HHKB"]},"turns":[{"user":"recommend","checks":[{"check":"mention","any":["K8",["HHKB","Happy Hacking"]],"min":2}]},{"user":"it?","checks":[{"check":"resolves","pronoun":"it","entity":"hhkb","wrong":["k8"]},{"check":"refers_back","turn":1,"min":1},{"check":"regex","pattern":"(?i)keycap"}]}]}
{"kind":"clarify","id":"c1","language":"zh","style":"typos","opening":"我想退货","intent":"退耳机","facts":[{"cues":["订单"],"answer":"订单号 A1"}],"checks":[{"check":"mention","any":["退货"]}],"max_rounds":3}
)";

TEST(SuiteLoader, ParsesFlowsAndClarifications) {
    Result<Suite> suite = parse_suite(kGoodSuite, "good.jsonl");
    ASSERT_TRUE(suite.ok()) << suite.status().message();
    ASSERT_EQ(suite->flows.size(), 1u);
    const Flow& f = suite->flows[0];
    EXPECT_EQ(f.id, "f1");
    EXPECT_EQ(f.source, "good.jsonl:3");
    ASSERT_EQ(f.entities.size(), 2u);
    ASSERT_EQ(f.turns.size(), 2u);
    ASSERT_EQ(f.turns[0].checks.size(), 1u);
    EXPECT_EQ(f.turns[0].checks[0].kind, CheckKind::mention);
    EXPECT_EQ(f.turns[0].checks[0].min, 2);
    EXPECT_EQ(f.turns[0].checks[0].terms[1].spellings, (std::vector<std::string>{"HHKB", "Happy Hacking"}));
    EXPECT_EQ(f.turns[1].checks[0].kind, CheckKind::resolves);
    EXPECT_EQ(f.turns[1].checks[1].turn, 0);  // 1-based in the file
    EXPECT_NE(f.turns[1].checks[2].regex, nullptr);
    ASSERT_EQ(suite->clarifications.size(), 1u);
    EXPECT_EQ(suite->clarifications[0].max_rounds, 3);
    EXPECT_EQ(suite->clarifications[0].facts[0].answer, "订单号 A1");
}

void expect_error(const std::string& line, const std::string& expected) {
    const std::string text = "# header\n" + line + "\n";
    Result<Suite> suite = parse_suite(text, "bad.jsonl");
    ASSERT_FALSE(suite.ok()) << line;
    EXPECT_EQ(suite.status().message(), expected) << line;
}

const std::string kTurn = R"("turns":[{"user":"hi"}])";

TEST(SuiteLoader, BadLinesNameFileLineAndReason) {
    expect_error(R"({"kind":"flow","id":"x","language":"en",)",
                 "bad.jsonl:2: invalid JSON: [json.exception.parse_error.101] parse error at line 1, column 41: "
                 "syntax error while parsing object key - unexpected end of input; expected string literal");
    expect_error(R"([1,2])", "bad.jsonl:2: a line must hold one JSON object");
    expect_error(R"({"kind":"quiz","id":"x"})", "bad.jsonl:2: unknown kind 'quiz' (flow, clarify, longctx)");
    expect_error(R"({"kind":"flow","language":"en",)" + kTurn + "}", "bad.jsonl:2: missing field 'id'");
    expect_error(R"({"kind":"flow","id":7,"language":"en",)" + kTurn + "}",
                 "bad.jsonl:2: field 'id' must be a string, not number");
    expect_error(R"({"kind":"flow","id":"x","language":"en","turns":[]})",
                 "bad.jsonl:2: 'turns' must be a non-empty array");
    expect_error(R"({"kind":"flow","id":"x","language":"en","turns":[{"user":"a","checks":[{"check":"smell"}]}]})",
                 "bad.jsonl:2: turn 1: check 1: unknown check 'smell'");
    expect_error(
        R"({"kind":"flow","id":"x","language":"en","turns":[{"user":"a","checks":[{"check":"regex","pattern":"(ab"}]}]})",
        "bad.jsonl:2: turn 1: check 1: pattern /(ab/ does not compile: offset 3: missing closing parenthesis");
    expect_error(
        R"({"kind":"flow","id":"x","language":"en","entities":{"a":["A"]},"turns":[{"user":"a","checks":[{"check":"resolves","pronoun":"it","entity":"b"}]}]})",
        "bad.jsonl:2: turn 1: check 1: unknown entity 'b'");
    expect_error(
        R"({"kind":"flow","id":"x","language":"en","turns":[{"user":"a"},{"user":"b","checks":[{"check":"refers_back","turn":2}]}]})",
        "bad.jsonl:2: turn 2: check 1: refers_back turn 2 is not an earlier turn");
    expect_error(
        R"({"kind":"flow","id":"x","language":"en","turns":[{"user":"a","checks":[{"check":"mention","any":["a"],"min":2}]}]})",
        "bad.jsonl:2: turn 1: check 1: field 'min' = 2 is outside [1, 1]");
    expect_error(R"({"kind":"flow","id":"x","language":"en","probe":"vibes",)" + kTurn + "}",
                 "bad.jsonl:2: unknown probe 'vibes' (cold_start, false_premise, boundary, ai_speak)");
    expect_error(
        R"({"kind":"clarify","id":"c","language":"zh","opening":"o","intent":"i","facts":[{"cues":["x"],"answer":"y"}]})",
        "bad.jsonl:2: 'checks' must hold at least one check (how a good answer is recognised)");
}

TEST(SuiteLoader, DuplicateIdsAreRefused) {
    const std::string line = R"({"kind":"flow","id":"same","language":"en",)" + kTurn + "}";
    Result<Suite> suite = parse_suite(line + "\n" + line + "\n", "dup.jsonl");
    ASSERT_FALSE(suite.ok());
    EXPECT_EQ(suite.status().message(), "dup.jsonl:2: duplicate id 'same'");
}

TEST(SuiteLoader, MissingFileIsAnIoError) {
    Result<Suite> suite = load_suite("/nonexistent/suite.jsonl");
    ASSERT_FALSE(suite.ok());
    EXPECT_EQ(suite.status().code(), StatusCode::io_error);
    EXPECT_EQ(suite.status().message(), "/nonexistent/suite.jsonl: cannot open");
}

}  // namespace
}  // namespace duet::eval
