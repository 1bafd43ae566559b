// matmul_legacy_avx2.cpp: AVX2 weight-row · activation kernels for F32/F16/BF16 (float FMA) and the 32-element
// quants Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 against Q8_1-style activations (integer maddubs/madd per block).
#include <cstring>

#include "kernels/cpu/tile_avx2.h"

namespace duet::cpu {

namespace {

// ---- float weights: blocks of 8 elements, activations are the float rows ----
struct F32x8 {
    float v[8];
};
struct U16x8 {
    uint16_t v[8];
};

struct XF32 {
    using XBlock = F32x8;
    using XPrep = __m256;
    static constexpr int64_t kElems = 8;
    static constexpr int kPrefillRows = 4, kPrefillTokens = 2;
    static XPrep xprep(const F32x8* x) { return _mm256_loadu_ps(x->v); }
    static __m256 apply(__m256 w, __m256 x, __m256 acc) { return _mm256_fmadd_ps(w, x, acc); }
};

struct KF32 : XF32 {
    using WBlock = F32x8;
    using Prep = __m256;
    static Prep prep(const F32x8* w) { return _mm256_loadu_ps(w->v); }
};

struct KF16 : XF32 {
    using WBlock = U16x8;
    using Prep = __m256;
    static Prep prep(const U16x8* w) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w->v)));
    }
};

struct KBF16 : XF32 {
    using WBlock = U16x8;
    using Prep = __m256;
    static Prep prep(const U16x8* w) {
        const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w->v)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
};

// ---- 32-element quants against block_q8_1f activations ----
struct XQ8 {
    using XBlock = block_q8_1f;
    static constexpr int64_t kElems = kQK;
    static constexpr int kPrefillRows = 2, kPrefillTokens = 4;
    struct XPrep {
        __m256i q;
        __m256 d;
        __m256 s;
    };
};

// Low nibbles -> bytes 0..15, high nibbles -> bytes 16..31 (ggml's element order), values 0..15.
inline __m256i unpack_nibbles(const uint8_t* qs) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low_nibbles_mask());
}

// The fifth bits of Q5 blocks: bit j of the u32 -> 0x10 in byte j.
inline __m256i unpack_high_bits(const uint8_t* qh) {
    uint32_t bits;
    std::memcpy(&bits, qh, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                                               _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                                 0x0101010101010101, 0x0000000000000000));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

// Lanes of f * dx sum to dx * sum(q_u * x); subtracting k * s / 8 per lane removes the offset k of q = q_u - k.
struct KQ4_0 : XQ8 {
    using WBlock = block_q4_0;
    struct Prep {
        __m256i q;
        __m256 d;
    };
    static Prep prep(const block_q4_0* w) { return {unpack_nibbles(w->qs), load_f16_broadcast(&w->d)}; }
    static XPrep xprep(const block_q8_1f* x) {
        return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs)), _mm256_set1_ps(x->d),
                _mm256_set1_ps(x->s)};  // 8 lanes x s = 8 * s
    }
    static __m256 apply(const Prep& p, const XPrep& x, __m256 acc) {
        return _mm256_fmadd_ps(_mm256_fmsub_ps(dot_u8_i8(p.q, x.q), x.d, x.s), p.d, acc);
    }
};

struct KQ5_0 : XQ8 {
    using WBlock = block_q5_0;
    struct Prep {
        __m256i q;
        __m256 d;
    };
    static Prep prep(const block_q5_0* w) {
        return {_mm256_or_si256(unpack_nibbles(w->qs), unpack_high_bits(w->qh)), load_f16_broadcast(&w->d)};
    }
    static XPrep xprep(const block_q8_1f* x) {
        return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs)), _mm256_set1_ps(x->d),
                _mm256_set1_ps(2.0f * x->s)};  // 8 lanes x 2s = 16 * s
    }
    static __m256 apply(const Prep& p, const XPrep& x, __m256 acc) {
        return _mm256_fmadd_ps(_mm256_fmsub_ps(dot_u8_i8(p.q, x.q), x.d, x.s), p.d, acc);
    }
};

// Q4_1 / Q5_1: dw * dx * sum(q * x) + m * s; the min term is spread as s / 8 per lane.
struct XQ8Min : XQ8 {
    static XPrep xprep(const block_q8_1f* x) {
        return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs)), _mm256_set1_ps(x->d),
                _mm256_set1_ps(0.125f * x->s)};
    }
    struct PrepMin {
        __m256i q;
        __m256 d;
        __m256 m;
    };
    static __m256 apply(const PrepMin& p, const XPrep& x, __m256 acc) {
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dot_u8_i8(p.q, x.q), x.d), p.d, acc);
        return _mm256_fmadd_ps(p.m, x.s, acc);
    }
};

struct KQ4_1 : XQ8Min {
    using WBlock = block_q4_1;
    using Prep = PrepMin;
    static Prep prep(const block_q4_1* w) {
        return {unpack_nibbles(w->qs), load_f16_broadcast(&w->d), load_f16_broadcast(&w->m)};
    }
};

struct KQ5_1 : XQ8Min {
    using WBlock = block_q5_1;
    using Prep = PrepMin;
    static Prep prep(const block_q5_1* w) {
        return {_mm256_or_si256(unpack_nibbles(w->qs), unpack_high_bits(w->qh)), load_f16_broadcast(&w->d),
                load_f16_broadcast(&w->m)};
    }
};

// Q8_0: signed weights; maddubs(|w|, sign(x, w)).
struct KQ8_0 : XQ8 {
    using WBlock = block_q8_0;
    struct Prep {
        __m256i abs;
        __m256i q;
        __m256 d;
    };
    static Prep prep(const block_q8_0* w) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->qs));
        return {_mm256_sign_epi8(q, q), q, load_f16_broadcast(&w->d)};
    }
    static XPrep xprep(const block_q8_1f* x) {
        return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs)), _mm256_set1_ps(x->d), _mm256_setzero_ps()};
    }
    static __m256 apply(const Prep& p, const XPrep& x, __m256 acc) {
        return _mm256_fmadd_ps(_mm256_mul_ps(dot_u8_i8(p.abs, _mm256_sign_epi8(x.q, p.q)), x.d), p.d, acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_legacy_avx2(TensorType wtype) {
    switch (wtype) {
        case TensorType::F32:
            return &matmul_rows<KF32>;
        case TensorType::F16:
            return &matmul_rows<KF16>;
        case TensorType::BF16:
            return &matmul_rows<KBF16>;
        case TensorType::Q4_0:
            return &matmul_rows<KQ4_0>;
        case TensorType::Q4_1:
            return &matmul_rows<KQ4_1>;
        case TensorType::Q5_0:
            return &matmul_rows<KQ5_0>;
        case TensorType::Q5_1:
            return &matmul_rows<KQ5_1>;
        case TensorType::Q8_0:
            return &matmul_rows<KQ8_0>;
        default:
            return nullptr;
    }
}

MatmulRowsFn matmul_rows_fn_avx2(TensorType wtype) {
    if (MatmulRowsFn fn = matmul_rows_fn_legacy_avx2(wtype)) return fn;
    return matmul_rows_fn_k_avx2(wtype);
}

int64_t matmul_row_granularity_avx2(int64_t n_tokens) { return 4; }

}  // namespace duet::cpu
