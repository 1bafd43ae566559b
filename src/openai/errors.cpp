// errors.cpp: building and serializing OpenAI-shaped errors.
#include "openai/errors.h"

#include <nlohmann/json.hpp>

namespace duet::openai {

namespace {
constexpr size_t kMaxMessageBytes = 8 * 1024;
}

ApiError ApiError::invalid(std::string message, std::optional<std::string> param) {
    ApiError e;
    e.message = std::move(message);
    e.param = std::move(param);
    return e;
}

ApiError ApiError::context_length(std::string message) {
    ApiError e;
    e.message = std::move(message);
    e.param = "messages";
    e.code = "context_length_exceeded";
    return e;
}

ApiError ApiError::unauthorized() {
    ApiError e;
    e.status = 401;
    e.type = "authentication_error";
    e.message = "invalid or missing API key (send 'Authorization: Bearer <key>')";
    return e;
}

ApiError ApiError::model_not_found(const std::string& param) {
    ApiError e;
    e.status = 404;
    e.type = "not_found_error";
    e.message = "the model does not exist or is not served here (GET /v1/models lists them)";
    e.param = param;
    e.code = "model_not_found";
    return e;
}

ApiError ApiError::route_not_found() {
    ApiError e;
    e.status = 404;
    e.type = "not_found_error";
    e.message = "no such route";
    return e;
}

ApiError ApiError::overloaded(std::string message) {
    ApiError e;
    e.status = 503;
    e.type = "unavailable_error";
    e.message = std::move(message);
    e.code = "server_is_overloaded";
    e.retry_after_seconds = 1;
    return e;
}

ApiError ApiError::unavailable(std::string message) {
    ApiError e;
    e.status = 503;
    e.type = "unavailable_error";
    e.message = std::move(message);
    e.retry_after_seconds = 1;
    return e;
}

ApiError ApiError::internal() {
    ApiError e;
    e.status = 500;
    e.type = "server_error";
    e.message = "internal server error (see the server log for this request id)";
    return e;
}

ApiError ApiError::from_status(int status) {
    ApiError e;
    e.status = status;
    switch (status) {
        case 413:
            e.message = "request body too large";
            break;
        case 414:
            e.message = "request URI too long";
            break;
        case 431:
            e.message = "request headers too large";
            break;
        case 404:
            return route_not_found();
        case 405:
            e.message = "method not allowed";
            break;
        case 408:
            e.message = "request timeout";
            break;
        case 500:
            return internal();
        case 503:
            return unavailable("service unavailable");
        default:
            if (status >= 500) {
                e.type = "server_error";
                e.message = "server error";
            } else {
                e.message = "malformed HTTP request";
            }
    }
    return e;
}

std::string error_json(const ApiError& error) {
    std::string message = error.message;
    if (message.size() > kMaxMessageBytes) message.resize(kMaxMessageBytes);
    nlohmann::json body = {{"error",
                            {{"message", message},
                             {"type", error.type},
                             {"param", error.param ? nlohmann::json(*error.param) : nlohmann::json(nullptr)},
                             {"code", error.code ? nlohmann::json(*error.code) : nlohmann::json(nullptr)}}}};
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace duet::openai
