// backend.h: what the server needs per served model: an engine plus a text codec (tokenize, template, detokenize),
// as the route handlers see a ready registry entry. The codec interface lives in registry/text_codec.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/engine_api.h"
#include "registry/text_codec.h"

namespace duet::server {

using engine::TokenId;
using registry::ReasoningSplitter;
using registry::TextCodec;
using registry::TextDecoder;

struct ModelBackend {
    std::string name;
    std::shared_ptr<engine::EngineApi> engine;
    std::shared_ptr<const TextCodec> codec;
    int64_t created_unix = 0;
};

}  // namespace duet::server
