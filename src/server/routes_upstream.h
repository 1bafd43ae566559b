// routes_upstream.h: requests for a remote model (a registry entry with remote(): an upstream pool) are forwarded
// instead of run here. The chat and completions routes call forward_if_remote() first; everything about how
// (replica choice, retries, breakers, streaming) lives in src/upstream.
#pragma once

#include <optional>
#include <string>

#include "server/server_state.h"

namespace duet::server {

// The forwarded answer when the request's "model" names a remote model; nullopt otherwise (a local model, no
// model, a body that is not JSON: the local route handles it and its errors).
std::optional<http::HttpResponse> forward_if_remote(Server::State& state, const http::HttpRequest& request,
                                                    const char* endpoint);

}  // namespace duet::server
