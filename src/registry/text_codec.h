// text_codec.h: a served model's text side: tokenize, apply the chat template, detokenize as a stream (stop
// strings, UTF-8 safe), split <think> reasoning, and the end-of-generation ids (the one source of stop ids).
//
// An interface so that the HTTP layer is tested with a fake codec; tokenizer_codec.h adapts the real tokenizer.
// Native types only (no JSON, no OpenAI types): the server turns its request messages into registry::ChatMessage.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/engine_api.h"

namespace duet::registry {

using engine::TokenId;

// One chat turn as the chat template sees it.
struct ChatMessage {
    std::string role;     // system, user, assistant, tool, developer
    std::string content;  // text parts joined
    std::string reasoning_content;
};

// Per request: ids -> text that is safe to show (complete UTF-8, never a possible start of a stop string).
class TextDecoder {
public:
    virtual ~TextDecoder() = default;
    virtual std::string feed(TokenId id) = 0;
    virtual std::string flush() = 0;
    virtual bool stopped() const = 0;  // a stop string matched (nothing more is returned)
};

// Per request: splits DeepSeek-R1 style output into reasoning (inside <think>...</think>) and content.
class ReasoningSplitter {
public:
    virtual ~ReasoningSplitter() = default;
    virtual void push(std::string_view text, std::string* reasoning, std::string* content) = 0;
    virtual void flush(std::string* reasoning, std::string* content) = 0;
};

class TextCodec {
public:
    virtual ~TextCodec() = default;
    virtual std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const = 0;
    virtual std::string decode(std::span<const TokenId> ids) const = 0;  // bytes, special tokens shown
    virtual std::string token_piece(TokenId id) const = 0;               // the bytes of one token
    virtual int32_t n_vocab() const = 0;
    // End of generation (EOS, EOT, <|im_end|> ...): the only place stop ids come from. The server puts them in
    // every request (engine::RequestParams::stop_token_ids) and hides them from the shown text.
    virtual std::vector<TokenId> stop_token_ids() const = 0;
    virtual std::unique_ptr<TextDecoder> make_decoder(std::vector<std::string> stop_strings) const = 0;
    // Chat template applied and tokenized; a template failure is invalid_argument (-> 400).
    virtual Result<std::vector<TokenId>> encode_chat(const std::vector<ChatMessage>& messages,
                                                     bool add_generation_prompt) const = 0;
    // nullptr when the model does not reason in <think> blocks; `prompt` tells whether the output starts inside one.
    virtual std::unique_ptr<ReasoningSplitter> make_reasoning_splitter(std::span<const TokenId> prompt) const {
        return nullptr;
    }
};

}  // namespace duet::registry
