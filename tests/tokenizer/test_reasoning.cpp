// test_reasoning.cpp: ReasoningSplitter on whole strings and on every possible chunking of them.
#include <gtest/gtest.h>

#include "tokenizer/reasoning.h"

namespace duet::test {
namespace {

using tok::ReasoningDelta;
using tok::ReasoningSplitter;

ReasoningDelta run(bool starts_in_reasoning, const std::vector<std::string>& chunks) {
    ReasoningSplitter s(starts_in_reasoning);
    ReasoningDelta all;
    for (const auto& c : chunks) {
        ReasoningDelta d = s.feed(c);
        all.reasoning += d.reasoning;
        all.content += d.content;
    }
    ReasoningDelta d = s.flush();
    all.reasoning += d.reasoning;
    all.content += d.content;
    return all;
}

// Every split of text into chunks of `size` bytes gives the same result.
void expect_all_chunkings(bool starts, const std::string& text, const std::string& reasoning,
                          const std::string& content) {
    for (size_t size = 1; size <= text.size(); ++size) {
        std::vector<std::string> chunks;
        for (size_t i = 0; i < text.size(); i += size) chunks.push_back(text.substr(i, size));
        const ReasoningDelta d = run(starts, chunks);
        EXPECT_EQ(d.reasoning, reasoning) << "chunk size " << size << " text '" << text << "'";
        EXPECT_EQ(d.content, content) << "chunk size " << size << " text '" << text << "'";
    }
}

TEST(Reasoning, ThinkThenAnswer) {
    expect_all_chunkings(false, "<think>\nLet me think.\n</think>\n\nThe answer is 4.", "Let me think.",
                         "The answer is 4.");
}

TEST(Reasoning, OpeningTagInPrompt) {
    expect_all_chunkings(true, "Okay, 2+2 is 4.\n</think>\n\n**4**", "Okay, 2+2 is 4.", "**4**");
    // the model repeating the opening tag does not leak it
    expect_all_chunkings(true, "<think>\nhmm</think>ok", "hmm", "ok");
}

TEST(Reasoning, NoReasoning) {
    expect_all_chunkings(false, "Just an answer <b>bold</b>", "", "Just an answer <b>bold</b>");
    expect_all_chunkings(false, "<thinking is not a tag", "", "<thinking is not a tag");
    ReasoningSplitter s(false);
    s.feed("plain");
    EXPECT_FALSE(s.saw_reasoning());
}

TEST(Reasoning, TagLookalikesInsideReasoning) {
    expect_all_chunkings(false, "<think>a </thin b </ c</think>done", "a </thin b </ c", "done");
}

TEST(Reasoning, UnterminatedReasoningStaysReasoning) {
    expect_all_chunkings(true, "still thinking", "still thinking", "");
    ReasoningSplitter s(true);
    EXPECT_TRUE(s.in_reasoning());
    const ReasoningDelta d = s.feed("abc </th");
    EXPECT_EQ(d.reasoning, "abc");  // " </th" is held back: it may become the closing tag
    EXPECT_TRUE(s.flush().reasoning == " </th");
}

TEST(Reasoning, StreamsBeforeTheEnd) {
    ReasoningSplitter s(false);
    EXPECT_TRUE(s.feed("<thi").empty());
    EXPECT_EQ(s.feed("nk>step one").reasoning, "step one");
    EXPECT_EQ(s.feed(" two").reasoning, " two");
    const ReasoningDelta d = s.feed("</think>Answer");
    EXPECT_EQ(d.reasoning, "");
    EXPECT_EQ(d.content, "Answer");
    EXPECT_FALSE(s.in_reasoning());
    EXPECT_TRUE(s.saw_reasoning());
}

}  // namespace
}  // namespace duet::test
