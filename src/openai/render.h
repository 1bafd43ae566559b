// render.h: native results -> OpenAI response JSON (completions, chunks, models, tokenize). Output is always
// valid UTF-8: invalid bytes (a token that is half a character) become U+FFFD; logprob entries carry `bytes`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "openai/types.h"

namespace duet::openai {

struct Usage {
    int32_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
};

struct Timings {
    double queue_ms = 0, prompt_ms = 0, ttft_ms = 0, tokens_per_second = 0;
    int32_t cached_prompt_tokens = 0;
};

struct ResponseHead {
    std::string id;       // chatcmpl-... / cmpl-...
    int64_t created = 0;  // unix seconds
    std::string model;
};

struct ChatChoice {
    int32_t index = 0;
    std::string content;
    std::string reasoning;  // reasoning_content; omitted when empty
    bool role = false;      // chunks: send "role": "assistant" (first chunk)
    std::optional<std::string> finish_reason;
    bool with_logprobs = false;
    std::vector<LogprobItem> logprobs;
};

struct TextChoice {
    int32_t index = 0;
    std::string text;
    std::optional<std::string> finish_reason;
    bool with_logprobs = false;
    std::vector<LogprobItem> logprobs;  // echo: prompt tokens first
    size_t text_offset_base = 0;        // byte offset of the first logprob token in the full text
};

std::string chat_completion_json(const ResponseHead& head, const std::vector<ChatChoice>& choices, const Usage& usage,
                                 const Timings& timings);
// One SSE chunk; `usage` set -> the final usage chunk (choices may be empty).
std::string chat_chunk_json(const ResponseHead& head, const std::vector<ChatChoice>& choices,
                            const std::optional<Usage>& usage, const std::optional<Timings>& timings);
std::string completion_json(const ResponseHead& head, const std::vector<TextChoice>& choices, const Usage& usage,
                            const Timings& timings);
std::string completion_chunk_json(const ResponseHead& head, const std::vector<TextChoice>& choices,
                                  const std::optional<Usage>& usage, const std::optional<Timings>& timings);

struct ModelInfo {
    std::string id;
    int64_t created = 0;
    int32_t context_length = 0;
    std::string state;  // "loaded", "loading", "unloaded", "unloading" (local), "remote" (an upstream); "" -> not shown
};
std::string models_json(const std::vector<ModelInfo>& models);
std::string tokenize_json(const std::vector<int32_t>& tokens, const std::vector<std::string>* pieces);
std::string detokenize_json(const std::string& content);
std::string health_json(const char* status);
// GET /health?model=NAME when it can serve: {"status":"ok","model":NAME,"state":STATE}.
std::string model_health_json(const std::string& model, const char* state);

}  // namespace duet::openai
