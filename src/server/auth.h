// auth.h: the one access table of the server: every route declares who may call it, and this decides.
//
//   Access::anyone   no credentials (only /health today)
//   Access::api_key  `Authorization: Bearer KEY` or `x-api-key: KEY` when the server has a key; open without one
//   Access::session  a signed-in page (cookie) once a session checker is installed; the API key works too
//
// Default deny: a request that matches no route (unknown path, wrong method) is judged as api_key, so nothing
// about the route table leaks to a caller without the key. The key is compared in constant time.
#pragma once

#include <functional>
#include <string>

#include "server/http/http_server.h"

namespace duet::server {

enum class Access { anyone, api_key, session };

const char* access_name(Access access);  // "anyone", "api_key", "session"

class Auth {
public:
    // Decides whether a request carries a valid session (e.g. a cookie checked against the store).
    using SessionCheck = std::function<bool(const http::HttpRequest&)>;

    explicit Auth(std::string api_key = {}) : api_key_(std::move(api_key)) {}
    void set_session_check(SessionCheck check) { session_check_ = std::move(check); }

    bool allows(Access access, const http::HttpRequest& request) const;
    bool has_api_key(const http::HttpRequest& request) const;  // true when no key is configured
    bool key_matches(const std::string& given) const;          // constant time; true when no key is configured

private:
    std::string api_key_;
    SessionCheck session_check_;  // empty: no sessions yet, only the API key opens session routes
};

}  // namespace duet::server
