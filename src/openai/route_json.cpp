// route_json.cpp: Decision -> the duet.route JSON object and the x-duet-route header.
#include "openai/route_json.h"

#include <cmath>

#include "common/strformat.h"

namespace duet::openai {

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
            nearest.push_back(
                {{"text", ex.text}, {"route", router::role_name(ex.role)}, {"similarity", r4(n.similarity)}});
        }
        embedding = {{"centroid",
                      {{"expert", r4(d.embedding->centroid_expert)}, {"daily", r4(d.embedding->centroid_daily)}}},
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

std::string attach_route(std::string object_json, const nlohmann::json& route) {
    const size_t close = object_json.find_last_of('}');
    if (close == std::string::npos) return object_json;
    const nlohmann::json duet = {{"route", route}};
    const bool empty_object = object_json.find_last_not_of(" \n\t", close - 1) == object_json.find_first_of('{');
    object_json.insert(close, std::string(empty_object ? "" : ",") +
                                  "\"duet\":" + duet.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return object_json;
}

std::string route_header(const Decision& d, const std::string& mode, const std::string& model) {
    const char* sticky = !d.stickiness.applied         ? "none"
                         : d.stickiness.switched       ? "switched"
                         : d.stickiness.switch_avoided ? "kept"
                                                       : "same";
    return strformat("role=%s; mode=%s; model=%s; p=%.3f; sticky=%s; us=%lld",
                     std::string(router::role_name(d.role)).c_str(), mode.c_str(), model.c_str(), d.probability, sticky,
                     static_cast<long long>(d.latency_us));
}

}  // namespace duet::openai
