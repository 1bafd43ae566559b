// matmul_q4_k_avx512.cpp: Q4_K decode and few-stream steps on 512-bit vectors against plain Q8_K activations.
// A super-block is unpacked once per step into 4 vectors of two sub-blocks each ([32 values of sub-block 2j |
// 32 of 2j+1], matching 64 contiguous activation bytes) and 4 scale vectors (each sub-block's 6-bit scale in its
// half's 16 int16 lanes); per token it then costs 4 vpmaddubsw + 4 vpdpwssd (half of matmul_k_vnni.cpp's 256-bit
// count), the mins through the activations' group sums (bsums), and a float epilogue of five ops.
#include <cstring>

#include "kernels/cpu/k_quants_avx2.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/cpu/tile_avx512.h"

namespace duet::cpu {

namespace {

struct KQ4_KWide {
    using WBlock = block_q4_K;
    using XBlock = block_q8_K;
    static constexpr int64_t kElems = kQK_K;
    static constexpr int kRows = 1;  // one row's unpacked super-block (11 vectors) stays in registers
    struct Prep {
        __m512i q[4];   // [sub-block 2j | sub-block 2j+1] values 0..15
        __m512i sc[4];  // [scale of 2j x 16 | scale of 2j+1 x 16] as int16
        __m128i mn16;   // the 8 mins as int16
        __m512 d, dmin;
    };
    struct XPrep {
        const block_q8_K* x;
        __m128i bsum32;  // sums of the 8 sub-blocks' activations (int16)
        __m512 d;
    };
    static Prep prep(const block_q4_K* w) {
        Prep p;
        __m128i sc16;
        unpack_scales_k4(w->scales, &sc16, &p.mn16);
        const __m512i scales = _mm512_castsi128_si512(sc16);
        const __m512i shifts = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
        const __m512i mask = _mm512_set1_epi8(0x0f);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            // qs bytes 32j..32j+31 hold sub-block 2j (low nibbles) and 2j+1 (high nibbles)
            const __m512i both =
                _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w->qs + 32 * j)));
            p.q[j] = _mm512_and_si512(_mm512_srlv_epi64(both, shifts), mask);
            const __m512i idx = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(2 * j)),
                                                   _mm256_set1_epi16(static_cast<short>(2 * j + 1)), 1);
            p.sc[j] = _mm512_permutexvar_epi16(idx, scales);
        }
        uint16_t d, dmin;
        std::memcpy(&d, &w->d, 2);
        std::memcpy(&dmin, &w->dmin, 2);
        p.d = _mm512_set1_ps(f16_to_f32(d));
        p.dmin = _mm512_set1_ps(f16_to_f32(dmin));
        return p;
    }
    static XPrep xprep(const block_q8_K* x) {
        const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->bsums));
        const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->bsums + 8));
        return {x, _mm_hadd_epi16(lo, hi), _mm512_set1_ps(x->d)};
    }
    static __m512 apply(const Prep& p, const XPrep& xp, __m512 acc) {
        __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int j = 0; j < 4; j += 2) {
            const __m512i x0 = _mm512_loadu_si512(xp.x->qs + 64 * j);
            const __m512i x1 = _mm512_loadu_si512(xp.x->qs + 64 * j + 64);
            even = _mm512_dpwssd_epi32(even, _mm512_maddubs_epi16(p.q[j], x0), p.sc[j]);
            odd = _mm512_dpwssd_epi32(odd, _mm512_maddubs_epi16(p.q[j + 1], x1), p.sc[j + 1]);
        }
        const __m128i mins = _mm_madd_epi16(p.mn16, xp.bsum32);  // 4 x i32
        __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(even, odd)), p.d);
        t = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi128_si512(mins)), p.dmin, t);
        return _mm512_fmadd_ps(t, xp.d, acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_k_avx512() { return &matmul_rows_wide<KQ4_KWide>; }

}  // namespace duet::cpu
