// kernels_ops.cpp: the element-wise ops of kernels.h (norms, activations, attention's dots and axpys, RoPE): each
// runs this build's SIMD kernel unless the active backend is ref (kernels.cpp has the backends and the matmuls).
#include <cstdint>

#include "common/assert.h"
#include "kernels/cpu/gelu_table.h"
#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/kernels_avx512.h"
#include "kernels/cpu/simd_arch.h"
#include "kernels/kernels.h"
#include "kernels/ref/ops.h"

namespace duet::kernels {

namespace {

// The element-wise SIMD kernels of this build's architecture (the reference ones where it has none).
namespace simd {
#if DUET_SIMD_X86
constexpr auto rmsnorm = cpu::rmsnorm_avx2;
constexpr auto softmax = cpu::softmax_avx2;
constexpr auto argmax = cpu::argmax_avx2;
constexpr auto silu_mul = cpu::silu_mul_avx2;
constexpr auto add = cpu::add_avx2;
constexpr auto dot_f32 = cpu::dot_f32_avx2;
constexpr auto dot_f16_f32 = cpu::dot_f16_f32_avx2;
constexpr auto axpy_f16 = cpu::axpy_f16_avx2;
constexpr auto axpy_f32 = cpu::axpy_f32_avx2;
constexpr auto f32_to_f16 = cpu::f32_to_f16_avx2;
#elif DUET_SIMD_NEON
constexpr auto rmsnorm = cpu::rmsnorm_neon;
constexpr auto softmax = cpu::softmax_neon;
constexpr auto argmax = ref::argmax;
constexpr auto silu_mul = cpu::silu_mul_neon;
constexpr auto add = cpu::add_neon;
constexpr auto dot_f32 = cpu::dot_f32_neon;
constexpr auto dot_f16_f32 = cpu::dot_f16_f32_neon;
constexpr auto axpy_f16 = cpu::axpy_f16_neon;
constexpr auto axpy_f32 = cpu::axpy_f32_neon;
constexpr auto f32_to_f16 = cpu::f32_to_f16_neon;
#else
constexpr auto rmsnorm = ref::rmsnorm;
constexpr auto softmax = ref::softmax;
constexpr auto argmax = ref::argmax;
constexpr auto silu_mul = ref::silu_mul;
constexpr auto add = ref::add;
constexpr auto dot_f32 = ref::dot_f32;
constexpr auto dot_f16_f32 = ref::dot_f16_f32;
constexpr auto axpy_f16 = ref::axpy_f16;
constexpr auto axpy_f32 = ref::axpy_f32;
constexpr auto f32_to_f16 = ref::f32_to_f16;
#endif
}  // namespace simd

bool use_simd() { return active_backend() != Backend::ref; }

// The backends whose CPUs run the 512-bit element-wise kernels (compiled with AVX-512 F/BW/VL/VNNI).
bool use_avx512() {
    const Backend b = active_backend();
    return b == Backend::avx512_vnni || b == Backend::avx512;
}

}  // namespace

void get_row(TensorType wtype, const void* w, int64_t n, int64_t i, float* out) { ref::get_row(wtype, w, n, i, out); }

void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps) {
#if DUET_SIMD_X86
    if (use_avx512()) return cpu::rmsnorm_avx512(out, x, w, n, eps);
#endif
    if (use_simd()) simd::rmsnorm(out, x, w, n, eps);
    else ref::rmsnorm(out, x, w, n, eps);
}

void layernorm(float* out, const float* x, const float* w, const float* b, int64_t n, float eps) {
    ref::layernorm(out, x, w, b, n, eps);  // once per token and layer: not worth a SIMD twin yet
}

void gelu(float* out, const float* x, int64_t n) {
#if DUET_SIMD_X86
    if (use_avx512()) {
        cpu::gelu_avx512(out, x, n, cpu::gelu_table_values());  // encoder_ops_avx512.cpp: 16 lookups per gather
        return;
    }
#endif
    cpu::gelu_table(out, x, n);
}

// RoPE: the reference loops are the kernels (Forward takes each token's sin/cos once for all layers, rope_angles),
// but for the rotation on the 512-bit backends (its reference loop's bits, 16 values at a time).
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
          const float* freq_factors, RopeMode mode) {
    ref::rope(x, n_heads, head_dim, n_rot, pos, freq_base, freq_factors, mode);
}

void rope_angles(float* cs, int64_t n_rot, int64_t pos, float freq_base, const float* freq_factors) {
    ref::rope_angles(cs, n_rot, pos, freq_base, freq_factors);
}

void rope_rotate(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs, RopeMode mode) {
#if DUET_SIMD_X86
    const bool neox = mode == RopeMode::neox;
    if (use_avx512() && cpu::rope_avx512_fits(n_rot, neox))
        return cpu::rope_rotate_avx512(x, n_heads, head_dim, n_rot, cs, neox);
#endif
    ref::rope_rotate(x, n_heads, head_dim, n_rot, cs, mode);
}

void softmax(float* x, int64_t n) {
#if DUET_SIMD_X86
    if (use_avx512()) return cpu::softmax_avx512(x, n);
#endif
    if (use_simd()) simd::softmax(x, n);
    else ref::softmax(x, n);
}

int64_t argmax(const float* x, int64_t n) {
    DUET_ASSERT(n > 0);
    return use_simd() ? simd::argmax(x, n) : ref::argmax(x, n);
}

void silu_mul(float* out, const float* gate, const float* up, int64_t n) {
#if DUET_SIMD_X86
    if (use_avx512()) return cpu::silu_mul_avx512(out, gate, up, n);
#endif
    if (use_simd()) simd::silu_mul(out, gate, up, n);
    else ref::silu_mul(out, gate, up, n);
}

void add(float* out, const float* a, const float* b, int64_t n) {
#if DUET_SIMD_X86
    if (use_avx512()) return cpu::add_avx512(out, a, b, n);
#endif
    if (use_simd()) simd::add(out, a, b, n);
    else ref::add(out, a, b, n);
}

float dot_f32(const float* a, const float* b, int64_t n) {
    return use_simd() ? simd::dot_f32(a, b, n) : ref::dot_f32(a, b, n);
}

float dot_f16_f32(const uint16_t* a, const float* b, int64_t n) {
    return use_simd() ? simd::dot_f16_f32(a, b, n) : ref::dot_f16_f32(a, b, n);
}

void axpy_f16(float* out, float w, const uint16_t* v, int64_t n) {
    if (use_simd()) simd::axpy_f16(out, w, v, n);
    else ref::axpy_f16(out, w, v, n);
}

void axpy_f32(float* out, float w, const float* v, int64_t n) {
    if (use_simd()) simd::axpy_f32(out, w, v, n);
    else ref::axpy_f32(out, w, v, n);
}

void f32_to_f16(uint16_t* out, const float* x, int64_t n) {
#if DUET_SIMD_X86
    if (use_avx512()) return cpu::f32_to_f16_avx512(out, x, n);
#endif
    if (use_simd()) simd::f32_to_f16(out, x, n);
    else ref::f32_to_f16(out, x, n);
}

// Attention over one block for a group of query heads: the 512-bit kernels where they fit, else the
// position-at-a-time loops (ref::attn_*_loop) on this build's dot / axpy, or on ref's for the ref backend.
void attn_scores_f16(float* scores, int64_t ld, const float* q, int64_t n_q, const uint16_t* k, int64_t stride,
                     int64_t n, int64_t head_dim, float scale) {
#if DUET_SIMD_X86
    if (use_avx512() && cpu::attn_avx512_fits(head_dim))
        return cpu::attn_scores_f16_avx512(scores, ld, q, n_q, k, stride, n, head_dim, scale);
#endif
    ref::attn_scores_loop(use_simd() ? simd::dot_f16_f32 : ref::dot_f16_f32, scores, ld, q, n_q, k, stride, n, head_dim,
                          scale);
}

void attn_values_f16(float* out, const float* w, int64_t ld, int64_t n_q, const uint16_t* v, int64_t stride, int64_t n,
                     int64_t head_dim) {
#if DUET_SIMD_X86
    if (use_avx512() && cpu::attn_avx512_fits(head_dim))
        return cpu::attn_values_f16_avx512(out, w, ld, n_q, v, stride, n, head_dim);
#endif
    ref::attn_values_loop(use_simd() ? simd::axpy_f16 : ref::axpy_f16, out, w, ld, n_q, v, stride, n, head_dim);
}

void attn_scores_f32(float* scores, int64_t ld, const float* q, int64_t n_q, const float* k, int64_t stride, int64_t n,
                     int64_t head_dim, float scale) {
    ref::attn_scores_loop(use_simd() ? simd::dot_f32 : ref::dot_f32, scores, ld, q, n_q, k, stride, n, head_dim, scale);
}

void attn_values_f32(float* out, const float* w, int64_t ld, int64_t n_q, const float* v, int64_t stride, int64_t n,
                     int64_t head_dim) {
    ref::attn_values_loop(use_simd() ? simd::axpy_f32 : ref::axpy_f32, out, w, ld, n_q, v, stride, n, head_dim);
}

}  // namespace duet::kernels
