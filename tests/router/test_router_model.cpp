// test_router_model.cpp: the router model file: round trip and refusal of corrupt files with an offset.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "router/router.h"
#include "router/router_model.h"

namespace duet::router {
namespace {

RouterModel sample_model() {
    RouterModel m;
    m.classifier.bias = 0.25f;
    m.classifier.weights[3] = 1.5f;
    m.classifier.weights[kFeatureBuckets - 1] = -2.0f;
    m.fusion_bias = -1.0f;
    for (int i = 0; i < kNumFusionFeatures; ++i) m.fusion_weights[i] = 0.5f * static_cast<float>(i);
    m.threshold = 0.42f;
    m.keywords_fingerprint = 0x1122334455667788ull;
    return m;
}

std::string error_of(const std::string& bytes) {
    auto r = parse_router_model(bytes, "m.bin");
    return r.ok() ? "(parsed)" : r.status().message();
}

TEST(RouterModel, RoundTrip) {
    const RouterModel m = sample_model();
    const std::string bytes = serialize_router_model(m);
    EXPECT_EQ(bytes.size(), 28u + 4u * (3 + kNumFusionFeatures) + 4u + 2u * 8u);
    auto back = parse_router_model(bytes, "m.bin");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(back->classifier.weights == m.classifier.weights);
    EXPECT_EQ(back->classifier.bias, m.classifier.bias);
    EXPECT_EQ(back->fusion_weights, m.fusion_weights);
    EXPECT_EQ(back->threshold, m.threshold);
    EXPECT_EQ(back->keywords_fingerprint, m.keywords_fingerprint);
    EXPECT_EQ(serialize_router_model(*back), bytes);
}

TEST(RouterModel, RefusesCorruptFiles) {
    const std::string good = serialize_router_model(sample_model());
    EXPECT_EQ(error_of(""), "router model 'm.bin': truncated at offset 0 reading the header (file has 0 bytes)");
    std::string bad = good;
    bad[0] = 'X';
    EXPECT_EQ(error_of(bad),
              "router model 'm.bin': offset 0: bad magic (expected 'DUETRTR1'; not a router model file)");
    bad = good;
    bad[8] = 9;
    EXPECT_EQ(error_of(bad), "router model 'm.bin': offset 8: unsupported version 9 (expected 1)");
    EXPECT_NE(error_of(good.substr(0, good.size() - 3)).find("classifier weights do not fit"), std::string::npos);
    // threshold (after the fusion weights) out of range
    bad = good;
    const float one = 1.0f;
    std::memcpy(&bad[36 + 4 * kNumFusionFeatures], &one, 4);
    EXPECT_NE(error_of(bad).find("threshold not in (0, 1)"), std::string::npos);
    // a NaN fusion weight
    bad = good;
    const float nan = std::nanf("");
    std::memcpy(&bad[36], &nan, 4);
    EXPECT_EQ(error_of(bad), "router model 'm.bin': offset 36: a fusion weight is not finite");
    // buckets must increase: swap the two (bucket, weight) pairs
    bad = good;
    const size_t pairs = good.size() - 16;
    std::string swapped = good.substr(pairs + 8, 8) + good.substr(pairs, 8);
    bad.replace(pairs, 16, swapped);
    EXPECT_NE(error_of(bad).find("not increasing"), std::string::npos);
}

TEST(RouterModel, BuiltInModelLoads) {
    auto m = parse_router_model(builtin_model_bytes(), "<built-in>");
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_GT(m->threshold, 0.0f);
    EXPECT_NE(m->fusion_weights[kFeatClassifier], 0.0f);
    EXPECT_FALSE(Router::create("", "/no/such/router.bin").ok());
}

}  // namespace
}  // namespace duet::router
