// results.h: what `duet eval run` produces: per target, one ItemResult per suite item (scores, transcript, timing)
// and the dimensions aggregated from them; the judge's pairwise verdicts. Plain structs: results_codec.cpp turns
// them into results.json (and back, for `duet eval compare`), report_html.cpp / report_md.cpp render them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "eval/dialogue.h"

namespace duet::eval {

// Latency of one model call, measured on the stream (or read back from the cache with the reply), and the
// target's own token counts from the stream's `usage` (asked for with stream_options.include_usage).
struct CallTiming {
    double ttft_seconds = -1;  // first content chunk after the request was sent (-1: none)
    double total_seconds = 0;
    std::vector<double> chunk_intervals;  // seconds between consecutive content chunks
    std::vector<int> chunk_chars;         // UTF-8 code points per content chunk
    int prompt_tokens = -1;               // usage.prompt_tokens: the prompt in the target's tokenizer (-1: not sent)
    int completion_tokens = -1;           // usage.completion_tokens (-1: not sent)
};

struct ItemResult {
    std::string suite;  // "flows", "probes", ...
    std::string kind;   // flow, probe, clarify, choice, code
    std::string id;
    std::string error;    // the target failed on this item (unreachable, garbage, ...); scores are then absent
    bool passed = false;  // all checks / the right letter / the tests passed / satisfied
    std::map<std::string, double> scores;  // per-kind numbers (task_coherence, rounds, correct, ...)
    std::vector<std::string> notes;        // failed checks and other one-line explanations
    std::vector<Message> transcript;
    std::vector<CallTiming> calls;
};

// The dimensions a report compares (means over the items that ran without error; absent when none did):
//   flow_task_coherence, flow_context_reuse (per flow), flow_coreference_errors (per flow), flow_ai_speak,
//   probe_pass_rate (+ probe_<type>_pass_rate), clarify_rounds (mean over satisfied), clarify_satisfied_rate,
//   choice_accuracy, code_pass_rate, longctx_accuracy, longctx_answer_seconds, longctx_summarise_seconds (the
//   pipeline's pseudo-target only), items_failed (count), ttft_p50_ms, ttft_p90_ms
struct TargetResults {
    std::string name, url, model;
    std::vector<ItemResult> items;
    std::map<std::string, double> dimensions;
    std::string choice_method;  // how multiple choice was scored: "log-likelihood" or "generated letter"
};

// One pairwise judgement of the same item answered by targets A and B, asked in both orders.
struct JudgeVerdict {
    std::string item;           // suite/id
    std::string first;          // verdict with A shown first: "A", "B", "tie", or "error: ..."
    std::string swapped;        // verdict with B shown first, mapped back to the targets ("A" means target A)
    std::string outcome;        // "A", "B", or "tie"
    bool inconsistent = false;  // the two orders disagreed (counted as a tie)
};

struct JudgeResults {
    std::string url, model;
    std::string target_a, target_b;
    std::vector<JudgeVerdict> verdicts;
    int wins_a = 0, wins_b = 0, ties = 0, inconsistent = 0;
};

struct RunResults {
    std::vector<std::string> suites;
    // Long context: each target's tokens per estimated token on a sample document, from its /tokenize (targets
    // without one are absent), and the factor --context lengths were fitted with (1: none measured or no --context).
    std::map<std::string, double> tokens_per_estimated;
    double lengths_fitted_with = 1;
    uint64_t seed = 0;
    bool complete = true;  // false when the run was stopped before every item ran
    std::vector<TargetResults> targets;
    bool has_judge = false;
    JudgeResults judge;
};

// Fills target.dimensions from its items.
void aggregate_dimensions(TargetResults& target);

// The dimensions named in reports, in display order, with a label and whether higher is better.
struct DimensionInfo {
    const char* key;
    const char* label;
    bool higher_is_better;
};
const std::vector<DimensionInfo>& known_dimensions();

// Long-context items of a target grouped by one of their scores ("position" or "length"): value -> (correct, total)
// and the target's own prompt-token counts of those items (usage.prompt_tokens, where the target sent it). Items
// that errored are left out.
struct Tally {
    int correct = 0, total = 0;
    double prompt_tokens_sum = 0;
    int prompt_tokens_counted = 0;  // items whose target reported usage
    double mean_prompt_tokens() const { return prompt_tokens_counted ? prompt_tokens_sum / prompt_tokens_counted : -1; }
};
std::map<double, Tally> long_context_accuracy_by(const TargetResults& target, const std::string& score);

// results.json
std::string results_to_json(const RunResults& results);
Result<RunResults> results_from_json(const std::string& text, const std::string& source);

// `duet eval compare`: per target present in both (matched by name), each dimension's value in A and B and the
// difference, as text lines.
std::string compare_results(const RunResults& a, const RunResults& b);

// Reports (self-contained: inline CSS and SVG, no script; all model text escaped).
std::string render_report_html(const RunResults& results);
std::string render_report_markdown(const RunResults& results);
std::string html_escape(const std::string& text);
// The long-context part of the HTML report ("" without long-context items): accuracy by document position and by
// length (SVG lines, one per target; the pipeline is one of them) and pipeline vs direct with per-stage time.
std::string render_long_context_html(const RunResults& results);
const char* report_color(size_t target_index);  // the colour of a target's series in every chart

}  // namespace duet::eval
