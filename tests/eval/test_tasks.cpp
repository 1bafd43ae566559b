// test_tasks.cpp: the CSV reader (quotes, newlines, CRLF, BOM) and the C-Eval / HumanEval loaders' errors.
#include <gtest/gtest.h>

#include <string>

#include "eval/tasks.h"

namespace duet::eval {
namespace {

TEST(Csv, QuotedFieldsCommasNewlinesAndDoubledQuotes) {
    Result<std::vector<CsvRow>> rows = parse_csv(
        "\xEF\xBB\xBF"
        "a,b\r\n\"x, y\",\"say \"\"hi\"\"\nnext\"\n\nlast,\n",
        "t.csv");
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_EQ((*rows)[0].fields, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ((*rows)[1].fields, (std::vector<std::string>{"x, y", "say \"hi\"\nnext"}));
    EXPECT_EQ((*rows)[1].line, 2);
    EXPECT_EQ((*rows)[2].line, 5);
    EXPECT_EQ((*rows)[2].fields, (std::vector<std::string>{"last", ""}));
}

TEST(Csv, MalformedQuotesAreErrorsWithLines) {
    Result<std::vector<CsvRow>> open = parse_csv("a,b\n\"never closed,\n", "t.csv");
    ASSERT_FALSE(open.ok());
    EXPECT_EQ(open.status().message(), "t.csv:2: quoted field never closed");
    Result<std::vector<CsvRow>> stray = parse_csv("a,b\nab\"c,d\n", "t.csv");
    ASSERT_FALSE(stray.ok());
    EXPECT_EQ(stray.status().message(), "t.csv:2: stray quote inside an unquoted field");
}

TEST(MultipleChoice, ReadsCmmluLayoutWithoutIds) {
    Result<std::vector<MultipleChoice>> items =
        parse_multiple_choice_csv("Question,A,B,C,D,Answer\n1+1=?,1,2,3,4,B\n", "cmmlu.csv");
    ASSERT_TRUE(items.ok()) << items.status().message();
    ASSERT_EQ(items->size(), 1u);
    EXPECT_EQ((*items)[0].id, "0");
    EXPECT_EQ((*items)[0].answer, 'B');
}

TEST(MultipleChoice, BadRowsNameTheLine) {
    auto error = [](const std::string& text) {
        Result<std::vector<MultipleChoice>> r = parse_multiple_choice_csv(text, "c.csv");
        return r.ok() ? std::string("ok") : r.status().message();
    };
    EXPECT_EQ(error(""), "c.csv: empty file (expected a header row)");
    EXPECT_EQ(error("id,question,A,B,C\n"), "c.csv:1: header has no 'D' column");
    EXPECT_EQ(error("id,question,A,B,C,D,answer\n0,q,1,2,3,4,E\n"), "c.csv:2: answer 'E' is not one of A, B, C, D");
    EXPECT_EQ(error("id,question,A,B,C,D,answer\n0,q,1,2,3\n"), "c.csv:2: 5 fields, the header has 7");
    EXPECT_EQ(error("id,question,A,B,C,D,answer\n0,,1,2,3,4,A\n"), "c.csv:2: empty question");
    EXPECT_EQ(error("id,question,A,B,C,D,answer\n0,q,1,2,3,4,\n"), "ok");  // test split: no answer
}

TEST(HumanEval, ErrorsAndTheProgramLayout) {
    Result<std::vector<CodeTask>> bad = parse_humaneval_jsonl("{\"task_id\":\"x\"}\n", "h.jsonl");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().message(), "h.jsonl:1: missing string field 'prompt'");
    Result<std::vector<CodeTask>> garbage = parse_humaneval_jsonl("\n{oops\n", "h.jsonl");
    ASSERT_FALSE(garbage.ok());
    EXPECT_EQ(garbage.status().message(), "h.jsonl:2: not a JSON object");
    const CodeTask task{"T/0", "def f():\n", "    return 1\n", "def check(c):\n    assert c() == 1\n", "f"};
    EXPECT_EQ(humaneval_program(task, "    return 2\n"),
              "def f():\n    return 2\n\n\ndef check(c):\n    assert c() == 1\n\n\ncheck(f)\n");
}

}  // namespace
}  // namespace duet::eval
