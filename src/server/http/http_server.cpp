// http_server.cpp: HttpServer over cpp-httplib: one catch-all route, request ids, library errors reshaped, SSE.
#include "server/http/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <random>
#include <thread>

#include "common/ascii.h"
#include "common/log.h"
#include "server/http/connection_probe.h"

namespace duet::server::http {

namespace {

// 16 random hex digits per process plus a counter: unique, unguessable enough for log correlation.
std::string next_request_id() {
    static const uint64_t process_salt = std::random_device{}() * 0x9E3779B97F4A7C15ull ^ std::random_device{}();
    static std::atomic<uint64_t> counter{0};
    const uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
    return strformat("req-%016llx%08llx", static_cast<unsigned long long>(process_salt),
                     static_cast<unsigned long long>(n & 0xffffffffull));
}

class HttplibSink final : public EventSink {
public:
    explicit HttplibSink(httplib::DataSink& sink) : sink_(sink) {}
    bool write(std::string_view bytes) override {
        if (failed_) return false;
        if (!sink_.write(bytes.data(), bytes.size())) failed_ = true;
        return !failed_;
    }
    bool client_alive() const override { return !failed_ && sink_.is_writable(); }
    bool failed() const { return failed_; }

private:
    httplib::DataSink& sink_;
    bool failed_ = false;
};

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return value;
    return {};
}

bool EventSink::write_event(std::string_view payload) {
    std::string event;
    event.reserve(payload.size() + 8);
    event.append("data: ").append(payload).append("\n\n");
    return write(event);
}

struct HttpServer::Impl {
    HttpServerOptions options;
    httplib::Server server;
    Handler handler;
    std::function<std::string(int)> error_body;
    int bound_port = -1;
    int listen_fd = -1;
    std::thread thread;

    void serve(const httplib::Request& req, httplib::Response& res);
};

void HttpServer::Impl::serve(const httplib::Request& req, httplib::Response& res) {
    HttpRequest request;
    request.method = req.method == "HEAD" ? "GET" : req.method;
    request.path = req.path;
    if (const size_t q = req.target.find('?'); q != std::string::npos) request.query = req.target.substr(q + 1);
    request.body = req.body;
    request.request_id = res.get_header_value("x-request-id");
    request.headers.reserve(req.headers.size());
    for (const auto& [key, value] : req.headers) request.headers.emplace_back(key, value);
    ConnectionEnds ends{req.remote_addr, req.remote_port, req.local_addr,
                        req.local_port > 0 ? req.local_port : bound_port};
    auto probe = std::make_shared<ConnectionProbe>(std::move(ends));  // searches lazily, on the first check
    request.client_alive = [probe] { return probe->client_alive(); };

    HttpResponse response = handler ? handler(request) : HttpResponse{404, "application/json", "{}", {}, {}, {}};
    res.status = response.status;
    for (auto& [key, value] : response.headers) res.set_header(key, value);
    if (!response.stream) {
        bool encoded = false;
        for (const auto& [key, value] : response.headers) encoded = encoded || iequals(key, "Content-Encoding");
        if (!encoded) {
            res.set_content(std::move(response.body), response.content_type);
            return;
        }
        // Already encoded (precomputed gzip): a sized provider, which the library sends as is instead of
        // compressing the body a second time.
        auto body = std::make_shared<std::string>(std::move(response.body));
        res.set_content_provider(body->size(), response.content_type,
                                 [body](size_t offset, size_t length, httplib::DataSink& sink) {
                                     return sink.write(body->data() + offset, length);
                                 });
        return;
    }
    if (response.content_type == "application/json") response.content_type = "text/event-stream";
    res.set_header("Cache-Control", "no-cache");
    auto stream = std::make_shared<std::function<void(EventSink&)>>(std::move(response.stream));
    auto on_close = std::make_shared<std::function<void(bool)>>(std::move(response.on_close));
    auto ran = std::make_shared<bool>(false);
    res.set_chunked_content_provider(
        response.content_type,
        [stream, ran](size_t, httplib::DataSink& sink) {
            HttplibSink events(sink);
            *ran = true;
            (*stream)(events);
            if (events.failed()) return false;
            sink.done();
            return true;
        },
        [on_close, ran](bool success) {
            if (*on_close) (*on_close)(success && *ran);
        });
}

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    auto& s = impl_->server;
    Impl* impl = impl_.get();
    const int n_threads = std::max(1, impl_->options.n_threads);
    s.new_task_queue = [n_threads] { return new httplib::ThreadPool(static_cast<size_t>(n_threads)); };
    s.set_payload_max_length(impl_->options.max_body_bytes);
    // SO_REUSEADDR only: the library's default SO_REUSEPORT would let a second server share a port in use.
    s.set_socket_options([impl](int sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        impl->listen_fd = sock;
    });
    s.set_read_timeout(impl_->options.read_timeout_seconds, 0);
    s.set_write_timeout(impl_->options.write_timeout_seconds, 0);
    s.set_keep_alive_max_count(100);
    s.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
        res.set_header("x-request-id", next_request_id());
        return httplib::Server::HandlerResponse::Unhandled;
    });
    s.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
        if (!res.has_header("x-request-id")) res.set_header("x-request-id", next_request_id());
    });
    // Errors the library produces itself (bad request line, 413, unknown method) have an empty body.
    s.set_error_handler(httplib::Server::HandlerWithResponse([impl](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty() || res.content_length_ > 0 || res.content_provider_)
            return httplib::Server::HandlerResponse::Unhandled;
        if (!impl->error_body) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(impl->error_body(res.status), "application/json");
        return httplib::Server::HandlerResponse::Handled;
    }));
    s.set_exception_handler([impl](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        DUET_LOG_ERROR("http: unhandled exception on %s %s (request %s)", req.method.c_str(), req.path.c_str(),
                       res.get_header_value("x-request-id").c_str());
        res.status = 500;
        res.set_content(impl->error_body ? impl->error_body(500) : std::string("{}"), "application/json");
    });
    auto serve = [impl](const httplib::Request& req, httplib::Response& res) { impl->serve(req, res); };
    s.Get(".*", serve);
    s.Post(".*", serve);
    s.Put(".*", serve);
    s.Delete(".*", serve);
    s.Options(".*", serve);
    s.Patch(".*", serve);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::set_handler(Handler handler) { impl_->handler = std::move(handler); }

void HttpServer::set_error_body(std::function<std::string(int)> error_body) {
    impl_->error_body = std::move(error_body);
}

Status HttpServer::bind() {
    const auto& o = impl_->options;
    if (o.port < 0 || o.port > 65535) return Status::invalid_argument("http: port %d out of range", o.port);
    if (o.port == 0) {
        impl_->bound_port = impl_->server.bind_to_any_port(o.host);
    } else {
        impl_->bound_port = impl_->server.bind_to_port(o.host, o.port) ? o.port : -1;
    }
    if (impl_->bound_port <= 0)
        return Status::io_error("http: cannot listen on %s:%d (in use, or not a local address)", o.host.c_str(),
                                o.port);
    // The library listens with a backlog of 5: bursts of connections then get reset under load. Widen it.
    if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, 1024);
    return {};
}

int HttpServer::port() const { return impl_->bound_port; }

void HttpServer::run() { impl_->server.listen_after_bind(); }

Status HttpServer::start() {
    DUET_RETURN_IF_ERROR(bind());
    impl_->thread = std::thread([this] { run(); });
    // listen_after_bind() flips is_running() shortly after; wait so that stop() right away is not lost.
    for (int i = 0; i < 2000 && !impl_->server.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return {};
}

void HttpServer::stop() {
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

bool HttpServer::running() const { return impl_->server.is_running(); }

}  // namespace duet::server::http
