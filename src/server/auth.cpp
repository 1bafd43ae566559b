// auth.cpp: Auth: API key (Bearer or x-api-key, constant-time compare), session hook, default deny.
#include "server/auth.h"

namespace duet::server {

namespace {

// Compares in time that depends only on the expected key's length, not on where the inputs differ.
bool constant_time_equals(const std::string& given, const std::string& expected) {
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < expected.size(); ++i) {
        const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
        diff |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
    }
    return diff == 0;
}

}  // namespace

const char* access_name(Access access) {
    switch (access) {
        case Access::anyone:
            return "anyone";
        case Access::api_key:
            return "api_key";
        case Access::session:
            return "session";
    }
    return "api_key";
}

bool Auth::has_api_key(const http::HttpRequest& request) const {
    if (api_key_.empty()) return true;
    std::string given;
    const std::string auth = request.header("Authorization");
    if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
        given = auth.substr(7);
        while (!given.empty() && given.front() == ' ') given.erase(given.begin());
        while (!given.empty() && given.back() == ' ') given.pop_back();
    } else {
        given = request.header("x-api-key");
    }
    return constant_time_equals(given, api_key_);
}

bool Auth::key_matches(const std::string& given) const {
    return api_key_.empty() || constant_time_equals(given, api_key_);
}

bool Auth::allows(Access access, const http::HttpRequest& request) const {
    switch (access) {
        case Access::anyone:
            return true;
        case Access::api_key:
            return has_api_key(request);
        case Access::session:
            return (session_check_ && session_check_(request)) || has_api_key(request);
    }
    return false;
}

}  // namespace duet::server
