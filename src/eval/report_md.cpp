// report_md.cpp: the Markdown report: dimensions per target, the judge, and one line per failed item.
#include <cstdio>
#include <map>
#include <set>

#include "eval/results.h"

namespace duet::eval {

namespace {

// Model text in a table cell: one line, pipes and HTML-ish characters neutralised.
std::string cell(const std::string& text) {
    std::string out;
    for (char c : text.substr(0, 160)) {
        if (c == '\n' || c == '\r') out += ' ';
        else if (c == '|') out += "\\|";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

}  // namespace

std::string render_report_markdown(const RunResults& r) {
    std::string md = "# duet eval report\n\nsuites:";
    for (const std::string& s : r.suites) md += " " + cell(s);
    md += ", seed " + std::to_string(r.seed) + (r.complete ? "" : " (**incomplete run**)") + "\n\n";
    md += "| dimension |";
    for (const TargetResults& t : r.targets) md += " " + cell(t.name) + " |";
    md += "\n|---|";
    for (size_t i = 0; i < r.targets.size(); ++i) md += "---:|";
    md += "\n";
    char buf[64];
    for (const DimensionInfo& d : known_dimensions()) {
        bool any = false;
        for (const TargetResults& t : r.targets) any = any || t.dimensions.count(d.key);
        if (!any) continue;
        md += std::string("| ") + d.label + " |";
        for (const TargetResults& t : r.targets) {
            if (t.dimensions.count(d.key)) {
                std::snprintf(buf, sizeof buf, " %.3f |", t.dimensions.at(d.key));
                md += buf;
            } else {
                md += " - |";
            }
        }
        md += "\n";
    }
    std::string methods;
    for (const TargetResults& t : r.targets)
        if (!t.choice_method.empty()) methods += " " + cell(t.name) + ": " + cell(t.choice_method) + ";";
    if (!methods.empty()) md += "\nMultiple choice scored by:" + methods + "\n";
    for (const std::string by : {"position", "length"}) {
        std::set<double> xs;
        for (const TargetResults& t : r.targets)
            for (const auto& [x, tally] : long_context_accuracy_by(t, by)) xs.insert(x);
        if (xs.empty()) continue;
        const bool percent = by == "position";
        md += "\n## Long context: reference accuracy by " + by + " (correct / items)\n\n| target |";
        for (double x : xs) {
            std::snprintf(buf, sizeof buf, percent ? " %.0f%% |" : " %.0f |", percent ? x * 100 : x);
            md += buf;
        }
        md += "\n|---|";
        for (size_t i = 0; i < xs.size(); ++i) md += "---:|";
        md += "\n";
        for (const TargetResults& t : r.targets) {
            const std::map<double, Tally> tallies = long_context_accuracy_by(t, by);
            if (tallies.empty()) continue;
            md += "| " + cell(t.name) + " |";
            for (double x : xs) {
                const auto it = tallies.find(x);
                if (it == tallies.end()) {
                    md += " - |";
                    continue;
                }
                std::snprintf(buf, sizeof buf, " %d/%d |", it->second.correct, it->second.total);
                md += buf;
            }
            md += "\n";
        }
        if (by != "length") continue;
        // What the estimated lengths are in each target's own tokenizer (usage.prompt_tokens of the answering
        // call: the pipeline's is the summaries, not the document).
        std::string counted;
        for (const TargetResults& t : r.targets) {
            const std::map<double, Tally> tallies = long_context_accuracy_by(t, by);
            bool any = false;
            std::string row = "| " + cell(t.name) + " |";
            for (double x : xs) {
                const auto it = tallies.find(x);
                const double mean = it == tallies.end() ? -1 : it->second.mean_prompt_tokens();
                any = any || mean >= 0;
                std::snprintf(buf, sizeof buf, mean >= 0 ? " %.0f |" : " - |", mean);
                row += buf;
            }
            if (any) counted += row + "\n";
        }
        if (!r.tokens_per_estimated.empty()) {
            md += "\nTokens per estimated token (the targets' /tokenize on one document per language):";
            for (const auto& [name, ratio] : r.tokens_per_estimated) {
                std::snprintf(buf, sizeof buf, " %.2f;", ratio);
                md += " " + cell(name) + buf;
            }
            if (r.lengths_fitted_with != 1) {
                std::snprintf(buf, sizeof buf, " --context lengths fitted with %.2f.", r.lengths_fitted_with);
                md += buf;
            }
            md += "\n";
        }
        if (counted.empty()) {
            md +=
                "\nLengths are estimated tokens (4 ASCII bytes or 1 CJK character per token); no target reported "
                "usage.\n";
            continue;
        }
        md +=
            "\nLengths above are estimated tokens (4 ASCII bytes or 1 CJK character per token), the same documents "
            "for every target. The prompts as each target counted them (usage.prompt_tokens, mean per length; the "
            "pipeline's answering prompt holds the summaries):\n\n| target |";
        for (double x : xs) {
            std::snprintf(buf, sizeof buf, " %.0f |", x);
            md += buf;
        }
        md += "\n|---|";
        for (size_t i = 0; i < xs.size(); ++i) md += "---:|";
        md += "\n" + counted;
    }
    if (r.has_judge) {
        const JudgeResults& j = r.judge;
        md += "\n## Judge\n\n" + cell(j.model) + ": " + cell(j.target_a) + " wins " + std::to_string(j.wins_a) + ", " +
              cell(j.target_b) + " wins " + std::to_string(j.wins_b) + ", ties " + std::to_string(j.ties) + " (" +
              std::to_string(j.inconsistent) + " inconsistent under position swap, counted as ties)\n";
    }
    md += "\n## Items not passed\n\n| target | item | why |\n|---|---|---|\n";
    for (const TargetResults& t : r.targets)
        for (const ItemResult& item : t.items) {
            if (item.passed) continue;
            const std::string why = !item.error.empty()  ? "error: " + item.error
                                    : item.notes.empty() ? std::string("failed")
                                                         : item.notes.front();
            md += "| " + cell(t.name) + " | " + cell(item.suite + "/" + item.id) + " | " + cell(why) + " |\n";
        }
    return md;
}

}  // namespace duet::eval
