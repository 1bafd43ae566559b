// route_json.h: a router Decision as JSON (the `duet.route` object; `duet route --json` prints it on one line).
// The router itself has no JSON; this edge file turns its native structs into the wire shape.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "router/router.h"

namespace duet::app {

// mode: "auto", "expert" or "daily"; model: the model the request went to (null when empty).
nlohmann::json decision_json(const router::Router& router, const router::Decision& d, const std::string& mode,
                             const std::string& model);

// The human-readable explanation `duet route` prints.
std::string decision_text(const router::Router& router, const router::Decision& d);

}  // namespace duet::app
