// test_long_context.cpp: documents from seeded templates (deterministic, the requested length, the fact once at
// its position, filler never repeating the fact's entity), chunking, the answer check, the suite line's errors,
// the shipped long-context suite, and the direct / summarise-then-answer runs against a scripted server.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "eval/long_context.h"
#include "eval/runner.h"
#include "eval/scripted_server.h"
#include "support/fixtures.h"

namespace duet::eval {
namespace {

const char* kSpecLine =
    R"({"kind":"longctx","id":"rooms","language":"en","seed":5,"lengths":[300,600],"positions":[0,1],)"
    R"("filler":["The {room} was cleaned on {day}.","The code of the {room} is {code}.","We ordered {number} pens."],)"
    R"("slots":{"room":["red room","blue room","green room"],"day":["Monday","Friday"]},)"
    R"("fact":"The secret code of the {room} is {code}.","question":"What is the secret code of the {room}?",)"
    R"("answer":["code"]})";

LongContextSpec spec() {
    Result<LongContextSpec> s = parse_long_context_line(kSpecLine, "test:1");
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : LongContextSpec{};
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST(LongContext, EstimatesTokens) {
    EXPECT_EQ(estimate_tokens(""), 0);
    EXPECT_EQ(estimate_tokens("abcd"), 1);
    EXPECT_EQ(estimate_tokens("abcde"), 2);
    EXPECT_EQ(estimate_tokens("你好"), 2);
    EXPECT_EQ(estimate_tokens("ab你好"), 3);
}

TEST(LongContext, DocumentsAreSeededSizedAndHoldTheFactOnceAtItsPosition) {
    const LongContextSpec s = spec();
    const LongContextCase a = make_long_context_case(s, 600, 0.5, 7);
    const LongContextCase again = make_long_context_case(s, 600, 0.5, 7);
    const LongContextCase other_seed = make_long_context_case(s, 600, 0.5, 8);
    EXPECT_EQ(a.document, again.document);
    EXPECT_EQ(a.question, again.question);
    EXPECT_NE(a.document, other_seed.document);
    EXPECT_EQ(a.id, "rooms@600/50");
    ASSERT_EQ(a.expected.size(), 1u);
    EXPECT_EQ(a.expected[0].size(), 7u);  // "K7-4931"
    EXPECT_EQ(a.expected[0][2], '-');
    EXPECT_GE(a.length_tokens, 600);
    EXPECT_LT(a.length_tokens, 600 + 40);  // at most one filler sentence and the spaces over
    EXPECT_EQ(count(a.document, a.fact_sentence), 1u);
    EXPECT_EQ(count(a.document, a.expected[0]), 1u);  // the fact's code is nowhere else
    // The question names the fact's room; no filler sentence mentions that room.
    std::string room;
    for (const std::string r : {"red room", "blue room", "green room"})
        if (a.fact_sentence.find(r) != std::string::npos) room = r;
    ASSERT_FALSE(room.empty());
    EXPECT_EQ(count(a.document, room), 1u);
    EXPECT_NE(a.question.find(room), std::string::npos);
    // Distractors: other codes are in the filler.
    EXPECT_GE(count(a.document, "The code of the"), 1u);

    const LongContextCase first = make_long_context_case(s, 600, 0, 7);
    const LongContextCase last = make_long_context_case(s, 600, 1, 7);
    EXPECT_EQ(first.document.find(first.fact_sentence), 0u);
    EXPECT_EQ(last.document.size() - last.document.rfind(last.fact_sentence), last.fact_sentence.size());
    const size_t middle = a.document.find(a.fact_sentence);
    EXPECT_GT(middle, a.document.size() / 4);
    EXPECT_LT(middle, a.document.size() * 3 / 4);
}

TEST(LongContext, LengthsFollowTheContextWhenGiven) {
    const LongContextSpec s = spec();
    EXPECT_EQ(long_context_lengths(s, 0, 500), (std::vector<int>{300, 600}));
    EXPECT_EQ(long_context_lengths(s, 8192, 768), (std::vector<int>{1000, 2000, 4000, 7424}));
    EXPECT_EQ(long_context_lengths(s, 4768, 768), (std::vector<int>{1000, 2000, 4000}));
}

TEST(LongContext, ChunksSplitAtSentencesAndRebuildTheDocument) {
    const LongContextCase c = make_long_context_case(spec(), 600, 0.5, 1);
    const std::vector<std::string> chunks = split_into_chunks(c.document, 150);
    ASSERT_GE(chunks.size(), 4u);
    std::string joined;
    for (const std::string& chunk : chunks) {
        EXPECT_LE(estimate_tokens(chunk), 150);
        EXPECT_TRUE(chunk.back() == ' ' || chunk.back() == '\n' || chunk.back() == '.') << chunk;
        joined += chunk;
    }
    EXPECT_EQ(joined, c.document);
    const std::vector<std::string> zh = split_into_chunks("第一句。第二句！第三句？", 4);
    EXPECT_EQ(zh, (std::vector<std::string>{"第一句。", "第二句！", "第三句？"}));
    EXPECT_EQ(split_into_chunks("one. two. three.", 1000), (std::vector<std::string>{"one. two. three."}));
}

TEST(LongContext, AnswerCheckIgnoresCaseSpacesAndHyphens) {
    EXPECT_TRUE(long_context_answer_matches("The code is K7-4931.", {"K7-4931"}));
    EXPECT_TRUE(long_context_answer_matches("it's k7 4931", {"K7-4931"}));
    EXPECT_FALSE(long_context_answer_matches("K7-4932", {"K7-4931"}));
    EXPECT_FALSE(long_context_answer_matches("anything", {}));
    EXPECT_TRUE(long_context_answer_matches("密码是Q3-0042。", {"Q3-0042"}));
}

TEST(LongContext, BadLinesFailWithTheirPlaceAndReason) {
    const std::string base = kSpecLine;
    auto error = [&](const std::string& from, const std::string& to) {
        std::string line = base;
        const size_t at = line.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        line.replace(at, from.size(), to);
        Result<Suite> suite = parse_suite(line + "\n", "evals/x.jsonl");
        EXPECT_FALSE(suite.ok()) << line;
        return suite.ok() ? std::string() : suite.status().message();
    };
    EXPECT_EQ(error("{day}.", "{weekday}."),
              "evals/x.jsonl:1: filler: unknown slot '{weekday}' in \"The {room} "
              "was cleaned on {weekday}.\"");
    EXPECT_EQ(error("secret code of the {room}?", "code of {day}?"),
              "evals/x.jsonl:1: question: slot '{day}' is not in the fact");
    EXPECT_EQ(error("[\"code\"]", "[\"room2\"]"), "evals/x.jsonl:1: answer: slot 'room2' is not in the fact");
    EXPECT_EQ(error("[300,600]", "[30]"), "evals/x.jsonl:1: \"lengths\" must hold integers in [100, 1000000]");
    EXPECT_EQ(error("[0,1]", "[1.5]"), "evals/x.jsonl:1: \"positions\" must hold numbers in [0, 1]");
    EXPECT_EQ(error("[\"red room\",\"blue room\",\"green room\"]", "[\"red room\"]"),
              "evals/x.jsonl:1: slot 'room' is in the fact and the filler: it needs at least two values");
    EXPECT_EQ(error("\"language\":\"en\"", "\"language\":\"fr\""), "evals/x.jsonl:1: \"language\" must be en or zh");
    Result<Suite> ok = parse_suite(base + "\n", "x");
    ASSERT_TRUE(ok.ok()) << ok.status().message();
    EXPECT_EQ(ok->long_contexts.size(), 1u);
}

TEST(LongContext, ShippedSuiteMakesEveryLengthAndPositionInBothLanguages) {
    Result<Suite> suite = load_suite(std::string(DUET_EVALS_DIR) + "/longctx.jsonl");
    ASSERT_TRUE(suite.ok()) << suite.status().message();
    ASSERT_GE(suite->long_contexts.size(), 4u);
    std::set<std::string> languages;
    for (const LongContextSpec& s : suite->long_contexts) {
        languages.insert(s.language);
        for (int length : s.lengths)
            for (double position : s.positions) {
                const LongContextCase c = make_long_context_case(s, length, position, 0);
                EXPECT_GE(c.length_tokens, length) << c.id;
                EXPECT_EQ(count(c.document, c.fact_sentence), 1u) << c.id;
                EXPECT_EQ(count(c.document, c.expected[0]), 1u) << c.id;
                EXPECT_TRUE(long_context_answer_matches(c.fact_sentence, c.expected)) << c.id;
            }
    }
    EXPECT_EQ(languages, (std::set<std::string>{"en", "zh"}));
}

// A direct answer and the pipeline, scored exactly. The scripted server replies by the longest script key inside
// the last user message: "<document>\n" + fact (fact first) or fact + "\n</document>" (fact last) only match the
// direct prompt; the fact alone also matches the summarise prompt of the chunk that holds it.
TEST(LongContext, DirectAndSummariseThenAnswerAgainstAScriptedServer) {
    const std::string dir = test::temp_dir() + "/long_context_run";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string suite_path = dir + "/rooms.jsonl";
    std::ofstream(suite_path) << kSpecLine << "\n";

    test::ScriptedServer s;
    size_t expected_pipeline_requests = 0;
    const LongContextSpec sp = spec();
    for (int length : sp.lengths)
        for (double position : sp.positions) {
            const LongContextCase c = make_long_context_case(sp, length, position, 3);
            const std::string code = c.expected[0];
            // Direct: right at 300 tokens, wrong at 600.
            const std::string direct_key =
                position == 0 ? "<document>\n" + c.fact_sentence : c.fact_sentence + "\n</document>";
            s.script[direct_key] = length == 300 ? "It is " + code + "." : "I could not find it.";
            // The expert's summary of the chunk with the fact keeps the code; the daily target answers from it.
            s.script[c.fact_sentence] = "Summary: the secret code there is " + code + ".";
            s.script["Summary: the secret code there is " + code + "."] = "The code is " + code + ".";
            expected_pipeline_requests += split_into_chunks(c.document, 150).size() + 1;
        }
    s.start();

    RunOptions o;
    o.suites = {suite_path};
    o.targets = {{"expert", s.url(), "big"}, {"daily", s.url(), "small"}};
    o.pipeline_expert = "expert";
    o.pipeline_daily = "daily";
    o.chunk_tokens = 150;
    o.seed = 3;
    o.concurrency = 2;
    o.policy.read_timeout_seconds = 10;
    o.cache_path = dir + "/cache.sqlite";
    Result<RunResults> r = run_eval(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_TRUE(r->complete);
    ASSERT_EQ(r->targets.size(), 3u);
    for (int t = 0; t < 2; ++t) {
        const TargetResults& direct = r->targets[t];
        ASSERT_EQ(direct.items.size(), 4u);
        EXPECT_EQ(direct.dimensions.at("longctx_accuracy"), 0.5);
        EXPECT_EQ(direct.dimensions.count("longctx_summarise_seconds"), 0u);
        for (const ItemResult& item : direct.items) {
            EXPECT_EQ(item.kind, "longctx");
            EXPECT_EQ(item.passed, item.scores.at("length_tokens") < 600) << item.id;
            ASSERT_EQ(item.transcript.size(), 2u);
            EXPECT_NE(item.transcript[0].content.find("[document of ~"), std::string::npos);
            EXPECT_LT(item.transcript[0].content.size(), 400u);  // the document is not copied into reports
            // The target's own count of the prompt (the scripted server: one token per byte).
            const LongContextCase c =
                make_long_context_case(sp, int(item.scores.at("length")), item.scores.at("position"), 3);
            EXPECT_EQ(item.scores.at("prompt_tokens"), double(direct_prompt(c).size())) << item.id;
            EXPECT_EQ(item.calls.at(0).prompt_tokens, int(direct_prompt(c).size())) << item.id;
        }
    }
    const TargetResults& pipeline = r->targets[2];
    EXPECT_EQ(pipeline.name, "pipeline:expert>daily");
    ASSERT_EQ(pipeline.items.size(), 4u);
    EXPECT_EQ(pipeline.dimensions.at("longctx_accuracy"), 1);
    EXPECT_GE(pipeline.dimensions.at("longctx_summarise_seconds"), 0);
    for (const ItemResult& item : pipeline.items) {
        EXPECT_TRUE(item.passed) << item.id;
        EXPECT_GE(item.scores.at("chunks"), 2) << item.id;
        EXPECT_EQ(item.calls.size(), size_t(item.scores.at("chunks")) + 1);
        EXPECT_NE(item.transcript.back().content.find("The code is"), std::string::npos);
        // The answering prompt holds the summaries (far shorter than the document); every chunk prompt is counted.
        const LongContextCase c =
            make_long_context_case(sp, int(item.scores.at("length")), item.scores.at("position"), 3);
        EXPECT_LT(item.scores.at("prompt_tokens"), double(direct_prompt(c).size())) << item.id;
        EXPECT_GT(item.scores.at("chunk_prompt_tokens_max"), 0) << item.id;
        for (const CallTiming& call : item.calls) EXPECT_GT(call.prompt_tokens, 0);
    }
    EXPECT_EQ(size_t(s.total_requests()), 2 * 4 + expected_pipeline_requests);

    // Rerun: everything comes from the cache, the same scores.
    const int before = s.total_requests();
    Result<RunResults> again = run_eval(o);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(s.total_requests(), before);
    EXPECT_EQ(again->targets[2].dimensions.at("longctx_accuracy"), 1);
    // The usage came back from the cache too.
    for (size_t t = 0; t < 3; ++t)
        for (size_t i = 0; i < r->targets[t].items.size(); ++i)
            EXPECT_EQ(again->targets[t].items[i].scores.at("prompt_tokens"),
                      r->targets[t].items[i].scores.at("prompt_tokens"));
    // The report puts each target's counts under the estimated lengths.
    const std::string md = render_report_markdown(*r);
    EXPECT_NE(md.find("usage.prompt_tokens"), std::string::npos) << md;
    const std::string html = render_report_html(*r);
    EXPECT_NE(html.find("usage.prompt_tokens"), std::string::npos);

    // A pipeline naming an unknown target is refused before anything is sent.
    o.pipeline_daily = "nobody";
    Result<RunResults> bad = run_eval(o);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("nobody"), std::string::npos);
}

TEST(LongContext, ContextOptionReplacesTheSuiteLengths) {
    const std::string dir = test::temp_dir() + "/long_context_lengths";
    std::filesystem::create_directories(dir);
    const std::string suite_path = dir + "/rooms.jsonl";
    std::ofstream(suite_path) << kSpecLine << "\n";
    test::ScriptedServer s;  // answers nothing useful: every item fails, none errors
    s.start();
    RunOptions o;
    o.suites = {suite_path};
    o.targets = {{"a", s.url(), ""}};
    o.context_tokens = 2768;
    o.max_tokens = 512;  // 2768 - 512 - 256 leaves 2000 tokens for the document
    o.policy.read_timeout_seconds = 10;
    Result<RunResults> r = run_eval(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    std::set<std::string> ids;
    for (const ItemResult& item : r->targets[0].items) {
        ids.insert(item.id);
        EXPECT_EQ(item.error, "");
        EXPECT_FALSE(item.passed);
    }
    EXPECT_EQ(ids, (std::set<std::string>{"rooms@1000/0", "rooms@1000/100", "rooms@2000/0", "rooms@2000/100"}));
    EXPECT_EQ(r->targets[0].dimensions.at("longctx_accuracy"), 0);
}

}  // namespace
}  // namespace duet::eval

namespace duet::eval {
namespace {

TEST(LongContext, ContextLengthsFitTheTargetsOwnTokenizer) {
    // A target whose tokenizer counts one token per byte (about 4 per estimated token in English): --context
    // lengths are fitted to its count, so the longest prompt still fits, and the factor is reported.
    const std::string dir = test::temp_dir() + "/long_context_fit";
    std::filesystem::create_directories(dir);
    const std::string suite_path = dir + "/rooms.jsonl";
    std::ofstream(suite_path) << kSpecLine << "\n";
    test::ScriptedServer s;
    s.tokenize = true;
    s.start();
    RunOptions o;
    o.suites = {suite_path};
    o.targets = {{"a", s.url(), ""}};
    o.context_tokens = 8000;
    o.max_tokens = 64;
    o.policy.read_timeout_seconds = 10;
    Result<RunResults> r = run_eval(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->tokens_per_estimated.count("a"), 1u);
    const double ratio = r->tokens_per_estimated.at("a");
    EXPECT_GT(ratio, 3.0);
    EXPECT_LT(ratio, 4.5);
    EXPECT_EQ(r->lengths_fitted_with, ratio);
    EXPECT_EQ(s.requests().at("tokenize"), 1);
    double longest = 0;
    for (const ItemResult& item : r->targets[0].items) {
        ASSERT_TRUE(item.error.empty()) << item.error;
        EXPECT_LE(item.scores.at("prompt_tokens"), 8000 - 64) << item.id;
        longest = std::max(longest, item.scores.at("prompt_tokens"));
    }
    EXPECT_GT(longest, 0.8 * (8000 - 64));  // fitted, not merely cut short
    // Without a tokenizer the estimate alone decides: documents of up to 8000 - 64 - 256 estimated tokens.
    s.tokenize = false;
    Result<RunResults> plain = run_eval(o);
    ASSERT_TRUE(plain.ok());
    EXPECT_TRUE(plain->tokens_per_estimated.empty());
    EXPECT_EQ(plain->lengths_fitted_with, 1);
    double longest_estimated = 0;
    for (const ItemResult& item : plain->targets[0].items)
        longest_estimated = std::max(longest_estimated, item.scores.at("length"));
    EXPECT_EQ(longest_estimated, 8000 - 64 - 256);
    // results.json keeps the factors.
    Result<RunResults> back = results_from_json(results_to_json(*r), "r.json");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->tokens_per_estimated, r->tokens_per_estimated);
    EXPECT_EQ(back->lengths_fitted_with, r->lengths_fitted_with);
    EXPECT_NE(render_report_markdown(*r).find("fitted with"), std::string::npos);
}

}  // namespace
}  // namespace duet::eval
