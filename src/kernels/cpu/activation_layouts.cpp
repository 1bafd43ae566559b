// activation_layouts.cpp: the activation layouts of the SIMD matmul kernels (activation_layouts.h), and
// matmul_scratch_size (kernels.h), the bytes of the largest of them.
#include "kernels/cpu/activation_layouts.h"

#include <algorithm>

#include "common/assert.h"
#include "kernels/cpu/amx.h"
#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/cpu/simd_arch.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/vec_dot.h"

namespace duet::kernels {

namespace {

#if DUET_SIMD_X86
// Quantize the activation rows [t0, t1) into the scratch (AVX2 quantizers).
void quantize_tokens_avx2(ref::ActivationFormat format, const float* x, int64_t n, uint8_t* xq, size_t row_size,
                          int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
        if (format == ref::ActivationFormat::q8_1f)
            cpu::quantize_row_q8_1f_avx2(x + t * n, reinterpret_cast<block_q8_1f*>(xq + t * row_size), n);
        else cpu::quantize_row_q8_K_avx2(x + t * n, reinterpret_cast<block_q8_K*>(xq + t * row_size), n);
    }
}
#endif

}  // namespace

// Q4_0 batches of 4+ tokens take the 8-lane kernels; smaller ones stay on the pair kernels: one token streams
// the weights without unpacking them, and for 2-3 tokens the unpack costs about what the narrower float
// epilogue saves (measured with VNNI: a 2-stream server decoded ~10% slower with it).
// Q4_K / Q5_K: the unpack (an 8x8 transpose per super-block) is dearer than Q4_0's, so the per-32 kernels keep
// smaller batches: measured over the model's matrix shapes, the 8-lane kernel wins from 8 tokens with VNNI (at 4
// the per-32 one was ~10% faster; 64 tokens: 2-2.7x) and from 16 with AVX2 (8: ~8% slower; 16: 1.1-1.2x; 64:
// 1.3-1.5x). Q8_0 batches take the 8-lane kernel with VNNI only (AVX2's int16 sums cannot hold its products), from
// 4 tokens like Q4_0 (no nibbles to unpack, so the transpose is its only extra cost). The NEON kernels read the
// plain formats.
// avx512: steps of up to kWideMaxTokens tokens (decode and a server's few streams) of Q4_K, Q8_0 steps of 2-4
// tokens (rows of a multiple of 64) and Q4_0 steps of 2-3 tokens (rows of a multiple of 128) take the 512-bit
// kernels, which decode each weight block once per step for all its tokens; everything else is avx512_vnni's.
// End to end (R1-1.5B shape, 1 thread) Q8_0 decode of 1 token was ~10% slower on the 512-bit kernel than on the
// 256-bit one, and a 4-stream step 2x faster; Q4_K_M's 1-token step 13% faster. Measured on Zen 5 with the
// weights streamed from DRAM (bench_kernels batch/, GB/s per CPU second, 8960x1536 and 1536x8960): Q8_0 1 token
// 39.8 vs 36-38, 4 tokens 31 vs 15; Q4_K 1 token 30-35 vs 24-26, 4 tokens 10-16 vs 9-12; Q4_0 2-3 tokens 0-15%
// faster, but 1 token up to 27% slower on 8960-long rows and 4 tokens 25% slower than the 8-lane kernel.
constexpr int64_t kWideMaxTokens = 4;

XLayout choose_layout(Backend backend, TensorType wtype, int64_t n, int64_t n_tokens) {
    if (backend == Backend::neon || backend == Backend::neon_dotprod) return XLayout::plain;
    if (backend == Backend::avx512 && n_tokens <= kWideMaxTokens) {
        if (wtype == TensorType::Q4_0 && n % (4 * kQK) == 0 && n_tokens >= 2 && n_tokens <= 3)
            return XLayout::q4_0_quads;
        if (wtype == TensorType::Q8_0 && n % (2 * kQK) == 0 && n_tokens >= 2) return XLayout::q8_0_upairs;
        if (wtype == TensorType::Q4_K) return XLayout::q8_k_wide;
    }
    if (wtype == TensorType::Q4_0) {
        if (n_tokens >= 4) return XLayout::q4_0_octs;
        if (n % (2 * kQK) == 0) return XLayout::q4_0_pairs;
    }
    const bool vnni = backend == Backend::avx512_vnni || backend == Backend::avx512;
    if (wtype == TensorType::Q8_0 && vnni && n_tokens >= 4) return XLayout::q8_0_octs;
    if (wtype == TensorType::Q4_K || wtype == TensorType::Q5_K) {
        const int64_t min_tokens = vnni ? 8 : 16;
        if (n_tokens >= min_tokens) return XLayout::k_octs;
    }
    return XLayout::plain;
}

size_t layout_row_size(XLayout layout, TensorType wtype, int64_t n) {
    switch (layout) {
        case XLayout::plain:
            return ref::activation_row_size(wtype, n);
        case XLayout::q4_0_pairs:
            return static_cast<size_t>(n / (2 * kQK)) * sizeof(cpu::XPairQ8);
        case XLayout::q4_0_octs:
        case XLayout::q8_0_octs:
            return static_cast<size_t>(cpu::oct_groups(n)) * sizeof(cpu::XOctQ8);
        case XLayout::k_octs:
            return static_cast<size_t>(n / kQK_K) * sizeof(cpu::XOctQ8K);
        case XLayout::q4_0_quads:
            return static_cast<size_t>(n / (4 * kQK)) * sizeof(cpu::XQuadQ8);
        case XLayout::q8_0_upairs:
            return static_cast<size_t>(n / (2 * kQK)) * sizeof(cpu::XPairQ8U);
        case XLayout::q8_k_wide:
            return ref::activation_row_size(wtype, n);
    }
    return 0;
}

#if DUET_SIMD_X86
namespace {

cpu::MatmulRowsFn kernel_for(XLayout layout, TensorType wtype, bool vnni) {
    switch (layout) {
        case XLayout::q4_0_pairs:
            return vnni ? cpu::matmul_rows_fn_q4_0_pairs_vnni() : cpu::matmul_rows_fn_q4_0_pairs_avx2();
        case XLayout::q4_0_octs:
            return vnni ? cpu::matmul_rows_fn_q4_0_oct_vnni() : cpu::matmul_rows_fn_q4_0_oct_avx2();
        case XLayout::q8_0_octs:
            return vnni ? cpu::matmul_rows_fn_q8_0_oct_vnni() : nullptr;
        case XLayout::k_octs:
            if (wtype == TensorType::Q4_K)
                return vnni ? cpu::matmul_rows_fn_q4_k_oct_vnni() : cpu::matmul_rows_fn_q4_k_oct_avx2();
            return vnni ? cpu::matmul_rows_fn_q5_k_oct_vnni() : cpu::matmul_rows_fn_q5_k_oct_avx2();
        case XLayout::plain:
            if (vnni && cpu::matmul_rows_fn_k_vnni(wtype)) return cpu::matmul_rows_fn_k_vnni(wtype);
            return cpu::matmul_rows_fn_avx2(wtype);
        case XLayout::q4_0_quads:
            return cpu::matmul_rows_fn_q4_0_quads_avx512();
        case XLayout::q8_0_upairs:
            return cpu::matmul_rows_fn_q8_0_pairs_avx512();
        case XLayout::q8_k_wide:
            return cpu::matmul_rows_fn_q4_k_avx512();
    }
    return nullptr;
}

}  // namespace
#endif

cpu::MatmulRowsFn rows_fn_for(Backend backend, XLayout layout, TensorType wtype) {
#if DUET_SIMD_X86
    if (backend == Backend::avx2 || backend == Backend::avx512_vnni || backend == Backend::avx512)
        return kernel_for(layout, wtype, backend != Backend::avx2);
#elif DUET_SIMD_NEON
    if (backend == Backend::neon_dotprod) return cpu::matmul_rows_fn_neon_dotprod(wtype);
    if (backend == Backend::neon) return cpu::matmul_rows_fn_neon(wtype);
#endif
    return nullptr;
}

void quantize_activation_row(XLayout layout, TensorType wtype, const float* x, uint8_t* row, int64_t n) {
#if DUET_SIMD_X86
    switch (layout) {
        case XLayout::q4_0_pairs:
            cpu::quantize_row_q8_pairs_avx2(x, reinterpret_cast<cpu::XPairQ8*>(row), n);
            return;
        case XLayout::q4_0_octs:
            cpu::quantize_row_q8_oct_avx2(x, reinterpret_cast<cpu::XOctQ8*>(row), n, 8);
            return;
        case XLayout::q8_0_octs:
            cpu::quantize_row_q8_oct_avx2(x, reinterpret_cast<cpu::XOctQ8*>(row), n, 128);
            return;
        case XLayout::k_octs:
            cpu::quantize_row_q8_k_oct_avx2(x, reinterpret_cast<cpu::XOctQ8K*>(row), n);
            return;
        case XLayout::plain:
        case XLayout::q8_k_wide:
            quantize_tokens_avx2(ref::activation_format(wtype), x, n, row, 0, 0, 1);
            return;
        case XLayout::q4_0_quads:
            cpu::quantize_row_q8_quads_avx512(x, reinterpret_cast<cpu::XQuadQ8*>(row), n);
            return;
        case XLayout::q8_0_upairs:
            cpu::quantize_row_q8_u_pairs_avx512(x, reinterpret_cast<cpu::XPairQ8U*>(row), n);
            return;
    }
#else
    DUET_ASSERT(layout == XLayout::plain);
    ref::quantize_activation_row(wtype, x, row, n);
#endif
}

size_t matmul_scratch_size(TensorType wtype, int64_t n, int64_t n_tokens) {
    // the largest of the layouts any backend may choose for this shape (the backend can change later)
    size_t bytes = ref::matmul_scratch_size(wtype, n, n_tokens);
    if (ref::activation_format(wtype) == ref::ActivationFormat::f32) return bytes;
    for (XLayout layout : {XLayout::q4_0_pairs, XLayout::q4_0_octs, XLayout::q8_0_octs, XLayout::k_octs,
                           XLayout::q4_0_quads, XLayout::q8_0_upairs}) {
        bool fits = false;
        switch (layout) {
            case XLayout::k_octs:
                fits = wtype == TensorType::Q4_K || wtype == TensorType::Q5_K;
                break;
            case XLayout::q8_0_octs:
                fits = wtype == TensorType::Q8_0;
                break;
            case XLayout::q8_0_upairs:
                fits = wtype == TensorType::Q8_0 && n % (2 * kQK) == 0;
                break;
            case XLayout::q4_0_pairs:
                fits = wtype == TensorType::Q4_0 && n % (2 * kQK) == 0;
                break;
            case XLayout::q4_0_quads:
                fits = wtype == TensorType::Q4_0 && n % (4 * kQK) == 0;
                break;
            default:
                fits = wtype == TensorType::Q4_0;
        }
        if (fits) bytes = std::max(bytes, layout_row_size(layout, wtype, n) * static_cast<size_t>(n_tokens));
    }
    if (wtype == TensorType::Q6_K)  // q6_k_rows16's prepared rows (avx512)
        bytes = std::max(bytes, static_cast<size_t>(n / kQK_K * n_tokens) * sizeof(cpu::XRows16Q6K));
    if (wtype == TensorType::Q4_0 || wtype == TensorType::Q8_0 || wtype == TensorType::Q4_K ||
        wtype == TensorType::Q6_K)  // the AMX kernel's tiles and tail rows (amx.h)
        bytes = std::max(bytes, cpu::amx_scratch_size(n, n_tokens));
    return bytes;
}

}  // namespace duet::kernels
