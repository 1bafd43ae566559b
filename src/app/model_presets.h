// model_presets.h: the shapes `duet make-model` knows (real models' hyperparameters) and its weight types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/tensor_type.h"
#include "gguf/gguf.h"

namespace duet::app {

struct ModelPreset {
    std::string name;
    std::string arch;  // "llama", "qwen2" or "bert" (an encoder: rms_eps is its LayerNorm epsilon)
    int32_t n_embd, n_layers, n_heads, n_kv_heads, n_ff, n_vocab, n_ctx;
    float rope_freq_base, rms_eps;
    bool qkv_bias, tied;
    bool demo_vocab;            // write the built-in byte-level vocabulary + chat template even when not padded
    uint32_t pooling_type = 0;  // bert: bert.pooling_type (1 mean, 2 cls)
};

const std::vector<ModelPreset>& model_presets();
Result<ModelPreset> find_preset(std::string_view name);

// The --type values: f32 f16 q8_0 q4_0 q4_k_m q5_k_m q6_k.
enum class WeightScheme { f32, f16, q8_0, q4_0, q4_k_m, q5_k_m, q6_k };
Result<WeightScheme> parse_weight_scheme(std::string_view name);
uint32_t gguf_file_type(WeightScheme scheme);  // llama.cpp's general.file_type value

// Storage type of one 2-D tensor under a scheme (Q4_K_M follows llama.cpp: output.weight and half of
// attn_v / ffn_down Q6_K; Q4_0 is pure: every matrix Q4_0, as the reference files in performance.md). Rows whose length does not fit the K-quant super-block
// fall back to Q5_0 (for Q4_K) / Q8_0 (for Q6_K), as llama.cpp does.
TensorType tensor_type_for(WeightScheme scheme, const std::string& name, int32_t layer, int32_t n_layers,
                           int64_t row_length, bool is_output);

// Writes a byte-level BPE vocabulary (GPT-2 byte map, a few merges, the arch's special tokens, padding tokens up
// to n_vocab; none when n_vocab is 0) and a ChatML / Llama-3 chat template into `w`. Returns the token count.
Result<int32_t> write_byte_vocab(gguf::GgufWriter& w, const ModelPreset& preset);

// Writes a generated WordPiece vocabulary (llama.cpp's GGUF form: word starts "▁word", continuations bare):
// [PAD] 0, [unused0..98], [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, then printable ASCII and CJK characters as
// word starts, then continuations (ASCII letters and digits), padded with [unusedN] to n_vocab. Returns n_vocab.
Result<int32_t> write_wordpiece_vocab(gguf::GgufWriter& w, const ModelPreset& preset);

}  // namespace duet::app
