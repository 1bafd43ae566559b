// strformat.h: printf-style formatting into std::string.
#pragma once

#include <cstdarg>
#include <string>

namespace duet {

std::string strformat(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string vstrformat(const char* fmt, va_list args);

// Human-readable byte count: "1.23 GiB".
std::string format_bytes(double bytes);

}  // namespace duet
