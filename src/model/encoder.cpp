// encoder.cpp: the encoder pass in the order of encoder.h's picture: embeddings + LayerNorm, then per layer
// biased q/k/v, bidirectional attention within each sequence, output projection + residual + LayerNorm, GELU FFN
// + residual + LayerNorm; then pooling and L2 normalisation per sequence.
#include "model/encoder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "common/assert.h"
#include "kernels/encoder_kernels.h"
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

const char* EncoderProfile::stage_name(int stage) {
    static const char* const kNames[n_stages] = {"embed",     "qkv",         "attention", "attn_out",
                                                 "attn_norm", "ffn_up_gelu", "ffn_down",  "ffn_norm"};
    return stage >= 0 && stage < n_stages ? kNames[stage] : "?";
}

namespace {

int64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

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
    seq_of_ = reserve<int32_t>(T);
    pos_of_ = reserve<int32_t>(T);
    start_of_ = reserve<int32_t>(T);
    len_of_ = reserve<int32_t>(T);

    size_t scratch = 0;
    for (const LayerWeights& l : model.layers())
        for (const WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_up, &l.w_down})
            scratch = std::max(scratch, kernels::gemm_scratch_size(w->type, w->n, max_batch_tokens));
    matmul_scratch_ = reserve<uint8_t>(scratch);
    attn_scratch_stride_ = (kernels::attention_scratch_floats(max_seq_len_, c.head_dim) + 15) / 16 * 16;
    attn_scratch_ = reserve<float>(static_cast<size_t>(n_threads) * attn_scratch_stride_);

    auto pack = [](const WeightView& w) { return kernels::GemmWeights::pack(w.type, w.data, w.n, w.d); };
    packed_.reserve(model.layers().size());
    for (const LayerWeights& l : model.layers())
        packed_.push_back({pack(l.wq), pack(l.wk), pack(l.wv), pack(l.wo), pack(l.w_up), pack(l.w_down)});
}

Encoder::~Encoder() {
    for (void* p : {static_cast<void*>(x_), static_cast<void*>(xb_), static_cast<void*>(q_), static_cast<void*>(k_),
                    static_cast<void*>(v_), static_cast<void*>(attn_), static_cast<void*>(up_),
                    static_cast<void*>(seq_of_), static_cast<void*>(pos_of_), static_cast<void*>(start_of_),
                    static_cast<void*>(len_of_), matmul_scratch_, static_cast<void*>(attn_scratch_)})
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

// Every (sequence, head) pair is one task: each token attends over all tokens of its own sequence (no mask
// inside a sequence, nothing across).
void Encoder::attention(int64_t n_tokens) {
    const ModelConfig& c = model_.config();
    const int32_t head_dim = c.head_dim;
    const int64_t width = c.q_dim();
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    int64_t n_seqs = 0;
    for (int64_t t = 0; t < n_tokens; t += len_of_[t]) ++n_seqs;
    parallel_for(pool_, n_seqs * c.n_heads, [&](int64_t begin, int64_t end, int ith) {
        float* scratch = attn_scratch_ + static_cast<size_t>(ith) * attn_scratch_stride_;
        int64_t seq = -1, start = 0;  // walk the packed sequences up to this task's
        for (int64_t task = begin; task < end; ++task) {
            const int64_t s = task / c.n_heads, h = task % c.n_heads;
            while (seq < s) {
                if (seq >= 0) start += len_of_[start];
                ++seq;
            }
            const int64_t off = start * width + h * head_dim;
            kernels::attention_head(q_ + off, k_ + off, v_ + off, attn_ + off, len_of_[start], head_dim, width, scale,
                                    scratch);
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
    // Profiling (off unless set_profile): the calling thread's CPU time up to now goes to `stage`.
    int64_t mark = profile_ != nullptr ? thread_cpu_ns() : 0;
    auto charge = [&](EncoderProfile::Stage stage) {
        if (profile_ == nullptr) return;
        const int64_t now = thread_cpu_ns();
        profile_->ns[stage] += now - mark;
        mark = now;
    };
    if (profile_ != nullptr) ++profile_->passes;

    auto matmul_bias = [&](const kernels::GemmWeights& wt, const float* bias, const float* x, float* y) {
        kernels::gemm_bias(wt, bias, x, T, y, matmul_scratch_, pool_);
    };
    // x = LN(x + y) per token; then x's rows prepared for the next product (`next`: its quantization pass)
    auto residual_norm = [&](const float* y, const float* norm_w, const float* norm_b,
                             const kernels::GemmWeights* next) {
        parallel_for(pool_, T, [&](int64_t b, int64_t e, int) {
            for (int64_t i = b; i < e; ++i)
                kernels::add_layernorm(x_ + i * n_embd, y + i * n_embd, norm_w, norm_b, n_embd, eps);
            if (next != nullptr) kernels::prepare_gemm_rows(*next, x_, T, b, e, matmul_scratch_);
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
        if (!packed_.empty()) kernels::prepare_gemm_rows(packed_[0].wq, x_, T, b, e, matmul_scratch_);
    });
    charge(EncoderProfile::embed);

    for (size_t li = 0; li < w.layers.size(); ++li) {
        const LayerWeights& l = w.layers[li];
        const PackedLayer& pl = packed_[li];
        // q, k, v from the same rows: one quantization of x, one parallel region, biases in the epilogue
        const kernels::GemmOp qkv[3] = {{&pl.wq, l.bq, q_}, {&pl.wk, l.bk, k_}, {&pl.wv, l.bv, v_}};
        kernels::gemm_bias_many(qkv, x_, T, matmul_scratch_, pool_, /*rows_prepared=*/true);
        charge(EncoderProfile::qkv);
        attention(T);
        charge(EncoderProfile::attention);
        matmul_bias(pl.wo, l.bo, attn_, xb_);
        charge(EncoderProfile::attn_out);
        residual_norm(xb_, l.attn_out_norm, l.attn_out_norm_b, &pl.w_up);
        charge(EncoderProfile::attn_norm);

        kernels::gemm_bias(pl.w_up, l.b_up, x_, T, up_, matmul_scratch_, pool_, /*gelu=*/true, /*rows_prepared=*/true);
        charge(EncoderProfile::ffn_up_gelu);
        matmul_bias(pl.w_down, l.b_down, up_, xb_);
        charge(EncoderProfile::ffn_down);
        residual_norm(xb_, l.ffn_out_norm, l.ffn_out_norm_b, li + 1 < packed_.size() ? &packed_[li + 1].wq : nullptr);
        charge(EncoderProfile::ffn_norm);
    }
}

}  // namespace duet::model
