// matmul_q4_0_vnni.cpp: the Q4_0 block-pair kernel with AVX-512 VNNI (256-bit vectors, AVX512VL): one
// vpdpbusd per nibble half replaces AVX2's maddubs + add + madd, and the 32 vector registers of AVX-512 hold a
// tile of several rows x several tokens, so each activation block is loaded once for kPrefillRows rows and
// each decoded weight pair is used for kPrefillTokens tokens.
//
// Same activation layout (XPairQ8) and the same integer sums as matmul_q4_0_avx2.cpp; only the order of the
// float accumulation may differ between the two (different tile shapes).
#define DUET_TILE_ISA avx512_vnni
#include <cstring>

#include "kernels/cpu/tile_avx2.h"

namespace duet::cpu {

namespace {

struct KQ4_0PairsVnni {
    using WBlock = Q4_0Pair;
    using XBlock = XPairQ8;
    static constexpr int64_t kElems = 2 * kQK;
    // Batches: tiles of 4 rows x 4 tokens (16 accumulators; GCC keeps the decoded pairs and activations in the
    // other 16 registers). Decode: 4 rows side by side (with the next tile prefetched, see tile_avx2.h).
    // Measured (bench_kernels batch/q4_0, 2 threads): ~330 GFLOP/s from 8 tokens up, i.e. 2 cycles per pair and
    // token, the bound of the two vector multiply pipes (2 vpdpbusd + fmsub + fma), vs ~200 for the AVX2 kernel.
    static constexpr int kPrefillRows = 4, kPrefillTokens = 4;
    static constexpr int kDecodeRows = 4;
    using Prep = Q4_0PairPrep;
    struct XPrep {
        __m256i lo, hi;
        __m256 d, s;
    };
    static Prep prep(const Q4_0Pair* w) { return unpack_q4_0_pair(w); }
    static XPrep xprep(const XPairQ8* x) {
        return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->lo)),
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->hi)), _mm256_loadu_ps(x->d),
                _mm256_loadu_ps(x->s)};
    }
    // int32 lanes 0-3 sum block 0 of the pair, lanes 4-7 block 1 (as the madd of the AVX2 kernel)
    static __m256 apply(const Prep& p, const XPrep& x, __m256 acc) {
        const __m256i sums = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), p.lo, x.lo), p.hi, x.hi);
        const __m256 t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(sums), x.d, x.s);
        return _mm256_fmadd_ps(t, p.d, acc);
    }
};

}  // namespace

MatmulRowsFn matmul_rows_fn_q4_0_pairs_vnni() { return &matmul_rows<KQ4_0PairsVnni>; }

}  // namespace duet::cpu
