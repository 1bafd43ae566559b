// routes_chat.cpp: POST /v1/chat/completions (blocking and SSE streaming).
#include "common/timer.h"
#include "openai/parse.h"
#include "server/request_flow.h"

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
        return json_response(openai::chat_completion_json(head, choices, running->usage(), running->timings()));
    }

    SseChunks chunks;
    // First chunk per choice: the role.
    chunks.opening = [head](size_t i) {
        openai::ChatChoice c;
        c.index = static_cast<int32_t>(i);
        c.role = true;
        return openai::chat_chunk_json(head, {c}, std::nullopt, std::nullopt);
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
    return sse_response(state, std::move(running), req.gen.include_usage, request.request_id, std::move(chunks));
}

RouteTable chat_routes(Server::State& state) {
    Server::State* s = &state;
    RouteTable table;
    table.add("POST", "/v1/chat/completions", Access::session,
              [s](const RouteRequest& r) { return handle_chat(*s, r.http); });
    return table;
}

}  // namespace duet::server
