// ops.h: naive reference twins of every op in kernels/kernels.h (same signatures, namespace duet::ref).
// Plain loops, written for clarity; the optimized kernels are tested against these.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"
#include "common/thread_pool.h"
#include "kernels/kernels.h"

namespace duet::ref {

using kernels::RopeMode;

size_t matmul_scratch_size(TensorType wtype, int64_t n, int64_t n_tokens);
// W (d,n) @ X (n_tokens,n)^T -> Y (n_tokens,d), activations quantized once per call into scratch.
void matmul(TensorType wtype, const void* w, int64_t n, int64_t d, const float* x, int64_t n_tokens, float* y,
            void* scratch, ThreadPool* pool);
void get_row(TensorType wtype, const void* w, int64_t n, int64_t i, float* out);
void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps);
void layernorm(float* out, const float* x, const float* w, const float* b, int64_t n, float eps);
void gelu(float* out, const float* x, int64_t n);
float gelu_tanh(float x);  // 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))), ggml's float expression
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
          const float* freq_factors, RopeMode mode);
void rope_angles(float* cs, int64_t n_rot, int64_t pos, float freq_base, const float* freq_factors);
void rope_rotate(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs, RopeMode mode);
void softmax(float* x, int64_t n);
int64_t argmax(const float* x, int64_t n);
void silu_mul(float* out, const float* gate, const float* up, int64_t n);
void add(float* out, const float* a, const float* b, int64_t n);
float dot_f32(const float* a, const float* b, int64_t n);
float dot_f16_f32(const uint16_t* a, const float* b, int64_t n);
void axpy_f16(float* out, float w, const uint16_t* v, int64_t n);
void axpy_f32(float* out, float w, const float* v, int64_t n);
void f32_to_f16(uint16_t* out, const float* x, int64_t n);
// kernels.h's attention over one block as position-at-a-time loops of a dot / axpy on rows of T: with ref's dot and
// axpy they are the twins below; kernels_ops.cpp runs them on the build's SIMD dot / axpy where no block kernel fits.
template <class T, class Dot>
void attn_scores_loop(Dot dot, float* scores, int64_t ld, const float* q, int64_t n_q, const T* k, int64_t stride,
                      int64_t n, int64_t head_dim, float scale) {
    for (int64_t j = 0; j < n_q; ++j)
        for (int64_t p = 0; p < n; ++p) scores[j * ld + p] = scale * dot(k + p * stride, q + j * head_dim, head_dim);
}
template <class T, class Axpy>
void attn_values_loop(Axpy axpy, float* out, const float* w, int64_t ld, int64_t n_q, const T* v, int64_t stride,
                      int64_t n, int64_t head_dim) {
    for (int64_t j = 0; j < n_q; ++j)
        for (int64_t p = 0; p < n; ++p) axpy(out + j * head_dim, w[j * ld + p], v + p * stride, head_dim);
}
void attn_scores_f16(float* scores, int64_t ld, const float* q, int64_t n_q, const uint16_t* k, int64_t stride,
                     int64_t n, int64_t head_dim, float scale);
void attn_values_f16(float* out, const float* w, int64_t ld, int64_t n_q, const uint16_t* v, int64_t stride, int64_t n,
                     int64_t head_dim);
void attn_scores_f32(float* scores, int64_t ld, const float* q, int64_t n_q, const float* k, int64_t stride, int64_t n,
                     int64_t head_dim, float scale);
void attn_values_f32(float* out, const float* w, int64_t ld, int64_t n_q, const float* v, int64_t stride, int64_t n,
                     int64_t head_dim);

}  // namespace duet::ref
