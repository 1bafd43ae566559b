// routes_upstream.cpp: forward_if_remote: the registry entry's pool, upstream::forward, the answer as HttpResponse.
#include "server/routes_upstream.h"

#include <nlohmann/json.hpp>

#include "server/request_flow.h"
#include "upstream/proxy.h"

namespace duet::server {

std::optional<http::HttpResponse> forward_if_remote(Server::State& state, const http::HttpRequest& request,
                                                    const char* endpoint) {
    if (!state.registry->has_remote()) return std::nullopt;
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object()) return std::nullopt;
    const std::string name =
        body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : std::string();
    auto entry = state.registry->find(name);
    if (!entry.ok() || !(*entry)->is_remote()) return std::nullopt;
    auto pool = std::dynamic_pointer_cast<upstream::Pool>((*entry)->remote());
    if (!pool) return std::nullopt;

    upstream::ProxyResponse answer =
        upstream::forward(pool, {.endpoint = endpoint, .body = std::move(body), .client_alive = request.client_alive});
    if (answer.status == 499) return client_gone_response();
    http::HttpResponse response;
    response.status = answer.status;
    response.content_type = std::move(answer.content_type);
    if (answer.retry_after_seconds > 0)
        response.headers.emplace_back("Retry-After", std::to_string(answer.retry_after_seconds));
    if (!answer.stream) {
        response.body = std::move(answer.body);
        return response;
    }
    std::shared_ptr<upstream::ProxyStream> stream = std::move(answer.stream);
    response.stream = [stream](http::EventSink& sink) {
        std::string events;
        while (stream->next(&events)) {
            if (!sink.write(events)) {
                stream->cancel();
                return;
            }
        }
    };
    response.on_close = [stream](bool completed) {
        if (!completed) stream->cancel();
    };
    return response;
}

}  // namespace duet::server
