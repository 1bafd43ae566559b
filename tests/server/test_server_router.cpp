// test_server_router.cpp: the router in the chat route, in process over fake engines (alpha = expert, beta =
// daily): /v1/models lists duet-auto/-expert/-daily, duet-auto routes each message and explains itself
// (x-duet-route, duet.route in the body and in the first SSE chunk only), pinned modes, a real model name
// bypasses, a conversation sticks (header, user field, earlier messages), /metrics counts, routing off -> 404.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "router/router.h"
#include "server/route_select.h"
#include "server_harness.h"

namespace duet::test {
namespace {

constexpr const char* kEnglishTech = "How do I rebase a branch onto main in git?";
constexpr const char* kCasualChinese = "今天好累啊，晚上吃点啥好呢";
// P(expert) ~0.50 with the shipped router: expert on its own, but short of a conversation's stickiness margin.
constexpr const char* kLeansExpert = "iPhone 好用吗";

std::shared_ptr<const router::Router> builtin_router() {
    static auto r = std::make_shared<const router::Router>(std::move(router::Router::create_default()).value());
    return r;
}

struct RoutedHarness : ServerHarness {
    RoutedHarness() { server->set_routing(std::make_shared<server::RouteService>(builtin_router(), "alpha", "beta")); }
};

json chat_body(const std::string& model, std::vector<std::pair<std::string, std::string>> turns, bool stream = false) {
    json messages = json::array();
    for (const auto& [role, content] : turns) messages.push_back({{"role", role}, {"content", content}});
    return {{"model", model}, {"messages", messages}, {"max_tokens", 3}, {"stream", stream}};
}

json ask(const RoutedHarness& h, const std::string& model, const std::string& text, httplib::Headers headers = {},
         std::string* route_header = nullptr) {
    auto r = h.client()->Post("/v1/chat/completions", headers, chat_body(model, {{"user", text}}).dump(),
                              "application/json");
    if (!r) return nullptr;
    EXPECT_EQ(r->status, 200) << r->body;
    if (route_header) *route_header = r->get_header_value("x-duet-route");
    return json::parse(r->body);
}

std::vector<std::string> model_ids(const ServerHarness& h) {
    auto r = h.client()->Get("/v1/models");
    std::vector<std::string> ids;
    if (!r || r->status != 200) return ids;
    const json models = json::parse(r->body);
    for (const auto& m : models["data"]) ids.push_back(m["id"]);
    return ids;
}

TEST(ServerRouter, ModelsListTheModesBesideTheRealModels) {
    RoutedHarness h;
    EXPECT_EQ(model_ids(h), (std::vector<std::string>{"alpha", "beta", "duet-auto", "duet-expert", "duet-daily"}));
    ServerHarness plain;
    EXPECT_EQ(model_ids(plain), (std::vector<std::string>{"alpha", "beta"}));
}

TEST(ServerRouter, AutoSendsEnglishTechnicalToTheExpertAndCasualChineseToTheDaily) {
    RoutedHarness h;
    std::string header;
    json j = ask(h, "duet-auto", kEnglishTech, {}, &header);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["model"], "alpha");
    const json& route = j["duet"]["route"];
    EXPECT_EQ(route["mode"], "auto");
    EXPECT_EQ(route["role"], "expert");
    EXPECT_EQ(route["model"], "alpha");
    EXPECT_GT(route["probability"].get<double>(), route["threshold"].get<double>());
    EXPECT_GT(route["signals"]["classifier"]["probability"].get<double>(), 0.5);
    EXPECT_GT(route["signals"]["script"]["latin_ratio"].get<double>(), 0.9);
    EXPECT_FALSE(route["signals"]["keywords"]["matches"].empty()) << route.dump();
    EXPECT_TRUE(route["latency_us"].is_number_integer());
    EXPECT_TRUE(route["stickiness"].is_null());  // a new conversation
    EXPECT_EQ(header.rfind("role=expert; mode=auto; model=alpha; p=", 0), 0u) << header;
    EXPECT_NE(header.find("sticky=none"), std::string::npos) << header;
    EXPECT_EQ(h.alpha->n_submitted(), 1);
    EXPECT_EQ(h.beta->n_submitted(), 0);

    j = ask(h, "duet-auto", kCasualChinese, {}, &header);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["model"], "beta");
    EXPECT_EQ(j["duet"]["route"]["role"], "daily");
    EXPECT_EQ(j["duet"]["route"]["model"], "beta");
    EXPECT_LT(j["duet"]["route"]["probability"].get<double>(), j["duet"]["route"]["threshold"].get<double>());
    EXPECT_GT(j["duet"]["route"]["signals"]["script"]["han_ratio"].get<double>(), 0.5);
    EXPECT_EQ(header.rfind("role=daily; mode=auto; model=beta; p=", 0), 0u) << header;
    EXPECT_EQ(h.beta->n_submitted(), 1);
    // The answer itself is the daily engine's, as for any request to beta.
    EXPECT_EQ(j["choices"][0]["message"]["content"].get<std::string>().size(), 3u);
}

TEST(ServerRouter, OnlyTheFirstStreamChunkCarriesTheRoute) {
    RoutedHarness h;
    auto r = h.client()->Post("/v1/chat/completions",
                              chat_body("duet-auto", {{"user", "SELECT * FROM t;"}}, true).dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("x-duet-route").rfind("role=expert; mode=auto; model=alpha", 0), 0u);
    const std::vector<std::string> payloads = sse_payloads(r->body);
    ASSERT_GE(payloads.size(), 3u) << r->body;
    const json first = json::parse(payloads[0]);
    EXPECT_EQ(first["model"], "alpha");
    EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
    EXPECT_EQ(first["duet"]["route"]["role"], "expert");
    EXPECT_EQ(first["duet"]["route"]["mode"], "auto");
    for (size_t i = 1; i < payloads.size(); ++i) {
        if (payloads[i] == "[DONE]") continue;
        const json chunk = json::parse(payloads[i]);
        EXPECT_FALSE(chunk.contains("duet")) << payloads[i];
        EXPECT_EQ(chunk["model"], "alpha");
    }
    EXPECT_EQ(payloads.back(), "[DONE]");
}

TEST(ServerRouter, PinnedModesAndARealModelName) {
    RoutedHarness h;
    std::string header;
    json j = ask(h, "duet-daily", "SELECT * FROM t;", {}, &header);
    EXPECT_EQ(j["model"], "beta");
    EXPECT_EQ(j["duet"]["route"]["mode"], "daily");
    EXPECT_EQ(j["duet"]["route"]["role"], "daily");
    EXPECT_EQ(j["duet"]["route"]["fused_role"], "expert");  // the router's own view is still shown
    EXPECT_EQ(header.rfind("role=daily; mode=daily; model=beta", 0), 0u) << header;
    j = ask(h, "duet-expert", kCasualChinese, {}, &header);
    EXPECT_EQ(j["model"], "alpha");
    EXPECT_EQ(j["duet"]["route"]["mode"], "expert");
    EXPECT_EQ(j["duet"]["route"]["fused_role"], "daily");
    // A real model name: untouched (no route object, no header), whatever the message.
    auto r = h.client()->Post("/v1/chat/completions", chat_body("beta", {{"user", kEnglishTech}}).dump(),
                              "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    j = json::parse(r->body);
    EXPECT_EQ(j["model"], "beta");
    EXPECT_FALSE(j.contains("duet"));
    EXPECT_FALSE(r->has_header("x-duet-route"));
    EXPECT_EQ(h.alpha->n_submitted(), 1);
    EXPECT_EQ(h.beta->n_submitted(), 2);
}

TEST(ServerRouter, AConversationStaysOnItsModelUnlessTheEvidenceClearsTheMargin) {
    RoutedHarness h;
    // By header.
    const httplib::Headers c1 = {{"x-duet-conversation", "c1"}};
    EXPECT_EQ(ask(h, "duet-auto", kCasualChinese, c1)["model"], "beta");
    std::string header;
    json j = ask(h, "duet-auto", kLeansExpert, c1, &header);
    EXPECT_EQ(j["model"], "beta");
    const json& sticky = j["duet"]["route"]["stickiness"];
    EXPECT_EQ(sticky["previous"], "daily");
    EXPECT_EQ(sticky["switch_avoided"], true);
    EXPECT_GT(sticky["recompute_tokens"].get<int>(), 0);  // the first turn's prompt, cached on beta
    EXPECT_EQ(j["duet"]["route"]["fused_role"], "expert");
    EXPECT_NE(header.find("sticky=kept"), std::string::npos) << header;
    // Another conversation with the same message is not held; clear evidence moves c1.
    EXPECT_EQ(ask(h, "duet-auto", kLeansExpert, {{"x-duet-conversation", "c2"}})["model"], "alpha");
    j = ask(h, "duet-auto", kEnglishTech, c1, &header);
    EXPECT_EQ(j["model"], "alpha");
    EXPECT_EQ(j["duet"]["route"]["stickiness"]["switched"], true);

    // By the OpenAI user field.
    json body = chat_body("duet-auto", {{"user", kCasualChinese}});
    body["user"] = "ann";
    auto r = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(json::parse(r->body)["model"], "beta");
    body = chat_body("duet-auto", {{"user", kLeansExpert}});
    body["user"] = "ann";
    r = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(json::parse(r->body)["model"], "beta");

    // By the conversation's earlier messages (no header, no user).
    EXPECT_EQ(ask(h, "duet-auto", "我妈最近老失眠，有啥办法吗")["model"], "beta");
    r = h.client()->Post("/v1/chat/completions",
                         chat_body("duet-auto", {{"user", "我妈最近老失眠，有啥办法吗"},
                                                 {"assistant", "可以试试睡前泡脚"},
                                                 {"user", kLeansExpert}})
                             .dump(),
                         "application/json");
    ASSERT_TRUE(r);
    j = json::parse(r->body);
    EXPECT_EQ(j["model"], "beta");
    EXPECT_EQ(j["duet"]["route"]["stickiness"]["switch_avoided"], true);

    // The user field must be a string.
    body["user"] = 7;
    r = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(is_error_body(r->body));
}

TEST(ServerRouter, MetricsCountDecisionsByModeRouteAndModel) {
    RoutedHarness h;
    const httplib::Headers c = {{"x-duet-conversation", "m1"}};
    ask(h, "duet-auto", kCasualChinese, c);
    ask(h, "duet-auto", kLeansExpert, c);  // kept on daily: a switch avoided
    ask(h, "duet-auto", kEnglishTech);
    ask(h, "duet-expert", kCasualChinese);
    ask(h, "alpha", kCasualChinese);  // bypass: not counted
    auto r = h.client()->Get("/metrics");
    ASSERT_TRUE(r);
    const std::string& m = r->body;
    EXPECT_NE(m.find("duet_router_decisions_total{mode=\"auto\",route=\"daily\",model=\"beta\"} 2\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("duet_router_decisions_total{mode=\"auto\",route=\"expert\",model=\"alpha\"} 1\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("duet_router_decisions_total{mode=\"expert\",route=\"expert\",model=\"alpha\"} 1\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("duet_router_decision_seconds_count{router=\"duet\"} 4\n"), std::string::npos) << m;
    EXPECT_NE(m.find("duet_router_switches_avoided_total 1\n"), std::string::npos) << m;
    EXPECT_NE(m.find("duet_router_switches_total 0\n"), std::string::npos) << m;
    ServerHarness plain;
    r = plain.client()->Get("/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body.find("duet_router_"), std::string::npos);
}

TEST(ServerRouter, ModesAreUnknownModelsWhileRoutingIsOffWithTheReasonWhenGiven) {
    ServerHarness h;
    auto r = h.client()->Post("/v1/chat/completions", chat_body("duet-auto", {{"user", kEnglishTech}}).dump(),
                              "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    ASSERT_TRUE(is_error_body(r->body));
    EXPECT_EQ(json::parse(r->body)["error"]["code"], "model_not_found");
    const std::string why = "duet-auto, duet-expert and duet-daily need an expert and a daily chat model";
    h.server->set_routing(nullptr, why);
    for (const char* mode : {"duet-auto", "duet-expert", "duet-daily"}) {
        r = h.client()->Post("/v1/chat/completions", chat_body(mode, {{"user", kEnglishTech}}).dump(),
                             "application/json");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 404) << mode;
        ASSERT_TRUE(is_error_body(r->body));
        const json e = json::parse(r->body)["error"];
        EXPECT_EQ(e["message"], why);
        EXPECT_EQ(e["code"], "model_not_found");
        EXPECT_EQ(e["param"], "model");
    }
    EXPECT_EQ(h.alpha->n_submitted() + h.beta->n_submitted(), 0);
}

}  // namespace
}  // namespace duet::test
