// classifier.cpp: scoring and SGD training of the n-gram logistic regression.
#include "router/classifier.h"

#include <cmath>

namespace duet::router {

float sigmoid(float x) {
    if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
}

std::vector<uint32_t> shuffled_indices(uint32_t n, SplitMix64& rng) {
    std::vector<uint32_t> idx(n);
    for (uint32_t i = 0; i < n; ++i) idx[i] = i;
    for (uint32_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
    return idx;
}

namespace {

float feature_scale(size_t n) { return n > 0 ? 1.0f / std::sqrt(static_cast<float>(n)) : 0.0f; }

}  // namespace

float NgramClassifier::logit(const std::vector<uint32_t>& features) const {
    const float scale = feature_scale(features.size());
    float sum = 0.0f;
    for (uint32_t f : features) sum += weights[f];
    return bias + scale * sum;
}

NgramClassifier train_classifier(const std::vector<std::vector<uint32_t>>& features, const std::vector<bool>& expert,
                                 const ClassifierTrainOptions& options) {
    NgramClassifier model;
    SplitMix64 rng{options.seed};
    const auto n = static_cast<uint32_t>(features.size());
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
        const float lr = options.learning_rate / (1.0f + 0.5f * static_cast<float>(epoch));
        for (uint32_t i : shuffled_indices(n, rng)) {
            const auto& f = features[i];
            const float p = sigmoid(model.logit(f));
            const float g = (expert[i] ? 1.0f : 0.0f) - p;  // gradient of the log-likelihood w.r.t. the logit
            const float step = lr * g * feature_scale(f.size());
            for (uint32_t b : f) model.weights[b] += step - lr * options.l2 * model.weights[b];
            model.bias += lr * g * 0.1f;
        }
    }
    return model;
}

}  // namespace duet::router
