// test_front_door.cpp: hostile clients against a real `duet serve` (a random-weight demo model written by
// `duet make-model --preset demo`) on loopback: bad Content-Length values answered without waiting for a body,
// chunked and gzip bombs refused while reading, header floods, keep-alive and per-client limits, and 1,000
// slowloris connections while /health keeps answering; memory after the attacks. No timed assertions: every wait
// has a generous deadline, and the measured /health latencies and memory are printed, not asserted tightly.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

#include "server/serve_process.h"

namespace duet::test {
namespace {

using Clock = std::chrono::steady_clock;

// The demo model, written once per test process.
const std::string& demo_model() {
    static const std::string path = [] {
        const std::string p = temp_dir() + "/front-door-demo.gguf";
        const std::string cmd =
            "'" + duet_binary() + "' make-model --preset demo --type q8_0 -o '" + p + "' > /dev/null";
        return std::system(cmd.c_str()) == 0 ? p : std::string();
    }();
    return path;
}

#define REQUIRE_DEMO_SERVE(proc)                                                               \
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary"; \
    ASSERT_FALSE(demo_model().empty()) << "duet make-model failed";                            \
    ASSERT_TRUE((proc).ready()) << "duet serve did not become ready"

// A raw TCP client from a chosen loopback source address (127.0.0.x: a distinct client for per-client caps).
class Socket {
public:
    explicit Socket(int port, const char* from = "127.0.0.1", bool nonblocking = false) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        inet_pton(AF_INET, from, &local.sin_addr);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        if (nonblocking) ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    }
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    bool connected() const { return connected_; }
    int fd() const { return fd_; }
    // Sends everything (blocking); false when the server closed or reset the connection.
    bool send(const std::string& bytes) {
        size_t at = 0;
        while (at < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
            if (n <= 0) return false;
            at += static_cast<size_t>(n);
        }
        return true;
    }
    // Reads until `done(data)` or the peer closes or `timeout_ms` passes; returns what arrived.
    std::string read_until(int timeout_ms, const std::function<bool(const std::string&)>& done,
                           bool* closed = nullptr) {
        std::string out;
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        if (closed) *closed = false;
        while (!done(out)) {
            const int left = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
            if (left <= 0) break;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, left) <= 0) continue;
            char buf[8192];
            const ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
            if (n <= 0) {
                if (closed) *closed = true;
                break;
            }
            out.append(buf, static_cast<size_t>(n));
        }
        return out;
    }
    // One whole response (head + Content-Length body), or what arrived before `timeout_ms`.
    std::string read_response(int timeout_ms = 5000, bool* closed = nullptr) {
        return read_until(
            timeout_ms, [](const std::string& s) { return response_complete(s); }, closed);
    }
    static bool response_complete(const std::string& s) {
        const size_t end = s.find("\r\n\r\n");
        if (end == std::string::npos) return false;
        const size_t cl = s.find("Content-Length: ");
        if (cl == std::string::npos || cl > end) return true;
        return s.size() >= end + 4 + std::stoul(s.substr(cl + 16));
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

std::string head_of(const std::string& method, const std::string& path, const std::string& headers) {
    return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

std::string chat_json(const std::string& text) {
    return json({{"model", "demo"}, {"messages", {{{"role", "user"}, {"content", text}}}}, {"max_tokens", 2}}).dump();
}

std::string gzip(const std::string& data) {
    z_stream z{};
    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

// Anonymous resident memory of a process (RssAnon, bytes), or -1.
long long rss_anon_bytes(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("RssAnon:", 0) == 0) return std::atoll(line.c_str() + 8) * 1024;
    return -1;
}

void raise_fd_limit() {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
}

// Short deadlines so that the slow-client tests end quickly.
std::vector<std::string> front_door_flags(std::vector<std::string> more = {}) {
    std::vector<std::string> flags = {
        "--header-timeout", "2",  "--body-timeout", "3", "--idle-timeout", "2", "--max-requests-per-connection", "5",
        "--kv-memory",      "16M"};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
}

TEST(FrontDoor, BadContentLengthsAreAnsweredWithoutWaitingForTheBody) {
    ServeProcess proc(front_door_flags(), "demo", demo_model());
    REQUIRE_DEMO_SERVE(proc);
    struct Case {
        std::string headers;
        int status;
    };
    const std::vector<Case> cases = {
        {"Content-Length: -1\r\n", 400},
        {"Content-Length: 9223372036854775808\r\n", 400},    // 2^63
        {"Content-Length: 100000000000000000000\r\n", 400},  // 10^20
        {"Content-Length: ten\r\n", 400},
        {"Content-Length: 5\r\nContent-Length: 6\r\n", 400},
        {"Content-Length: 99999999999\r\n", 413},  // valid, over the 8 MiB limit
        {"Transfer-Encoding: gzip, chunked\r\n", 501},
        {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400},
    };
    for (const Case& c : cases) {
        Socket s(proc.port());
        ASSERT_TRUE(s.send(head_of("POST", "/v1/chat/completions", "Content-Type: application/json\r\n" + c.headers)));
        // No body follows: an answer that waited for it would be a 408 after the 3 s body deadline.
        const std::string answer = s.read_response(10000);
        EXPECT_EQ(status_of_raw(answer), c.status) << c.headers << answer.substr(0, 200);
        EXPECT_TRUE(is_error_body(body_of_raw(answer))) << c.headers;
        EXPECT_NE(answer.find("x-request-id: req-"), std::string::npos);
    }
    EXPECT_EQ(proc.client()->Get("/health")->status, 200);
}

TEST(FrontDoor, ChunkedAndGzipBombsAreRefusedWhileReading) {
    ServeProcess proc(front_door_flags({"--max-body", "1M"}), "demo", demo_model());
    REQUIRE_DEMO_SERVE(proc);
    // Chunked: 64 KiB chunks, 4 MiB offered against a 1 MiB limit.
    {
        Socket s(proc.port());
        ASSERT_TRUE(s.send(head_of("POST", "/v1/chat/completions", "Transfer-Encoding: chunked\r\n")));
        const std::string chunk = "10000\r\n" + std::string(65536, ' ') + "\r\n";
        for (int i = 0; i < 64 && s.send(chunk); ++i) {}
        const std::string answer = s.read_response();
        EXPECT_EQ(status_of_raw(answer), 413) << answer.substr(0, 300);
        EXPECT_TRUE(is_error_body(body_of_raw(answer)));
    }
    // gzip: 64 MiB of zeros in ~65 KB, with a Content-Length and chunked.
    const std::string bomb = gzip(std::string(size_t{64} << 20, '\0'));
    for (bool chunked : {false, true}) {
        Socket s(proc.port());
        std::string bytes = head_of("POST", "/v1/chat/completions",
                                    "Content-Encoding: gzip\r\n" +
                                        (chunked ? std::string("Transfer-Encoding: chunked\r\n")
                                                 : "Content-Length: " + std::to_string(bomb.size()) + "\r\n"));
        if (chunked) {
            char size[32];
            std::snprintf(size, sizeof(size), "%zx\r\n", bomb.size());
            bytes += size + bomb + "\r\n0\r\n\r\n";
        } else {
            bytes += bomb;
        }
        s.send(bytes);
        const std::string answer = s.read_response();
        EXPECT_EQ(status_of_raw(answer), 413) << "chunked " << chunked << ": " << answer.substr(0, 300);
        EXPECT_TRUE(is_error_body(body_of_raw(answer)));
    }
    // A real gzip body is inflated and served.
    {
        const std::string body = gzip(chat_json("hello"));
        Socket s(proc.port());
        ASSERT_TRUE(s.send(head_of("POST", "/v1/chat/completions",
                                   "Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: " +
                                       std::to_string(body.size()) + "\r\n") +
                           body));
        const std::string answer = s.read_response(30000);
        EXPECT_EQ(status_of_raw(answer), 200) << answer.substr(0, 300);
    }
    EXPECT_EQ(proc.client()->Get("/health")->status, 200);
}

TEST(FrontDoor, HeaderFloodsAre431) {
    ServeProcess proc(front_door_flags(), "demo", demo_model());
    REQUIRE_DEMO_SERVE(proc);
    std::string many;
    for (int i = 0; i < 500; ++i) many += "X-Flood-" + std::to_string(i) + ": 1\r\n";
    const std::vector<std::string> floods = {
        head_of("GET", "/health", many),                                             // too many fields
        head_of("GET", "/health", "X-Big: " + std::string(64 << 10, 'a') + "\r\n"),  // one huge field
        "GET /health HTTP/1.1\r\nHost: x\r\n" + std::string(100, 'X') + ": " + std::string(40000, 'b'),  // no end
    };
    for (const std::string& flood : floods) {
        Socket s(proc.port());
        s.send(flood);
        const std::string answer = s.read_response();
        EXPECT_EQ(status_of_raw(answer), 431) << answer.substr(0, 200);
        EXPECT_TRUE(is_error_body(body_of_raw(answer)));
    }
    Socket s(proc.port());
    s.send("GET /" + std::string(20000, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_of_raw(s.read_response()), 414);
    EXPECT_EQ(proc.client()->Get("/health")->status, 200);
}

TEST(FrontDoor, KeepAliveEndsAfterMaxRequestsAndWhenIdle) {
    ServeProcess proc(front_door_flags(), "demo", demo_model());
    REQUIRE_DEMO_SERVE(proc);
    {
        Socket s(proc.port());
        for (int i = 1; i <= 5; ++i) {
            ASSERT_TRUE(s.send(head_of("GET", "/health", "")));
            const std::string answer = s.read_response();
            ASSERT_EQ(status_of_raw(answer), 200) << "request " << i;
            const bool last = i == 5;  // --max-requests-per-connection 5
            EXPECT_EQ(answer.find("Connection: close") != std::string::npos, last) << "request " << i;
        }
        bool closed = false;
        s.read_until(
            5000, [](const std::string&) { return false; }, &closed);
        EXPECT_TRUE(closed) << "the connection stayed open after its last request";
    }
    {
        Socket s(proc.port());
        ASSERT_TRUE(s.send(head_of("GET", "/health", "")));
        EXPECT_EQ(status_of_raw(s.read_response()), 200);
        bool closed = false;
        const std::string more = s.read_until(
            10000, [](const std::string&) { return false; }, &closed);
        EXPECT_TRUE(closed) << "an idle keep-alive connection was not closed (--idle-timeout 2)";
        EXPECT_TRUE(more.empty());  // closed silently
    }
    // Pipelined requests are answered in order.
    Socket s(proc.port());
    ASSERT_TRUE(s.send(head_of("GET", "/health", "") + head_of("GET", "/nope", "")));
    const std::string both = s.read_until(5000, [](const std::string& got) {
        const size_t second = got.find("HTTP/1.1 404");
        return second != std::string::npos && Socket::response_complete(got.substr(second));
    });
    EXPECT_EQ(status_of_raw(both), 200);
    EXPECT_NE(both.find("HTTP/1.1 404"), std::string::npos);
}

TEST(FrontDoor, ConnectionsPerClientAddressAreCapped) {
    ServeProcess proc(front_door_flags({"--max-connections-per-client", "4"}), "demo", demo_model());
    REQUIRE_DEMO_SERVE(proc);
    std::vector<std::unique_ptr<Socket>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::make_unique<Socket>(proc.port(), "127.0.0.2"));
        ASSERT_TRUE(held.back()->connected());
    }
    // Let the server accept the four before the fifth arrives.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Socket fifth(proc.port(), "127.0.0.2");
    const std::string refused = fifth.read_response();
    EXPECT_EQ(status_of_raw(refused), 503) << refused.substr(0, 200);
    EXPECT_TRUE(is_error_body(body_of_raw(refused)));
    // Another address is not affected, and a held connection still works.
    Socket other(proc.port(), "127.0.0.3");
    ASSERT_TRUE(other.send(head_of("GET", "/health", "")));
    EXPECT_EQ(status_of_raw(other.read_response()), 200);
    ASSERT_TRUE(held[0]->send(head_of("GET", "/health", "")));
    EXPECT_EQ(status_of_raw(held[0]->read_response()), 200);
}

TEST(FrontDoor, ThousandSlowClientsDoNotDelayHealthAndAreClosedAtTheHeaderDeadline) {
    raise_fd_limit();
    // Deadlines of 5 s (head) and 6 s (body) leave ~4 s to measure while all 1,000 are open.
    ServeProcess proc(front_door_flags({"--header-timeout", "5", "--body-timeout", "6"}), "demo", demo_model());
    REQUIRE_DEMO_SERVE(proc);
    constexpr int kSlow = 1000;
    constexpr int kAddresses = 10;  // 100 connections from each of 127.0.1.1 .. 127.0.1.10
    std::vector<std::unique_ptr<Socket>> slow;
    for (int i = 0; i < kSlow; ++i) {
        const std::string from = "127.0.1." + std::to_string(1 + i % kAddresses);
        slow.push_back(std::make_unique<Socket>(proc.port(), from.c_str(), /*nonblocking=*/true));
        ASSERT_TRUE(slow.back()->connected()) << "connection " << i;
        // Half send a partial head, half a whole head and a partial body.
        const std::string start = i % 2 == 0 ? std::string("POST /v1/completions HTTP/1.1\r\nHost: x\r\n")
                                             : head_of("POST", "/v1/completions", "Content-Length: 1000\r\n") + "{\"p";
        ::send(slow.back()->fd(), start.data(), start.size(), MSG_NOSIGNAL);
    }
    // While they drip a byte every 0.5 s, another client asks /health on fresh connections (~3.5 s).
    std::atomic<bool> measuring{true};
    std::thread drip([&] {
        while (measuring.load()) {
            for (auto& s : slow) ::send(s->fd(), "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    });
    std::vector<double> latencies_ms;
    int n_ok = 0;
    const int n_health = 150;
    for (int i = 0; i < n_health; ++i) {
        const auto t0 = Clock::now();
        Socket s(proc.port(), "127.0.0.9");
        s.send(head_of("GET", "/health", "Connection: close\r\n"));
        const std::string answer = s.read_response(2000);  // a generous bound, not a latency target
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (status_of_raw(answer) == 200) ++n_ok;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // /metrics too.
    auto metrics = proc.client()->Get("/metrics");
    measuring.store(false);
    drip.join();
    EXPECT_EQ(n_ok, n_health) << "/health failed or took over 2 s while 1,000 slow clients were connected";
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    std::sort(latencies_ms.begin(), latencies_ms.end());
    const double p50 = latencies_ms[latencies_ms.size() / 2];
    const double p99 = latencies_ms[std::min(latencies_ms.size() - 1, latencies_ms.size() * 99 / 100)];
    std::printf("[ figures  ] /health with %d slow clients: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d requests)\n",
                kSlow, p50, p99, latencies_ms.back(), n_health);
    RecordProperty("health_p99_ms", std::to_string(p99));
    // Every slow connection is closed at its deadline (header 5 s / body 6 s from the head) with a 408.
    int n_closed = 0, n_408 = 0;
    for (auto& s : slow) {
        bool closed = false;
        const std::string answer = s->read_until(
            10000, [](const std::string&) { return false; }, &closed);
        if (closed) ++n_closed;
        if (status_of_raw(answer) == 408) ++n_408;
    }
    EXPECT_EQ(n_closed, kSlow);
    EXPECT_EQ(n_408, kSlow);
    EXPECT_EQ(proc.client()->Get("/health")->status, 200);
}

TEST(FrontDoor, MemoryReturnsNearIdleAfterRejectedRequests) {
    ServeProcess proc({"--kv-memory", "16M"}, "demo", demo_model());
    REQUIRE_DEMO_SERVE(proc);
    // Warm up the paths a normal request takes, then measure idle.
    for (int i = 0; i < 3; ++i) proc.client()->Post("/v1/chat/completions", chat_json("warm up"), "application/json");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const long long idle = rss_anon_bytes(proc.pid());
    ASSERT_GT(idle, 0);
    std::atomic<long long> peak{idle};
    std::atomic<bool> sampling{true};
    std::thread sampler([&] {
        while (sampling.load()) {
            peak.store(std::max(peak.load(), rss_anon_bytes(proc.pid())));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    // Rejected requests, 8 at a time: 7.9 MiB bodies that are not JSON (parsed, then 400), chunked bodies over the
    // limit, gzip bombs.
    const std::string junk((size_t{8} << 20) - 4096, 'x');
    const std::string bomb = gzip(std::string(size_t{64} << 20, 'a'));
    for (int round = 0; round < 3; ++round) {
        std::vector<std::thread> clients;
        for (int i = 0; i < 8; ++i) {
            clients.emplace_back([&, i] {
                Socket s(proc.port());
                std::string request;
                if (i % 3 == 0) {
                    request = head_of("POST", "/v1/chat/completions",
                                      "Content-Length: " + std::to_string(junk.size()) + "\r\n") +
                              junk;
                } else if (i % 3 == 1) {
                    request = head_of("POST", "/v1/completions", "Transfer-Encoding: chunked\r\n");
                    for (int c = 0; c < 10; ++c) request += "100000\r\n" + std::string(1 << 20, 'y') + "\r\n";
                } else {
                    request =
                        head_of("POST", "/v1/completions",
                                "Content-Encoding: gzip\r\nContent-Length: " + std::to_string(bomb.size()) + "\r\n") +
                        bomb;
                }
                s.send(request);
                const int status = status_of_raw(s.read_response(20000));
                EXPECT_TRUE(status == 400 || status == 413) << "client " << i << ": " << status;
            });
        }
        for (auto& t : clients) t.join();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    sampling.store(false);
    sampler.join();
    const long long after = rss_anon_bytes(proc.pid());
    std::printf("[ figures  ] RssAnon idle %.1f MiB, peak %.1f MiB, after the attacks %.1f MiB\n", idle / 1048576.0,
                peak.load() / 1048576.0, after / 1048576.0);
    EXPECT_LT(after, idle + (16ll << 20)) << "anonymous memory stayed up after rejected requests";
    EXPECT_EQ(proc.client()->Get("/health")->status, 200);
}

}  // namespace
}  // namespace duet::test
