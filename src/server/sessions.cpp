// sessions.cpp: SessionTable and the cookie helpers (see sessions.h).
#include "server/sessions.h"

#include <algorithm>
#include <random>

#include "common/strformat.h"

namespace duet::server {

std::string SessionTable::create() {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::random_device device;  // the kernel's CSPRNG on Linux
    std::string token;
    for (int i = 0; i < 43; ++i) token += kAlphabet[device() % 64];  // 43 x 6 bits = 258 bits
    std::lock_guard<std::mutex> lock(mutex_);
    while (order_.size() >= kMaxSessions) {
        expires_.erase(order_.front());
        order_.pop_front();
    }
    expires_[token] = Clock::now() + std::chrono::seconds(kSessionSeconds);
    order_.push_back(token);
    return token;
}

bool SessionTable::valid(std::string_view token) const {
    if (token.empty()) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = expires_.find(std::string(token));
    return it != expires_.end() && Clock::now() < it->second;
}

void SessionTable::remove(std::string_view token) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string key(token);
    if (expires_.erase(key) == 0) return;
    order_.erase(std::find(order_.begin(), order_.end(), key));
}

size_t SessionTable::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return expires_.size();
}

std::string cookie_value(std::string_view header, std::string_view name) {
    size_t at = 0;
    while (at < header.size()) {
        size_t end = header.find(';', at);
        if (end == std::string_view::npos) end = header.size();
        std::string_view pair = header.substr(at, end - at);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        const size_t eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
            std::string_view value = pair.substr(eq + 1);
            while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
            return std::string(value);
        }
        at = end + 1;
    }
    return {};
}

std::string session_cookie(std::string_view token) {
    return strformat("%.*s=%.*s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld", int(kSessionCookie.size()),
                     kSessionCookie.data(), int(token.size()), token.data(),
                     static_cast<long long>(SessionTable::kSessionSeconds));
}

std::string expired_session_cookie() {
    return strformat("%.*s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", int(kSessionCookie.size()),
                     kSessionCookie.data());
}

}  // namespace duet::server
