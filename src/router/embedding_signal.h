// embedding_signal.h: the sentence-embedding signal (the Sentence-BERT role). An Embedder turns text into a
// vector (a BERT-family encoder in duet serve; a fake in tests); exemplar utterances of each route are embedded
// once, and a message is compared with each route's centroid and with its k nearest exemplars (cosine).
//
//   centroid score = cos(m, centroid_expert) - cos(m, centroid_daily)            in [-2, 2]
//   knn score      = (sum of sims of expert neighbours - sum of daily ones) / (sum of |sims|)   in [-1, 1]
//
// May include common/ and router/ headers.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "router/role.h"

namespace duet::router {

// Text -> embedding (any length; normalised here). Must be callable from several threads at once.
using Embedder = std::function<std::vector<float>(std::string_view)>;

struct Exemplar {
    std::string text;
    Role role = Role::expert;
};

struct Neighbour {
    int exemplar = 0;  // index into EmbeddingSignal::exemplars()
    float similarity = 0.0f;
};

struct EmbeddingScores {
    float centroid_expert = 0.0f;  // cosine with each route's centroid
    float centroid_daily = 0.0f;
    float centroid = 0.0f;           // centroid_expert - centroid_daily
    float knn = 0.0f;                // see the header comment
    std::vector<Neighbour> nearest;  // best first, at most k
};

class EmbeddingSignal {
public:
    // Embeds every exemplar; fails when there is none for a route, an embedding is empty or not finite, or the
    // dimensions disagree.
    static Result<EmbeddingSignal> build(Embedder embedder, std::vector<Exemplar> exemplars, int k = 5);

    EmbeddingScores score(std::string_view text) const;
    const std::vector<Exemplar>& exemplars() const { return exemplars_; }
    size_t dimensions() const { return dim_; }

private:
    Embedder embedder_;
    std::vector<Exemplar> exemplars_;
    std::vector<float> vectors_;                           // (n_exemplars, dim) row-major, unit length
    std::vector<float> centroid_expert_, centroid_daily_;  // unit length
    size_t dim_ = 0;
    int k_ = 5;
};

}  // namespace duet::router
