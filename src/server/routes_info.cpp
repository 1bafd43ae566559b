// routes_info.cpp: the small routes: GET /health, /metrics, /v1/models; POST /tokenize, /detokenize.
#include <algorithm>

#include "common/strformat.h"
#include "openai/parse.h"
#include "openai/render.h"
#include "server/server_state.h"
#include "upstream/pool.h"

namespace duet::server {

namespace {

using http::HttpResponse;

// What /v1/models and /health?model= say: loaded, loading, unloaded, unloading (load on demand) or remote. A model
// whose last load failed is unloaded (the next request tries again; /health?model= tells why).
const char* model_state(const registry::ModelEntry& entry) {
    if (entry.is_remote()) return "remote";
    switch (entry.state()) {
        case registry::ModelState::ready:
            return "loaded";
        case registry::ModelState::loading:
            return "loading";
        case registry::ModelState::unloading:
            return "unloading";
        case registry::ModelState::unloaded:
        case registry::ModelState::failed:
            return "unloaded";
    }
    return "unloaded";
}

// GET /health: the server; GET /health?model=NAME: that model, 200 when loaded or loadable (503 with the reason
// otherwise: its last load failed, too big for the memory budget, no healthy upstream replica; 404 unknown).
HttpResponse handle_health(Server::State& state, const RouteRequest& request) {
    if (state.stopping.load()) return error_response(openai::ApiError::unavailable("the server is shutting down"));
    if (!state.ready.load()) return error_response(openai::ApiError::unavailable("loading models"));
    const auto name = request.query_value("model");
    if (!name) return json_response(openai::health_json("ok"));
    const Status st = state.registry->health(*name);
    if (st.code() == StatusCode::not_found) return error_response(openai::ApiError::model_not_found());
    if (!st.ok()) return error_response(openai::ApiError::unavailable(st.message()));
    for (const auto& entry : state.registry->entries())
        if (entry->name() == *name) return json_response(openai::model_health_json(*name, model_state(*entry)));
    return error_response(openai::ApiError::model_not_found());
}

HttpResponse handle_models(Server::State& state) {
    std::vector<openai::ModelInfo> infos;
    for (const auto& entry : state.registry->entries())  // in the registry's order, remote and unloaded ones too
        infos.push_back({entry->name(), entry->created_unix(), entry->is_remote() ? 0 : entry->context_length(),
                         model_state(*entry)});
    // The router's modes after the real models (when both roles' models are ready). duet-auto may answer from
    // either: its context is the smaller of the two.
    if (const auto routing = state.routing()) {
        const openai::ModelInfo* expert = nullptr;
        const openai::ModelInfo* daily = nullptr;
        for (const auto& info : infos) {
            if (info.id == routing->expert_model()) expert = &info;
            if (info.id == routing->daily_model()) daily = &info;
        }
        if (expert && daily) {
            const openai::ModelInfo auto_info{std::string(kAutoModel),
                                              expert->created,
                                              std::min(expert->context_length, daily->context_length),
                                              {}};
            const openai::ModelInfo expert_info{std::string(kExpertModel), expert->created, expert->context_length, {}};
            const openai::ModelInfo daily_info{std::string(kDailyModel), daily->created, daily->context_length, {}};
            for (const auto& info : {auto_info, expert_info, daily_info}) infos.push_back(info);
        }
    }
    return json_response(openai::models_json(infos));
}

HttpResponse handle_metrics(Server::State& state) {
    std::vector<std::pair<std::string, engine::EngineStats>> engines;
    for (const auto& m : state.all_models()) engines.emplace_back(m->backend.name, m->backend.engine->stats());
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4";
    response.body = state.metrics.render(engines);
    if (const auto routing = state.routing()) routing->metrics().render(&response.body);
    for (const auto& entry : state.registry->ready_entries())
        if (auto pool = std::dynamic_pointer_cast<upstream::Pool>(entry->remote()))
            pool->render_metrics(&response.body);
    render_residency_metrics(state.registry->residency(), state.registry->memory_budget_bytes(),
                             state.registry->memory_used_bytes(), &response.body);
    return response;
}

HttpResponse handle_tokenize(Server::State& state, const http::HttpRequest& request) {
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

HttpResponse handle_detokenize(Server::State& state, const http::HttpRequest& request) {
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

}  // namespace

RouteTable info_routes(Server::State& state) {
    RouteTable table;
    Server::State* s = &state;
    table.add("GET", "/health", Access::anyone, [s](const RouteRequest& r) { return handle_health(*s, r); });
    table.add("GET", "/metrics", Access::api_key, [s](const RouteRequest&) { return handle_metrics(*s); });
    table.add("GET", "/v1/models", Access::session, [s](const RouteRequest&) { return handle_models(*s); });
    table.add("POST", "/tokenize", Access::api_key, [s](const RouteRequest& r) { return handle_tokenize(*s, r.http); });
    table.add("POST", "/detokenize", Access::api_key,
              [s](const RouteRequest& r) { return handle_detokenize(*s, r.http); });
    return table;
}

}  // namespace duet::server
