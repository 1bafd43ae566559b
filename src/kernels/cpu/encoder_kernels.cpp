// encoder_kernels.cpp: encoder_kernels.h: packing the weights once, and each op's choice between the AVX-512
// kernels (kernels_avx512.h; backend avx512_vnni) and the reference twins, made once per call.
#include "kernels/encoder_kernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/assert.h"
#include "common/fp16.h"
#include "kernels/cpu/gelu_table.h"
#include "kernels/cpu/kernels_avx512.h"
#include "kernels/formats.h"
#include "kernels/kernels.h"
#include "kernels/ref/encoder_ops.h"
#include "kernels/ref/ops.h"

namespace duet::kernels {

namespace {

#if defined(__x86_64__) || defined(__i386__)
#define DUET_AVX512_KERNELS 1
constexpr bool kHaveAvx512Kernels = true;
#else
constexpr bool kHaveAvx512Kernels = false;
#endif

bool use_avx512() {
    return kHaveAvx512Kernels && (active_backend() == Backend::avx512_vnni || active_backend() == Backend::avx512);
}

uint8_t* alloc_packed(size_t bytes) {
    void* p = std::aligned_alloc(64, std::max<size_t>(64, (bytes + 63) / 64 * 64));
    DUET_ASSERT(p != nullptr);
    return static_cast<uint8_t*>(p);
}

// Q8_0 rows -> panels of 16 rows, per 32-value block: q[s][r][k], d[r], corr[r] (encoder_kernels.h).
void pack_q8_0(const void* w, int64_t n, int64_t d, uint8_t* out) {
    const int64_t nb = n / kQK;
    const auto* rows = static_cast<const block_q8_0*>(w);
    for (int64_t p = 0; p < d / kGemmPanel; ++p)
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* blk = out + (static_cast<size_t>(p) * nb + b) * cpu::kQ8PanelBlockBytes;
            auto* q = reinterpret_cast<int8_t*>(blk);
            auto* scale = reinterpret_cast<float*>(blk + 512);
            auto* corr = reinterpret_cast<int32_t*>(blk + 576);
            for (int64_t r = 0; r < kGemmPanel; ++r) {
                const block_q8_0& src = rows[(p * kGemmPanel + r) * nb + b];
                int32_t sum = 0;
                for (int s = 0; s < 8; ++s)
                    for (int k = 0; k < 4; ++k) {
                        q[(s * kGemmPanel + r) * 4 + k] = src.qs[4 * s + k];
                        sum += src.qs[4 * s + k];
                    }
                scale[r] = fp16_to_fp32(src.d);
                corr[r] = -128 * sum;
            }
        }
}

// F16 rows -> panels of 16 rows of halves, column-major inside the panel (the bits copied).
void pack_f16(const void* w, int64_t n, int64_t d, uint16_t* out) {
    const auto* rows = static_cast<const uint16_t*>(w);
    for (int64_t i = 0; i < d; ++i) {
        uint16_t* panel = out + (i / kGemmPanel) * n * kGemmPanel;
        for (int64_t k = 0; k < n; ++k) panel[k * kGemmPanel + i % kGemmPanel] = rows[i * n + k];
    }
}

// Any type get_row widens exactly (F32, BF16) -> panels of 16 rows, column-major inside the panel.
void pack_f32(TensorType type, const void* w, int64_t n, int64_t d, float* out) {
    std::vector<float> row(static_cast<size_t>(n));
    for (int64_t i = 0; i < d; ++i) {
        ref::get_row(type, w, n, i, row.data());
        float* panel = out + (i / kGemmPanel) * n * kGemmPanel;
        for (int64_t k = 0; k < n; ++k) panel[k * kGemmPanel + i % kGemmPanel] = row[k];
    }
}

}  // namespace

void GemmWeights::Free::operator()(uint8_t* p) const { std::free(p); }

GemmWeights GemmWeights::pack(TensorType type, const void* w, int64_t n, int64_t d) {
    GemmWeights g;
    g.type_ = type;
    g.original_ = w;
    g.n_ = n;
    g.d_ = d;
    if (!kHaveAvx512Kernels || !backend_supported(Backend::avx512_vnni) || d % kGemmPanel != 0) return g;
    if (type == TensorType::Q8_0 && n % kQK == 0) {
        g.packing_ = Packing::q8_0;
        g.packed_bytes_ = static_cast<size_t>(d / kGemmPanel) * (n / kQK) * cpu::kQ8PanelBlockBytes;
        g.packed_.reset(alloc_packed(g.packed_bytes_));
        pack_q8_0(w, n, d, g.packed_.get());
    } else if (type == TensorType::F16) {
        g.packing_ = Packing::f16;
        g.packed_bytes_ = static_cast<size_t>(d) * n * sizeof(uint16_t);
        g.packed_.reset(alloc_packed(g.packed_bytes_));
        pack_f16(w, n, d, reinterpret_cast<uint16_t*>(g.packed_.get()));
    } else if (type == TensorType::F32 || type == TensorType::BF16) {
        g.packing_ = Packing::f32;
        g.packed_bytes_ = static_cast<size_t>(d) * n * sizeof(float);
        g.packed_.reset(alloc_packed(g.packed_bytes_));
        pack_f32(type, w, n, d, reinterpret_cast<float*>(g.packed_.get()));
    }
    return g;
}

size_t gemm_scratch_size(TensorType type, int64_t n, int64_t n_tokens) {
    const size_t q8 = static_cast<size_t>(n_tokens) * (n + (n / kQK) * sizeof(float)) + 128;
    return std::max({q8, matmul_scratch_size(type, n, n_tokens), ref::matmul_scratch_size(type, n, n_tokens)});
}

void gemm_bias(const GemmWeights& w, const float* bias, const float* x, int64_t n_tokens, float* y, void* scratch,
               ThreadPool* pool, bool gelu, bool rows_prepared) {
    const GemmOp op{&w, bias, y, gelu};
    gemm_bias_many(std::span<const GemmOp>(&op, 1), x, n_tokens, scratch, pool, rows_prepared);
}

void prepare_gemm_rows(const GemmWeights& like, const float* x, int64_t n_tokens, int64_t t0, int64_t t1,
                       void* scratch) {
#if DUET_AVX512_KERNELS
    if (like.packing() != GemmWeights::Packing::q8_0 || !use_avx512()) return;
    const int64_t n = like.n();
    auto* xq = static_cast<uint8_t*>(scratch);
    auto* dx = reinterpret_cast<float*>(xq + (static_cast<size_t>(n_tokens) * n + 63) / 64 * 64);
    cpu::quantize_rows_u8_avx512(x, n, t0, t1, xq, dx);
#endif
}

void gemm_bias_many(std::span<const GemmOp> ops, const float* x, int64_t n_tokens, void* scratch, ThreadPool* pool,
                    bool rows_prepared) {
    if (ops.empty()) return;
    const GemmWeights::Packing packing = ops[0].w->packing();
    const int64_t n = ops[0].w->n();
    const bool alike = std::all_of(ops.begin(), ops.end(),
                                   [&](const GemmOp& op) { return op.w->packing() == packing && op.w->n() == n; });
    if (packing == GemmWeights::Packing::none || !alike || !use_avx512()) {
        for (const GemmOp& op : ops) {
            const GemmWeights& w = *op.w;
            if (active_backend() == Backend::ref) {
                ref::gemm_bias(w.type(), w.original(), n, w.d(), op.bias, x, n_tokens, op.y, scratch, pool, op.gelu);
                continue;
            }
            matmul(w.type(), w.original(), n, w.d(), x, n_tokens, op.y, scratch, pool);
            for (int64_t t = 0; t < n_tokens; ++t) {
                float* yt = op.y + t * w.d();
                if (op.bias != nullptr) add(yt, yt, op.bias, w.d());
                if (op.gelu) kernels::gelu(yt, yt, w.d());
            }
        }
        return;
    }
#if DUET_AVX512_KERNELS
    const int nth = pool != nullptr ? pool->n_threads() : 1;
    // Q8_0: the activations quantized once (tokens split across threads; one region more)
    auto* xq = static_cast<uint8_t*>(scratch);
    auto* dx = reinterpret_cast<float*>(xq + (static_cast<size_t>(n_tokens) * n + 63) / 64 * 64);
    if (packing == GemmWeights::Packing::q8_0 && !rows_prepared) {
        if (nth > 1 && n_tokens >= 2 * nth) {
            pool->run([&](int ith, int nth_) {
                int64_t t0, t1;
                split_range(n_tokens, ith, nth_, &t0, &t1);
                cpu::quantize_rows_u8_avx512(x, n, t0, t1, xq, dx);
            });
        } else {
            cpu::quantize_rows_u8_avx512(x, n, 0, n_tokens, xq, dx);
        }
    }
    const float* gelu = cpu::gelu_table_values();
    // Each thread takes its contiguous share of every op's panels, in whole groups of the kernels' tile width.
    constexpr int64_t kGroup = 3;  // panels per tile (gemm_avx512.cpp)
    auto work = [&](int ith, int nth_) {
        for (const GemmOp& op : ops) {
            const int64_t d = op.w->d();
            const int64_t n_panels = d / kGemmPanel;
            const int64_t n_groups = (n_panels + kGroup - 1) / kGroup;
            int64_t g0, g1;
            split_range(n_groups, ith, nth_, &g0, &g1);
            const int64_t p0 = std::min(n_panels, g0 * kGroup), p1 = std::min(n_panels, g1 * kGroup);
            if (p0 >= p1) continue;
            if (packing == GemmWeights::Packing::q8_0)
                cpu::gemm_q8_0_avx512(op.w->packed(), n, d, xq, dx, n_tokens, op.bias, op.y, p0, p1,
                                      op.gelu ? gelu : nullptr);
            else if (packing == GemmWeights::Packing::f16)
                cpu::gemm_f16_avx512(reinterpret_cast<const uint16_t*>(op.w->packed()), n, d, x, n_tokens, op.bias,
                                     op.y, p0, p1, op.gelu ? gelu : nullptr);
            else
                cpu::gemm_f32_avx512(reinterpret_cast<const float*>(op.w->packed()), n, d, x, n_tokens, op.bias, op.y,
                                     p0, p1, op.gelu ? gelu : nullptr);
        }
    };
    if (nth > 1) pool->run(work);
    else work(0, 1);
#endif
}

int64_t attention_scratch_floats(int64_t len, int64_t head_dim) {
    const int64_t lp = (len + 15) / 16 * 16;
    return (head_dim + 8) * lp;  // K transposed, then the scores of 8 queries (encoder_ops_avx512.cpp)
}

void attention_head(const float* q, const float* k, const float* v, float* out, int64_t len, int64_t head_dim,
                    int64_t stride, float scale, float* scratch) {
#if DUET_AVX512_KERNELS
    if (use_avx512() && head_dim % 16 == 0) {
        cpu::attention_head_avx512(q, k, v, out, len, head_dim, stride, scale, scratch);
        return;
    }
#endif
    ref::attention_head(q, k, v, out, len, head_dim, stride, scale, scratch);
}

void add_layernorm(float* x, const float* y, const float* w, const float* b, int64_t n, float eps) {
#if DUET_AVX512_KERNELS
    if (use_avx512()) {
        cpu::add_layernorm_avx512(x, y, w, b, n, eps);
        return;
    }
#endif
    ref::add_layernorm(x, y, w, b, n, eps);
}

}  // namespace duet::kernels
