// connection_probe.h: "is the client of this HTTP request still connected?" for handlers that do not write while
// they wait (non-streaming completions), over an HTTP library that does not hand them its socket.
//
//   first check: scan /proc/self/fd for the stream socket whose local port is the server's and whose peer is the
//                request's remote address and port (the accepted connection); cache its fd
//   every check: the fd still has that peer (fd reuse), then recv(MSG_PEEK | MSG_DONTWAIT):
//                0 bytes -> the peer closed; an error other than EAGAIN/EINTR -> gone; data or EAGAIN -> alive
//
// A connection that cannot be found is reported alive: a live request is never aborted by mistake.
#pragma once

#include <string>
#include <utility>

namespace duet::server::http {

// The two ends of one accepted TCP connection, as the HTTP library reports them (numeric host strings).
struct ConnectionEnds {
    std::string remote_addr;
    int remote_port = -1;
    std::string local_addr;  // empty: any
    int local_port = -1;
};

class ConnectionProbe {
public:
    explicit ConnectionProbe(ConnectionEnds ends) : ends_(std::move(ends)) {}

    // False once the client has closed (or reset) the connection. Not thread-safe: one request's thread calls it.
    bool client_alive();

private:
    int find_fd() const;           // -1 when no open socket matches
    bool fd_matches(int fd) const;

    ConnectionEnds ends_;
    int fd_ = -1;
    bool searched_ = false;
};

}  // namespace duet::server::http
