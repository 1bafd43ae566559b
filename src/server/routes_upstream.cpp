// routes_upstream.cpp: forward_if_remote / forward_routed_if_remote: the registry entry's pool, upstream::forward,
// the answer as HttpResponse (with the router's explanation added for routed requests).
#include "server/routes_upstream.h"

#include "openai/route_json.h"
#include "server/request_flow.h"
#include "upstream/proxy.h"

namespace duet::server {

namespace {

// The upstream pool serving `name`; nullptr for local, unknown or not-ready models.
std::shared_ptr<upstream::Pool> remote_pool(const Server::State& state, const std::string& name) {
    auto entry = state.registry->find(name);
    if (!entry.ok() || !(*entry)->is_remote()) return nullptr;
    return std::dynamic_pointer_cast<upstream::Pool>((*entry)->remote());
}

// Forwards `body` and turns the answer into an HttpResponse. `route` (may be null): added to the first stream event.
http::HttpResponse proxied(const std::shared_ptr<upstream::Pool>& pool, const http::HttpRequest& request,
                           const char* endpoint, nlohmann::json body,
                           std::shared_ptr<const nlohmann::json> route = nullptr) {
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
    response.stream = [stream, route](http::EventSink& sink) {
        std::string events;
        bool route_pending = route != nullptr;
        while (stream->next(&events)) {
            if (route_pending) route_pending = !attach_route_to_first_data_event(&events, *route);
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

}  // namespace

std::optional<http::HttpResponse> forward_if_remote(Server::State& state, const http::HttpRequest& request,
                                                    const char* endpoint) {
    if (!state.registry->has_remote()) return std::nullopt;
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object()) return std::nullopt;
    const std::string name =
        body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : std::string();
    auto pool = remote_pool(state, name);
    if (!pool) return std::nullopt;
    return proxied(pool, request, endpoint, std::move(body));
}

std::optional<http::HttpResponse> forward_routed_if_remote(Server::State& state, const http::HttpRequest& request,
                                                           const char* endpoint, const RoutedRequest& routed,
                                                           int64_t estimated_prompt_tokens) {
    if (!state.registry->has_remote()) return std::nullopt;
    auto pool = remote_pool(state, routed.selection.model);
    if (!pool) return std::nullopt;
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object()) return std::nullopt;  // parsed by the route already: does not happen
    body["model"] = routed.selection.model;
    http::HttpResponse response = proxied(pool, request, endpoint, std::move(body), routed.route);
    response.headers.emplace_back("x-duet-route", routed.header);
    if (response.status != 200) return response;
    int64_t prompt_tokens = estimated_prompt_tokens;
    if (!response.stream) {
        const nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
        if (answer.is_object()) {
            const nlohmann::json* usage = answer.contains("usage") ? &answer["usage"] : nullptr;
            if (usage && usage->is_object() && usage->contains("prompt_tokens") &&
                (*usage)["prompt_tokens"].is_number_integer())
                prompt_tokens = (*usage)["prompt_tokens"].get<int64_t>();
            response.body = openai::attach_route(std::move(response.body), *routed.route);
        }
    }
    routed.record(prompt_tokens);
    return response;
}

bool attach_route_to_first_data_event(std::string* events, const nlohmann::json& route) {
    constexpr std::string_view kData = "data:";
    size_t line = 0;
    while (line < events->size()) {
        size_t end = events->find('\n', line);
        if (end == std::string::npos) end = events->size();
        std::string_view text(events->data() + line, end - line);
        if (text.substr(0, kData.size()) == kData) {
            size_t payload = line + kData.size();
            if (payload < end && (*events)[payload] == ' ') ++payload;
            size_t payload_end = end;
            if (payload_end > payload && (*events)[payload_end - 1] == '\r') --payload_end;
            const std::string object = events->substr(payload, payload_end - payload);
            const nlohmann::json parsed = nlohmann::json::parse(object, nullptr, false);
            if (parsed.is_object() && !parsed.contains("error"))
                events->replace(payload, payload_end - payload, openai::attach_route(object, route));
            return true;
        }
        line = end + 1;
    }
    return false;
}

}  // namespace duet::server
