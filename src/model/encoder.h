// encoder.h: the forward pass of a BERT-family encoder (Family::encoder): several token sequences in one pass,
// no KV cache, the decoders' kernels (matmul over every token at once), pooled and L2-normalised sentence
// vectors. What /v1/embeddings and the router's sentence-embedding signal call. Includes model/ and common only.
//
//   tokens of all sequences, packed:  | seq 0 (n0 tokens) | seq 1 (n1) | ... |   positions restart at 0 per sequence
//   x = token_embd[id] + token_types[0] + position_embd[pos];  x = LN(x; token_embd_norm)
//   per layer:  x = LN(x + Attn(x) Wo + bo; attn_output_norm)        Attn: q k^T / sqrt(head_dim) within the
//               x = LN(x + gelu(x W_up + b_up) W_down + b_down; layer_output_norm)   token's own sequence only
//   pooled = mean over the sequence | its first token (cls) | its last token;  embedding = pooled / ||pooled||2
//
// Token type is always 0 and [CLS]/[SEP] come from the tokenizer (Tokenizer::encode with add_special), both as
// llama.cpp does; ids are used exactly as given.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "kernels/encoder_kernels.h"
#include "model/batch.h"
#include "model/model.h"

namespace duet::model {

// Where a pass's time goes, per stage (bench_encoder's breakdown): CPU nanoseconds of the calling thread, summed
// over passes. With a pool the workers' share is not counted, so take it on one thread (pool = nullptr).
struct EncoderProfile {
    enum Stage { embed, qkv, attention, attn_out, attn_norm, ffn_up_gelu, ffn_down, ffn_norm, n_stages };
    static const char* stage_name(int stage);
    int64_t ns[n_stages] = {};
    int64_t passes = 0;
};

// One call at a time (the scratch is the Encoder's); callers that embed concurrently keep one Encoder each.
class Encoder {
public:
    // Scratch for passes of up to max_batch_tokens tokens is reserved here, once; embed() allocates only its
    // result. pool may be null (single thread); it must outlive the Encoder. The model must be an encoder.
    Encoder(const Model& model, int32_t max_batch_tokens, ThreadPool* pool);
    ~Encoder();
    Encoder(const Encoder&) = delete;
    Encoder& operator=(const Encoder&) = delete;

    // One pooled vector (n_embd,) per sequence, L2-normalised unless `normalize` is false, pooling as the model
    // says. Sequences are packed into passes of up to max_batch_tokens tokens. Errors (nothing returned): no
    // sequences, an empty sequence, one longer than max_batch_tokens or the model's n_ctx_train, an id out of
    // range, a model whose pooling is none (use hidden_states).
    Result<std::vector<std::vector<float>>> embed(std::span<const std::vector<TokenId>> sequences,
                                                  bool normalize = true);

    // Final hidden states (n_tokens, n_embd) of every token of `sequences`, in order, computed in ONE pass (their
    // total length must be <= max_batch_tokens). The span stays valid until the next call.
    Result<std::span<const float>> hidden_states(std::span<const std::vector<TokenId>> sequences);

    int32_t n_embd() const { return model_.config().n_embd; }
    int32_t max_batch_tokens() const { return max_batch_tokens_; }
    void set_profile(EncoderProfile* profile) { profile_ = profile; }  // null: off (the default)
    const Model& model() const { return model_; }

private:
    Status validate(std::span<const std::vector<TokenId>> sequences, int64_t* n_tokens) const;
    void run(std::span<const std::vector<TokenId>> sequences, int64_t n_tokens);
    void attention(int64_t n_tokens);

    const Model& model_;
    int32_t max_batch_tokens_;
    int32_t max_seq_len_;  // min(max_batch_tokens, n_ctx_train): longest attention span
    ThreadPool* pool_;
    EncoderProfile* profile_ = nullptr;

    // Scratch (T = max_batch_tokens); one malloc each, lazily paged.
    float* x_ = nullptr;           // (T, n_embd) residual stream, then the final hidden states
    float* xb_ = nullptr;          // (T, n_embd) projection output
    float* q_ = nullptr;           // (T, n_embd)
    float* k_ = nullptr;           // (T, n_embd)
    float* v_ = nullptr;           // (T, n_embd)
    float* attn_ = nullptr;        // (T, n_embd) attention output
    float* up_ = nullptr;          // (T, n_ff)
    int32_t* seq_of_ = nullptr;    // (T,) sequence index of each packed token
    int32_t* pos_of_ = nullptr;    // (T,) position of each token in its sequence
    int32_t* start_of_ = nullptr;  // (T,) packed index of the first token of each token's sequence
    int32_t* len_of_ = nullptr;    // (T,) length of each token's sequence
    void* matmul_scratch_ = nullptr;
    float* attn_scratch_ = nullptr;  // (n_threads, attention_scratch_floats(max_seq_len_, head_dim))
    int64_t attn_scratch_stride_ = 0;

    // Each layer's matrices repacked once for many-token products (kernels/encoder_kernels.h); where a type or
    // backend has no packed kernel they hold the original and gemm_bias runs kernels::matmul.
    struct PackedLayer {
        kernels::GemmWeights wq, wk, wv, wo, w_up, w_down;
    };
    std::vector<PackedLayer> packed_;
};

// x (n,) /= ||x||2 with llama.cpp's arithmetic (float squares, double sum); a zero vector stays zero.
void l2_normalize(float* x, int64_t n);

}  // namespace duet::model
