// test_client.cpp: openai::Client against an in-process httplib server on loopback: whole and streamed calls,
// streams written in odd pieces, [DONE], error bodies and error events, connection refused, timeout, cancellation.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "openai/client.h"

namespace duet::test {
namespace {

using nlohmann::json;

// An httplib server on 127.0.0.1 (any free port); routes are added before start().
struct LoopbackServer {
    httplib::Server server;
    std::thread thread;
    int port = 0;

    void start() {
        port = server.bind_to_any_port("127.0.0.1");
        ASSERT_GT(port, 0);
        thread = std::thread([this] { server.listen_after_bind(); });
        // stop() does nothing to a server that is not running yet: wait until it is, so stop() always works.
        while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~LoopbackServer() {
        server.stop();
        if (thread.joinable()) thread.join();
    }
    std::string url(const std::string& suffix = "/v1") const {
        return "http://127.0.0.1:" + std::to_string(port) + suffix;
    }
};

openai::Client client_for(const std::string& url, const std::string& api_key = "", double read_timeout = 600) {
    openai::ClientOptions options;
    options.base_url = url;
    options.api_key = api_key;
    options.read_timeout_seconds = read_timeout;
    return openai::Client(options);
}

// Serves `pieces` as one event stream, each piece its own write (so chunk boundaries fall inside lines).
void serve_stream(httplib::Response& res, std::vector<std::string> pieces) {
    res.set_chunked_content_provider("text/event-stream", [pieces](size_t, httplib::DataSink& sink) {
        for (const auto& p : pieces)
            if (!sink.write(p.data(), p.size())) return false;
        sink.done();
        return true;
    });
}

TEST(OpenAiClient, WholeChatSendsTheRequestAndParsesTheReply) {
    LoopbackServer s;
    std::string seen_auth, seen_body;
    s.server.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
        seen_auth = req.get_header_value("Authorization");
        seen_body = req.body;
        res.set_content(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]})",
                        "application/json");
    });
    s.start();
    const openai::Client client = client_for(s.url("/v1/"), "sk-test");
    const openai::CallResult r = client.chat({{"model", "m"}, {"messages", json::array()}, {"stream", true}});
    ASSERT_TRUE(r.ok()) << r.error->describe();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body["choices"][0]["message"]["content"], "hi");
    EXPECT_EQ(seen_auth, "Bearer sk-test");
    const json sent = json::parse(seen_body);
    EXPECT_EQ(sent["stream"], false);  // chat() is the whole-response call whatever the request said
    EXPECT_EQ(sent["model"], "m");
}

TEST(OpenAiClient, PathPrefixInFrontOfV1IsKept) {
    LoopbackServer s;
    s.server.Get("/proxy/v1/models", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"object":"list","data":[{"id":"a"},{"id":"b"}]})", "application/json");
    });
    s.start();
    const openai::Client client = client_for(s.url("/proxy/v1"));
    EXPECT_EQ(client.prefix(), "/proxy");
    const openai::CallResult r = client.models();
    ASSERT_TRUE(r.ok()) << r.error->describe();
    ASSERT_EQ(r.body["data"].size(), 2u);
    EXPECT_EQ(r.body["data"][1]["id"], "b");
}

TEST(OpenAiClient, Embeddings) {
    LoopbackServer s;
    s.server.Post("/v1/embeddings", [](const httplib::Request& req, httplib::Response& res) {
        const json in = json::parse(req.body);
        json data = json::array();
        for (size_t i = 0; i < in["input"].size(); ++i)
            data.push_back({{"index", i}, {"embedding", {0.5 * static_cast<double>(i), 1.0}}});
        res.set_content(json({{"object", "list"}, {"data", data}}).dump(), "application/json");
    });
    s.start();
    const openai::Client client = client_for(s.url());
    const openai::CallResult r = client.embeddings({{"model", "e"}, {"input", {"x", "y", "z"}}});
    ASSERT_TRUE(r.ok()) << r.error->describe();
    ASSERT_EQ(r.body["data"].size(), 3u);
    EXPECT_DOUBLE_EQ(r.body["data"][2]["embedding"][0].get<double>(), 1.0);
}

TEST(OpenAiClient, StreamSplitAtOddPlaces) {
    LoopbackServer s;
    std::string seen_body;
    s.server.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
        seen_body = req.body;
        serve_stream(res, {"da", "ta: {\"choices\":[{\"text\":\"he", "llo\"}]}\n", "\ndata: {\"choices\":[{\"te",
                           "xt\":\" world\"}]}\r",
                           "\n\r\n: ping\n\ndata: {\"choices\":[],\"usage\":{\"completion_tokens\":2}}",
                           "\n\ndata: [DO", "NE]\n\n"});
    });
    s.start();
    const openai::Client client = client_for(s.url());
    std::vector<std::string> texts, raws;
    std::vector<double> arrivals;
    int usage_tokens = 0;
    const auto on_chunk = [&](const openai::StreamChunk& c) {
        if (c.json.contains("usage")) usage_tokens = c.json["usage"]["completion_tokens"];
        texts.push_back(openai::chunk_text(c.json));
        raws.emplace_back(c.raw);
        arrivals.push_back(c.arrival_seconds);
        return true;
    };
    const openai::CallResult r = client.completion_stream({{"model", "m"}, {"prompt", "p"}}, on_chunk);
    ASSERT_TRUE(r.ok()) << r.error->describe();
    EXPECT_TRUE(r.stream_done);
    EXPECT_EQ(json::parse(seen_body)["stream"], true);
    EXPECT_EQ(texts, (std::vector<std::string>{"hello", " world", ""}));
    EXPECT_EQ(usage_tokens, 2);
    EXPECT_EQ(raws[0], "data: {\"choices\":[{\"text\":\"hello\"}]}\n");
    EXPECT_EQ(raws[1], "data: {\"choices\":[{\"text\":\" world\"}]}\r\n");
    for (size_t i = 1; i < arrivals.size(); ++i) EXPECT_GE(arrivals[i], arrivals[i - 1]);
    EXPECT_GT(arrivals[0], 0.0);
}

TEST(OpenAiClient, ChatStreamDeltasIncludeReasoning) {
    LoopbackServer s;
    s.server.Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
        serve_stream(res, {"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
                           "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"think\"}}]}\n\n",
                           "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]\n\n"});
    });
    s.start();
    const openai::Client client = client_for(s.url());
    std::string text;
    const openai::CallResult r = client.chat_stream({{"model", "m"}}, [&](const openai::StreamChunk& c) {
        text += openai::chunk_text(c.json);
        return true;
    });
    ASSERT_TRUE(r.ok()) << r.error->describe();
    EXPECT_EQ(text, "thinkok");
}

TEST(OpenAiClient, ErrorBodyBecomesApiError) {
    LoopbackServer s;
    s.server.Post("/v1/chat/completions", [](const httplib::Request&, httplib::Response& res) {
        res.status = 404;
        res.set_content(R"({"error":{"message":"no such model","type":"invalid_request_error","param":"model",)"
                        R"("code":"model_not_found"}})",
                        "application/json");
    });
    s.start();
    const openai::Client client = client_for(s.url());
    for (bool stream : {false, true}) {
        SCOPED_TRACE(stream);
        int n_chunks = 0;
        const openai::CallResult r =
            stream ? client.chat_stream({{"model", "x"}}, [&](const openai::StreamChunk&) { return ++n_chunks, true; })
                   : client.chat({{"model", "x"}});
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(n_chunks, 0);
        EXPECT_EQ(r.status, 404);
        EXPECT_EQ(r.error->kind, openai::ClientError::Kind::http);
        EXPECT_EQ(r.error->api.status, 404);
        EXPECT_EQ(r.error->api.message, "no such model");
        EXPECT_EQ(r.error->api.type, "invalid_request_error");
        EXPECT_EQ(r.error->api.param, "model");
        EXPECT_EQ(r.error->api.code, "model_not_found");
        EXPECT_EQ(r.error->describe().rfind("HTTP 404: {\"error\"", 0), 0u) << r.error->describe();
    }
}

TEST(OpenAiClient, NonJsonErrorBodyIsKeptAsMessage) {
    LoopbackServer s;
    s.server.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
        res.status = 502;
        res.set_content("Bad Gateway", "text/plain");
    });
    s.start();
    const openai::CallResult r = client_for(s.url()).models();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->kind, openai::ClientError::Kind::http);
    EXPECT_EQ(r.error->api.message, "Bad Gateway");
    EXPECT_EQ(r.error->describe(), "HTTP 502: Bad Gateway");
}

TEST(OpenAiClient, ErrorEventInsideAStream) {
    LoopbackServer s;
    s.server.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
        serve_stream(res, {"data: {\"choices\":[{\"text\":\"a\"}]}\n\n",
                           "data: {\"error\":{\"message\":\"engine failed\",\"type\":\"server_error\"}}\n\n",
                           "data: [DONE]\n\n"});
    });
    s.start();
    int n_chunks = 0;
    const openai::CallResult r =
        client_for(s.url()).completion_stream({{"prompt", "p"}},
                                              [&](const openai::StreamChunk&) { return ++n_chunks, true; });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(n_chunks, 1);  // the error event is the result, not a chunk
    EXPECT_EQ(r.error->kind, openai::ClientError::Kind::stream);
    EXPECT_EQ(r.error->api.message, "engine failed");
    EXPECT_EQ(r.error->api.type, "server_error");
    EXPECT_EQ(r.error->describe().rfind("stream error: {\"error\"", 0), 0u);
}

TEST(OpenAiClient, CallbackReturningFalseCancels) {
    LoopbackServer s;
    s.server.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
        serve_stream(res, {"data: {\"choices\":[{\"text\":\"a\"}]}\n\n", "data: {\"choices\":[{\"text\":\"b\"}]}\n\n",
                           "data: [DONE]\n\n"});
    });
    s.start();
    int n_chunks = 0;
    const openai::CallResult r =
        client_for(s.url()).completion_stream({{"prompt", "p"}}, [&](const openai::StreamChunk&) {
            ++n_chunks;
            return false;
        });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->kind, openai::ClientError::Kind::cancelled);
    EXPECT_EQ(n_chunks, 1);
}

TEST(OpenAiClient, ConnectionRefused) {
    int port = 0;
    {
        LoopbackServer s;  // a port that was free a moment ago and now has no listener
        s.start();
        port = s.port;
    }
    const openai::Client client = client_for("http://127.0.0.1:" + std::to_string(port));
    for (bool stream : {false, true}) {
        const openai::CallResult r =
            stream ? client.chat_stream({}, [](const openai::StreamChunk&) { return true; }) : client.chat({});
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.status, 0);
        EXPECT_EQ(r.error->kind, openai::ClientError::Kind::transport);
        EXPECT_EQ(r.error->describe().rfind("transport: ", 0), 0u);
    }
}

TEST(OpenAiClient, SilentServerTimesOut) {
    LoopbackServer s;
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    s.server.Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return release; });  // answers only when the test lets it
        res.set_content("{}", "application/json");
    });
    s.start();
    const openai::Client client = client_for(s.url(), "", 0.2);
    const openai::CallResult r = client.chat({{"model", "m"}});
    {
        std::lock_guard<std::mutex> lock(m);
        release = true;
    }
    cv.notify_all();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->kind, openai::ClientError::Kind::timeout) << r.error->describe();
}

TEST(OpenAiClient, BadUrls) {
    for (const char* url : {"ftp://host", "127.0.0.1:8080", "http://", ""}) {
        SCOPED_TRACE(url);
        const openai::Client client = client_for(url);
        const openai::CallResult r = client.models();
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error->kind, openai::ClientError::Kind::bad_url);
    }
}

}  // namespace
}  // namespace duet::test
