// types.h: native request structs parsed from OpenAI JSON (nothing past the parser sees JSON).
//
// src/openai (library duet_openai) owns the OpenAI API's shapes: request types and their parsing (parse.h),
// response and chunk rendering (render.h), errors (errors.h), router decisions (route_json.h), and a client for
// any OpenAI-compatible server (client.h, sse.h). It may include common/, router/ (pure: no engine),
// nlohmann/json and httplib; never engine/, model/ or server/: the
// server converts between these types and its native ones, so eval, the arena and upstream backends can use this
// library without an engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace duet::openai {

// Bounds (reliability.md A3): out of range -> 400 naming the parameter.
constexpr int32_t kMaxN = 8;
constexpr int32_t kMaxTopLogprobs = 20;
constexpr int32_t kMaxCompletionLogprobs = 5;
constexpr int32_t kMaxStopStrings = 4;
constexpr size_t kMaxStopStringBytes = 256;
constexpr int32_t kMaxTokensLimit = 1 << 20;
constexpr size_t kMaxMessages = 4096;
constexpr int kMaxJsonDepth = 64;

// One token's logprob as the API shows it (engine ids already turned into bytes).
struct LogprobItem {
    std::string token;  // raw bytes of the token (may be a partial UTF-8 character)
    float logprob = 0.0f;
    bool is_null = false;  // the first prompt token of an echo has no logprob
    bool in_text = true;   // false: a token the server added (BOS), not in the text: its text_offset does not advance
    std::vector<std::pair<std::string, float>> top;
};

struct ChatMessage {
    std::string role;     // system, user, assistant, tool, developer
    std::string content;  // text parts joined
    std::string reasoning_content;
};

// Sampling and length options shared by chat and text completions. The defaults are the API's (OpenAI's:
// temperature 1, top-p 1, no top-k, no min-p, no penalties): the one place they are set.
struct GenerationOptions {
    std::optional<int32_t> max_tokens;  // absent: up to the context
    float temperature = 1.0f;
    float top_p = 1.0f;
    int32_t top_k = 0;
    float min_p = 0.0f;
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    float repetition_penalty = 1.0f;
    std::optional<uint64_t> seed;
    std::vector<std::string> stop;
    int32_t n = 1;
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
    bool ignore_eos = false;
    int32_t min_tokens = 0;
};

struct ChatRequest {
    std::string model;  // empty: the default model
    std::string user;   // OpenAI `user`: the router keys conversation stickiness on it
    std::vector<ChatMessage> messages;
    GenerationOptions gen;
    bool logprobs = false;
    int32_t top_logprobs = 0;
    bool add_generation_prompt = true;
};

struct CompletionRequest {
    std::string model;
    std::string user;  // OpenAI `user`: the router keys conversation stickiness on it
    bool prompt_is_tokens = false;
    std::string prompt_text;
    std::vector<int32_t> prompt_tokens;
    bool echo = false;
    int32_t logprobs = -1;  // -1: null
    // A text prompt's control-token spellings ("<|im_start|>") become control tokens only when asked; by default
    // they stay text, like any other user text.
    bool parse_special = false;
    GenerationOptions gen;
};

struct TokenizeRequest {
    std::string model;
    std::string content;
    bool add_special = true;
    bool with_pieces = false;
};

// POST /api/session: the page trades the API key for a session cookie.
struct SessionRequest {
    std::string api_key;
};

struct DetokenizeRequest {
    std::string model;
    std::vector<int32_t> tokens;
};

}  // namespace duet::openai
