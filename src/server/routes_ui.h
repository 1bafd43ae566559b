// routes_ui.h: the chat page's routes: its embedded assets (web/, duet_web) at / with the security headers its
// strict Content-Security-Policy needs, and the sign-in that trades the API key for a session cookie.
//
//   GET  /, /index.html, /app.js, ...   anyone (the page holds no data; it asks for the key itself)
//   GET  /api/session                   anyone: {"auth_required", "authenticated"}
//   POST /api/session {"api_key"}       anyone: right key -> 204 + Set-Cookie duet_session (HttpOnly, Strict)
//   DELETE /api/session                 anyone: forgets the session, expires the cookie
// Internal to src/server (see server_state.h).
#pragma once

#include "server/http/http_server.h"
#include "server/route_table.h"

namespace duet::server {

// The page's Content-Security-Policy and other hardening headers.
void add_security_headers(http::HttpResponse* response);

// A browser's state-changing request (not GET/HEAD/OPTIONS) whose Origin names a host other than the one it
// asked: refused before routing (403 cross_site), whatever its credentials.
bool is_cross_site(const http::HttpRequest& request);

}  // namespace duet::server
