// routes_upstream.h: requests for a remote model (a registry entry with remote(): an upstream pool) are forwarded
// instead of run here. The chat and completions routes call forward_if_remote() first, and for duet-auto & co.
// forward_routed_if_remote() once the router chose a remote model; everything about how (replica choice, retries,
// breakers, streaming) lives in src/upstream.
#pragma once

#include <optional>
#include <string>

#include "server/routed_request.h"
#include "server/server_state.h"

namespace duet::server {

// The forwarded answer when the request's "model" names a remote model; nullopt otherwise (a local model, no
// model, a body that is not JSON: the local route handles it and its errors).
std::optional<http::HttpResponse> forward_if_remote(Server::State& state, const http::HttpRequest& request,
                                                    const char* endpoint);

// A routed request whose chosen model (routed.selection.model) is remote: forwarded with "model" set to it. The
// answer explains the choice as a local one does: the x-duet-route header on every answer, and "duet": {"route"}
// added to a 200 JSON body or to the first data event of the stream (that one event is re-encoded, the rest pass
// through untouched). On a 200 the conversation is recorded with the upstream's usage.prompt_tokens when a whole
// answer has it, else `estimated_prompt_tokens`. nullopt: the chosen model is not remote.
std::optional<http::HttpResponse> forward_routed_if_remote(Server::State& state, const http::HttpRequest& request,
                                                           const char* endpoint, const RoutedRequest& routed,
                                                           int64_t estimated_prompt_tokens);

// Adds "duet": {"route": route} to the first `data:` line in `events` (whole SSE events) when its payload is a JSON
// object without "error". True once a data line was seen (the route goes to the stream's first data event only).
bool attach_route_to_first_data_event(std::string* events, const nlohmann::json& route);

}  // namespace duet::server
