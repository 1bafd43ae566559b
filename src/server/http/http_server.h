// http_server.h: the front door: a small HTTP/1.1 server facade over our own epoll loop, one dispatcher, SSE streaming,
// and limits that hold against hostile and slow clients.
//
//   I/O thread (epoll, non-blocking sockets): accept (caps per client address and overall) -> read the head and body
//     through RequestParser (request_parser.h: 400/413/414/415/431/501/505 decided while reading) under deadlines
//     (header, body, keep-alive idle) -> hand the request to a worker -> write plain responses (write deadline)
//     -> keep-alive (max requests per connection) or close (lingering: our side shut, late input discarded ~2 s)
//   workers (a fixed pool): handler(request) -> a body (handed back to the I/O thread to write), or a `stream`
//     callback that writes SSE events itself through EventSink, blocking on its own socket with a write timeout
//
// Why our own loop rather than a library: thread-per-connection (cpp-httplib) lets ~70 slow clients park every
// worker; Boost.Beast would fix that, but every limit here (431 vs 413 vs 501, Content-Length forms, inflated
// size and ratio, per-address caps) would still be ours, wrapped around its parser, and a few hundred lines of
// epoll keep each connection's memory visible (head <= 16 KiB, body only as received) and build in seconds.
// Every response gets an x-request-id; errors the transport answers itself go through `error_body` so that they
// have the same shape as the handler's.
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
    std::string body;   // decoded: de-chunked and inflated
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> headers;
    // False once the client closed its connection (a peek at the request's socket, which the worker owns while
    // the handler runs). For handlers that wait without writing; call it from the handler's thread only.
    // Empty function: assume alive.
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
    int port = 8080;                          // 0 = any free port (see HttpServer::port())
    size_t max_body_bytes = size_t{8} << 20;  // decoded body (chunked, inflated) over it -> 413
    int n_threads = 64;                       // worker threads (each streaming request holds one)
    // Connections: over either cap a new connection gets 503 and is closed.
    int max_connections = 4096;
    int max_connections_per_client = 256;   // per client IP address
    int max_requests_per_connection = 100;  // then "Connection: close"
    // Deadlines (seconds): the whole head from its first byte (or from accept), the whole body after the head,
    // a keep-alive connection between requests, and each write that makes no progress.
    int header_timeout_seconds = 10;
    int body_timeout_seconds = 60;
    int idle_timeout_seconds = 30;
    int write_timeout_seconds = 30;
    size_t max_header_bytes = size_t{16} << 10;        // request line + headers -> 431 (request line > 8 KiB -> 414)
    int max_header_count = 100;                        // -> 431
    double max_inflate_ratio = 100;                    // gzip/deflate bodies: inflated / compressed past 1 MiB -> 413
    size_t max_buffered_body_bytes = size_t{1} << 30;  // bodies being read, all connections together -> 503
};

class HttpServer {
public:
    explicit HttpServer(HttpServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // The one dispatcher: called for every request whatever its method and path (it owns routing and auth).
    void set_handler(Handler handler);
    // Builds the body for errors the transport answers itself (status, e.g. 400 / 408 / 413 / 431 / 503) -> JSON.
    void set_error_body(std::function<std::string(int status)> error_body);

    Status bind();     // binds host:port (port 0 picks one); fails on a port in use
    int port() const;  // the bound port
    void run();        // serves until stop(); blocking
    Status start();    // bind() + run() on a background thread
    void stop();       // stops accepting and joins the background thread (idempotent)
    bool running() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace duet::server::http
