// connection_probe.cpp: finds a request's accepted socket through /proc/self/fd and peeks at it.
#include "server/http/connection_probe.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

#include "common/log.h"

namespace duet::server::http {

namespace {

// Numeric host and port of a socket address, the way the HTTP library prints them (getnameinfo, NUMERICHOST).
bool host_and_port(const sockaddr_storage& addr, socklen_t len, std::string* host, int* port) {
    if (addr.ss_family == AF_INET) {
        *port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        *port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    } else {
        return false;
    }
    char buf[NI_MAXHOST];
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, buf, sizeof(buf), nullptr, 0, NI_NUMERICHOST) != 0)
        return false;
    *host = buf;
    return true;
}

}  // namespace

bool ConnectionProbe::fd_matches(int fd) const {
    int type = 0;
    socklen_t type_len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM) return false;
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return false;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return false;  // listening socket
    std::string local_host, peer_host;
    int local_port = -1, peer_port = -1;
    if (!host_and_port(local, local_len, &local_host, &local_port) || local_port != ends_.local_port) return false;
    if (!ends_.local_addr.empty() && local_host != ends_.local_addr) return false;
    return host_and_port(peer, peer_len, &peer_host, &peer_port) && peer_port == ends_.remote_port &&
           peer_host == ends_.remote_addr;
}

int ConnectionProbe::find_fd() const {
    if (ends_.remote_port <= 0 || ends_.local_port <= 0) return -1;
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    const int dir_fd = dirfd(dir);
    int found = -1;
    while (const dirent* entry = readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || fd < 0 || fd == dir_fd) continue;
        if (fd_matches(static_cast<int>(fd))) {
            found = static_cast<int>(fd);
            break;
        }
    }
    closedir(dir);
    return found;
}

bool ConnectionProbe::client_alive() {
    if (!searched_) {
        searched_ = true;
        fd_ = find_fd();
        if (fd_ < 0) {
            DUET_LOG_DEBUG("http: no socket found for the connection from %s:%d; cannot tell when it closes",
                           ends_.remote_addr.c_str(), ends_.remote_port);
        }
    }
    if (fd_ < 0) return true;
    if (!fd_matches(fd_)) return false;  // the connection was closed and its fd reused
    char byte;
    const ssize_t n = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return true;   // the client sent more (a pipelined request): still there
    if (n == 0) return false;  // orderly close
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

}  // namespace duet::server::http
