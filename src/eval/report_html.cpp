// report_html.cpp: the self-contained HTML report: inline CSS, inline SVG charts (each dimension side by side per
// target, TTFT CDF, inter-chunk interval CDF, characters per chunk), the judge's verdicts and every transcript in
// a <details>. No script. Every string that came from a model, a suite or a URL goes through html_escape.
#include <algorithm>
#include <cstdio>

#include "eval/results.h"

namespace duet::eval {

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

const char* report_color(size_t i) {
    static const char* const kColors[] = {"#3b6fd6", "#d6803b", "#3bab6f", "#a33bd6", "#d63b5a", "#6b6b6b"};
    return kColors[i % 6];
}

namespace {

const char* color(size_t i) { return report_color(i); }

std::string num(double v, int decimals = 3) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// One horizontal group of bars per dimension, a bar per target, scaled to the largest value of that dimension.
std::string dimension_chart(const RunResults& r) {
    std::vector<const DimensionInfo*> dims;
    for (const DimensionInfo& d : known_dimensions())
        for (const TargetResults& t : r.targets)
            if (t.dimensions.count(d.key) && std::find(dims.begin(), dims.end(), &d) == dims.end()) dims.push_back(&d);
    const int bar = 14, group = int(r.targets.size()) * bar + 12, width = 760, label_w = 300;
    std::string svg = "<svg class=\"chart\" role=\"img\" width=\"" + std::to_string(width) + "\" height=\"" +
                      std::to_string(int(dims.size()) * group + 10) + "\" xmlns=\"http://www.w3.org/2000/svg\">";
    int y = 5;
    for (const DimensionInfo* d : dims) {
        double max = 0;
        for (const TargetResults& t : r.targets)
            if (t.dimensions.count(d->key)) max = std::max(max, t.dimensions.at(d->key));
        svg += "<text x=\"0\" y=\"" + std::to_string(y + 12) + "\">" + html_escape(d->label) + "</text>";
        for (size_t i = 0; i < r.targets.size(); ++i) {
            const auto it = r.targets[i].dimensions.find(d->key);
            if (it == r.targets[i].dimensions.end()) continue;
            const double w = max > 0 ? it->second / max * (width - label_w - 70) : 0;
            const int by = y + int(i) * bar;
            svg += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(by) + "\" width=\"" + num(w, 1) +
                   "\" height=\"" + std::to_string(bar - 2) + "\" fill=\"" + color(i) + "\"/>";
            svg += "<text x=\"" + num(label_w + w + 4, 1) + "\" y=\"" + std::to_string(by + 11) + "\">" +
                   num(it->second) + "</text>";
        }
        y += group;
    }
    return svg + "</svg>";
}

// An empirical CDF per target of `values` (one series per target), x in the series' unit.
std::string cdf_chart(const std::vector<std::vector<double>>& series, const std::string& unit) {
    const int w = 520, h = 220, left = 50, bottom = 30;
    double max = 0;
    for (const auto& s : series)
        for (double v : s) max = std::max(max, v);
    if (max <= 0) max = 1;
    std::string svg = "<svg class=\"chart\" role=\"img\" width=\"" + std::to_string(w) + "\" height=\"" +
                      std::to_string(h) + "\" xmlns=\"http://www.w3.org/2000/svg\">";
    svg += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(h - bottom) + "\" x2=\"" +
           std::to_string(w - 10) + "\" y2=\"" + std::to_string(h - bottom) + "\" stroke=\"#444\"/>";
    svg += "<line x1=\"" + std::to_string(left) + "\" y1=\"10\" x2=\"" + std::to_string(left) + "\" y2=\"" +
           std::to_string(h - bottom) + "\" stroke=\"#444\"/>";
    svg += "<text x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(h - 8) + "\">0</text>";
    svg += "<text x=\"" + std::to_string(w - 90) + "\" y=\"" + std::to_string(h - 8) + "\">" + num(max, 1) + " " +
           html_escape(unit) + "</text><text x=\"5\" y=\"18\">1.0</text>";
    for (size_t i = 0; i < series.size(); ++i) {
        std::vector<double> s = series[i];
        if (s.empty()) continue;
        std::sort(s.begin(), s.end());
        std::string points;
        for (size_t k = 0; k < s.size(); ++k) {
            const double x = left + s[k] / max * (w - left - 10);
            const double y = (h - bottom) - double(k + 1) / double(s.size()) * (h - bottom - 10);
            points += num(x, 1) + "," + num(y, 1) + " ";
        }
        svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(color(i)) + "\" points=\"" +
               points + "\"/>";
    }
    return svg + "</svg>";
}

std::string legend(const RunResults& r) {
    std::string out = "<p class=\"legend\">";
    for (size_t i = 0; i < r.targets.size(); ++i)
        out += "<span style=\"color:" + std::string(color(i)) + "\">&#9632; " + html_escape(r.targets[i].name) +
               "</span> ";
    return out + "</p>";
}

}  // namespace

std::string render_report_html(const RunResults& r) {
    std::string h =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>duet eval report</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}.chart text{font-size:12px}"
        "details{margin:4px 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:6px}"
        ".error{color:#b00}.pass{color:#080}.fail{color:#b60}</style></head><body>\n";
    h += "<h1>duet eval report</h1>\n<p>suites: ";
    for (const std::string& s : r.suites) h += html_escape(s) + " ";
    h += "&middot; seed " + std::to_string(r.seed) + (r.complete ? "" : " &middot; <b>incomplete run</b>") + "</p>\n";
    h += "<table><tr><th>target</th><th>url</th><th>model</th><th>multiple choice scored by</th></tr>";
    for (const TargetResults& t : r.targets)
        h += "<tr><td>" + html_escape(t.name) + "</td><td>" + html_escape(t.url) + "</td><td>" + html_escape(t.model) +
             "</td><td>" + html_escape(t.choice_method) + "</td></tr>";
    h += "</table>\n<h2>Scores per dimension</h2>\n" + legend(r) + dimension_chart(r) + "\n";
    h += "<table><tr><th>dimension</th>";
    for (const TargetResults& t : r.targets) h += "<th>" + html_escape(t.name) + "</th>";
    h += "</tr>";
    for (const DimensionInfo& d : known_dimensions()) {
        bool any = false;
        for (const TargetResults& t : r.targets) any = any || t.dimensions.count(d.key);
        if (!any) continue;
        h += "<tr><td>" + html_escape(d.label) + "</td>";
        for (const TargetResults& t : r.targets)
            h += "<td>" + (t.dimensions.count(d.key) ? num(t.dimensions.at(d.key)) : std::string("-")) + "</td>";
        h += "</tr>";
    }
    h += "</table>\n";

    std::vector<std::vector<double>> ttft, intervals, chars;
    for (const TargetResults& t : r.targets) {
        ttft.emplace_back();
        intervals.emplace_back();
        chars.emplace_back();
        for (const ItemResult& item : t.items)
            for (const CallTiming& c : item.calls) {
                if (c.ttft_seconds >= 0) ttft.back().push_back(c.ttft_seconds * 1000);
                for (double v : c.chunk_intervals) intervals.back().push_back(v * 1000);
                for (int n : c.chunk_chars) chars.back().push_back(n);
            }
    }
    h += "<h2>Latency</h2>\n<h3>Time to first token (CDF)</h3>\n" + legend(r) + cdf_chart(ttft, "ms");
    h += "\n<h3>Streaming rhythm: interval between chunks (CDF)</h3>\n" + cdf_chart(intervals, "ms");
    h += "\n<h3>Characters per chunk (CDF)</h3>\n" + cdf_chart(chars, "chars") + "\n";

    h += render_long_context_html(r);

    if (r.has_judge) {
        const JudgeResults& j = r.judge;
        h += "<h2>Judge</h2>\n<p>" + html_escape(j.model) + " at " + html_escape(j.url) + ": " +
             html_escape(j.target_a) + " wins " + std::to_string(j.wins_a) + ", " + html_escape(j.target_b) + " wins " +
             std::to_string(j.wins_b) + ", ties " + std::to_string(j.ties) + " (of which " +
             std::to_string(j.inconsistent) + " inconsistent under position swap)</p>\n";
        h += "<table><tr><th>item</th><th>A first</th><th>B first</th><th>outcome</th></tr>";
        for (const JudgeVerdict& v : j.verdicts)
            h += "<tr><td>" + html_escape(v.item) + "</td><td>" + html_escape(v.first) + "</td><td>" +
                 html_escape(v.swapped) + "</td><td>" + html_escape(v.outcome) +
                 (v.inconsistent ? " (inconsistent)" : "") + "</td></tr>";
        h += "</table>\n";
    }

    h += "<h2>Transcripts</h2>\n";
    for (const TargetResults& t : r.targets) {
        h += "<h3>" + html_escape(t.name) + "</h3>\n";
        for (const ItemResult& item : t.items) {
            const char* cls = !item.error.empty() ? "error" : item.passed ? "pass" : "fail";
            h += "<details><summary class=\"" + std::string(cls) + "\">" + html_escape(item.suite + "/" + item.id) +
                 " &middot; " + cls + "</summary>\n";
            if (!item.error.empty()) h += "<p class=\"error\">" + html_escape(item.error) + "</p>\n";
            for (const Message& m : item.transcript)
                h += "<p><b>" + html_escape(m.role) + "</b></p><pre>" + html_escape(m.content) + "</pre>\n";
            if (!item.notes.empty()) {
                h += "<ul>";
                for (const std::string& n : item.notes) h += "<li>" + html_escape(n) + "</li>";
                h += "</ul>\n";
            }
            h += "</details>\n";
        }
    }
    return h + "</body></html>\n";
}

}  // namespace duet::eval
