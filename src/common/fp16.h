// fp16.h: IEEE half and bfloat16 <-> float conversion, scalar and exact (round to nearest even).
#pragma once

#include <cstdint>
#include <cstring>

namespace duet {

inline float fp32_from_bits(uint32_t w) {
    float f;
    std::memcpy(&f, &w, 4);
    return f;
}
inline uint32_t fp32_to_bits(float f) {
    uint32_t w;
    std::memcpy(&w, &f, 4);
    return w;
}

// Half -> float, exact for every half value including subnormals, inf and NaN.
inline float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) return fp32_from_bits(sign | 0x7f800000u | (mant << 13));  // inf / NaN
    if (exp == 0) {
        if (mant == 0) return fp32_from_bits(sign);
        // subnormal: value = mant * 2^-24
        float v = static_cast<float>(mant) * (1.0f / 16777216.0f);
        return (sign ? -v : v);
    }
    return fp32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

// Float -> half, round to nearest even; overflow goes to inf, NaN stays NaN.
inline uint16_t fp32_to_fp16(float f) {
    uint32_t x = fp32_to_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000;
    x &= 0x7fffffff;
    if (x >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00 | (x > 0x7f800000u ? 0x200 : 0));
    if (x >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to >= 65520 -> inf
    if (x < 0x38800000u) {
        // result is subnormal or zero: round(|f| * 2^24)
        if (x < 0x33000000u) return static_cast<uint16_t>(sign);  // < 2^-25 rounds to 0
        const uint32_t e = x >> 23;
        const uint32_t m = (x & 0x7fffff) | 0x800000;
        const uint32_t shift = 126 - e;  // 14 .. 24
        uint32_t half_m = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (half_m & 1))) ++half_m;
        return static_cast<uint16_t>(sign | half_m);
    }
    uint32_t h = ((x >> 13) - (112u << 10));
    const uint32_t rem = x & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
}

inline float bf16_to_fp32(uint16_t b) { return fp32_from_bits(static_cast<uint32_t>(b) << 16); }

// Float -> bfloat16, round to nearest even; NaN stays a quiet NaN.
inline uint16_t fp32_to_bf16(float f) {
    uint32_t x = fp32_to_bits(f);
    if ((x & 0x7fffffff) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);
    x += 0x7fff + ((x >> 16) & 1);
    return static_cast<uint16_t>(x >> 16);
}

}  // namespace duet
