// server.cpp: Server: the route table (default-deny auth), dispatch, admission, and the small info routes.
#include "server/server.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "common/log.h"
#include "openai/parse.h"
#include "openai/render.h"
#include "server/server_state.h"

namespace duet::server {

namespace {

using http::HttpRequest;
using http::HttpResponse;

// Compares in time that depends only on the expected key's length, not on where the inputs differ.
bool constant_time_equals(const std::string& given, const std::string& expected) {
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < expected.size(); ++i) {
        const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
        diff |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
    }
    return diff == 0;
}

bool authorized(const Server::State& state, const HttpRequest& request) {
    const std::string& key = state.options.api_key;
    if (key.empty()) return true;
    std::string given;
    const std::string auth = request.header("Authorization");
    if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
        given = auth.substr(7);
        while (!given.empty() && given.front() == ' ') given.erase(given.begin());
        while (!given.empty() && given.back() == ' ') given.pop_back();
    } else {
        given = request.header("x-api-key");
    }
    return constant_time_equals(given, key);
}

HttpResponse handle_health(Server::State& state, const HttpRequest&) {
    if (state.stopping.load()) return error_response(openai::ApiError::unavailable("the server is shutting down"));
    if (!state.ready.load()) return error_response(openai::ApiError::unavailable("loading models"));
    return json_response(openai::health_json("ok"));
}

HttpResponse handle_models(Server::State& state, const HttpRequest&) {
    std::vector<openai::ModelInfo> infos;
    for (const auto& m : state.all_models())
        infos.push_back({m->backend.name, m->backend.created_unix, m->backend.engine->context_length()});
    return json_response(openai::models_json(infos));
}

HttpResponse handle_metrics(Server::State& state, const HttpRequest&) {
    std::vector<std::pair<std::string, engine::EngineStats>> engines;
    for (const auto& m : state.all_models()) engines.emplace_back(m->backend.name, m->backend.engine->stats());
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4";
    response.body = state.metrics.render(engines);
    return response;
}

HttpResponse handle_tokenize(Server::State& state, const HttpRequest& request) {
    openai::TokenizeRequest req;
    openai::ApiError error;
    if (!openai::parse_tokenize_request(request.body, &req, &error)) return error_response(error);
    auto model = state.find_model(req.model, &error);
    if (!model) return error_response(error);
    const TextCodec& codec = *model->backend.codec;
    std::vector<int32_t> tokens = codec.encode(req.content, req.add_special, /*parse_special=*/true);
    if (!req.with_pieces) return json_response(openai::tokenize_json(tokens, nullptr));
    std::vector<std::string> pieces;
    for (int32_t id : tokens) pieces.push_back(codec.token_piece(id));
    return json_response(openai::tokenize_json(tokens, &pieces));
}

HttpResponse handle_detokenize(Server::State& state, const HttpRequest& request) {
    openai::DetokenizeRequest req;
    openai::ApiError error;
    if (!openai::parse_detokenize_request(request.body, &req, &error)) return error_response(error);
    auto model = state.find_model(req.model, &error);
    if (!model) return error_response(error);
    const TextCodec& codec = *model->backend.codec;
    for (int32_t id : req.tokens)
        if (id >= codec.n_vocab())
            return error_response(openai::ApiError::invalid(
                strformat("token id %d is out of range (vocabulary has %d tokens)", id, codec.n_vocab()), "tokens"));
    return json_response(openai::detokenize_json(codec.decode(req.tokens)));
}

struct Route {
    const char* method;
    const char* path;
    bool is_public;
    HttpResponse (*handler)(Server::State&, const HttpRequest&);
};

// Default deny: a route is public only when this table says so.
constexpr Route kRoutes[] = {
    {"GET", "/health", true, handle_health},
    {"GET", "/metrics", false, handle_metrics},
    {"GET", "/v1/models", false, handle_models},
    {"POST", "/v1/chat/completions", false, handle_chat},
    {"POST", "/v1/completions", false, handle_completions},
    {"POST", "/tokenize", false, handle_tokenize},
    {"POST", "/detokenize", false, handle_detokenize},
};

HttpResponse dispatch(Server::State& state, const HttpRequest& request) {
    const Route* match = nullptr;
    bool path_known = false;
    for (const auto& route : kRoutes) {
        if (request.path != route.path) continue;
        path_known = true;
        if (request.method == route.method) match = &route;
    }
    const bool is_public = match && match->is_public;
    if (!is_public && !authorized(state, request)) return error_response(openai::ApiError::unauthorized());
    if (!match) {
        if (!path_known) return error_response(openai::ApiError::route_not_found());
        openai::ApiError e = openai::ApiError::from_status(405);
        return error_response(e);
    }
    return match->handler(state, request);
}

}  // namespace

HttpResponse error_response(const openai::ApiError& error) {
    HttpResponse response;
    response.status = error.status;
    response.body = openai::error_json(error);
    if (error.retry_after_seconds > 0)
        response.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
    return response;
}

HttpResponse json_response(std::string body, int status) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string make_response_id(const char* prefix) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return strformat("%s%016llx", prefix, static_cast<unsigned long long>(rng()));
}

std::shared_ptr<ServedModel> Server::State::find_model(const std::string& name, openai::ApiError* error) const {
    std::lock_guard<std::mutex> lock(mutex);
    if (models.empty()) {
        *error = openai::ApiError::unavailable("no model is loaded yet");
        return nullptr;
    }
    if (name.empty()) return models.front();
    for (const auto& m : models)
        if (m->backend.name == name) return m;
    *error = openai::ApiError::model_not_found();
    return nullptr;
}

std::vector<std::shared_ptr<ServedModel>> Server::State::all_models() const {
    std::lock_guard<std::mutex> lock(mutex);
    return models;
}

std::unique_ptr<Admission> Server::State::admit(const std::shared_ptr<ServedModel>& model, int32_t n) {
    int32_t current = model->n_in_flight.load();
    do {
        if (current + n > options.max_queue) return nullptr;
    } while (!model->n_in_flight.compare_exchange_weak(current, current + n));
    return std::make_unique<Admission>(model, n);
}

Server::Server(ServerOptions options) : state_(std::make_shared<State>()) {
    state_->options = std::move(options);
    http_ = std::make_unique<http::HttpServer>(state_->options.http);
    State* state = state_.get();
    http_->set_handler([state](const HttpRequest& request) -> HttpResponse {
        try {
            return dispatch(*state, request);
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
    auto served = std::make_shared<ServedModel>();
    served->backend = std::move(backend);
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->models.push_back(std::move(served));
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
    for (const auto& r : kRoutes) out.push_back({r.method, r.path, r.is_public});
    return out;
}

}  // namespace duet::server
