// classifier.h: logistic regression over hashed n-grams (ngram_features.h). A document's features are its
// bucket counts scaled by 1/sqrt(number of n-grams), so long and short messages give logits of similar size.
// Training is plain SGD with a learning rate that decays per epoch, L2 on touched weights, and a document order
// shuffled by a seeded SplitMix64: the same data and options give the same weights, bit for bit.
// May include router/ headers only.
#pragma once

#include <cstdint>
#include <vector>

#include "router/ngram_features.h"

namespace duet::router {

struct ClassifierTrainOptions {
    int epochs = 12;
    float learning_rate = 0.8f;
    float l2 = 1e-6f;
    uint64_t seed = 1;
};

struct NgramClassifier {
    std::vector<float> weights = std::vector<float>(kFeatureBuckets, 0.0f);
    float bias = 0.0f;

    // log-odds of expert.
    float logit(const std::vector<uint32_t>& features) const;
};

// features[i]: the n-gram buckets of document i; expert[i]: its label.
NgramClassifier train_classifier(const std::vector<std::vector<uint32_t>>& features, const std::vector<bool>& expert,
                                 const ClassifierTrainOptions& options);

// SplitMix64: the deterministic generator behind every shuffle in router fitting.
struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n) by rejection-free multiply-shift (n far below 2^32 here).
    uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
};

// Fisher-Yates shuffle of 0..n-1 with the given generator.
std::vector<uint32_t> shuffled_indices(uint32_t n, SplitMix64& rng);

float sigmoid(float x);

}  // namespace duet::router
