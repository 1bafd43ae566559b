// socket_io.cpp: response heads, worker-side blocking writes with poll(), peer-closed peeks.
#include "server/http/socket_io.h"

#include <poll.h>
#include <sys/socket.h>

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

const char* reason_phrase(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 499: return "Client Closed Request";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
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
    if (!has_request_id && !head.request_id.empty()) out.append("x-request-id: ").append(head.request_id).append("\r\n");
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
