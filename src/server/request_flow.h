// request_flow.h: the steps chat and text completions share: admission, context check, submit n choices, drain
// them (blocking, or event by event for SSE), usage/timings, and metrics at the end.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/generation.h"
#include "openai/render.h"
#include "server/server_state.h"

namespace duet::server {

struct SubmitPlan {
    std::vector<TokenId> prompt;
    openai::GenerationOptions gen;
    int32_t n_logprobs = -1;
    bool prompt_logprobs = false;
    bool split_reasoning = true;
    double arrival_seconds = 0;
};

// A request's choices plus what must outlive the handler while it streams.
struct RunningRequest {
    std::shared_ptr<ServedModel> model;
    std::unique_ptr<Admission> admission;
    std::vector<std::unique_ptr<ChoiceStream>> choices;
    int32_t n_prompt_tokens = 0;
    double arrival_seconds = 0;
    bool observed = false;

    openai::Usage usage() const;
    openai::Timings timings() const;
    // Records latency histograms once (idempotent).
    void observe(Server::State& state);
    void abort_all();
};

// Validates lengths against the context, admits and submits every choice. On failure nothing stays submitted.
bool start_request(Server::State& state, std::shared_ptr<ServedModel> model, const SubmitPlan& plan,
                   RunningRequest* out, openai::ApiError* error);

// Drains every choice to the end. `on_event(index, event)` is called for each event with something new.
// `client_alive` (may be empty: always alive) is asked every kClientCheckSeconds; once it says false every choice
// is aborted (the engine frees their KV blocks at its next step) and drain_all returns false.
inline constexpr double kClientCheckSeconds = 0.25;
bool drain_all(RunningRequest& request, const std::function<bool()>& client_alive,
               const std::function<void(size_t, ChoiceEvent&)>& on_event);

// What a blocking route returns after drain_all() found the client gone: nobody reads it (nginx's 499).
http::HttpResponse client_gone_response();

// Streams: polls round-robin until all choices finish or `alive()` turns false (then aborts everything).
// on_event returns false when the client is gone. Returns false when the stream was cut short.
bool stream_all(RunningRequest& request, const std::function<bool(size_t, ChoiceEvent&)>& on_event,
                const std::function<bool()>& alive);

// After a blocking drain: true (and the error logged under `request_id`) when any choice failed in the engine.
bool engine_failed(const RunningRequest& request, const std::string& request_id);

// How a route renders its SSE chunks; each function returns the JSON payload of one `data:` event.
struct SseChunks {
    // Written once per choice before any generated text (chat: the role); empty function = none, an empty
    // string = none for that choice.
    std::function<std::string(size_t index)> opening;
    // One event of a choice as a chunk, or nullopt when it carries nothing worth sending.
    std::function<std::optional<std::string>(size_t index, ChoiceEvent& event, const ChoiceStream& choice)> event;
    // The final chunk with usage and timings only (sent when the client asked for include_usage).
    std::function<std::string(const openai::Usage& usage, const openai::Timings& timings)> usage;
};

// The text/event-stream response: opening chunks, then events until every choice finishes, then the usage chunk
// (when include_usage) and [DONE]. An engine failure mid-stream ends with an error event and [DONE]; a client
// that goes away ends it silently. Closing the connection aborts every choice; metrics are recorded once.
http::HttpResponse sse_response(Server::State& state, std::shared_ptr<RunningRequest> running, bool include_usage,
                                std::string request_id, SseChunks chunks);

}  // namespace duet::server
