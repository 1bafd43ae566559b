// test_embedding.cpp: the embedding signal with a fake embedder (a bag of characters hashed into 32 dimensions),
// and its effect on a decision when attached to a router.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router/embedding_signal.h"
#include "router/router.h"
#include "router/text_scan.h"

namespace duet::router {
namespace {

std::vector<float> fake_embed(std::string_view text) {
    std::vector<float> v(32, 0.0f);
    for (size_t i = 0; i < text.size();) v[next_codepoint(text, &i) % 32] += 1.0f;
    v[31] += 0.01f;  // never the zero vector
    return v;
}

std::vector<Exemplar> exemplars() {
    return {{"kubectl apply deployment yaml", Role::expert},
            {"segfault pointer malloc free", Role::expert},
            {"python import numpy pandas", Role::expert},
            {"今天吃什么好呢", Role::daily},
            {"好想回家看看爸妈", Role::daily},
            {"周末一起去爬山吧", Role::daily}};
}

TEST(EmbeddingSignal, CentroidAndNearestExemplars) {
    auto sig = EmbeddingSignal::build(fake_embed, exemplars(), 3);
    ASSERT_TRUE(sig.ok()) << sig.status().message();
    EXPECT_EQ(sig->dimensions(), 32u);
    const EmbeddingScores e = sig->score("python numpy import");
    EXPECT_GT(e.centroid, 0.0f);
    EXPECT_GT(e.knn, 0.0f);
    ASSERT_EQ(e.nearest.size(), 3u);
    EXPECT_EQ(e.nearest[0].exemplar, 2);  // the pandas/numpy exemplar shares the most characters
    EXPECT_GE(e.nearest[0].similarity, e.nearest[1].similarity);
    EXPECT_GE(e.nearest[1].similarity, e.nearest[2].similarity);
    const EmbeddingScores d = sig->score("周末吃什么呢");
    EXPECT_LT(d.centroid, 0.0f);
    EXPECT_LT(d.knn, 0.0f);
    EXPECT_EQ(sig->exemplars()[d.nearest[0].exemplar].role, Role::daily);
}

TEST(EmbeddingSignal, RefusesBadExemplarsAndVectors) {
    auto one_route = EmbeddingSignal::build(fake_embed, {{"a", Role::expert}});
    ASSERT_FALSE(one_route.ok());
    EXPECT_NE(one_route.status().message().find("both routes"), std::string::npos);
    int calls = 0;
    auto ragged =
        EmbeddingSignal::build([&](std::string_view) { return std::vector<float>(++calls == 2 ? 8 : 16, 1.0f); },
                               exemplars());
    ASSERT_FALSE(ragged.ok());
    EXPECT_NE(ragged.status().message().find("dimensions"), std::string::npos);
    auto zero = EmbeddingSignal::build([](std::string_view) { return std::vector<float>(4, 0.0f); }, exemplars());
    EXPECT_FALSE(zero.ok());
}

TEST(EmbeddingSignal, AttachedToARouterItFeedsFusionWhenWeighted) {
    auto kw = KeywordSet::parse("", "empty");
    ASSERT_TRUE(kw.ok());
    RouterModel model;
    model.fusion_weights[kFeatEmbedCentroid] = 10.0f;  // a model fitted to trust the encoder
    Router router(std::move(kw).value(), model);
    auto sig = EmbeddingSignal::build(fake_embed, exemplars(), 2);
    ASSERT_TRUE(sig.ok());
    router.attach_embedding(std::move(sig).value());
    const Decision e = router.decide("python numpy import");
    ASSERT_TRUE(e.embedding.has_value());
    EXPECT_EQ(e.role, Role::expert);
    EXPECT_EQ(e.features[kFeatEmbedCentroid], e.embedding->centroid);
    EXPECT_EQ(e.embedding->nearest.size(), 2u);
    EXPECT_EQ(router.decide("好想回家吃饭").role, Role::daily);
}

}  // namespace
}  // namespace duet::router
