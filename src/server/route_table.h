// route_table.h: the composable HTTP layer: each feature file contributes a RouteTable (method + path pattern +
// access + handler); the Router joins them and dispatches every request:
//
//   request --> match path (segments; "{name}" takes one non-empty segment; literal segments win over
//               parameters) --> Auth::allows(route.access)  (no match: judged as api_key, default deny)
//           --> no path matched: 404 route_not_found   path matched, method not: 405 + Allow
//           --> query string parsed (percent-decoded; a bad escape is 400) --> handler(RouteRequest)
//
// Paths arrive percent-decoded from the transport; the raw query string comes in HttpRequest::query.
// This layer knows HTTP and OpenAI's error shape only; handlers (routes_*.cpp) own everything else.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/auth.h"
#include "server/http/http_server.h"
#include "openai/errors.h"

namespace duet::server {

using Params = std::vector<std::pair<std::string, std::string>>;

// What a handler sees: the HTTP request plus its path parameters and decoded query.
struct RouteRequest {
    const http::HttpRequest& http;
    Params path_params;  // {"id", "42"} for pattern /api/conversations/{id}
    Params query;        // in order; a name may repeat

    // The path parameter `name` ("" when the pattern has none of that name).
    std::string_view param(std::string_view name) const;
    // The first query value of `name`, or nullopt.
    std::optional<std::string> query_value(std::string_view name) const;
    // An integer query value in [min, max]; `fallback` when absent; invalid_argument naming the parameter.
    Result<int64_t> query_int(std::string_view name, int64_t fallback, int64_t min, int64_t max) const;
};

using RouteHandler = std::function<http::HttpResponse(const RouteRequest&)>;

struct Route {
    std::string method;   // "GET", "POST", "DELETE" ...
    std::string pattern;  // "/v1/models", "/api/conversations/{id}"
    Access access = Access::api_key;
    RouteHandler handler;
};

// The routes one feature contributes: `RouteTable chat_routes(State&)` in routes_chat.cpp.
class RouteTable {
public:
    RouteTable& add(std::string method, std::string pattern, Access access, RouteHandler handler);
    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;
};

// "a=1&b=x%20y&c" -> {{"a","1"},{"b","x y"},{"c",""}}; '+' is a space. Errors name the bad escape's offset.
Result<Params> parse_query(std::string_view raw);
// %XX escapes and '+' decoded; invalid_argument on a truncated or non-hex escape.
Result<std::string> percent_decode(std::string_view s, bool plus_is_space);

class Router {
public:
    explicit Router(Auth auth) : auth_(std::move(auth)) {}

    // Adds every route of a table. Errors: a pattern not starting with '/', an empty or unclosed "{...}", a
    // method + pattern already present.
    Status add(const RouteTable& table);
    Auth& auth() { return auth_; }

    // Routing, auth, 404/405 and query errors; otherwise the handler's response.
    http::HttpResponse dispatch(const http::HttpRequest& request) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    struct Segment {
        std::string text;
        bool is_param = false;
    };
    struct Compiled {
        std::vector<Segment> segments;
        int n_literals = 0;
    };
    // True when `path` fits the pattern; fills params.
    static bool match(const Compiled& pattern, const std::vector<std::string_view>& path, Params* params);

    Auth auth_;
    std::vector<Route> routes_;
    std::vector<Compiled> compiled_;  // parallel to routes_
};

// Responses every route file builds: an OpenAI-shaped error (its status, Retry-After when set) and a JSON body.
http::HttpResponse error_response(const openai::ApiError& error);
http::HttpResponse json_response(std::string body, int status = 200);

}  // namespace duet::server
