// sampler.cpp: penalties, temperature, top-k / top-p / min-p truncation and a seeded draw; logprob helpers.
#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "common/assert.h"
#include "kernels/kernels.h"

namespace duet::model {

namespace {

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t initial_seed(const SamplingParams& params) {
    if (params.has_seed) return params.seed;
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

Rng::Rng(uint64_t seed) {
    uint64_t state = seed;
    for (auto& s : s_) s = splitmix64(state);
}

uint64_t Rng::next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(initial_seed(params)) {}

TokenId argmax(std::span<const float> logits) {  // kernels::argmax asserts a non-empty span
    return static_cast<TokenId>(kernels::argmax(logits.data(), static_cast<int64_t>(logits.size())));
}

TokenId Sampler::sample(std::span<const float> logits, std::span<const TokenId> history,
                        std::span<const TokenId> banned) {
    const size_t n_vocab = logits.size();
    DUET_ASSERT(n_vocab > 0);
    const SamplingParams& p = params_;

    // Penalties over the last penalty_last_n history tokens and bans, applied to a copy of the logits.
    std::span<const float> work = logits;
    const bool any_penalty = p.repetition_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
    const bool penalize = any_penalty && !history.empty();
    if (penalize || !banned.empty()) {
        penalized_.assign(logits.begin(), logits.end());
        work = penalized_;
    }
    if (penalize) {
        if (p.penalty_last_n >= 0 && history.size() > static_cast<size_t>(p.penalty_last_n))
            history = history.subspan(history.size() - p.penalty_last_n);
        // Count occurrences with a sort-free pass: mark each token's first occurrence, then count.
        for (size_t i = 0; i < history.size(); ++i) {
            const TokenId id = history[i];
            if (id < 0 || static_cast<size_t>(id) >= n_vocab) continue;
            bool seen = false;
            for (size_t j = 0; j < i; ++j)
                if (history[j] == id) {
                    seen = true;
                    break;
                }
            if (seen) continue;
            int32_t count = 0;
            for (size_t j = i; j < history.size(); ++j) count += history[j] == id;
            float& l = penalized_[id];
            if (p.repetition_penalty != 1.0f) l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
            l -= p.presence_penalty + p.frequency_penalty * static_cast<float>(count);
        }
    }
    for (TokenId id : banned)
        if (id >= 0 && static_cast<size_t>(id) < n_vocab) penalized_[id] = -std::numeric_limits<float>::infinity();

    if (p.temperature <= 0.0f) return argmax(work);

    candidates_.resize(n_vocab);
    const float inv_temp = 1.0f / p.temperature;
    for (size_t i = 0; i < n_vocab; ++i) candidates_[i] = {work[i] * inv_temp, static_cast<TokenId>(i)};
    auto by_logit = [](const Candidate& a, const Candidate& b) {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    };

    // Top-k: the k best (unsorted) at the front. Sorting is done lazily and only as far as top-p needs it:
    // a full sort of a 150K vocabulary per token would cost more than the rest of sampling together.
    size_t n = n_vocab, n_sorted = 0;
    if (p.top_k > 0 && static_cast<size_t>(p.top_k) < n) {
        n = static_cast<size_t>(p.top_k);
        if (n <= 4096) {  // a heap of k beats nth_element for small k
            std::partial_sort(candidates_.begin(), candidates_.begin() + n, candidates_.end(), by_logit);
            n_sorted = n;
        } else {
            std::nth_element(candidates_.begin(), candidates_.begin() + (n - 1), candidates_.end(), by_logit);
        }
    }
    if (n == 1) return candidates_[0].id;  // top-k 1

    // Softmax over the kept candidates; the logit field becomes the probability.
    float max_logit = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < n; ++i) max_logit = std::max(max_logit, candidates_[i].logit);
    if (max_logit == -std::numeric_limits<float>::infinity()) return candidates_[0].id;  // every id banned
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float e = std::exp(candidates_[i].logit - max_logit);
        candidates_[i].logit = e;
        sum += e;
    }
    const float inv_sum = static_cast<float>(1.0 / sum);
    for (size_t i = 0; i < n; ++i) candidates_[i].logit *= inv_sum;
    const float p_max = inv_sum;  // the best candidate's probability: exp(0) / sum

    if (p.top_p < 1.0f) {
        // Smallest prefix (by probability) whose mass reaches top_p; sort 64, 512, 4096, ... until it is found.
        for (size_t k = 64;; k *= 8) {
            const size_t want = std::min(std::max(k, n_sorted), n);
            if (want > n_sorted)
                std::partial_sort(candidates_.begin() + n_sorted, candidates_.begin() + want, candidates_.begin() + n,
                                  by_logit);  // probabilities order like logits
            n_sorted = want;
            double cum = 0.0;
            size_t keep = 0;
            for (size_t i = 0; i < n_sorted; ++i) {
                cum += candidates_[i].logit;
                if (cum >= p.top_p) {
                    keep = i + 1;
                    break;
                }
            }
            if (keep > 0) {
                n = keep;
                break;
            }
            if (n_sorted == n) break;
        }
    }
    if (p.min_p > 0.0f) {
        const float threshold = p.min_p * p_max;
        auto mid = std::partition(candidates_.begin(), candidates_.begin() + n,
                                  [&](const Candidate& c) { return c.logit >= threshold; });
        n = std::max<size_t>(1, static_cast<size_t>(mid - candidates_.begin()));
    }

    double total = 0.0;
    for (size_t i = 0; i < n; ++i) total += candidates_[i].logit;
    const double r = rng_.uniform() * total;
    double cum = 0.0;
    size_t last_possible = 0;  // rounding can leave r == total: fall back to the last candidate with p > 0
    for (size_t i = 0; i < n; ++i) {
        cum += candidates_[i].logit;
        if (r < cum) return candidates_[i].id;
        if (candidates_[i].logit > 0.0f) last_possible = i;
    }
    return candidates_[last_possible].id;
}

void log_softmax(std::span<const float> logits, std::span<float> out) {
    DUET_ASSERT(out.size() == logits.size() && !logits.empty());
    float max_logit = -std::numeric_limits<float>::infinity();
    for (float l : logits) max_logit = std::max(max_logit, l);
    double sum = 0.0;
    for (float l : logits) sum += std::exp(static_cast<double>(l - max_logit));
    const float log_sum = static_cast<float>(std::log(sum)) + max_logit;
    for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - log_sum;
}

TokenLogprobs token_logprobs(std::span<const float> logits, TokenId token, int32_t k) {
    DUET_ASSERT(!logits.empty() && token >= 0 && static_cast<size_t>(token) < logits.size());
    float max_logit = -std::numeric_limits<float>::infinity();
    for (float l : logits) max_logit = std::max(max_logit, l);
    double sum = 0.0;
    for (float l : logits) sum += std::exp(static_cast<double>(l - max_logit));
    const float log_sum = static_cast<float>(std::log(sum)) + max_logit;

    TokenLogprobs result;
    result.token = token;
    result.logprob = logits[token] - log_sum;
    if (k > 0) {
        const size_t n_top = std::min<size_t>(static_cast<size_t>(k), logits.size());
        std::vector<TokenId> ids(logits.size());
        for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<TokenId>(i);
        std::partial_sort(ids.begin(), ids.begin() + n_top, ids.end(), [&](TokenId a, TokenId b) {
            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        });
        result.top.reserve(n_top);
        for (size_t i = 0; i < n_top; ++i) result.top.emplace_back(ids[i], logits[ids[i]] - log_sum);
    }
    return result;
}

}  // namespace duet::model
