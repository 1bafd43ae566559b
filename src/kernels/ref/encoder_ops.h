// encoder_ops.h: naive reference twins of kernels/encoder_kernels.h (namespace duet::ref), over the original
// (unpacked) weights. Plain loops, written for clarity; the AVX-512 kernels are tested against these.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor_type.h"
#include "common/thread_pool.h"

namespace duet::ref {

// Y (n_tokens, d) = X (n_tokens, n) @ W^T + bias (bias may be null): ref::matmul, then the bias per row, then
// ref::gelu if `gelu`.
// scratch: ref::matmul_scratch_size(wtype, n, n_tokens) bytes.
void gemm_bias(TensorType wtype, const void* w, int64_t n, int64_t d, const float* bias, const float* x,
               int64_t n_tokens, float* y, void* scratch, ThreadPool* pool, bool gelu = false);

// out[t] = sum_j softmax_j(scale * q[t] . k[j]) v[j], rows at t * stride (ref::softmax, one query at a time).
// scratch: len floats.
void attention_head(const float* q, const float* k, const float* v, float* out, int64_t len, int64_t head_dim,
                    int64_t stride, float scale, float* scratch);

// x (n,) = layernorm(x + y; w, b): ref::add, then ref::layernorm.
void add_layernorm(float* x, const float* y, const float* w, const float* b, int64_t n, float eps);

}  // namespace duet::ref
