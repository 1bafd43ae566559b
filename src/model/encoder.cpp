// encoder.cpp: the encoder pass in the order of encoder.h's picture: embeddings + LayerNorm, then per layer
// biased q/k/v, bidirectional attention within each sequence, output projection + residual + LayerNorm, GELU FFN
// + residual + LayerNorm; then pooling and L2 normalisation per sequence.
#include "model/encoder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "common/assert.h"
#include "kernels/kernels.h"
#include "model/scratch.h"

namespace duet::model {

void l2_normalize(float* x, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
    if (sum <= 0.0) return;
    const float scale = static_cast<float>(1.0 / std::sqrt(sum));
    for (int64_t i = 0; i < n; ++i) x[i] *= scale;
}

Encoder::Encoder(const Model& model, int32_t max_batch_tokens, ThreadPool* pool)
    : model_(model), max_batch_tokens_(max_batch_tokens), pool_(pool) {
    const ModelConfig& c = model.config();
    DUET_ASSERT(max_batch_tokens > 0);
    DUET_ASSERT(c.family == Family::encoder);
    const size_t T = static_cast<size_t>(max_batch_tokens);
    max_seq_len_ = std::min(max_batch_tokens, c.n_ctx_train);
    const int n_threads = pool != nullptr ? pool->n_threads() : 1;

    x_ = reserve<float>(T * c.n_embd);
    xb_ = reserve<float>(T * c.n_embd);
    q_ = reserve<float>(T * c.q_dim());
    k_ = reserve<float>(T * c.kv_dim());
    v_ = reserve<float>(T * c.kv_dim());
    attn_ = reserve<float>(T * c.q_dim());
    up_ = reserve<float>(T * c.n_ff);
    scores_ = reserve<float>(static_cast<size_t>(n_threads) * max_seq_len_);
    seq_of_ = reserve<int32_t>(T);
    pos_of_ = reserve<int32_t>(T);
    start_of_ = reserve<int32_t>(T);
    len_of_ = reserve<int32_t>(T);

    size_t scratch = 0;
    for (const LayerWeights& l : model.layers())
        for (const WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_up, &l.w_down})
            scratch = std::max(scratch, kernels::matmul_scratch_size(w->type, w->n, max_batch_tokens));
    matmul_scratch_ = reserve<uint8_t>(scratch);
}

Encoder::~Encoder() {
    for (void* p : {static_cast<void*>(x_), static_cast<void*>(xb_), static_cast<void*>(q_), static_cast<void*>(k_),
                    static_cast<void*>(v_), static_cast<void*>(attn_), static_cast<void*>(up_),
                    static_cast<void*>(scores_), static_cast<void*>(seq_of_), static_cast<void*>(pos_of_),
                    static_cast<void*>(start_of_), static_cast<void*>(len_of_), matmul_scratch_})
        std::free(p);
}

Status Encoder::validate(std::span<const std::vector<TokenId>> sequences, int64_t* n_tokens) const {
    const ModelConfig& c = model_.config();
    if (sequences.empty()) return Status::invalid_argument("encoder: no sequences");
    int64_t total = 0;
    for (size_t s = 0; s < sequences.size(); ++s) {
        const auto& seq = sequences[s];
        if (seq.empty()) return Status::invalid_argument("encoder: sequence %zu is empty", s);
        const int64_t limit = std::min<int64_t>(max_batch_tokens_, c.n_ctx_train);
        if (static_cast<int64_t>(seq.size()) > limit)
            return Status::invalid_argument(
                "encoder: sequence %zu has %zu tokens, over the limit %lld (context %d, "
                "batch %d)",
                s, seq.size(), static_cast<long long>(limit), c.n_ctx_train, max_batch_tokens_);
        for (size_t i = 0; i < seq.size(); ++i)
            if (seq[i] < 0 || seq[i] >= c.n_vocab)
                return Status::out_of_range("encoder: sequence %zu, token %zu: id %d out of range [0, %d)", s, i,
                                            seq[i], c.n_vocab);
        total += static_cast<int64_t>(seq.size());
    }
    *n_tokens = total;
    return {};
}

Result<std::span<const float>> Encoder::hidden_states(std::span<const std::vector<TokenId>> sequences) {
    int64_t n_tokens = 0;
    DUET_RETURN_IF_ERROR(validate(sequences, &n_tokens));
    if (n_tokens > max_batch_tokens_)
        return Status::invalid_argument("encoder: %lld tokens in one pass, over max_batch_tokens %d",
                                        static_cast<long long>(n_tokens), max_batch_tokens_);
    run(sequences, n_tokens);
    return std::span<const float>(x_, static_cast<size_t>(n_tokens) * model_.config().n_embd);
}

Result<std::vector<std::vector<float>>> Encoder::embed(std::span<const std::vector<TokenId>> sequences,
                                                       bool normalize) {
    const ModelConfig& c = model_.config();
    if (c.pooling == Pooling::none)
        return Status::invalid_argument(
            "encoder: the model's pooling is none (bert.pooling_type 0): it gives one "
            "vector per token, not per sequence");
    int64_t n_tokens = 0;
    DUET_RETURN_IF_ERROR(validate(sequences, &n_tokens));
    std::vector<std::vector<float>> out(sequences.size());
    const int64_t n_embd = c.n_embd;
    // Greedy passes: consecutive sequences while their tokens fit max_batch_tokens.
    for (size_t first = 0; first < sequences.size();) {
        size_t last = first;
        int64_t pass_tokens = 0;
        while (last < sequences.size() &&
               pass_tokens + static_cast<int64_t>(sequences[last].size()) <= max_batch_tokens_)
            pass_tokens += static_cast<int64_t>(sequences[last++].size());
        const auto pass = sequences.subspan(first, last - first);
        run(pass, pass_tokens);
        int64_t start = 0;
        for (size_t s = 0; s < pass.size(); ++s) {
            const int64_t len = static_cast<int64_t>(pass[s].size());
            std::vector<float>& v = out[first + s];
            v.assign(static_cast<size_t>(n_embd), 0.0f);
            switch (c.pooling) {
                case Pooling::mean: {
                    for (int64_t i = 0; i < n_embd; ++i) {
                        double sum = 0.0;
                        for (int64_t t = start; t < start + len; ++t) sum += x_[t * n_embd + i];
                        v[i] = static_cast<float>(sum / static_cast<double>(len));
                    }
                    break;
                }
                case Pooling::cls:
                    std::memcpy(v.data(), x_ + start * n_embd, sizeof(float) * n_embd);
                    break;
                case Pooling::last:
                    std::memcpy(v.data(), x_ + (start + len - 1) * n_embd, sizeof(float) * n_embd);
                    break;
                case Pooling::none:
                    DUET_ASSERT(false);
                    break;
            }
            if (normalize) l2_normalize(v.data(), n_embd);
            start += len;
        }
        first = last;
    }
    return out;
}

// Every (token, head) attends over all tokens of its own sequence (no mask inside a sequence, nothing across).
void Encoder::attention(int64_t n_tokens) {
    const ModelConfig& c = model_.config();
    const int32_t head_dim = c.head_dim;
    const int64_t width = c.q_dim();
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    parallel_for(pool_, n_tokens * c.n_heads, [&](int64_t begin, int64_t end, int ith) {
        float* scores = scores_ + static_cast<size_t>(ith) * max_seq_len_;
        for (int64_t task = begin; task < end; ++task) {
            const int64_t t = task / c.n_heads;
            const int64_t h = task % c.n_heads;
            const int64_t start = start_of_[t];
            const int32_t len = len_of_[t];
            const float* qh = q_ + t * width + h * head_dim;
            for (int32_t j = 0; j < len; ++j)
                scores[j] = scale * kernels::dot_f32(k_ + (start + j) * width + h * head_dim, qh, head_dim);
            kernels::softmax(scores, len);
            float* out = attn_ + t * width + h * head_dim;
            std::memset(out, 0, sizeof(float) * head_dim);
            for (int32_t j = 0; j < len; ++j)
                kernels::axpy_f32(out, scores[j], v_ + (start + j) * width + h * head_dim, head_dim);
        }
    });
}

void Encoder::run(std::span<const std::vector<TokenId>> sequences, int64_t n_tokens) {
    const ModelConfig& c = model_.config();
    const ModelWeights& w = model_.weights();
    const int64_t T = n_tokens;
    const int64_t n_embd = c.n_embd;
    const float eps = c.layer_norm_eps;
    DUET_ASSERT(T > 0 && T <= max_batch_tokens_);

    int64_t t = 0;
    for (size_t s = 0; s < sequences.size(); ++s) {
        const int32_t len = static_cast<int32_t>(sequences[s].size());
        for (int32_t p = 0; p < len; ++p, ++t) {
            seq_of_[t] = static_cast<int32_t>(s);
            pos_of_[t] = p;
            start_of_[t] = static_cast<int32_t>(t - p);
            len_of_[t] = len;
        }
    }
    auto token_id = [&](int64_t i) { return sequences[seq_of_[i]][pos_of_[i]]; };

    auto matmul_bias = [&](const WeightView& wt, const float* bias, const float* x, float* y) {
        kernels::matmul(wt.type, wt.data, wt.n, wt.d, x, T, y, matmul_scratch_, pool_);
        parallel_for(pool_, T, [&](int64_t b, int64_t e, int) {
            for (int64_t i = b; i < e; ++i) kernels::add(y + i * wt.d, y + i * wt.d, bias, wt.d);
        });
    };
    // x = LN(x + y) per token
    auto residual_norm = [&](const float* y, const float* norm_w, const float* norm_b) {
        parallel_for(pool_, T, [&](int64_t b, int64_t e, int) {
            for (int64_t i = b; i < e; ++i) {
                float* xi = x_ + i * n_embd;
                kernels::add(xi, y + i * n_embd, xi, n_embd);
                kernels::layernorm(xi, xi, norm_w, norm_b, n_embd, eps);
            }
        });
    };

    // Embeddings: token row + token type 0 + position row, then LayerNorm.
    parallel_for(pool_, T, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) {
            float* xi = x_ + i * n_embd;
            float* tmp = xb_ + i * n_embd;
            kernels::get_row(w.token_embd.type, w.token_embd.data, n_embd, token_id(i), xi);
            kernels::get_row(w.token_types.type, w.token_types.data, n_embd, 0, tmp);
            kernels::add(xi, xi, tmp, n_embd);
            kernels::get_row(w.position_embd.type, w.position_embd.data, n_embd, pos_of_[i], tmp);
            kernels::add(xi, xi, tmp, n_embd);
            kernels::layernorm(xi, xi, w.embd_norm, w.embd_norm_b, n_embd, eps);
        }
    });

    for (const LayerWeights& l : w.layers) {
        // q, k, v from the same rows: one quantization of x, one parallel region
        const kernels::MatmulOp qkv[3] = {{l.wq.type, l.wq.data, l.wq.d, q_},
                                          {l.wk.type, l.wk.data, l.wk.d, k_},
                                          {l.wv.type, l.wv.data, l.wv.d, v_}};
        kernels::matmul_many(qkv, n_embd, x_, T, matmul_scratch_, pool_);
        parallel_for(pool_, T, [&](int64_t b, int64_t e, int) {
            for (int64_t i = b; i < e; ++i) {
                kernels::add(q_ + i * c.q_dim(), q_ + i * c.q_dim(), l.bq, c.q_dim());
                kernels::add(k_ + i * c.kv_dim(), k_ + i * c.kv_dim(), l.bk, c.kv_dim());
                kernels::add(v_ + i * c.kv_dim(), v_ + i * c.kv_dim(), l.bv, c.kv_dim());
            }
        });
        attention(T);
        matmul_bias(l.wo, l.bo, attn_, xb_);
        residual_norm(xb_, l.attn_out_norm, l.attn_out_norm_b);

        matmul_bias(l.w_up, l.b_up, x_, up_);
        parallel_for(pool_, T, [&](int64_t b, int64_t e, int) {
            for (int64_t i = b; i < e; ++i) kernels::gelu(up_ + i * c.n_ff, up_ + i * c.n_ff, c.n_ff);
        });
        matmul_bias(l.w_down, l.b_down, up_, xb_);
        residual_norm(xb_, l.ffn_out_norm, l.ffn_out_norm_b);
    }
}

}  // namespace duet::model
