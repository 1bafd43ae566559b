// routed_request.cpp: routing on or off, a selection's explanation, the token estimate for remote prompts.
#include "server/routed_request.h"

#include "openai/route_json.h"

namespace duet::server {

std::shared_ptr<RouteService> routing_or_error(const Server::State& state, openai::ApiError* error) {
    std::shared_ptr<RouteService> routing = state.routing();
    if (routing) return routing;
    *error = openai::ApiError::model_not_found();
    if (std::string why = state.routing_unavailable(); !why.empty()) error->message = std::move(why);
    return nullptr;
}

RoutedRequest explain(std::shared_ptr<RouteService> service, RouteSelection selection) {
    RoutedRequest r;
    const std::string mode = route_mode_name(selection.mode);
    r.header = openai::route_header(selection.decision, mode, selection.model);
    r.route = std::make_shared<const nlohmann::json>(
        openai::decision_json(service->router(), selection.decision, mode, selection.model));
    r.service = std::move(service);
    r.selection = std::move(selection);
    return r;
}

int64_t estimate_tokens(std::string_view text) {
    int64_t ascii = 0, other = 0;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x80) ++ascii;
        else if ((byte & 0xC0) != 0x80) ++other;  // a UTF-8 lead byte: one character
    }
    return (ascii + 3) / 4 + other;
}

}  // namespace duet::server
