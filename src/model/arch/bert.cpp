// bert.cpp: architecture `bert` (BERT, bge-small, MiniLM; llama.cpp's layout): an encoder run by Encoder
// (encoder.h). Learned absolute positions (`position_embd`, n_ctx_train rows), segment embeddings
// (`token_types`), a LayerNorm after the embeddings, post-LayerNorm blocks with biases on every matmul, GELU FFN,
// bidirectional attention, pooling from `bert.pooling_type` (llama.cpp's enum; absent = none, as llama.cpp).
// The vocabulary is part of the model here: the file must carry a WordPiece vocabulary (`tokenizer.ggml.model`
// = "bert") with exactly one token per token_embd row, or the load is refused.
#include <cmath>
#include <string>

#include "common/strformat.h"
#include "gguf/gguf.h"
#include "model/arch/arch.h"

namespace duet::model {

namespace {

constexpr int32_t kMaxContext = 1 << 16;  // position_embd rows
constexpr int32_t kMaxTokenTypes = 16;

Status read_config(const gguf::GgufFile& file, ModelConfig& c) {
    const std::string a = "bert";
    DUET_RETURN_IF_ERROR(read_count(file, a + ".embedding_length", kMaxEmbd, &c.n_embd));
    DUET_RETURN_IF_ERROR(read_count(file, a + ".block_count", kMaxLayers, &c.n_layers));
    DUET_RETURN_IF_ERROR(read_count(file, a + ".feed_forward_length", kMaxFf, &c.n_ff));
    DUET_RETURN_IF_ERROR(read_count(file, a + ".attention.head_count", kMaxHeads, &c.n_heads));
    DUET_RETURN_IF_ERROR(read_count(file, a + ".context_length", kMaxContext, &c.n_ctx_train));
    c.n_kv_heads = c.n_heads;
    DUET_RETURN_IF_ERROR(read_count_or(file, a + ".attention.head_count_kv", kMaxHeads, &c.n_kv_heads));
    if (c.n_kv_heads != c.n_heads)
        return Status::unsupported("model config: bert: head_count_kv %d != head_count %d (no grouped attention)",
                                   c.n_kv_heads, c.n_heads);
    if (c.n_embd % c.n_heads != 0)
        return Status::invalid_data("model config: bert: embedding_length %d is not a multiple of head_count %d",
                                    c.n_embd, c.n_heads);
    c.head_dim = c.n_embd / c.n_heads;
    c.n_rot = 0;

    DUET_TRY(const bool causal, file.get_bool_or(a + ".attention.causal", false));
    if (causal) return Status::unsupported("model config: bert.attention.causal = true is not supported");

    auto eps = file.get_f32_or(a + ".attention.layer_norm_epsilon", 1e-12f);
    if (!eps.ok()) return eps.status().with_context("model config: ");
    if (!std::isfinite(*eps) || *eps < 0.0f || *eps > 1.0f)
        return Status::invalid_data("model config: bert.attention.layer_norm_epsilon %g out of range [0, 1]",
                                    static_cast<double>(*eps));
    c.layer_norm_eps = *eps;

    DUET_TRY(const uint32_t pooling, file.get_u32_or(a + ".pooling_type", 0));
    if (pooling > static_cast<uint32_t>(Pooling::last))
        return Status::unsupported(
            "model config: bert.pooling_type %u is not supported (0 none, 1 mean, 2 cls, 3 last)", pooling);
    c.pooling = static_cast<Pooling>(pooling);

    DUET_RETURN_IF_ERROR(read_vocab_size(file, a, &c.n_vocab));
    // The vocabulary must fit the embedding table: a WordPiece vocabulary of exactly n_vocab tokens.
    DUET_TRY(const std::string_view tok_model, file.get_string_or("tokenizer.ggml.model", ""));
    if (tok_model != "bert")
        return Status::invalid_data("model config: bert: tokenizer.ggml.model is '%.*s', expected 'bert' (WordPiece)",
                                    static_cast<int>(tok_model.size()), tok_model.data());
    DUET_TRY(const gguf::Array* tokens, file.get_array("tokenizer.ggml.tokens"));
    if (tokens->count != static_cast<uint64_t>(c.n_vocab))
        return Status::invalid_data("model config: bert: vocabulary has %llu tokens but token_embd.weight has %d rows",
                                    static_cast<unsigned long long>(tokens->count), c.n_vocab);

    c.n_token_types = 2;
    if (const gguf::TensorInfo* t = file.find_tensor("token_types.weight"); t != nullptr && t->n_dims == 2)
        c.n_token_types = static_cast<int32_t>(std::min<int64_t>(t->ne[1], kMaxTokenTypes + 1));
    if (c.n_token_types < 1 || c.n_token_types > kMaxTokenTypes)
        return Status::invalid_data("model config: bert: token_types.weight has %d rows (want 1..%d)", c.n_token_types,
                                    kMaxTokenTypes);
    DUET_TRY(const uint32_t type_count,
             file.get_u32_or("tokenizer.ggml.token_type_count", static_cast<uint32_t>(c.n_token_types)));
    if (type_count != static_cast<uint32_t>(c.n_token_types))
        return Status::invalid_data(
            "model config: bert: tokenizer.ggml.token_type_count %u != token_types.weight rows %d", type_count,
            c.n_token_types);
    c.has_qkv_bias = true;
    c.tied_output = false;
    return {};
}

void bind_weights(TensorBinder& b, const ModelConfig& c, ModelWeights& w) {
    w.token_embd = b.matrix("token_embd.weight", c.n_embd, c.n_vocab);
    w.token_types = b.matrix("token_types.weight", c.n_embd, c.n_token_types);
    w.position_embd = b.matrix("position_embd.weight", c.n_embd, c.n_ctx_train);
    w.embd_norm = b.vector("token_embd_norm.weight", c.n_embd);
    w.embd_norm_b = b.vector("token_embd_norm.bias", c.n_embd);
    w.layers.resize(c.n_layers);
    for (int32_t i = 0; i < c.n_layers; ++i) {
        const std::string p = strformat("blk.%d.", i);
        LayerWeights& l = w.layers[i];
        l.wq = b.matrix(p + "attn_q.weight", c.n_embd, c.q_dim());
        l.bq = b.vector(p + "attn_q.bias", c.q_dim());
        l.wk = b.matrix(p + "attn_k.weight", c.n_embd, c.kv_dim());
        l.bk = b.vector(p + "attn_k.bias", c.kv_dim());
        l.wv = b.matrix(p + "attn_v.weight", c.n_embd, c.kv_dim());
        l.bv = b.vector(p + "attn_v.bias", c.kv_dim());
        l.wo = b.matrix(p + "attn_output.weight", c.q_dim(), c.n_embd);
        l.bo = b.vector(p + "attn_output.bias", c.n_embd);
        l.attn_out_norm = b.vector(p + "attn_output_norm.weight", c.n_embd);
        l.attn_out_norm_b = b.vector(p + "attn_output_norm.bias", c.n_embd);
        l.w_up = b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff);
        l.b_up = b.vector(p + "ffn_up.bias", c.n_ff);
        l.w_down = b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd);
        l.b_down = b.vector(p + "ffn_down.bias", c.n_embd);
        l.ffn_out_norm = b.vector(p + "layer_output_norm.weight", c.n_embd);
        l.ffn_out_norm_b = b.vector(p + "layer_output_norm.bias", c.n_embd);
    }
}

}  // namespace

const ArchSpec kBertArch = {Arch::bert, "bert", Family::encoder, read_config, bind_weights};

}  // namespace duet::model
