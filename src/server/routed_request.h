// routed_request.h: the router's part of one chat or completions request that names duet-auto, duet-expert or
// duet-daily: the service (or the 404 when routing is off), the selection and its explanation (the x-duet-route
// header and the duet.route object), shared by routes_chat.cpp, routes_completions.cpp and routes_upstream.cpp.
//
//   routing_or_error(state)        the RouteService; nullptr + 404 model_not_found (with why, when known) if off
//   explain(service, selection)    header + duet.route object for the model the selection names
//   estimate_tokens(text)          a tokenizer-free prompt size for stickiness when the model is remote
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/route_select.h"
#include "server/server_state.h"

namespace duet::server {

struct RoutedRequest {
    std::shared_ptr<RouteService> service;
    RouteSelection selection;
    std::string header;                           // x-duet-route
    std::shared_ptr<const nlohmann::json> route;  // the duet.route object

    // The conversation now lives on the selection's model with `prompt_tokens` cached (stickiness).
    void record(int64_t prompt_tokens) const { service->record(selection, prompt_tokens); }
};

// The router when it is on; otherwise nullptr and *error = 404 model_not_found whose message says what is
// missing (when duet serve knows).
std::shared_ptr<RouteService> routing_or_error(const Server::State& state, openai::ApiError* error);

RoutedRequest explain(std::shared_ptr<RouteService> service, RouteSelection selection);

// About how many tokens `text` is, without a tokenizer (a remote model's prompt): a token per 4 ASCII bytes, one
// per other character (a CJK character is about one token for Llama 3 and Qwen vocabularies).
int64_t estimate_tokens(std::string_view text);

}  // namespace duet::server
