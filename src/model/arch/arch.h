// arch.h: the per-architecture table. One file per architecture (arch/llama.cpp, arch/qwen2.cpp, arch/bert.cpp)
// says what differs between model families: its `general.architecture` name, which forward runs it, its
// hyperparameter keys and defaults, its tensor names and quirks (QKV bias, RoPE mode). config.cpp and model.cpp
// look the architecture up here and never branch on it themselves. May include model/config.h, model/model.h,
// gguf and common only.
//
//   general.architecture --find_arch()--> ArchSpec --read_config()--> ModelConfig --bind_weights()--> ModelWeights
#pragma once

#include <span>
#include <string_view>

#include "common/status.h"
#include "model/arch/tensor_binder.h"
#include "model/config.h"
#include "model/model.h"

namespace duet::gguf {
class GgufFile;
}

namespace duet::model {

struct ArchSpec {
    Arch arch;
    std::string_view name;  // the `general.architecture` value
    Family family;          // which forward runs it: decoder (Forward, KV cache) or encoder (Encoder)
    // Sets the architecture's defaults, then reads its `{name}.*` keys into `c` (c.arch and c.family are set).
    Status (*read_config)(const gguf::GgufFile& file, ModelConfig& c);
    // Names every tensor the architecture needs; the binder collects all problems into one error.
    void (*bind_weights)(TensorBinder& b, const ModelConfig& c, ModelWeights& w);
};

// Every architecture duet loads, in the order error messages list them.
std::span<const ArchSpec* const> all_archs();
// The spec for a `general.architecture` value, or null.
const ArchSpec* find_arch(std::string_view name);
// The spec of an architecture duet knows (every Arch value has one).
const ArchSpec& arch_spec(Arch arch);

// The architectures, one per file in arch/.
extern const ArchSpec kLlamaArch;
extern const ArchSpec kQwen2Arch;
extern const ArchSpec kBertArch;

// Shared by the decoder files (arch/decoder.cpp): the `{arch}.*` keys every Llama-style model has (sizes, heads,
// head dim, RoPE dims and base, RMS epsilon, vocabulary), and the Llama tensor layout (attn_norm, attn_q/k/v
// (+ .bias when c.has_qkv_bias), attn_output, ffn_norm, ffn_gate/up/down, output_norm, output or tied).
Status read_decoder_config(const gguf::GgufFile& file, ModelConfig& c);
void bind_decoder_weights(TensorBinder& b, const ModelConfig& c, ModelWeights& w);

// Shared readers for `{arch}.*` keys (arch/hparams.cpp). A required count must be in [1, cap]; an optional one
// keeps `*out` when the key is absent. Errors name the key and the value.
Status read_count(const gguf::GgufFile& file, const std::string& key, int32_t cap, int32_t* out);
Status read_count_or(const gguf::GgufFile& file, const std::string& key, int32_t cap, int32_t* out);
// Rows of token_embd.weight (the vocabulary size), checked against `{arch}.vocab_size` when present.
Status read_vocab_size(const gguf::GgufFile& file, const std::string& arch, int32_t* out);

}  // namespace duet::model
