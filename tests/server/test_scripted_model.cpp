// test_scripted_model.cpp: the scripted test model: script parsing (errors with file:line), rule choice, playback
// chunks and placeholders, and the served backend streaming through the engine API (pace, max_tokens, abort).
#include <gtest/gtest.h>

#include <chrono>

#include "server/scripted_model.h"

namespace duet::server::scripted {
namespace {

Script parse_ok(std::string_view text) {
    auto script = parse_script(text, "t.jsonl");
    EXPECT_TRUE(script.ok()) << script.status().message();
    return script.ok() ? std::move(script).value() : Script{};
}

registry::Serving scripted(std::string_view text) { return make_serving("s", parse_ok(text)); }

std::string parse_error(std::string_view text) {
    auto script = parse_script(text, "t.jsonl");
    EXPECT_FALSE(script.ok());
    return script.ok() ? "" : script.status().message();
}

TEST(ScriptedModel, PicksTheFirstMatchingRuleInOrder) {
    Script s = parse_ok(
        "# comment\n"
        "{\"contains\": \"hello\", \"reply\": \"hi\"}\n"
        "\n"
        "{\"match\": \"^edit(ed)?:\", \"reply\": \"edited\"}\n"
        "{\"default\": true, \"reply\": \"other\"}\n");
    ASSERT_EQ(s.rules.size(), 3u);
    EXPECT_EQ(s.pick("well hello there")->reply, "hi");
    EXPECT_EQ(s.pick("edited: x")->reply, "edited");
    EXPECT_EQ(s.pick("not edited: x")->reply, "other");
    EXPECT_EQ(s.rules[1].line, 4);
}

TEST(ScriptedModel, NoDefaultMeansNoRule) {
    Script s = parse_ok("{\"contains\": \"a\", \"reply\": \"x\"}");
    EXPECT_EQ(s.pick("bbb"), nullptr);
    EXPECT_EQ(playback(nullptr, {}, "m"), std::vector<std::string>{"(no scripted reply)"});
}

TEST(ScriptedModel, ErrorsNameFileLineAndReason) {
    const std::string not_json = parse_error("{\"default\": true, \"reply\": \"x\"}\n{oops");
    EXPECT_NE(not_json.find("t.jsonl:2: not JSON"), std::string::npos);
    EXPECT_NE(parse_error("{\"reply\": \"x\"}").find("t.jsonl:1: give exactly one of"), std::string::npos);
    EXPECT_NE(parse_error("{\"contains\": \"a\", \"default\": true, \"reply\": \"x\"}").find("exactly one"),
              std::string::npos);
    EXPECT_NE(parse_error("{\"default\": true}").find("'reply' is missing"), std::string::npos);
    EXPECT_NE(parse_error("{\"match\": \"(\", \"reply\": \"x\"}").find("t.jsonl:1: bad regex '('"), std::string::npos);
    EXPECT_NE(parse_error("{\"default\": true, \"reply\": \"x\", \"pace_ms\": -1}").find("'pace_ms'"),
              std::string::npos);
    EXPECT_NE(parse_error("{\"default\": true, \"reply\": \"x\", \"chunk\": 0}").find("'chunk'"), std::string::npos);
    EXPECT_NE(parse_error("{\"default\": true, \"reply\": 3}").find("'reply' must be a string"), std::string::npos);
    EXPECT_NE(parse_error("[1]").find("JSON object"), std::string::npos);
    EXPECT_NE(parse_error("# nothing\n\n").find("no rules"), std::string::npos);
    EXPECT_FALSE(load_script("/nonexistent/x.jsonl").ok());
}

TEST(ScriptedModel, ChunksAreWordsWithTheirSpacesOrFixedBytes) {
    EXPECT_EQ(split_chunks("Hello  big\nworld", 0), (std::vector<std::string>{"Hello  ", "big", "\nworld"}));
    EXPECT_EQ(split_chunks("abcdefg", 3), (std::vector<std::string>{"abc", "def", "g"}));
    EXPECT_TRUE(split_chunks("", 0).empty());
}

TEST(ScriptedModel, PlaybackFillsPlaceholdersAndWrapsReasoning) {
    Script s = parse_ok(
        "{\"default\": true, \"reply\": \"sys={{system}} user={{user}} model={{model}}\", "
        "\"reasoning\": \"hmm ok\", \"chunk\": 100}");
    Prompt with_system{"be brief", "hi there", true};
    std::string all;
    for (const auto& c : playback(s.pick("x"), with_system, "m1")) all += c;
    EXPECT_EQ(all, "<think>\nhmm ok\n</think>\n\nsys=be brief user=hi there model=m1");
    all.clear();
    for (const auto& c : playback(s.pick("x"), Prompt{"", "q", false}, "m1")) all += c;
    EXPECT_NE(all.find("sys=(none) user=q"), std::string::npos);
}

TEST(ScriptedModel, PromptRoundTripKeepsSystemAndLastUser) {
    std::vector<registry::ChatMessage> messages = {{"system", "S1", ""},
                                                   {"user", "first", ""},
                                                   {"assistant", "a", ""},
                                                   {"user", "second \x1e\x1f", ""}};
    Prompt p = decode_prompt(encode_prompt(messages));
    EXPECT_TRUE(p.has_system);
    EXPECT_EQ(p.system, "S1");
    EXPECT_EQ(p.last_user, "second   ");
    Prompt raw = decode_prompt("just text");
    EXPECT_FALSE(raw.has_system);
    EXPECT_EQ(raw.last_user, "just text");
}

// Drains a request through the backend's engine and decoder; returns the text and the finish reason.
std::pair<std::string, engine::FinishReason> run(const registry::Serving& backend, const std::string& user,
                                                 int32_t max_tokens, int* n_deltas = nullptr) {
    engine::RequestParams params;
    params.prompt = *backend.codec->encode_chat({{"user", user, ""}}, true);
    params.max_tokens = max_tokens;
    auto stream = backend.engine->submit(params);
    EXPECT_TRUE(stream.ok());
    auto decoder = backend.codec->make_decoder({});
    std::string text;
    for (int i = 0; i < 1000; ++i) {
        auto delta = (*stream)->next(5.0);
        if (!delta) break;
        if (n_deltas && !delta->tokens.empty()) ++*n_deltas;
        for (auto id : delta->tokens) text += decoder->feed(id);
        if (delta->finish != engine::FinishReason::none) return {text + decoder->flush(), delta->finish};
    }
    return {text, engine::FinishReason::none};
}

TEST(ScriptedModel, BackendStreamsOneDeltaPerChunk) {
    registry::Serving backend = scripted("{\"default\": true, \"reply\": \"one two three\", \"pace_ms\": 1}");
    int n_deltas = 0;
    auto [text, finish] = run(backend, "go", 100, &n_deltas);
    EXPECT_EQ(text, "one two three");
    EXPECT_EQ(finish, engine::FinishReason::stop);
    EXPECT_EQ(n_deltas, 3);
}

TEST(ScriptedModel, BackendStopsAtMaxTokens) {
    registry::Serving backend = scripted("{\"default\": true, \"reply\": \"abcdefghij\", \"pace_ms\": 0}");
    auto [text, finish] = run(backend, "go", 4);
    EXPECT_EQ(text, "abcd");
    EXPECT_EQ(finish, engine::FinishReason::length);
}

TEST(ScriptedModel, AbortEndsTheStreamWithAbort) {
    registry::Serving backend = scripted("{\"default\": true, \"reply\": \"a b c d e f\", \"pace_ms\": 200}");
    engine::RequestParams params;
    params.prompt = *backend.codec->encode_chat({{"user", "x", ""}}, true);
    params.max_tokens = 100;
    auto stream = backend.engine->submit(params);
    ASSERT_TRUE(stream.ok());
    EXPECT_EQ(backend.engine->stats().n_running, 1);
    backend.engine->abort((*stream)->id());
    auto delta = (*stream)->next(5.0);
    ASSERT_TRUE(delta.has_value());
    EXPECT_EQ(delta->finish, engine::FinishReason::abort);
    EXPECT_EQ(backend.engine->stats().n_running, 0);
}

TEST(ScriptedModel, ReasoningIsSplitOutByTheCodec) {
    registry::Serving backend =
        scripted("{\"default\": true, \"reply\": \"answer\", \"reasoning\": \"why\", \"pace_ms\": 0}");
    auto [text, finish] = run(backend, "go", 100);
    auto splitter = backend.codec->make_reasoning_splitter({});
    ASSERT_NE(splitter, nullptr);
    std::string reasoning, content;
    splitter->push(text, &reasoning, &content);
    splitter->flush(&reasoning, &content);
    EXPECT_EQ(reasoning, "why");
    EXPECT_EQ(content, "answer");
}

TEST(ScriptedModel, DecoderHoldsBackSplitUtf8) {
    registry::Serving backend = scripted("{\"default\": true, \"reply\": \"x\"}");
    auto decoder = backend.codec->make_decoder({"STOP"});
    const std::string euro = "\xE2\x82\xAC";
    EXPECT_EQ(decoder->feed(static_cast<unsigned char>(euro[0])), "");
    EXPECT_EQ(decoder->feed(static_cast<unsigned char>(euro[1])), "");
    EXPECT_EQ(decoder->feed(static_cast<unsigned char>(euro[2])), euro);
    std::string out;
    for (char c : std::string("abSTOPcd")) out += decoder->feed(static_cast<unsigned char>(c));
    EXPECT_EQ(out + decoder->flush(), "ab");
    EXPECT_TRUE(decoder->stopped());
}

}  // namespace
}  // namespace duet::server::scripted
