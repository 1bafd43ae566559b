// generation.h: one choice of one request: drains the engine's delta stream into shown text, logprobs and stats.
//
//   engine deltas --tokens--> [drop end-of-generation ids] --> TextDecoder (UTF-8 safe, stop strings)
//                                                          --> ReasoningSplitter? --> ChoiceEvent {reasoning, content}
//   a matched stop string aborts the engine request and finishes with "stop".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "server/backend.h"
#include "openai/types.h"

namespace duet::server {

using openai::LogprobItem;

struct ChoiceEvent {
    std::string content;
    std::string reasoning;
    std::vector<LogprobItem> logprobs;
    int n_tokens = 0;  // engine tokens behind this event
};

struct ChoiceStats {
    int32_t n_prompt_tokens = 0, n_cached_prompt_tokens = 0, n_generated_tokens = 0;
    double queue_seconds = 0, first_token_seconds = 0, total_seconds = 0;  // engine side, since submit
    std::vector<double> inter_token_seconds;                               // server side, between deltas with tokens
    double server_ttft_seconds = -1;                                       // server side, from request arrival
};

class ChoiceStream {
public:
    struct Options {
        std::vector<std::string> stop;
        int32_t n_logprobs = -1;  // -1: none
        bool split_reasoning = true;
        double arrival_seconds = 0;   // now_seconds() when the HTTP request arrived
        std::vector<TokenId> prompt;  // for the reasoning splitter (does the prompt open a <think> block?)
    };
    ChoiceStream(const ModelBackend& backend, std::unique_ptr<engine::RequestStream> stream, Options options);
    ~ChoiceStream();  // aborts an unfinished request
    ChoiceStream(const ChoiceStream&) = delete;
    ChoiceStream& operator=(const ChoiceStream&) = delete;

    // Waits up to timeout for the next delta. Returns true when `event` has something new (text, logprobs or
    // the finish); false on timeout or once finished.
    bool poll(double timeout_seconds, ChoiceEvent* event);
    bool finished() const { return finished_; }
    void abort();  // the client left: abort in the engine, finish with "abort"

    // "stop", "length", "abort" or "error" (valid once finished()).
    const char* finish_reason() const;
    bool failed() const { return finish_ == engine::FinishReason::error; }
    const std::string& error() const { return error_; }
    const ChoiceStats& stats() const { return stats_; }
    const std::vector<LogprobItem>& prompt_logprobs() const { return prompt_logprobs_; }
    uint64_t id() const { return id_; }

private:
    void handle(engine::Delta& delta, ChoiceEvent* event);
    void finish(engine::FinishReason reason, ChoiceEvent* event);
    LogprobItem to_item(const engine::TokenLogprob& lp) const;

    const ModelBackend& backend_;
    std::unique_ptr<engine::RequestStream> stream_;
    Options options_;
    uint64_t id_ = 0;
    std::unique_ptr<TextDecoder> decoder_;
    std::unique_ptr<ReasoningSplitter> splitter_;
    std::unordered_set<TokenId> stop_ids_;
    bool finished_ = false;
    engine::FinishReason finish_ = engine::FinishReason::none;
    std::string error_;
    ChoiceStats stats_;
    std::vector<LogprobItem> prompt_logprobs_;
    double last_token_time_ = -1;
    int32_t n_tokens_seen_ = 0;
};

}  // namespace duet::server
