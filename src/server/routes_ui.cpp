// routes_ui.cpp: page_routes: duet_web's assets through serve_asset (ETag, gzip, caching) plus the CSP and
// hardening headers; the /api/session sign-in over Server::State::sessions.
#include "server/routes_ui.h"

#include <vector>

#include "common/strformat.h"
#include "openai/parse.h"
#include "server/server_state.h"
#include "server/static_files.h"
#include "web/assets.h"

namespace duet::server {

namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// duet_web's table in serve_asset's shape; "/index.html" is served at "/" too. Built once, lives forever.
const std::vector<StaticAsset>& page_assets() {
    static const std::vector<StaticAsset> assets = [] {
        std::vector<StaticAsset> out;
        for (const web::Asset& a : web::all_assets()) {
            out.push_back({a.path, a.content_type, a.body, a.gzip_body, a.etag, a.immutable});
            if (a.path == "/index.html") out.push_back({"/", a.content_type, a.body, a.gzip_body, a.etag, false});
        }
        return out;
    }();
    return assets;
}

http::HttpResponse session_state(const Server::State& state, const http::HttpRequest& request) {
    const bool required = !state.options.api_key.empty();
    const bool signed_in = !required || state.has_session(request) || Auth(state.options.api_key).has_api_key(request);
    return json_response(strformat("{\"auth_required\":%s,\"authenticated\":%s}", required ? "true" : "false",
                                   signed_in ? "true" : "false"));
}

http::HttpResponse sign_in(Server::State& state, const http::HttpRequest& request) {
    openai::SessionRequest req;
    openai::ApiError error;
    if (!openai::parse_session_request(request.body, &req, &error)) return error_response(error);
    if (!Auth(state.options.api_key).key_matches(req.api_key)) return error_response(openai::ApiError::unauthorized());
    http::HttpResponse response;
    response.status = 204;
    response.headers.emplace_back("Set-Cookie", session_cookie(state.sessions.create()));
    return response;
}

http::HttpResponse sign_out(Server::State& state, const http::HttpRequest& request) {
    state.sessions.remove(cookie_value(request.header("Cookie"), kSessionCookie));
    http::HttpResponse response;
    response.status = 204;
    response.headers.emplace_back("Set-Cookie", expired_session_cookie());
    return response;
}

}  // namespace

void add_security_headers(http::HttpResponse* response) {
    auto& h = response->headers;
    h.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    h.emplace_back("X-Content-Type-Options", "nosniff");
    h.emplace_back("X-Frame-Options", "DENY");
    h.emplace_back("Referrer-Policy", "no-referrer");
    h.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    h.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

bool is_cross_site(const http::HttpRequest& request) {
    if (request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS") return false;
    const std::string origin = request.header("Origin");
    if (origin.empty()) return false;  // not a browser's cross-origin call
    const size_t scheme = origin.find("://");
    const std::string host = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
    return host != request.header("Host");
}

RouteTable page_routes(Server::State& state) {
    RouteTable table;
    for (const StaticAsset& asset : page_assets()) {
        table.add("GET", std::string(asset.path), Access::anyone, [&asset](const RouteRequest& r) {
            http::HttpResponse response = serve_asset(asset, r.http);
            add_security_headers(&response);
            return response;
        });
    }
    Server::State* s = &state;
    table.add("GET", "/api/session", Access::anyone, [s](const RouteRequest& r) { return session_state(*s, r.http); });
    table.add("POST", "/api/session", Access::anyone, [s](const RouteRequest& r) { return sign_in(*s, r.http); });
    table.add("DELETE", "/api/session", Access::anyone, [s](const RouteRequest& r) { return sign_out(*s, r.http); });
    return table;
}

}  // namespace duet::server
