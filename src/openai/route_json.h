// route_json.h: a router Decision as JSON: the `duet.route` object of routed responses (and of `duet route --json`),
// and the compact `x-duet-route` header. The router itself has no JSON; this edge file gives its structs a wire shape.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "router/router.h"

namespace duet::openai {

// mode: "auto", "expert" or "daily"; model: the model the request went to (null when empty).
nlohmann::json decision_json(const router::Router& router, const router::Decision& d, const std::string& mode,
                             const std::string& model);

// A response or chunk object (JSON text of one object) with "duet": {"route": route} added at the end.
std::string attach_route(std::string object_json, const nlohmann::json& route);

// `x-duet-route: role=expert; mode=auto; model=NAME; p=0.973; sticky=kept; us=12` (sticky: none, same, kept =
// a switch was avoided, switched).
std::string route_header(const router::Decision& d, const std::string& mode, const std::string& model);

}  // namespace duet::openai
