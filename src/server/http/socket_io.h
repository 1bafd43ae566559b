// socket_io.h: the byte-level pieces of the front door that are not the event loop: response heads, blocking writes
// with a deadline on a non-blocking socket (a worker's streaming response), and "has the peer closed?".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/http/http_server.h"

namespace duet::server::http {

// A non-blocking listening socket on host:port (port 0: any free one), SO_REUSEADDR, backlog 1024.
struct ListenSocket {
    int fd = -1;
    int port = -1;  // the bound port
};
Result<ListenSocket> listen_socket(const std::string& host, int port);

enum class BodyMode { length, chunked, until_close };

struct ResponseHead {
    int status = 200;
    std::string_view content_type;                                              // empty: no Content-Type
    const std::vector<std::pair<std::string, std::string>>* headers = nullptr;  // the handler's extra headers
    std::string_view request_id;  // x-request-id, unless the handler's headers carry one
    BodyMode mode = BodyMode::length;
    size_t content_length = 0;  // BodyMode::length
    bool keep_alive = true;
    bool no_cache = false;
};

// "HTTP/1.1 <status> <reason>\r\n...\r\n\r\n". Handler headers with CR/LF or a malformed name are dropped, and
// the framing headers (Content-Length, Transfer-Encoding, Connection) are always ours.
std::string serialize_head(const ResponseHead& head);
const char* reason_phrase(int status);

// Sends all of `bytes` on a non-blocking socket, waiting up to `timeout_seconds` each time it makes no progress.
// False when the peer is gone or stalls past the timeout.
bool send_all(int fd, std::string_view bytes, int timeout_seconds);

// True once the peer closed or reset the connection (recv MSG_PEEK: 0 bytes or a hard error). Unread data or
// nothing to read: alive.
bool peer_closed(int fd);

// A streaming response written by its worker: chunked framing for HTTP/1.1, raw bytes until close for HTTP/1.0.
class SocketSink final : public EventSink {
public:
    SocketSink(int fd, bool chunked, int timeout_seconds) : fd_(fd), chunked_(chunked), timeout_(timeout_seconds) {}
    bool write(std::string_view bytes) override;
    bool client_alive() const override { return !failed_ && !peer_closed(fd_); }
    bool write_raw(std::string_view bytes);  // unframed (the head, the last chunk)
    bool finish();                           // the last chunk ("0\r\n\r\n") when chunked
    bool failed() const { return failed_; }

private:
    int fd_;
    bool chunked_;
    int timeout_;
    bool failed_ = false;
};

}  // namespace duet::server::http
