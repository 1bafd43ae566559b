// route_text.cpp: the explanation `duet route` prints for one decision.
#include "app/route_text.h"

#include "common/strformat.h"

namespace duet::app {

using router::Decision;
using router::Role;

namespace {

// At most `max_bytes` of `text`, never ending inside a UTF-8 character.
std::string utf8_prefix(const std::string& text, size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut);
}

}  // namespace

std::string decision_text(const router::Router& rt, const Decision& d) {
    std::string out =
        strformat("route: %s   P(expert) = %.3f, threshold %.2f%s\n", std::string(router::role_name(d.role)).c_str(),
                  d.probability, d.threshold,
                  d.role != d.fused_role
                      ? strformat(" (fusion alone: %s)", std::string(router::role_name(d.fused_role)).c_str()).c_str()
                      : "");
    for (Role role : {Role::expert, Role::daily}) {
        std::string list;
        for (const auto& h : d.keywords.hits) {
            const auto& e = rt.keywords().entries()[h.entry];
            if (e.role != role) continue;
            if (!list.empty()) list += ", ";
            list += e.group + ":" +
                    (e.kind == router::KeywordKind::word ? e.pattern : "/" + utf8_prefix(e.pattern, 24) + "/");
        }
        out +=
            strformat("keywords %-6s %5.1f  %s\n", std::string(router::role_name(role)).c_str(),
                      role == Role::expert ? d.keywords.expert : d.keywords.daily, list.empty() ? "-" : list.c_str());
    }
    out += strformat(
        "script:         %d chars; Han %.1f%%, Latin %.1f%%, code symbols %.1f%%, other scripts %.1f%%; "
        "traditional %.0f%% of %d marker chars\n",
        d.script.n_chars, 100 * d.script.han_ratio(), 100 * d.script.latin_ratio(), 100 * d.script.code_ratio(),
        100 * d.script.other_ratio(), 100 * d.script.traditional_share(),
        d.script.n_traditional + d.script.n_simplified);
    out += strformat("classifier:     P(expert) %.3f (logit %+.2f)\n", d.classifier_probability, d.classifier_logit);
    if (d.embedding) {
        out += strformat("embedding:      centroid expert %.3f, daily %.3f; knn %+.2f; nearest:",
                         d.embedding->centroid_expert, d.embedding->centroid_daily, d.embedding->knn);
        for (const auto& n : d.embedding->nearest) {
            const auto& ex = rt.embedding()->exemplars()[n.exemplar];
            out += strformat(" [%s %.2f] %s;", std::string(router::role_name(ex.role)).c_str(), n.similarity,
                             utf8_prefix(ex.text, 40).c_str());
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
        out +=
            strformat("stickiness:     conversation on %s, margin %.2f: %s; a switch recomputes %lld cached tokens\n",
                      std::string(router::role_name(s.previous)).c_str(), s.margin,
                      s.switched         ? "switched (the evidence cleared the margin)"
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
