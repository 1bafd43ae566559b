// forward.h: the batched forward pass of a Llama / Qwen2 model over the paged KV cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"
#include "common/thread_pool.h"
#include "model/batch.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace duet::model {

class Forward {
public:
    // Scratch for batches of up to max_batch_tokens is reserved here, once (pages touched on first use);
    // run() allocates nothing. pool may be null (single thread); it must outlive the Forward.
    Forward(const Model& model, KvCache& kv_cache, int32_t max_batch_tokens, ThreadPool* pool);
    ~Forward();
    Forward(const Forward&) = delete;
    Forward& operator=(const Forward&) = delete;

    // Runs the batch (see batch.h): writes every token's K/V into its slot, then returns logits
    // (n_out, n_vocab) for the tokens with want_logits, in batch order. The span stays valid until the next
    // run(). Errors (nothing computed): empty or oversized batch, mismatched span sizes, token id, sequence
    // index, position or block id out of range, positions of one sequence not increasing.
    Result<std::span<const float>> run(const Batch& batch);

    int32_t max_batch_tokens() const { return max_batch_tokens_; }
    const Model& model() const { return model_; }
    KvCache& kv_cache() const { return kv_; }

private:
    Status validate(const Batch& batch) const;
    void attention(const Batch& batch, int32_t layer);

    const Model& model_;
    KvCache& kv_;
    int32_t max_batch_tokens_;
    ThreadPool* pool_;
    int32_t max_context_;  // kv n_blocks * block_size: longest attention span

    // Scratch (see forward.cpp for shapes); one malloc each, lazily paged.
    float* x_ = nullptr;        // (T, n_embd) residual stream
    float* xb_ = nullptr;       // (T, n_embd) normed input / projection output
    float* q_ = nullptr;        // (T, q_dim)
    float* k_ = nullptr;        // (T, kv_dim)
    float* v_ = nullptr;        // (T, kv_dim)
    float* attn_ = nullptr;     // (T, q_dim) attention output
    float* gate_ = nullptr;     // (T, n_ff)
    float* up_ = nullptr;       // (T, n_ff)
    float* logits_ = nullptr;   // (T, n_vocab)
    float* scores_ = nullptr;   // (n_threads, n_gqa, max_context_) attention scores per worker
    float* rope_cs_ = nullptr;  // (T, n_rot) each token's RoPE cos/sin pairs, shared by every layer
    void* matmul_scratch_ = nullptr;
    int32_t* out_rows_ = nullptr;  // (T,) batch index of each want_logits token
};

}  // namespace duet::model
