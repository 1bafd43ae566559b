// test_sse.cpp: the event-stream parser gives the same events however the bytes are split.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "openai/sse.h"

namespace duet::test {
namespace {

struct Seen {
    std::string event, data, raw;
};

std::vector<Seen> parse_in_pieces(const std::string& stream, const std::vector<size_t>& cuts) {
    openai::SseParser parser;
    std::vector<Seen> seen;
    size_t at = 0;
    std::vector<size_t> ends = cuts;
    ends.push_back(stream.size());
    for (size_t end : ends) {
        EXPECT_TRUE(parser.feed(std::string_view(stream).substr(at, end - at), [&](const openai::SseEvent& e) {
            seen.push_back({std::string(e.event), std::string(e.data), std::string(e.raw)});
            return true;
        }));
        at = end;
    }
    return seen;
}

const std::string kStream =
    "data: {\"a\":1}\n\n"
    ": keep-alive comment\n\n"
    "event: error\r\ndata: {\"error\":{}}\r\n\r\n"
    "data:first\ndata: second\n\n"
    "data: [DONE]\n\n";

void expect_standard_events(const std::vector<Seen>& seen) {
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[0].data, "{\"a\":1}");
    EXPECT_EQ(seen[0].raw, "data: {\"a\":1}\n");
    EXPECT_EQ(seen[0].event, "");
    EXPECT_EQ(seen[1].event, "error");
    EXPECT_EQ(seen[1].data, "{\"error\":{}}");
    EXPECT_EQ(seen[1].raw, "event: error\r\ndata: {\"error\":{}}\r\n");
    EXPECT_EQ(seen[2].data, "first\nsecond");
    EXPECT_EQ(seen[3].data, "[DONE]");
}

TEST(SseParser, WholeStream) { expect_standard_events(parse_in_pieces(kStream, {})); }

TEST(SseParser, EverySplitPointGivesTheSameEvents) {
    for (size_t cut = 1; cut < kStream.size(); ++cut) {
        SCOPED_TRACE(cut);
        expect_standard_events(parse_in_pieces(kStream, {cut}));
    }
}

TEST(SseParser, OneByteAtATime) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < kStream.size(); ++i) cuts.push_back(i);
    expect_standard_events(parse_in_pieces(kStream, cuts));
}

TEST(SseParser, IncompleteEventIsHeldBack) {
    openai::SseParser parser;
    int n = 0;
    EXPECT_TRUE(parser.feed("data: {\"a\":1}\n", [&](const openai::SseEvent&) { return ++n, true; }));
    EXPECT_EQ(n, 0);
    EXPECT_GT(parser.pending_bytes(), 0u);
    EXPECT_TRUE(parser.feed("\n", [&](const openai::SseEvent&) { return ++n, true; }));
    EXPECT_EQ(n, 1);
    EXPECT_EQ(parser.pending_bytes(), 0u);
}

TEST(SseParser, HandlerStopsTheParser) {
    openai::SseParser parser;
    int n = 0;
    EXPECT_FALSE(parser.feed("data: 1\n\ndata: 2\n\n", [&](const openai::SseEvent&) { return ++n, false; }));
    EXPECT_EQ(n, 1);
}

TEST(SseParser, OversizedEventIsRefused) {
    openai::SseParser parser;
    const std::string big(openai::SseParser::kMaxEventBytes + 1, 'x');
    EXPECT_FALSE(parser.feed("data: " + big, [](const openai::SseEvent&) { return true; }));
    EXPECT_TRUE(parser.too_large());
}

}  // namespace
}  // namespace duet::test
