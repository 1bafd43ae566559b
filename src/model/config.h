// config.h: a model's hyperparameters (Llama / Qwen2 decoders, BERT encoders), read and validated from GGUF
// metadata by the architecture's file in arch/ (see arch/arch.h).
//
// Keys are `{arch}.*` (llama.cpp names). Defaults for absent keys: rope freq base 10000, head dim =
// n_embd / n_heads (or `{arch}.attention.key_length`), n_rot = `{arch}.rope.dimension_count` or head dim,
// n_vocab = rows of token_embd.weight, n_kv_heads = n_heads, rms eps 1e-5 (llama) / 1e-6 (qwen2).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "kernels/kernels.h"

namespace duet::gguf {
class GgufFile;
}

namespace duet::model {

enum class Arch { llama, qwen2, bert };
std::string_view arch_name(Arch arch);

// Which forward pass runs the model: decoder = causal, over the paged KV cache (Forward); encoder =
// bidirectional within each sequence, no cache, pooled sentence vectors (Encoder).
enum class Family { decoder, encoder };

// How an encoder turns a sequence's final hidden states into one vector: llama.cpp's `{arch}.pooling_type`
// values (0 none, 1 mean, 2 cls, 3 last). none = one vector per token.
enum class Pooling { none = 0, mean = 1, cls = 2, last = 3 };
std::string_view pooling_name(Pooling pooling);

struct ModelConfig {
    Arch arch = Arch::llama;
    Family family = Family::decoder;
    int32_t n_vocab = 0;
    int32_t n_embd = 0;
    int32_t n_layers = 0;
    int32_t n_heads = 0;
    int32_t n_kv_heads = 0;
    int32_t head_dim = 0;     // per head, for Q, K and V
    int32_t n_ff = 0;         // FFN hidden size
    int32_t n_ctx_train = 0;  // context length the model was trained with (informational)
    float rope_freq_base = 10000.0f;
    kernels::RopeMode rope_mode = kernels::RopeMode::norm;  // llama: norm (adjacent pairs), qwen2: neox (halves)
    int32_t n_rot = 0;                                      // rotated dims per head (<= head_dim, even)
    float rms_eps = 1e-5f;
    bool has_qkv_bias = false;    // qwen2: attn_q/k/v.bias
    bool tied_output = false;     // no output.weight: logits use token_embd.weight
    bool has_rope_freqs = false;  // rope_freqs.weight (Llama-3.1 frequency factors, (n_rot/2,))

    // encoders only
    float layer_norm_eps = 1e-12f;    // {arch}.attention.layer_norm_epsilon (LayerNorm, biased variance)
    int32_t n_token_types = 0;        // rows of token_types.weight (segment embeddings)
    Pooling pooling = Pooling::none;  // {arch}.pooling_type

    int32_t q_dim() const { return n_heads * head_dim; }      // width of Q and of the attention output
    int32_t kv_dim() const { return n_kv_heads * head_dim; }  // width of K and V per token
    int32_t n_gqa() const { return n_heads / n_kv_heads; }    // query heads per KV head
};

// Sanity caps for untrusted files (well above any model duet targets).
constexpr int32_t kMaxVocab = 1 << 21;
constexpr int32_t kMaxEmbd = 1 << 16;
constexpr int32_t kMaxLayers = 1024;
constexpr int32_t kMaxHeads = 1024;
constexpr int32_t kMaxHeadDim = 1024;
constexpr int32_t kMaxFf = 1 << 18;

// Reads `general.architecture`, finds its arch/ file and lets it read the `{arch}.*` keys; every value validated (counts > 0 and under the caps,
// n_heads % n_kv_heads == 0, n_rot <= head_dim and even, eps > 0, ...). Errors name the key and the value.
Result<ModelConfig> config_from_gguf(const gguf::GgufFile& file);

}  // namespace duet::model
