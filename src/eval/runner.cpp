// runner.cpp: suite resolution, the work queue over targets x items, per-kind scoring and the pairwise judge.
#include "eval/runner.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "eval/long_context.h"
#include "eval/sandbox.h"
#include "eval/tasks.h"

namespace duet::eval {

struct SuiteItem {
    std::string suite;
    std::string kind;  // flow, probe, clarify, choice, code
    Flow flow;
    ClarifyDialogue clarify;
    MultipleChoice choice;
    CodeTask code;
    LongContextCase longctx;
    std::string id() const {
        if (kind == "flow" || kind == "probe") return flow.id;
        if (kind == "clarify") return clarify.id;
        if (kind == "choice") return choice.id;
        if (kind == "longctx") return longctx.id;
        return code.task_id;
    }
};
struct SuiteItems {
    std::vector<SuiteItem> items;
};

namespace {

struct ShippedSuite {
    const char* name;
    const char* file;
};
constexpr ShippedSuite kShipped[] = {{"flows", "flows.jsonl"},
                                     {"probes", "probes.jsonl"},
                                     {"clarify", "clarify.jsonl"},
                                     {"ceval", "ceval_sample.csv"},
                                     {"humaneval", "humaneval_sample.jsonl"},
                                     {"longctx", "longctx.jsonl"}};

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string suite_label(const std::string& suite) {
    std::string base = suite.substr(suite.find_last_of('/') == std::string::npos ? 0 : suite.find_last_of('/') + 1);
    const size_t dot = base.find('.');
    return dot == std::string::npos ? base : base.substr(0, dot);
}

// A JSONL file is in the HumanEval layout when its first data line has a task_id.
bool looks_like_humaneval(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        return line.find("\"task_id\"") != std::string::npos;
    }
    return false;
}

std::string transcript_text(const std::vector<Message>& transcript) {
    std::string out;
    for (const Message& m : transcript) out += (m.role == "user" ? "User: " : "Assistant: ") + m.content + "\n";
    return out;
}

// The first standalone A-D in a reply ("B", "答案：C", "(D)"), 0 when none.
char parse_letter(const std::string& reply) {
    for (size_t i = 0; i < reply.size(); ++i) {
        const char c = reply[i];
        if (c < 'A' || c > 'D') continue;
        const bool before = i > 0 && std::isalpha(static_cast<unsigned char>(reply[i - 1]));
        const bool after = i + 1 < reply.size() && std::isalpha(static_cast<unsigned char>(reply[i + 1]));
        if (!before && !after) return c;
    }
    return 0;
}

// The code of a reply: the first fenced block when there is one, else the whole reply.
std::string extract_code(const std::string& reply) {
    const size_t open = reply.find("```");
    if (open == std::string::npos) return reply;
    const size_t body = reply.find('\n', open);
    if (body == std::string::npos) return reply;
    const size_t close = reply.find("```", body + 1);
    return reply.substr(body + 1, close == std::string::npos ? std::string::npos : close - body - 1);
}

// "[#######-------------] 12/34": the share of items done, for the progress line.
std::string progress_bar(size_t done, size_t total) {
    constexpr size_t kWidth = 20;
    const size_t filled = total == 0 ? kWidth : std::min(kWidth, done * kWidth / total);
    return "[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + "] " + std::to_string(done) + "/" +
           std::to_string(total);
}

// Runs fn(i) for i in [0, n) on `workers` threads; stops handing out work when should_stop() says so.
template <typename Fn, typename Stop>
void parallel_for(size_t n, int workers, Fn fn, Stop should_stop) {
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (;;) {
            if (should_stop()) return;
            const size_t i = next.fetch_add(1);
            if (i >= n) return;
            fn(i);
        }
    };
    std::vector<std::thread> threads;
    for (int w = 1; w < std::max(1, workers); ++w) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
}

std::string choice_context(const MultipleChoice& choice) {
    std::string prompt = choice.question + "\n";
    for (size_t i = 0; i < choice.options.size(); ++i)
        prompt += std::string(1, char('A' + i)) + ". " + choice.options[i] + "\n";
    return prompt;
}

TimedSend timed_send(ModelCaller& caller, const RunOptions& options) {
    return [&caller, &options](const std::vector<Message>& history) -> Result<TimedReply> {
        DUET_TRY(CachedReply reply, caller.chat(history, options.max_tokens, options.seed));
        return TimedReply{std::move(reply.text), std::move(reply.timing)};
    };
}

void fill_long_context_result(ItemResult& result, const LongContextCase& c, const LongContextOutcome& outcome) {
    result.transcript = outcome.transcript;
    result.calls = outcome.calls;
    result.error = outcome.error;
    result.passed = outcome.correct;
    result.scores = {{"correct", outcome.correct ? 1 : 0},
                     {"position", c.position},
                     {"length", c.length},
                     {"length_tokens", c.length_tokens},
                     {"answer_seconds", outcome.answer_seconds}};
    if (outcome.chunks > 0) {
        result.scores["chunks"] = outcome.chunks;
        result.scores["summarise_seconds"] = outcome.summarise_seconds;
    }
    // The target's own count of the answering call's prompt (direct: instructions + document + question; pipeline:
    // the summaries + question), and for the pipeline the largest chunk prompt the expert counted.
    if (!outcome.calls.empty() && outcome.error.empty()) {
        if (outcome.calls.back().prompt_tokens >= 0)
            result.scores["prompt_tokens"] = outcome.calls.back().prompt_tokens;
        int chunk_max = -1;
        for (size_t i = 0; outcome.chunks > 0 && i + 1 < outcome.calls.size(); ++i)
            chunk_max = std::max(chunk_max, outcome.calls[i].prompt_tokens);
        if (chunk_max >= 0) result.scores["chunk_prompt_tokens_max"] = chunk_max;
    }
    std::string expected;
    for (const std::string& e : c.expected) expected += (expected.empty() ? "" : ", ") + e;
    result.notes.push_back((outcome.correct ? "found " : "expected ") + expected);
}

ItemResult run_item(const SuiteItem& item, ModelCaller& caller, const RunOptions& options, bool by_loglik) {
    ItemResult result;
    result.suite = item.suite;
    result.kind = item.kind;
    result.id = item.id();
    std::mutex calls_mutex;
    const SendTurn send = [&](const std::vector<Message>& history) -> Result<std::string> {
        Result<CachedReply> reply = caller.chat(history, options.max_tokens, options.seed);
        if (!reply.ok()) return reply.status();
        std::lock_guard<std::mutex> lock(calls_mutex);
        result.calls.push_back(reply->timing);
        return reply->text;
    };

    if (item.kind == "flow" || item.kind == "probe") {
        const FlowScore score = run_flow(item.flow, send);
        bool all_passed = true;
        for (const TurnScore& turn : score.turns) {
            result.transcript.push_back({"user", turn.user});
            if (turn.answered) result.transcript.push_back({"assistant", turn.reply});
            if (!turn.error.empty() && result.error.empty()) result.error = turn.error;
            all_passed = all_passed && turn.passed;
            for (const CheckOutcome& check : turn.checks)
                if (!check.passed) result.notes.push_back(check.what + ": " + check.detail);
        }
        result.passed = all_passed && result.error.empty();
        result.scores = {{"task_coherence", score.task_coherence},
                         {"context_reuses", score.context_reuses},
                         {"coreference_errors", score.coreference_errors},
                         {"confirmations", score.confirmations},
                         {"ai_speak", score.ai_speak},
                         {"checks_passed", score.checks_passed},
                         {"checks_total", score.checks_total}};
        if (item.kind == "probe") result.scores["probe_" + item.flow.probe] = result.passed ? 1 : 0;
    } else if (item.kind == "clarify") {
        const ClarifyResult clarify = run_clarification(item.clarify, send);
        result.transcript = clarify.transcript;
        result.error = clarify.error;
        result.passed = clarify.satisfied;
        result.scores = {{"rounds", clarify.rounds}, {"satisfied", clarify.satisfied ? 1 : 0}};
        for (const CheckOutcome& check : clarify.last_checks)
            if (!check.passed) result.notes.push_back(check.what + ": " + check.detail);
    } else if (item.kind == "choice" && by_loglik) {
        // The letter whose " X" after "Answer:" the model finds most likely.
        const std::string context = choice_context(item.choice) + "Answer:";
        result.transcript.push_back({"user", context});
        char best = 0;
        double best_logprob = 0;
        std::string scored;
        for (size_t i = 0; i < item.choice.options.size(); ++i) {
            const char letter = char('A' + i);
            Result<double> lp = caller.continuation_logprob(context, std::string(" ") + letter);
            if (!lp.ok()) {
                result.error = lp.status().message();
                break;
            }
            char buf[48];
            std::snprintf(buf, sizeof buf, "%s%c %.3f", scored.empty() ? "" : ", ", letter, *lp);
            scored += buf;
            if (best == 0 || *lp > best_logprob) best = letter, best_logprob = *lp;
        }
        if (result.error.empty()) {
            result.transcript.push_back({"assistant", std::string(1, best) + "  (log-likelihood: " + scored + ")"});
            result.passed = best == item.choice.answer;
            result.scores = {{"correct", result.passed ? 1 : 0}};
            result.notes.push_back("chose " + std::string(1, best) + " by log-likelihood, expected " +
                                   std::string(1, item.choice.answer));
        }
    } else if (item.kind == "choice") {
        std::string prompt = choice_context(item.choice);
        prompt += "Answer with the letter of the correct option only (A, B, C or D).";
        result.transcript.push_back({"user", prompt});
        Result<std::string> reply = send(result.transcript);
        if (!reply.ok()) {
            result.error = reply.status().message();
        } else {
            result.transcript.push_back({"assistant", *reply});
            const char letter = parse_letter(*reply);
            result.passed = letter != 0 && letter == item.choice.answer;
            result.scores = {{"correct", result.passed ? 1 : 0}};
            result.notes.push_back(std::string("answered ") + (letter ? std::string(1, letter) : "nothing") +
                                   ", expected " + std::string(1, item.choice.answer));
        }
    } else if (item.kind == "longctx") {
        const LongContextOutcome outcome = run_long_context_direct(item.longctx, timed_send(caller, options));
        fill_long_context_result(result, item.longctx, outcome);
    } else {  // code
        const std::string prompt =
            "Complete this Python function. Reply with the complete function in one "
            "```python block.\n\n" +
            item.code.prompt;
        result.transcript.push_back({"user", prompt});
        Result<std::string> reply = send(result.transcript);
        if (!reply.ok()) {
            result.error = reply.status().message();
        } else {
            result.transcript.push_back({"assistant", *reply});
            const std::string code = extract_code(*reply);
            // A whole function redefines the prompt's (a def with only a docstring is valid Python); otherwise
            // the reply continues the prompt's body.
            const std::string program = code.find("def " + item.code.entry_point + "(") != std::string::npos
                                            ? item.code.prompt + "\n\n" + code + "\n\n" + item.code.test +
                                                  "\n\ncheck(" + item.code.entry_point + ")\n"
                                            : humaneval_program(item.code, code);
            Result<SandboxResult> run = run_python_sandboxed(program, SandboxLimits{});
            if (!run.ok()) {
                result.error = "sandbox: " + run.status().message();
            } else {
                result.passed = run->outcome == SandboxOutcome::ok;
                result.scores = {{"passed", result.passed ? 1 : 0}};
                result.notes.push_back(std::string("sandbox: ") + sandbox_outcome_name(run->outcome));
                if (!result.passed && !run->stderr_text.empty())
                    result.notes.push_back(run->stderr_text.substr(0, 400));
            }
        }
    }
    if (!result.error.empty()) result.scores.clear();
    return result;
}

std::string judge_prompt(const std::string& first, const std::string& second) {
    return "Two assistants answered the same user. Judge which conversation serves the user better (correct, "
           "on task, uses the context, no filler). Reply with exactly one word: A, B or tie.\n\n"
           "=== Conversation A ===\n" +
           first + "\n=== Conversation B ===\n" + second;
}

}  // namespace

std::string parse_judge_verdict(const std::string& reply) {
    std::string word;
    for (char c : reply) {
        if (std::isalpha(static_cast<unsigned char>(c))) {
            word += char(std::tolower(static_cast<unsigned char>(c)));
        } else if (!word.empty()) {
            break;
        }
    }
    if (word == "a") return "A";
    if (word == "b") return "B";
    if (word == "tie") return "tie";
    return "";
}

std::string resolve_suite_path(const std::string& suite, const std::string& evals_dir) {
    for (const ShippedSuite& s : kShipped)
        if (suite == s.name) return evals_dir + "/" + s.file;
    return suite;
}

Result<std::shared_ptr<const SuiteItems>> load_suites(const std::vector<std::string>& suites,
                                                      const std::string& evals_dir,
                                                      const LongContextOptions& long_context) {
    auto out = std::make_shared<SuiteItems>();
    for (const std::string& suite : suites) {
        const std::string path = resolve_suite_path(suite, evals_dir);
        const std::string label = suite_label(suite);
        std::ifstream in(path, std::ios::binary);
        if (!in) return Status::not_found("suite '%s': cannot read %s", suite.c_str(), path.c_str());
        std::stringstream buffer;
        buffer << in.rdbuf();
        const std::string text = buffer.str();
        if (ends_with(path, ".csv")) {
            DUET_TRY(auto choices, parse_multiple_choice_csv(text, path));
            for (auto& c : choices) out->items.push_back({label, "choice", {}, {}, std::move(c), {}, {}});
        } else if (looks_like_humaneval(text)) {
            DUET_TRY(auto tasks, parse_humaneval_jsonl(text, path));
            for (auto& t : tasks) out->items.push_back({label, "code", {}, {}, {}, std::move(t), {}});
        } else {
            DUET_TRY(Suite parsed, parse_suite(text, path));
            for (auto& f : parsed.flows) {
                const std::string kind = f.probe.empty() ? "flow" : "probe";
                out->items.push_back({label, kind, std::move(f), {}, {}, {}, {}});
            }
            for (auto& c : parsed.clarifications)
                out->items.push_back({label, "clarify", {}, std::move(c), {}, {}, {}});
            for (const LongContextSpec& spec : parsed.long_contexts)
                for (int length : long_context_lengths(spec, long_context.context_tokens, long_context.reserve_tokens,
                                                       long_context.tokens_per_estimated))
                    for (double position : spec.positions)
                        out->items.push_back({label,
                                              "longctx",
                                              {},
                                              {},
                                              {},
                                              {},
                                              make_long_context_case(spec, length, position, long_context.seed)});
        }
    }
    return std::shared_ptr<const SuiteItems>(std::move(out));
}

namespace {
constexpr int kPromptOverheadTokens = 256;  // the instructions and the question around the document (estimated)
}  // namespace

LongContextOptions long_context_options(const RunOptions& options) {
    return {options.seed, options.context_tokens, options.max_tokens + kPromptOverheadTokens, 1.0};
}

namespace {

// The pipeline's pseudo-target: every long-context item marked for it, summarised by `expert`, answered by `daily`.
TargetResults run_pipeline(const SuiteItems& suites, const RunOptions& options, ModelCaller& expert, ModelCaller& daily,
                           int chunk_estimated, const std::function<bool()>& should_stop, bool& complete) {
    TargetResults target;
    target.name = "pipeline:" + options.pipeline_expert + ">" + options.pipeline_daily;
    target.model = options.pipeline_expert + " summarises, " + options.pipeline_daily + " answers";
    std::vector<const SuiteItem*> items;
    for (const SuiteItem& item : suites.items)
        if (item.kind == "longctx" && item.longctx.pipeline) items.push_back(&item);
    std::vector<std::optional<ItemResult>> done(items.size());
    const TimedSend summarise = timed_send(expert, options), answer = timed_send(daily, options);
    std::mutex progress_mutex;
    parallel_for(
        items.size(), options.concurrency,
        [&](size_t i) {
            ItemResult result;
            result.suite = items[i]->suite;
            result.kind = "longctx";
            result.id = items[i]->id();
            const LongContextOutcome outcome =
                run_summarise_then_answer(items[i]->longctx, summarise, answer, chunk_estimated);
            fill_long_context_result(result, items[i]->longctx, outcome);
            if (!result.error.empty()) result.scores.clear();
            if (options.progress) {
                std::lock_guard<std::mutex> lock(progress_mutex);
                options.progress(target.name + " " + result.suite + "/" + result.id +
                                 (result.error.empty() ? (result.passed ? " pass" : " fail") : " error"));
            }
            done[i] = std::move(result);
        },
        should_stop);
    for (auto& d : done) {
        if (d) target.items.push_back(std::move(*d));
        else complete = false;
    }
    aggregate_dimensions(target);
    return target;
}

size_t target_index(const std::vector<Target>& targets, const std::string& name) {
    for (size_t i = 0; i < targets.size(); ++i)
        if (targets[i].name == name) return i;
    return targets.size();
}

}  // namespace

Result<RunResults> run_eval(const RunOptions& options) {
    if (options.targets.empty()) return Status::invalid_argument("eval run: no --target");
    const bool pipeline = !options.pipeline_expert.empty() || !options.pipeline_daily.empty();
    if (pipeline && (target_index(options.targets, options.pipeline_expert) == options.targets.size() ||
                     target_index(options.targets, options.pipeline_daily) == options.targets.size()))
        return Status::invalid_argument("eval run: --pipeline %s,%s: both must name a --target",
                                        options.pipeline_expert.c_str(), options.pipeline_daily.c_str());
    LongContextOptions long_context = long_context_options(options);
    DUET_TRY(auto suites, load_suites(options.suites, options.evals_dir, long_context));
    std::unique_ptr<ResponseCache> cache;
    if (!options.cache_path.empty()) {
        DUET_TRY(cache, open_response_cache(options.cache_path, options.import_cache_path));
    }
    RunResults results;
    results.suites = options.suites;
    results.seed = options.seed;
    std::vector<std::unique_ptr<ModelCaller>> callers;
    for (const Target& t : options.targets) {
        callers.push_back(std::make_unique<ModelCaller>(t, options.policy, cache.get()));
        TargetResults target;
        target.name = t.name;
        target.url = t.url;
        target.model = t.model;
        results.targets.push_back(std::move(target));
    }
    // Long context: each target's tokens per estimated token, through its /tokenize, on the first document of each
    // language (the largest of them: a byte-level vocabulary counts a CJK character as 3, an English word as ~1.3
    // per estimated token); with --context the lengths are fitted to the largest factor of all targets (so the
    // longest document fits every one), and the pipeline's chunks to the expert's.
    std::map<std::string, const std::string*> samples;  // language -> its first document
    for (const SuiteItem& item : suites->items)
        if (item.kind == "longctx") samples.emplace(item.longctx.language, &item.longctx.document);
    int chunk_estimated = options.chunk_tokens;
    if (!samples.empty()) {
        double largest = 0;
        for (size_t t = 0; t < options.targets.size(); ++t) {
            double ratio = 0;
            for (const auto& [language, sample] : samples) {
                Result<int> counted = callers[t]->count_tokens(*sample);
                if (!counted.ok() || *counted <= 0) break;  // no tokenizer: the estimate stands for this target
                ratio = std::max(ratio, double(*counted) / std::max(1, estimate_tokens(*sample)));
            }
            if (ratio <= 0) continue;
            results.tokens_per_estimated[options.targets[t].name] = ratio;
            largest = std::max(largest, ratio);
        }
        if (options.context_tokens > 0 && largest > 0) {
            long_context.tokens_per_estimated = largest;
            long_context.reserve_tokens =
                options.max_tokens + int(std::ceil(kPromptOverheadTokens * std::max(1.0, largest)));
            results.lengths_fitted_with = largest;
            DUET_TRY(suites, load_suites(options.suites, options.evals_dir, long_context));
        }
        if (const auto expert = results.tokens_per_estimated.find(options.pipeline_expert);
            pipeline && expert != results.tokens_per_estimated.end())
            chunk_estimated = std::max(50, int(options.chunk_tokens / expert->second));
    }

    // Multiple choice by log-likelihood where the target echoes prompt logprobs on /v1/completions (probed once
    // per target), else by the letter it generates.
    std::vector<bool> by_loglik(options.targets.size(), false);
    const bool has_choices =
        std::any_of(suites->items.begin(), suites->items.end(), [](const SuiteItem& i) { return i.kind == "choice"; });
    for (size_t t = 0; t < options.targets.size(); ++t) {
        by_loglik[t] = has_choices && callers[t]->continuation_logprob("Answer:", " A").ok();
        results.targets[t].choice_method = !has_choices ? "" : by_loglik[t] ? "log-likelihood" : "generated letter";
    }

    const size_t n_items = suites->items.size();
    const size_t total = n_items * options.targets.size();
    std::vector<std::optional<ItemResult>> done(total);
    std::atomic<int> started{0}, finished{0};
    std::mutex progress_mutex;
    auto should_stop = [&] {
        if (options.stop && options.stop->load()) return true;
        return options.stop_after_items >= 0 && started.load() >= options.stop_after_items;
    };
    parallel_for(
        total, options.concurrency,
        [&](size_t i) {
            ++started;
            const size_t t = i / n_items;
            const SuiteItem& item = suites->items[i % n_items];
            done[i] = run_item(item, *callers[t], options, by_loglik[t]);
            const int f = ++finished;
            if (options.progress) {
                std::lock_guard<std::mutex> lock(progress_mutex);
                options.progress(progress_bar(f, total) + " " + options.targets[t].name + " " + item.suite + "/" +
                                 item.id() +
                                 (done[i]->error.empty() ? (done[i]->passed ? " pass" : " fail") : " error"));
            }
        },
        should_stop);
    for (size_t i = 0; i < total; ++i) {
        if (!done[i]) {
            results.complete = false;
            continue;
        }
        results.targets[i / n_items].items.push_back(std::move(*done[i]));
    }
    for (TargetResults& target : results.targets) aggregate_dimensions(target);
    const bool has_long_context =
        std::any_of(suites->items.begin(), suites->items.end(), [](const SuiteItem& i) { return i.kind == "longctx"; });
    if (pipeline && has_long_context && !should_stop()) {
        ModelCaller& expert = *callers[target_index(options.targets, options.pipeline_expert)];
        ModelCaller& daily = *callers[target_index(options.targets, options.pipeline_daily)];
        results.targets.push_back(
            run_pipeline(*suites, options, expert, daily, chunk_estimated, should_stop, results.complete));
    } else if (pipeline && has_long_context) {
        results.complete = false;
    }

    // The judge: the first two targets, item by item (dialogues only: not choices, code or long context), in both
    // orders.
    if (options.judge && results.targets.size() >= 2 && results.complete) {
        results.has_judge = true;
        JudgeResults& judge = results.judge;
        judge.url = options.judge->url;
        judge.model = options.judge->model;
        judge.target_a = results.targets[0].name;
        judge.target_b = results.targets[1].name;
        std::vector<std::pair<const ItemResult*, const ItemResult*>> pairs;
        for (const ItemResult& a : results.targets[0].items) {
            if (a.kind == "choice" || a.kind == "code" || a.kind == "longctx" || !a.error.empty()) continue;
            for (const ItemResult& b : results.targets[1].items)
                if (b.suite == a.suite && b.id == a.id && b.error.empty()) pairs.push_back({&a, &b});
        }
        ModelCaller judge_caller(*options.judge, options.policy, cache.get());
        judge.verdicts.resize(pairs.size());
        parallel_for(
            pairs.size(), options.concurrency,
            [&](size_t i) {
                const std::string a = transcript_text(pairs[i].first->transcript);
                const std::string b = transcript_text(pairs[i].second->transcript);
                JudgeVerdict& v = judge.verdicts[i];
                v.item = pairs[i].first->suite + "/" + pairs[i].first->id;
                auto ask = [&](const std::string& prompt) -> std::string {
                    Result<CachedReply> r = judge_caller.chat({{"user", prompt}}, 16, options.seed);
                    if (!r.ok()) return "error: " + r.status().message();
                    const std::string verdict = parse_judge_verdict(r->text);
                    return verdict.empty() ? "unreadable: " + r->text.substr(0, 80) : verdict;
                };
                v.first = ask(judge_prompt(a, b));
                const std::string swapped = ask(judge_prompt(b, a));
                v.swapped = swapped == "A" ? "B" : swapped == "B" ? "A" : swapped;
                const bool readable = (v.first == "A" || v.first == "B" || v.first == "tie") &&
                                      (v.swapped == "A" || v.swapped == "B" || v.swapped == "tie");
                v.inconsistent = readable && v.first != v.swapped;
                v.outcome = readable && !v.inconsistent ? v.first : "tie";
            },
            [] { return false; });
        for (const JudgeVerdict& v : judge.verdicts) {
            if (v.outcome == "A") ++judge.wins_a;
            else if (v.outcome == "B") ++judge.wins_b;
            else ++judge.ties;
            judge.inconsistent += v.inconsistent;
        }
    }
    return results;
}

}  // namespace duet::eval
