// engine_api.h: what the server sees of an engine: submit a tokenized request, read its deltas, abort it.
//
// Threads: HTTP workers call submit()/abort() and drain their RequestStream; one engine loop per model
// runs schedule -> execute -> update and pushes deltas. Native types only: no JSON crosses this line.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/sampler.h"

namespace duet::engine {

using TokenId = int32_t;

struct RequestParams {
    std::vector<TokenId> prompt;  // tokenized prompt (template already applied)
    int32_t max_tokens = 16;
    model::SamplingParams sampling;       // the sampler's input, as the edge (API, CLI) set it
    int32_t n_logprobs = -1;              // -1: none; k >= 0: logprob of the sampled token and the top k
    std::vector<TokenId> stop_token_ids;  // stop after emitting one of these (the codec's EOS/EOT: pass them)
    // vLLM's min_tokens: until this many tokens are generated, no stop token id (EOS/EOT included) can be
    // sampled (their logits are masked to -inf). 0 <= min_tokens <= max_tokens. Stop strings are not affected.
    int32_t min_tokens = 0;
    bool ignore_eos = false;
    bool want_prompt_logprobs = false;  // completions echo + logprobs
};

enum class FinishReason { none, stop, length, abort, error };

struct TokenLogprob {
    TokenId token = 0;
    float logprob = 0.0f;
    std::vector<std::pair<TokenId, float>> top;  // top-k alternatives
};

// One message from the engine loop to the request's reader.
struct Delta {
    std::vector<TokenId> tokens;                // newly generated tokens (may be empty)
    std::vector<TokenLogprob> logprobs;         // parallel to tokens when asked
    std::vector<TokenLogprob> prompt_logprobs;  // once, when asked
    FinishReason finish = FinishReason::none;
    std::string error;  // when finish == error
    // Timings (seconds since submit) and counts, filled on the final delta.
    double queue_seconds = 0, first_token_seconds = 0, total_seconds = 0;
    int32_t n_prompt_tokens = 0, n_cached_prompt_tokens = 0, n_generated_tokens = 0;
};

// A blocking single-consumer channel of Deltas for one request.
class RequestStream {
public:
    virtual ~RequestStream() = default;
    // Waits for the next delta; std::nullopt after the final one was read or on timeout.
    virtual std::optional<Delta> next(double timeout_seconds) = 0;
    virtual uint64_t id() const = 0;
};

struct EngineStats {
    int32_t n_running = 0, n_waiting = 0;
    double kv_usage = 0;                           // fraction of KV blocks in use
    uint64_t prefix_queries = 0, prefix_hits = 0;  // in tokens
    uint64_t prompt_tokens_total = 0, generation_tokens_total = 0;
    uint64_t steps_total = 0;  // batches run through the model
};

// submit() failed because the waiting queue is full (temporary; the server answers 503 + Retry-After).
inline bool is_queue_full(const Status& status) { return status.code() == StatusCode::unavailable; }

class EngineApi {
public:
    virtual ~EngineApi() = default;
    // Errors: the request can never fit (prompt + max_tokens over the context or the KV pool), queue full.
    virtual Result<std::unique_ptr<RequestStream>> submit(RequestParams params) = 0;
    virtual void abort(uint64_t request_id) = 0;
    virtual EngineStats stats() const = 0;
    virtual int32_t context_length() const = 0;
};

}  // namespace duet::engine
