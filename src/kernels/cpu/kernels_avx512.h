// kernels_avx512.h: the encoder's and attention's AVX-512 kernels (512-bit vectors; gemm_avx512.cpp, encoder_ops_avx512.cpp),
// compiled with AVX-512 F/BW/VL/VNNI and chosen when cpu_has_avx512_vnni() (encoder_kernels.cpp). Layouts of the
// packed weights: kernels/encoder_kernels.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace duet::cpu {

// Bytes of one packed Q8_0 panel block: q[8][16][4] int8, d[16] float, corr[16] int32.
constexpr size_t kQ8PanelBlockBytes = 8 * 16 * 4 + 16 * 4 + 16 * 4;

// Activations for the Q8_0 kernel: rows [t0, t1) of X (T, n) -> xq (T, n) bytes (q + 128, q = nearbyint(x / d))
// and dx (T, n/32) scales d = absmax / 127 per 32-value block (ref::quantize_row_q8_1f's values).
void quantize_rows_u8_avx512(const float* x, int64_t n, int64_t t0, int64_t t1, uint8_t* xq, float* dx);

// Y rows [0, T), output rows of panels [p0, p1): Y[t][r] = dot(W row r, x row t) + bias[r] (bias may be null),
// then GELU through gelu_table (gelu_table.h's values) unless it is null.
void gemm_q8_0_avx512(const uint8_t* packed, int64_t n, int64_t d, const uint8_t* xq, const float* dx, int64_t T,
                      const float* bias, float* y, int64_t p0, int64_t p1, const float* gelu_table);
void gemm_f32_avx512(const float* packed, int64_t n, int64_t d, const float* x, int64_t T, const float* bias, float* y,
                     int64_t p0, int64_t p1, const float* gelu_table);
void gemm_f16_avx512(const uint16_t* packed, int64_t n, int64_t d, const float* x, int64_t T, const float* bias,
                     float* y, int64_t p0, int64_t p1, const float* gelu_table);

// encoder_kernels.h's attention_head (head_dim a multiple of 16), add_layernorm, and the table GELU
// (gelu_table.h's values, 16 lookups per gather).
void attention_head_avx512(const float* q, const float* k, const float* v, float* out, int64_t len, int64_t head_dim,
                           int64_t stride, float scale, float* scratch);
void add_layernorm_avx512(float* x, const float* y, const float* w, const float* b, int64_t n, float eps);
void gelu_avx512(float* out, const float* x, int64_t n, const float* table);

// The element-wise ops of kernels.h on 16-float vectors (ops_avx512.cpp; ops_avx2.cpp's twins on 8 floats).
void rmsnorm_avx512(float* out, const float* x, const float* w, int64_t n, float eps);
void softmax_avx512(float* x, int64_t n);
void silu_mul_avx512(float* out, const float* gate, const float* up, int64_t n);
void add_avx512(float* out, const float* a, const float* b, int64_t n);
void f32_to_f16_avx512(uint16_t* out, const float* x, int64_t n);
// kernels.h's rope_rotate (neox: pairs i, i + n_rot/2; else pairs 2i, 2i+1) where rope_avx512_fits(); bit-exact.
bool rope_avx512_fits(int64_t n_rot, bool neox);
void rope_rotate_avx512(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs, bool neox);

// kernels.h's attn_scores_f16 / attn_values_f16 (attention_avx512.cpp) for the head sizes attn_avx512_fits().
bool attn_avx512_fits(int64_t head_dim);
void attn_scores_f16_avx512(float* scores, int64_t ld, const float* q, int64_t n_q, const uint16_t* k, int64_t stride,
                            int64_t n, int64_t head_dim, float scale);
void attn_values_f16_avx512(float* out, const float* w, int64_t ld, int64_t n_q, const uint16_t* v, int64_t stride,
                            int64_t n, int64_t head_dim);

}  // namespace duet::cpu
