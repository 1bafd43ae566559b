// routes_chat.cpp: POST /v1/chat/completions (blocking and SSE streaming).
#include "common/log.h"
#include "common/timer.h"
#include "server/openai/parse.h"
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

}  // namespace

http::HttpResponse handle_chat(Server::State& state, const http::HttpRequest& request) {
    const double arrival = now_seconds();
    openai::ChatRequest req;
    openai::ApiError error;
    if (!openai::parse_chat_request(request.body, &req, &error)) return error_response(error);
    auto model = state.find_model(req.model, &error);
    if (!model) return error_response(error);

    auto prompt = model->backend.codec->encode_chat(req.messages, req.add_generation_prompt);
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
        drain_all(*running, [&](size_t i, ChoiceEvent& event) {
            choices[i].content += event.content;
            choices[i].reasoning += event.reasoning;
            for (auto& lp : event.logprobs) choices[i].logprobs.push_back(std::move(lp));
        });
        running->observe(state);
        for (size_t i = 0; i < choices.size(); ++i) {
            const ChoiceStream& c = *running->choices[i];
            if (c.failed()) {
                DUET_LOG_ERROR("request %s: engine error: %s", request.request_id.c_str(), c.error().c_str());
                return error_response(openai::ApiError::internal());
            }
            choices[i].finish_reason = c.finish_reason();
        }
        return json_response(openai::chat_completion_json(head, choices, running->usage(), running->timings()));
    }

    http::HttpResponse response;
    response.content_type = "text/event-stream";
    Server::State* st = &state;
    const bool include_usage = req.gen.include_usage;
    const std::string request_id = request.request_id;
    response.stream = [running, head, with_logprobs, include_usage, st, request_id](http::EventSink& sink) {
        // First chunk per choice: the role.
        for (size_t i = 0; i < running->choices.size(); ++i) {
            openai::ChatChoice c;
            c.index = static_cast<int32_t>(i);
            c.role = true;
            if (!sink.write_event(openai::chat_chunk_json(head, {c}, std::nullopt, std::nullopt))) {
                running->abort_all();
                return;
            }
        }
        bool engine_failed = false;
        const bool completed = stream_all(
            *running,
            [&](size_t i, ChoiceEvent& event) {
                const ChoiceStream& choice = *running->choices[i];
                if (choice.failed()) {
                    engine_failed = true;
                    return false;
                }
                openai::ChatChoice c = to_chat_choice(i, event, with_logprobs);
                if (choice.finished()) c.finish_reason = choice.finish_reason();
                if (c.content.empty() && c.reasoning.empty() && c.logprobs.empty() && !c.finish_reason) return true;
                return sink.write_event(openai::chat_chunk_json(head, {c}, std::nullopt, std::nullopt));
            },
            [&] { return sink.client_alive(); });
        running->observe(*st);
        if (engine_failed) {
            DUET_LOG_ERROR("request %s: engine error mid-stream", request_id.c_str());
            sink.write_event(openai::error_json(openai::ApiError::internal()));
            sink.write("data: [DONE]\n\n");
            return;
        }
        if (!completed) return;
        if (include_usage &&
            !sink.write_event(openai::chat_chunk_json(head, {}, running->usage(), running->timings())))
            return;
        sink.write("data: [DONE]\n\n");
    };
    response.on_close = [running, st](bool) {
        running->abort_all();
        running->observe(*st);
    };
    return response;
}

}  // namespace duet::server
