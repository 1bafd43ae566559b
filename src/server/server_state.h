// server_state.h: what route handlers share (internal to src/server): models, metrics, readiness, admission.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/backend.h"
#include "server/http/http_server.h"
#include "server/metrics.h"
#include "openai/errors.h"
#include "server/server.h"

namespace duet::server {

struct ServedModel {
    ModelBackend backend;
    std::atomic<int32_t> n_in_flight{0};  // admitted choices not yet finished
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
    std::atomic<bool> ready{false};
    std::atomic<bool> stopping{false};
    Metrics metrics;
    mutable std::mutex mutex;
    std::vector<std::shared_ptr<ServedModel>> models;  // in the order added; the first is the default

    // nullptr with *error set when unknown (404 model_not_found) or nothing is loaded yet (503).
    std::shared_ptr<ServedModel> find_model(const std::string& name, openai::ApiError* error) const;
    std::vector<std::shared_ptr<ServedModel>> all_models() const;
    // All-or-nothing reservation of n choices against max_queue; nullptr -> 503.
    std::unique_ptr<Admission> admit(const std::shared_ptr<ServedModel>& model, int32_t n);
};

// Shared by the route files.
http::HttpResponse error_response(const openai::ApiError& error);
http::HttpResponse json_response(std::string body, int status = 200);
int64_t unix_now();
std::string make_response_id(const char* prefix);

http::HttpResponse handle_chat(Server::State& state, const http::HttpRequest& request);
http::HttpResponse handle_completions(Server::State& state, const http::HttpRequest& request);

}  // namespace duet::server
