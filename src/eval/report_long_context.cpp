// report_long_context.cpp: the long-context section of the HTML report: reference accuracy by position and by
// length (one SVG polyline per target, the pipeline included) and the pipeline against direct answering, with the
// time of each stage. Only numbers and escaped names reach the page.
#include <cstdio>
#include <set>

#include "eval/results.h"

namespace duet::eval {
namespace {

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// Accuracy (0..1) over the distinct x values of `score`, evenly spaced along the axis.
std::string accuracy_chart(const RunResults& r, const std::string& score, const std::string& x_label, bool percent) {
    std::set<double> xs;
    for (const TargetResults& t : r.targets)
        for (const auto& [x, tally] : long_context_accuracy_by(t, score)) xs.insert(x);
    if (xs.empty()) return "";
    const std::vector<double> x_values(xs.begin(), xs.end());
    const int w = 520, h = 220, left = 50, right = 20, bottom = 40, top = 10;
    auto x_at = [&](double x) {
        size_t i = 0;
        while (x_values[i] != x) ++i;
        return x_values.size() == 1 ? left + (w - left - right) / 2.0
                                    : left + double(i) / double(x_values.size() - 1) * (w - left - right);
    };
    auto y_at = [&](double accuracy) { return (h - bottom) - accuracy * (h - bottom - top); };
    std::string svg = "<svg class=\"chart\" role=\"img\" width=\"" + std::to_string(w) + "\" height=\"" +
                      std::to_string(h) + "\" xmlns=\"http://www.w3.org/2000/svg\">";
    svg += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(h - bottom) + "\" x2=\"" +
           std::to_string(w - right) + "\" y2=\"" + std::to_string(h - bottom) + "\" stroke=\"#444\"/>";
    svg += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(top) + "\" x2=\"" + std::to_string(left) +
           "\" y2=\"" + std::to_string(h - bottom) + "\" stroke=\"#444\"/>";
    svg += "<text x=\"5\" y=\"" + std::to_string(top + 8) + "\">100%</text><text x=\"5\" y=\"" +
           std::to_string(h - bottom) + "\">0%</text>";
    for (double x : x_values)
        svg += "<text x=\"" + fixed(x_at(x) - 10, 1) + "\" y=\"" + std::to_string(h - bottom + 16) + "\">" +
               (percent ? fixed(x * 100, 0) + "%" : fixed(x, 0)) + "</text>";
    svg += "<text x=\"" + std::to_string(w / 2 - 40) + "\" y=\"" + std::to_string(h - 6) + "\">" + x_label + "</text>";
    for (size_t i = 0; i < r.targets.size(); ++i) {
        const std::map<double, Tally> by = long_context_accuracy_by(r.targets[i], score);
        if (by.empty()) continue;
        std::string points;
        for (const auto& [x, tally] : by) {
            const double px = x_at(x), py = y_at(double(tally.correct) / tally.total);
            points += fixed(px, 1) + "," + fixed(py, 1) + " ";
            svg += "<circle cx=\"" + fixed(px, 1) + "\" cy=\"" + fixed(py, 1) + "\" r=\"3\" fill=\"" + report_color(i) +
                   "\"/>";
        }
        svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(report_color(i)) + "\" points=\"" +
               points + "\"/>";
    }
    return svg + "</svg>";
}

// The estimated lengths in each target's own tokens: usage.prompt_tokens of the answering call, mean per length.
std::string prompt_tokens_table(const RunResults& r) {
    std::set<double> xs;
    for (const TargetResults& t : r.targets)
        for (const auto& [x, tally] : long_context_accuracy_by(t, "length")) xs.insert(x);
    std::string rows;
    for (const TargetResults& t : r.targets) {
        const std::map<double, Tally> tallies = long_context_accuracy_by(t, "length");
        bool any = false;
        std::string row = "<tr><td>" + html_escape(t.name) + "</td>";
        for (double x : xs) {
            const auto it = tallies.find(x);
            const double mean = it == tallies.end() ? -1 : it->second.mean_prompt_tokens();
            any = any || mean >= 0;
            row += "<td>" + (mean >= 0 ? fixed(mean, 0) : std::string("-")) + "</td>";
        }
        if (any) rows += row + "</tr>";
    }
    std::string measured;
    for (const auto& [name, ratio] : r.tokens_per_estimated)
        measured += " " + html_escape(name) + " " + fixed(ratio, 2) + ";";
    if (!measured.empty())
        measured =
            "\n<p>Tokens per estimated token (the targets' /tokenize on one document per language):" + measured +
            (r.lengths_fitted_with != 1 ? " --context lengths fitted with " + fixed(r.lengths_fitted_with, 2) + "."
                                        : std::string()) +
            "</p>";
    if (rows.empty())
        return measured +
               "\n<p>Lengths are estimated tokens (4 ASCII bytes or 1 CJK character per token); no target "
               "reported usage.</p>";
    std::string h =
        measured +
        "\n<p>Lengths are estimated tokens (4 ASCII bytes or 1 CJK character per token), the same documents for every "
        "target. The prompts as each target counted them (usage.prompt_tokens, mean per length; the pipeline's "
        "answering prompt holds the summaries):</p>\n<table><tr><th>target</th>";
    for (double x : xs) h += "<th>" + fixed(x, 0) + "</th>";
    return h + "</tr>" + rows + "</table>";
}

}  // namespace

std::string render_long_context_html(const RunResults& r) {
    bool any = false;
    for (const TargetResults& t : r.targets) any = any || t.dimensions.count("longctx_accuracy");
    if (!any) return "";
    std::string h = "<h2>Long context</h2>\n<p class=\"legend\">";
    for (size_t i = 0; i < r.targets.size(); ++i)
        if (r.targets[i].dimensions.count("longctx_accuracy"))
            h += "<span style=\"color:" + std::string(report_color(i)) + "\">&#9632; " +
                 html_escape(r.targets[i].name) + "</span> ";
    h += "</p>\n<h3>Reference accuracy by document position</h3>\n" +
         accuracy_chart(r, "position", "position of the fact", true);
    h += "\n<h3>Reference accuracy by document length</h3>\n" +
         accuracy_chart(r, "length", "document length (estimated tokens)", false);
    h += prompt_tokens_table(r);
    h += "\n<h3>Summarise-then-answer against direct answering</h3>\n<table><tr><th>target</th><th>accuracy</th>"
         "<th>summarise stage (s per item)</th><th>answer stage (s per item)</th><th>total (s per item)</th></tr>";
    for (const TargetResults& t : r.targets) {
        const auto acc = t.dimensions.find("longctx_accuracy");
        if (acc == t.dimensions.end()) continue;
        const auto sum = t.dimensions.find("longctx_summarise_seconds");
        const auto ans = t.dimensions.find("longctx_answer_seconds");
        const double summarise = sum == t.dimensions.end() ? 0 : sum->second;
        const double answer = ans == t.dimensions.end() ? 0 : ans->second;
        h += "<tr><td>" + html_escape(t.name) + "</td><td>" + fixed(acc->second * 100, 1) + "%</td><td>" +
             (sum == t.dimensions.end() ? std::string("-") : fixed(summarise, 2)) + "</td><td>" + fixed(answer, 2) +
             "</td><td>" + fixed(summarise + answer, 2) + "</td></tr>";
    }
    return h + "</table>\n";
}

}  // namespace duet::eval
