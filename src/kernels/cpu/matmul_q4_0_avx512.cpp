// matmul_q4_0_avx512.cpp: Q4_0 decode and few-stream steps on 512-bit vectors: four weight blocks per vector,
// gathered from their 72 bytes with one two-source word permute (AVX512BW), nibbles split once per step and used for
// every token (tile_avx512.h). Per token and four blocks: two vpdpbusd, one convert, two FMAs; the arithmetic is
// the 256-bit pair kernel's (matmul_q4_0_vnni.cpp) on twice the blocks per instruction.
#include <cstring>

#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/cpu/tile_avx512.h"

namespace duet::cpu {

void quantize_row_q8_quads_avx512(const float* x, XQuadQ8* y, int64_t n) {
    for (int64_t p = 0; p < n / (4 * kQK); ++p, x += 4 * kQK) {
        block_q8_1f tmp[4];
        quantize_row_q8_1f_avx2(x, tmp, 4 * kQK);
        for (int k = 0; k < 4; ++k) {
            std::memcpy(y[p].lo + 16 * k, tmp[k].qs, 16);
            std::memcpy(y[p].hi + 16 * k, tmp[k].qs + 16, 16);
            for (int l = 0; l < 4; ++l) {
                y[p].d[4 * k + l] = tmp[k].d;
                y[p].s[4 * k + l] = 2.0f * tmp[k].s;  // 4 lanes x 2s = 8s: the -8 offset of Q4_0
            }
        }
    }
}

namespace {

struct Q4_0Quad {
    block_q4_0 b[4];
};
static_assert(sizeof(Q4_0Quad) == 72);

// Word indices into [bytes 0..63 | bytes 8..71] of a quad: block k's 16 nibble bytes are words 9k+1 .. 9k+8 (its
// scale is word 9k); block 3's lie past word 31, so they come from the second load (word w there = 4 + w).
struct QuadIndex {
    alignas(64) int16_t qs[32];
    alignas(64) int16_t d[32];
};
constexpr QuadIndex make_quad_index() {
    QuadIndex ix{};
    for (int m = 0; m < 32; ++m) {
        const int k = m / 8, src = 9 * k + 1 + m % 8;
        ix.qs[m] = static_cast<int16_t>(k < 3 ? src : 32 + src - 4);
        ix.d[m] = static_cast<int16_t>(9 * ((m / 4) % 4));
    }
    return ix;
}
alignas(64) constexpr QuadIndex kQuadIndex = make_quad_index();

struct KQ4_0Quads {
    using WBlock = Q4_0Quad;
    using XBlock = XQuadQ8;
    static constexpr int64_t kElems = 4 * kQK;
    static constexpr int kRows = 4;
    struct Prep {
        __m512i lo, hi;
        __m512 d;
    };
    using XPrep = const XQuadQ8*;  // read straight from L1 by the multiply-adds
    static Prep prep(const Q4_0Quad* w) {
        const __m512i a = _mm512_loadu_si512(w);
        const __m512i b = _mm512_loadu_si512(reinterpret_cast<const uint8_t*>(w) + 8);
        const __m512i raw = _mm512_permutex2var_epi16(a, _mm512_load_si512(kQuadIndex.qs), b);
        const __m512i mask = _mm512_set1_epi8(0x0f);
        const __m512i d16 = _mm512_permutexvar_epi16(_mm512_load_si512(kQuadIndex.d), a);
        return {_mm512_and_si512(raw, mask), _mm512_and_si512(_mm512_srli_epi16(raw, 4), mask),
                _mm512_cvtph_ps(_mm512_castsi512_si256(d16))};
    }
    static XPrep xprep(const XQuadQ8* x) { return x; }
    // int32 lanes 4k..4k+3 sum block k of the quad
    static __m512 apply(const Prep& p, XPrep x, __m512 acc) {
        __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), p.lo, _mm512_loadu_si512(x->lo));
        sums = _mm512_dpbusd_epi32(sums, p.hi, _mm512_loadu_si512(x->hi));
        const __m512 t = _mm512_fmsub_ps(_mm512_cvtepi32_ps(sums), _mm512_loadu_ps(x->d), _mm512_loadu_ps(x->s));
        return _mm512_fmadd_ps(t, p.d, acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_0_quads_avx512() { return &matmul_rows_wide<KQ4_0Quads>; }

}  // namespace duet::cpu
