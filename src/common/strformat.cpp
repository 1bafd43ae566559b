// strformat.cpp: printf-style formatting into std::string.
#include "common/strformat.h"

#include <cstdio>

namespace duet {

std::string vstrformat(const char* fmt, va_list args) {
    va_list copy;
    va_copy(copy, args);
    int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    if (n <= 0) return {};
    std::string out(static_cast<size_t>(n), '\0');
    std::vsnprintf(out.data(), out.size() + 1, fmt, args);
    return out;
}

std::string strformat(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::string out = vstrformat(fmt, args);
    va_end(args);
    return out;
}

std::string format_bytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        ++u;
    }
    return u == 0 ? strformat("%.0f %s", bytes, units[u]) : strformat("%.2f %s", bytes, units[u]);
}

}  // namespace duet
