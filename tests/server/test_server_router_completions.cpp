// test_server_router_completions.cpp: the router in /v1/completions, in process over fake engines (alpha = expert,
// beta = daily): the prompt text is routed, the answer explains itself (x-duet-route, duet.route in the body and
// in the first SSE chunk only), pinned modes, stickiness by x-duet-conversation and `user` only, token-id prompts
// refused, /metrics counts, routing off -> 404.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router/router.h"
#include "server/route_select.h"
#include "server_harness.h"

namespace duet::test {
namespace {

constexpr const char* kEnglishTech = "How do I rebase a branch onto main in git?";
constexpr const char* kCasualChinese = "今天好累啊，晚上吃点啥好呢";
constexpr const char* kLeansExpert = "iPhone 好用吗";  // expert alone, short of a conversation's stickiness margin

struct RoutedHarness : ServerHarness {
    RoutedHarness() {
        static auto router =
            std::make_shared<const router::Router>(std::move(router::Router::create_default()).value());
        server->set_routing(std::make_shared<server::RouteService>(router, "alpha", "beta"));
    }
};

struct Answer {
    int status = 0;
    json body;
    std::string route_header;
};

Answer complete(const ServerHarness& h, json body, httplib::Headers headers = {}) {
    if (!body.contains("max_tokens")) body["max_tokens"] = 3;
    auto r = h.client()->Post("/v1/completions", headers, body.dump(), "application/json");
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false), r->get_header_value("x-duet-route")};
}

TEST(ServerRouterCompletions, ThePromptIsRoutedAndTheAnswerExplainsItself) {
    RoutedHarness h;
    Answer a = complete(h, {{"model", "duet-auto"}, {"prompt", kEnglishTech}});
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.body["object"], "text_completion");
    EXPECT_EQ(a.body["model"], "alpha");
    EXPECT_EQ(a.body["choices"][0]["text"].get<std::string>().size(), 3u);
    const json& route = a.body["duet"]["route"];
    EXPECT_EQ(route["mode"], "auto");
    EXPECT_EQ(route["role"], "expert");
    EXPECT_EQ(route["model"], "alpha");
    EXPECT_GT(route["signals"]["script"]["latin_ratio"].get<double>(), 0.9);
    EXPECT_TRUE(route["latency_us"].is_number_integer());
    EXPECT_TRUE(route["stickiness"].is_null());
    EXPECT_EQ(a.route_header.rfind("role=expert; mode=auto; model=alpha; p=", 0), 0u) << a.route_header;
    EXPECT_EQ(h.alpha->n_submitted(), 1);

    a = complete(h, {{"model", "duet-auto"}, {"prompt", json::array({kCasualChinese})}});  // a batch of one
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.body["model"], "beta");
    EXPECT_EQ(a.body["duet"]["route"]["role"], "daily");
    EXPECT_EQ(a.route_header.rfind("role=daily; mode=auto; model=beta; p=", 0), 0u) << a.route_header;
    EXPECT_EQ(h.beta->n_submitted(), 1);

    // Pinned modes: the router's view is shown, the role is the one asked for.
    a = complete(h, {{"model", "duet-daily"}, {"prompt", "SELECT * FROM t;"}});
    EXPECT_EQ(a.body["model"], "beta");
    EXPECT_EQ(a.body["duet"]["route"]["mode"], "daily");
    EXPECT_EQ(a.body["duet"]["route"]["fused_role"], "expert");
    EXPECT_EQ(a.route_header.rfind("role=daily; mode=daily; model=beta", 0), 0u) << a.route_header;
    a = complete(h, {{"model", "duet-expert"}, {"prompt", kCasualChinese}, {"echo", true}});
    EXPECT_EQ(a.body["model"], "alpha");
    EXPECT_EQ(a.body["choices"][0]["text"].get<std::string>().rfind(kCasualChinese, 0), 0u);  // echo still works
    // A real model name bypasses the router.
    a = complete(h, {{"model", "beta"}, {"prompt", kEnglishTech}});
    EXPECT_EQ(a.body["model"], "beta");
    EXPECT_FALSE(a.body.contains("duet"));
    EXPECT_TRUE(a.route_header.empty());
}

TEST(ServerRouterCompletions, OnlyTheFirstStreamChunkCarriesTheRoute) {
    RoutedHarness h;
    for (const bool echo : {false, true}) {
        const json body = {{"model", "duet-auto"}, {"prompt", "SELECT * FROM t;"},
                           {"max_tokens", 3},      {"stream", true},
                           {"echo", echo},         {"n", 2}};
        auto r = h.client()->Post("/v1/completions", body.dump(), "application/json");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
        EXPECT_EQ(r->get_header_value("x-duet-route").rfind("role=expert; mode=auto; model=alpha", 0), 0u);
        const std::vector<std::string> payloads = sse_payloads(r->body);
        ASSERT_GE(payloads.size(), 3u) << r->body;
        const json first = json::parse(payloads[0]);
        EXPECT_EQ(first["model"], "alpha");
        EXPECT_EQ(first["choices"][0]["index"], 0);
        EXPECT_EQ(first["choices"][0]["text"], echo ? "SELECT * FROM t;" : "");
        EXPECT_EQ(first["duet"]["route"]["role"], "expert");
        std::string text[2];
        for (size_t i = 1; i < payloads.size(); ++i) {
            if (payloads[i] == "[DONE]") continue;
            const json chunk = json::parse(payloads[i]);
            EXPECT_FALSE(chunk.contains("duet")) << payloads[i];
            EXPECT_EQ(chunk["model"], "alpha");
            for (const auto& c : chunk["choices"]) text[c["index"].get<int>()] += c["text"].get<std::string>();
        }
        EXPECT_EQ(text[0].size(), 3u) << "echo " << echo;  // without echo: only the route's opening chunk added
        EXPECT_EQ(text[1].size(), echo ? 3u + 16u : 3u) << "echo " << echo;
        EXPECT_EQ(payloads.back(), "[DONE]");
    }
}

TEST(ServerRouterCompletions, StickinessByHeaderOrUserOnly) {
    RoutedHarness h;
    const httplib::Headers c1 = {{"x-duet-conversation", "k1"}};
    EXPECT_EQ(complete(h, {{"model", "duet-auto"}, {"prompt", kCasualChinese}}, c1).body["model"], "beta");
    Answer a = complete(h, {{"model", "duet-auto"}, {"prompt", kLeansExpert}}, c1);
    EXPECT_EQ(a.body["model"], "beta");
    EXPECT_EQ(a.body["duet"]["route"]["stickiness"]["switch_avoided"], true);
    EXPECT_GT(a.body["duet"]["route"]["stickiness"]["recompute_tokens"].get<int>(), 0);
    EXPECT_NE(a.route_header.find("sticky=kept"), std::string::npos) << a.route_header;
    // The same conversation key is shared with the chat route.
    json chat = {{"model", "duet-auto"},
                 {"messages", json::array({{{"role", "user"}, {"content", kLeansExpert}}})},
                 {"max_tokens", 3}};
    auto r = h.client()->Post("/v1/chat/completions", c1, chat.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(json::parse(r->body)["model"], "beta");

    EXPECT_EQ(complete(h, {{"model", "duet-auto"}, {"prompt", kCasualChinese}, {"user", "bo"}}).body["model"], "beta");
    a = complete(h, {{"model", "duet-auto"}, {"prompt", kLeansExpert}, {"user", "bo"}});
    EXPECT_EQ(a.body["model"], "beta");
    // Without a header or user, each completion is routed on its own (no implicit conversation).
    EXPECT_EQ(complete(h, {{"model", "duet-auto"}, {"prompt", kCasualChinese}}).body["model"], "beta");
    a = complete(h, {{"model", "duet-auto"}, {"prompt", kLeansExpert}});
    EXPECT_EQ(a.body["model"], "alpha");
    EXPECT_TRUE(a.body["duet"]["route"]["stickiness"].is_null());
    EXPECT_NE(a.route_header.find("sticky=none"), std::string::npos) << a.route_header;
    // `user` must be a string.
    a = complete(h, {{"model", "duet-auto"}, {"prompt", kLeansExpert}, {"user", 7}});
    EXPECT_EQ(a.status, 400);
    EXPECT_TRUE(is_error_body(a.body.dump()));
}

TEST(ServerRouterCompletions, TokenPromptsAreNotRoutedAndModesNeedTheRouter) {
    RoutedHarness h;
    for (const char* mode : {"duet-auto", "duet-expert"}) {
        const Answer a = complete(h, {{"model", mode}, {"prompt", json::array({1, 2, 3})}});
        EXPECT_EQ(a.status, 400) << mode;
        ASSERT_TRUE(is_error_body(a.body.dump()));
        EXPECT_EQ(a.body["error"]["param"], "prompt");
        EXPECT_NE(a.body["error"]["message"].get<std::string>().find("token ids cannot be routed"), std::string::npos);
    }
    ServerHarness plain;
    const std::string why = "duet-auto, duet-expert and duet-daily need an expert and a daily chat model";
    plain.server->set_routing(nullptr, why);
    const Answer a = complete(plain, {{"model", "duet-auto"}, {"prompt", kEnglishTech}});
    EXPECT_EQ(a.status, 404);
    EXPECT_EQ(a.body["error"]["code"], "model_not_found");
    EXPECT_EQ(a.body["error"]["message"], why);
    EXPECT_EQ(h.alpha->n_submitted() + h.beta->n_submitted() + plain.alpha->n_submitted(), 0);
}

TEST(ServerRouterCompletions, MetricsCountCompletionsToo) {
    RoutedHarness h;
    complete(h, {{"model", "duet-auto"}, {"prompt", kCasualChinese}}, {{"x-duet-conversation", "m"}});
    complete(h, {{"model", "duet-auto"}, {"prompt", kLeansExpert}}, {{"x-duet-conversation", "m"}});  // kept
    complete(h, {{"model", "duet-expert"}, {"prompt", kCasualChinese}});
    complete(h, {{"model", "alpha"}, {"prompt", kCasualChinese}});  // bypass: not counted
    auto r = h.client()->Get("/metrics");
    ASSERT_TRUE(r);
    const std::string& m = r->body;
    EXPECT_NE(m.find("duet_router_decisions_total{mode=\"auto\",route=\"daily\",model=\"beta\"} 2\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("duet_router_decisions_total{mode=\"expert\",route=\"expert\",model=\"alpha\"} 1\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("duet_router_decision_seconds_count{router=\"duet\"} 3\n"), std::string::npos) << m;
    EXPECT_NE(m.find("duet_router_switches_avoided_total 1\n"), std::string::npos) << m;
}

}  // namespace
}  // namespace duet::test
