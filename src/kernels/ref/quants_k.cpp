// quants_k.cpp: reference dequantize (ggml-exact formulas) and quantize (least-squares scale search) of the
// K-quants Q4_K, Q5_K and Q6_K.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/fp16.h"
#include "kernels/ref/quants.h"

namespace duet {

void get_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = static_cast<uint8_t>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

void dequantize_row_q4_K(const block_q4_K* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const float dmin = fp16_to_fp32(x[i].dmin);
        const uint8_t* q = x[i].qs;
        for (int j = 0, is = 0; j < kQK_K; j += 64, is += 2, q += 32) {
            uint8_t sc, m;
            get_scale_min_k4(is, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0F) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

void dequantize_row_q5_K(const block_q5_K* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const float dmin = fp16_to_fp32(x[i].dmin);
        const uint8_t* ql = x[i].qs;
        const uint8_t* qh = x[i].qh;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < kQK_K; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            get_scale_min_k4(is, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0x0F) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void dequantize_row_q6_K(const block_q6_K* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const uint8_t* ql = x[i].ql;
        const uint8_t* qh = x[i].qh;
        const int8_t* sc = x[i].scales;
        for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
            }
        }
    }
}

namespace {

int nearest_int(float v) { return static_cast<int>(std::nearbyint(v)); }

// Asymmetric fit x ~= scale * L - offset, L in [0, nmax], offset >= 0: tries several inverse scales and keeps
// the weighted least-squares solution with the smallest error. Returns scale; *offset_out = offset.
float fit_scale_min(const float* x, int n, int nmax, uint8_t* L, float* offset_out) {
    float min = x[0], max = x[0], sum_x2 = 0.0f;
    for (int i = 0; i < n; ++i) {
        min = std::min(min, x[i]);
        max = std::max(max, x[i]);
        sum_x2 += x[i] * x[i];
    }
    if (min > 0.0f) min = 0.0f;
    if (max == min) {
        std::fill(L, L + n, 0);
        *offset_out = -min;
        return 0.0f;
    }
    const float av_x = std::sqrt(sum_x2 / static_cast<float>(n));
    float weights[32];
    for (int i = 0; i < n; ++i) weights[i] = av_x + std::fabs(x[i]);
    float best_scale = (max - min) / static_cast<float>(nmax), best_min = min, best_err = INFINITY;
    uint8_t trial[32];
    for (int step = -1; step <= 20; ++step) {
        // step -1: plain min/max scale; others: inverse scales around nmax / (max - min)
        float iscale = static_cast<float>(nmax) / (max - min);
        if (step >= 0) iscale = (-1.0f + 0.1f * static_cast<float>(step) + static_cast<float>(nmax)) / (max - min);
        float sum_w = 0, sum_l = 0, sum_l2 = 0, sum_xw = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax);
            trial[i] = static_cast<uint8_t>(l);
            const float w = weights[i];
            sum_w += w;
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xw += w * x[i];
            sum_xl += w * l * x[i];
        }
        const float det = sum_w * sum_l2 - sum_l * sum_l;
        if (det <= 0.0f) continue;
        float scale = (sum_w * sum_xl - sum_xw * sum_l) / det;
        float this_min = (sum_l2 * sum_xw - sum_l * sum_xl) / det;
        if (this_min > 0.0f) {
            this_min = 0.0f;
            scale = sum_xl / sum_l2;
        }
        float err = 0.0f;
        for (int i = 0; i < n; ++i) {
            const float diff = scale * trial[i] + this_min - x[i];
            err += weights[i] * diff * diff;
        }
        if (err < best_err) {
            best_err = err;
            best_scale = scale;
            best_min = this_min;
        }
    }
    *offset_out = -best_min;
    return best_scale;
}

// Symmetric fit x ~= scale * L, L in [-nmax, nmax - 1]; returns scale.
float fit_scale_symmetric(const float* x, int n, int nmax) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; ++i)
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    if (amax == 0.0f) return 0.0f;
    float best_scale = max / -static_cast<float>(nmax), best_err = INFINITY;
    for (int step = -9; step <= 9; ++step) {
        const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
        float sum_xl = 0, sum_l2 = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            const float w = x[i] * x[i];
            sum_xl += w * l * x[i];
            sum_l2 += w * l * l;
        }
        if (sum_l2 <= 0.0f) continue;
        const float scale = sum_xl / sum_l2;
        float err = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(x[i] / scale), -nmax, nmax - 1);
            const float diff = scale * l - x[i];
            err += x[i] * x[i] * diff * diff;
        }
        if (err < best_err) {
            best_err = err;
            best_scale = scale;
        }
    }
    return best_scale;
}

// Pack 8 six-bit scales and mins into the 12-byte Q4_K/Q5_K layout.
void pack_scales_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* scales) {
    std::memset(scales, 0, 12);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = static_cast<uint8_t>((ls[j] & 0x0F) | ((lm[j] & 0x0F) << 4));
            scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
        }
    }
}

// Shared Q4_K/Q5_K super-block quantization: fills d, dmin, scales and L (values 0..nmax).
template <typename Block>
void quantize_k4_superblock(const float* x, Block* y, int nmax, uint8_t* L) {
    float scales[8], offsets[8], max_scale = 0.0f, max_offset = 0.0f;
    for (int j = 0; j < 8; ++j) {
        scales[j] = fit_scale_min(x + 32 * j, 32, nmax, L + 32 * j, &offsets[j]);
        max_scale = std::max(max_scale, scales[j]);
        max_offset = std::max(max_offset, offsets[j]);
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_offset = max_offset > 0 ? 63.0f / max_offset : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = static_cast<uint8_t>(std::clamp(nearest_int(inv_scale * scales[j]), 0, 63));
        lm[j] = static_cast<uint8_t>(std::clamp(nearest_int(inv_offset * offsets[j]), 0, 63));
    }
    pack_scales_k4(ls, lm, y->scales);
    y->d = fp32_to_fp16(max_scale / 63.0f);
    y->dmin = fp32_to_fp16(max_offset / 63.0f);
    const float d = fp16_to_fp32(y->d), dmin = fp16_to_fp32(y->dmin);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        get_scale_min_k4(j, y->scales, &sc, &m);
        const float ds = d * sc;
        if (ds == 0.0f) {
            std::fill(L + 32 * j, L + 32 * j + 32, 0);
            continue;
        }
        const float dm = dmin * m;
        for (int i = 0; i < 32; ++i)
            L[32 * j + i] = static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + i] + dm) / ds), 0, nmax));
    }
}

}  // namespace

void quantize_row_q4_K(const float* x, block_q4_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        uint8_t L[kQK_K];
        quantize_k4_superblock(x, &y[i], 15, L);
        uint8_t* q = y[i].qs;
        for (int j = 0; j < kQK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    }
}

void quantize_row_q5_K(const float* x, block_q5_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        uint8_t L[kQK_K];
        quantize_k4_superblock(x, &y[i], 31, L);
        std::memset(y[i].qh, 0, sizeof(y[i].qh));
        uint8_t* ql = y[i].qs;
        uint8_t m1 = 1, m2 = 2;
        for (int j = 0; j < kQK_K; j += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
            for (int l = 0; l < 32; ++l) {
                int l1 = L[j + l], l2 = L[j + l + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    y[i].qh[l] |= m1;
                }
                if (l2 > 15) {
                    l2 -= 16;
                    y[i].qh[l] |= m2;
                }
                ql[l] = static_cast<uint8_t>(l1 | (l2 << 4));
            }
        }
    }
}

void quantize_row_q6_K(const float* x, block_q6_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        float scales[16], max_scale = 0.0f, max_abs_scale = 0.0f;
        for (int ib = 0; ib < 16; ++ib) {
            scales[ib] = fit_scale_symmetric(x + 16 * ib, 16, 32);
            if (std::fabs(scales[ib]) > max_abs_scale) {
                max_abs_scale = std::fabs(scales[ib]);
                max_scale = scales[ib];
            }
        }
        std::memset(&y[i], 0, sizeof(block_q6_K));
        if (max_abs_scale == 0.0f) continue;
        const float iscale = -128.0f / max_scale;
        y[i].d = fp32_to_fp16(1.0f / iscale);
        for (int ib = 0; ib < 16; ++ib)
            y[i].scales[ib] = static_cast<int8_t>(std::clamp(nearest_int(iscale * scales[ib]), -128, 127));
        const float d = fp16_to_fp32(y[i].d);
        uint8_t L[kQK_K];
        for (int ib = 0; ib < 16; ++ib) {
            const float ds = d * y[i].scales[ib];
            for (int j = 0; j < 16; ++j) {
                const int l = ds != 0.0f ? std::clamp(nearest_int(x[16 * ib + j] / ds), -32, 31) : 0;
                L[16 * ib + j] = static_cast<uint8_t>(l + 32);
            }
        }
        uint8_t* ql = y[i].ql;
        uint8_t* qh = y[i].qh;
        for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                ql[l] = static_cast<uint8_t>((q1 & 0x0F) | ((q3 & 0x0F) << 4));
                ql[l + 32] = static_cast<uint8_t>((q2 & 0x0F) | ((q4 & 0x0F) << 4));
                qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

}  // namespace duet
