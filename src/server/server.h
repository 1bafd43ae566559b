// server.h: `duet serve`'s HTTP front: OpenAI-compatible routes over the models of a registry::Registry.
//
//   GET  /health               anyone; 503 while loading, 200 when ready
//   GET  /metrics              Prometheus text, vLLM names, model_name label (+ duet_router_* when routing)
//   GET  /v1/models            POST /v1/chat/completions   POST /v1/completions
//   chat model duet-auto / duet-expert / duet-daily: the router chooses the model (set_routing, route_select.h)
//   POST /tokenize             POST /detokenize
// Every route but /health needs the API key when one is set (default deny: auth.h). Each routes_*.cpp file
// contributes its RouteTable (route_table.h); the Router joins them.
//
//   request -> Router (match, auth, 404/405, query) -> handler -> Registry::find -> EngineApi::submit -> deltas
//
// src/server owns HTTP, auth, routing and the OpenAI routes; it may include registry, engine/engine_api.h, its
// openai/ and http/ folders and common; never model, kernels or tokenizer (the registry's TextCodec hides them).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/registry.h"
#include "server/auth.h"
#include "server/backend.h"
#include "server/http/http_server.h"

namespace duet::store {
class Store;
}

namespace duet::server {

class Router;
class RouteTable;
struct ArenaOptions;
class RouteService;

struct ServerOptions {
    http::HttpServerOptions http;
    std::string api_key;      // empty: no key needed
    int32_t max_queue = 256;  // requests (choices) in flight per model; beyond -> 503 + Retry-After
    // How long a request waits for its model to load on demand (or for room in the memory budget); then 503.
    double load_timeout_seconds = 120;
};

class Server {
public:
    // Serves the models of `registry` (a new empty one when null).
    explicit Server(ServerOptions options, std::shared_ptr<registry::Registry> registry = nullptr);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Models may be added before or after start(); /health is 503 until set_ready(true).
    // add_model: a ready entry in the registry from an engine and codec built elsewhere (tests, fakes).
    void add_model(ModelBackend backend);
    registry::Registry& registry();
    // Adds a feature's routes (e.g. the page's static files) beside the built-in ones, before the first request.
    // Errors: a clash with a route already there.
    Status add_routes(const RouteTable& table);
    // Adds the arena's /api/arena routes (routes_api_arena.h): battles between the served models, kept in `store`.
    Status add_arena_routes(std::shared_ptr<store::Store> store, const ArenaOptions& options);
    // Installs the session check of Access::session routes (the chat page's cookie; see auth.h).
    void set_session_check(Auth::SessionCheck check);
    // The router behind duet-auto / duet-expert / duet-daily (any time; null: off). `unavailable`: what a request
    // naming those models is told while routing is off (empty: the plain 404 of an unknown model).
    void set_routing(std::shared_ptr<RouteService> routing, std::string unavailable = "");
    void set_ready(bool ready);

    Status start();  // bind and serve on a background thread
    void stop();     // stop serving (idempotent)
    int port() const;
    bool running() const;

    // The route table (method, path pattern, access) for auth tests.
    struct RouteInfo {
        std::string method, path;
        bool is_public = false;  // Access::anyone
        Access access = Access::api_key;
    };
    std::vector<RouteInfo> routes() const;

    struct State;

private:
    std::shared_ptr<State> state_;
    std::unique_ptr<Router> router_;
    std::unique_ptr<http::HttpServer> http_;
};

}  // namespace duet::server
