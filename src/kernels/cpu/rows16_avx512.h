// rows16_avx512.h: what the rows16 kernels share (matmul_rows16_avx512.cpp, matmul_q4_k_rows16_avx512.cpp,
// matmul_q6_k_rows16_avx512.cpp; *_avx512.cpp only): vpdpbusd with an embedded broadcast, and the driver that walks
// a thread's groups of 16 rows in passes of up to kMaxTokens tokens.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/cpu/matmul_rows.h"
#include "kernels/cpu/width_probe.h"
#include "kernels/ref/packed.h"

namespace duet::cpu {
inline namespace avx512_rows16 {

// acc (16 int32) += the 16 lanes of w (4 unsigned bytes each) . the 4 signed bytes at p (the same for every lane).
// GCC 12 turns _mm512_dpbusd_epi32(acc, w, _mm512_set1_epi32(load)) into a separate vpbroadcastd per product; the
// folded form saves a uop per product (q4_k_rows16, 4 tokens: 250 -> 222 us on 8960x1536).
inline __m512i dpbusd_bcst(__m512i acc, __m512i w, const int8_t* p) {
    asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*reinterpret_cast<const int32_t*>(p)));
    return acc;
}

// What a pass prefetches of the weights ahead of its loads: nothing (a later pass over a group finds its bytes in
// L1/L2), or with the hint chosen at start for this CPU model (StreamPrefetch, width_probe.h): non-temporal where
// that is fastest (Zen 5), T0 where non-temporal lines arrive too late or leave too soon (Intel Xeon with AMX:
// Q4_0 decode read 5.2 GB/s a thread with NTA, 13.3 with T0).
enum class Fetch { none, nta, t0 };
template <Fetch kF>
[[gnu::always_inline]] inline void prefetch_line(const void* p) {
    if constexpr (kF == Fetch::nta) _mm_prefetch(static_cast<const char*>(p), _MM_HINT_NTA);
    else if constexpr (kF == Fetch::t0) _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
}

// How far ahead a kernel prefetches with hint kF, given its distance for NTA (measured on Zen 5): T0 a quarter of
// it (Intel Xeon with AMX, R1-1.5B tg64 on 2 threads, rows16 Q4_0 / Q8_0 streams: T0 at 8 KiB 29.7-30.0 / 16.5-17.0
// tok/s, at 2 KiB 33.5 / 17.8; T1 at 2 KiB 33.2 / 18.0, at 1 KiB 31.7 / 18.2).
template <Fetch kF>
constexpr int64_t prefetch_ahead(int64_t nta_bytes) {
    return kF == Fetch::t0 ? nta_bytes / 4 : nta_bytes;
}

// A kernel's entry for the hint chosen at start: make<Fetch::nta>() or make<Fetch::t0>().
template <class Make>
auto for_hint(StreamPrefetch hint, const Make& make) {
    return hint == StreamPrefetch::t0 ? make.template operator()<Fetch::t0>() : make.template operator()<Fetch::nta>();
}

template <int NT, Fetch kFirst, class Pass, class X>
inline void run_pass(const Pass& pass, bool first, const uint8_t* group, const X* const* x, float* const* y) {
    if (first) pass.template run<NT, kFirst>(group, x, y);
    else pass.template run<NT, Fetch::none>(group, x, y);
}

// Rows [r0, r1) (multiples of 16) of Y for every token; a.w_row_size is a group's bytes / 16 and a.x holds rows of
// X (the kernel's prepared activations). For each group, tokens go in passes of up to kMaxTokens:
//   pass.template run<NT, kFetch>(group, x, y)   x[t], y[t] for t < NT: token t's activations and its 16 outputs
// with kFetch = kFirst on the first pass over the group and Fetch::none on later ones.
template <class X, int kMaxTokens, Fetch kFirst, class Pass>
void rows16_passes(const MatmulArgs& a, int64_t r0, int64_t r1, const Pass& pass) {
    const int64_t group_bytes = ref::kRows16 * static_cast<int64_t>(a.w_row_size);
    for (int64_t r = r0; r < r1; r += ref::kRows16) {
        const uint8_t* group = a.w + r / ref::kRows16 * group_bytes;
        for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kMaxTokens) {
            const int nt = static_cast<int>(std::min<int64_t>(kMaxTokens, a.n_tokens - t0));
            const X* x[kMaxTokens];
            float* y[kMaxTokens];
            for (int t = 0; t < nt; ++t) {
                x[t] = reinterpret_cast<const X*>(a.x + (t0 + t) * a.x_row_size);
                y[t] = a.y + (t0 + t) * a.d + r;
            }
            const bool first = t0 == 0;
            [&]<int... I>(std::integer_sequence<int, I...>) {  // the pass compiled for exactly nt tokens
                ((nt == I + 1 ? run_pass<I + 1, kFirst>(pass, first, group, x, y) : void()), ...);
            }
            (std::make_integer_sequence<int, kMaxTokens>{});
        }
    }
}

}  // namespace avx512_rows16
}  // namespace duet::cpu
