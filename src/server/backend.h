// backend.h: what the server needs per served model: an engine plus a text codec (tokenize, template, detokenize).
//
// The codec hides the tokenizer and chat-template libraries behind a small interface so that the HTTP layer can
// be tested with a fake; tokenizer_codec.h adapts the real ones.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/engine_api.h"
#include "openai/types.h"

namespace duet::server {

using engine::TokenId;

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
    virtual std::string token_piece(TokenId id) const = 0;              // the bytes of one token
    virtual int32_t n_vocab() const = 0;
    virtual std::vector<TokenId> stop_token_ids() const = 0;            // end of generation (EOS, EOT)
    virtual std::unique_ptr<TextDecoder> make_decoder(std::vector<std::string> stop_strings) const = 0;
    // Chat template applied and tokenized; a template failure is invalid_argument (-> 400).
    virtual Result<std::vector<TokenId>> encode_chat(const std::vector<openai::ChatMessage>& messages,
                                                     bool add_generation_prompt) const = 0;
    // nullptr when the model does not reason in <think> blocks; `prompt` tells whether the output starts inside one.
    virtual std::unique_ptr<ReasoningSplitter> make_reasoning_splitter(std::span<const TokenId> prompt) const {
        return nullptr;
    }
};

struct ModelBackend {
    std::string name;
    std::shared_ptr<engine::EngineApi> engine;
    std::shared_ptr<const TextCodec> codec;
    int64_t created_unix = 0;
};

}  // namespace duet::server
