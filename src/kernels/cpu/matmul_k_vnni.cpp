// matmul_k_vnni.cpp: Q4_K / Q5_K / Q6_K weight rows against Q8_K activations with AVX-512 VNNI (256-bit, AVX512VL).
//
// A weight super-block (256 values) is unpacked once per tile row (prep: 8 vectors of 32 values, 0..15 or
// 0..31, and each sub-block's 6-bit scale broadcast to 16 lanes) and reused for every token of the tile; per
// 32 values a token then costs one vpmaddubsw (value x activation pairs -> int16) and one vpdpwssd (x the
// sub-block scale, accumulated as int32): the AVX2 kernel spends maddubs + madd + add and unpacks again for
// every token. The mins go through the activations' group sums (bsums), as in matmul_k_avx2.cpp.
#define DUET_TILE_ISA avx512_vnni
#include <cstring>

#include "kernels/cpu/k_quants_avx2.h"

namespace duet::cpu {

namespace {

struct PrepK4 {
    __m256i q[8];   // values of sub-block k (32 bytes)
    __m256i sc[8];  // scale of sub-block k in all 16 int16 lanes
    __m128i mn16;   // the 8 mins as int16
    float d, dmin;
};

template <class Block, class HighBits>
inline PrepK4 prep_k4(const Block* w, HighBits high) {
    PrepK4 p;
    __m128i sc16;
    unpack_scales_k4(w->scales, &sc16, &p.mn16);
    const __m256i scales = _mm256_broadcastsi128_si256(sc16);
    const __m256i low_mask = low_nibbles_mask();
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->qs + 32 * j));
        p.q[2 * j] = _mm256_or_si256(_mm256_and_si256(q, low_mask), high(2 * j));
        p.q[2 * j + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low_mask), high(2 * j + 1));
    }
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) p.sc[k] = broadcast_lane16(scales, k);
    uint16_t d, dmin;
    std::memcpy(&d, &w->d, 2);
    std::memcpy(&dmin, &w->dmin, 2);
    p.d = f16_to_f32(d);
    p.dmin = f16_to_f32(dmin);
    return p;
}

struct XQ8KVnni : XQ8K {
    using Prep = PrepK4;
    static constexpr int kPrefillRows = 1, kPrefillTokens = 4;  // one row's unpacked block stays in registers
    static __m256 apply(const PrepK4& p, const XPrep& xp, __m256 acc) {
        const block_q8_K* x = xp.x;
        __m256i even = _mm256_setzero_si256(), odd = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            const __m256i x_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 64 * j));
            const __m256i x_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 64 * j + 32));
            even = _mm256_dpwssd_epi32(even, _mm256_maddubs_epi16(p.q[2 * j], x_lo), p.sc[2 * j]);
            odd = _mm256_dpwssd_epi32(odd, _mm256_maddubs_epi16(p.q[2 * j + 1], x_hi), p.sc[2 * j + 1]);
        }
        const __m128i mins = _mm_madd_epi16(p.mn16, xp.bsum32);  // 4 x i32
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(even, odd)), _mm256_set1_ps(p.d * xp.d), acc);
        return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(_mm256_zextsi128_si256(mins)), _mm256_set1_ps(p.dmin * xp.d), acc);
    }
};

struct KQ4_KVnni : XQ8KVnni {
    using WBlock = block_q4_K;
    static PrepK4 prep(const block_q4_K* w) {
        return prep_k4(w, [](int) { return _mm256_setzero_si256(); });
    }
};

struct KQ5_KVnni : XQ8KVnni {
    using WBlock = block_q5_K;
    static PrepK4 prep(const block_q5_K* w) {
        const __m256i hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->qh));
        return prep_k4(w, [&](int k) { return q5_k_high_bits(hbits, k); });
    }
};

// Q6_K: values q - 32 with q = 4 low bits (ql) | 2 high bits (qh) << 4, and a signed 8-bit scale per 16 values.
// The unpacked values (0..63) and the scale vectors are built once per tile row; the -32 offset of every value
// is taken out through the activations' 16-value sums (bsums): 32 * sum_g scale_g * bsum_g.
struct PrepK6 {
    __m256i q[8];   // values 32k..32k+31 of the super-block (0..63)
    __m256i sc[8];  // [scale of values 32k..32k+15 x 8 | scale of 32k+16..32k+31 x 8] as int16
    __m256i sc16;   // the 16 scales as int16 (for the offset)
    float d;
};

struct KQ6_KVnni : XQ8K {
    using WBlock = block_q6_K;
    using Prep = PrepK6;
    static constexpr int kPrefillRows = 1, kPrefillTokens = 4;  // one row's unpacked block stays in registers

    static PrepK6 prep(const block_q6_K* w) {
        PrepK6 p;
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w->scales));
        p.sc16 = _mm256_cvtepi8_epi16(sc8);
#pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            unpack_q6_k_half(w, half, p.q + 4 * half);
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) p.sc[4 * half + k] = q6_k_scales(sc8, half, k);
        }
        uint16_t d;
        std::memcpy(&d, &w->d, 2);
        p.d = f16_to_f32(d);
        return p;
    }

    static __m256 apply(const PrepK6& p, const XPrep& xp, __m256 acc) {
        const block_q8_K* x = xp.x;
        __m256i even = _mm256_setzero_si256(), odd = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int k = 0; k < 8; k += 2) {
            const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 32 * k));
            const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 32 * k + 32));
            even = _mm256_dpwssd_epi32(even, _mm256_maddubs_epi16(p.q[k], x0), p.sc[k]);
            odd = _mm256_dpwssd_epi32(odd, _mm256_maddubs_epi16(p.q[k + 1], x1), p.sc[k + 1]);
        }
        const __m256i offset =
            _mm256_madd_epi16(p.sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->bsums)));
        const __m256i sumi = _mm256_sub_epi32(_mm256_add_epi32(even, odd), _mm256_slli_epi32(offset, 5));
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(p.d * xp.d), acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_k_vnni(TensorType wtype) {
    switch (wtype) {
        case TensorType::Q4_K:
            return &matmul_rows<KQ4_KVnni>;
        case TensorType::Q5_K:
            return &matmul_rows<KQ5_KVnni>;
        case TensorType::Q6_K:
            return &matmul_rows<KQ6_KVnni>;
        default:
            return nullptr;
    }
}

}  // namespace duet::cpu
