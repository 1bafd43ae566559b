// dpbusd_avx512.h: vpdpbusd with its signed operand broadcast by the instruction's own memory operand (*_avx512.cpp
// only). GCC 12 turns _mm512_dpbusd_epi32(acc, w, _mm512_set1_epi32(load)) into a separate vpbroadcastd per product;
// the rows16 kernels issue one per 4 activation bytes and token, so the folded form saves a uop per product
// (q4_k_rows16, 4 tokens: 250 -> 222 us on 8960x1536).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace duet::cpu {
inline namespace avx512_rows16 {

// acc (16 int32) += the 16 lanes of w (4 unsigned bytes each) . the 4 signed bytes at p (the same for every lane)
inline __m512i dpbusd_bcst(__m512i acc, __m512i w, const int8_t* p) {
    asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*reinterpret_cast<const int32_t*>(p)));
    return acc;
}

}  // namespace avx512_rows16
}  // namespace duet::cpu
