// http_server.cpp: HttpServer: the epoll loop (accept, read, deadlines, caps, plain writes, lingering close) and
// the worker side (handler, streaming through SocketSink). Connection states:
//
//        accept (caps ok)                         handler done, plain body
//   ──────────────────► READING ──request──► HANDLING ─────────────────────► WRITING ──all sent──┐
//                        ▲  │ (idle / head /   (worker owns the socket;           │ keep-alive   │
//                        │  │  body deadlines)  not in epoll; a stream writes     ▼              │
//                        │  │                   from the worker, then hands back) READING ◄──────┘
//                        │  └─ parse error / 408 ──► WRITING (Connection: close) ──► LINGERING ──► closed
//                        └──── keep-alive ◄── stream done                 (our side shut, input discarded <= 2 s)
//
// Only the I/O thread opens, registers and closes sockets; a connection in HANDLING is never closed under its
// worker (at stop() its socket is shut down so that the worker's writes fail, and closed after the join).
#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <malloc.h>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "common/ascii.h"
#include "common/log.h"
#include "server/http/request_parser.h"
#include "server/http/socket_io.h"
#include "server/http/worker_pool.h"

namespace duet::server::http {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kListenerId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kReadChunkBytes = size_t{64} << 10;  // one shared scratch buffer on the I/O thread
constexpr int kReadRoundsPerWakeup = 4;               // fairness: at most 256 KiB per connection per wakeup
constexpr auto kSweepInterval = std::chrono::milliseconds(100);
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kTrimAfterBodyBytes = size_t{1} << 20;  // give freed pages back after requests this large

// 16 random hex digits per process plus a counter: unique, unguessable enough for log correlation.
std::string next_request_id() {
    static const uint64_t process_salt = std::random_device{}() * 0x9E3779B97F4A7C15ull ^ std::random_device{}();
    static std::atomic<uint64_t> counter{0};
    const uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
    return strformat("req-%016llx%08llx", static_cast<unsigned long long>(process_salt),
                     static_cast<unsigned long long>(n & 0xffffffffull));
}

std::string peer_address(const sockaddr_storage& addr) {
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, text, sizeof(text));
    } else if (addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, text, sizeof(text));
    }
    return text;
}

enum class ConnState { reading, handling, writing, lingering };

struct Connection {
    Connection(uint64_t id_, int fd_, std::string peer_, const ParserLimits& limits)
        : id(id_), fd(fd_), peer(std::move(peer_)), parser(limits) {}
    uint64_t id;
    int fd;
    std::string peer;  // client IP address (the per-client cap's key)
    ConnState state = ConnState::reading;
    Clock::time_point deadline;
    bool idle = false;  // keep-alive wait: no byte of the next request yet
    RequestParser parser;
    std::string pending;  // bytes read past the end of the request being handled (pipelining)
    std::string out;      // a plain response being written by the I/O thread
    size_t out_pos = 0;
    bool close_after_write = false;
    int n_requests = 0;
    uint32_t events = 0;            // registered epoll events (0: not registered)
    size_t counted_body_bytes = 0;  // this connection's share of Impl::buffered_body_bytes
};

struct Completion {
    uint64_t id;
    std::string bytes;  // a plain response to write; empty after a stream
    bool keep_alive;
};

}  // namespace

struct HttpServer::Impl {
    HttpServerOptions options;
    ParserLimits limits;
    Handler handler;
    std::function<std::string(int)> error_body;
    int bound_port = -1;
    int listen_fd = -1;
    int epoll_fd = -1;
    int wake_fd = -1;
    std::thread thread;
    std::atomic<bool> stopping{false};
    std::atomic<bool> is_running{false};
    WorkerPool workers;

    // I/O thread only.
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections;
    std::unordered_map<std::string, int> per_client;
    uint64_t next_id = 2;
    size_t buffered_body_bytes = 0;
    bool accept_paused = false;
    Clock::time_point accept_resume;
    Clock::time_point next_sweep;
    std::string scratch;

    // Worker -> I/O thread.
    std::mutex completions_mutex;
    std::vector<Completion> completions;

    void loop();
    void shut_down();
    void accept_all();
    void on_event(Connection& c, uint32_t events);
    void read_input(Connection& c);
    void on_bytes(Connection& c, std::string_view data);
    void dispatch(Connection& c);
    void run_job(uint64_t id, int fd, HttpRequest request, bool head_only, bool keep_alive, int version_minor);
    void complete(Completion completion);
    void take_completions();
    void respond_error(Connection& c, int status);
    void start_write(Connection& c, std::string bytes, bool close_after);
    void flush(Connection& c);
    void back_to_reading(Connection& c);
    void linger(Connection& c);
    void close_connection(Connection& c);
    void sweep(Clock::time_point now);
    void watch(Connection& c, uint32_t events);
    void count_body(Connection& c);
    std::string error_bytes(int status, bool keep_alive, bool head_only = false);
};

std::string HttpServer::Impl::error_bytes(int status, bool keep_alive, bool head_only) {
    const std::string body = error_body ? error_body(status) : std::string("{}");
    const std::string id = next_request_id();
    std::vector<std::pair<std::string, std::string>> headers;
    if (status == 503) headers.emplace_back("Retry-After", "1");
    ResponseHead head{status, "application/json", &headers, id, BodyMode::length, body.size(), keep_alive, false};
    std::string out = serialize_head(head);
    if (!head_only) out += body;
    return out;
}

void HttpServer::Impl::watch(Connection& c, uint32_t events) {
    if (events == c.events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    if (c.events == 0) epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev);
    else if (events == 0) epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    else epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
}

void HttpServer::Impl::count_body(Connection& c) {
    const size_t now_bytes = c.state == ConnState::reading ? c.parser.body_bytes_buffered() : 0;
    buffered_body_bytes = buffered_body_bytes - c.counted_body_bytes + now_bytes;
    c.counted_body_bytes = now_bytes;
}

void HttpServer::Impl::close_connection(Connection& c) {
    c.state = ConnState::lingering;  // nothing counted any more
    count_body(c);
    watch(c, 0);
    ::close(c.fd);
    auto it = per_client.find(c.peer);
    if (it != per_client.end() && --it->second <= 0) per_client.erase(it);
    connections.erase(c.id);  // destroys c
}

void HttpServer::Impl::accept_all() {
    while (true) {
        sockaddr_storage addr{};
        socklen_t len = sizeof(addr);
        const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: stop accepting for a moment rather than spin on a readable listener.
                DUET_LOG_WARN("http: accept: %s; pausing new connections", std::strerror(errno));
                epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
                accept_paused = true;
                accept_resume = Clock::now() + std::chrono::milliseconds(250);
            }
            return;
        }
        std::string peer = peer_address(addr);
        int& from_peer = per_client[peer];
        if (static_cast<int>(connections.size()) >= options.max_connections ||
            from_peer >= options.max_connections_per_client) {
            if (from_peer == 0) per_client.erase(peer);
            // Answer 503 without reading the request; drain what already arrived so that close() sends FIN, not RST.
            const std::string refusal = error_bytes(503, false);
            (void)!::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            ::shutdown(fd, SHUT_WR);
            (void)!::recv(fd, scratch.data(), scratch.size(), MSG_DONTWAIT);
            ::close(fd);
            continue;
        }
        ++from_peer;
        const int yes = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));  // SSE events go out as they are written
        const uint64_t id = next_id++;
        auto conn = std::make_unique<Connection>(id, fd, std::move(peer), limits);
        conn->deadline = Clock::now() + std::chrono::seconds(options.header_timeout_seconds);
        Connection& c = *conn;
        connections.emplace(id, std::move(conn));
        watch(c, EPOLLIN | EPOLLRDHUP);
    }
}

void HttpServer::Impl::on_event(Connection& c, uint32_t events) {
    switch (c.state) {
        case ConnState::reading:
            read_input(c);
            return;
        case ConnState::writing:
            if (events & (EPOLLERR | EPOLLHUP)) close_connection(c);
            else flush(c);
            return;
        case ConnState::lingering: {
            for (int round = 0; round < kReadRoundsPerWakeup; ++round) {
                const ssize_t n = ::recv(c.fd, scratch.data(), scratch.size(), 0);
                if (n > 0) continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
                close_connection(c);  // the peer closed too (or reset): done
                return;
            }
            return;
        }
        case ConnState::handling:
            return;  // not registered; a stale event from this wakeup's batch
    }
}

void HttpServer::Impl::read_input(Connection& c) {
    const uint64_t id = c.id;
    for (int round = 0; round < kReadRoundsPerWakeup; ++round) {
        const ssize_t n = ::recv(c.fd, scratch.data(), scratch.size(), 0);
        if (n > 0) {
            on_bytes(c, std::string_view(scratch.data(), static_cast<size_t>(n)));
            if (!connections.count(id) || c.state != ConnState::reading) return;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        close_connection(c);  // the peer closed (mid-request or between requests) or the socket failed
        return;
    }
}

void HttpServer::Impl::on_bytes(Connection& c, std::string_view data) {
    const bool was_started = c.parser.started();
    const bool head_was_complete = c.parser.head_complete();
    const size_t used = c.parser.feed(data);
    if (!was_started && c.parser.started() && c.idle) {
        c.idle = false;  // the next request began: its head has header_timeout from now
        c.deadline = Clock::now() + std::chrono::seconds(options.header_timeout_seconds);
    }
    count_body(c);
    switch (c.parser.state()) {
        case RequestParser::State::head:
            return;
        case RequestParser::State::failed:
            DUET_LOG_DEBUG("http: %s: %d %s", c.peer.c_str(), c.parser.error_status(), c.parser.error_reason().c_str());
            respond_error(c, c.parser.error_status());
            return;
        case RequestParser::State::body:
            if (buffered_body_bytes > options.max_buffered_body_bytes) {
                respond_error(c, 503);
                return;
            }
            if (!head_was_complete) {
                c.deadline = Clock::now() + std::chrono::seconds(options.body_timeout_seconds);
                if (c.parser.head().expect_continue) {
                    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
                    (void)!::send(c.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
                }
            }
            return;
        case RequestParser::State::done:
            c.pending.assign(data.substr(used));
            dispatch(c);
            return;
    }
}

void HttpServer::Impl::respond_error(Connection& c, int status) {
    const bool head_only = c.parser.head_complete() && c.parser.head().method == "HEAD";
    c.parser.reset();
    count_body(c);
    std::string().swap(c.pending);
    start_write(c, error_bytes(status, false, head_only), /*close_after=*/true);
}

void HttpServer::Impl::dispatch(Connection& c) {
    const RequestHead& head = c.parser.head();
    HttpRequest request;
    request.method = head.method == "HEAD" ? "GET" : head.method;
    request.path = head.path;
    request.query = head.query;
    request.body = c.parser.take_body();
    request.request_id = next_request_id();
    request.headers = head.headers;
    const int fd = c.fd;
    request.client_alive = [fd] { return !peer_closed(fd); };
    const bool head_only = head.method == "HEAD";
    const bool keep_alive = head.keep_alive && ++c.n_requests < options.max_requests_per_connection && !stopping.load();
    const int version_minor = head.version_minor;
    c.parser.reset();
    c.state = ConnState::handling;
    count_body(c);
    watch(c, 0);  // the worker owns the socket until it hands the connection back
    const uint64_t id = c.id;
    auto job = std::make_shared<HttpRequest>(std::move(request));
    workers.push([this, id, fd, job, head_only, keep_alive, version_minor] {
        run_job(id, fd, std::move(*job), head_only, keep_alive, version_minor);
    });
}

void HttpServer::Impl::run_job(uint64_t id, int fd, HttpRequest request, bool head_only, bool keep_alive,
                               int version_minor) {
    HttpResponse response;
    try {
        response = handler ? handler(request) : HttpResponse{404, "application/json", "{}", {}, {}, {}};
    } catch (const std::exception& e) {
        DUET_LOG_ERROR("http: unhandled exception on %s %s (request %s): %s", request.method.c_str(),
                       request.path.c_str(), request.request_id.c_str(), e.what());
        response = HttpResponse{500, "application/json", error_body ? error_body(500) : "{}", {}, {}, {}};
    }
    const bool large_body = request.body.size() >= kTrimAfterBodyBytes;
    std::string().swap(request.body);
    if (!response.stream) {
        ResponseHead head{response.status,  response.content_type, &response.headers, request.request_id,
                          BodyMode::length, response.body.size(),  keep_alive,        false};
        std::string bytes = serialize_head(head);
        if (!head_only) bytes += response.body;
        std::string().swap(response.body);
        if (large_body) malloc_trim(0);
        complete({id, std::move(bytes), keep_alive});
        return;
    }
    if (response.content_type == "application/json") response.content_type = "text/event-stream";
    const bool chunked = version_minor >= 1;
    ResponseHead head{response.status,
                      response.content_type,
                      &response.headers,
                      request.request_id,
                      chunked ? BodyMode::chunked : BodyMode::until_close,
                      0,
                      keep_alive,
                      true};
    SocketSink sink(fd, chunked, options.write_timeout_seconds);
    bool completed = sink.write_raw(serialize_head(head));
    if (completed) {
        response.stream(sink);
        completed = !sink.failed() && sink.finish();
    }
    if (response.on_close) response.on_close(completed);
    if (large_body) malloc_trim(0);
    complete({id, std::string(), keep_alive && completed && chunked});
}

void HttpServer::Impl::complete(Completion completion) {
    {
        std::lock_guard<std::mutex> lock(completions_mutex);
        completions.push_back(std::move(completion));
    }
    const uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof(one));
}

void HttpServer::Impl::take_completions() {
    uint64_t count;
    (void)!::read(wake_fd, &count, sizeof(count));
    std::vector<Completion> done;
    {
        std::lock_guard<std::mutex> lock(completions_mutex);
        done.swap(completions);
    }
    for (auto& d : done) {
        auto it = connections.find(d.id);
        if (it == connections.end()) continue;
        Connection& c = *it->second;
        c.state = ConnState::reading;  // leaves HANDLING
        if (!d.bytes.empty()) start_write(c, std::move(d.bytes), !d.keep_alive);
        else if (d.keep_alive) back_to_reading(c);
        else linger(c);
    }
}

void HttpServer::Impl::start_write(Connection& c, std::string bytes, bool close_after) {
    c.state = ConnState::writing;
    c.out = std::move(bytes);
    c.out_pos = 0;
    c.close_after_write = close_after;
    c.deadline = Clock::now() + std::chrono::seconds(options.write_timeout_seconds);
    flush(c);
}

void HttpServer::Impl::flush(Connection& c) {
    while (c.out_pos < c.out.size()) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
        if (n > 0) {
            c.out_pos += static_cast<size_t>(n);
            c.deadline = Clock::now() + std::chrono::seconds(options.write_timeout_seconds);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(c, EPOLLOUT);
            return;
        }
        close_connection(c);
        return;
    }
    std::string().swap(c.out);
    c.out_pos = 0;
    if (c.close_after_write) linger(c);
    else back_to_reading(c);
}

void HttpServer::Impl::back_to_reading(Connection& c) {
    c.state = ConnState::reading;
    c.idle = true;
    c.deadline = Clock::now() + std::chrono::seconds(options.idle_timeout_seconds);
    watch(c, EPOLLIN | EPOLLRDHUP);
    if (c.pending.empty()) return;
    std::string pipelined;
    pipelined.swap(c.pending);
    on_bytes(c, pipelined);
}

void HttpServer::Impl::linger(Connection& c) {
    // Our side is done; the client may still be sending (a body we refused): read and drop it for a moment so
    // that it sees our answer and a FIN rather than a reset.
    ::shutdown(c.fd, SHUT_WR);
    c.state = ConnState::lingering;
    c.deadline = Clock::now() + kLingerTime;
    std::string().swap(c.pending);
    watch(c, EPOLLIN | EPOLLRDHUP);
}

void HttpServer::Impl::sweep(Clock::time_point now) {
    std::vector<uint64_t> expired;
    for (const auto& [id, conn] : connections)
        if (conn->state != ConnState::handling && now >= conn->deadline) expired.push_back(id);
    for (uint64_t id : expired) {
        Connection& c = *connections.at(id);
        if (c.state == ConnState::reading && c.parser.started()) {
            // A head or body that did not arrive in time (slowloris): 408, best effort, then close.
            const std::string answer = error_bytes(408, false);
            (void)!::send(c.fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        close_connection(c);  // idle keep-alive, a stalled write, or the end of lingering
    }
    if (accept_paused && now >= accept_resume) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kListenerId;
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
        accept_paused = false;
    }
}

void HttpServer::Impl::loop() {
    scratch.resize(kReadChunkBytes);
    epoll_event events[256];
    next_sweep = Clock::now() + kSweepInterval;
    while (!stopping.load()) {
        const int n = epoll_wait(epoll_fd, events, 256, static_cast<int>(kSweepInterval.count()));
        for (int i = 0; i < n; ++i) {
            const uint64_t id = events[i].data.u64;
            if (id == kListenerId) accept_all();
            else if (id == kWakeId) take_completions();
            else if (auto it = connections.find(id); it != connections.end()) on_event(*it->second, events[i].events);
        }
        const auto now = Clock::now();
        if (now >= next_sweep) {
            sweep(now);
            next_sweep = now + kSweepInterval;
        }
    }
    shut_down();
}

void HttpServer::Impl::shut_down() {
    if (listen_fd >= 0) ::close(listen_fd);
    listen_fd = -1;
    for (auto& [id, conn] : connections)
        if (conn->state == ConnState::handling) ::shutdown(conn->fd, SHUT_RDWR);  // the worker's writes fail now
    workers.stop();  // running handlers finish; queued ones are dropped
    for (auto& [id, conn] : connections) ::close(conn->fd);
    connections.clear();
    per_client.clear();
    completions.clear();
    buffered_body_bytes = 0;
}

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    const HttpServerOptions& o = impl_->options;
    impl_->limits.max_body_bytes = o.max_body_bytes;
    impl_->limits.max_header_bytes = o.max_header_bytes;
    impl_->limits.max_header_count = static_cast<size_t>(std::max(1, o.max_header_count));
    impl_->limits.max_request_line_bytes = std::min(impl_->limits.max_request_line_bytes, o.max_header_bytes);
    impl_->limits.max_inflate_ratio = o.max_inflate_ratio;
}

HttpServer::~HttpServer() {
    stop();
    // Closed only here: stop() may write to wake_fd from another thread while the loop shuts down.
    if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
    if (impl_->epoll_fd >= 0) ::close(impl_->epoll_fd);
    if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

void HttpServer::set_handler(Handler handler) { impl_->handler = std::move(handler); }

void HttpServer::set_error_body(std::function<std::string(int)> error_body) {
    impl_->error_body = std::move(error_body);
}

Status HttpServer::bind() {
    const auto& o = impl_->options;
    if (o.port < 0 || o.port > 65535) return Status::invalid_argument("http: port %d out of range", o.port);
    DUET_TRY(const ListenSocket listener, listen_socket(o.host, o.port));
    const int fd = listener.fd;
    impl_->bound_port = listener.port;
    impl_->listen_fd = fd;
    impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (impl_->epoll_fd < 0 || impl_->wake_fd < 0) return Status::io_error("http: epoll/eventfd: %s", strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerId;
    epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    ev.data.u64 = kWakeId;
    epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->wake_fd, &ev);
    return {};
}

int HttpServer::port() const { return impl_->bound_port; }

void HttpServer::run() {
    if (impl_->epoll_fd < 0) return;
    impl_->is_running.store(true);
    impl_->workers.start(std::max(1, impl_->options.n_threads));
    impl_->loop();
    impl_->is_running.store(false);
}

Status HttpServer::start() {
    DUET_RETURN_IF_ERROR(bind());
    impl_->is_running.store(true);
    impl_->thread = std::thread([this] { run(); });
    return {};
}

void HttpServer::stop() {
    impl_->stopping.store(true);
    if (impl_->wake_fd >= 0) {
        const uint64_t one = 1;
        (void)!::write(impl_->wake_fd, &one, sizeof(one));
    }
    if (impl_->thread.joinable()) impl_->thread.join();
}

bool HttpServer::running() const { return impl_->is_running.load(); }

}  // namespace duet::server::http
