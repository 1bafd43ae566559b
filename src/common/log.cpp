// log.cpp: leveled logging to stderr.
#include "common/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace duet {

namespace {

LogLevel level_from_env() {
    const char* v = std::getenv("DUET_LOG");
    if (v == nullptr) return LogLevel::info;
    if (std::strcmp(v, "error") == 0) return LogLevel::error;
    if (std::strcmp(v, "warn") == 0) return LogLevel::warn;
    if (std::strcmp(v, "debug") == 0) return LogLevel::debug;
    return LogLevel::info;
}

std::atomic<int> g_level{static_cast<int>(level_from_env())};

}  // namespace

LogLevel log_level() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }
void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

void log_message(LogLevel level, const char* fmt, ...) {
    if (static_cast<int>(level) > g_level.load(std::memory_order_relaxed)) return;
    static const char* kNames[] = {"error", "warn", "info", "debug"};
    va_list args;
    va_start(args, fmt);
    std::string msg = vstrformat(fmt, args);
    va_end(args);
    std::fprintf(stderr, "[%s] %s\n", kNames[static_cast<int>(level)], msg.c_str());
}

}  // namespace duet
