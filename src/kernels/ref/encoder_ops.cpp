// encoder_ops.cpp: the reference twins of the encoder's many-row kernels (encoder_ops.h).
#include "kernels/ref/encoder_ops.h"

#include <cstring>

#include "kernels/ref/ops.h"

namespace duet::ref {

void gemm_bias(TensorType wtype, const void* w, int64_t n, int64_t d, const float* bias, const float* x,
               int64_t n_tokens, float* y, void* scratch, ThreadPool* pool, bool gelu) {
    matmul(wtype, w, n, d, x, n_tokens, y, scratch, pool);
    for (int64_t t = 0; t < n_tokens; ++t) {
        if (bias != nullptr) add(y + t * d, y + t * d, bias, d);
        if (gelu) ref::gelu(y + t * d, y + t * d, d);
    }
}

void attention_head(const float* q, const float* k, const float* v, float* out, int64_t len, int64_t head_dim,
                    int64_t stride, float scale, float* scratch) {
    for (int64_t t = 0; t < len; ++t) {
        const float* qt = q + t * stride;
        for (int64_t j = 0; j < len; ++j) scratch[j] = scale * dot_f32(k + j * stride, qt, head_dim);
        softmax(scratch, len);
        float* o = out + t * stride;
        std::memset(o, 0, sizeof(float) * static_cast<size_t>(head_dim));
        for (int64_t j = 0; j < len; ++j) axpy_f32(o, scratch[j], v + j * stride, head_dim);
    }
}

void add_layernorm(float* x, const float* y, const float* w, const float* b, int64_t n, float eps) {
    add(x, x, y, n);
    layernorm(x, x, w, b, n, eps);
}

}  // namespace duet::ref
