// test_proxy.cpp: a duet Server whose models are upstream pools, against fake upstreams that misbehave: refused
// connections, 503 bursts, streams cut mid-way, a slow first byte, 4xx errors. Asserts what a client sees (the
// OpenAI error shape, streams passed through) and what each upstream got (retries, affinity).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "fake_upstream.h"
#include "server/server_harness.h"
#include "upstream/proxy.h"

namespace duet::test {
namespace {

std::string chat_body(const std::string& model, bool stream, const std::string& first = "hi",
                      const std::vector<std::string>& more = {}) {
    json messages = json::array({{{"role", "system"}, {"content", "sys"}}, {{"role", "user"}, {"content", first}}});
    for (const auto& m : more) messages.push_back({{"role", "user"}, {"content", m}});
    return json{{"model", model}, {"messages", messages}, {"stream", stream}}.dump();
}

double metric_value(const std::string& metrics, const std::string& line_start) {
    const size_t at = metrics.find(line_start);
    return at == std::string::npos ? -1 : std::atof(metrics.c_str() + at + line_start.size());
}

TEST(UpstreamProxy, WholeAndStreamedAnswersPassThroughWithTheUpstreamsModelName) {
    FakeUpstream up("up");
    auto pool = make_pool("remote", {up.url()}, test_pool_options(), "served-upstream-as");
    ProxyHarness proxy({pool});
    auto whole = proxy.client()->Post("/v1/chat/completions", chat_body("remote", false), "application/json");
    ASSERT_TRUE(whole);
    ASSERT_EQ(whole->status, 200) << whole->body;
    EXPECT_EQ(json::parse(whole->body)["choices"][0]["message"]["content"], "up");

    auto streamed = proxy.client()->Post("/v1/chat/completions", chat_body("remote", true), "application/json");
    ASSERT_TRUE(streamed);
    ASSERT_EQ(streamed->status, 200);
    EXPECT_EQ(streamed->get_header_value("Content-Type").rfind("text/event-stream", 0), 0u);
    const auto events = sse_events(streamed->body);
    ASSERT_EQ(events.size(), 5u) << streamed->body;
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(json::parse(events[i])["choices"][0]["delta"]["content"], "up" + std::to_string(i));
    EXPECT_EQ(events[4], "[DONE]");

    auto completion =
        proxy.client()->Post("/v1/completions", json{{"model", "remote"}, {"prompt", "x"}, {"stream", true}}.dump(),
                             "application/json");
    ASSERT_TRUE(completion);
    EXPECT_EQ(json::parse(sse_events(completion->body)[0])["choices"][0]["text"], "up0");

    const auto bodies = up.bodies();
    ASSERT_EQ(bodies.size(), 3u);
    for (const auto& b : bodies) EXPECT_EQ(b["model"], "served-upstream-as") << "#model is what goes upstream";
    EXPECT_EQ(bodies[0]["messages"][1]["content"], "hi");
}

TEST(UpstreamProxy, ModelsListsRemoteModelsAndMetricsCountUpstreamRequests) {
    FakeUpstream up;
    auto pool = make_pool("remote", {up.url()});
    ProxyHarness proxy({pool});
    auto models = proxy.client()->Get("/v1/models");
    ASSERT_TRUE(models);
    const json list = json::parse(models->body)["data"];
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["id"], "remote");
    EXPECT_EQ(list[0]["state"], "remote");
    ASSERT_EQ(proxy.client()->Post("/v1/chat/completions", chat_body("remote", false), "application/json")->status,
              200);
    const std::string metrics = proxy.client()->Get("/metrics")->body;
    const std::string labels = "{model_name=\"remote\",upstream=\"" + up.url() + "\"";
    EXPECT_EQ(metric_value(metrics, "duet_upstream_requests_total" + labels + ",outcome=\"ok\"} "), 1) << metrics;
    EXPECT_EQ(metric_value(metrics, "duet_upstream_first_byte_seconds_count" + labels + "} "), 1) << metrics;
    EXPECT_EQ(metric_value(metrics, "duet_upstream_breaker_open" + labels + "} "), 0) << metrics;
    // Routes that are not forwarded say so.
    auto tokenize = proxy.client()->Post("/tokenize", R"({"model":"remote","content":"x"})", "application/json");
    ASSERT_TRUE(tokenize);
    EXPECT_EQ(tokenize->status, 400);
    EXPECT_TRUE(is_error_body(tokenize->body));
}

TEST(UpstreamProxy, RefusedReplicaIsRetriedElsewhereThenFencedOff) {
    FakeUpstream up;
    upstream::PoolOptions options = test_pool_options();
    options.breaker_failures = 2;
    const std::string dead = "http://127.0.0.1:" + std::to_string(refused_port()) + "/v1";
    auto pool = make_pool("remote", {dead, up.url()}, options);
    ProxyHarness proxy({pool});
    for (int i = 0; i < 40; ++i) {
        // Different conversations: about half hash to the dead replica first.
        auto r = proxy.client()->Post("/v1/chat/completions", chat_body("remote", i % 2 == 0, "c" + std::to_string(i)),
                                      "application/json");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200) << r->body;
    }
    EXPECT_EQ(up.requests.load(), 40);
    EXPECT_EQ(pool->breaker_state(0), upstream::BreakerState::open);
    const std::string metrics = proxy.client()->Get("/metrics")->body;
    EXPECT_EQ(metric_value(metrics, "duet_upstream_requests_total{model_name=\"remote\",upstream=\"" + dead +
                                        "\",outcome=\"connect_error\"} "),
              2)
        << "two refusals open the breaker; after that the dead replica is not tried";
    EXPECT_EQ(metric_value(metrics, "duet_upstream_retries_total{model_name=\"remote\"} "), 2) << metrics;
}

TEST(UpstreamProxy, A503BurstIsRetriedAndALongerOneIsAnswered503) {
    FakeUpstream up;
    up.behaviour.fail_first = 2;
    auto pool = make_pool("remote", {up.url()});
    ProxyHarness proxy({pool});
    auto r = proxy.client()->Post("/v1/chat/completions", chat_body("remote", true), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(up.requests.load(), 3) << "two 503s, then the answer";
    EXPECT_EQ(sse_events(r->body).back(), "[DONE]");

    FakeUpstream down;
    down.behaviour.fail_first = 1000;
    upstream::PoolOptions options = test_pool_options();
    options.breaker_failures = 100;
    auto failing = make_pool("failing", {down.url()}, options);
    ProxyHarness proxy2({failing});
    auto e = proxy2.client()->Post("/v1/chat/completions", chat_body("failing", false), "application/json");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 503);
    EXPECT_TRUE(is_error_body(e->body));
    EXPECT_EQ(e->get_header_value("Retry-After"), "1");
    const std::string message = json::parse(e->body)["error"]["message"];
    EXPECT_NE(message.find("upstream 'failing' answered HTTP 503: overloaded, try later"), std::string::npos)
        << message;
    EXPECT_EQ(down.requests.load(), 3) << "max_attempts tries, no more";
}

TEST(UpstreamProxy, OpenBreakerAnswers503WithoutCallingTheUpstream) {
    FakeUpstream down;
    down.behaviour.fail_first = 1000;
    down.behaviour.fail_status = 502;
    upstream::PoolOptions options = test_pool_options();
    options.breaker_failures = 3;
    auto pool = make_pool("remote", {down.url()}, options);
    ProxyHarness proxy({pool});
    auto first = proxy.client()->Post("/v1/chat/completions", chat_body("remote", false), "application/json");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 502);
    EXPECT_TRUE(is_error_body(first->body));
    EXPECT_EQ(down.requests.load(), 3);
    auto second = proxy.client()->Post("/v1/chat/completions", chat_body("remote", false), "application/json");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 503);
    EXPECT_TRUE(is_error_body(second->body));
    EXPECT_EQ(json::parse(second->body)["error"]["code"], "upstream_unavailable");
    EXPECT_EQ(down.requests.load(), 3) << "the breaker is open: nothing was sent";
}

TEST(UpstreamProxy, AStreamCutMidwayEndsWithAnErrorEventAndIsNotRetried) {
    FakeUpstream up;
    up.behaviour.cut_after_chunks = 2;
    auto pool = make_pool("remote", {up.url()});
    ProxyHarness proxy({pool});
    auto r = proxy.client()->Post("/v1/chat/completions", chat_body("remote", true), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    const auto events = sse_events(r->body);
    ASSERT_EQ(events.size(), 4u) << r->body;
    EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["content"], "fake0");
    EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "fake1");
    const json error = json::parse(events[2]);
    ASSERT_TRUE(error.contains("error")) << events[2];
    EXPECT_TRUE(is_error_body(events[2]));
    EXPECT_EQ(error["error"]["code"], "upstream_stream_cut");
    EXPECT_EQ(events[3], "[DONE]");
    EXPECT_EQ(up.requests.load(), 1) << "never retried after the first streamed byte";
}

TEST(UpstreamProxy, ASlowFirstByteWithinTheTimeoutIsWaitedForAndPastItIs504) {
    FakeUpstream slow;
    slow.behaviour.first_byte_delay = 0.3;
    auto pool = make_pool("remote", {slow.url()});
    ProxyHarness proxy({pool});
    auto ok = proxy.client()->Post("/v1/chat/completions", chat_body("remote", true), "application/json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(sse_events(ok->body).back(), "[DONE]");

    FakeUpstream stuck;
    stuck.behaviour.first_byte_delay = 2;
    upstream::PoolOptions options = test_pool_options();
    options.first_byte_timeout_seconds = 0.5;
    auto impatient = make_pool("impatient", {stuck.url()}, options);
    ProxyHarness proxy2({impatient});
    auto late = proxy2.client()->Post("/v1/chat/completions", chat_body("impatient", true), "application/json");
    ASSERT_TRUE(late);
    EXPECT_EQ(late->status, 504);
    EXPECT_TRUE(is_error_body(late->body));
    EXPECT_EQ(json::parse(late->body)["error"]["code"], "upstream_timeout");
    EXPECT_EQ(stuck.requests.load(), 1) << "a timeout is not retried: the upstream may be working on it";
}

TEST(UpstreamProxy, UpstreamClientErrorsKeepTheirStatusAndFields) {
    FakeUpstream up;
    up.behaviour.error_status = 400;
    auto pool = make_pool("remote", {up.url()});
    ProxyHarness proxy({pool});
    auto r = proxy.client()->Post("/v1/chat/completions", chat_body("remote", true), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    ASSERT_TRUE(is_error_body(r->body));
    const json e = json::parse(r->body)["error"];
    EXPECT_EQ(e["type"], "invalid_request_error");
    EXPECT_EQ(e["param"], "temperature");
    EXPECT_EQ(e["code"], "bad_temperature");
    EXPECT_NE(e["message"].get<std::string>().find("temperature must be <= 2"), std::string::npos);
    EXPECT_EQ(up.requests.load(), 1);
    EXPECT_EQ(pool->breaker_state(0), upstream::BreakerState::closed);
}

TEST(UpstreamProxy, AllReplicasRefusingIsA502InTheApiShape) {
    auto pool = make_pool("remote", {"http://127.0.0.1:" + std::to_string(refused_port()) + "/v1"});
    ProxyHarness proxy({pool});
    auto r = proxy.client()->Post("/v1/chat/completions", chat_body("remote", true), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 502);
    ASSERT_TRUE(is_error_body(r->body));
    EXPECT_EQ(json::parse(r->body)["error"]["code"], "upstream_unreachable");
}

TEST(UpstreamProxy, AConversationStaysOnOneReplicaAcrossTurns) {
    FakeUpstream a("a"), b("b"), c("c");
    auto pool = make_pool("remote", {a.url(), b.url(), c.url()});
    ProxyHarness proxy({pool});
    std::set<std::string> replicas_used;
    for (int conversation = 0; conversation < 12; ++conversation) {
        const std::string first = "conversation " + std::to_string(conversation);
        std::vector<std::string> history;
        std::set<std::string> answered_by;
        for (int turn = 0; turn < 3; ++turn) {
            auto r = proxy.client()->Post("/v1/chat/completions", chat_body("remote", false, first, history),
                                          "application/json");
            ASSERT_TRUE(r);
            ASSERT_EQ(r->status, 200);
            answered_by.insert(json::parse(r->body)["choices"][0]["message"]["content"].get<std::string>());
            history.push_back("turn " + std::to_string(turn));
        }
        EXPECT_EQ(answered_by.size(), 1u) << first << " moved between replicas";
        replicas_used.insert(answered_by.begin(), answered_by.end());
    }
    EXPECT_GE(replicas_used.size(), 2u) << "12 conversations all on one replica";
}

}  // namespace
}  // namespace duet::test
