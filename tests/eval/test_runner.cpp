// test_runner.cpp: `duet eval run` as a library against scripted OpenAI-compatible servers on loopback: every score
// of a small run asserted exactly, retries on 503, resume from the cache without duplicate requests, garbage and
// unreachable targets reported per item, the judge's position swap, a malformed suite failing before any request.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "eval/runner.h"
#include "eval/sandbox.h"
#include "eval/scripted_server.h"
#include "support/fixtures.h"

namespace duet::eval {
namespace {

using test::ScriptedServer;

const char* kFlows =
    R"({"kind":"flow","id":"kb","language":"en","entities":{"hhkb":["HHKB"],"k8":["Keychron","K8"]},"turns":[)"
    R"({"user":"Recommend two keyboards.","checks":[{"check":"mention","any":[["HHKB"],["Keychron","K8"]],"min":2}]},)"
    R"({"user":"How do I change the keycaps of the HHKB?","checks":[{"check":"refers_back","turn":1,"entity":"hhkb"},)"
    R"({"check":"max_ai_speak","max":0}]}]})"
    "\n"
    R"({"kind":"flow","id":"cold","language":"en","probe":"cold_start",)"
    R"("turns":[{"user":"Fix my code.","checks":[{"check":"asks_question"}]}]})"
    "\n"
    R"({"kind":"clarify","id":"buds","language":"en","style":"vague","opening":"My thing broke.",)"
    R"("intent":"exchange earbuds",)"
    R"("facts":[{"cues":["Which"],"answer":"The earbuds from last week."}],"fallback":"You don't get it.",)"
    R"("checks":[{"check":"mention","any":["exchange"]}],"max_rounds":3})"
    "\n";

const char* kChoices =
    "id,question,A,B,C,D,answer\n"
    "q1,What is two plus two?,3,4,5,6,B\n"
    "q2,Capital of France?,Rome,Paris,Berlin,Madrid,B\n";

const char* kCode = R"({"task_id":"T/0","prompt":"def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n",)"
                    R"("canonical_solution":"    return a + b\n",)"
                    R"("test":"def check(candidate):\n    assert candidate(2, 3) == 5\n","entry_point":"add"})"
                    "\n";

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

void script_good_answers(ScriptedServer& s) {
    s.script = {{"Recommend two keyboards.", "Try the HHKB or the Keychron K8."},
                {"How do I change the keycaps of the HHKB?",
                 "As an AI, I suggest pulling the HHKB keycaps with a puller."},
                {"Fix my code.", "Could you paste the code and the error?"},
                {"My thing broke.", "Which item broke?"},
                {"The earbuds from last week.", "I can arrange an exchange for the earbuds."},
                {"What is two plus two?", "B"},
                {"Capital of France?", "The answer is A."},
                {"def add(a, b)", "```python\ndef add(a, b):\n    return a + b\n```"},
                {"Two assistants answered", "A"}};
}

struct Fixture {
    std::string dir = test::temp_dir() + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::vector<std::string> suites;
    Fixture() {
        std::filesystem::create_directories(dir);
        suites = {write(dir, "mine.jsonl", kFlows), write(dir, "mc.csv", kChoices), write(dir, "code.jsonl", kCode)};
    }
    RunOptions options(const std::vector<Target>& targets) const {
        RunOptions o;
        o.suites = suites;
        o.targets = targets;
        o.concurrency = 2;
        o.policy.backoff_seconds = 0.01;
        o.policy.read_timeout_seconds = 10;
        o.cache_path = dir + "/cache.sqlite";
        return o;
    }
};

const ItemResult& item(const TargetResults& t, const std::string& id) {
    for (const ItemResult& i : t.items)
        if (i.id == id) return i;
    ADD_FAILURE() << "no item " << id;
    static ItemResult none;
    return none;
}

TEST(EvalRunner, ParsesTargets) {
    Result<Target> t = parse_target("small=http://127.0.0.1:8080/v1#qwen", true);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->name, "small");
    EXPECT_EQ(t->url, "http://127.0.0.1:8080/v1");
    EXPECT_EQ(t->model, "qwen");
    EXPECT_FALSE(parse_target("http://x", true).ok());
    EXPECT_FALSE(parse_target("a=ftp://x", true).ok());
    Result<Target> judge = parse_target("http://h:1#j", false);
    ASSERT_TRUE(judge.ok());
    EXPECT_EQ(judge->model, "j");
}

TEST(EvalRunner, ScoresEveryKindExactly) {
    if (find_python3().empty()) GTEST_SKIP() << "no python3: the code task cannot run";
    ScriptedServer s;
    script_good_answers(s);
    s.start();
    Fixture f;
    Result<RunResults> r = run_eval(f.options({{"a", s.url(), "m"}}));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_TRUE(r->complete);
    ASSERT_EQ(r->targets.size(), 1u);
    const TargetResults& t = r->targets[0];
    ASSERT_EQ(t.items.size(), 6u);

    const ItemResult& kb = item(t, "kb");
    EXPECT_EQ(kb.kind, "flow");
    EXPECT_EQ(kb.error, "");
    EXPECT_FALSE(kb.passed);  // turn 2 says "As an AI"
    EXPECT_EQ(kb.scores.at("task_coherence"), 0.5);
    EXPECT_EQ(kb.scores.at("context_reuses"), 1);  // HHKB again in turn 2
    EXPECT_EQ(kb.scores.at("ai_speak"), 1);
    EXPECT_EQ(kb.scores.at("coreference_errors"), 0);
    EXPECT_EQ(kb.scores.at("checks_passed"), 2);
    EXPECT_EQ(kb.scores.at("checks_total"), 3);
    ASSERT_EQ(kb.transcript.size(), 4u);
    EXPECT_EQ(kb.transcript[1].content, "Try the HHKB or the Keychron K8.");
    ASSERT_EQ(kb.calls.size(), 2u);
    EXPECT_GE(kb.calls[0].ttft_seconds, 0);
    // "Try the HHKB or the Keychron K8." is 32 code points: 11 chunks of 3, 3, ..., 2.
    EXPECT_EQ(kb.calls[0].chunk_chars.size(), 11u);
    EXPECT_EQ(kb.calls[0].chunk_intervals.size(), 10u);

    const ItemResult& cold = item(t, "cold");
    EXPECT_EQ(cold.kind, "probe");
    EXPECT_TRUE(cold.passed);
    const ItemResult& buds = item(t, "buds");
    EXPECT_TRUE(buds.passed);
    EXPECT_EQ(buds.scores.at("rounds"), 1);
    EXPECT_TRUE(item(t, "q1").passed);
    EXPECT_FALSE(item(t, "q2").passed);  // answered A
    const ItemResult& code = item(t, "T/0");
    EXPECT_TRUE(code.passed) << (code.notes.empty() ? code.error : code.notes.back());

    EXPECT_EQ(t.dimensions.at("flow_task_coherence"), 0.5);
    EXPECT_EQ(t.dimensions.at("flow_context_reuse"), 1);
    EXPECT_EQ(t.dimensions.at("flow_ai_speak"), 1);
    EXPECT_EQ(t.dimensions.at("probe_pass_rate"), 1);
    EXPECT_EQ(t.dimensions.at("probe_cold_start_pass_rate"), 1);
    EXPECT_EQ(t.dimensions.at("clarify_satisfied_rate"), 1);
    EXPECT_EQ(t.dimensions.at("clarify_rounds"), 1);
    EXPECT_EQ(t.dimensions.at("choice_accuracy"), 0.5);
    EXPECT_EQ(t.dimensions.at("code_pass_rate"), 1);
    EXPECT_EQ(t.dimensions.at("items_failed"), 0);
    EXPECT_EQ(t.choice_method, "generated letter");
    // 2 flow turns + 1 probe + 2 clarify turns + 2 choices + 1 code task; nothing twice.
    EXPECT_EQ(s.total_requests(), 8);
}

TEST(EvalRunner, MultipleChoiceByLogLikelihoodWhenTheTargetEchoesLogprobs) {
    ScriptedServer s;
    script_good_answers(s);
    s.likely_letter = 'B';
    s.start();
    Fixture f;
    f.suites = {f.suites[1]};
    Result<RunResults> r = run_eval(f.options({{"a", s.url(), "m"}}));
    ASSERT_TRUE(r.ok()) << r.status().message();
    const TargetResults& t = r->targets[0];
    EXPECT_EQ(t.choice_method, "log-likelihood");
    EXPECT_TRUE(item(t, "q1").passed);
    EXPECT_TRUE(item(t, "q2").passed);  // the generated letter would have been A
    EXPECT_EQ(t.dimensions.at("choice_accuracy"), 1);
    EXPECT_EQ(s.requests().at("completions"), 1 + 2 * 4);     // the probe, then 4 letters per question
    EXPECT_EQ(s.requests().count("Capital of France?"), 0u);  // nothing generated

    s.likely_letter = 'C';  // without the cache, every question now scores C
    RunOptions o = f.options({{"a", s.url(), "m"}});
    o.cache_path = "";
    r = run_eval(o);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->targets[0].dimensions.at("choice_accuracy"), 0);
}

TEST(EvalRunner, RetriesA503TwiceThenScores) {
    ScriptedServer s;
    script_good_answers(s);
    s.fail_first = {{"Fix my code.", 2}};
    s.start();
    Fixture f;
    const std::string flows = kFlows;
    f.suites = {write(f.dir, "probe.jsonl", flows.substr(flows.find("{\"kind\":\"flow\",\"id\":\"cold\"")))};
    RunOptions o = f.options({{"a", s.url(), ""}});
    Result<RunResults> r = run_eval(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const ItemResult& cold = item(r->targets[0], "cold");
    EXPECT_EQ(cold.error, "");
    EXPECT_TRUE(cold.passed);
    EXPECT_EQ(s.requests().at("Fix my code."), 3);

    // With no retries left the 503 is the item's error and the run goes on.
    ScriptedServer s2;
    script_good_answers(s2);
    s2.fail_first = {{"Fix my code.", 5}};
    s2.start();
    o.targets = {{"b", s2.url(), ""}};
    o.policy.max_retries = 1;
    r = run_eval(o);
    ASSERT_TRUE(r.ok());
    const ItemResult& failed = item(r->targets[0], "cold");
    EXPECT_NE(failed.error.find("503"), std::string::npos) << failed.error;
    EXPECT_EQ(s2.requests().at("Fix my code."), 2);
    EXPECT_EQ(r->targets[0].dimensions.at("items_failed"), 1);
}

TEST(EvalRunner, ResumesFromTheCacheWithoutDuplicateRequests) {
    ScriptedServer s;
    script_good_answers(s);
    s.start();
    Fixture f;
    f.suites = {f.suites[0], f.suites[1]};  // flows, probe, clarify, choices: 5 items, 7 requests
    RunOptions o = f.options({{"a", s.url(), "m"}});
    o.concurrency = 1;
    o.stop_after_items = 2;
    Result<RunResults> first = run_eval(o);
    ASSERT_TRUE(first.ok());
    EXPECT_FALSE(first->complete);
    EXPECT_EQ(first->targets[0].items.size(), 2u);
    const int after_first = s.total_requests();
    EXPECT_GT(after_first, 0);
    EXPECT_LT(after_first, 7);

    o.stop_after_items = -1;
    Result<RunResults> second = run_eval(o);
    ASSERT_TRUE(second.ok());
    EXPECT_TRUE(second->complete);
    EXPECT_EQ(second->targets[0].items.size(), 5u);
    EXPECT_EQ(s.total_requests(), 7);
    for (const auto& [key, count] : s.requests()) EXPECT_EQ(count, 1) << key;
    // The cached replies score as the fresh ones did.
    EXPECT_EQ(item(second->targets[0], "kb").scores.at("task_coherence"), 0.5);

    // A third run over the same SQLite file sends nothing at all.
    Result<RunResults> third = run_eval(o);
    ASSERT_TRUE(third.ok()) << third.status().message();
    EXPECT_EQ(s.total_requests(), 7);
}

TEST(EvalRunner, StopFlagLeavesAResumableRun) {
    // What Ctrl-C does (duet eval run's SIGINT handler sets this flag): no new items, in-flight ones finish.
    ScriptedServer s;
    script_good_answers(s);
    s.start();
    Fixture f;
    f.suites = {f.suites[0], f.suites[1]};  // 5 items, 7 requests
    RunOptions o = f.options({{"a", s.url(), "m"}});
    o.concurrency = 1;
    std::atomic<bool> stop{false};
    o.stop = &stop;
    int finished = 0;
    o.progress = [&](const std::string& line) {
        EXPECT_EQ(line.rfind('[', 0), 0u) << line;  // "[####----...] 1/5 a suite/id pass"
        if (++finished == 3) stop = true;
    };
    Result<RunResults> first = run_eval(o);
    ASSERT_TRUE(first.ok());
    EXPECT_FALSE(first->complete);
    EXPECT_EQ(first->targets[0].items.size(), 3u);
    stop = false;
    o.progress = nullptr;
    Result<RunResults> second = run_eval(o);
    ASSERT_TRUE(second.ok());
    EXPECT_TRUE(second->complete);
    EXPECT_EQ(second->targets[0].items.size(), 5u);
    for (const auto& [key, count] : s.requests()) EXPECT_EQ(count, 1) << key;
}

TEST(EvalRunner, UsageIsRecordedCachedAndOptional) {
    ScriptedServer s, old;
    s.script = {{"Hello", "Hi there, friend."}};
    old.script = s.script;
    old.refuse_stream_options = true;  // a server that rejects stream_options: asked again without it
    s.start();
    old.start();
    const std::string path = test::temp_dir() + "/usage_cache.sqlite";
    std::filesystem::remove(path);
    Result<std::unique_ptr<ResponseCache>> cache = open_response_cache(path);
    ASSERT_TRUE(cache.ok());
    CallPolicy policy;
    policy.read_timeout_seconds = 10;
    ModelCaller caller({"a", s.url(), "m"}, policy, cache->get());
    Result<CachedReply> reply = caller.chat({{"user", "Hello"}}, 32, 0);
    ASSERT_TRUE(reply.ok()) << reply.status().message();
    EXPECT_EQ(reply->text, "Hi there, friend.");
    EXPECT_EQ(reply->timing.prompt_tokens, 5);      // the scripted server counts one token per byte
    EXPECT_EQ(reply->timing.completion_tokens, 6);  // 17 code points in chunks of 3
    Result<CachedReply> cached = caller.chat({{"user", "Hello"}}, 32, 0);
    ASSERT_TRUE(cached.ok());
    EXPECT_EQ(cached->timing.prompt_tokens, 5);
    EXPECT_EQ(cached->timing.completion_tokens, 6);
    EXPECT_EQ(s.total_requests(), 1);

    ModelCaller old_caller({"old", old.url(), "m"}, policy, nullptr);
    Result<CachedReply> plain = old_caller.chat({{"user", "Hello"}}, 32, 0);
    ASSERT_TRUE(plain.ok()) << plain.status().message();
    EXPECT_EQ(plain->text, "Hi there, friend.");
    EXPECT_EQ(plain->timing.prompt_tokens, -1);
    EXPECT_EQ(old.total_requests(), 2);
}

TEST(EvalRunner, ImportsTheLegacyJsonlCacheOnceAndSkipsATornLine) {
    const std::string dir = test::temp_dir() + "/legacy_cache_import";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string jsonl = dir + "/cache.jsonl", sqlite = dir + "/cache.sqlite";
    std::ofstream(jsonl, std::ios::binary)
        << R"({"key":"a|u|m|1","text":"hello","timing":{"ttft":0.25,"total":1.5,"intervals":[0.5,0.75],"chars":[3,3,1]}})"
           "\n"
        << R"({"key":"a|u|m|2","text":"-1.25"})"
           "\n"
        << R"({"key":"a|u|m|3","text":"torn)";  // a kill during the last write
    Result<std::vector<std::pair<std::string, CachedReply>>> read = read_jsonl_cache(jsonl);
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(read->size(), 2u);

    {
        Result<std::unique_ptr<ResponseCache>> cache = open_response_cache(sqlite, jsonl);
        ASSERT_TRUE(cache.ok()) << cache.status().message();
        EXPECT_FALSE(std::filesystem::exists(jsonl));
        EXPECT_TRUE(std::filesystem::exists(jsonl + ".imported"));
        // A newer answer for key 1 is written after the import.
        ASSERT_TRUE((*cache)->put("a|u|m|1", CachedReply{"hello again", {}}).ok());
    }
    // The JSONL file reappears (an old duet wrote to it again): importing keeps the SQLite entry for key 1.
    std::ofstream(jsonl, std::ios::binary) << R"({"key":"a|u|m|1","text":"stale"})"
                                              "\n";
    Result<std::unique_ptr<ResponseCache>> cache = open_response_cache(sqlite, jsonl);
    ASSERT_TRUE(cache.ok()) << cache.status().message();
    std::optional<CachedReply> one = (*cache)->find("a|u|m|1");
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->text, "hello again");
    std::optional<CachedReply> two = (*cache)->find("a|u|m|2");
    ASSERT_TRUE(two.has_value());
    EXPECT_EQ(two->text, "-1.25");
    EXPECT_EQ(two->timing.ttft_seconds, -1);
    EXPECT_FALSE((*cache)->find("a|u|m|3").has_value());
}

TEST(EvalRunner, CacheRoundTripsTimingExactly) {
    const std::string path = test::temp_dir() + "/cache_round_trip.sqlite";
    std::filesystem::remove(path);
    CachedReply reply{"你好, world", {}};
    reply.timing.ttft_seconds = 0.1234567890123;
    reply.timing.total_seconds = 2.5;
    reply.timing.chunk_intervals = {0.1, 1e-9, 0.3333333333333333};
    reply.timing.chunk_chars = {3, 3, 2, 1};
    {
        Result<std::unique_ptr<ResponseCache>> cache = open_response_cache(path);
        ASSERT_TRUE(cache.ok()) << cache.status().message();
        ASSERT_TRUE((*cache)->put("k", reply).ok());
    }
    Result<std::unique_ptr<ResponseCache>> cache = open_response_cache(path);
    ASSERT_TRUE(cache.ok());
    std::optional<CachedReply> back = (*cache)->find("k");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->text, reply.text);
    EXPECT_EQ(back->timing.ttft_seconds, reply.timing.ttft_seconds);
    EXPECT_EQ(back->timing.total_seconds, reply.timing.total_seconds);
    EXPECT_EQ(back->timing.chunk_intervals, reply.timing.chunk_intervals);
    EXPECT_EQ(back->timing.chunk_chars, reply.timing.chunk_chars);
    EXPECT_FALSE((*cache)->find("other").has_value());
}

TEST(EvalRunner, GarbageAndUnreachableTargetsAreReportedPerItem) {
    ScriptedServer good, garbage;
    script_good_answers(good);
    garbage.garbage = true;
    good.start();
    garbage.start();
    Fixture f;
    f.suites = {f.suites[0]};
    RunOptions o =
        f.options({{"good", good.url(), ""}, {"garbage", garbage.url(), ""}, {"down", "http://127.0.0.1:1/v1", ""}});
    o.policy.max_retries = 1;
    Result<RunResults> r = run_eval(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->targets.size(), 3u);
    EXPECT_EQ(r->targets[0].dimensions.at("items_failed"), 0);
    for (const ItemResult& i : r->targets[1].items) EXPECT_NE(i.error.find("garbage"), std::string::npos) << i.error;
    for (const ItemResult& i : r->targets[2].items) EXPECT_NE(i.error.find("transport"), std::string::npos) << i.error;
    EXPECT_EQ(r->targets[1].dimensions.at("items_failed"), 3);
    EXPECT_EQ(r->targets[2].dimensions.at("items_failed"), 3);
    EXPECT_EQ(r->targets[1].dimensions.count("flow_task_coherence"), 0u);
}

TEST(EvalRunner, AJudgeThatAlwaysSaysAIsInconsistentEveryTime) {
    ScriptedServer s, s2, judge;
    script_good_answers(s);
    script_good_answers(s2);
    for (auto& [key, reply] : s2.script) reply += " Anything else?";  // the two targets answer differently
    judge.script = {{"Two assistants answered", "A"}};
    s.start();
    s2.start();
    judge.start();
    Fixture f;
    f.suites = {f.suites[0]};
    RunOptions o = f.options({{"x", s.url(), "m1"}, {"y", s2.url(), "m2"}});
    o.judge = Target{"judge", judge.url(), "j"};
    Result<RunResults> r = run_eval(o);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->has_judge);
    const JudgeResults& j = r->judge;
    ASSERT_EQ(j.verdicts.size(), 3u);  // kb, cold, buds
    for (const JudgeVerdict& v : j.verdicts) {
        EXPECT_EQ(v.first, "A");
        EXPECT_EQ(v.swapped, "B");
        EXPECT_TRUE(v.inconsistent);
        EXPECT_EQ(v.outcome, "tie");
    }
    EXPECT_EQ(j.ties, 3);
    EXPECT_EQ(j.inconsistent, 3);
    EXPECT_EQ(j.wins_a + j.wins_b, 0);
    EXPECT_EQ(judge.total_requests(), 6);  // both orders per item
}

TEST(EvalRunner, AConsistentJudgeDecides) {
    EXPECT_EQ(parse_judge_verdict("  B."), "B");
    EXPECT_EQ(parse_judge_verdict("Tie"), "tie");
    EXPECT_EQ(parse_judge_verdict("Assistant A"), "");
}

TEST(EvalRunner, AMalformedSuiteFailsBeforeAnyRequest) {
    ScriptedServer s;
    script_good_answers(s);
    s.start();
    Fixture f;
    const std::string bad = write(f.dir, "bad.jsonl", std::string(kFlows) + "{\"kind\":\"flow\",\"id\":\"x\"\n");
    RunOptions o = f.options({{"a", s.url(), ""}});
    o.suites = {f.suites[0], bad};
    Result<RunResults> r = run_eval(o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("bad.jsonl:4"), std::string::npos) << r.status().message();
    EXPECT_EQ(s.total_requests(), 0);
    o.suites = {"no-such-suite"};
    EXPECT_FALSE(run_eval(o).ok());
}

TEST(EvalRunner, NamedSuitesResolveUnderTheEvalsDir) {
    EXPECT_EQ(resolve_suite_path("flows", "E"), "E/flows.jsonl");
    EXPECT_EQ(resolve_suite_path("ceval", "E"), "E/ceval_sample.csv");
    EXPECT_EQ(resolve_suite_path("humaneval", "E"), "E/humaneval_sample.jsonl");
    EXPECT_EQ(resolve_suite_path("my/own.jsonl", "E"), "my/own.jsonl");
    Result<std::shared_ptr<const SuiteItems>> shipped =
        load_suites({"flows", "probes", "clarify", "ceval", "humaneval"}, DUET_EVALS_DIR);
    ASSERT_TRUE(shipped.ok()) << shipped.status().message();
}

}  // namespace
}  // namespace duet::eval
