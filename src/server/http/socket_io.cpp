// socket_io.cpp: response heads, worker-side blocking writes with poll(), peer-closed peeks.
#include "server/http/socket_io.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/ascii.h"
#include "common/strformat.h"

namespace duet::server::http {

namespace {

bool is_header_name(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (static_cast<unsigned char>(c) <= 0x20 || c == ':' || c == 0x7f) return false;
    return true;
}

bool is_header_value(std::string_view s) {
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

bool is_framing_header(std::string_view name) {
    return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection");
}

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

Result<ListenSocket> listen_socket(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port_text = std::to_string(port);
    if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &found) != 0 || !found)
        return Status::io_error("http: cannot resolve listen address '%s'", host.c_str());
    int fd = -1;
    for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        const int yes = 1;
        // SO_REUSEADDR only: SO_REUSEPORT would let a second server share a port in use.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0)
        return Status::io_error("http: cannot listen on %s:%d (in use, or not a local address)", host.c_str(), port);
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ListenSocket out;
    out.fd = fd;
    out.port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(addr).sin6_port
                                                : reinterpret_cast<sockaddr_in&>(addr).sin_port);
    return out;
}

const char* reason_phrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 417:
            return "Expectation Failed";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 499:
            return "Client Closed Request";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

std::string serialize_head(const ResponseHead& head) {
    std::string out = strformat("HTTP/1.1 %d %s\r\n", head.status, reason_phrase(head.status));
    bool has_request_id = false;
    if (head.headers) {
        for (const auto& [name, value] : *head.headers) {
            if (!is_header_name(name) || !is_header_value(value) || is_framing_header(name)) continue;
            if (iequals(name, "x-request-id")) has_request_id = true;
            out.append(name).append(": ").append(value).append("\r\n");
        }
    }
    if (!has_request_id && !head.request_id.empty())
        out.append("x-request-id: ").append(head.request_id).append("\r\n");
    if (!head.content_type.empty()) out.append("Content-Type: ").append(head.content_type).append("\r\n");
    if (head.no_cache) out.append("Cache-Control: no-cache\r\n");
    if (head.mode == BodyMode::length) out.append(strformat("Content-Length: %zu\r\n", head.content_length));
    if (head.mode == BodyMode::chunked) out.append("Transfer-Encoding: chunked\r\n");
    out.append(head.keep_alive && head.mode != BodyMode::until_close ? "Connection: keep-alive\r\n"
                                                                     : "Connection: close\r\n");
    out.append("\r\n");
    return out;
}

bool send_all(int fd, std::string_view bytes, int timeout_seconds) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            bytes.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            const int ready = ::poll(&p, 1, timeout_seconds * 1000);
            if (ready == 0) return false;  // no progress within the timeout: a client that does not read
            if (ready < 0 && errno != EINTR) return false;
            continue;
        }
        return false;
    }
    return true;
}

bool peer_closed(int fd) {
    char byte;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return false;
    if (n == 0) return true;
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

bool SocketSink::write(std::string_view bytes) {
    if (failed_) return false;
    if (bytes.empty()) return true;
    if (!chunked_) return write_raw(bytes);
    std::string frame = strformat("%zx\r\n", bytes.size());
    frame.reserve(frame.size() + bytes.size() + 2);
    frame.append(bytes).append("\r\n");
    return write_raw(frame);
}

bool SocketSink::write_raw(std::string_view bytes) {
    if (failed_) return false;
    if (!send_all(fd_, bytes, timeout_)) failed_ = true;
    return !failed_;
}

bool SocketSink::finish() { return !chunked_ || write_raw("0\r\n\r\n"); }

}  // namespace duet::server::http
