// ops_simd.h: the element-wise ops (RMSNorm, softmax, SiLU·mul, add, the attention dots and axpys, f32 -> f16)
// written once over a float vector type V: ops_avx2.cpp instantiates them with 8 lanes of AVX2, ops_avx512.cpp with
// 16 lanes of AVX-512 (the element-wise ones), ops_neon.cpp with 4 lanes of NEON. Include only from those files (each
// is compiled for its own instruction set); everything here has internal linkage, so the instantiations never meet
// at link time. The naive twins are kernels/ref/ops.cpp.
//
// V provides (all static, inlined):
//   kLanes                      floats per vector
//   T zero(), splat(float)      a vector of 0 / of one value
//   T load(const float*)        kLanes floats, unaligned;  store(float*, T)
//   T load_f16(const uint16_t*) kLanes IEEE halves as floats;  store_f16(uint16_t*, T), rounding to nearest even
//   T add(T, T), sub(T, T), mul(T, T), div(T, T), max(T, T), neg(T)
//   T fma(T a, T b, T c)        a * b + c, one rounding
//   T exp(T)                    e^x, ~2 ulp; below -87.3 (and -inf) gives 0
//   float hsum(T), hmax(T)      across the lanes
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common/fp16.h"

namespace duet::cpu {
namespace {

template <class V>
void rmsnorm_simd(float* out, const float* x, const float* w, int64_t n, float eps) {
    constexpr int64_t L = V::kLanes;
    auto acc0 = V::zero(), acc1 = V::zero();
    int64_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        const auto a = V::load(x + i), b = V::load(x + i + L);
        acc0 = V::fma(a, a, acc0);
        acc1 = V::fma(b, b, acc1);
    }
    float sum = V::hsum(V::add(acc0, acc1));
    for (; i < n; ++i) sum += x[i] * x[i];
    const float scale = 1.0f / std::sqrt(sum / static_cast<float>(n) + eps);
    const auto vs = V::splat(scale);
    i = 0;
    for (; i + L <= n; i += L) V::store(out + i, V::mul(V::mul(V::load(x + i), vs), V::load(w + i)));
    for (; i < n; ++i) out[i] = x[i] * scale * w[i];
}

template <class V>
void softmax_simd(float* x, int64_t n) {
    constexpr int64_t L = V::kLanes;
    int64_t i = 0;
    auto vmax = V::splat(-INFINITY);
    for (; i + L <= n; i += L) vmax = V::max(vmax, V::load(x + i));
    float max = V::hmax(vmax);
    for (; i < n; ++i) max = std::max(max, x[i]);
    const auto vm = V::splat(max);
    auto vsum = V::zero();
    i = 0;
    for (; i + L <= n; i += L) {
        const auto e = V::exp(V::sub(V::load(x + i), vm));
        V::store(x + i, e);
        vsum = V::add(vsum, e);
    }
    float sum = V::hsum(vsum);
    for (; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    const auto vi = V::splat(inv);
    i = 0;
    for (; i + L <= n; i += L) V::store(x + i, V::mul(V::load(x + i), vi));
    for (; i < n; ++i) x[i] *= inv;
}

template <class V>
void silu_mul_simd(float* out, const float* gate, const float* up, int64_t n) {
    constexpr int64_t L = V::kLanes;
    const auto one = V::splat(1.0f);
    int64_t i = 0;
    for (; i + L <= n; i += L) {
        const auto g = V::load(gate + i);
        const auto silu = V::div(g, V::add(one, V::exp(V::neg(g))));
        V::store(out + i, V::mul(silu, V::load(up + i)));
    }
    for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

template <class V>
void add_simd(float* out, const float* a, const float* b, int64_t n) {
    constexpr int64_t L = V::kLanes;
    int64_t i = 0;
    for (; i + L <= n; i += L) V::store(out + i, V::add(V::load(a + i), V::load(b + i)));
    for (; i < n; ++i) out[i] = a[i] + b[i];
}

// dot(a, b) over n elements, a read by Load (float or half): two accumulators, then one, then a scalar tail.
template <class V, class A, class Load, class Scalar>
float dot_simd(const A* a, const float* b, int64_t n, Load load_a, Scalar scalar_a) {
    constexpr int64_t L = V::kLanes;
    auto acc0 = V::zero(), acc1 = V::zero();
    int64_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        acc0 = V::fma(load_a(a + i), V::load(b + i), acc0);
        acc1 = V::fma(load_a(a + i + L), V::load(b + i + L), acc1);
    }
    for (; i + L <= n; i += L) acc0 = V::fma(load_a(a + i), V::load(b + i), acc0);
    float sum = V::hsum(V::add(acc0, acc1));
    for (; i < n; ++i) sum += scalar_a(a[i]) * b[i];
    return sum;
}

template <class V>
float dot_f32_simd(const float* a, const float* b, int64_t n) {
    return dot_simd<V>(a, b, n, V::load, [](float v) { return v; });
}

template <class V>
float dot_f16_f32_simd(const uint16_t* a, const float* b, int64_t n) {
    return dot_simd<V>(a, b, n, V::load_f16, fp16_to_fp32);
}

// out (n,) += w * v (n,), v read by Load (float or half).
template <class V, class A, class Load, class Scalar>
void axpy_simd(float* out, float w, const A* v, int64_t n, Load load_v, Scalar scalar_v) {
    constexpr int64_t L = V::kLanes;
    const auto vw = V::splat(w);
    int64_t i = 0;
    for (; i + L <= n; i += L) V::store(out + i, V::fma(vw, load_v(v + i), V::load(out + i)));
    for (; i < n; ++i) out[i] += w * scalar_v(v[i]);
}

template <class V>
void axpy_f16_simd(float* out, float w, const uint16_t* v, int64_t n) {
    axpy_simd<V>(out, w, v, n, V::load_f16, fp16_to_fp32);
}

template <class V>
void axpy_f32_simd(float* out, float w, const float* v, int64_t n) {
    axpy_simd<V>(out, w, v, n, V::load, [](float x) { return x; });
}

template <class V>
void f32_to_f16_simd(uint16_t* out, const float* x, int64_t n) {
    constexpr int64_t L = V::kLanes;
    int64_t i = 0;
    for (; i + L <= n; i += L) V::store_f16(out + i, V::load(x + i));
    for (; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

}  // namespace
}  // namespace duet::cpu
