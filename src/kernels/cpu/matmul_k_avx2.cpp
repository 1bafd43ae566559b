// matmul_k_avx2.cpp: AVX2 weight-row · activation kernels for the K-quants Q4_K/Q5_K/Q6_K against Q8_K
// activations: per 32 values maddubs, then madd with the 16-bit sub-block scale; mins/offsets via bsums.
#include <cstring>

#include "kernels/cpu/k_quants_avx2.h"

namespace duet::cpu {

namespace {

struct XQ8KTiles : XQ8K {
    static constexpr int kPrefillRows = 2, kPrefillTokens = 4;
};

// Shared Q4_K / Q5_K body; high(j) returns the fifth bits (0x10) for the 32 values of sub-block j, or zero.
template <class Block, class HighBits>
inline __m256 dot_k4(const Block* w, const XQ8K::XPrep& xp, __m256 acc, HighBits high) {
    const block_q8_K* x = xp.x;
    __m128i sc16, mn16;
    unpack_scales_k4(w->scales, &sc16, &mn16);
    const __m128i mins = _mm_madd_epi16(mn16, xp.bsum32);  // 4 x i32
    const __m256i scales = _mm256_broadcastsi128_si256(sc16);
    const __m256i low_mask = low_nibbles_mask();
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->qs + 32 * j));
        const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, low_mask), high(2 * j));
        const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low_mask), high(2 * j + 1));
        const __m256i x_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 64 * j));
        const __m256i x_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 64 * j + 32));
        const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, x_lo), broadcast_lane16(scales, 2 * j));
        const __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, x_hi), broadcast_lane16(scales, 2 * j + 1));
        sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p_lo, p_hi));
    }
    __m256 d, dmin;
    scales_times(&w->d, xp.d, &d, &dmin);  // d and dmin are adjacent
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), d, acc);
    return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(_mm256_zextsi128_si256(mins)), dmin, acc);
}

struct KQ4_K : XQ8KTiles {
    using WBlock = block_q4_K;
    using Prep = const block_q4_K*;
    static Prep prep(const block_q4_K* w) { return w; }
    static __m256 apply(Prep w, const XPrep& x, __m256 acc) {
        return dot_k4(w, x, acc, [](int) { return _mm256_setzero_si256(); });
    }
};

struct KQ5_K : XQ8KTiles {
    using WBlock = block_q5_K;
    using Prep = const block_q5_K*;
    static Prep prep(const block_q5_K* w) { return w; }
    static __m256 apply(Prep w, const XPrep& x, __m256 acc) {
        const __m256i hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->qh));
        return dot_k4(w, x, acc, [&](int k) { return q5_k_high_bits(hbits, k); });
    }
};

struct KQ6_K : XQ8KTiles {
    using WBlock = block_q6_K;
    using Prep = const block_q6_K*;
    static Prep prep(const block_q6_K* w) { return w; }
    static __m256 apply(Prep w, const XPrep& xp, __m256 acc) {
        const block_q8_K* x = xp.x;
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w->scales));
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);  // 16 group scales
        // sum_g sc_g * bsum_g, times 32 below: the -32 offset of every value
        const __m256i offset = _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->bsums)));
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const int8_t* xq = x->qs + 128 * half;
            __m256i v[4];
            unpack_q6_k_half(w, half, v);
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) {
                const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * k));
                sumi = _mm256_add_epi32(sumi,
                                        _mm256_madd_epi16(_mm256_maddubs_epi16(v[k], xv), q6_k_scales(sc8, half, k)));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(offset, 5));
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(f16_to_f32(w->d) * xp.d), acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_k_avx2(TensorType wtype) {
    switch (wtype) {
        case TensorType::Q4_K:
            return &matmul_rows<KQ4_K>;
        case TensorType::Q5_K:
            return &matmul_rows<KQ5_K>;
        case TensorType::Q6_K:
            return &matmul_rows<KQ6_K>;
        default:
            return nullptr;
    }
}

}  // namespace duet::cpu
