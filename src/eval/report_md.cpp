// report_md.cpp: the Markdown report: dimensions per target, the judge, and one line per failed item.
#include <cstdio>

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
    md += "\nMultiple choice scored by:";
    for (const TargetResults& t : r.targets) md += " " + cell(t.name) + ": " + cell(t.choice_method) + ";";
    md += "\n";
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
