// quants.cpp: reference dequantize/quantize for F32/F16/BF16, the legacy 32-element quants, the activation
// formats, and the per-type dispatch of dequantize_row / quantize_row.
#include "kernels/ref/quants.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "common/assert.h"
#include "common/fp16.h"

namespace duet {

namespace {

uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < kQK / 2; ++j) {
            y[i * kQK + j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
            y[i * kQK + j + kQK / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void dequantize_row_q4_1(const block_q4_1* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const float m = fp16_to_fp32(x[i].m);
        for (int j = 0; j < kQK / 2; ++j) {
            y[i * kQK + j] = static_cast<float>(x[i].qs[j] & 0x0F) * d + m;
            y[i * kQK + j + kQK / 2] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
        }
    }
}

void dequantize_row_q5_0(const block_q5_0* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < kQK / 2; ++j) {
            const int hi0 = static_cast<int>((qh >> j) << 4 & 0x10);
            const int hi1 = static_cast<int>((qh >> (j + 12)) & 0x10);
            y[i * kQK + j] = static_cast<float>(((x[i].qs[j] & 0x0F) | hi0) - 16) * d;
            y[i * kQK + j + kQK / 2] = static_cast<float>(((x[i].qs[j] >> 4) | hi1) - 16) * d;
        }
    }
}

void dequantize_row_q5_1(const block_q5_1* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const float m = fp16_to_fp32(x[i].m);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < kQK / 2; ++j) {
            const int hi0 = static_cast<int>((qh >> j) << 4 & 0x10);
            const int hi1 = static_cast<int>((qh >> (j + 12)) & 0x10);
            y[i * kQK + j] = static_cast<float>((x[i].qs[j] & 0x0F) | hi0) * d + m;
            y[i * kQK + j + kQK / 2] = static_cast<float>((x[i].qs[j] >> 4) | hi1) * d + m;
        }
    }
}

void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < kQK; ++j) y[i * kQK + j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

void dequantize_row_q8_K(const block_q8_K* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i)
        for (int j = 0; j < kQK_K; ++j) y[i * kQK_K + j] = x[i].d * static_cast<float>(x[i].qs[j]);
}

// Signed value of largest magnitude, and that magnitude.
void signed_absmax(const float* x, int n, float* max, float* amax) {
    *max = 0.0f;
    *amax = 0.0f;
    for (int j = 0; j < n; ++j) {
        if (std::fabs(x[j]) > *amax) {
            *amax = std::fabs(x[j]);
            *max = x[j];
        }
    }
}

void min_max(const float* x, int n, float* min, float* max) {
    *min = FLT_MAX;
    *max = -FLT_MAX;
    for (int j = 0; j < n; ++j) {
        *min = std::min(*min, x[j]);
        *max = std::max(*max, x[j]);
    }
}

void quantize_row_q4_0(const float* x, block_q4_0* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        float max, amax;
        signed_absmax(x, kQK, &max, &amax);
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK / 2; ++j) {
            const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
            const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + kQK / 2] * id + 8.5f)));
            y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

void quantize_row_q4_1(const float* x, block_q4_1* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        float min, max;
        min_max(x, kQK, &min, &max);
        const float d = (max - min) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        y[i].m = fp32_to_fp16(min);
        for (int j = 0; j < kQK / 2; ++j) {
            const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j] - min) * id + 0.5f)));
            const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j + kQK / 2] - min) * id + 0.5f)));
            y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

template <typename Block>
void store_q5(Block* y, const int* q) {
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
        y->qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + kQK / 2] & 0x0F) << 4));
        qh |= static_cast<uint32_t>((q[j] & 0x10) >> 4) << j;
        qh |= static_cast<uint32_t>((q[j + kQK / 2] & 0x10) >> 4) << (j + 16);
    }
    std::memcpy(y->qh, &qh, 4);
}

void quantize_row_q5_0(const float* x, block_q5_0* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        float max, amax;
        signed_absmax(x, kQK, &max, &amax);
        const float d = max / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        int q[kQK];
        for (int j = 0; j < kQK; ++j) q[j] = std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f)));
        store_q5(&y[i], q);
    }
}

void quantize_row_q5_1(const float* x, block_q5_1* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        float min, max;
        min_max(x, kQK, &min, &max);
        const float d = (max - min) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        y[i].m = fp32_to_fp16(min);
        int q[kQK];
        for (int j = 0; j < kQK; ++j) q[j] = std::min(31, static_cast<int>((x[j] - min) * id + 0.5f));
        store_q5(&y[i], q);
    }
}

void quantize_row_q8_0(const float* x, block_q8_0* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        float max, amax;
        signed_absmax(x, kQK, &max, &amax);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
    }
}

}  // namespace

void quantize_row_q8_1f(const float* x, block_q8_1f* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        float max, amax;
        signed_absmax(x, kQK, &max, &amax);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < kQK; ++j) {
            const int q = static_cast<int>(std::nearbyint(x[j] * id));
            y[i].qs[j] = static_cast<int8_t>(q);
            sum += q;
        }
        y[i].d = d;
        y[i].s = d * static_cast<float>(sum);
    }
}

void quantize_row_q8_K(const float* x, block_q8_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        float max, amax;
        signed_absmax(x, kQK_K, &max, &amax);
        if (amax == 0.0f) {
            std::memset(&y[i], 0, sizeof(block_q8_K));
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < kQK_K; ++j)
            y[i].qs[j] = static_cast<int8_t>(std::min(127, static_cast<int>(std::nearbyint(iscale * x[j]))));
        for (int g = 0; g < kQK_K / 16; ++g) {
            int sum = 0;
            for (int j = 0; j < 16; ++j) sum += y[i].qs[g * 16 + j];
            y[i].bsums[g] = static_cast<int16_t>(sum);
        }
        y[i].d = 1.0f / iscale;
    }
}

bool type_has_kernels(TensorType type) {
    switch (type) {
        case TensorType::F32:
        case TensorType::F16:
        case TensorType::BF16:
        case TensorType::Q4_0:
        case TensorType::Q4_1:
        case TensorType::Q5_0:
        case TensorType::Q5_1:
        case TensorType::Q8_0:
        case TensorType::Q4_K:
        case TensorType::Q5_K:
        case TensorType::Q6_K:
            return true;
        default:
            return false;
    }
}

void dequantize_row(TensorType type, const void* src, float* dst, int64_t n) {
    switch (type) {
        case TensorType::F32:
            std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
            return;
        case TensorType::F16: {
            const auto* h = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(h[i]);
            return;
        }
        case TensorType::BF16: {
            const auto* b = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(b[i]);
            return;
        }
        case TensorType::Q4_0:
            dequantize_row_q4_0(static_cast<const block_q4_0*>(src), dst, n);
            return;
        case TensorType::Q4_1:
            dequantize_row_q4_1(static_cast<const block_q4_1*>(src), dst, n);
            return;
        case TensorType::Q5_0:
            dequantize_row_q5_0(static_cast<const block_q5_0*>(src), dst, n);
            return;
        case TensorType::Q5_1:
            dequantize_row_q5_1(static_cast<const block_q5_1*>(src), dst, n);
            return;
        case TensorType::Q8_0:
            dequantize_row_q8_0(static_cast<const block_q8_0*>(src), dst, n);
            return;
        case TensorType::Q4_K:
            dequantize_row_q4_K(static_cast<const block_q4_K*>(src), dst, n);
            return;
        case TensorType::Q5_K:
            dequantize_row_q5_K(static_cast<const block_q5_K*>(src), dst, n);
            return;
        case TensorType::Q6_K:
            dequantize_row_q6_K(static_cast<const block_q6_K*>(src), dst, n);
            return;
        case TensorType::Q8_K:
            dequantize_row_q8_K(static_cast<const block_q8_K*>(src), dst, n);
            return;
        default:
            DUET_UNREACHABLE();
    }
}

void quantize_row(TensorType type, const float* src, void* dst, int64_t n) {
    switch (type) {
        case TensorType::F32:
            std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
            return;
        case TensorType::F16: {
            auto* h = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
            return;
        }
        case TensorType::BF16: {
            auto* b = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < n; ++i) b[i] = fp32_to_bf16(src[i]);
            return;
        }
        case TensorType::Q4_0:
            quantize_row_q4_0(src, static_cast<block_q4_0*>(dst), n);
            return;
        case TensorType::Q4_1:
            quantize_row_q4_1(src, static_cast<block_q4_1*>(dst), n);
            return;
        case TensorType::Q5_0:
            quantize_row_q5_0(src, static_cast<block_q5_0*>(dst), n);
            return;
        case TensorType::Q5_1:
            quantize_row_q5_1(src, static_cast<block_q5_1*>(dst), n);
            return;
        case TensorType::Q8_0:
            quantize_row_q8_0(src, static_cast<block_q8_0*>(dst), n);
            return;
        case TensorType::Q4_K:
            quantize_row_q4_K(src, static_cast<block_q4_K*>(dst), n);
            return;
        case TensorType::Q5_K:
            quantize_row_q5_K(src, static_cast<block_q5_K*>(dst), n);
            return;
        case TensorType::Q6_K:
            quantize_row_q6_K(src, static_cast<block_q6_K*>(dst), n);
            return;
        case TensorType::Q8_K:
            quantize_row_q8_K(src, static_cast<block_q8_K*>(dst), n);
            return;
        default:
            DUET_UNREACHABLE();
    }
}

}  // namespace duet
