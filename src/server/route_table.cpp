// route_table.cpp: RouteTable, query parsing, and Router::dispatch (match, auth, 404/405, handler).
#include "server/route_table.h"

#include <algorithm>

#include "openai/errors.h"

namespace duet::server {

namespace {

// "/a/b/" -> {"a", "b", ""}: empty segments are kept, so "//x" and "/x/" never match "/x".
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path.front() != '/') return out;
    size_t start = 1;
    while (true) {
        const size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            out.push_back(path.substr(start));
            return out;
        }
        out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view find_param(const Params& params, std::string_view name) {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return {};
}

}  // namespace

// ---- requests and tables ---------------------------------------------------------------------------------------

std::string_view RouteRequest::param(std::string_view name) const { return find_param(path_params, name); }

std::optional<std::string> RouteRequest::query_value(std::string_view name) const {
    for (const auto& [k, v] : query)
        if (k == name) return v;
    return std::nullopt;
}

Result<int64_t> RouteRequest::query_int(std::string_view name, int64_t fallback, int64_t min, int64_t max) const {
    const std::optional<std::string> text = query_value(name);
    if (!text) return fallback;
    const std::string n(name);
    const Status not_integer = Status::invalid_argument("query parameter '%s': not an integer", n.c_str());
    if (text->empty() || text->size() > 18) return not_integer;
    int64_t value = 0;
    size_t i = 0;
    const bool negative = (*text)[0] == '-';
    if (negative) i = 1;
    if (i == text->size()) return not_integer;
    for (; i < text->size(); ++i) {
        const char c = (*text)[i];
        if (c < '0' || c > '9') return not_integer;
        value = value * 10 + (c - '0');
    }
    if (negative) value = -value;
    if (value < min || value > max)
        return Status::invalid_argument("query parameter '%s': %lld outside [%lld, %lld]", n.c_str(),
                                        static_cast<long long>(value), static_cast<long long>(min),
                                        static_cast<long long>(max));
    return value;
}

RouteTable& RouteTable::add(std::string method, std::string pattern, Access access, RouteHandler handler) {
    routes_.push_back({std::move(method), std::move(pattern), access, std::move(handler)});
    return *this;
}

Result<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '+' && plus_is_space) {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= s.size()) return Status::invalid_argument("bad percent escape at offset %zu (truncated)", i);
            const int h = hex_value(s[i + 1]), l = hex_value(s[i + 2]);
            if (h < 0 || l < 0) return Status::invalid_argument("bad percent escape at offset %zu (not hex)", i);
            out += static_cast<char>(h * 16 + l);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

Result<Params> parse_query(std::string_view raw) {
    Params out;
    size_t start = 0;
    while (start <= raw.size()) {
        size_t end = raw.find('&', start);
        if (end == std::string_view::npos) end = raw.size();
        const std::string_view pair = raw.substr(start, end - start);
        if (!pair.empty()) {
            const size_t eq = pair.find('=');
            const std::string_view key = pair.substr(0, eq);
            const std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
            auto k = percent_decode(key, true);
            if (!k.ok()) return k.status().with_context("query: ");
            auto v = percent_decode(value, true);
            if (!v.ok()) return v.status().with_context("query parameter '" + *k + "': ");
            out.emplace_back(std::move(k).value(), std::move(v).value());
        }
        start = end + 1;
    }
    return out;
}

// ---- Router ----------------------------------------------------------------------------------------------------

Status Router::add(const RouteTable& table) {
    for (const Route& route : table.routes()) {
        if (route.pattern.empty() || route.pattern.front() != '/')
            return Status::invalid_argument("route '%s': a pattern starts with '/'", route.pattern.c_str());
        if (!route.handler)
            return Status::invalid_argument("route %s %s: no handler", route.method.c_str(), route.pattern.c_str());
        Compiled compiled;
        for (std::string_view segment : split_path(route.pattern)) {
            Segment s;
            if (!segment.empty() && segment.front() == '{') {
                if (segment.size() < 3 || segment.back() != '}')
                    return Status::invalid_argument("route '%s': bad parameter segment '%.*s'", route.pattern.c_str(),
                                                    static_cast<int>(segment.size()), segment.data());
                s.text = std::string(segment.substr(1, segment.size() - 2));
                s.is_param = true;
            } else {
                s.text = std::string(segment);
                ++compiled.n_literals;
            }
            compiled.segments.push_back(std::move(s));
        }
        for (const Route& existing : routes_)
            if (existing.method == route.method && existing.pattern == route.pattern)
                return Status::invalid_argument("route %s %s added twice", route.method.c_str(), route.pattern.c_str());
        routes_.push_back(route);
        compiled_.push_back(std::move(compiled));
    }
    return Status::ok_status();
}

bool Router::match(const Compiled& pattern, const std::vector<std::string_view>& path, Params* params) {
    if (pattern.segments.size() != path.size()) return false;
    params->clear();
    for (size_t i = 0; i < path.size(); ++i) {
        const Segment& s = pattern.segments[i];
        if (s.is_param) {
            if (path[i].empty()) return false;
            params->emplace_back(s.text, std::string(path[i]));
        } else if (s.text != path[i]) {
            return false;
        }
    }
    return true;
}

http::HttpResponse Router::dispatch(const http::HttpRequest& request) const {
    const std::vector<std::string_view> path = split_path(request.path);
    const Route* best = nullptr;
    int best_literals = -1;
    Params best_params, params;
    std::vector<std::string> allowed;  // methods of the routes whose pattern fits the path
    for (size_t i = 0; i < routes_.size(); ++i) {
        if (!match(compiled_[i], path, &params)) continue;
        if (std::find(allowed.begin(), allowed.end(), routes_[i].method) == allowed.end())
            allowed.push_back(routes_[i].method);
        if (routes_[i].method != request.method) continue;
        if (compiled_[i].n_literals > best_literals) {  // literal segments win; ties: the first added
            best = &routes_[i];
            best_literals = compiled_[i].n_literals;
            best_params = params;
        }
    }
    // Default deny: without a matching route the request is judged as needing the API key.
    if (!auth_.allows(best ? best->access : Access::api_key, request))
        return error_response(openai::ApiError::unauthorized());
    if (!best) {
        if (allowed.empty()) return error_response(openai::ApiError::route_not_found());
        http::HttpResponse response = error_response(openai::ApiError::from_status(405));
        std::sort(allowed.begin(), allowed.end());
        std::string allow;
        for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
        response.headers.emplace_back("Allow", allow);
        return response;
    }
    auto query = parse_query(request.query);
    if (!query.ok()) return error_response(openai::ApiError::invalid(query.status().message()));
    RouteRequest route_request{request, std::move(best_params), std::move(query).value()};
    return best->handler(route_request);
}

// ---- responses -------------------------------------------------------------------------------------------------

http::HttpResponse error_response(const openai::ApiError& error) {
    http::HttpResponse response;
    response.status = error.status;
    response.body = openai::error_json(error);
    if (error.retry_after_seconds > 0)
        response.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
    return response;
}

http::HttpResponse json_response(std::string body, int status) {
    http::HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

}  // namespace duet::server
