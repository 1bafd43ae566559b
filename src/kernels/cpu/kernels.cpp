// kernels.cpp: the ops of kernels.h; dispatch on backend and weight type once per call.
#include "kernels/kernels.h"

#include "common/assert.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/quants.h"

namespace duet::kernels {

namespace {
Backend g_backend = Backend::ref;
}  // namespace

Backend active_backend() { return g_backend; }
void force_backend(Backend backend) { g_backend = backend; }

size_t matmul_scratch_size(TensorType wtype, int64_t n, int64_t n_tokens) {
    return ref::matmul_scratch_size(wtype, n, n_tokens);
}

void matmul(TensorType wtype, const void* w, int64_t n, int64_t d, const float* x, int64_t n_tokens, float* y,
            void* scratch, ThreadPool* pool) {
    ref::matmul(wtype, w, n, d, x, n_tokens, y, scratch, pool);
}

void get_row(TensorType wtype, const void* w, int64_t n, int64_t i, float* out) { ref::get_row(wtype, w, n, i, out); }
void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps) { ref::rmsnorm(out, x, w, n, eps); }
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
          const float* freq_factors, RopeMode mode) {
    ref::rope(x, n_heads, head_dim, n_rot, pos, freq_base, freq_factors, mode);
}
void softmax(float* x, int64_t n) { ref::softmax(x, n); }
void silu_mul(float* out, const float* gate, const float* up, int64_t n) { ref::silu_mul(out, gate, up, n); }
void add(float* out, const float* a, const float* b, int64_t n) { ref::add(out, a, b, n); }
float dot_f32(const float* a, const float* b, int64_t n) { return ref::dot_f32(a, b, n); }
float dot_f16_f32(const uint16_t* a, const float* b, int64_t n) { return ref::dot_f16_f32(a, b, n); }
void axpy_f16(float* out, float w, const uint16_t* v, int64_t n) { ref::axpy_f16(out, w, v, n); }
void axpy_f32(float* out, float w, const float* v, int64_t n) { ref::axpy_f32(out, w, v, n); }
void f32_to_f16(uint16_t* out, const float* x, int64_t n) { ref::f32_to_f16(out, x, n); }

}  // namespace duet::kernels
