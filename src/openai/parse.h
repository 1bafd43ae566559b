// parse.h: OpenAI request JSON -> native structs, with every field type- and range-checked.
//
// Each parser returns true and fills `out`, or false and fills `error` (400, naming the parameter).
// Unknown fields are ignored (clients send many); fields we cannot honour (tools, logit_bias) are rejected.
#pragma once

#include <string_view>

#include "openai/errors.h"
#include "openai/types.h"

namespace duet::openai {

bool parse_chat_request(std::string_view body, ChatRequest* out, ApiError* error);
bool parse_completion_request(std::string_view body, CompletionRequest* out, ApiError* error);
bool parse_tokenize_request(std::string_view body, TokenizeRequest* out, ApiError* error);
bool parse_detokenize_request(std::string_view body, DetokenizeRequest* out, ApiError* error);
bool parse_session_request(std::string_view body, SessionRequest* out, ApiError* error);

// Nesting depth of a JSON text (brackets outside strings); used to refuse deep documents before parsing.
int json_nesting_depth(std::string_view text);

}  // namespace duet::openai
