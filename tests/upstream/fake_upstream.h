// fake_upstream.h: an OpenAI-compatible server on 127.0.0.1 (httplib, a random port) that misbehaves on demand:
// 503 bursts, streams cut mid-way, a slow first byte, 4xx errors; it records each request it gets. Plus a port
// where nothing listens (connection refused) and an in-process duet Server whose models are upstream pools.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "registry/registry.h"
#include "server/server.h"
#include "upstream/pool.h"

namespace duet::test {

using nlohmann::json;

class FakeUpstream {
public:
    struct Behaviour {
        int fail_first = 0;  // answer the first N requests with `fail_status`
        int fail_status = 503;
        int cut_after_chunks = -1;    // >= 0: a stream closes its connection after this many chunks
        double first_byte_delay = 0;  // seconds before the response head
        int n_chunks = 4;             // chunks per streamed answer
        int error_status = 0;         // != 0: every request gets this status with an OpenAI error body
    };

    explicit FakeUpstream(std::string tag = "fake") : tag_(std::move(tag)) {
        server_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
            ++health_checks;
            res.set_content(R"({"object":"list","data":[{"id":"up","object":"model"}]})", "application/json");
        });
        server_.Post("/v1/chat/completions",
                     [this](const httplib::Request& req, httplib::Response& res) { answer(req, res, true); });
        server_.Post("/v1/completions",
                     [this](const httplib::Request& req, httplib::Response& res) { answer(req, res, false); });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~FakeUpstream() {
        server_.stop();
        thread_.join();
    }

    Behaviour behaviour;  // set before requests arrive
    std::atomic<int> requests{0}, health_checks{0};

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
    const std::string& tag() const { return tag_; }
    std::vector<json> bodies() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return bodies_;
    }

private:
    void answer(const httplib::Request& req, httplib::Response& res, bool chat) {
        const int n = requests++;
        json body = json::parse(req.body, nullptr, false);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            bodies_.push_back(body);
        }
        if (behaviour.first_byte_delay > 0)
            std::this_thread::sleep_for(std::chrono::duration<double>(behaviour.first_byte_delay));
        if (behaviour.error_status != 0) {
            res.status = behaviour.error_status;
            res.set_content(R"({"error":{"message":"temperature must be <= 2","type":"invalid_request_error",)"
                            R"("param":"temperature","code":"bad_temperature"}})",
                            "application/json");
            return;
        }
        if (n < behaviour.fail_first) {
            res.status = behaviour.fail_status;
            res.set_content(R"({"error":{"message":"overloaded, try later","type":"unavailable_error"}})",
                            "application/json");
            return;
        }
        const std::string model = body.value("model", "");
        if (!body.value("stream", false)) {
            json out = {{"id", "x"}, {"object", chat ? "chat.completion" : "text_completion"}, {"model", model}};
            out["choices"] = json::array({chat ? json{{"index", 0},
                                                      {"message", {{"role", "assistant"}, {"content", tag_}}},
                                                      {"finish_reason", "stop"}}
                                               : json{{"index", 0}, {"text", tag_}, {"finish_reason", "stop"}}});
            res.set_content(out.dump(), "application/json");
            return;
        }
        const Behaviour b = behaviour;
        const std::string tag = tag_;
        res.set_chunked_content_provider("text/event-stream", [b, tag, model, chat](size_t, httplib::DataSink& sink) {
            for (int i = 0; i < b.n_chunks; ++i) {
                if (b.cut_after_chunks >= 0 && i == b.cut_after_chunks) {
                    const std::string half = "data: {\"choices\":[{\"ind";  // an event cut in its middle
                    sink.write(half.data(), half.size());
                    return false;  // httplib closes the connection: the stream is cut
                }
                json delta = chat ? json{{"index", 0}, {"delta", {{"content", tag + std::to_string(i)}}}}
                                  : json{{"index", 0}, {"text", tag + std::to_string(i)}};
                const std::string event =
                    "data: " + json{{"model", model}, {"choices", json::array({delta})}}.dump() + "\n\n";
                sink.write(event.data(), event.size());
            }
            const std::string done = "data: [DONE]\n\n";
            sink.write(done.data(), done.size());
            sink.done();
            return true;
        });
    }

    std::string tag_;
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::vector<json> bodies_;
};

// A 127.0.0.1 port where nothing listens (bound, then closed): connecting is refused.
inline int refused_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Pool options for tests: no health thread, no waiting between tries, breakers that stay open.
inline upstream::PoolOptions test_pool_options() {
    upstream::PoolOptions o;
    o.health_interval_seconds = 0;
    o.backoff_seconds = 0.001;
    o.backoff_max_seconds = 0.002;
    o.breaker_open_seconds = 3600;
    o.connect_timeout_seconds = 2;
    o.first_byte_timeout_seconds = 10;
    return o;
}

// An in-process duet Server on a random port whose models are upstream pools.
struct ProxyHarness {
    std::unique_ptr<server::Server> server;

    explicit ProxyHarness(const std::vector<std::shared_ptr<upstream::Pool>>& pools) {
        server::ServerOptions options;
        options.http.host = "127.0.0.1";
        options.http.port = 0;
        auto registry = std::make_shared<registry::Registry>();
        for (const auto& pool : pools) EXPECT_TRUE(registry->add_remote(pool->name(), pool).ok());
        server = std::make_unique<server::Server>(options, registry);
        EXPECT_TRUE(server->start().ok());
        server->set_ready(true);
    }
    ~ProxyHarness() { server->stop(); }
    std::unique_ptr<httplib::Client> client() const {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", server->port());
        c->set_read_timeout(30, 0);
        return c;
    }
};

inline std::shared_ptr<upstream::Pool> make_pool(const std::string& name, const std::vector<std::string>& urls,
                                                 upstream::PoolOptions options = test_pool_options(),
                                                 const std::string& model = "") {
    std::vector<upstream::ReplicaSpec> replicas;
    for (const auto& u : urls) replicas.push_back({u, model});
    auto pool = upstream::Pool::create(name, replicas, options);
    EXPECT_TRUE(pool.ok()) << pool.status().message();
    return pool.ok() ? *pool : nullptr;
}

// "data: ...\n\n" payloads of an SSE body.
inline std::vector<std::string> sse_events(const std::string& body) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < body.size()) {
        const size_t end = body.find("\n\n", pos);
        if (end == std::string::npos) break;
        const std::string event = body.substr(pos, end - pos);
        if (event.rfind("data: ", 0) == 0) out.push_back(event.substr(6));
        pos = end + 2;
    }
    return out;
}

}  // namespace duet::test
