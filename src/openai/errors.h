// errors.h: OpenAI-shaped API errors: {"error": {"message", "type", "param", "code"}} plus HTTP status.
#pragma once

#include <optional>
#include <string>

namespace duet::openai {

struct ApiError {
    int status = 400;
    std::string type = "invalid_request_error";
    std::string message;
    std::optional<std::string> param;
    std::optional<std::string> code;
    int retry_after_seconds = 0;  // > 0: send Retry-After

    static ApiError invalid(std::string message, std::optional<std::string> param = std::nullopt);
    static ApiError context_length(std::string message);
    static ApiError unauthorized();
    static ApiError model_not_found(const std::string& param = "model");
    static ApiError route_not_found();
    static ApiError overloaded(std::string message);   // 503 server_is_overloaded + Retry-After
    static ApiError unavailable(std::string message);  // 503 (loading, shutting down) + Retry-After
    static ApiError internal();                        // 500, generic message (details go to the log)
    // The error a library-level failure maps to (413 body too large, 400 malformed request, ...).
    static ApiError from_status(int status);
};

// {"error": {...}} as a JSON string. The message is capped at 8 KiB and never contains raw input.
std::string error_json(const ApiError& error);

}  // namespace duet::openai
