// status.h: error values for untrusted input. Status carries a message; Result<T> is a value or a Status.
//
// Two error channels (style.md, habit 8): input we do not control (files, requests) returns a Status that
// names the function and the bad value; our own invariants use DUET_ASSERT, which aborts with file:line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

#include "common/strformat.h"

namespace duet {

enum class StatusCode {
    ok,
    invalid_argument,
    invalid_data,
    not_found,
    io_error,
    out_of_range,
    unsupported,
    unavailable,
    already_exists
};

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok_status() { return {}; }
    template <typename... Args>
    static Status invalid_argument(const char* fmt, Args... args) {
        return {StatusCode::invalid_argument, strformat(fmt, args...)};
    }
    template <typename... Args>
    static Status invalid_data(const char* fmt, Args... args) {
        return {StatusCode::invalid_data, strformat(fmt, args...)};
    }
    template <typename... Args>
    static Status not_found(const char* fmt, Args... args) {
        return {StatusCode::not_found, strformat(fmt, args...)};
    }
    template <typename... Args>
    static Status io_error(const char* fmt, Args... args) {
        return {StatusCode::io_error, strformat(fmt, args...)};
    }
    template <typename... Args>
    static Status out_of_range(const char* fmt, Args... args) {
        return {StatusCode::out_of_range, strformat(fmt, args...)};
    }
    template <typename... Args>
    static Status unsupported(const char* fmt, Args... args) {
        return {StatusCode::unsupported, strformat(fmt, args...)};
    }

    // A unique thing already exists (a second vote on one battle, a second answer to one study question).
    template <typename... Args>
    static Status already_exists(const char* fmt, Args... args) {
        return {StatusCode::already_exists, strformat(fmt, args...)};
    }

    // Temporarily unable to serve (e.g. an engine's waiting queue is full); retrying later may succeed.
    template <typename... Args>
    static Status unavailable(const char* fmt, Args... args) {
        return {StatusCode::unavailable, strformat(fmt, args...)};
    }

    bool ok() const { return code_ == StatusCode::ok; }
    StatusCode code() const { return code_; }
    const std::string& message() const { return message_; }

    // Prefix context, e.g. "loading model 'x.gguf': " + message.
    Status with_context(const std::string& prefix) const {
        if (ok()) return *this;
        return {code_, prefix + message_};
    }

private:
    StatusCode code_ = StatusCode::ok;
    std::string message_;
};

// A value or an error. Access to value() on an error is a programmer error (aborts).
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Status status) : v_(std::move(status)) {
        if (std::get<Status>(v_).ok()) {
            std::fprintf(stderr, "Result constructed from an ok Status\n");
            std::abort();
        }
    }

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        check();
        return std::get<0>(v_);
    }
    const T& value() const& {
        check();
        return std::get<0>(v_);
    }
    T&& value() && {
        check();
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    Status status() const { return ok() ? Status() : std::get<1>(v_); }

private:
    void check() const {
        if (!ok()) {
            std::fprintf(stderr, "Result::value() on error: %s\n", std::get<1>(v_).message().c_str());
            std::abort();
        }
    }
    std::variant<T, Status> v_;
};

}  // namespace duet

// Return the Status from the enclosing function when `expr` (a Status) failed.
#define DUET_RETURN_IF_ERROR(expr)                   \
    do {                                             \
        ::duet::Status duet_status_ = (expr);        \
        if (!duet_status_.ok()) return duet_status_; \
    } while (0)

#define DUET_CONCAT_INNER(a, b) a##b
#define DUET_CONCAT(a, b) DUET_CONCAT_INNER(a, b)

// DUET_TRY(auto x, make_x()); binds the value or returns the error from the enclosing function.
#define DUET_TRY(lhs, expr) DUET_TRY_IMPL(DUET_CONCAT(duet_result_, __LINE__), lhs, expr)
#define DUET_TRY_IMPL(tmp, lhs, expr)   \
    auto tmp = (expr);                  \
    if (!tmp.ok()) return tmp.status(); \
    lhs = std::move(tmp).value()
