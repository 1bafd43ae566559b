// forward.cpp: one batched transformer pass (Llama / Qwen2): embeddings, per layer RMSNorm -> QKV (+bias) ->
// RoPE -> KV write -> paged causal attention -> output proj -> residual -> RMSNorm -> SwiGLU FFN -> residual,
// then final norm and logits for the wanted tokens only. All matmuls take every batch token at once.
#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <span>
#include <utility>

#include "common/assert.h"
#include "kernels/kernels.h"
#include "model/scratch.h"

namespace duet::model {

Forward::Forward(const Model& model, KvCache& kv_cache, int32_t max_batch_tokens, ThreadPool* pool)
    : model_(model), kv_(kv_cache), max_batch_tokens_(max_batch_tokens), pool_(pool) {
    const ModelConfig& c = model.config();
    DUET_ASSERT(max_batch_tokens > 0);
    DUET_ASSERT(c.family == Family::decoder);  // encoders run in Encoder (encoder.h)
    DUET_ASSERT(kv_cache.n_layers() == c.n_layers && kv_cache.kv_dim() == c.kv_dim());
    const size_t T = static_cast<size_t>(max_batch_tokens);
    max_context_ = kv_cache.n_blocks() * kv_cache.block_size();
    const int n_threads = pool != nullptr ? pool->n_threads() : 1;

    x_ = reserve<float>(T * c.n_embd);
    xb_ = reserve<float>(T * c.n_embd);
    q_ = reserve<float>(T * c.q_dim());
    k_ = reserve<float>(T * c.kv_dim());
    v_ = reserve<float>(T * c.kv_dim());
    attn_ = reserve<float>(T * c.q_dim());
    gate_ = reserve<float>(T * c.n_ff);
    up_ = reserve<float>(T * c.n_ff);
    logits_ = reserve<float>(T * c.n_vocab);
    scores_ = reserve<float>(static_cast<size_t>(n_threads) * c.n_gqa() * max_context_);
    out_rows_ = reserve<int32_t>(T);
    rope_cs_ = reserve<float>(T * c.n_rot);

    size_t scratch = 0;
    auto need = [&](const WeightView& w) {
        scratch = std::max(scratch, kernels::matmul_scratch_size(w.type, w.n, max_batch_tokens));
    };
    need(model.output());
    for (const LayerWeights& l : model.layers()) {
        for (const WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) need(*w);
    }
    matmul_scratch_ = reserve<uint8_t>(scratch);
}

Forward::~Forward() {
    for (void* p : {static_cast<void*>(x_), static_cast<void*>(xb_), static_cast<void*>(q_), static_cast<void*>(k_),
                    static_cast<void*>(v_), static_cast<void*>(attn_), static_cast<void*>(gate_),
                    static_cast<void*>(up_), static_cast<void*>(logits_), static_cast<void*>(scores_),
                    static_cast<void*>(out_rows_), static_cast<void*>(rope_cs_), matmul_scratch_})
        std::free(p);
}

Status Forward::validate(const Batch& batch) const {
    const size_t n = batch.tokens.size();
    if (n == 0) return Status::invalid_argument("forward: empty batch");
    if (n > static_cast<size_t>(max_batch_tokens_))
        return Status::invalid_argument("forward: batch of %zu tokens over max_batch_tokens %d", n, max_batch_tokens_);
    if (batch.positions.size() != n || batch.seq_index.size() != n || batch.want_logits.size() != n)
        return Status::invalid_argument(
            "forward: batch spans differ in size (tokens %zu, positions %zu, seq_index "
            "%zu, want_logits %zu)",
            n, batch.positions.size(), batch.seq_index.size(), batch.want_logits.size());
    const int32_t n_vocab = model_.config().n_vocab;
    const int32_t bs = kv_.block_size();
    for (size_t t = 0; t < n; ++t) {
        const TokenId tok = batch.tokens[t];
        if (tok < 0 || tok >= n_vocab)
            return Status::out_of_range("forward: token %zu: id %d out of range [0, %d)", t, tok, n_vocab);
        const int32_t seq = batch.seq_index[t];
        if (seq < 0 || static_cast<size_t>(seq) >= batch.sequences.size())
            return Status::out_of_range("forward: token %zu: seq_index %d out of range [0, %zu)", t, seq,
                                        batch.sequences.size());
        const int32_t pos = batch.positions[t];
        const auto& table = batch.sequences[seq].block_table;
        if (pos < 0 || static_cast<size_t>(pos / bs) >= table.size())
            return Status::out_of_range(
                "forward: token %zu: position %d outside sequence %d's block table (%zu "
                "blocks of %d)",
                t, pos, seq, table.size(), bs);
        for (int32_t b = 0; b <= pos / bs; ++b)
            if (table[b] < 0 || table[b] >= kv_.n_blocks())
                return Status::out_of_range("forward: sequence %d: block_table[%d] = %d out of range [0, %d)", seq, b,
                                            table[b], kv_.n_blocks());
        for (size_t u = t; u-- > 0;) {
            if (batch.seq_index[u] != seq) continue;
            if (batch.positions[u] >= pos)
                return Status::invalid_argument("forward: sequence %d: position %d after position %d in the batch", seq,
                                                pos, batch.positions[u]);
            break;
        }
    }
    return {};
}

// Causal attention of every (token, KV head) pair over its own sequence's positions [0, pos], read through the
// block table, for the n_gqa query heads that share the KV head: their scores (n_gqa rows of the worker's scratch)
// block by block, softmax per head, then the weighted sum of V block by block. A token's cost grows with its
// position, so the pairs are dealt to the threads round-robin (a prefill's late tokens would leave the thread with
// the early ones waiting).
void Forward::attention(const Batch& batch, int32_t layer) {
    const ModelConfig& c = model_.config();
    const int64_t n_tokens = static_cast<int64_t>(batch.tokens.size());
    const int32_t head_dim = c.head_dim;
    const int32_t n_gqa = c.n_gqa();
    const int32_t bs = kv_.block_size();
    const bool f16 = kv_.type() == KvType::f16;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const size_t elem = kv_.element_size();
    const int64_t stride = c.kv_dim();  // elements from one slot's row to the next
    const int64_t n_tasks = n_tokens * c.n_kv_heads;

    auto task = [&](int64_t i, int ith) {
        float* scores = scores_ + static_cast<size_t>(ith) * n_gqa * max_context_;
        const int64_t t = i / c.n_kv_heads;
        const int32_t g = static_cast<int32_t>(i % c.n_kv_heads);
        const int32_t pos = batch.positions[t];
        const auto table = batch.sequences[batch.seq_index[t]].block_table;
        const size_t head_offset = static_cast<size_t>(g) * head_dim * elem;
        const int64_t q_offset = t * c.q_dim() + static_cast<int64_t>(g) * n_gqa * head_dim;
        const float* q = q_ + q_offset;
        const int32_t n_pos = pos + 1;

        for (int32_t p0 = 0; p0 < n_pos; p0 += bs) {
            const BlockId block = table[p0 / bs];
            const int32_t n_slots = std::min(bs, n_pos - p0);
            const void* k = static_cast<const uint8_t*>(kv_.k_slot(layer, block, 0)) + head_offset;
            if (f16)
                kernels::attn_scores_f16(scores + p0, max_context_, q, n_gqa, static_cast<const uint16_t*>(k), stride,
                                         n_slots, head_dim, scale);
            else
                kernels::attn_scores_f32(scores + p0, max_context_, q, n_gqa, static_cast<const float*>(k), stride,
                                         n_slots, head_dim, scale);
        }
        for (int32_t j = 0; j < n_gqa; ++j) kernels::softmax(scores + static_cast<int64_t>(j) * max_context_, n_pos);

        float* out = attn_ + q_offset;
        std::memset(out, 0, sizeof(float) * n_gqa * head_dim);
        for (int32_t p0 = 0; p0 < n_pos; p0 += bs) {
            const BlockId block = table[p0 / bs];
            const int32_t n_slots = std::min(bs, n_pos - p0);
            const void* v = static_cast<const uint8_t*>(kv_.v_slot(layer, block, 0)) + head_offset;
            if (f16)
                kernels::attn_values_f16(out, scores + p0, max_context_, n_gqa, static_cast<const uint16_t*>(v), stride,
                                         n_slots, head_dim);
            else
                kernels::attn_values_f32(out, scores + p0, max_context_, n_gqa, static_cast<const float*>(v), stride,
                                         n_slots, head_dim);
        }
    };
    if (pool_ == nullptr || pool_->n_threads() == 1 || n_tasks == 1) {
        for (int64_t i = 0; i < n_tasks; ++i) task(i, 0);
        return;
    }
    pool_->run([&](int ith, int nth) {
        for (int64_t i = ith; i < n_tasks; i += nth) task(i, ith);
    });
}

namespace {

// Token counts up to this run the per-token element-wise steps (norms, residuals, RoPE and the KV write) on the
// calling thread: for a decode step of a few streams they take a microsecond or two, less than waking the pool and
// joining it (5 fork/joins per layer saved at 2-4 streams; one token never forked). SwiGLU has its own threshold.
constexpr int64_t kInlineTokens = 4;
// SwiGLU (silu(gate) * up, the costliest element-wise step: an exp per value) from this many values on is split
// over the pool by values, not tokens, so 2-4 streams share it too: `duet bench --batch 1,4`, R1-1.5B Q4_0, 2
// threads: the 4-stream step 12.47-12.54 -> 12.34-12.35 ms; from one token's 8960 values on, the 1-stream step
// went 9.63-9.67 -> 9.90-10.37 (the fork and join cost more than half of 4 us).
constexpr int64_t kParallelSwiGLU = 16384;

}  // namespace

Result<std::span<const float>> Forward::run(const Batch& batch) {
    DUET_RETURN_IF_ERROR(validate(batch));
    const ModelConfig& c = model_.config();
    const int64_t T = static_cast<int64_t>(batch.tokens.size());
    ThreadPool* const token_pool = T <= kInlineTokens ? nullptr : pool_;  // for the per-token element-wise loops
    const int64_t n_embd = c.n_embd;
    const int32_t bs = kv_.block_size();
    const bool kv_f16 = kv_.type() == KvType::f16;

    auto matmul = [&](const WeightView& w, const float* x, int64_t n_rows, float* y) {
        kernels::matmul(w.type, w.data, w.n, w.d, x, n_rows, y, matmul_scratch_, pool_, w.layout);
    };
    // Several weights applied to the same rows (q/k/v, gate/up): activations quantized once, one parallel region.
    auto matmul_many = [&](std::initializer_list<std::pair<const WeightView&, float*>> list, const float* x,
                           int64_t n_rows) {
        kernels::MatmulOp ops[4];
        size_t n_ops = 0;
        for (const auto& [w, y] : list) {
            DUET_ASSERT(n_ops < 4 && w.n == list.begin()->first.n);
            ops[n_ops++] = {w.type, w.data, w.d, y, w.layout};
        }
        kernels::matmul_many(std::span<const kernels::MatmulOp>(ops, n_ops), list.begin()->first.n, x, n_rows,
                             matmul_scratch_, pool_);
    };
    // xb (T, n_embd) = rmsnorm(x) * w, per token
    auto norm_all = [&](const float* w) {
        parallel_for(token_pool, T, [&](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t) kernels::rmsnorm(xb_ + t * n_embd, x_ + t * n_embd, w, n_embd, c.rms_eps);
        });
    };
    // x (T, n_embd) += xb
    auto residual_all = [&]() {
        parallel_for(token_pool, T, [&](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t) kernels::add(x_ + t * n_embd, x_ + t * n_embd, xb_ + t * n_embd, n_embd);
        });
    };

    const WeightView& embd = model_.token_embd();
    parallel_for(token_pool, T, [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) {
            kernels::get_row(embd.type, embd.data, n_embd, batch.tokens[t], x_ + t * n_embd);
            kernels::rope_angles(rope_cs_ + t * c.n_rot, c.n_rot, batch.positions[t], c.rope_freq_base,
                                 model_.rope_freqs());
        }
    });

    for (int32_t il = 0; il < c.n_layers; ++il) {
        const LayerWeights& l = model_.layers()[il];
        norm_all(l.attn_norm);
        matmul_many({{l.wq, q_}, {l.wk, k_}, {l.wv, v_}}, xb_, T);

        // bias, RoPE at each token's position, K/V into the token's slot
        parallel_for(token_pool, T, [&](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t) {
                float* q = q_ + t * c.q_dim();
                float* k = k_ + t * c.kv_dim();
                float* v = v_ + t * c.kv_dim();
                if (l.bq != nullptr) {
                    kernels::add(q, q, l.bq, c.q_dim());
                    kernels::add(k, k, l.bk, c.kv_dim());
                    kernels::add(v, v, l.bv, c.kv_dim());
                }
                const int32_t pos = batch.positions[t];
                kernels::rope_rotate(q, c.n_heads, c.head_dim, c.n_rot, rope_cs_ + t * c.n_rot, c.rope_mode);
                kernels::rope_rotate(k, c.n_kv_heads, c.head_dim, c.n_rot, rope_cs_ + t * c.n_rot, c.rope_mode);
                const BlockId block = batch.sequences[batch.seq_index[t]].block_table[pos / bs];
                void* k_dst = kv_.k_slot(il, block, pos % bs);
                void* v_dst = kv_.v_slot(il, block, pos % bs);
                if (kv_f16) {
                    kernels::f32_to_f16(static_cast<uint16_t*>(k_dst), k, c.kv_dim());
                    kernels::f32_to_f16(static_cast<uint16_t*>(v_dst), v, c.kv_dim());
                } else {
                    std::memcpy(k_dst, k, sizeof(float) * c.kv_dim());
                    std::memcpy(v_dst, v, sizeof(float) * c.kv_dim());
                }
            }
        });

        attention(batch, il);
        matmul(l.wo, attn_, T, xb_);
        residual_all();

        norm_all(l.ffn_norm);
        matmul_many({{l.w_gate, gate_}, {l.w_up, up_}}, xb_, T);
        // split in runs of 64 values of a row; a call per row's share, so a row's scalar tail stays its own
        const int64_t runs_per_row = (c.n_ff + 63) / 64;
        parallel_for(T * c.n_ff >= kParallelSwiGLU ? pool_ : nullptr, T * runs_per_row, [&](int64_t b, int64_t e, int) {
            for (int64_t run = b; run < e;) {
                const int64_t t = run / runs_per_row, row_first = t * runs_per_row;
                const int64_t next = std::min(e, row_first + runs_per_row);
                const int64_t i0 = (run - row_first) * 64, i1 = std::min<int64_t>(c.n_ff, (next - row_first) * 64);
                float* gate = gate_ + t * c.n_ff;
                kernels::silu_mul(gate + i0, gate + i0, up_ + t * c.n_ff + i0, i1 - i0);
                run = next;
            }
        });
        matmul(l.w_down, gate_, T, xb_);
        residual_all();
    }

    // Final norm and logits only for the tokens that want them, packed in batch order.
    int64_t n_out = 0;
    for (int64_t t = 0; t < T; ++t)
        if (batch.want_logits[t] != 0) out_rows_[n_out++] = static_cast<int32_t>(t);
    if (n_out == 0) return std::span<const float>();
    for (int64_t j = 0; j < n_out; ++j)
        kernels::rmsnorm(xb_ + j * n_embd, x_ + static_cast<int64_t>(out_rows_[j]) * n_embd, model_.output_norm(),
                         n_embd, c.rms_eps);
    matmul(model_.output(), xb_, n_out, logits_);
    return std::span<const float>(logits_, static_cast<size_t>(n_out) * c.n_vocab);
}

}  // namespace duet::model
