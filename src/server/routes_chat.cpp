// routes_chat.cpp: POST /v1/chat/completions (blocking and SSE streaming). A request naming duet-auto,
// duet-expert or duet-daily goes to the model the router chooses (route_select.h; forwarded when that model is
// remote) and says why: header x-duet-route, and "duet": {"route": {...}} in the response body or the first SSE
// chunk.
#include <nlohmann/json.hpp>

#include "common/timer.h"
#include "openai/parse.h"
#include "openai/route_json.h"
#include "server/request_flow.h"
#include "server/routed_request.h"
#include "server/routes_upstream.h"

namespace duet::server {

namespace {

openai::ChatChoice to_chat_choice(size_t index, ChoiceEvent& event, bool with_logprobs) {
    openai::ChatChoice c;
    c.index = static_cast<int32_t>(index);
    c.content = std::move(event.content);
    c.reasoning = std::move(event.reasoning);
    c.with_logprobs = with_logprobs;
    c.logprobs = std::move(event.logprobs);
    return c;
}

std::vector<registry::ChatMessage> to_codec_messages(const std::vector<openai::ChatMessage>& messages) {
    std::vector<registry::ChatMessage> out;
    out.reserve(messages.size());
    for (const auto& m : messages) out.push_back({m.role, m.content, m.reasoning_content});
    return out;
}

}  // namespace

http::HttpResponse handle_chat(Server::State& state, const http::HttpRequest& request) {
    const double arrival = now_seconds();
    openai::ChatRequest req;
    openai::ApiError error;
    if (!openai::parse_chat_request(request.body, &req, &error)) return error_response(error);
    std::optional<RoutedRequest> routed;
    if (const auto mode = route_mode_for(req.model)) {
        auto routing = routing_or_error(state, &error);
        if (!routing) return error_response(error);
        RouteSelection selection =
            routing->select(*mode, req.messages, request.header("x-duet-conversation"), req.user);
        req.model = selection.model;
        routed = explain(std::move(routing), std::move(selection));
        // A remote model took the role: forwarded, explained the same way (routes_upstream.h).
        int64_t estimate = 0;
        for (const auto& m : req.messages) estimate += estimate_tokens(m.content) + 4;  // + the turn's markers
        if (auto forwarded = forward_routed_if_remote(state, request, "/v1/chat/completions", *routed, estimate))
            return *forwarded;
    }
    auto model = state.find_model(req.model, &error);
    if (!model) return error_response(error);

    auto prompt = model->backend.codec->encode_chat(to_codec_messages(req.messages), req.add_generation_prompt);
    if (!prompt.ok()) return error_response(openai::ApiError::invalid(prompt.status().message(), "messages"));

    SubmitPlan plan;
    plan.prompt = std::move(prompt).value();
    plan.gen = req.gen;
    plan.n_logprobs = req.logprobs ? req.top_logprobs : -1;
    plan.arrival_seconds = arrival;
    auto running = std::make_shared<RunningRequest>();
    if (!start_request(state, model, plan, running.get(), &error)) return error_response(error);

    openai::ResponseHead head{make_response_id("chatcmpl-"), unix_now(), model->backend.name};
    const bool with_logprobs = req.logprobs;
    // Routed: the explanation goes into the response (or the first chunk) and the x-duet-route header.
    std::shared_ptr<const nlohmann::json> route_json;
    if (routed) {
        routed->record(running->n_prompt_tokens);
        route_json = routed->route;
    }

    if (!req.gen.stream) {
        std::vector<openai::ChatChoice> choices(running->choices.size());
        for (size_t i = 0; i < choices.size(); ++i) {
            choices[i].index = static_cast<int32_t>(i);
            choices[i].with_logprobs = with_logprobs;
        }
        const bool client_stayed = drain_all(*running, request.client_alive, [&](size_t i, ChoiceEvent& event) {
            choices[i].content += event.content;
            choices[i].reasoning += event.reasoning;
            for (auto& lp : event.logprobs) choices[i].logprobs.push_back(std::move(lp));
        });
        running->observe(state);
        if (!client_stayed) return client_gone_response();
        if (engine_failed(*running, request.request_id)) return error_response(openai::ApiError::internal());
        for (size_t i = 0; i < choices.size(); ++i) choices[i].finish_reason = running->choices[i]->finish_reason();
        std::string body = openai::chat_completion_json(head, choices, running->usage(), running->timings());
        if (!route_json) return json_response(std::move(body));
        http::HttpResponse response = json_response(openai::attach_route(std::move(body), *route_json));
        response.headers.emplace_back("x-duet-route", routed->header);
        return response;
    }

    SseChunks chunks;
    // First chunk per choice: the role.
    chunks.opening = [head, route_json](size_t i) {
        openai::ChatChoice c;
        c.index = static_cast<int32_t>(i);
        c.role = true;
        std::string chunk = openai::chat_chunk_json(head, {c}, std::nullopt, std::nullopt);
        return route_json && i == 0 ? openai::attach_route(std::move(chunk), *route_json) : chunk;
    };
    chunks.event = [head, with_logprobs](size_t i, ChoiceEvent& event,
                                         const ChoiceStream& choice) -> std::optional<std::string> {
        openai::ChatChoice c = to_chat_choice(i, event, with_logprobs);
        if (choice.finished()) c.finish_reason = choice.finish_reason();
        if (c.content.empty() && c.reasoning.empty() && c.logprobs.empty() && !c.finish_reason) return std::nullopt;
        return openai::chat_chunk_json(head, {c}, std::nullopt, std::nullopt);
    };
    chunks.usage = [head](const openai::Usage& usage, const openai::Timings& timings) {
        return openai::chat_chunk_json(head, {}, usage, timings);
    };
    http::HttpResponse response =
        sse_response(state, std::move(running), req.gen.include_usage, request.request_id, std::move(chunks));
    if (routed) response.headers.emplace_back("x-duet-route", routed->header);
    return response;
}

RouteTable chat_routes(Server::State& state) {
    Server::State* s = &state;
    RouteTable table;
    table.add("POST", "/v1/chat/completions", Access::session, [s](const RouteRequest& r) {
        if (auto forwarded = forward_if_remote(*s, r.http, "/v1/chat/completions")) return *forwarded;
        return handle_chat(*s, r.http);
    });
    return table;
}

}  // namespace duet::server
