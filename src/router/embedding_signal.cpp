// embedding_signal.cpp: exemplar embeddings, centroids and the k-nearest search (brute force: a few hundred
// exemplars of a few hundred dimensions is well under a millisecond).
#include "router/embedding_signal.h"

#include <algorithm>
#include <cmath>

namespace duet::router {

namespace {

// Normalises v in place; false when it is empty, not finite or zero.
bool normalise(std::vector<float>& v) {
    double ss = 0.0;
    for (float x : v) {
        if (!std::isfinite(x)) return false;
        ss += static_cast<double>(x) * x;
    }
    if (v.empty() || ss <= 0.0) return false;
    const auto inv = static_cast<float>(1.0 / std::sqrt(ss));
    for (float& x : v) x *= inv;
    return true;
}

float dot(const float* a, const float* b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

}  // namespace

Result<EmbeddingSignal> EmbeddingSignal::build(Embedder embedder, std::vector<Exemplar> exemplars, int k) {
    EmbeddingSignal s;
    s.k_ = std::max(1, k);
    int n_expert = 0, n_daily = 0;
    for (const auto& e : exemplars) (e.role == Role::expert ? n_expert : n_daily) += 1;
    if (n_expert == 0 || n_daily == 0)
        return Status::invalid_argument("embedding: need exemplars for both routes (expert %d, daily %d)", n_expert,
                                        n_daily);
    for (size_t i = 0; i < exemplars.size(); ++i) {
        std::vector<float> v = embedder(exemplars[i].text);
        if (s.dim_ == 0) s.dim_ = v.size();
        if (v.size() != s.dim_)
            return Status::invalid_data("embedding: exemplar %zu has %zu dimensions, expected %zu", i, v.size(),
                                        s.dim_);
        if (!normalise(v)) return Status::invalid_data("embedding: exemplar %zu: empty, zero or non-finite vector", i);
        s.vectors_.insert(s.vectors_.end(), v.begin(), v.end());
    }
    s.centroid_expert_.assign(s.dim_, 0.0f);
    s.centroid_daily_.assign(s.dim_, 0.0f);
    for (size_t i = 0; i < exemplars.size(); ++i) {
        auto& c = exemplars[i].role == Role::expert ? s.centroid_expert_ : s.centroid_daily_;
        for (size_t d = 0; d < s.dim_; ++d) c[d] += s.vectors_[i * s.dim_ + d];
    }
    if (!normalise(s.centroid_expert_) || !normalise(s.centroid_daily_))
        return Status::invalid_data("embedding: a route's exemplars cancel out (zero centroid)");
    s.embedder_ = std::move(embedder);
    s.exemplars_ = std::move(exemplars);
    return s;
}

EmbeddingScores EmbeddingSignal::score(std::string_view text) const {
    EmbeddingScores out;
    std::vector<float> v = embedder_(text);
    if (v.size() != dim_ || !normalise(v)) return out;  // an unusable vector carries no evidence
    out.centroid_expert = dot(v.data(), centroid_expert_.data(), dim_);
    out.centroid_daily = dot(v.data(), centroid_daily_.data(), dim_);
    out.centroid = out.centroid_expert - out.centroid_daily;
    std::vector<Neighbour> all(exemplars_.size());
    for (size_t i = 0; i < exemplars_.size(); ++i)
        all[i] = {static_cast<int>(i), dot(v.data(), &vectors_[i * dim_], dim_)};
    const size_t k = std::min(all.size(), static_cast<size_t>(k_));
    std::partial_sort(all.begin(), all.begin() + static_cast<long>(k), all.end(), [](const auto& a, const auto& b) {
        return a.similarity != b.similarity ? a.similarity > b.similarity : a.exemplar < b.exemplar;
    });
    all.resize(k);
    float signed_sum = 0.0f, abs_sum = 0.0f;
    for (const auto& n : all) {
        signed_sum += exemplars_[n.exemplar].role == Role::expert ? n.similarity : -n.similarity;
        abs_sum += std::fabs(n.similarity);
    }
    out.knn = abs_sum > 0.0f ? signed_sum / abs_sum : 0.0f;
    out.nearest = std::move(all);
    return out;
}

}  // namespace duet::router
