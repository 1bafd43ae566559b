// server_harness.h: an in-process server on 127.0.0.1 (random port) over fake engines, plus small client helpers
// (SSE parsing, raw sockets for disconnects and hostile bytes).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/server.h"
#include "fake_engine.h"

namespace duet::test {

using nlohmann::json;

struct ServerHarness {
    std::shared_ptr<FakeEngine> alpha, beta;
    std::unique_ptr<server::Server> server;

    explicit ServerHarness(std::string api_key = "", FakeEngine::Options alpha_options = {}, int32_t max_queue = 256,
                           size_t max_body = size_t{8} << 20) {
        server::ServerOptions options;
        options.http.host = "127.0.0.1";
        options.http.port = 0;
        options.http.n_threads = 128;
        options.http.max_body_bytes = max_body;
        options.api_key = std::move(api_key);
        options.max_queue = max_queue;
        server = std::make_unique<server::Server>(options);
        alpha = std::make_shared<FakeEngine>(alpha_options);
        beta = std::make_shared<FakeEngine>();
        auto codec = std::make_shared<FakeCodec>();
        server->add_model({"alpha", alpha, codec, 1700000000});
        server->add_model({"beta", beta, codec, 1700000000});
        const Status st = server->start();
        EXPECT_TRUE(st.ok()) << st.message();
        server->set_ready(true);
    }
    ~ServerHarness() { server->stop(); }

    int port() const { return server->port(); }
    std::unique_ptr<httplib::Client> client(const std::string& key = "") const {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", port());
        c->set_read_timeout(30, 0);
        if (!key.empty()) c->set_default_headers({{"Authorization", "Bearer " + key}});
        return c;
    }
};

// "data: {...}\n\n" events -> payloads (without "data: ").
inline std::vector<std::string> sse_payloads(const std::string& body) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t end = body.find("\n\n", pos);
        if (end == std::string::npos) break;
        std::string event = body.substr(pos, end - pos);
        if (event.rfind("data: ", 0) == 0) out.push_back(event.substr(6));
        pos = end + 2;
    }
    return out;
}

// A valid OpenAI error body: {"error": {"message": str, "type": str, "param": str|null, "code": str|null}}.
inline ::testing::AssertionResult is_error_body(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) return ::testing::AssertionFailure() << "not JSON: " << body.substr(0, 200);
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object())
        return ::testing::AssertionFailure() << "no error object: " << body.substr(0, 200);
    const json& e = j["error"];
    if (!e.contains("message") || !e["message"].is_string() || !e.contains("type") || !e["type"].is_string() ||
        !e.contains("param") || !(e["param"].is_string() || e["param"].is_null()) || !e.contains("code") ||
        !(e["code"].is_string() || e["code"].is_null()))
        return ::testing::AssertionFailure() << "bad error shape: " << body.substr(0, 200);
    if (e["message"].get<std::string>().size() > 8192) return ::testing::AssertionFailure() << "message > 8 KiB";
    return ::testing::AssertionSuccess();
}

// Raw TCP: send bytes (then half-close when asked), read the first `min_bytes` of the answer (or until close),
// then close.
inline std::string raw_exchange(int port, const std::string& bytes, size_t min_bytes = SIZE_MAX, int timeout_ms = 5000,
                                bool half_close = false) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return {};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return {};
    }
    size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
    }
    if (half_close) ::shutdown(fd, SHUT_WR);
    std::string out;
    char buf[4096];
    while (out.size() < min_bytes) {
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

// A connection that stays open until destroyed (a client holding a stream without reading it to the end).
class RawConnection {
public:
    RawConnection(int port, const std::string& bytes) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval tv{5, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0)
            ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    ~RawConnection() { ::close(fd_); }
    std::string read_some() {
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    }

private:
    int fd_ = -1;
};

inline std::string http_post_bytes(const std::string& path, const std::string& body,
                                   const std::string& extra_headers = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n" +
           extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

inline int status_of_raw(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return -1;
    return std::atoi(response.substr(9, 3).c_str());
}

inline std::string body_of_raw(const std::string& response) {
    size_t at = response.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : response.substr(at + 4);
}

}  // namespace duet::test
