// ops.cpp: the naive reference ops (matmul over the reference dot products, norms, RoPE, activations).
#include "kernels/ref/ops.h"

#include <algorithm>
#include <cmath>

#include "common/assert.h"
#include "common/fp16.h"
#include "kernels/ref/quants.h"
#include "kernels/ref/vec_dot.h"

namespace duet::ref {

size_t matmul_scratch_size(TensorType wtype, int64_t n, int64_t n_tokens) {
    return activation_row_size(wtype, n) * static_cast<size_t>(n_tokens);
}

void matmul(TensorType wtype, const void* w, int64_t n, int64_t d, const float* x, int64_t n_tokens, float* y,
            void* scratch, ThreadPool* pool) {
    DUET_ASSERT(type_has_kernels(wtype) && n % traits(wtype).block_size == 0);
    const size_t act_size = activation_row_size(wtype, n);
    const bool is_float = activation_format(wtype) == ActivationFormat::f32;
    auto* xq = static_cast<uint8_t*>(scratch);
    for (int64_t t = 0; t < n_tokens; ++t) quantize_activation_row(wtype, x + t * n, xq + t * act_size, n);
    const size_t w_row_size = row_size(wtype, n);
    auto work = [&](int ith, int nth) {
        int64_t begin, end;
        split_range(d, ith, nth, &begin, &end);
        for (int64_t i = begin; i < end; ++i) {
            const void* w_row = static_cast<const uint8_t*>(w) + static_cast<size_t>(i) * w_row_size;
            for (int64_t t = 0; t < n_tokens; ++t) {
                const void* xt = is_float ? static_cast<const void*>(x + t * n) : xq + t * act_size;
                y[t * d + i] = vec_dot(wtype, n, w_row, xt);
            }
        }
    };
    if (pool) pool->run(work);
    else work(0, 1);
}

void get_row(TensorType wtype, const void* w, int64_t n, int64_t i, float* out) {
    dequantize_row(wtype, static_cast<const uint8_t*>(w) + static_cast<size_t>(i) * row_size(wtype, n), out, n);
}

void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void layernorm(float* out, const float* x, const float* w, const float* b, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    double sum2 = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i] - mean;
        out[i] = v;
        sum2 += static_cast<double>(v * v);
    }
    const float variance = static_cast<float>(sum2 / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(variance + eps);
    for (int64_t i = 0; i < n; ++i) out[i] = out[i] * scale * w[i] + b[i];
}

float gelu_tanh(float x) {
    constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
    constexpr float kCoefA = 0.044715f;
    return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoefA * x * x)));
}

void gelu(float* out, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (v <= -10.0f) out[i] = 0.0f;
        else if (v >= 10.0f) out[i] = v;
        else out[i] = fp16_to_fp32(fp32_to_fp16(gelu_tanh(fp16_to_fp32(fp32_to_fp16(v)))));
    }
}

namespace {

// The angle of RoPE pair i at position pos: pos * freq_base^(-2i / n_rot), divided by the pair's frequency factor.
float rope_theta(int64_t i, int64_t n_rot, int64_t pos, float freq_base, const float* freq_factors) {
    float theta =
        static_cast<float>(pos) * std::pow(freq_base, -2.0f * static_cast<float>(i) / static_cast<float>(n_rot));
    if (freq_factors) theta /= freq_factors[i];
    return theta;
}

}  // namespace

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
          const float* freq_factors, RopeMode mode) {
    DUET_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim);
    for (int64_t i = 0; i < n_rot / 2; ++i) {
        const float theta = rope_theta(i, n_rot, pos, freq_base, freq_factors);
        const float c = std::cos(theta), s = std::sin(theta);
        for (int64_t h = 0; h < n_heads; ++h) {
            float* xh = x + h * head_dim;
            const int64_t i0 = mode == RopeMode::norm ? 2 * i : i;
            const int64_t i1 = mode == RopeMode::norm ? 2 * i + 1 : i + n_rot / 2;
            const float x0 = xh[i0], x1 = xh[i1];
            xh[i0] = x0 * c - x1 * s;
            xh[i1] = x0 * s + x1 * c;
        }
    }
}

void rope_angles(float* cs, int64_t n_rot, int64_t pos, float freq_base, const float* freq_factors) {
    DUET_ASSERT(n_rot % 2 == 0);
    for (int64_t i = 0; i < n_rot / 2; ++i) {
        const float theta = rope_theta(i, n_rot, pos, freq_base, freq_factors);
        cs[2 * i] = std::cos(theta);
        cs[2 * i + 1] = std::sin(theta);
    }
}

void rope_rotate(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs, RopeMode mode) {
    DUET_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim);
    for (int64_t h = 0; h < n_heads; ++h) {
        float* xh = x + h * head_dim;
        for (int64_t i = 0; i < n_rot / 2; ++i) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const int64_t i0 = mode == RopeMode::norm ? 2 * i : i;
            const int64_t i1 = mode == RopeMode::norm ? 2 * i + 1 : i + n_rot / 2;
            const float x0 = xh[i0], x1 = xh[i1];
            xh[i0] = x0 * c - x1 * s;
            xh[i1] = x0 * s + x1 * c;
        }
    }
}

int64_t argmax(const float* x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return best;
}

void softmax(float* x, int64_t n) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul(float* out, const float* gate, const float* up, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void add(float* out, const float* a, const float* b, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

float dot_f32(const float* a, const float* b, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
    return static_cast<float>(sum);
}

float dot_f16_f32(const uint16_t* a, const float* b, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(a[i])) * b[i];
    return static_cast<float>(sum);
}

void axpy_f16(float* out, float w, const uint16_t* v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] += w * fp16_to_fp32(v[i]);
}

void axpy_f32(float* out, float w, const float* v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] += w * v[i];
}

void f32_to_f16(uint16_t* out, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

// Attention over one block for a group of query heads: the position-at-a-time loops of dot and axpy.
void attn_scores_f16(float* scores, int64_t ld, const float* q, int64_t n_q, const uint16_t* k, int64_t stride,
                     int64_t n, int64_t head_dim, float scale) {
    attn_scores_loop(dot_f16_f32, scores, ld, q, n_q, k, stride, n, head_dim, scale);
}

void attn_values_f16(float* out, const float* w, int64_t ld, int64_t n_q, const uint16_t* v, int64_t stride, int64_t n,
                     int64_t head_dim) {
    attn_values_loop(axpy_f16, out, w, ld, n_q, v, stride, n, head_dim);
}

void attn_scores_f32(float* scores, int64_t ld, const float* q, int64_t n_q, const float* k, int64_t stride, int64_t n,
                     int64_t head_dim, float scale) {
    attn_scores_loop(dot_f32, scores, ld, q, n_q, k, stride, n, head_dim, scale);
}

void attn_values_f32(float* out, const float* w, int64_t ld, int64_t n_q, const float* v, int64_t stride, int64_t n,
                     int64_t head_dim) {
    attn_values_loop(axpy_f32, out, w, ld, n_q, v, stride, n, head_dim);
}

}  // namespace duet::ref
