// http_server.h: a small HTTP/1.1 server facade (pimpl over cpp-httplib): one route table, SSE streaming, limits.
//
//   accept -> worker thread: read head + body (413 over max_body_bytes) -> dispatch(method, path) -> handler
//   handler returns HttpResponse: either a body, or a `stream` callback that writes SSE events until it returns.
//   Every response gets an x-request-id; errors raised by the library itself (bad request line, 413) are passed
//   through `error_body` so that they have the same shape as ours.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace duet::server::http {

struct HttpRequest {
    std::string method;
    std::string path;   // percent-decoded, without the query
    std::string query;  // the raw query string, without '?' (parsed by the route layer: route_table.h)
    std::string body;
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> headers;
    // False once the client closed its connection (checked on the socket; see connection_probe.h). For handlers
    // that wait without writing; call it from the handler's thread only. Empty function: assume alive.
    std::function<bool()> client_alive;
    // First value of a header (case-insensitive name), or "".
    std::string header(std::string_view name) const;
};

// Where a streaming handler writes; write() returns false once the client is gone (then stop and clean up).
class EventSink {
public:
    virtual ~EventSink() = default;
    virtual bool write(std::string_view bytes) = 0;
    // "data: <payload>\n\n"
    bool write_event(std::string_view payload);
    virtual bool client_alive() const = 0;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // When set, the response is streamed (chunked, text/event-stream unless content_type says otherwise):
    // stream(sink) runs on the worker thread and writes everything; on_close(completed) runs afterwards.
    std::function<void(EventSink&)> stream;
    std::function<void(bool completed)> on_close;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                            // 0 = any free port (see HttpServer::port())
    size_t max_body_bytes = size_t{8} << 20;    // over it -> 413
    int n_threads = 64;                         // worker threads (each streaming request holds one)
    int read_timeout_seconds = 30;
    int write_timeout_seconds = 30;
};

class HttpServer {
public:
    explicit HttpServer(HttpServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // The one dispatcher: called for every request whatever its method and path (it owns routing and auth).
    void set_handler(Handler handler);
    // Builds the body for errors the library answers itself (status, e.g. 400 / 413 / 414) -> JSON body.
    void set_error_body(std::function<std::string(int status)> error_body);

    Status bind();           // binds host:port (port 0 picks one); fails on a port in use
    int port() const;        // the bound port
    void run();              // serves until stop(); blocking
    Status start();          // bind() + run() on a background thread
    void stop();             // stops accepting and joins the background thread (idempotent)
    bool running() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace duet::server::http
