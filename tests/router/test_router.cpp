// test_router.cpp: decisions of the built-in router: the policy's examples, empty and 1 MB messages, tie-break,
// stickiness.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "router/router.h"

namespace duet::router {
namespace {

const Router& builtin() {
    static const Router router = [] {
        auto r = Router::create_default();
        if (!r.ok()) {
            ADD_FAILURE() << r.status().message();
            std::abort();
        }
        return std::move(r).value();
    }();
    return router;
}

TEST(Router, PolicyExamples) {
    const Router& r = builtin();
    EXPECT_EQ(r.decide("React hooks里useEffect的依赖数组到底咋写？").role, Role::expert);
    EXPECT_EQ(r.decide("老板让我写个周报，但我这周就改了个bug，咋写才显得忙？").role, Role::daily);
    EXPECT_EQ(r.decide("How do I rebase my feature branch onto main without losing commits?").role, Role::expert);
    EXPECT_EQ(r.decide("What's a good name for a golden retriever puppy?").role, Role::expert);
    EXPECT_EQ(r.decide("今天下班好累，晚上吃点啥好呢").role, Role::daily);
    EXPECT_EQ(r.decide("咋整啊老铁，这天儿贼拉冷").role, Role::daily);
    EXPECT_EQ(r.decide("Traceback (most recent call last):\n  File \"a.py\", line 3\nKeyError: 'x'\n帮我看看").role,
              Role::expert);
}

TEST(Router, DecisionCarriesEvidence) {
    const Decision d = builtin().decide("docker compose 启动 redis 一直报错 connection refused");
    EXPECT_EQ(d.role, Role::expert);
    EXPECT_GT(d.keywords.expert, 0.0f);
    bool docker = false;
    for (const auto& h : d.keywords.hits)
        docker = docker || builtin().keywords().entries()[h.entry].pattern == "docker";
    EXPECT_TRUE(docker);
    EXPECT_GT(d.script.n_han, 0);
    EXPECT_GT(d.script.n_latin, 0);
    EXPECT_GT(d.classifier_probability, 0.5f);
    float sum = builtin().model().fusion_bias;
    for (float c : d.contributions) sum += c;
    EXPECT_NEAR(d.probability, sigmoid(sum), 1e-5f);
    EXPECT_FALSE(d.embedding.has_value());
    EXPECT_FALSE(d.stickiness.applied);
    EXPECT_GE(d.latency_us, 0);
}

TEST(Router, EmptyAndLetterlessMessagesTieBreakToDaily) {
    for (const char* text : {"", "😂😂", "666", "？？？"}) {
        const Decision d = builtin().decide(text);
        EXPECT_TRUE(d.borderline) << text;
        EXPECT_EQ(d.role, Role::daily) << text;
        EXPECT_NE(d.tie_break.find("no letters"), std::string::npos) << text;
    }
    ConversationState conv{Role::expert, 100};
    const Decision kept = builtin().decide("👍", &conv);
    EXPECT_EQ(kept.role, Role::expert);
    EXPECT_NE(kept.tie_break.find("keeps its role"), std::string::npos);
}

TEST(Router, OneMegabyteMessageReadsOnlyTheWindow) {
    std::string msg = "帮我看看这个日志：\n";
    while (msg.size() < (1u << 20)) msg += "2024-01-01 12:00:00 ERROR worker: connection reset by peer\n";
    const Decision d = builtin().decide(msg);
    EXPECT_TRUE(d.truncated);
    EXPECT_EQ(d.message_bytes, msg.size());
    EXPECT_LE(d.scanned_bytes, 8193u);
    EXPECT_EQ(d.role, Role::expert);
}

TEST(Router, StickinessMarginGrowsWithTheCachedPrefix) {
    EXPECT_FLOAT_EQ(stickiness_margin(0), 0.1f);
    EXPECT_NEAR(stickiness_margin(512), 0.15f, 1e-6f);
    EXPECT_LT(stickiness_margin(512), stickiness_margin(4096));
    EXPECT_FLOAT_EQ(stickiness_margin(1 << 30), 0.3f);
    EXPECT_FLOAT_EQ(stickiness_margin(-5), 0.1f);
}

TEST(Router, StickinessKeepsTheRoleUnlessTheEvidenceClearsTheMargin) {
    // A RouterModel whose probability is set by one input: P = sigmoid(w * han_ratio + b), to place P exactly.
    auto make = [](float p_for_han) {
        RouterModel m;
        m.fusion_weights[kFeatHanRatio] = 1.0f;
        m.fusion_bias = std::log(p_for_han / (1.0f - p_for_han)) - 1.0f;  // all-Han text: han_ratio = 1
        m.threshold = 0.5f;
        auto kw = KeywordSet::parse("", "empty");
        return Router(std::move(kw).value(), m);
    };
    const ConversationState daily_conv{Role::daily, 2048};  // margin 0.1 + 0.05 * log2(5) ~ 0.216
    {
        const Router r = make(0.65f);  // expert alone, but not by the margin
        const Decision d = r.decide("中文中文", &daily_conv);
        EXPECT_EQ(d.fused_role, Role::expert);
        EXPECT_EQ(d.role, Role::daily);
        EXPECT_TRUE(d.stickiness.applied);
        EXPECT_TRUE(d.stickiness.switch_avoided);
        EXPECT_FALSE(d.stickiness.switched);
        EXPECT_EQ(d.stickiness.recompute_tokens, 2048);
        EXPECT_NEAR(d.stickiness.margin, stickiness_margin(2048), 1e-6f);
    }
    {
        const Router r = make(0.9f);  // clears 0.5 + 0.216
        const Decision d = r.decide("中文中文", &daily_conv);
        EXPECT_EQ(d.role, Role::expert);
        EXPECT_TRUE(d.stickiness.switched);
        EXPECT_FALSE(d.stickiness.switch_avoided);
    }
    {
        const Router r = make(0.2f);  // same role as the conversation: nothing to avoid
        const Decision d = r.decide("中文中文", &daily_conv);
        EXPECT_EQ(d.role, Role::daily);
        EXPECT_FALSE(d.stickiness.switch_avoided);
        EXPECT_FALSE(d.stickiness.switched);
    }
    {
        const Router r = make(0.505f);  // inside the tie band: borderline keeps the conversation's role
        const ConversationState expert_conv{Role::expert, 0};
        const Decision d = r.decide("中文中文", &expert_conv);
        EXPECT_TRUE(d.borderline);
        EXPECT_EQ(d.role, Role::expert);
        const Decision alone = r.decide("中文中文");
        EXPECT_EQ(alone.role, Role::daily);  // no conversation: mostly Han goes daily
    }
}

TEST(Router, MemoryStaysSmall) { EXPECT_LT(builtin().memory_bytes(), 20u << 20); }

}  // namespace
}  // namespace duet::router
