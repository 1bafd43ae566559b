// test_server_errors.cpp: every error status has OpenAI's shape; auth is default-deny; a 1,000-request hostile
// flood gets only 4xx with valid bodies and leaves the server healthy.
#include <random>

#include "server_harness.h"
#include "web/assets.h"

namespace duet::test {
namespace {

json chat_body(const std::string& user, int max_tokens, const std::string& model = "alpha") {
    return {{"model", model}, {"messages", {{{"role", "user"}, {"content", user}}}}, {"max_tokens", max_tokens}};
}

void expect_error(const httplib::Result& res, int status, const std::string& type, const char* param = nullptr,
                  const char* code = nullptr) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_TRUE(is_error_body(res->body));
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    EXPECT_FALSE(res->get_header_value("x-request-id").empty());
    json e = json::parse(res->body, nullptr, false)["error"];
    EXPECT_EQ(e["type"], type) << res->body;
    if (param) {
        EXPECT_EQ(e["param"], param) << res->body;
    }
    if (code) {
        EXPECT_EQ(e["code"], code) << res->body;
    }
}

TEST(ServerErrors, AuthIsDefaultDenyAndOnlyHealthIsPublic) {
    ServerHarness h("sekrit-key");
    auto anon = h.client();
    auto good = h.client("sekrit-key");
    auto wrong = h.client("sekrit-kez");
    EXPECT_EQ(anon->Get("/health")->status, 200);
    for (const auto& route : h.server->routes()) {
        auto call = [&](httplib::Client& c) {
            return route.method == "GET" ? c.Get(route.path.c_str())
                                         : c.Post(route.path.c_str(), "{}", "application/json");
        };
        if (route.is_public) {  // /health, the chat page's files and its sign-in (it takes the key in its body)
            EXPECT_TRUE(route.path == "/health" || route.path == "/api/session" || web::find_asset(route.path))
                << route.path;
            continue;
        }
        expect_error(call(*anon), 401, "authentication_error");
        expect_error(call(*wrong), 401, "authentication_error");
        EXPECT_NE(call(*good)->status, 401) << route.path;
    }
    // Unknown routes and path tricks are not public either.
    expect_error(anon->Get("//v1/models"), 401, "authentication_error");
    expect_error(anon->Get("/v1/models/"), 401, "authentication_error");
    expect_error(anon->Get("/V1/MODELS"), 401, "authentication_error");
    // Other header forms.
    httplib::Headers x_api_key = {{"x-api-key", "sekrit-key"}};
    EXPECT_EQ(anon->Get("/v1/models", x_api_key)->status, 200);
    httplib::Headers lower = {{"Authorization", "bearer sekrit-key"}};
    EXPECT_EQ(anon->Get("/v1/models", lower)->status, 200);
    httplib::Headers prefix = {{"Authorization", "Bearer sekrit"}};
    EXPECT_EQ(anon->Get("/v1/models", prefix)->status, 401);
    httplib::Headers longer = {{"Authorization", "Bearer sekrit-key2"}};
    EXPECT_EQ(anon->Get("/v1/models", longer)->status, 401);
}

TEST(ServerErrors, StatusesAndShapes) {
    ServerHarness h("", FakeEngine::Options{.context_length = 64}, 256, size_t{1} << 20);
    auto c = h.client();
    expect_error(c->Get("/nope"), 404, "not_found_error");
    expect_error(c->Delete("/v1/models"), 405, "invalid_request_error");
    expect_error(c->Post("/v1/chat/completions", chat_body("hi", 4, "nope").dump(), "application/json"), 404,
                 "not_found_error", "model", "model_not_found");
    expect_error(c->Post("/v1/chat/completions", "{not json", "application/json"), 400, "invalid_request_error");
    expect_error(c->Post("/v1/chat/completions", json({{"messages", json::array()}}).dump(), "application/json"), 400,
                 "invalid_request_error", "messages");
    json bad_max = chat_body("hi", -1);
    expect_error(c->Post("/v1/chat/completions", bad_max.dump(), "application/json"), 400, "invalid_request_error",
                 "max_tokens");
    json bad_temp = chat_body("hi", 4);
    bad_temp["temperature"] = "hot";
    expect_error(c->Post("/v1/chat/completions", bad_temp.dump(), "application/json"), 400, "invalid_request_error",
                 "temperature");
    json big_n = chat_body("hi", 4);
    big_n["n"] = 1000000000;
    expect_error(c->Post("/v1/chat/completions", big_n.dump(), "application/json"), 400, "invalid_request_error", "n");
    json bad_top = chat_body("hi", 4);
    bad_top["logprobs"] = true;
    bad_top["top_logprobs"] = 21;
    expect_error(c->Post("/v1/chat/completions", bad_top.dump(), "application/json"), 400, "invalid_request_error",
                 "top_logprobs");
    expect_error(c->Post("/v1/chat/completions", chat_body("BAD_TEMPLATE", 4).dump(), "application/json"), 400,
                 "invalid_request_error", "messages");
    // Context: prompt + max_tokens over 64 -> 400 before any streaming, even with stream: true.
    for (bool stream : {false, true}) {
        json over = chat_body("hello", 60);
        over["stream"] = stream;
        expect_error(c->Post("/v1/chat/completions", over.dump(), "application/json"), 400, "invalid_request_error",
                     nullptr, "context_length_exceeded");
    }
    json long_prompt = {{"prompt", std::string(100, 'x')}};
    expect_error(c->Post("/v1/completions", long_prompt.dump(), "application/json"), 400, "invalid_request_error",
                 nullptr, "context_length_exceeded");
    // Body over the limit (1 MiB here).
    expect_error(c->Post("/v1/chat/completions", std::string(size_t{2} << 20, ' '), "application/json"), 413,
                 "invalid_request_error");
    // The server still answers afterwards.
    EXPECT_EQ(c->Post("/v1/chat/completions", chat_body("ok", 4).dump(), "application/json")->status, 200);
}

TEST(ServerErrors, QueueFullIs503WithRetryAfter) {
    ServerHarness h("", FakeEngine::Options{}, /*max_queue=*/2);
    json body = chat_body("slow", 400);
    body["stream"] = true;
    // Two long streams hold the queue (raw connections that stay open without reading to the end).
    std::vector<std::unique_ptr<RawConnection>> holders;
    for (int i = 0; i < 2; ++i) {
        holders.push_back(
            std::make_unique<RawConnection>(h.port(), http_post_bytes("/v1/chat/completions", body.dump())));
        EXPECT_EQ(status_of_raw(holders.back()->read_some()), 200);
    }
    auto res = h.client()->Post("/v1/chat/completions", chat_body("more", 4).dump(), "application/json");
    expect_error(res, 503, "unavailable_error", nullptr, "server_is_overloaded");
    EXPECT_EQ(res->get_header_value("Retry-After"), "1");
    json n3 = chat_body("n", 2);
    n3["n"] = 3;
    holders.clear();
    // Holders disconnected: their requests are aborted and the queue drains.
    for (int i = 0; i < 2000 && !h.alpha->idle(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(h.alpha->idle());
    EXPECT_EQ(h.client()->Post("/v1/chat/completions", chat_body("more", 4).dump(), "application/json")->status, 200);
    // n = 3 needs three places at once against a cap of 2: all or nothing.
    expect_error(h.client()->Post("/v1/chat/completions", n3.dump(), "application/json"), 503, "unavailable_error");
}

TEST(ServerErrors, EngineFaultMidStreamIsAnSseErrorEventThenDone) {
    ServerHarness h;
    json body = chat_body("please FAIL", 10);
    body["stream"] = true;
    auto res = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    auto events = sse_payloads(res->body);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_TRUE(is_error_body(events[events.size() - 2]));
    // Blocking: a clean 500 with a generic message.
    body["stream"] = false;
    expect_error(h.client()->Post("/v1/chat/completions", body.dump(), "application/json"), 500, "server_error");
}

// Hostile inputs: each must get a 4xx with a valid error body.
std::vector<std::string> hostile_bodies(size_t count) {
    std::vector<std::string> fixed = {
        "",
        "{",
        "[]",
        "null",
        "42",
        "\"str\"",
        "{\"messages\": 1}",
        "\xEF\xBB\xBF{}",
        "{\"messages\": [}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\"}]}",
        "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": null}]}",
        "{\"messages\": [{\"role\": \"user\"}]}",
        "{\"messages\": [{\"content\": \"x\"}]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 1e309}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 18446744073709551616}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": NaN}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": -1}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 0}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": [1, 2]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"logit_bias\": {\"1\": 5}}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_k\": -5}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"model\": 7}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream\": \"yes\"}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 0}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n_keep\": -1, \"max_tokens\": -3}",
    };
    std::string deep;
    for (int i = 0; i < 10000; ++i) deep += '[';
    fixed.push_back("{\"messages\": " + deep + "}");
    std::string deep_obj;
    for (int i = 0; i < 5000; ++i) deep_obj += "{\"a\":";
    fixed.push_back(deep_obj);
    std::mt19937 rng(1234);
    std::vector<std::string> out;
    const std::string valid = json(chat_body("hello", 4)).dump();
    while (out.size() < count) {
        if (out.size() < fixed.size()) {
            out.push_back(fixed[out.size()]);
            continue;
        }
        // Mutations of a valid body: truncation, byte flips into structure, inserted junk.
        std::string b = valid;
        switch (rng() % 4) {
            case 0:
                b.resize(rng() % b.size());
                break;
            case 1:
                b[rng() % b.size()] = "{}[]\",:\\\xff"[rng() % 10];
                break;
            case 2:
                b.insert(rng() % b.size(), std::string(1 + rng() % 4, static_cast<char>(rng() % 256)));
                break;
            case 3:
                b.erase(rng() % b.size(), 1 + rng() % 5);
                break;
        }
        if (json::accept(b)) continue;  // a mutation that is still valid JSON may be a fine request
        out.push_back(b);
    }
    return out;
}

TEST(ServerErrors, ThousandHostileRequestsGetOnly4xxAndServerStaysHealthy) {
    ServerHarness h;
    auto c = h.client();
    const auto bodies = hostile_bodies(1000);
    int n_4xx = 0;
    for (size_t i = 0; i < bodies.size(); ++i) {
        const char* path = i % 3 == 0 ? "/v1/completions" : i % 3 == 1 ? "/v1/chat/completions" : "/tokenize";
        auto res = c->Post(path, bodies[i], "application/json");
        ASSERT_TRUE(res) << "no answer for case " << i;
        if (res->status >= 400 && res->status < 500 && is_error_body(res->body)) ++n_4xx;
        else ADD_FAILURE() << "case " << i << " -> " << res->status << " " << res->body.substr(0, 200);
    }
    EXPECT_EQ(n_4xx, 1000);
    // Transport-level abuse: garbage request lines, a huge Content-Length, a 10 MB body, invalid chunking.
    int port = h.port();
    EXPECT_EQ(status_of_raw(raw_exchange(port, "GARBAGE\r\n\r\n", 12)), 400);
    // A huge Content-Length is never buffered: the body is discarded as it arrives and the server keeps serving.
    RawConnection huge_claim(port,
                             "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}");
    EXPECT_EQ(c->Get("/health")->status, 200);
    auto big = c->Post("/v1/chat/completions", std::string(size_t{10} << 20, 'x'), "application/json");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 413);
    const std::string bad_chunks =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n";
    const int chunk_status = status_of_raw(raw_exchange(port, bad_chunks, 12));
    EXPECT_GE(chunk_status, 400);
    EXPECT_LT(chunk_status, 500);
    // A 100 KB header line is refused (4xx with an error body), not buffered.
    const std::string big_header =
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'a') + "\r\n\r\n";
    const std::string header_answer = raw_exchange(port, big_header, 12);
    EXPECT_GE(status_of_raw(header_answer), 400);
    EXPECT_LT(status_of_raw(header_answer), 500);
    // Still healthy, and a valid request works.
    EXPECT_EQ(c->Get("/health")->status, 200);
    EXPECT_EQ(c->Post("/v1/chat/completions", chat_body("fine", 3).dump(), "application/json")->status, 200);
}

}  // namespace
}  // namespace duet::test
