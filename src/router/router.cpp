// router.cpp: one decision: scan window, signals, fusion, tie-break, stickiness.
#include "router/router.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "router/ngram_features.h"
#include "router/text_scan.h"

namespace duet::router {

float stickiness_margin(int64_t cached_tokens) {
    const double doublings = std::log2(1.0 + static_cast<double>(std::max<int64_t>(cached_tokens, 0)) / 512.0);
    return static_cast<float>(std::min(0.3, 0.1 + 0.05 * doublings));
}

FusionVector fusion_inputs(float classifier_logit, const KeywordScores& kw, const ScriptStats& script,
                           const EmbeddingScores* embedding) {
    FusionVector x{};
    x[kFeatClassifier] = std::clamp(classifier_logit, -12.0f, 12.0f);
    x[kFeatKeywordsExpert] = std::log1p(kw.expert);
    x[kFeatKeywordsDaily] = std::log1p(kw.daily);
    x[kFeatHanRatio] = script.han_ratio();
    x[kFeatLatinRatio] = script.latin_ratio();
    x[kFeatCodeRatio] = script.code_ratio();
    x[kFeatOtherScriptRatio] = script.other_ratio();
    if (embedding != nullptr) {
        x[kFeatEmbedCentroid] = embedding->centroid;
        x[kFeatEmbedKnn] = embedding->knn;
    }
    return x;
}

Router::Router(KeywordSet keywords, RouterModel model) : keywords_(std::move(keywords)), model_(std::move(model)) {
    compute_script_stats("");  // builds the static character tables now, not in the first decision
}

Result<Router> Router::create_default() { return create("", ""); }

Result<Router> Router::create(const std::string& keywords_path, const std::string& model_path) {
    Result<KeywordSet> kw = keywords_path.empty()
                                ? KeywordSet::parse(builtin_keywords_text(), "<built-in keywords.txt>")
                                : KeywordSet::load_file(keywords_path);
    if (!kw.ok()) return kw.status();
    Result<RouterModel> model = model_path.empty() ? parse_router_model(builtin_model_bytes(), "<built-in router.bin>")
                                                   : load_router_model(model_path);
    if (!model.ok()) return model.status();
    return Router(std::move(kw).value(), std::move(model).value());
}

FusionVector Router::features(std::string_view window, Decision* d) const {
    d->keywords = keywords_.match(window);
    d->script = compute_script_stats(window);
    thread_local std::vector<uint32_t> ngrams;
    ngrams.clear();
    extract_ngram_features(window, ngrams);
    d->classifier_logit = model_.classifier.logit(ngrams);
    d->classifier_probability = sigmoid(d->classifier_logit);
    if (embedding_) d->embedding = embedding_->score(window);
    return fusion_inputs(d->classifier_logit, d->keywords, d->script, d->embedding ? &*d->embedding : nullptr);
}

Decision Router::decide(std::string_view message, const ConversationState* conversation) const {
    const auto start = std::chrono::steady_clock::now();
    Decision d;
    const ScanWindow window = make_scan_window(message);
    d.message_bytes = window.message_bytes;
    d.scanned_bytes = window.text.size();
    d.truncated = window.truncated;
    d.features = features(window.text, &d);
    for (int i = 0; i < kNumFusionFeatures; ++i) d.contributions[i] = model_.fusion_weights[i] * d.features[i];
    d.threshold = model_.threshold;
    d.probability = model_.probability(d.features);
    d.fused_role = d.probability >= d.threshold ? Role::expert : Role::daily;
    d.role = d.fused_role;

    const bool no_letters = d.script.n_letters() == 0;
    d.borderline = no_letters || std::fabs(d.probability - d.threshold) < kTieBand;
    if (d.borderline) {
        if (conversation != nullptr) {
            d.role = conversation->role;
            d.tie_break = "borderline: the conversation keeps its role";
        } else if (no_letters) {
            d.role = Role::daily;
            d.tie_break = "borderline: no letters (empty, emoji, digits or punctuation): small talk goes daily";
        } else if (d.script.n_han >= d.script.n_latin + d.script.n_other_letter) {
            d.role = Role::daily;
            d.tie_break = "borderline: mostly Han script goes daily";
        } else {
            d.role = Role::expert;
            d.tie_break = "borderline: mostly Latin or other scripts goes expert";
        }
    }

    if (conversation != nullptr) {
        Stickiness& s = d.stickiness;
        s.applied = true;
        s.previous = conversation->role;
        s.margin = stickiness_margin(conversation->cached_tokens);
        s.recompute_tokens = conversation->cached_tokens;
        if (d.role != conversation->role) {
            const bool clears = d.role == Role::expert ? d.probability >= d.threshold + s.margin
                                                       : d.probability <= d.threshold - s.margin;
            if (clears) {
                s.switched = true;
            } else {
                s.switch_avoided = true;
                d.role = conversation->role;
            }
        }
    }
    d.latency_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
    return d;
}

size_t Router::memory_bytes() const {
    return sizeof(*this) + model_.classifier.weights.capacity() * sizeof(float) + keywords_.memory_bytes();
}

}  // namespace duet::router
