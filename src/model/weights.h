// weights.h: typed zero-copy views of a model's weights in the mmap, filled by the arch/ files. A field an
// architecture does not have stays null (e.g. biases for Llama, ffn_gate for BERT). Includes common only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/tensor_type.h"

namespace duet::model {

// A weight matrix W (d,n): d rows of n elements in `type`'s block layout (GGUF ne = [n, d]), inside the mmap, or
// repacked at load into the layout the active kernels read fastest (Model::load; the same n_bytes).
struct WeightView {
    TensorType type = TensorType::F32;
    const void* data = nullptr;
    int64_t n = 0;       // row length (input width)
    int64_t d = 0;       // rows (output width)
    size_t n_bytes = 0;  // d * row_size(type, n)
    WeightLayout layout = WeightLayout::plain;
};

struct LayerWeights {
    // decoders (pre-norm): x += attn(rmsnorm(x) * attn_norm); x += ffn(rmsnorm(x) * ffn_norm)
    const float* attn_norm = nullptr;  // (n_embd,)
    WeightView wq;                     // (q_dim, n_embd)
    WeightView wk;                     // (kv_dim, n_embd)
    WeightView wv;                     // (kv_dim, n_embd)
    const float* bq = nullptr;         // (q_dim,)  qwen2, bert
    const float* bk = nullptr;         // (kv_dim,) qwen2, bert
    const float* bv = nullptr;         // (kv_dim,) qwen2, bert
    WeightView wo;                     // (n_embd, q_dim)
    const float* ffn_norm = nullptr;   // (n_embd,)
    WeightView w_gate;                 // (n_ff, n_embd)  decoders (SwiGLU)
    WeightView w_up;                   // (n_ff, n_embd)
    WeightView w_down;                 // (n_embd, n_ff)

    // encoders (post-norm, bert): x = LN(x + attn(x)); x = LN(x + ffn(x)), every matmul with a bias
    const float* bo = nullptr;               // (n_embd,) attn_output.bias
    const float* attn_out_norm = nullptr;    // (n_embd,) attn_output_norm.weight
    const float* attn_out_norm_b = nullptr;  // (n_embd,) attn_output_norm.bias
    const float* b_up = nullptr;             // (n_ff,)   ffn_up.bias
    const float* b_down = nullptr;           // (n_embd,) ffn_down.bias
    const float* ffn_out_norm = nullptr;     // (n_embd,) layer_output_norm.weight
    const float* ffn_out_norm_b = nullptr;   // (n_embd,) layer_output_norm.bias
};

struct ModelWeights {
    WeightView token_embd;               // (n_vocab, n_embd)
    const float* output_norm = nullptr;  // (n_embd,)  decoders
    WeightView output;                   // (n_vocab, n_embd); token_embd when tied (decoders)
    const float* rope_freqs = nullptr;   // (n_rot/2,) or null
    WeightView position_embd;            // (n_ctx_train, n_embd)   encoders: learned absolute positions
    WeightView token_types;              // (n_token_types, n_embd) encoders: segment embeddings
    const float* embd_norm = nullptr;    // (n_embd,) encoders: LayerNorm after the embeddings
    const float* embd_norm_b = nullptr;  // (n_embd,)
    std::vector<LayerWeights> layers;
};

}  // namespace duet::model
