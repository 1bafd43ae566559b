// log.h: minimal leveled logging to stderr. Level from DUET_LOG (error, warn, info, debug); default info.
#pragma once

#include "common/strformat.h"

namespace duet {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

LogLevel log_level();
void set_log_level(LogLevel level);
void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace duet

#define DUET_LOG_ERROR(...) ::duet::log_message(::duet::LogLevel::error, __VA_ARGS__)
#define DUET_LOG_WARN(...) ::duet::log_message(::duet::LogLevel::warn, __VA_ARGS__)
#define DUET_LOG_INFO(...) ::duet::log_message(::duet::LogLevel::info, __VA_ARGS__)
#define DUET_LOG_DEBUG(...) ::duet::log_message(::duet::LogLevel::debug, __VA_ARGS__)
