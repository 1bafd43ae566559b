// config.cpp: ModelConfig from GGUF metadata (`general.architecture`, `{arch}.*`), every value validated.
#include "model/config.h"

#include <cmath>
#include <string>

#include "gguf/gguf.h"

namespace duet::model {

std::string_view arch_name(Arch arch) {
    switch (arch) {
        case Arch::llama: return "llama";
        case Arch::qwen2: return "qwen2";
    }
    return "?";
}

namespace {

// A required positive count under `cap`.
Status read_count(const gguf::GgufFile& file, const std::string& key, int32_t cap, int32_t* out) {
    auto v = file.get_u32(key);
    if (!v.ok()) return v.status().with_context("model config: ");
    if (*v == 0 || *v > static_cast<uint32_t>(cap))
        return Status::invalid_data("model config: %s = %u out of range [1, %d]", key.c_str(), *v, cap);
    *out = static_cast<int32_t>(*v);
    return {};
}

// An optional positive count under `cap`; `*out` keeps its value when the key is absent.
Status read_count_or(const gguf::GgufFile& file, const std::string& key, int32_t cap, int32_t* out) {
    if (file.find(key) == nullptr) return {};
    return read_count(file, key, cap, out);
}

}  // namespace

Result<ModelConfig> config_from_gguf(const gguf::GgufFile& file) {
    auto arch_str = file.get_string("general.architecture");
    if (!arch_str.ok()) return arch_str.status().with_context("model config: ");
    ModelConfig c;
    if (*arch_str == "llama") {
        c.arch = Arch::llama;
        c.rope_mode = kernels::RopeMode::norm;
        c.rms_eps = 1e-5f;
    } else if (*arch_str == "qwen2") {
        c.arch = Arch::qwen2;
        c.rope_mode = kernels::RopeMode::neox;
        c.rms_eps = 1e-6f;
    } else {
        return Status::unsupported("model config: general.architecture '%.*s' is not supported (llama, qwen2)",
                                   static_cast<int>(arch_str->size()), arch_str->data());
    }
    const std::string a(*arch_str);

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
        return Status::invalid_data("model config: embedding_length %d is not a multiple of head_count %d",
                                    c.n_embd, c.n_heads);
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
        return Status::invalid_data("model config: rope.dimension_count %d must be even and <= head dim %d",
                                    c.n_rot, c.head_dim);

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

    // Vocabulary size: rows of token_embd.weight (the truth), checked against {arch}.vocab_size when present.
    const gguf::TensorInfo* embd = file.find_tensor("token_embd.weight");
    if (embd == nullptr) return Status::invalid_data("model config: tensor 'token_embd.weight' is missing");
    if (embd->n_dims != 2 || embd->ne[1] <= 0 || embd->ne[1] > kMaxVocab)
        return Status::invalid_data("model config: token_embd.weight has %d dims, %lld rows (want 2 dims, 1..%d rows)",
                                    embd->n_dims, static_cast<long long>(embd->ne[1]), kMaxVocab);
    c.n_vocab = static_cast<int32_t>(embd->ne[1]);
    if (file.find(a + ".vocab_size") != nullptr) {
        auto vs = file.get_u32(a + ".vocab_size");
        if (!vs.ok()) return vs.status().with_context("model config: ");
        if (*vs != static_cast<uint32_t>(c.n_vocab))
            return Status::invalid_data("model config: %s.vocab_size %u != token_embd.weight rows %d", a.c_str(),
                                        *vs, c.n_vocab);
    }

    c.has_qkv_bias = file.find_tensor("blk.0.attn_q.bias") != nullptr;
    c.tied_output = file.find_tensor("output.weight") == nullptr;
    c.has_rope_freqs = file.find_tensor("rope_freqs.weight") != nullptr;
    return c;
}

}  // namespace duet::model
