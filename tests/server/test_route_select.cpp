// test_route_select.cpp: the router at the server's edge without a server: modes, conversation keys, stickiness
// across turns, metrics text.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "server/route_select.h"

namespace duet::server {
namespace {

std::shared_ptr<const router::Router> builtin() {
    static auto r = std::make_shared<const router::Router>(std::move(router::Router::create_default()).value());
    return r;
}

std::vector<openai::ChatMessage> chat(std::initializer_list<std::pair<const char*, const char*>> turns) {
    std::vector<openai::ChatMessage> out;
    for (const auto& [role, content] : turns) out.push_back({role, content, ""});
    return out;
}

TEST(RouteSelect, ModesFromModelNames) {
    EXPECT_EQ(route_mode_for("duet-auto"), RouteMode::automatic);
    EXPECT_EQ(route_mode_for("duet-expert"), RouteMode::expert);
    EXPECT_EQ(route_mode_for("duet-daily"), RouteMode::daily);
    EXPECT_FALSE(route_mode_for("qwen").has_value());
    EXPECT_FALSE(route_mode_for("").has_value());
}

TEST(RouteSelect, ConversationKeys) {
    const auto turn1 = chat({{"system", "be nice"}, {"user", "你好"}});
    const auto turn2 = chat({{"system", "be nice"}, {"user", "你好"}, {"assistant", "你好！"}, {"user", "今天吃啥"}});
    EXPECT_EQ(conversation_key("", "", turn1), conversation_key("", "", turn2));
    EXPECT_NE(conversation_key("", "", turn1), conversation_key("", "", chat({{"user", "你好"}})));
    EXPECT_EQ(conversation_key("c1", "ann", turn1), "h:c1");
    EXPECT_EQ(conversation_key("", "ann", turn1), "u:ann");
    EXPECT_EQ(routed_text(turn2), "今天吃啥");
    EXPECT_EQ(routed_text(chat({{"system", "x"}})), "");
}

// A router whose P(expert) is set by the Latin share alone: 0% Latin -> 0.1, 50% -> 0.65, 100% -> 0.97.
std::shared_ptr<const router::Router> latin_router() {
    router::RouterModel m;
    m.fusion_bias = std::log(0.1f / 0.9f);
    m.fusion_weights[router::kFeatLatinRatio] = 2.0f * (std::log(0.65f / 0.35f) - m.fusion_bias);
    m.threshold = 0.5f;
    return std::make_shared<const router::Router>(std::move(router::KeywordSet::parse("", "none")).value(), m);
}

TEST(RouteSelect, AutoRoutesAndStickinessHoldsAConversation) {
    RouteService service(latin_router(), "big", "small");
    RouteSelection s = service.select(RouteMode::automatic, chat({{"user", "今天吃啥呢"}}), "", "ann");
    EXPECT_EQ(s.model, "small");
    EXPECT_FALSE(s.decision.stickiness.applied);
    service.record(s, 4000);
    // P = 0.65: expert on its own, but not by the margin a 4000-token conversation asks (0.5 + 0.257).
    s = service.select(RouteMode::automatic, chat({{"user", "abc今天吃"}}), "", "ann");
    EXPECT_EQ(s.decision.fused_role, router::Role::expert);
    EXPECT_EQ(s.model, "small");
    EXPECT_TRUE(s.decision.stickiness.switch_avoided);
    EXPECT_EQ(s.decision.stickiness.recompute_tokens, 4000);
    service.record(s, 4100);
    // Another conversation with the same text is not held.
    EXPECT_EQ(service.select(RouteMode::automatic, chat({{"user", "abc今天吃"}}), "", "bob").model, "big");
    // P = 0.97 clears the margin.
    s = service.select(RouteMode::automatic, chat({{"user", "hello world"}}), "", "ann");
    EXPECT_EQ(s.model, "big");
    EXPECT_TRUE(s.decision.stickiness.switched);
    std::string text;
    service.metrics().render(&text);
    EXPECT_NE(text.find("duet_router_decisions_total{mode=\"auto\",route=\"daily\",model=\"small\"} 2"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("duet_router_decisions_total{mode=\"auto\",route=\"expert\",model=\"big\"} 2"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("duet_router_decision_seconds_count{router=\"duet\"} 4"), std::string::npos) << text;
    EXPECT_NE(text.find("duet_router_switches_avoided_total 1"), std::string::npos) << text;
    EXPECT_NE(text.find("duet_router_switches_total 1"), std::string::npos) << text;
}

TEST(RouteSelect, PinnedModesIgnoreTheEvidence) {
    RouteService service(builtin(), "big", "small");
    RouteSelection s = service.select(RouteMode::daily, chat({{"user", "SELECT * FROM t;"}}), "", "bob");
    EXPECT_EQ(s.model, "small");
    EXPECT_EQ(s.decision.role, router::Role::daily);
    EXPECT_EQ(s.decision.fused_role, router::Role::expert);
    s = service.select(RouteMode::expert, chat({{"user", "今天吃啥"}}), "", "bob");
    EXPECT_EQ(s.model, "big");
    std::string text;
    service.metrics().render(&text);
    EXPECT_NE(text.find("duet_router_decisions_total{mode=\"daily\",route=\"daily\",model=\"small\"} 1"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace duet::server
