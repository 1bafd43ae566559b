// test_report.cpp: results.json round-trips, `compare` diffs per dimension, and the HTML report is well formed
// (every element closed in order), carries its SVG charts and <details> transcripts, and escapes model text.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "eval/results.h"

namespace duet::eval {
namespace {

RunResults sample_results() {
    RunResults r;
    r.suites = {"flows", "ceval"};
    r.seed = 7;
    for (const char* name : {"big", "small"}) {
        TargetResults t;
        t.name = name;
        t.url = "http://127.0.0.1:1/v1";
        t.model = std::string(name) + "-model";
        t.choice_method = "generated letter";
        ItemResult flow;
        flow.suite = "flows";
        flow.kind = "flow";
        flow.id = "kb";
        flow.passed = name == std::string("big");
        flow.scores = {{"task_coherence", flow.passed ? 1.0 : 0.5}, {"context_reuses", 2}};
        flow.transcript = {{"user", "hi & <b>bold</b>"}, {"assistant", "<script>alert('x')</script> done"}};
        flow.notes = {"mention >= 1 of [<HHKB>]: none"};
        flow.calls = {{0.12, 0.5, {0.05, 0.07}, {3, 3, 2}}, {0.2, 0.4, {0.1}, {5, 1}}};
        ItemResult choice;
        choice.suite = "ceval";
        choice.kind = "choice";
        choice.id = "q1";
        choice.passed = true;
        choice.scores = {{"correct", 1}};
        t.items = {flow, choice};
        aggregate_dimensions(t);
        r.targets.push_back(t);
    }
    r.has_judge = true;
    r.judge.target_a = "big";
    r.judge.target_b = "small";
    r.judge.verdicts = {{"flows/kb", "A", "B", "tie", true}};
    r.judge.ties = 1;
    r.judge.inconsistent = 1;
    return r;
}

// Checks that every non-void element is closed in order; returns "" or what went wrong.
std::string check_well_formed(const std::string& html, std::vector<std::string>* tags_seen) {
    static const std::vector<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
    std::vector<std::string> stack;
    size_t i = 0;
    while ((i = html.find('<', i)) != std::string::npos) {
        const size_t end = html.find('>', i);
        if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
        std::string tag = html.substr(i + 1, end - i - 1);
        i = end + 1;
        if (tag.empty()) return "empty tag";
        if (tag[0] == '!') continue;  // doctype
        const bool closing = tag[0] == '/';
        const bool self_closing = tag.back() == '/';
        std::string name = tag.substr(closing ? 1 : 0);
        name = name.substr(0, name.find_first_of(" /"));
        if (tags_seen) tags_seen->push_back(name);
        if (closing) {
            if (stack.empty() || stack.back() != name)
                return "</" + name + "> closes <" + (stack.empty() ? "" : stack.back()) + ">";
            stack.pop_back();
        } else if (!self_closing && std::find(kVoid.begin(), kVoid.end(), name) == kVoid.end()) {
            stack.push_back(name);
        }
    }
    return stack.empty() ? "" : "<" + stack.back() + "> never closed";
}

TEST(EvalReport, HtmlIsWellFormedWithChartsAndEscapedModelText) {
    const std::string html = render_report_html(sample_results());
    std::vector<std::string> tags;
    EXPECT_EQ(check_well_formed(html, &tags), "");
    auto count = [&](const std::string& name) { return std::count(tags.begin(), tags.end(), name); };
    EXPECT_EQ(count("script"), 0);  // the model's <script> is text, not an element
    EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(html.find("hi &amp; &lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
    EXPECT_NE(html.find("[&lt;HHKB&gt;]"), std::string::npos);
    EXPECT_EQ(count("svg") / 2, 4);      // dimensions, TTFT CDF, chunk intervals, chars per chunk (open + close)
    EXPECT_GE(count("rect"), 4);         // bars: 2 targets x at least 2 dimensions
    EXPECT_EQ(count("polyline"), 6);     // 3 CDFs x 2 targets
    EXPECT_EQ(count("details") / 2, 4);  // 2 items x 2 targets
    EXPECT_NE(html.find("inconsistent"), std::string::npos);
    EXPECT_EQ(html.find("http://www.w3.org/1999/xhtml\" src"), std::string::npos);  // nothing fetched from outside
    EXPECT_EQ(html.find(" src="), std::string::npos);
}

TEST(EvalReport, MarkdownListsDimensionsAndFailures) {
    const std::string md = render_report_markdown(sample_results());
    EXPECT_NE(md.find("| dimension | big | small |"), std::string::npos);
    EXPECT_NE(md.find("| flow task coherence | 1.000 | 0.500 |"), std::string::npos);
    EXPECT_NE(md.find("| small | flows/kb | mention &gt;= 1 of [&lt;HHKB&gt;]: none |"), std::string::npos);
    EXPECT_NE(md.find("1 inconsistent under position swap"), std::string::npos);
}

// Two direct targets and the pipeline over 4 long-context items (positions 0 and 1, lengths 1000 and 2000).
RunResults long_context_results() {
    RunResults r;
    r.suites = {"longctx"};
    const std::vector<std::pair<std::string, std::vector<bool>>> targets = {{"expert", {true, true, true, false}},
                                                                            {"daily", {true, false, false, false}},
                                                                            {"pipeline:expert>daily",
                                                                             {true, true, true, true}}};
    for (const auto& [name, correct] : targets) {
        TargetResults t;
        t.name = name;
        for (int i = 0; i < 4; ++i) {
            ItemResult item;
            item.suite = "longctx";
            item.kind = "longctx";
            item.id = "doc@" + std::to_string(1000 * (1 + i / 2)) + "/" + std::to_string(100 * (i % 2));
            item.passed = correct[i];
            item.scores = {{"correct", correct[i] ? 1 : 0},
                           {"position", double(i % 2)},
                           {"length", 1000.0 * (1 + i / 2)},
                           {"answer_seconds", 0.5}};
            if (name.rfind("pipeline", 0) == 0) item.scores["summarise_seconds"] = 2.0;
            t.items.push_back(item);
        }
        aggregate_dimensions(t);
        r.targets.push_back(t);
    }
    return r;
}

TEST(EvalReport, LongContextChartsAndPipelineTable) {
    const RunResults r = long_context_results();
    EXPECT_EQ(r.targets[0].dimensions.at("longctx_accuracy"), 0.75);
    EXPECT_EQ(r.targets[1].dimensions.at("longctx_accuracy"), 0.25);
    EXPECT_EQ(r.targets[2].dimensions.at("longctx_accuracy"), 1);
    EXPECT_EQ(r.targets[2].dimensions.at("longctx_summarise_seconds"), 2);
    EXPECT_EQ(r.targets[0].dimensions.count("longctx_summarise_seconds"), 0u);
    const std::map<double, Tally> by_position = long_context_accuracy_by(r.targets[1], "position");
    ASSERT_EQ(by_position.size(), 2u);
    EXPECT_EQ(by_position.at(0).correct, 1);
    EXPECT_EQ(by_position.at(0).total, 2);
    EXPECT_EQ(by_position.at(1).correct, 0);

    const std::string html = render_report_html(r);
    std::vector<std::string> tags;
    EXPECT_EQ(check_well_formed(html, &tags), "");
    EXPECT_NE(html.find("Reference accuracy by document position"), std::string::npos);
    EXPECT_NE(html.find("Reference accuracy by document length"), std::string::npos);
    const std::string section = render_long_context_html(r);
    EXPECT_EQ(std::count(section.begin(), section.end(), '\n') > 0, true);
    size_t polylines = 0, circles = 0;
    for (size_t at = section.find("<polyline"); at != std::string::npos; at = section.find("<polyline", at + 1))
        ++polylines;
    for (size_t at = section.find("<circle"); at != std::string::npos; at = section.find("<circle", at + 1)) ++circles;
    EXPECT_EQ(polylines, 6u);  // 2 charts x 3 targets
    EXPECT_EQ(circles, 12u);   // 2 points per line
    EXPECT_NE(section.find("<td>pipeline:expert&gt;daily</td><td>100.0%</td><td>2.00</td><td>0.50</td><td>2.50</td>"),
              std::string::npos)
        << section;
    EXPECT_NE(section.find("<td>daily</td><td>25.0%</td><td>-</td><td>0.50</td><td>0.50</td>"), std::string::npos);
    EXPECT_EQ(render_long_context_html(sample_results()), "");

    const std::string md = render_report_markdown(r);
    EXPECT_NE(md.find("| target | 0% | 100% |"), std::string::npos) << md;
    EXPECT_NE(md.find("| daily | 1/2 | 0/2 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| target | 1000 | 2000 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| pipeline:expert&gt;daily | 2/2 | 2/2 |"), std::string::npos) << md;
}

TEST(EvalReport, ResultsJsonRoundTripsAndCompares) {
    const RunResults a = sample_results();
    Result<RunResults> back = results_from_json(results_to_json(a), "a.json");
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_EQ(back->targets.size(), 2u);
    EXPECT_EQ(back->targets[1].items[0].transcript[1].content, "<script>alert('x')</script> done");
    EXPECT_EQ(back->targets[1].items[0].calls[0].chunk_chars, (std::vector<int>{3, 3, 2}));
    EXPECT_EQ(back->targets[0].dimensions, a.targets[0].dimensions);

    RunResults b = a;
    b.targets[1].dimensions["flow_task_coherence"] = 0.75;
    const std::string diff = compare_results(a, b);
    EXPECT_NE(diff.find("target small"), std::string::npos);
    const std::regex better(R"(flow task coherence\s+0\.500\s+0\.750\s+\+0\.250  better)");
    const std::regex same(R"(multiple-choice accuracy\s+1\.000\s+1\.000\s+\+0\.000\n)");
    EXPECT_TRUE(std::regex_search(diff, better)) << diff;
    EXPECT_TRUE(std::regex_search(diff, same)) << diff;
    EXPECT_EQ(diff.find("different suites"), std::string::npos);
    // A dimension in one run only shows its value and a dash; different suites are pointed out.
    b.targets[1].dimensions.erase("choice_accuracy");
    b.suites.push_back("longctx");
    const std::string one_sided = compare_results(a, b);
    EXPECT_TRUE(std::regex_search(one_sided, std::regex(R"(multiple-choice accuracy\s+1\.000\s+-\n)"))) << one_sided;
    EXPECT_NE(one_sided.find("different suites"), std::string::npos);

    EXPECT_FALSE(results_from_json("[1,2]", "x.json").ok());
    EXPECT_FALSE(results_from_json("{\"targets\":[{\"dimensions\":{\"a\":\"x\"}}]}", "x.json").ok());
}

}  // namespace
}  // namespace duet::eval
