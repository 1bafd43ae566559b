// vec_dot.cpp: scalar weight-row · activation dot products, one per weight type (the twins of cpu/*_avx2.cpp).
#include "kernels/ref/vec_dot.h"

#include <cstring>

#include "common/assert.h"
#include "common/fp16.h"
#include "kernels/ref/quants.h"

namespace duet::ref {

namespace {

float dot_q4_0(int64_t n, const block_q4_0* w, const block_q8_1f* x) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        int isum = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            isum += ((w[b].qs[j] & 0x0F) - 8) * x[b].qs[j];
            isum += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + kQK / 2];
        }
        sum += fp16_to_fp32(w[b].d) * x[b].d * static_cast<float>(isum);
    }
    return sum;
}

float dot_q4_1(int64_t n, const block_q4_1* w, const block_q8_1f* x) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        int isum = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            isum += (w[b].qs[j] & 0x0F) * x[b].qs[j];
            isum += (w[b].qs[j] >> 4) * x[b].qs[j + kQK / 2];
        }
        sum += fp16_to_fp32(w[b].d) * x[b].d * static_cast<float>(isum) + fp16_to_fp32(w[b].m) * x[b].s;
    }
    return sum;
}

template <typename Block>
int q5_isum(const Block& w, const int8_t* xq, int offset) {
    uint32_t qh;
    std::memcpy(&qh, w.qh, 4);
    int isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
        const int q0 = (w.qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1) << 4);
        const int q1 = (w.qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
        isum += (q0 - offset) * xq[j] + (q1 - offset) * xq[j + kQK / 2];
    }
    return isum;
}

float dot_q5_0(int64_t n, const block_q5_0* w, const block_q8_1f* x) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b)
        sum += fp16_to_fp32(w[b].d) * x[b].d * static_cast<float>(q5_isum(w[b], x[b].qs, 16));
    return sum;
}

float dot_q5_1(int64_t n, const block_q5_1* w, const block_q8_1f* x) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b)
        sum += fp16_to_fp32(w[b].d) * x[b].d * static_cast<float>(q5_isum(w[b], x[b].qs, 0)) +
               fp16_to_fp32(w[b].m) * x[b].s;
    return sum;
}

float dot_q8_0(int64_t n, const block_q8_0* w, const block_q8_1f* x) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        int isum = 0;
        for (int j = 0; j < kQK; ++j) isum += w[b].qs[j] * x[b].qs[j];
        sum += fp16_to_fp32(w[b].d) * x[b].d * static_cast<float>(isum);
    }
    return sum;
}

// Q4_K / Q5_K: d * sum_j sc_j * dot_j(q, x) - dmin * sum_j m_j * sum_j(x), all times the activation scale.
template <typename Block, bool kFiveBit>
float dot_k4(int64_t n, const Block* w, const block_q8_K* x) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int scaled = 0, mins = 0;
        for (int j = 0; j < 8; ++j) {
            uint8_t sc, m;
            get_scale_min_k4(j, w[b].scales, &sc, &m);
            const uint8_t* q = w[b].qs + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            int isum = 0;
            for (int l = 0; l < 32; ++l) {
                int v = (q[l] >> shift) & 0x0F;
                if constexpr (kFiveBit) {
                    const auto* blk = reinterpret_cast<const block_q5_K*>(&w[b]);
                    v |= ((blk->qh[l] >> j) & 1) << 4;
                }
                isum += v * x[b].qs[32 * j + l];
            }
            scaled += sc * isum;
            mins += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        sum += x[b].d *
               (fp16_to_fp32(w[b].d) * static_cast<float>(scaled) - fp16_to_fp32(w[b].dmin) * static_cast<float>(mins));
    }
    return sum;
}

float dot_q6_K(int64_t n, const block_q6_K* w, const block_q8_K* x) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int8_t q[kQK_K];
        const uint8_t* ql = w[b].ql;
        const uint8_t* qh = w[b].qh;
        for (int half = 0; half < 2; ++half, ql += 64, qh += 32) {
            int8_t* o = q + 128 * half;
            for (int l = 0; l < 32; ++l) {
                o[l] = static_cast<int8_t>(((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32);
                o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
                o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        int isum = 0;
        for (int g = 0; g < 16; ++g) {
            int gsum = 0;
            for (int l = 0; l < 16; ++l) gsum += q[16 * g + l] * x[b].qs[16 * g + l];
            isum += w[b].scales[g] * gsum;
        }
        sum += fp16_to_fp32(w[b].d) * x[b].d * static_cast<float>(isum);
    }
    return sum;
}

}  // namespace

ActivationFormat activation_format(TensorType wtype) {
    switch (wtype) {
        case TensorType::Q4_0:
        case TensorType::Q4_1:
        case TensorType::Q5_0:
        case TensorType::Q5_1:
        case TensorType::Q8_0:
            return ActivationFormat::q8_1f;
        case TensorType::Q4_K:
        case TensorType::Q5_K:
        case TensorType::Q6_K:
            return ActivationFormat::q8_K;
        case TensorType::F32:
        case TensorType::F16:
        case TensorType::BF16:
            return ActivationFormat::f32;
        default:
            DUET_UNREACHABLE();
    }
}

size_t activation_row_size(TensorType wtype, int64_t n) {
    switch (activation_format(wtype)) {
        case ActivationFormat::q8_1f:
            return static_cast<size_t>(n / kQK) * sizeof(block_q8_1f);
        case ActivationFormat::q8_K:
            return static_cast<size_t>(n / kQK_K) * sizeof(block_q8_K);
        case ActivationFormat::f32:
            return 0;
    }
    DUET_UNREACHABLE();
}

void quantize_activation_row(TensorType wtype, const float* x, void* xq, int64_t n) {
    switch (activation_format(wtype)) {
        case ActivationFormat::q8_1f:
            quantize_row_q8_1f(x, static_cast<block_q8_1f*>(xq), n);
            return;
        case ActivationFormat::q8_K:
            quantize_row_q8_K(x, static_cast<block_q8_K*>(xq), n);
            return;
        case ActivationFormat::f32:
            return;
    }
}

float vec_dot(TensorType wtype, int64_t n, const void* w, const void* xq) {
    const auto* x1 = static_cast<const block_q8_1f*>(xq);
    const auto* xk = static_cast<const block_q8_K*>(xq);
    switch (wtype) {
        case TensorType::F32: {
            const auto* a = static_cast<const float*>(w);
            const auto* b = static_cast<const float*>(xq);
            float sum = 0.0f;
            for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
            return sum;
        }
        case TensorType::F16: {
            const auto* a = static_cast<const uint16_t*>(w);
            const auto* b = static_cast<const float*>(xq);
            float sum = 0.0f;
            for (int64_t i = 0; i < n; ++i) sum += fp16_to_fp32(a[i]) * b[i];
            return sum;
        }
        case TensorType::BF16: {
            const auto* a = static_cast<const uint16_t*>(w);
            const auto* b = static_cast<const float*>(xq);
            float sum = 0.0f;
            for (int64_t i = 0; i < n; ++i) sum += bf16_to_fp32(a[i]) * b[i];
            return sum;
        }
        case TensorType::Q4_0:
            return dot_q4_0(n, static_cast<const block_q4_0*>(w), x1);
        case TensorType::Q4_1:
            return dot_q4_1(n, static_cast<const block_q4_1*>(w), x1);
        case TensorType::Q5_0:
            return dot_q5_0(n, static_cast<const block_q5_0*>(w), x1);
        case TensorType::Q5_1:
            return dot_q5_1(n, static_cast<const block_q5_1*>(w), x1);
        case TensorType::Q8_0:
            return dot_q8_0(n, static_cast<const block_q8_0*>(w), x1);
        case TensorType::Q4_K:
            return dot_k4<block_q4_K, false>(n, static_cast<const block_q4_K*>(w), xk);
        case TensorType::Q5_K:
            return dot_k4<block_q5_K, true>(n, static_cast<const block_q5_K*>(w), xk);
        case TensorType::Q6_K:
            return dot_q6_K(n, static_cast<const block_q6_K*>(w), xk);
        default:
            DUET_UNREACHABLE();
    }
}

}  // namespace duet::ref
