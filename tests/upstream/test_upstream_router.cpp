// test_upstream_router.cpp: a remote model takes a router role. `duet serve --upstream expert=URL` (and `--expert
// NAME` naming an upstream) in front of a second `duet serve` whose scripted model answers "I am NAME": duet-auto
// forwards English/technical messages to the upstream (chat and completions, whole and streamed), the answer carries
// x-duet-route and duet.route (the first SSE data event only, the rest passed through), stickiness holds for the
// remote role, and /metrics counts the decisions.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "server/serve_process.h"
#include "support/fixtures.h"

namespace duet::test {
namespace {

constexpr const char* kEnglishTech = "How do I rebase a branch onto main in git?";
constexpr const char* kCasualChinese = "今天好累啊，晚上吃点啥好呢";

std::string answer_script() {
    const std::string path = temp_dir() + "/upstream-router-" + std::to_string(::getpid()) + ".jsonl";
    std::ofstream(path) << R"({"default": true, "reply": "I am {{model}}", "pace_ms": 0})"
                        << "\n";
    return "script:" + path;
}

struct Answer {
    int status = 0;
    json body;
    std::string raw, route_header;
};

Answer post(const ServeProcess& proc, const char* path, const json& body, httplib::Headers headers = {}) {
    auto r = proc.client()->Post(path, headers, body.dump(), "application/json");
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false), r->body, r->get_header_value("x-duet-route")};
}

json chat(const std::string& model, const std::string& text, bool stream = false) {
    return {{"model", model}, {"messages", json::array({{{"role", "user"}, {"content", text}}})}, {"stream", stream}};
}

std::string content(const Answer& a) {
    return a.body.is_object() && a.body.contains("choices") ? a.body["choices"][0]["message"].value("content", "") : "";
}

// The data payloads of a stream as JSON (those that parse), and the concatenated text of `field` in choice 0.
std::vector<json> stream_chunks(const std::string& raw) {
    std::vector<json> chunks;
    for (const auto& p : sse_payloads(raw))
        if (p != "[DONE]") chunks.push_back(json::parse(p, nullptr, false));
    return chunks;
}

#define REQUIRE_BINARY() \
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary"

TEST(UpstreamRouter, AnUpstreamNamedExpertTakesTheRoleAndExplainsItsAnswers) {
    REQUIRE_BINARY();
    const std::string script = answer_script();
    ServeProcess upstream({}, "big", script);
    ASSERT_TRUE(upstream.ready());
    const std::string url = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/v1#big";
    ServeProcess proxy({"--upstream", "expert=" + url, "--upstream-health", "0"}, "daily", script);
    ASSERT_TRUE(proxy.ready());
    auto models = proxy.client()->Get("/v1/models");
    ASSERT_TRUE(models);
    std::vector<std::string> ids;
    const json listing = json::parse(models->body);
    for (const auto& m : listing["data"]) ids.push_back(m["id"]);
    EXPECT_EQ(ids, (std::vector<std::string>{"daily", "expert", "duet-auto", "duet-expert", "duet-daily"}));

    // Whole chat answers: remote expert, local daily, both explained.
    Answer a = post(proxy, "/v1/chat/completions", chat("duet-auto", kEnglishTech));
    ASSERT_EQ(a.status, 200) << a.raw;
    EXPECT_EQ(content(a), "I am big");  // the upstream answered
    EXPECT_EQ(a.body["duet"]["route"]["role"], "expert");
    EXPECT_EQ(a.body["duet"]["route"]["model"], "expert");
    EXPECT_EQ(a.body["duet"]["route"]["mode"], "auto");
    EXPECT_EQ(a.route_header.rfind("role=expert; mode=auto; model=expert; p=", 0), 0u) << a.route_header;
    a = post(proxy, "/v1/chat/completions", chat("duet-auto", kCasualChinese));
    EXPECT_EQ(content(a), "I am daily");
    EXPECT_EQ(a.route_header.rfind("role=daily; mode=auto; model=daily", 0), 0u) << a.route_header;
    a = post(proxy, "/v1/chat/completions", chat("duet-expert", kCasualChinese));
    EXPECT_EQ(content(a), "I am big");
    EXPECT_EQ(a.body["duet"]["route"]["mode"], "expert");

    // Streamed: the route in the first data event only; the upstream's chunks otherwise as it sent them.
    a = post(proxy, "/v1/chat/completions", chat("duet-auto", kEnglishTech, true));
    ASSERT_EQ(a.status, 200) << a.raw;
    EXPECT_EQ(a.route_header.rfind("role=expert; mode=auto; model=expert", 0), 0u) << a.route_header;
    std::vector<json> chunks = stream_chunks(a.raw);
    ASSERT_GE(chunks.size(), 2u) << a.raw;
    EXPECT_EQ(chunks[0]["duet"]["route"]["role"], "expert");
    std::string text;
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (i > 0) {
            EXPECT_FALSE(chunks[i].contains("duet")) << chunks[i];
        }
        EXPECT_EQ(chunks[i]["model"], "big");  // the upstream's own name, passed through
        if (!chunks[i]["choices"].empty()) text += chunks[i]["choices"][0]["delta"].value("content", "");
    }
    EXPECT_EQ(text, "I am big");
    EXPECT_EQ(sse_payloads(a.raw).back(), "[DONE]");

    // Completions: whole and streamed.
    a = post(proxy, "/v1/completions", {{"model", "duet-auto"}, {"prompt", kEnglishTech}, {"max_tokens", 16}});
    ASSERT_EQ(a.status, 200) << a.raw;
    EXPECT_EQ(a.body["choices"][0]["text"], "I am big");
    EXPECT_EQ(a.body["duet"]["route"]["role"], "expert");
    EXPECT_EQ(a.route_header.rfind("role=expert; mode=auto; model=expert", 0), 0u) << a.route_header;
    a = post(proxy, "/v1/completions",
             {{"model", "duet-auto"}, {"prompt", kEnglishTech}, {"max_tokens", 16}, {"stream", true}});
    ASSERT_EQ(a.status, 200) << a.raw;
    chunks = stream_chunks(a.raw);
    ASSERT_GE(chunks.size(), 2u) << a.raw;
    EXPECT_EQ(chunks[0]["duet"]["route"]["role"], "expert");
    text.clear();
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (i > 0) {
            EXPECT_FALSE(chunks[i].contains("duet")) << chunks[i];
        }
        if (!chunks[i]["choices"].empty()) text += chunks[i]["choices"][0].value("text", "");
    }
    EXPECT_EQ(text, "I am big");

    // Stickiness on the remote role: the next turn of the conversation knows it is on the expert, with its prompt.
    const httplib::Headers c1 = {{"x-duet-conversation", "r1"}};
    a = post(proxy, "/v1/chat/completions", chat("duet-auto", kEnglishTech), c1);
    EXPECT_TRUE(a.body["duet"]["route"]["stickiness"].is_null());
    a = post(proxy, "/v1/chat/completions", chat("duet-auto", "Thanks. And how do I squash the last two commits?"), c1);
    EXPECT_EQ(content(a), "I am big");
    const json& sticky = a.body["duet"]["route"]["stickiness"];
    EXPECT_EQ(sticky["previous"], "expert") << a.raw;
    EXPECT_GT(sticky["recompute_tokens"].get<int>(), 0);  // the upstream's usage.prompt_tokens
    EXPECT_NE(a.route_header.find("sticky=same"), std::string::npos) << a.route_header;

    auto m = proxy.client()->Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_NE(m->body.find("duet_router_decisions_total{mode=\"auto\",route=\"expert\",model=\"expert\"} 6\n"),
              std::string::npos)
        << m->body;
    EXPECT_NE(m->body.find("duet_router_decisions_total{mode=\"auto\",route=\"daily\",model=\"daily\"} 1\n"),
              std::string::npos)
        << m->body;
}

TEST(UpstreamRouter, ExpertFlagNamesAnUpstreamAndAnUpstreamErrorKeepsTheHeader) {
    REQUIRE_BINARY();
    const std::string script = answer_script();
    auto upstream = std::make_unique<ServeProcess>(std::vector<std::string>{}, "big", script);
    ASSERT_TRUE(upstream->ready());
    const std::string url = "http://127.0.0.1:" + std::to_string(upstream->port()) + "/v1#big";
    ServeProcess proxy({"--upstream", "llama=" + url, "--upstream-health", "0", "--upstream-retries", "1", "--expert",
                        "llama", "--daily", "small"},
                       "small", script);
    ASSERT_TRUE(proxy.ready());
    Answer a = post(proxy, "/v1/chat/completions", chat("duet-auto", "SELECT * FROM t;"));
    EXPECT_EQ(content(a), "I am big");
    EXPECT_EQ(a.body["duet"]["route"]["model"], "llama");
    EXPECT_EQ(content(post(proxy, "/v1/chat/completions", chat("duet-auto", kCasualChinese))), "I am small");

    upstream.reset();  // gone: the routed request fails as a proxied one does, and still says where it went
    a = post(proxy, "/v1/chat/completions", chat("duet-auto", kEnglishTech, true));
    EXPECT_EQ(a.status, 502) << a.raw;
    EXPECT_EQ(a.body["error"]["code"], "upstream_unreachable");
    EXPECT_EQ(a.route_header.rfind("role=expert; mode=auto; model=llama", 0), 0u) << a.route_header;
}

}  // namespace
}  // namespace duet::test
