// server.cpp: Server: the router over every route file's table, model lookup in the registry, admission.
#include "server/server.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "common/assert.h"
#include "common/log.h"
#include "common/strformat.h"
#include "openai/render.h"
#include "server/routes_api_arena.h"
#include "server/routes_ui.h"
#include "server/server_state.h"

namespace duet::server {

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string make_response_id(const char* prefix) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return strformat("%s%016llx", prefix, static_cast<unsigned long long>(rng()));
}

// ---- State: models from the registry ---------------------------------------------------------------------------

std::shared_ptr<ServedModel> Server::State::served_for(const std::shared_ptr<const registry::ModelEntry>& entry,
                                                       const std::shared_ptr<const registry::Serving>& serving) const {
    std::lock_guard<std::mutex> lock(mutex);
    auto& slot = served[entry.get()];
    auto model = slot.lock();
    if (!model || model->serving != serving) {  // none held, or a request from the previous load still runs
        model = std::make_shared<ServedModel>();
        model->entry = entry;
        model->serving = serving;
        model->backend = {entry->name(), serving->engine, serving->codec, entry->created_unix()};
        slot = model;
    }
    return model;
}

std::shared_ptr<ServedModel> Server::State::find_model(const std::string& name, openai::ApiError* error,
                                                       std::optional<double> keep_alive) const {
    auto lease = registry->acquire(name, options.load_timeout_seconds, keep_alive);
    if (!lease.ok()) {
        const Status& st = lease.status();
        *error = st.code() == StatusCode::not_found ? openai::ApiError::model_not_found()
                                                    : openai::ApiError::unavailable(st.message());
        return nullptr;
    }
    const auto& entry = lease->entry();
    if (entry->is_remote()) {  // only chat and completions are forwarded (routes_upstream.h)
        *error = openai::ApiError::invalid("model '" + entry->name() +
                                               "' is served by an upstream: only /v1/chat/completions and "
                                               "/v1/completions are forwarded to it",
                                           "model");
        return nullptr;
    }
    // The lease lives as long as the pointer handed out (an aliasing shared_ptr): the model stays loaded while
    // the request (its stream included) holds it.
    struct Held {
        std::shared_ptr<ServedModel> model;
        registry::Lease lease;
    };
    auto held = std::make_shared<Held>();
    held->model = served_for(entry, lease->serving());
    held->lease = std::move(lease).value();
    ServedModel* model = held->model.get();
    return std::shared_ptr<ServedModel>(std::move(held), model);
}

std::vector<std::shared_ptr<ServedModel>> Server::State::all_models() const {
    std::vector<std::shared_ptr<ServedModel>> out;
    for (const auto& entry : registry->ready_entries()) {
        if (entry->is_remote()) continue;
        if (auto serving = entry->serving()) out.push_back(served_for(entry, serving));
    }
    return out;
}

std::unique_ptr<Admission> Server::State::admit(const std::shared_ptr<ServedModel>& model, int32_t n) {
    int32_t current = model->n_in_flight.load();
    do {
        if (current + n > options.max_queue) return nullptr;
    } while (!model->n_in_flight.compare_exchange_weak(current, current + n));
    return std::make_unique<Admission>(model, n);
}

// ---- Server ----------------------------------------------------------------------------------------------------

Server::Server(ServerOptions options, std::shared_ptr<registry::Registry> registry)
    : state_(std::make_shared<State>()) {
    state_->options = std::move(options);
    state_->registry = registry ? std::move(registry) : std::make_shared<registry::Registry>();
    router_ = std::make_unique<Router>(Auth(state_->options.api_key));
    for (const RouteTable& table : {info_routes(*state_), chat_routes(*state_), completions_routes(*state_),
                                    embeddings_routes(*state_), page_routes(*state_)}) {
        const Status st = router_->add(table);
        DUET_ASSERT(st.ok());  // our own tables: a clash is a bug
    }
    http_ = std::make_unique<http::HttpServer>(state_->options.http);
    State* state = state_.get();
    router_->auth().set_session_check(
        [state](const http::HttpRequest& request) { return state->has_session(request); });
    const Router* router = router_.get();
    http_->set_handler([router](const http::HttpRequest& request) -> http::HttpResponse {
        try {
            if (is_cross_site(request)) {
                openai::ApiError e = openai::ApiError::from_status(403);
                e.message = "cross-site request refused (its Origin is not this server)";
                e.code = "cross_site";
                return error_response(e);
            }
            return router->dispatch(request);
        } catch (const std::exception& e) {
            DUET_LOG_ERROR("request %s: %s %s failed: %s", request.request_id.c_str(), request.method.c_str(),
                           request.path.c_str(), e.what());
        } catch (...) {
            DUET_LOG_ERROR("request %s: unknown exception", request.request_id.c_str());
        }
        return error_response(openai::ApiError::internal());
    });
    http_->set_error_body([](int status) { return openai::error_json(openai::ApiError::from_status(status)); });
}

Server::~Server() { stop(); }

void Server::add_model(ModelBackend backend) {
    registry::Serving serving;
    serving.engine = std::move(backend.engine);
    serving.codec = std::move(backend.codec);
    const Status st = state_->registry->add_ready(std::move(backend.name), std::move(serving), registry::Role::none,
                                                  backend.created_unix);
    if (!st.ok()) DUET_LOG_ERROR("add_model: %s", st.message().c_str());
}

Status Server::add_routes(const RouteTable& table) { return router_->add(table); }

Status Server::add_arena_routes(std::shared_ptr<store::Store> store, const ArenaOptions& options) {
    DUET_RETURN_IF_ERROR(router_->add(arena_routes(*state_, store, options)));
    return router_->add(study_routes(*state_, std::move(store), options));
}

registry::Registry& Server::registry() { return *state_->registry; }

void Server::set_session_check(Auth::SessionCheck check) { router_->auth().set_session_check(std::move(check)); }

void Server::set_routing(std::shared_ptr<RouteService> routing, std::string unavailable) {
    state_->set_routing(std::move(routing), std::move(unavailable));
}

void Server::set_ready(bool ready) { state_->ready.store(ready); }

Status Server::start() { return http_->start(); }

void Server::stop() {
    state_->stopping.store(true);
    http_->stop();
}

int Server::port() const { return http_->port(); }

bool Server::running() const { return http_->running(); }

std::vector<Server::RouteInfo> Server::routes() const {
    std::vector<RouteInfo> out;
    for (const auto& r : router_->routes()) out.push_back({r.method, r.pattern, r.access == Access::anyone, r.access});
    return out;
}

}  // namespace duet::server
