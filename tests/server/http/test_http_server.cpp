// test_http_server.cpp: the front door in process (raw loopback sockets, a trivial handler), so that the event loop,
// the worker hand-off and streaming run under the sanitizers too: keep-alive and pipelining, chunked SSE framing,
// HEAD, HTTP/1.0 streams, a stream whose client left, client_alive for a waiting handler, the per-client cap and
// the header deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "server/http/http_server.h"

namespace duet::server::http {
namespace {

using Clock = std::chrono::steady_clock;

int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads until `until` appears, the peer closes, or 5 s pass.
std::string read_until(int fd, const std::string& until, bool* closed = nullptr) {
    std::string out;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    if (closed) *closed = false;
    while (out.find(until) == std::string::npos && Clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            if (closed) *closed = true;
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

void send_all(int fd, const std::string& bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

struct TestServer {
    HttpServer server;
    std::atomic<int> n_alive_checks_false{0};
    std::atomic<bool> stream_saw_failure{false};

    explicit TestServer(HttpServerOptions o) : server(with_defaults(std::move(o))) {
        server.set_error_body([](int status) { return "{\"status\":" + std::to_string(status) + "}"; });
        server.set_handler([this](const HttpRequest& r) { return handle(r); });
        EXPECT_TRUE(server.start().ok());
    }
    ~TestServer() { server.stop(); }

    static HttpServerOptions with_defaults(HttpServerOptions o) {
        o.host = "127.0.0.1";
        o.port = 0;
        o.n_threads = 4;
        return o;
    }

    HttpResponse handle(const HttpRequest& r) {
        HttpResponse response;
        if (r.path == "/echo") {
            response.body = r.method + " " + r.path + " " + r.body;
        } else if (r.path == "/stream") {
            response.stream = [](EventSink& sink) {
                for (int i = 0; i < 3; ++i) sink.write_event("e" + std::to_string(i));
                sink.write("data: [DONE]\n\n");
            };
        } else if (r.path == "/endless") {
            response.stream = [this](EventSink& sink) {
                const auto give_up = Clock::now() + std::chrono::seconds(10);
                while (Clock::now() < give_up) {
                    if (!sink.write_event(std::string(1000, 'x'))) {
                        stream_saw_failure = true;
                        return;
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
            };
        } else if (r.path == "/wait") {
            const auto give_up = Clock::now() + std::chrono::seconds(10);
            while (Clock::now() < give_up) {
                if (r.client_alive && !r.client_alive()) {
                    ++n_alive_checks_false;
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            response.body = "waited";
        } else {
            response.status = 404;
            response.body = "{}";
        }
        return response;
    }
    int port() const { return server.port(); }
};

TEST(HttpServer, KeepAlivePipeliningHeadAndRequestIds) {
    TestServer s({});
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    send_all(fd,
             "POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /echo?x=1 HTTP/1.1\r\n\r\n"
             "HEAD /echo HTTP/1.1\r\nConnection: close\r\n\r\n");
    bool closed = false;
    const std::string got = read_until(fd, "\x01", &closed);
    EXPECT_TRUE(closed) << "Connection: close was not honoured";
    const size_t first = got.find("POST /echo hi");
    const size_t second = got.find("\r\n\r\nGET /echo ");
    ASSERT_NE(first, std::string::npos) << got;
    ASSERT_NE(second, std::string::npos) << got;
    EXPECT_LT(first, second);
    size_t n_responses = 0;
    for (size_t at = got.find("HTTP/1.1 200 OK"); at != std::string::npos; at = got.find("HTTP/1.1 200 OK", at + 1))
        ++n_responses;
    EXPECT_EQ(n_responses, 3u) << got;
    EXPECT_NE(got.find("x-request-id: req-"), std::string::npos);
    // HEAD: the GET's length, no body (nothing after the last head).
    EXPECT_EQ(got.substr(got.size() - 4), "\r\n\r\n") << got;
    EXPECT_NE(got.find("Content-Length: 10\r\nConnection: close\r\n\r\n"), std::string::npos) << got;
    ::close(fd);
}

TEST(HttpServer, StreamsAreChunkedForHttp11AndRawForHttp10) {
    TestServer s({});
    int fd = connect_to(s.port());
    send_all(fd, "GET /stream HTTP/1.1\r\n\r\n");
    std::string got = read_until(fd, "0\r\n\r\n");
    EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
    EXPECT_NE(got.find("Content-Type: text/event-stream"), std::string::npos) << got;
    EXPECT_NE(got.find("a\r\ndata: e0\n\n\r\n"), std::string::npos) << got;  // 10 bytes per event
    EXPECT_NE(got.find("e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"), std::string::npos) << got;
    // The connection is kept: a second request on it works.
    send_all(fd, "GET /echo HTTP/1.1\r\n\r\n");
    EXPECT_NE(read_until(fd, "GET /echo ").find("GET /echo "), std::string::npos);
    ::close(fd);
    fd = connect_to(s.port());
    send_all(fd, "GET /stream HTTP/1.0\r\n\r\n");
    bool closed = false;
    got = read_until(fd, "\x01", &closed);
    EXPECT_TRUE(closed);
    EXPECT_EQ(got.find("chunked"), std::string::npos) << got;
    EXPECT_NE(got.find("\r\n\r\ndata: e0\n\ndata: e1\n\n"), std::string::npos) << got;
    ::close(fd);
}

TEST(HttpServer, AStreamWhoseClientLeftSeesItsWritesFailAndAWaitingHandlerSeesTheClientGone) {
    TestServer s({});
    int fd = connect_to(s.port());
    send_all(fd, "GET /endless HTTP/1.1\r\n\r\n");
    read_until(fd, "xxxx");
    ::close(fd);
    for (int i = 0; i < 500 && !s.stream_saw_failure; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(s.stream_saw_failure);
    fd = connect_to(s.port());
    send_all(fd, "GET /wait HTTP/1.1\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::close(fd);
    for (int i = 0; i < 500 && s.n_alive_checks_false == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(s.n_alive_checks_false, 1);
}

TEST(HttpServer, TransportErrorsUseTheErrorBodyAndClose) {
    HttpServerOptions o;
    o.max_body_bytes = 100;
    TestServer s(o);
    const std::pair<std::string, int> cases[] = {
        {"POST /echo HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
        {"POST /echo HTTP/1.1\r\nContent-Length: -3\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nTransfer-Encoding: br\r\n\r\n", 501},
        {"GET /echo HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431},
        {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n" + std::string(101, 'b'), 413},
    };
    for (const auto& [request, status] : cases) {
        const int fd = connect_to(s.port());
        send_all(fd, request);
        bool closed = false;
        const std::string got = read_until(fd, "\x01", &closed);
        EXPECT_EQ(got.rfind("HTTP/1.1 " + std::to_string(status), 0), 0u) << got.substr(0, 100);
        EXPECT_NE(got.find("{\"status\":" + std::to_string(status) + "}"), std::string::npos) << got.substr(0, 200);
        EXPECT_NE(got.find("Connection: close"), std::string::npos);
        EXPECT_TRUE(closed) << status;
        ::close(fd);
    }
}

TEST(HttpServer, PerClientCapAndHeaderDeadline) {
    HttpServerOptions o;
    o.max_connections_per_client = 2;
    o.header_timeout_seconds = 1;
    TestServer s(o);
    const int a = connect_to(s.port()), b = connect_to(s.port());
    send_all(a, "GET /echo HTTP/1.1\r\n");  // a head that never ends
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int c = connect_to(s.port());
    bool closed = false;
    std::string got = read_until(c, "\x01", &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
    EXPECT_TRUE(closed);
    // The slow head is answered 408 at its deadline and closed; the idle one is closed silently.
    got = read_until(a, "\x01", &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
    EXPECT_TRUE(closed);
    got = read_until(b, "\x01", &closed);
    EXPECT_TRUE(got.empty()) << got;
    EXPECT_TRUE(closed);
    for (int fd : {a, b, c}) ::close(fd);
    // Slots are free again.
    const int d = connect_to(s.port());
    send_all(d, "GET /echo HTTP/1.1\r\n\r\n");
    EXPECT_NE(read_until(d, "GET /echo ").find("GET /echo "), std::string::npos);
    ::close(d);
}

}  // namespace
}  // namespace duet::server::http
