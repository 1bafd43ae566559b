// test_route_json.cpp: a router decision as the duet.route object and the x-duet-route header.
#include <gtest/gtest.h>

#include <string>

#include "common/strformat.h"
#include "openai/route_json.h"

namespace duet::openai {
namespace {

const router::Router& builtin() {
    static const router::Router r = std::move(router::Router::create_default()).value();
    return r;
}

TEST(RouteJson, DecisionObject) {
    const router::ConversationState conv{router::Role::daily, 700};
    const router::Decision d = builtin().decide("kubectl get pods 一直 CrashLoopBackOff 咋整", &conv);
    const nlohmann::json j = decision_json(builtin(), d, "auto", "llama");
    EXPECT_EQ(j["mode"], "auto");
    EXPECT_EQ(j["model"], "llama");
    EXPECT_EQ(j["role"], std::string(router::role_name(d.role)));
    EXPECT_NEAR(j["probability"].get<double>(), d.probability, 1e-4);
    EXPECT_EQ(j["signals"]["keywords"]["matches"].size(), d.keywords.hits.size());
    EXPECT_EQ(j["signals"]["script"]["chars"], d.script.n_chars);
    EXPECT_EQ(j["fusion"]["inputs"].size(), static_cast<size_t>(router::kNumFusionFeatures));
    EXPECT_EQ(j["stickiness"]["previous"], "daily");
    EXPECT_EQ(j["stickiness"]["recompute_tokens"], 700);
    EXPECT_TRUE(j["signals"]["embedding"].is_null());
    EXPECT_TRUE(decision_json(builtin(), builtin().decide("hi"), "auto", "")["model"].is_null());
}

TEST(RouteJson, CompactHeader) {
    router::Decision d = builtin().decide("今天吃啥");
    d.latency_us = 12;
    EXPECT_EQ(route_header(d, "auto", "qwen"),
              "role=daily; mode=auto; model=qwen; p=" + strformat("%.3f", d.probability) + "; sticky=none; us=12");
    d.stickiness.applied = true;
    d.stickiness.switch_avoided = true;
    EXPECT_NE(route_header(d, "auto", "qwen").find("sticky=kept"), std::string::npos);
}

TEST(RouteJson, AttachedToAResponseObject) {
    const nlohmann::json route = {{"role", "daily"}, {"model", "qwen"}};
    const std::string out = attach_route(R"({"id":"x","choices":[{"index":0}]})", route);
    const auto j = nlohmann::json::parse(out);
    EXPECT_EQ(j["id"], "x");
    EXPECT_EQ(j["duet"]["route"]["model"], "qwen");
    EXPECT_EQ(nlohmann::json::parse(attach_route("{}", route))["duet"]["route"]["role"], "daily");
}

}  // namespace
}  // namespace duet::openai
