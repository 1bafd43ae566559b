// server_state.h: what route handlers share (internal to src/server): the model registry, per-model admission,
// metrics, readiness, and each route file's table.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "registry/registry.h"
#include "server/backend.h"
#include "server/http/http_server.h"
#include "server/metrics.h"
#include "openai/errors.h"
#include "server/route_select.h"
#include "server/route_table.h"
#include "server/server.h"
#include "server/sessions.h"

namespace duet::server {

// A loaded registry entry as the routes see it (one per load), plus its admission counter. find_model() hands it
// out together with a registry::Lease: while any copy of that pointer lives, the model cannot be unloaded.
struct ServedModel {
    std::shared_ptr<const registry::ModelEntry> entry;
    std::shared_ptr<const registry::Serving> serving;  // keeps the engine alive while requests run
    ModelBackend backend;                              // name, engine, codec from the entry
    std::atomic<int32_t> n_in_flight{0};               // admitted choices not yet finished
};

// Releases an admission reservation of n choices when destroyed.
class Admission {
public:
    Admission(std::shared_ptr<ServedModel> model, int32_t n) : model_(std::move(model)), n_(n) {}
    ~Admission() {
        if (model_) model_->n_in_flight.fetch_sub(n_);
    }
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;

private:
    std::shared_ptr<ServedModel> model_;
    int32_t n_;
};

struct Server::State {
    ServerOptions options;
    std::shared_ptr<registry::Registry> registry;
    SessionTable sessions;  // the chat page's sign-ins (sessions.h)
    bool has_session(const http::HttpRequest& request) const {
        return sessions.valid(cookie_value(request.header("Cookie"), kSessionCookie));
    }
    std::atomic<bool> ready{false};
    std::atomic<bool> stopping{false};
    Metrics metrics;
    mutable std::mutex mutex;
    // The ServedModel of each entry's current load, while requests hold it.
    mutable std::map<const registry::ModelEntry*, std::weak_ptr<ServedModel>> served;

    // The router (null when off) and, when off, why (set_routing); read by every chat request.
    std::shared_ptr<RouteService> routing() const {
        std::lock_guard<std::mutex> lock(mutex);
        return routing_;
    }
    std::string routing_unavailable() const {
        std::lock_guard<std::mutex> lock(mutex);
        return routing_unavailable_;
    }
    void set_routing(std::shared_ptr<RouteService> routing, std::string unavailable) {
        std::lock_guard<std::mutex> lock(mutex);
        routing_ = std::move(routing);
        routing_unavailable_ = std::move(unavailable);
    }

    // The model to run on, loaded on demand (waiting up to options.load_timeout_seconds) and leased for as long as
    // the returned pointer (or a copy) lives. nullptr with *error set when unknown (404 model_not_found) or not
    // available: nothing added yet, the load failed or timed out, too big for the memory budget (503 + Retry-After).
    // keep_alive: the request's (Ollama's field; seconds, < 0 forever).
    std::shared_ptr<ServedModel> find_model(const std::string& name, openai::ApiError* error,
                                            std::optional<double> keep_alive = std::nullopt) const;
    // Every loaded local model, in the registry's order (remote ones: registry->ready_entries()); not leased.
    std::vector<std::shared_ptr<ServedModel>> all_models() const;
    // All-or-nothing reservation of n choices against max_queue; nullptr -> 503.
    std::unique_ptr<Admission> admit(const std::shared_ptr<ServedModel>& model, int32_t n);

private:
    std::shared_ptr<RouteService> routing_;
    std::string routing_unavailable_;
    std::shared_ptr<ServedModel> served_for(const std::shared_ptr<const registry::ModelEntry>& entry,
                                            const std::shared_ptr<const registry::Serving>& serving) const;
};

// Shared by the route files.
int64_t unix_now();
std::string make_response_id(const char* prefix);

// Each route file's contribution to the router.
RouteTable info_routes(Server::State& state);         // routes_info.cpp: /health /metrics /v1/models /tokenize ...
RouteTable chat_routes(Server::State& state);         // routes_chat.cpp: /v1/chat/completions
RouteTable completions_routes(Server::State& state);  // routes_completions.cpp: /v1/completions
RouteTable page_routes(Server::State& state);         // routes_ui.cpp: the chat page's assets, /api/session
RouteTable embeddings_routes(Server::State& state);   // routes_embeddings.cpp: /v1/embeddings

}  // namespace duet::server
