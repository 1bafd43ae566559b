// embeddings.h: POST /v1/embeddings' JSON: the request (OpenAI schema) -> native struct, and vectors -> response.
//
//   input: "text" | ["text", ...] | [id, ...] | [[id, ...], ...]    (one input per string / per id array)
//   encoding_format: "float" (default) | "base64" (each vector's little-endian float32 bytes, base64)
//   dimensions: accepted only when equal to the model's size (the route checks; we cannot shorten vectors)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "openai/errors.h"

namespace duet::openai {

struct EmbeddingsRequest {
    std::string model;                            // required
    std::vector<std::string> texts;               // input as text (one per input), or
    std::vector<std::vector<int32_t>> token_ids;  // input as token ids (one array per input)
    bool is_tokens = false;                       // which of the two the request used
    bool base64 = false;                          // encoding_format
    std::optional<int64_t> dimensions;
    size_t size() const { return is_tokens ? token_ids.size() : texts.size(); }
};

// True and fills `out`, or false and fills `error` (400 naming the parameter). Errors: no model, no input, an
// empty input list, an empty string or id array (naming its index), a negative id, an unknown encoding_format.
bool parse_embeddings_request(std::string_view body, EmbeddingsRequest* out, ApiError* error);

// {"object":"list","data":[{"object":"embedding","index":i,"embedding":[...] | "base64"}],"model":...,"usage":...}
std::string embeddings_json(const std::string& model, const std::vector<std::vector<float>>& vectors, bool base64,
                            int64_t prompt_tokens);

// Standard base64 (RFC 4648, with padding) of the vector's little-endian float32 bytes.
std::string floats_to_base64(const std::vector<float>& values);

}  // namespace duet::openai
