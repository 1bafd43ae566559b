// matmul_neon_impl.h: the NEON matmul row kernels, written once and compiled twice: by matmul_neon.cpp for plain
// ARMv8-A (int8 dots as SMULL + SADALP) and by matmul_dotprod.cpp for ARMv8.2-A + FEAT_DotProd (SDOT). Include
// only from those two files; everything here has internal linkage. The activations are the reference formats
// (block_q8_1f / block_q8_K / float rows) and each block's integer sum is exact, so the result differs from the
// reference twin (kernels/ref/vec_dot.cpp) only in the float summation of the float kernels.
//
//   one weight row r, a tile of NT <= 4 tokens:  for each block b: unpack W[r][b] to int8x16 vectors once,
//                                                then dot it with block b of each token's activation row
#pragma once

#include <arm_neon.h>

#include "common/fp16.h"
#include "kernels/cpu/matmul_rows.h"
#include "kernels/formats.h"
#include "kernels/ref/quants.h"

namespace duet::cpu {
namespace {

// acc + the 16 products a[i] * b[i], summed into 4 int32 lanes (which lane gets which products differs between
// the two forms; callers only use the total).
inline int32x4_t dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

inline int dot32(int8x16_t w0, int8x16_t w1, const int8_t* x) {
    return vaddvq_s32(dot_s8(dot_s8(vdupq_n_s32(0), w0, vld1q_s8(x)), w1, vld1q_s8(x + 16)));
}

inline int dot16(int8x16_t w, const int8_t* x) { return vaddvq_s32(dot_s8(vdupq_n_s32(0), w, vld1q_s8(x))); }

inline int8x16_t low_nibbles(uint8x16_t q) { return vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))); }
inline int8x16_t high_nibbles(uint8x16_t q) { return vreinterpretq_s8_u8(vshrq_n_u8(q, 4)); }

template <typename XBlock, int NT>
struct Tile {
    const XBlock* x[NT];
    float sum[NT] = {};
    Tile(const MatmulArgs& a, int64_t t0) {
        for (int k = 0; k < NT; ++k) x[k] = reinterpret_cast<const XBlock*>(a.x + (t0 + k) * a.x_row_size);
    }
};

template <int NT>
void tile_q4_0(const MatmulArgs& a, const uint8_t* row, int64_t t0, float* out) {
    const auto* w = reinterpret_cast<const block_q4_0*>(row);
    Tile<block_q8_1f, NT> t(a, t0);
    for (int64_t b = 0; b < a.n / kQK; ++b) {
        const uint8x16_t q = vld1q_u8(w[b].qs);
        const int8x16_t lo = vsubq_s8(low_nibbles(q), vdupq_n_s8(8));
        const int8x16_t hi = vsubq_s8(high_nibbles(q), vdupq_n_s8(8));
        const float dw = fp16_to_fp32(w[b].d);
        for (int k = 0; k < NT; ++k) t.sum[k] += dw * t.x[k][b].d * static_cast<float>(dot32(lo, hi, t.x[k][b].qs));
    }
    for (int k = 0; k < NT; ++k) out[k] = t.sum[k];
}

template <int NT>
void tile_q8_0(const MatmulArgs& a, const uint8_t* row, int64_t t0, float* out) {
    const auto* w = reinterpret_cast<const block_q8_0*>(row);
    Tile<block_q8_1f, NT> t(a, t0);
    for (int64_t b = 0; b < a.n / kQK; ++b) {
        const int8x16_t w0 = vld1q_s8(w[b].qs), w1 = vld1q_s8(w[b].qs + 16);
        const float dw = fp16_to_fp32(w[b].d);
        for (int k = 0; k < NT; ++k) t.sum[k] += dw * t.x[k][b].d * static_cast<float>(dot32(w0, w1, t.x[k][b].qs));
    }
    for (int k = 0; k < NT; ++k) out[k] = t.sum[k];
}

// Q4_K / Q5_K: d * sum_j sc_j * dot_j - dmin * sum_j m_j * sum_j(x), times the activation scale (as the twin).
template <bool kFiveBit, int NT>
void tile_k4(const MatmulArgs& a, const uint8_t* row, int64_t t0, float* out) {
    constexpr size_t kBlockBytes = kFiveBit ? sizeof(block_q5_K) : sizeof(block_q4_K);
    Tile<block_q8_K, NT> t(a, t0);
    for (int64_t b = 0; b < a.n / kQK_K; ++b) {
        const uint8_t* blk = row + b * kBlockBytes;
        const auto* q4 = reinterpret_cast<const block_q4_K*>(blk);
        const auto* q5 = reinterpret_cast<const block_q5_K*>(blk);
        const uint8_t* scales = kFiveBit ? q5->scales : q4->scales;
        const uint8_t* qs = kFiveBit ? q5->qs : q4->qs;
        uint8_t sc[8], m[8];
        for (int j = 0; j < 8; ++j) get_scale_min_k4(j, scales, &sc[j], &m[j]);
        int scaled[NT] = {}, mins[NT] = {};
        uint8x16_t qh0 = vdupq_n_u8(0), qh1 = vdupq_n_u8(0);
        if constexpr (kFiveBit) {
            qh0 = vld1q_u8(q5->qh);
            qh1 = vld1q_u8(q5->qh + 16);
        }
        for (int jj = 0; jj < 4; ++jj) {  // sub-blocks 2jj (low nibbles) and 2jj + 1 (high nibbles)
            const uint8x16_t q0 = vld1q_u8(qs + 32 * jj), q1 = vld1q_u8(qs + 32 * jj + 16);
            int8x16_t lo0 = low_nibbles(q0), lo1 = low_nibbles(q1), hi0 = high_nibbles(q0), hi1 = high_nibbles(q1);
            if constexpr (kFiveBit) {  // fifth bit of sub-block j: bit j of qh[l]
                const uint8x16_t bit_lo = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * jj)));
                const uint8x16_t bit_hi = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * jj + 1)));
                const uint8x16_t sixteen = vdupq_n_u8(16);
                lo0 = vorrq_s8(lo0, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh0, bit_lo), sixteen)));
                lo1 = vorrq_s8(lo1, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh1, bit_lo), sixteen)));
                hi0 = vorrq_s8(hi0, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh0, bit_hi), sixteen)));
                hi1 = vorrq_s8(hi1, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh1, bit_hi), sixteen)));
            }
            for (int k = 0; k < NT; ++k) {
                const block_q8_K& x = t.x[k][b];
                scaled[k] += sc[2 * jj] * dot32(lo0, lo1, x.qs + 64 * jj) +
                             sc[2 * jj + 1] * dot32(hi0, hi1, x.qs + 64 * jj + 32);
                mins[k] += m[2 * jj] * (x.bsums[4 * jj] + x.bsums[4 * jj + 1]) +
                           m[2 * jj + 1] * (x.bsums[4 * jj + 2] + x.bsums[4 * jj + 3]);
            }
        }
        const float d = fp16_to_fp32(q4->d), dmin = fp16_to_fp32(q4->dmin);  // same offsets in both blocks
        for (int k = 0; k < NT; ++k)
            t.sum[k] += t.x[k][b].d * (d * static_cast<float>(scaled[k]) - dmin * static_cast<float>(mins[k]));
    }
    for (int k = 0; k < NT; ++k) out[k] = t.sum[k];
}

// Q6_K: 16 groups of 16 with int8 scales; value = (4 low bits | 2 high bits << 4) - 32 (layout as the twin).
template <int NT>
void tile_q6_k(const MatmulArgs& a, const uint8_t* row, int64_t t0, float* out) {
    const auto* w = reinterpret_cast<const block_q6_K*>(row);
    Tile<block_q8_K, NT> t(a, t0);
    const uint8x16_t mask4 = vdupq_n_u8(0x0F), mask2 = vdupq_n_u8(0x03);
    const int8x16_t m32 = vdupq_n_s8(32);
    for (int64_t b = 0; b < a.n / kQK_K; ++b) {
        int isum[NT] = {};
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = w[b].ql + 64 * half;
            const uint8_t* qh = w[b].qh + 32 * half;
            for (int c = 0; c < 2; ++c) {  // elements 16c .. 16c + 15 of each quarter
                const uint8x16_t la = vld1q_u8(ql + 16 * c), lb = vld1q_u8(ql + 32 + 16 * c), h = vld1q_u8(qh + 16 * c);
                int8x16_t v[4];
                v[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(la, mask4), vshlq_n_u8(vandq_u8(h, mask2), 4)));
                v[1] = vreinterpretq_s8_u8(
                    vorrq_u8(vandq_u8(lb, mask4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 2), mask2), 4)));
                v[2] =
                    vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(la, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 4), mask2), 4)));
                v[3] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(lb, 4), vshlq_n_u8(vshrq_n_u8(h, 6), 4)));
                for (int i = 0; i < 4; ++i) {
                    v[i] = vsubq_s8(v[i], m32);
                    const int g = 8 * half + c + 2 * i;  // the 16-element group these values belong to
                    for (int k = 0; k < NT; ++k) isum[k] += w[b].scales[g] * dot16(v[i], t.x[k][b].qs + 16 * g);
                }
            }
        }
        const float d = fp16_to_fp32(w[b].d);
        for (int k = 0; k < NT; ++k) t.sum[k] += d * t.x[k][b].d * static_cast<float>(isum[k]);
    }
    for (int k = 0; k < NT; ++k) out[k] = t.sum[k];
}

inline float32x4_t load_weights(const float* p) { return vld1q_f32(p); }
inline float32x4_t load_weights(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
inline float scalar_weight(float v) { return v; }
inline float scalar_weight(uint16_t v) { return fp16_to_fp32(v); }

// F32 / F16 weights against float rows: 4 FMA lanes per token, a scalar tail.
template <typename W, int NT>
void tile_float(const MatmulArgs& a, const uint8_t* row, int64_t t0, float* out) {
    const auto* w = reinterpret_cast<const W*>(row);
    const float* x[NT];
    float32x4_t acc[NT];
    for (int k = 0; k < NT; ++k) {
        x[k] = reinterpret_cast<const float*>(a.x + (t0 + k) * a.x_row_size);
        acc[k] = vdupq_n_f32(0.0f);
    }
    int64_t i = 0;
    for (; i + 4 <= a.n; i += 4) {
        const float32x4_t wv = load_weights(w + i);
        for (int k = 0; k < NT; ++k) acc[k] = vfmaq_f32(acc[k], wv, vld1q_f32(x[k] + i));
    }
    for (int k = 0; k < NT; ++k) {
        float s = vaddvq_f32(acc[k]);
        for (int64_t j = i; j < a.n; ++j) s += scalar_weight(w[j]) * x[k][j];
        out[k] = s;
    }
}

// Rows [r0, r1), tokens in tiles of 4 and a tail of 1-3.
template <template <int> class Kernel>
void rows(const MatmulArgs& a, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = a.w + r * a.w_row_size;
        float out[4];
        int64_t t = 0;
        for (; t + 4 <= a.n_tokens; t += 4) {
            Kernel<4>::run(a, row, t, out);
            for (int k = 0; k < 4; ++k) a.y[(t + k) * a.d + r] = out[k];
        }
        const int64_t tail = a.n_tokens - t;
        if (tail == 3) Kernel<3>::run(a, row, t, out);
        else if (tail == 2) Kernel<2>::run(a, row, t, out);
        else if (tail == 1) Kernel<1>::run(a, row, t, out);
        for (int64_t k = 0; k < tail; ++k) a.y[(t + k) * a.d + r] = out[k];
    }
}

template <int NT>
struct Q4_0 {
    static void run(const MatmulArgs& a, const uint8_t* r, int64_t t, float* o) { tile_q4_0<NT>(a, r, t, o); }
};
template <int NT>
struct Q8_0 {
    static void run(const MatmulArgs& a, const uint8_t* r, int64_t t, float* o) { tile_q8_0<NT>(a, r, t, o); }
};
template <int NT>
struct Q4_K {
    static void run(const MatmulArgs& a, const uint8_t* r, int64_t t, float* o) { tile_k4<false, NT>(a, r, t, o); }
};
template <int NT>
struct Q5_K {
    static void run(const MatmulArgs& a, const uint8_t* r, int64_t t, float* o) { tile_k4<true, NT>(a, r, t, o); }
};
template <int NT>
struct Q6_K {
    static void run(const MatmulArgs& a, const uint8_t* r, int64_t t, float* o) { tile_q6_k<NT>(a, r, t, o); }
};
template <int NT>
struct F32 {
    static void run(const MatmulArgs& a, const uint8_t* r, int64_t t, float* o) { tile_float<float, NT>(a, r, t, o); }
};
template <int NT>
struct F16 {
    static void run(const MatmulArgs& a, const uint8_t* r, int64_t t, float* o) {
        tile_float<uint16_t, NT>(a, r, t, o);
    }
};

MatmulRowsFn rows_fn_for(TensorType wtype) {
    switch (wtype) {
        case TensorType::F32:
            return rows<F32>;
        case TensorType::F16:
            return rows<F16>;
        case TensorType::Q4_0:
            return rows<Q4_0>;
        case TensorType::Q8_0:
            return rows<Q8_0>;
        case TensorType::Q4_K:
            return rows<Q4_K>;
        case TensorType::Q5_K:
            return rows<Q5_K>;
        case TensorType::Q6_K:
            return rows<Q6_K>;
        default:
            return nullptr;
    }
}

}  // namespace
}  // namespace duet::cpu
