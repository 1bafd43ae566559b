// gemm_avx512.cpp: the encoder's many-token matmuls on 512-bit vectors, over weights packed in panels of 16 rows
// (encoder_kernels.h). A tile is R tokens x C panels: R*C accumulators of 16 outputs each, the C panel vectors
// loaded once per step and each token's operand broadcast, so every load feeds C (or R) multiply-adds.
//   Q8_0 (R 4 x C 3): per 32-value block, 8 vpdpbusd per accumulator (16 rows x 4 bytes . 4 activation bytes),
//     started from the panel's -128 * block sum (the activations are biased to unsigned), then one convert and
//     one fma with the two scales: 12 int + 12 float accumulators.
//   F32 / F16 (R 8 x C 3): one fma per accumulator per column (F16 panels widened as loaded): 24 accumulators.
// Each thread takes whole panel groups (C panels) and runs every token tile over them, so a group's weights stay
// in L1/L2 while all tokens pass.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*() values, which -Wuninitialized reports (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/kernels_avx512.h"

namespace duet::cpu {

namespace {

constexpr int64_t kPanel = 16;
constexpr int64_t kQK = 32;

// The GELU epilogue (gelu_table non-null): over a group's columns of every token, while they are in L1/L2.
inline void apply_gelu(const float* gelu_table, float* y, int64_t T, int64_t d, int64_t width) {
    if (gelu_table == nullptr) return;
    for (int64_t t = 0; t < T; ++t) gelu_avx512(y + t * d, y + t * d, width, gelu_table);
}

template <int R, int C>
__attribute__((always_inline)) inline void q8_tile(const uint8_t* w, size_t panel_stride, int64_t nb, const uint8_t* xq,
                                                   int64_t n, const float* dx, const float* bias, float* y, int64_t d) {
    __m512 f[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) f[r][c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wb = w + static_cast<size_t>(b) * kQ8PanelBlockBytes;
        __m512i acc[R][C];
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
            const __m512i corr = _mm512_load_si512(wb + c * panel_stride + 576);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[r][c] = corr;
        }
        const uint8_t* xb = xq + b * kQK;
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
            __m512i ws[C];
#pragma GCC unroll 8
            for (int c = 0; c < C; ++c) ws[c] = _mm512_load_si512(wb + c * panel_stride + 64 * s);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                int32_t x4;
                std::memcpy(&x4, xb + r * n + 4 * s, 4);
                const __m512i xs = _mm512_set1_epi32(x4);
#pragma GCC unroll 8
                for (int c = 0; c < C; ++c) acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], xs, ws[c]);
            }
        }
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
            const __m512 dw = _mm512_load_ps(reinterpret_cast<const float*>(wb + c * panel_stride + 512));
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r)
                f[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][c]),
                                          _mm512_mul_ps(dw, _mm512_set1_ps(dx[r * nb + b])), f[r][c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
        const __m512 bv = bias != nullptr ? _mm512_loadu_ps(bias + c * kPanel) : _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) _mm512_storeu_ps(y + r * d + c * kPanel, _mm512_add_ps(f[r][c], bv));
    }
}

template <int C>
void q8_group(const uint8_t* w, size_t panel_stride, int64_t nb, const uint8_t* xq, int64_t n, const float* dx,
              int64_t T, const float* bias, float* y, int64_t d) {
    constexpr int R = 4;
    int64_t t = 0;
    for (; t + R <= T; t += R) q8_tile<R, C>(w, panel_stride, nb, xq + t * n, n, dx + t * nb, bias, y + t * d, d);
    switch (T - t) {
        case 3:
            q8_tile<3, C>(w, panel_stride, nb, xq + t * n, n, dx + t * nb, bias, y + t * d, d);
            break;
        case 2:
            q8_tile<2, C>(w, panel_stride, nb, xq + t * n, n, dx + t * nb, bias, y + t * d, d);
            break;
        case 1:
            q8_tile<1, C>(w, panel_stride, nb, xq + t * n, n, dx + t * nb, bias, y + t * d, d);
            break;
        default:
            break;
    }
}

// Sums run in blocks of kSumBlock columns, each block's sum added to the output row (which holds the running
// total): float rounding then grows with kSumBlock + n / kSumBlock instead of n, about what the 8-lane partial
// sums of the other kernels give (the reference embeddings' F16 tolerances are tight).
constexpr int64_t kSumBlock = 32;

// 16 panel weights of column k: floats, or halves widened (F16 panels keep the file's 2 bytes per weight).
__attribute__((always_inline)) inline __m512 load_panel(const float* w) { return _mm512_load_ps(w); }
__attribute__((always_inline)) inline __m512 load_panel(const uint16_t* w) {
    return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(w)));
}

template <int R, int C, class W>
__attribute__((always_inline)) inline void f32_tile(const W* w, size_t panel_stride, int64_t n, const float* x,
                                                    const float* bias, float* y, int64_t d) {
    for (int64_t k0 = 0; k0 < n; k0 += kSumBlock) {
        const int64_t k1 = std::min(n, k0 + kSumBlock);
        __m512 f[R][C];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
            for (int c = 0; c < C; ++c) f[r][c] = _mm512_setzero_ps();
        for (int64_t k = k0; k < k1; ++k) {
            __m512 ws[C];
#pragma GCC unroll 8
            for (int c = 0; c < C; ++c) ws[c] = load_panel(w + c * panel_stride + k * kPanel);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const __m512 xs = _mm512_set1_ps(x[r * n + k]);
#pragma GCC unroll 8
                for (int c = 0; c < C; ++c) f[r][c] = _mm512_fmadd_ps(ws[c], xs, f[r][c]);
            }
        }
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c)
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                float* out = y + r * d + c * kPanel;
                _mm512_storeu_ps(out, k0 == 0 ? f[r][c] : _mm512_add_ps(_mm512_loadu_ps(out), f[r][c]));
            }
    }
    if (bias == nullptr) return;
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
        const __m512 bv = _mm512_loadu_ps(bias + c * kPanel);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            float* out = y + r * d + c * kPanel;
            _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), bv));
        }
    }
}

template <int C, class W>
void f32_group(const W* w, size_t panel_stride, int64_t n, const float* x, int64_t T, const float* bias, float* y,
               int64_t d) {
    constexpr int R = 8;
    int64_t t = 0;
    for (; t + R <= T; t += R) f32_tile<R, C>(w, panel_stride, n, x + t * n, bias, y + t * d, d);
    for (; t < T; ++t) f32_tile<1, C>(w, panel_stride, n, x + t * n, bias, y + t * d, d);
}

template <class W>
void gemm_float(const W* packed, int64_t n, int64_t d, const float* x, int64_t T, const float* bias, float* y,
                int64_t p0, int64_t p1, const float* gelu_table) {
    constexpr int C = 3;
    const size_t panel_stride = static_cast<size_t>(n) * kPanel;
    for (int64_t p = p0; p < p1; p += C) {
        const W* w = packed + static_cast<size_t>(p) * panel_stride;
        const float* bp = bias != nullptr ? bias + p * kPanel : nullptr;
        switch (std::min<int64_t>(C, p1 - p)) {
            case 3:
                f32_group<3>(w, panel_stride, n, x, T, bp, y + p * kPanel, d);
                break;
            case 2:
                f32_group<2>(w, panel_stride, n, x, T, bp, y + p * kPanel, d);
                break;
            default:
                f32_group<1>(w, panel_stride, n, x, T, bp, y + p * kPanel, d);
                break;
        }
        apply_gelu(gelu_table, y + p * kPanel, T, d, std::min<int64_t>(C, p1 - p) * kPanel);
    }
}

}  // namespace

void quantize_rows_u8_avx512(const float* x, int64_t n, int64_t t0, int64_t t1, uint8_t* xq, float* dx) {
    const int64_t nb = n / kQK;
    const __m512i bias = _mm512_set1_epi32(128);
    for (int64_t t = t0; t < t1; ++t) {
        for (int64_t b = 0; b < nb; ++b) {
            const float* xs = x + t * n + b * kQK;
            const __m512 a = _mm512_loadu_ps(xs), c = _mm512_loadu_ps(xs + 16);
            const __m512 absmax = _mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(c));
            const float amax = _mm512_reduce_max_ps(absmax);
            const float dd = amax / 127.0f;
            const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
            const __m512 vid = _mm512_set1_ps(id);
            const __m512i qa = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(a, vid)), bias);
            const __m512i qc = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(c, vid)), bias);
            uint8_t* out = xq + t * n + b * kQK;
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(qa));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm512_cvtepi32_epi8(qc));
            dx[t * nb + b] = dd;
        }
    }
}

void gemm_q8_0_avx512(const uint8_t* packed, int64_t n, int64_t d, const uint8_t* xq, const float* dx, int64_t T,
                      const float* bias, float* y, int64_t p0, int64_t p1, const float* gelu_table) {
    constexpr int C = 3;
    const int64_t nb = n / kQK;
    const size_t panel_stride = static_cast<size_t>(nb) * kQ8PanelBlockBytes;
    for (int64_t p = p0; p < p1; p += C) {
        const uint8_t* w = packed + static_cast<size_t>(p) * panel_stride;
        const float* bp = bias != nullptr ? bias + p * kPanel : nullptr;
        switch (std::min<int64_t>(C, p1 - p)) {
            case 3:
                q8_group<3>(w, panel_stride, nb, xq, n, dx, T, bp, y + p * kPanel, d);
                break;
            case 2:
                q8_group<2>(w, panel_stride, nb, xq, n, dx, T, bp, y + p * kPanel, d);
                break;
            default:
                q8_group<1>(w, panel_stride, nb, xq, n, dx, T, bp, y + p * kPanel, d);
                break;
        }
        apply_gelu(gelu_table, y + p * kPanel, T, d, std::min<int64_t>(C, p1 - p) * kPanel);
    }
}

void gemm_f32_avx512(const float* packed, int64_t n, int64_t d, const float* x, int64_t T, const float* bias, float* y,
                     int64_t p0, int64_t p1, const float* gelu_table) {
    gemm_float(packed, n, d, x, T, bias, y, p0, p1, gelu_table);
}

void gemm_f16_avx512(const uint16_t* packed, int64_t n, int64_t d, const float* x, int64_t T, const float* bias,
                     float* y, int64_t p0, int64_t p1, const float* gelu_table) {
    gemm_float(packed, n, d, x, T, bias, y, p0, p1, gelu_table);
}

}  // namespace duet::cpu
