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
        const __m256i bit4 = _mm256_set1_epi8(0x10);
        // bit k of qh[l] belongs to sub-block k: move it to bit 4 of each byte
        return dot_k4(w, x, acc, [&](int k) {
            const __m256i shifted = _mm256_srl_epi16(hbits, _mm_cvtsi32_si128(k));
            return _mm256_and_si256(_mm256_slli_epi16(shifted, 4), bit4);
        });
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
        const __m256i m4 = low_nibbles_mask(), m2 = _mm256_set1_epi8(0x03), m30 = _mm256_set1_epi8(0x30);
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = w->ql + 64 * half;
            const int8_t* xq = x->qs + 128 * half;
            const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
            const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
            const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->qh + 32 * half));
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(q0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(q1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(h, _mm256_set1_epi8(0x0C)), 2));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q0, 4), m4), _mm256_and_si256(h, m30));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
            // scales of this half (groups 8*half .. 8*half+7) in both 128-bit lanes
            const __m256i sc_half = _mm256_broadcastsi128_si256(
                _mm_cvtepi8_epi16(half == 0 ? sc8 : _mm_unpackhi_epi64(sc8, sc8)));
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) {
                // values 32k..32k+31 of this half: groups 2k (low lane) and 2k+1 (high lane)
                const __m256i sc = _mm256_shuffle_epi8(
                    sc_half, _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * k + 1))),
                                              _mm_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * k)))));
                const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * k));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(v[k], xv), sc));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(offset, 5));
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(f16_to_f32(w->d) * xp.d), acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_k_avx2(TensorType wtype) {
    switch (wtype) {
        case TensorType::Q4_K: return &matmul_rows<KQ4_K>;
        case TensorType::Q5_K: return &matmul_rows<KQ5_K>;
        case TensorType::Q6_K: return &matmul_rows<KQ6_K>;
        default: return nullptr;
    }
}

}  // namespace duet::cpu
