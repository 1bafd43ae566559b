// test_sampler.cpp: greedy, seeded reproducibility, truncation (top-k/top-p/min-p), penalties, logprobs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "model/sampler.h"

namespace duet::model {
namespace {

std::vector<float> make_logits(int n, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> l(n);
    for (auto& v : l) v = static_cast<float>(rng.uniform() * 8.0 - 4.0);
    return l;
}

TEST(Sampler, GreedyIsArgmax) {
    SamplingParams p;
    p.temperature = 0.0f;
    Sampler s(p);
    for (uint64_t seed = 1; seed < 20; ++seed) {
        auto l = make_logits(1000, seed);
        const TokenId want = static_cast<TokenId>(std::max_element(l.begin(), l.end()) - l.begin());
        EXPECT_EQ(s.sample(l, {}), want);
    }
    EXPECT_EQ(argmax(std::vector<float>{1.0f, 3.0f, 3.0f, 2.0f}), 1);  // lowest id on ties
}

TEST(Sampler, TopK1EqualsGreedy) {
    SamplingParams p;
    p.temperature = 1.5f;
    p.top_k = 1;
    p.seed = 7;
    p.has_seed = true;
    Sampler s(p);
    for (uint64_t seed = 1; seed < 20; ++seed) {
        auto l = make_logits(500, seed);
        EXPECT_EQ(s.sample(l, {}), argmax(l));
    }
}

TEST(Sampler, SeededIsReproducibleAndSeedsDiffer) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = 42;
    p.has_seed = true;
    auto l = make_logits(64, 3);
    auto run = [&](uint64_t seed) {
        SamplingParams q = p;
        q.seed = seed;
        Sampler s(q);
        std::vector<TokenId> out;
        for (int i = 0; i < 50; ++i) out.push_back(s.sample(l, {}));
        return out;
    };
    EXPECT_EQ(run(42), run(42));
    EXPECT_NE(run(42), run(43));
}

TEST(Sampler, FrequenciesFollowSoftmax) {
    // Three tokens with probabilities 0.5, 0.3, 0.2; 20000 draws land within a few standard deviations.
    std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = 1;
    p.has_seed = true;
    Sampler s(p);
    std::map<TokenId, int> counts;
    const int n = 20000;
    for (int i = 0; i < n; ++i) ++counts[s.sample(l, {})];
    EXPECT_NEAR(counts[0] / double(n), 0.5, 0.02);
    EXPECT_NEAR(counts[1] / double(n), 0.3, 0.02);
    EXPECT_NEAR(counts[2] / double(n), 0.2, 0.02);
}

TEST(Sampler, TopPAndMinPTruncate) {
    std::vector<float> l = {std::log(0.6f), std::log(0.25f), std::log(0.1f), std::log(0.05f)};
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.min_p = 0.0f;
    p.top_p = 0.8f;  // keeps {0, 1}: 0.6 < 0.8 <= 0.85
    p.seed = 5;
    p.has_seed = true;
    Sampler s(p);
    std::map<TokenId, int> counts;
    for (int i = 0; i < 2000; ++i) ++counts[s.sample(l, {})];
    EXPECT_GT(counts[0], 0);
    EXPECT_GT(counts[1], 0);
    EXPECT_EQ(counts[2] + counts[3], 0);

    p.top_p = 1.0f;
    p.min_p = 0.3f;  // threshold 0.18: keeps {0, 1}
    Sampler m(p);
    counts.clear();
    for (int i = 0; i < 2000; ++i) ++counts[m.sample(l, {})];
    EXPECT_GT(counts[1], 0);
    EXPECT_EQ(counts[2] + counts[3], 0);
}

TEST(Sampler, TopPOnALargeVocabularyStaysInTheNucleus) {
    // 150K logits, no top-k: the sampled ids must all lie in the brute-force nucleus (sorted, cumulative >= p).
    auto l = make_logits(150000, 9);
    for (int i = 0; i < 300; ++i) l[i * 17] += 9.0f;  // a head of ~300 likely tokens
    std::vector<int> order(l.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    double sum = 0;
    for (float v : l) sum += std::exp(double(v) - l[order[0]]);
    std::vector<bool> in_nucleus(l.size(), false);
    double cum = 0;
    for (int id : order) {
        in_nucleus[id] = true;
        cum += std::exp(double(l[id]) - l[order[0]]) / sum;
        if (cum >= 0.9) break;
    }
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 0.9f;
    p.min_p = 0.0f;
    p.seed = 2;
    p.has_seed = true;
    Sampler s(p);
    std::map<TokenId, int> seen;
    for (int i = 0; i < 300; ++i) {
        const TokenId id = s.sample(l, {});
        EXPECT_TRUE(in_nucleus[id]) << id;
        ++seen[id];
    }
    EXPECT_GT(seen.size(), 20u);  // it samples, it does not collapse to the argmax
}

TEST(Sampler, PenaltiesChangeTheChoice) {
    std::vector<float> l = {2.0f, 1.9f, 0.5f, -1.0f};
    std::vector<TokenId> history = {0};
    SamplingParams p;
    p.temperature = 0.0f;

    Sampler plain(p);
    EXPECT_EQ(plain.sample(l, history), 0);

    p.repetition_penalty = 1.1f;  // 2.0 / 1.1 = 1.82 < 1.9
    EXPECT_EQ(Sampler(p).sample(l, history), 1);
    p.repetition_penalty = 1.0f;

    p.presence_penalty = 0.2f;  // 1.8 < 1.9
    EXPECT_EQ(Sampler(p).sample(l, history), 1);
    p.presence_penalty = 0.0f;

    // frequency: count matters. One occurrence * 0.05 keeps token 0; three flip it.
    p.frequency_penalty = 0.05f;
    EXPECT_EQ(Sampler(p).sample(l, history), 0);
    std::vector<TokenId> three = {0, 2, 0, 0};
    EXPECT_EQ(Sampler(p).sample(l, three), 1);

    // repetition penalty on a negative logit pushes it further down (multiplies).
    std::vector<float> neg = {-1.0f, -1.05f};
    p.frequency_penalty = 0.0f;
    p.repetition_penalty = 1.2f;
    std::vector<TokenId> h0 = {0};
    EXPECT_EQ(Sampler(p).sample(neg, h0), 1);

    // penalty_last_n limits the window: token 0 is outside the last 1 token.
    p.penalty_last_n = 1;
    std::vector<TokenId> old = {0, 3};
    EXPECT_EQ(Sampler(p).sample(neg, old), 0);
}

TEST(Sampler, GreedyNeverChoosesABannedId) {
    SamplingParams p;
    p.temperature = 0.0f;
    Sampler s(p);
    for (uint64_t seed = 1; seed < 20; ++seed) {
        auto l = make_logits(1000, seed);
        // Ban the three best ids: the fourth best wins (ranked on an unmodified copy).
        std::vector<int> order(l.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
        std::partial_sort(order.begin(), order.begin() + 4, order.end(),
                          [&](int a, int b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
        const std::vector<TokenId> banned = {order[0], order[2], order[1], 5000, -1};  // out-of-range ids ignored
        const std::vector<float> before = l;
        EXPECT_EQ(s.sample(l, {}, banned), order[3]);
        EXPECT_EQ(l, before);                  // the caller's logits are untouched
        EXPECT_EQ(s.sample(l, {}), order[0]);  // no ban: the argmax again
    }
    // Bans combine with penalties: token 0 is penalized below 1, token 1 is banned, so 2 wins.
    std::vector<float> l = {2.0f, 1.9f, 1.5f, -1.0f};
    std::vector<TokenId> history = {0};
    p.presence_penalty = 1.0f;
    const std::vector<TokenId> ban_one = {1};
    EXPECT_EQ(Sampler(p).sample(l, history, ban_one), 2);
}

TEST(Sampler, RandomSamplingNeverChoosesABannedId) {
    // The banned ids are by far the most likely: without the ban they win nearly every draw.
    auto l = make_logits(300, 4);
    const std::vector<TokenId> banned = {7, 42, 299};
    for (TokenId id : banned) l[id] = 30.0f;
    struct Case {
        int32_t top_k;
        float top_p, min_p;
    };
    for (const Case c : {Case{0, 1.0f, 0.0f}, Case{2, 1.0f, 0.0f}, Case{40, 0.9f, 0.05f}, Case{5000, 0.5f, 0.0f}}) {
        SamplingParams p;
        p.temperature = 1.0f;
        p.top_k = c.top_k;
        p.top_p = c.top_p;
        p.min_p = c.min_p;
        p.seed = 11;
        p.has_seed = true;
        Sampler s(p);
        std::map<TokenId, int> counts;
        for (int i = 0; i < 2000; ++i) ++counts[s.sample(l, {}, banned)];
        for (TokenId id : banned) EXPECT_EQ(counts[id], 0) << "top_k " << c.top_k << " id " << id;
        EXPECT_GE(counts.size(), 2u) << "top_k " << c.top_k;  // it still samples among the others
        Sampler unbanned(p);
        int n_banned_drawn = 0;
        for (int i = 0; i < 200; ++i) {
            const TokenId id = unbanned.sample(l, {});
            n_banned_drawn += std::find(banned.begin(), banned.end(), id) != banned.end();
        }
        EXPECT_GT(n_banned_drawn, 190) << "top_k " << c.top_k;  // the ban is what kept them out
    }
}

TEST(Sampler, LogSoftmaxAndTopLogprobs) {
    std::vector<float> l = {1.0f, 2.0f, 3.0f, 0.0f};
    std::vector<float> out(4);
    log_softmax(l, out);
    double sum = 0;
    for (float v : out) sum += std::exp(v);
    EXPECT_NEAR(sum, 1.0, 1e-6);
    EXPECT_NEAR(out[2] - out[1], 1.0, 1e-6);

    TokenLogprobs lp = token_logprobs(l, 1, 2);
    EXPECT_FLOAT_EQ(lp.logprob, out[1]);
    ASSERT_EQ(lp.top.size(), 2u);
    EXPECT_EQ(lp.top[0].first, 2);
    EXPECT_EQ(lp.top[1].first, 1);
    EXPECT_FLOAT_EQ(lp.top[0].second, out[2]);
}

}  // namespace
}  // namespace duet::model
