// sessions.h: the chat page's sign-in: the API key is traded once for a random session token kept in an HttpOnly,
// SameSite=Strict cookie (the page never stores the key). Sessions live in memory: a restart asks again.
//
//   POST /api/session {"api_key": K}  -> K right: Set-Cookie duet_session=TOKEN (32 random bytes, base64url)
//   later requests: Cookie: duet_session=TOKEN -> SessionTable::valid(TOKEN) -> the same rights as the key
// At most kMaxSessions live at once (the oldest is dropped); each lasts kSessionSeconds.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace duet::server {

inline constexpr std::string_view kSessionCookie = "duet_session";

class SessionTable {
public:
    static constexpr size_t kMaxSessions = 1000;
    static constexpr int64_t kSessionSeconds = 30 * 24 * 3600;

    std::string create();                      // a new token (from /dev/urandom via std::random_device)
    bool valid(std::string_view token) const;  // known and not expired
    void remove(std::string_view token);
    size_t size() const;

private:
    using Clock = std::chrono::steady_clock;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Clock::time_point> expires_;
    std::deque<std::string> order_;  // oldest first
};

// The value of cookie `name` in a Cookie header ("a=1; duet_session=xyz"), or "".
std::string cookie_value(std::string_view cookie_header, std::string_view name);
// Set-Cookie values: the session (HttpOnly, SameSite=Strict, Path=/, Max-Age) and its removal (Max-Age=0).
std::string session_cookie(std::string_view token);
std::string expired_session_cookie();

}  // namespace duet::server
