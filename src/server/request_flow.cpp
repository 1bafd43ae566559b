// request_flow.cpp: admission, context-length checks, submission, draining and SSE streaming shared by chat and
// completions.
#include "server/request_flow.h"

#include <algorithm>

#include "common/log.h"
#include "common/timer.h"

namespace duet::server {

namespace {

// The API request's sampling settings (their defaults are the API's, set in openai::GenerationOptions) as the
// sampler's input; the seed is per choice (submit_plan). The one place they cross from openai/ to model/.
model::SamplingParams sampling_params(const openai::GenerationOptions& gen) {
    model::SamplingParams s;
    s.temperature = gen.temperature;
    s.top_p = gen.top_p;
    s.top_k = gen.top_k;
    s.min_p = gen.min_p;
    s.repetition_penalty = gen.repetition_penalty;
    s.presence_penalty = gen.presence_penalty;
    s.frequency_penalty = gen.frequency_penalty;
    return s;
}

}  // namespace

openai::Usage RunningRequest::usage() const {
    openai::Usage u;
    u.prompt_tokens = n_prompt_tokens;
    for (const auto& c : choices) {
        u.completion_tokens += c->stats().n_generated_tokens;
        u.cached_tokens = std::max(u.cached_tokens, c->stats().n_cached_prompt_tokens);
    }
    return u;
}

openai::Timings RunningRequest::timings() const {
    openai::Timings t;
    if (choices.empty()) return t;
    const ChoiceStats& s = choices.front()->stats();
    t.queue_ms = s.queue_seconds * 1e3;
    t.ttft_ms = s.first_token_seconds * 1e3;
    t.prompt_ms = std::max(0.0, s.first_token_seconds - s.queue_seconds) * 1e3;
    const double decode_seconds = s.total_seconds - s.first_token_seconds;
    if (s.n_generated_tokens > 1 && decode_seconds > 0)
        t.tokens_per_second = (s.n_generated_tokens - 1) / decode_seconds;
    t.cached_prompt_tokens = s.n_cached_prompt_tokens;
    return t;
}

void RunningRequest::observe(Server::State& state) {
    if (observed || !model) return;
    observed = true;
    const double end = now_seconds();
    for (const auto& c : choices) {
        RequestObservation o;
        o.ttft_seconds = c->stats().server_ttft_seconds;
        o.inter_token_seconds = c->stats().inter_token_seconds;
        o.e2e_seconds = end - arrival_seconds;
        o.queue_seconds = c->stats().queue_seconds;
        o.finish_reason = c->finished() ? c->finish_reason() : "abort";
        state.metrics.observe(model->backend.name, o);
    }
}

void RunningRequest::abort_all() {
    for (auto& c : choices) c->abort();
}

bool start_request(Server::State& state, std::shared_ptr<ServedModel> model, const SubmitPlan& plan,
                   RunningRequest* out, openai::ApiError* error) {
    if (model->entry && !model->entry->capabilities().chat && !model->entry->capabilities().completions) {
        *error = openai::ApiError::invalid(
            strformat("model '%s' is an embeddings model: it serves /v1/embeddings, not completions",
                      model->backend.name.c_str()),
            "model");
        return false;
    }
    auto& engine = *model->backend.engine;
    const int64_t context = engine.context_length();
    const int64_t n_prompt = static_cast<int64_t>(plan.prompt.size());
    if (n_prompt == 0) {
        *error = openai::ApiError::invalid("the prompt is empty after tokenization", "prompt");
        return false;
    }
    int64_t max_tokens = plan.gen.max_tokens ? *plan.gen.max_tokens : context - n_prompt;
    if (n_prompt + max_tokens > context || (!plan.gen.max_tokens && max_tokens < 1)) {
        *error = openai::ApiError::context_length(strformat(
            "this model's maximum context length is %lld tokens; the request has %lld prompt tokens and asks for "
            "%lld completion tokens",
            static_cast<long long>(context), static_cast<long long>(n_prompt),
            static_cast<long long>(std::max<int64_t>(max_tokens, 1))));
        return false;
    }
    if (plan.gen.min_tokens > max_tokens) {  // max_tokens absent: what the context leaves
        *error = openai::ApiError::invalid(
            strformat("'min_tokens' (%d) exceeds the %lld tokens the context leaves for the completion",
                      plan.gen.min_tokens, static_cast<long long>(max_tokens)),
            "min_tokens");
        return false;
    }
    out->admission = state.admit(model, plan.gen.n);
    if (!out->admission) {
        *error = openai::ApiError::overloaded("the server is busy (request queue full); retry later");
        return false;
    }
    out->model = model;
    out->n_prompt_tokens = static_cast<int32_t>(n_prompt);
    out->arrival_seconds = plan.arrival_seconds;

    engine::RequestParams params;
    params.prompt = plan.prompt;
    params.max_tokens = static_cast<int32_t>(max_tokens);
    params.sampling = sampling_params(plan.gen);
    params.n_logprobs = plan.n_logprobs;
    params.stop_token_ids = model->backend.codec->stop_token_ids();
    params.min_tokens = plan.gen.min_tokens;
    params.ignore_eos = plan.gen.ignore_eos;
    params.want_prompt_logprobs = plan.prompt_logprobs;

    for (int32_t i = 0; i < plan.gen.n; ++i) {
        engine::RequestParams p = params;
        if (plan.gen.seed) {
            p.sampling.has_seed = true;
            p.sampling.seed = *plan.gen.seed + static_cast<uint64_t>(i);
        }
        auto submitted = engine.submit(std::move(p));
        if (!submitted.ok()) {
            out->abort_all();
            out->choices.clear();
            const Status st = submitted.status();
            if (engine::is_queue_full(st)) {
                *error = openai::ApiError::overloaded("the server is busy (engine queue full); retry later");
            } else if (st.code() == StatusCode::invalid_argument || st.code() == StatusCode::out_of_range) {
                *error = openai::ApiError::context_length(st.message());
            } else {
                DUET_LOG_ERROR("submit failed: %s", st.message().c_str());
                *error = openai::ApiError::internal();
            }
            return false;
        }
        ChoiceStream::Options options;
        options.stop = plan.gen.stop;
        options.n_logprobs = plan.n_logprobs;
        options.split_reasoning = plan.split_reasoning;
        options.arrival_seconds = plan.arrival_seconds;
        if (plan.split_reasoning) options.prompt = plan.prompt;
        out->choices.push_back(
            std::make_unique<ChoiceStream>(model->backend, std::move(submitted).value(), std::move(options)));
    }
    return true;
}

bool drain_all(RunningRequest& request, const std::function<bool()>& client_alive,
               const std::function<void(size_t, ChoiceEvent&)>& on_event) {
    double next_check = now_seconds() + kClientCheckSeconds;
    for (size_t i = 0; i < request.choices.size(); ++i) {
        ChoiceStream& choice = *request.choices[i];
        while (!choice.finished()) {
            ChoiceEvent event;
            if (choice.poll(kClientCheckSeconds, &event)) on_event(i, event);
            if (choice.finished() || !client_alive || now_seconds() < next_check) continue;
            next_check = now_seconds() + kClientCheckSeconds;
            if (!client_alive()) {
                request.abort_all();
                return false;
            }
        }
    }
    return true;
}

http::HttpResponse client_gone_response() {
    http::HttpResponse response;
    response.status = 499;
    response.body = openai::error_json(openai::ApiError::invalid("the client closed the connection"));
    return response;
}

bool stream_all(RunningRequest& request, const std::function<bool(size_t, ChoiceEvent&)>& on_event,
                const std::function<bool()>& alive) {
    const size_t n = request.choices.size();
    // One choice: block on it (checking the client between timeouts); several: short round-robin polls.
    const double timeout = n == 1 ? 0.25 : 0.005;
    while (true) {
        bool all_finished = true, any_event = false;
        for (size_t i = 0; i < n; ++i) {
            ChoiceStream& choice = *request.choices[i];
            if (choice.finished()) continue;
            ChoiceEvent event;
            if (choice.poll(timeout, &event)) {
                any_event = true;
                if (!on_event(i, event)) {
                    request.abort_all();
                    return false;
                }
            }
            if (!choice.finished()) all_finished = false;
        }
        if (all_finished) return true;
        if (!any_event && !alive()) {
            request.abort_all();
            return false;
        }
    }
}

bool engine_failed(const RunningRequest& request, const std::string& request_id) {
    for (const auto& choice : request.choices) {
        if (choice->failed()) {
            DUET_LOG_ERROR("request %s: engine error: %s", request_id.c_str(), choice->error().c_str());
            return true;
        }
    }
    return false;
}

http::HttpResponse sse_response(Server::State& state, std::shared_ptr<RunningRequest> running, bool include_usage,
                                std::string request_id, SseChunks chunks) {
    http::HttpResponse response;
    response.content_type = "text/event-stream";
    Server::State* st = &state;
    response.stream = [running, include_usage, st, request_id = std::move(request_id),
                       chunks = std::move(chunks)](http::EventSink& sink) {
        if (chunks.opening) {
            for (size_t i = 0; i < running->choices.size(); ++i) {
                const std::string opening = chunks.opening(i);
                if (!opening.empty() && !sink.write_event(opening)) {
                    running->abort_all();
                    return;
                }
            }
        }
        bool failed = false;
        const bool completed = stream_all(
            *running,
            [&](size_t i, ChoiceEvent& event) {
                const ChoiceStream& choice = *running->choices[i];
                if (choice.failed()) {
                    failed = true;
                    return false;
                }
                const std::optional<std::string> chunk = chunks.event(i, event, choice);
                return !chunk || sink.write_event(*chunk);
            },
            [&] { return sink.client_alive(); });
        running->observe(*st);
        if (failed) {
            DUET_LOG_ERROR("request %s: engine error mid-stream", request_id.c_str());
            sink.write_event(openai::error_json(openai::ApiError::internal()));
            sink.write("data: [DONE]\n\n");
            return;
        }
        if (!completed) return;
        if (include_usage && !sink.write_event(chunks.usage(running->usage(), running->timings()))) return;
        sink.write("data: [DONE]\n\n");
    };
    response.on_close = [running, st](bool) {
        running->abort_all();
        running->observe(*st);
    };
    return response;
}

}  // namespace duet::server
