// route_text.h: the human-readable explanation of a router decision (`duet route` without --json).
#pragma once

#include <string>

#include "router/router.h"

namespace duet::app {

std::string decision_text(const router::Router& router, const router::Decision& d);

}  // namespace duet::app
