// test_classifier.cpp: n-gram features and the logistic-regression classifier (learning, determinism).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "router/classifier.h"
#include "router/ngram_features.h"

namespace duet::router {
namespace {

std::vector<uint32_t> features(std::string_view text) {
    std::vector<uint32_t> f;
    extract_ngram_features(text, f);
    return f;
}

TEST(NgramFeatures, CjkCharacterGramsAndWords) {
    // 3 Han chars: 3 unigrams + 2 bigrams + 1 trigram; plus the script-mix feature.
    EXPECT_EQ(features("咋整啊").size(), 3u + 2u + 1u + 1u);
    // one word "ab": the word + 4 char trigrams of " ab " padded... (" ab", "ab ") = 2; plus script mix.
    EXPECT_EQ(features("ab").size(), 1u + 2u + 1u);
    EXPECT_EQ(features("").size(), 1u);  // only the script-mix feature
    for (uint32_t b : features("React hooks里useEffect的依赖数组 {x: 1} 😀")) EXPECT_LT(b, kFeatureBuckets);
    EXPECT_EQ(features("Hello World"), features("hello world"));  // ASCII words are lower-cased
    EXPECT_NE(features("咋整"), features("整咋"));
}

TEST(Classifier, LearnsASeparableToyProblemAndIsDeterministic) {
    const std::vector<std::string> expert = {"deploy the docker image", "kubectl get pods", "segfault in my C code",
                                             "python list comprehension", "git rebase onto main"};
    const std::vector<std::string> daily = {"今天吃什么好呢", "我好想家啊", "周末去哪儿玩", "孩子不爱吃饭",
                                            "天气太热了"};
    std::vector<std::vector<uint32_t>> x;
    std::vector<bool> y;
    for (const auto& t : expert) x.push_back(features(t)), y.push_back(true);
    for (const auto& t : daily) x.push_back(features(t)), y.push_back(false);
    ClassifierTrainOptions opt;
    opt.seed = 7;
    const NgramClassifier a = train_classifier(x, y, opt);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(a.logit(x[i]) > 0, y[i]) << i;
    EXPECT_GT(a.logit(features("docker pods in python")), 0.0f);
    EXPECT_LT(a.logit(features("今天想吃饭")), 0.0f);
    const NgramClassifier b = train_classifier(x, y, opt);
    EXPECT_TRUE(a.weights == b.weights);
    EXPECT_EQ(a.bias, b.bias);
    opt.seed = 8;  // another order gives other (still valid) weights
    const NgramClassifier c = train_classifier(x, y, opt);
    EXPECT_FALSE(a.weights == c.weights);
}

TEST(Classifier, ShuffleIsAPermutation) {
    SplitMix64 rng{3};
    std::vector<uint32_t> idx = shuffled_indices(100, rng);
    std::vector<uint32_t> sorted = idx;
    std::sort(sorted.begin(), sorted.end());
    for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
    EXPECT_NE(idx, sorted);
}

TEST(Classifier, SigmoidIsStableAtTheExtremes) {
    EXPECT_FLOAT_EQ(sigmoid(0.0f), 0.5f);
    EXPECT_FLOAT_EQ(sigmoid(200.0f), 1.0f);
    EXPECT_FLOAT_EQ(sigmoid(-200.0f), 0.0f);
    EXPECT_NEAR(sigmoid(2.0f) + sigmoid(-2.0f), 1.0f, 1e-6f);
}

}  // namespace
}  // namespace duet::router
