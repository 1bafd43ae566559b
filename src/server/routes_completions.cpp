// routes_completions.cpp: POST /v1/completions: text or token-id prompts, echo, logprobs (lm-eval style scoring).
// A request naming duet-auto, duet-expert or duet-daily is routed on its prompt text (route_select.h) and explains
// itself as a routed chat does: header x-duet-route, "duet": {"route"} in the body or the first SSE chunk.
#include <algorithm>

#include "common/strformat.h"
#include "common/timer.h"
#include "openai/parse.h"
#include "openai/route_json.h"
#include "server/request_flow.h"
#include "server/routed_request.h"
#include "server/routes_upstream.h"

namespace duet::server {

namespace {

// How many tokens the encoder added before and after a text prompt (BOS; some vocabularies add EOS): found by
// encoding the text again without them.
std::pair<size_t, size_t> added_around(const TextCodec& codec, const std::string& text, bool parse_special,
                                       const std::vector<TokenId>& with_added) {
    const std::vector<TokenId> bare = codec.encode(text, /*add_special=*/false, parse_special);
    for (size_t front = 0; front + bare.size() <= with_added.size(); ++front)
        if (std::equal(bare.begin(), bare.end(), with_added.begin() + static_cast<std::ptrdiff_t>(front)))
            return {front, with_added.size() - bare.size() - front};
    return {0, 0};
}

// Prompt-token logprobs for echo: one item per prompt token, the first (nothing precedes it) null. The first
// `added.first` and last `added.second` tokens are not in the echoed text (their text_offset does not advance).
std::vector<LogprobItem> echo_logprobs(const TextCodec& codec, const std::vector<TokenId>& prompt,
                                       const std::vector<LogprobItem>& from_engine, std::pair<size_t, size_t> added) {
    std::vector<LogprobItem> items(prompt.size());
    for (size_t i = 0; i < prompt.size(); ++i) {
        items[i].token = codec.token_piece(prompt[i]);
        items[i].in_text = i >= added.first && i + added.second < prompt.size();
    }
    if (!items.empty()) items[0].is_null = true;
    // The engine may or may not include an entry for the first token; align from the end.
    const size_t n = std::min(from_engine.size(), prompt.size() - 1);
    for (size_t k = 0; k < n; ++k) {
        LogprobItem& dst = items[prompt.size() - 1 - k];
        const LogprobItem& src = from_engine[from_engine.size() - 1 - k];
        dst.logprob = src.logprob;
        dst.top = src.top;
    }
    return items;
}

}  // namespace

http::HttpResponse handle_completions(Server::State& state, const http::HttpRequest& request) {
    const double arrival = now_seconds();
    openai::CompletionRequest req;
    openai::ApiError error;
    if (!openai::parse_completion_request(request.body, &req, &error)) return error_response(error);
    std::optional<RoutedRequest> routed;
    if (const auto mode = route_mode_for(req.model)) {
        auto routing = routing_or_error(state, &error);
        if (!routing) return error_response(error);
        // Token ids mean different text to the two models' vocabularies: only text is routed.
        if (req.prompt_is_tokens)
            return error_response(openai::ApiError::invalid("'prompt' must be text for " + req.model +
                                                                ": token ids cannot be routed (name a model instead)",
                                                            "prompt"));
        RouteSelection selection =
            routing->select_text(*mode, req.prompt_text,
                                 completion_conversation_key(request.header("x-duet-conversation"), req.user));
        req.model = selection.model;
        routed = explain(std::move(routing), std::move(selection));
        if (auto forwarded =
                forward_routed_if_remote(state, request, "/v1/completions", *routed, estimate_tokens(req.prompt_text)))
            return *forwarded;
    }
    auto model = state.find_model(req.model, &error);
    if (!model) return error_response(error);
    const TextCodec& codec = *model->backend.codec;

    SubmitPlan plan;
    std::string prompt_text;
    if (req.prompt_is_tokens) {
        const int32_t n_vocab = codec.n_vocab();
        for (int32_t id : req.prompt_tokens)
            if (id >= n_vocab)
                return error_response(openai::ApiError::invalid(
                    strformat("token id %d is out of range (vocabulary has %d tokens)", id, n_vocab), "prompt"));
        plan.prompt = req.prompt_tokens;
        prompt_text = codec.decode(plan.prompt);
    } else {
        plan.prompt = codec.encode(req.prompt_text, /*add_special=*/true, req.parse_special);
        prompt_text = req.prompt_text;
    }
    plan.gen = req.gen;
    plan.n_logprobs = req.logprobs;
    plan.prompt_logprobs = req.echo && req.logprobs >= 0;
    plan.split_reasoning = false;
    plan.arrival_seconds = arrival;
    auto running = std::make_shared<RunningRequest>();
    if (!start_request(state, model, plan, running.get(), &error)) return error_response(error);

    openai::ResponseHead head{make_response_id("cmpl-"), unix_now(), model->backend.name};
    const bool with_logprobs = req.logprobs >= 0;
    std::shared_ptr<const nlohmann::json> route_json;
    if (routed) {
        routed->record(running->n_prompt_tokens);
        route_json = routed->route;
    }

    if (!req.gen.stream) {
        std::vector<openai::TextChoice> choices(running->choices.size());
        for (size_t i = 0; i < choices.size(); ++i) {
            choices[i].index = static_cast<int32_t>(i);
            choices[i].with_logprobs = with_logprobs;
        }
        const bool client_stayed = drain_all(*running, request.client_alive, [&](size_t i, ChoiceEvent& event) {
            choices[i].text += event.content + event.reasoning;
            for (auto& lp : event.logprobs) choices[i].logprobs.push_back(std::move(lp));
        });
        running->observe(state);
        if (!client_stayed) return client_gone_response();
        if (engine_failed(*running, request.request_id)) return error_response(openai::ApiError::internal());
        for (size_t i = 0; i < choices.size(); ++i) {
            const ChoiceStream& c = *running->choices[i];
            choices[i].finish_reason = c.finish_reason();
            choices[i].text_offset_base = req.echo ? 0 : prompt_text.size();
            if (req.echo) {
                choices[i].text = prompt_text + choices[i].text;
                if (with_logprobs) {
                    const auto added = req.prompt_is_tokens
                                           ? std::pair<size_t, size_t>{0, 0}  // the text is decode(ids), all shown
                                           : added_around(codec, req.prompt_text, req.parse_special, plan.prompt);
                    auto items = echo_logprobs(codec, plan.prompt, c.prompt_logprobs(), added);
                    for (auto& lp : choices[i].logprobs) items.push_back(std::move(lp));
                    choices[i].logprobs = std::move(items);
                }
            }
        }
        std::string body = openai::completion_json(head, choices, running->usage(), running->timings());
        if (!route_json) return json_response(std::move(body));
        http::HttpResponse response = json_response(openai::attach_route(std::move(body), *route_json));
        response.headers.emplace_back("x-duet-route", routed->header);
        return response;
    }

    SseChunks chunks;
    // With echo, each choice opens with the prompt text. Routed: the first choice's first chunk carries the route
    // (an opening chunk with empty text when there is no echo).
    if (req.echo || route_json) {
        const std::string opening_text = req.echo ? prompt_text : std::string();
        chunks.opening = [head, opening_text, route_json, echo = req.echo](size_t i) {
            if (!echo && i > 0) return std::string();
            openai::TextChoice c;
            c.index = static_cast<int32_t>(i);
            c.text = opening_text;
            std::string chunk = openai::completion_chunk_json(head, {c}, std::nullopt, std::nullopt);
            return route_json && i == 0 ? openai::attach_route(std::move(chunk), *route_json) : chunk;
        };
    }
    chunks.event = [head, with_logprobs](size_t i, ChoiceEvent& event,
                                         const ChoiceStream& choice) -> std::optional<std::string> {
        openai::TextChoice c;
        c.index = static_cast<int32_t>(i);
        c.text = event.content + event.reasoning;
        c.with_logprobs = with_logprobs && !event.logprobs.empty();
        c.logprobs = std::move(event.logprobs);
        if (choice.finished()) c.finish_reason = choice.finish_reason();
        if (c.text.empty() && c.logprobs.empty() && !c.finish_reason) return std::nullopt;
        return openai::completion_chunk_json(head, {c}, std::nullopt, std::nullopt);
    };
    chunks.usage = [head](const openai::Usage& usage, const openai::Timings& timings) {
        return openai::completion_chunk_json(head, {}, usage, timings);
    };
    http::HttpResponse response =
        sse_response(state, std::move(running), req.gen.include_usage, request.request_id, std::move(chunks));
    if (routed) response.headers.emplace_back("x-duet-route", routed->header);
    return response;
}

RouteTable completions_routes(Server::State& state) {
    Server::State* s = &state;
    RouteTable table;
    table.add("POST", "/v1/completions", Access::api_key, [s](const RouteRequest& r) {
        if (auto forwarded = forward_if_remote(*s, r.http, "/v1/completions")) return *forwarded;
        return handle_completions(*s, r.http);
    });
    return table;
}

}  // namespace duet::server
