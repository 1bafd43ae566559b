// server.h: `duet serve`'s HTTP front: OpenAI-compatible routes over one EngineApi per model.
//
//   GET  /health               public; 503 while loading, 200 when ready
//   GET  /metrics              Prometheus text, vLLM names, model_name label
//   GET  /v1/models            POST /v1/chat/completions   POST /v1/completions
//   POST /tokenize             POST /detokenize
// Every route but /health needs the API key when one is set (default deny: the route table says which are public).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/backend.h"
#include "server/http/http_server.h"

namespace duet::server {

struct ServerOptions {
    http::HttpServerOptions http;
    std::string api_key;      // empty: no key needed
    int32_t max_queue = 256;  // requests (choices) in flight per model; beyond -> 503 + Retry-After
};

class Server {
public:
    explicit Server(ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Models may be added before or after start(); /health is 503 until set_ready(true).
    void add_model(ModelBackend backend);
    void set_ready(bool ready);

    Status start();  // bind and serve on a background thread
    void stop();     // stop serving (idempotent)
    int port() const;
    bool running() const;

    // The route table (method, path, public?) for auth tests.
    struct RouteInfo {
        std::string method, path;
        bool is_public = false;
    };
    std::vector<RouteInfo> routes() const;

    struct State;

private:
    std::shared_ptr<State> state_;
    std::unique_ptr<http::HttpServer> http_;
};

}  // namespace duet::server
