// results.cpp: aggregating item scores into dimensions, and comparing two runs.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "eval/results.h"

namespace duet::eval {

const std::vector<DimensionInfo>& known_dimensions() {
    static const std::vector<DimensionInfo> dims = {
        {"flow_task_coherence", "flow task coherence", true},
        {"flow_context_reuse", "flow context reuse (per flow)", true},
        {"flow_coreference_errors", "flow coreference errors (per flow)", false},
        {"flow_confirmations", "flow confirmations (per flow)", false},
        {"flow_ai_speak", "AI-speak phrases (per flow)", false},
        {"probe_pass_rate", "probes passed", true},
        {"probe_cold_start_pass_rate", "cold-start probes passed", true},
        {"probe_false_premise_pass_rate", "false-premise probes passed", true},
        {"probe_boundary_pass_rate", "boundary probes passed", true},
        {"probe_ai_speak_pass_rate", "AI-speak probes passed", true},
        {"clarify_satisfied_rate", "clarification dialogues satisfied", true},
        {"clarify_rounds", "clarification rounds (satisfied dialogues)", false},
        {"choice_accuracy", "multiple-choice accuracy", true},
        {"code_pass_rate", "code pass rate", true},
        {"longctx_accuracy", "long-context reference accuracy", true},
        {"longctx_summarise_seconds", "long context: summarise stage (s per item)", false},
        {"longctx_answer_seconds", "long context: answer stage (s per item)", false},
        {"items_failed", "items failed (target errors)", false},
        {"ttft_p50_ms", "TTFT p50 (ms)", false},
        {"ttft_p90_ms", "TTFT p90 (ms)", false},
    };
    return dims;
}

namespace {

struct Mean {
    double sum = 0;
    int n = 0;
    void add(double v) { sum += v, ++n; }
};

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const size_t i = size_t(std::ceil(p * double(v.size()))) - 1;
    return v[std::min(i, v.size() - 1)];
}

}  // namespace

void aggregate_dimensions(TargetResults& target) {
    std::map<std::string, Mean> means;
    int failed = 0;
    std::vector<double> ttfts;
    for (const ItemResult& item : target.items) {
        for (const CallTiming& call : item.calls)
            if (call.ttft_seconds >= 0) ttfts.push_back(call.ttft_seconds * 1000);
        if (!item.error.empty()) {
            ++failed;
            continue;
        }
        const auto score = [&](const char* key) {
            const auto it = item.scores.find(key);
            return it == item.scores.end() ? 0.0 : it->second;
        };
        if (item.kind == "flow") {
            means["flow_task_coherence"].add(score("task_coherence"));
            means["flow_context_reuse"].add(score("context_reuses"));
            means["flow_coreference_errors"].add(score("coreference_errors"));
            means["flow_confirmations"].add(score("confirmations"));
            means["flow_ai_speak"].add(score("ai_speak"));
        } else if (item.kind == "probe") {
            means["probe_pass_rate"].add(item.passed ? 1 : 0);
            for (const auto& [key, value] : item.scores)
                if (key.rfind("probe_", 0) == 0) means[key + "_pass_rate"].add(value);
        } else if (item.kind == "clarify") {
            means["clarify_satisfied_rate"].add(item.passed ? 1 : 0);
            if (item.passed) means["clarify_rounds"].add(score("rounds"));
        } else if (item.kind == "choice") {
            means["choice_accuracy"].add(item.passed ? 1 : 0);
        } else if (item.kind == "code") {
            means["code_pass_rate"].add(item.passed ? 1 : 0);
        } else if (item.kind == "longctx") {
            means["longctx_accuracy"].add(item.passed ? 1 : 0);
            means["longctx_answer_seconds"].add(score("answer_seconds"));
            if (item.scores.count("summarise_seconds"))
                means["longctx_summarise_seconds"].add(score("summarise_seconds"));
        }
    }
    target.dimensions.clear();
    for (const auto& [key, mean] : means) target.dimensions[key] = mean.sum / mean.n;
    target.dimensions["items_failed"] = failed;
    if (!ttfts.empty()) {
        target.dimensions["ttft_p50_ms"] = percentile(ttfts, 0.5);
        target.dimensions["ttft_p90_ms"] = percentile(ttfts, 0.9);
    }
}

std::map<double, Tally> long_context_accuracy_by(const TargetResults& target, const std::string& score) {
    std::map<double, Tally> out;
    for (const ItemResult& item : target.items) {
        if (item.kind != "longctx" || !item.error.empty()) continue;
        const auto it = item.scores.find(score);
        if (it == item.scores.end()) continue;
        Tally& t = out[it->second];
        t.correct += item.passed ? 1 : 0;
        ++t.total;
        if (const auto tokens = item.scores.find("prompt_tokens"); tokens != item.scores.end()) {
            t.prompt_tokens_sum += tokens->second;
            ++t.prompt_tokens_counted;
        }
    }
    return out;
}

std::string compare_results(const RunResults& a, const RunResults& b) {
    std::string out;
    char line[256];
    // What each run covered: a dimension over different items or seeds is not a change of the model alone.
    auto describe = [](const RunResults& r) {
        std::string s;
        for (const std::string& suite : r.suites) s += (s.empty() ? "" : ",") + suite;
        return s + ", seed " + std::to_string(r.seed) + (r.complete ? "" : " (incomplete)");
    };
    out += "A: " + describe(a) + "\nB: " + describe(b) + "\n";
    if (a.suites != b.suites)
        out += "(the runs used different suites: dimensions present in both may cover different items)\n";
    for (const TargetResults& ta : a.targets) {
        const TargetResults* tb = nullptr;
        for (const TargetResults& t : b.targets)
            if (t.name == ta.name) tb = &t;
        if (!tb) {
            out += "target " + ta.name + ": only in A\n";
            continue;
        }
        out += "target " + ta.name + "\n";
        std::snprintf(line, sizeof line, "  %-44s %10s %10s %10s\n", "dimension", "A", "B", "B-A");
        out += line;
        for (const DimensionInfo& d : known_dimensions()) {
            const auto ia = ta.dimensions.find(d.key), ib = tb->dimensions.find(d.key);
            const bool has_a = ia != ta.dimensions.end(), has_b = ib != tb->dimensions.end();
            if (!has_a && !has_b) continue;
            if (has_a && has_b) {
                const double diff = ib->second - ia->second;
                const char* mark = diff == 0 ? "" : ((diff > 0) == d.higher_is_better ? "  better" : "  worse");
                std::snprintf(line, sizeof line, "  %-44s %10.3f %10.3f %+10.3f%s\n", d.label, ia->second, ib->second,
                              diff, mark);
            } else {
                char va[32] = "-", vb[32] = "-";
                if (has_a) std::snprintf(va, sizeof va, "%.3f", ia->second);
                if (has_b) std::snprintf(vb, sizeof vb, "%.3f", ib->second);
                std::snprintf(line, sizeof line, "  %-44s %10s %10s\n", d.label, va, vb);
            }
            out += line;
        }
    }
    for (const TargetResults& tb : b.targets) {
        bool in_a = false;
        for (const TargetResults& t : a.targets) in_a = in_a || t.name == tb.name;
        if (!in_a) out += "target " + tb.name + ": only in B\n";
    }
    return out;
}

}  // namespace duet::eval
