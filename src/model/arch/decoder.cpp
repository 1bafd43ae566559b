// decoder.cpp: what every Llama-style decoder file shares: the common `{arch}.*` keys and the Llama tensor
// layout. The arch files (llama.cpp, qwen2.cpp) set their defaults and quirks around these two calls.
#include <cmath>
#include <string>

#include "common/strformat.h"
#include "gguf/gguf.h"
#include "model/arch/arch.h"

namespace duet::model {

Status read_decoder_config(const gguf::GgufFile& file, ModelConfig& c) {
    const std::string a(arch_name(c.arch));
    DUET_RETURN_IF_ERROR(read_count(file, a + ".embedding_length", kMaxEmbd, &c.n_embd));
    DUET_RETURN_IF_ERROR(read_count(file, a + ".block_count", kMaxLayers, &c.n_layers));
    DUET_RETURN_IF_ERROR(read_count(file, a + ".feed_forward_length", kMaxFf, &c.n_ff));
    DUET_RETURN_IF_ERROR(read_count(file, a + ".attention.head_count", kMaxHeads, &c.n_heads));
    c.n_kv_heads = c.n_heads;
    DUET_RETURN_IF_ERROR(read_count_or(file, a + ".attention.head_count_kv", kMaxHeads, &c.n_kv_heads));
    c.n_ctx_train = 2048;
    DUET_RETURN_IF_ERROR(read_count_or(file, a + ".context_length", 1 << 24, &c.n_ctx_train));

    if (c.n_heads % c.n_kv_heads != 0)
        return Status::invalid_data("model config: head_count %d is not a multiple of head_count_kv %d", c.n_heads,
                                    c.n_kv_heads);
    if (c.n_embd % c.n_heads != 0 && file.find(a + ".attention.key_length") == nullptr)
        return Status::invalid_data("model config: embedding_length %d is not a multiple of head_count %d", c.n_embd,
                                    c.n_heads);
    c.head_dim = c.n_embd / c.n_heads;
    DUET_RETURN_IF_ERROR(read_count_or(file, a + ".attention.key_length", kMaxHeadDim, &c.head_dim));
    int32_t value_length = c.head_dim;
    DUET_RETURN_IF_ERROR(read_count_or(file, a + ".attention.value_length", kMaxHeadDim, &value_length));
    if (value_length != c.head_dim)
        return Status::unsupported("model config: attention.value_length %d != key_length %d", value_length,
                                   c.head_dim);
    if (c.head_dim > kMaxHeadDim)
        return Status::invalid_data("model config: head dim %d over %d", c.head_dim, kMaxHeadDim);
    if (c.head_dim % 2 != 0) return Status::invalid_data("model config: head dim %d is odd", c.head_dim);

    c.n_rot = c.head_dim;
    DUET_RETURN_IF_ERROR(read_count_or(file, a + ".rope.dimension_count", kMaxHeadDim, &c.n_rot));
    if (c.n_rot > c.head_dim || c.n_rot % 2 != 0)
        return Status::invalid_data("model config: rope.dimension_count %d must be even and <= head dim %d", c.n_rot,
                                    c.head_dim);

    auto freq_base = file.get_f32_or(a + ".rope.freq_base", 10000.0f);
    if (!freq_base.ok()) return freq_base.status().with_context("model config: ");
    if (!std::isfinite(*freq_base) || *freq_base <= 1.0f)
        return Status::invalid_data("model config: rope.freq_base %g must be > 1", static_cast<double>(*freq_base));
    c.rope_freq_base = *freq_base;

    auto eps = file.get_f32_or(a + ".attention.layer_norm_rms_epsilon", c.rms_eps);
    if (!eps.ok()) return eps.status().with_context("model config: ");
    if (!std::isfinite(*eps) || *eps <= 0.0f || *eps > 1.0f)
        return Status::invalid_data("model config: layer_norm_rms_epsilon %g out of range (0, 1]",
                                    static_cast<double>(*eps));
    c.rms_eps = *eps;

    DUET_RETURN_IF_ERROR(read_vocab_size(file, a, &c.n_vocab));
    c.tied_output = file.find_tensor("output.weight") == nullptr;
    c.has_rope_freqs = file.find_tensor("rope_freqs.weight") != nullptr;
    return {};
}

void bind_decoder_weights(TensorBinder& b, const ModelConfig& c, ModelWeights& w) {
    w.token_embd = b.matrix("token_embd.weight", c.n_embd, c.n_vocab);
    w.output_norm = b.vector("output_norm.weight", c.n_embd);
    w.output = c.tied_output ? w.token_embd : b.matrix("output.weight", c.n_embd, c.n_vocab);
    w.rope_freqs = c.has_rope_freqs ? b.vector("rope_freqs.weight", c.n_rot / 2) : nullptr;
    w.layers.resize(c.n_layers);
    for (int32_t i = 0; i < c.n_layers; ++i) {
        const std::string p = strformat("blk.%d.", i);
        LayerWeights& l = w.layers[i];
        l.attn_norm = b.vector(p + "attn_norm.weight", c.n_embd);
        l.wq = b.matrix(p + "attn_q.weight", c.n_embd, c.q_dim());
        l.wk = b.matrix(p + "attn_k.weight", c.n_embd, c.kv_dim());
        l.wv = b.matrix(p + "attn_v.weight", c.n_embd, c.kv_dim());
        if (c.has_qkv_bias) {
            l.bq = b.vector(p + "attn_q.bias", c.q_dim());
            l.bk = b.vector(p + "attn_k.bias", c.kv_dim());
            l.bv = b.vector(p + "attn_v.bias", c.kv_dim());
        }
        l.wo = b.matrix(p + "attn_output.weight", c.q_dim(), c.n_embd);
        l.ffn_norm = b.vector(p + "ffn_norm.weight", c.n_embd);
        l.w_gate = b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff);
        l.w_up = b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff);
        l.w_down = b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd);
    }
}

}  // namespace duet::model
