// route_json.cpp: Decision -> JSON object and -> explanation text.
#include "app/route_json.h"

#include <cmath>

#include "common/strformat.h"

namespace duet::app {

namespace {

using router::Decision;
using router::Role;

// Rounded for the wire: 4 significant decimals are plenty for an explanation.
double r4(double v) { return std::round(v * 10000.0) / 10000.0 + 0.0; }  // + 0.0: no "-0.0"

}  // namespace

nlohmann::json decision_json(const router::Router& rt, const Decision& d, const std::string& mode,
                             const std::string& model) {
    using nlohmann::json;
    json matches = json::array();
    for (const auto& h : d.keywords.hits) {
        const auto& e = rt.keywords().entries()[h.entry];
        matches.push_back({{"route", router::role_name(e.role)},
                           {"group", e.group},
                           {"kind", e.kind == router::KeywordKind::word ? "word" : "regex"},
                           {"pattern", e.pattern},
                           {"weight", r4(e.weight)},
                           {"offset", h.offset}});
    }
    json embedding = nullptr;
    if (d.embedding) {
        json nearest = json::array();
        for (const auto& n : d.embedding->nearest) {
            const auto& ex = rt.embedding()->exemplars()[n.exemplar];
            nearest.push_back({{"text", ex.text}, {"route", router::role_name(ex.role)}, {"similarity", r4(n.similarity)}});
        }
        embedding = {{"centroid", {{"expert", r4(d.embedding->centroid_expert)}, {"daily", r4(d.embedding->centroid_daily)}}},
                     {"score", r4(d.embedding->centroid)},
                     {"knn", r4(d.embedding->knn)},
                     {"nearest", nearest}};
    }
    json inputs = json::object();
    for (int i = 0; i < router::kNumFusionFeatures; ++i)
        inputs[std::string(router::fusion_feature_name(i))] = {{"value", r4(d.features[i])},
                                                               {"weight", r4(rt.model().fusion_weights[i])},
                                                               {"contribution", r4(d.contributions[i])}};
    json stickiness = nullptr;
    if (d.stickiness.applied)
        stickiness = {{"previous", router::role_name(d.stickiness.previous)},
                      {"margin", r4(d.stickiness.margin)},
                      {"switch_avoided", d.stickiness.switch_avoided},
                      {"switched", d.stickiness.switched},
                      {"recompute_tokens", d.stickiness.recompute_tokens}};
    return {{"mode", mode},
            {"role", router::role_name(d.role)},
            {"model", model.empty() ? json(nullptr) : json(model)},
            {"probability", r4(d.probability)},
            {"threshold", r4(d.threshold)},
            {"fused_role", router::role_name(d.fused_role)},
            {"borderline", d.borderline},
            {"tie_break", d.tie_break.empty() ? json(nullptr) : json(d.tie_break)},
            {"signals",
             {{"keywords", {{"expert", r4(d.keywords.expert)}, {"daily", r4(d.keywords.daily)}, {"matches", matches}}},
              {"script",
               {{"chars", d.script.n_chars},
                {"han_ratio", r4(d.script.han_ratio())},
                {"latin_ratio", r4(d.script.latin_ratio())},
                {"code_ratio", r4(d.script.code_ratio())},
                {"other_script_ratio", r4(d.script.other_ratio())},
                {"traditional_share", r4(d.script.traditional_share())}}},
              {"classifier", {{"probability", r4(d.classifier_probability)}, {"logit", r4(d.classifier_logit)}}},
              {"embedding", embedding}}},
            {"fusion", {{"bias", r4(rt.model().fusion_bias)}, {"inputs", inputs}}},
            {"stickiness", stickiness},
            {"message_bytes", d.message_bytes},
            {"scanned_bytes", d.scanned_bytes},
            {"truncated", d.truncated},
            {"latency_us", d.latency_us}};
}

std::string decision_text(const router::Router& rt, const Decision& d) {
    std::string out = strformat("route: %s   P(expert) = %.3f, threshold %.2f%s\n",
                                std::string(router::role_name(d.role)).c_str(), d.probability, d.threshold,
                                d.role != d.fused_role ? strformat(" (fusion alone: %s)",
                                                                   std::string(router::role_name(d.fused_role)).c_str())
                                                             .c_str()
                                                       : "");
    for (Role role : {Role::expert, Role::daily}) {
        std::string list;
        for (const auto& h : d.keywords.hits) {
            const auto& e = rt.keywords().entries()[h.entry];
            if (e.role != role) continue;
            if (!list.empty()) list += ", ";
            list += e.group + ":" + (e.kind == router::KeywordKind::word ? e.pattern : "/" + e.pattern.substr(0, 24) + "/");
        }
        out += strformat("keywords %-6s %5.1f  %s\n", std::string(router::role_name(role)).c_str(),
                         role == Role::expert ? d.keywords.expert : d.keywords.daily, list.empty() ? "-" : list.c_str());
    }
    out += strformat("script:         %d chars; Han %.1f%%, Latin %.1f%%, code symbols %.1f%%, other scripts %.1f%%; "
                     "traditional %.0f%% of %d marker chars\n",
                     d.script.n_chars, 100 * d.script.han_ratio(), 100 * d.script.latin_ratio(),
                     100 * d.script.code_ratio(), 100 * d.script.other_ratio(), 100 * d.script.traditional_share(),
                     d.script.n_traditional + d.script.n_simplified);
    out += strformat("classifier:     P(expert) %.3f (logit %+.2f)\n", d.classifier_probability, d.classifier_logit);
    if (d.embedding) {
        out += strformat("embedding:      centroid expert %.3f, daily %.3f; knn %+.2f; nearest:", d.embedding->centroid_expert,
                         d.embedding->centroid_daily, d.embedding->knn);
        for (const auto& n : d.embedding->nearest) {
            const auto& ex = rt.embedding()->exemplars()[n.exemplar];
            out += strformat(" [%s %.2f] %s;", std::string(router::role_name(ex.role)).c_str(), n.similarity,
                             ex.text.substr(0, 40).c_str());
        }
        out += "\n";
    } else {
        out += "embedding:      no encoder attached\n";
    }
    out += strformat("fusion:         bias %+.2f", rt.model().fusion_bias);
    for (int i = 0; i < router::kNumFusionFeatures; ++i)
        if (d.contributions[i] != 0.0f)
            out += strformat("; %s %+.2f", std::string(router::fusion_feature_name(i)).c_str(), d.contributions[i]);
    out += "\n";
    if (d.borderline) out += "tie-break:      " + d.tie_break + "\n";
    if (d.stickiness.applied) {
        const auto& s = d.stickiness;
        out += strformat("stickiness:     conversation on %s, margin %.2f: %s; a switch recomputes %lld cached tokens\n",
                         std::string(router::role_name(s.previous)).c_str(), s.margin,
                         s.switched ? "switched (the evidence cleared the margin)"
                                    : s.switch_avoided ? "stays (switch avoided: the evidence did not clear the margin)"
                                                       : "stays (same role)",
                         static_cast<long long>(s.recompute_tokens));
    }
    if (!rt.keywords_match_model())
        out += "note:           the keyword list is not the one the model was fitted with; refit with duet route fit\n";
    out += strformat("latency:        %lld us (read %zu of %zu bytes%s)\n", static_cast<long long>(d.latency_us),
                     d.scanned_bytes, d.message_bytes, d.truncated ? ", head and tail of a long message" : "");
    return out;
}

}  // namespace duet::app
