// tokenizer_codec.h: the TextCodec for a real model: tok::Tokenizer, its chat template (or a built-in fallback),
// the streaming decoder with stop strings, and the R1 <think> splitter when the vocabulary has those tokens.
#pragma once

#include <memory>

#include "common/status.h"
#include "gguf/gguf.h"
#include "registry/text_codec.h"

namespace duet::registry {

// `file` must stay alive as long as the codec (pass the model that owns it as `keep_alive`).
Result<std::shared_ptr<const TextCodec>> make_tokenizer_codec(const gguf::GgufFile& file,
                                                              std::shared_ptr<const void> keep_alive);

}  // namespace duet::registry
