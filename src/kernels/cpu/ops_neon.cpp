// ops_neon.cpp: NEON element-wise ops (RMSNorm, softmax, SiLU·mul, add, the attention dots and axpys), the
// AArch64 twins of ops_avx2.cpp. ARMv8-A base: NEON, FMA and f16 <-> f32 conversion are all mandatory there.
// The loops are ops_simd.h's; this file gives them 4-float NEON vectors and the exponential.
#include <arm_neon.h>

#include "kernels/cpu/kernels_neon.h"
#include "kernels/cpu/ops_simd.h"

namespace duet::cpu {

namespace {

// e^x for 4 floats, the same scheme as exp256 in ops_avx2.cpp: 2^n * e^r with n = round(x / ln 2),
// |r| <= ln2 / 2, degree-6 polynomial (Cephes' coefficients), ~2 ulp. Below -87.3 (and -inf) gives 0.
inline float32x4_t exp_f32x4(float32x4_t x_in) {
    const uint32x4_t underflow = vcltq_f32(x_in, vdupq_n_f32(-87.3f));
    const float32x4_t x = vminq_f32(vmaxq_f32(x_in, vdupq_n_f32(-87.3f)), vdupq_n_f32(88.7f));
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    // 2^n as two factors 2^(n/2) so that n = 128 and n = -126 stay representable
    const int32x4_t ni = vcvtnq_s32_f32(n);
    const int32x4_t half = vshrq_n_s32(ni, 1);
    const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(half, vdupq_n_s32(127)), 23));
    const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(ni, half), vdupq_n_s32(127)), 23));
    const float32x4_t e = vmulq_f32(vmulq_f32(p, s1), s2);
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(e), underflow));
}

// The vector type of ops_simd.h: 4 floats.
struct Neon {
    using T = float32x4_t;
    static constexpr int64_t kLanes = 4;
    static T zero() { return vdupq_n_f32(0.0f); }
    static T splat(float v) { return vdupq_n_f32(v); }
    static T load(const float* p) { return vld1q_f32(p); }
    static void store(float* p, T v) { vst1q_f32(p, v); }
    static T load_f16(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
    // FCVTN rounds to nearest even (the default FPCR mode), like fp32_to_fp16
    static void store_f16(uint16_t* p, T v) { vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v))); }
    static T add(T a, T b) { return vaddq_f32(a, b); }
    static T sub(T a, T b) { return vsubq_f32(a, b); }
    static T mul(T a, T b) { return vmulq_f32(a, b); }
    static T div(T a, T b) { return vdivq_f32(a, b); }
    static T max(T a, T b) { return vmaxq_f32(a, b); }
    static T neg(T a) { return vnegq_f32(a); }
    static T fma(T a, T b, T c) { return vfmaq_f32(c, a, b); }
    static T exp(T x) { return exp_f32x4(x); }
    static float hsum(T v) { return vaddvq_f32(v); }
    static float hmax(T v) { return vmaxvq_f32(v); }
};

}  // namespace

void rmsnorm_neon(float* out, const float* x, const float* w, int64_t n, float eps) {
    rmsnorm_simd<Neon>(out, x, w, n, eps);
}
void softmax_neon(float* x, int64_t n) { softmax_simd<Neon>(x, n); }
void silu_mul_neon(float* out, const float* gate, const float* up, int64_t n) { silu_mul_simd<Neon>(out, gate, up, n); }
void add_neon(float* out, const float* a, const float* b, int64_t n) { add_simd<Neon>(out, a, b, n); }
float dot_f32_neon(const float* a, const float* b, int64_t n) { return dot_f32_simd<Neon>(a, b, n); }
float dot_f16_f32_neon(const uint16_t* a, const float* b, int64_t n) { return dot_f16_f32_simd<Neon>(a, b, n); }
void axpy_f16_neon(float* out, float w, const uint16_t* v, int64_t n) { axpy_f16_simd<Neon>(out, w, v, n); }
void axpy_f32_neon(float* out, float w, const float* v, int64_t n) { axpy_f32_simd<Neon>(out, w, v, n); }
void f32_to_f16_neon(uint16_t* out, const float* x, int64_t n) { f32_to_f16_simd<Neon>(out, x, n); }

}  // namespace duet::cpu
