// test_ops.cpp: element-wise kernels of every SIMD backend (AVX2, AVX-512, NEON) vs their reference twins, and RoPE / softmax / RMSNorm properties.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "common/fp16.h"
#include "kernels/kernels.h"
#include "kernels/ref/ops.h"
#include "kernels/simd_backends.h"
#include "support/gaussian.h"

namespace duet {
namespace {

constexpr float kElementwiseTolerance = 2e-6f;  // relative, add/axpy/rmsnorm (summation order only)
constexpr float kExpTolerance = 1e-6f;          // relative, SiLU (polynomial exp, ~2 ulp)
constexpr float kSoftmaxTolerance = 1e-5f;      // relative, softmax (float vs double sum of n exps)
constexpr float kDotTolerance = 1e-5f;          // relative to sum |a_i b_i|

constexpr int64_t kSizes[] = {1, 7, 32, 33, 256, 1536, 4096, 8960};

using test::gaussian;

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
    std::vector<uint16_t> h(v.size());
    for (size_t i = 0; i < v.size(); ++i) h[i] = fp32_to_fp16(v[i]);
    return h;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, float rel, const char* what) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], rel * (std::fabs(want[i]) + 1e-6f)) << what << " n=" << got.size() << " i=" << i;
}

// Runs body(backend) with each SIMD backend forced (through the public ops, as the model calls them).
template <typename Body>
void for_each_simd_backend(Body body) {
    const auto backends = test::simd_backends();
    if (backends.empty()) GTEST_SKIP() << "no SIMD backend on this CPU/build";
    test::BackendGuard guard;
    for (kernels::Backend backend : backends) {
        SCOPED_TRACE(kernels::backend_name(backend));
        kernels::force_backend(backend);
        body();
        if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(SimdOps, ElementwiseMatchReference) {
    for_each_simd_backend([] {
        for (int64_t n : kSizes) {
            const auto a = gaussian(n, 1), b = gaussian(n, 2), w = gaussian(n, 3);
            std::vector<float> r(n), c(n);
            ref::add(r.data(), a.data(), b.data(), n);
            kernels::add(c.data(), a.data(), b.data(), n);
            ASSERT_EQ(r, c);
            ref::rmsnorm(r.data(), a.data(), w.data(), n, 1e-5f);
            kernels::rmsnorm(c.data(), a.data(), w.data(), n, 1e-5f);
            expect_close(c, r, kElementwiseTolerance, "rmsnorm");
            ref::silu_mul(r.data(), a.data(), b.data(), n);
            kernels::silu_mul(c.data(), a.data(), b.data(), n);
            expect_close(c, r, kExpTolerance, "silu_mul");
            auto sr = gaussian(n, 4, 5.0f), sc = sr;
            ref::softmax(sr.data(), n);
            kernels::softmax(sc.data(), n);
            expect_close(sc, sr, kSoftmaxTolerance, "softmax");
        }
    });
}

TEST(SimdOps, SiluAndSoftmaxSurviveExtremeInputs) {
    for_each_simd_backend([] {
        std::vector<float> g = {-200.0f, -90.0f, -20.0f, 0.0f, 20.0f, 90.0f, 200.0f, 1e-3f}, up(8, 1.0f), out(8);
        kernels::silu_mul(out.data(), g.data(), up.data(), 8);
        std::vector<float> want(8);
        ref::silu_mul(want.data(), g.data(), up.data(), 8);
        for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(out[i], want[i], 1e-6f * (std::fabs(want[i]) + 1e-6f)) << g[i];
        std::vector<float> s = {-1e30f, 0.0f, 1000.0f, 1000.0f, -INFINITY, 3.0f, 2.0f, 1.0f};
        kernels::softmax(s.data(), 8);
        EXPECT_NEAR(s[2], 0.5f, 1e-6f);
        EXPECT_NEAR(s[3], 0.5f, 1e-6f);
        EXPECT_EQ(s[4], 0.0f);
    });
}

// Greedy decoding's argmax: the SIMD kernel's two passes give the reference loop's index, ties (first wins), NaNs
// and infinities included.
TEST(SimdOps, ArgmaxIsTheReferenceIndex) {
    for_each_simd_backend([] {
        auto expect_same = [](const std::vector<float>& x, const char* what) {
            const int64_t n = static_cast<int64_t>(x.size());
            ASSERT_EQ(kernels::argmax(x.data(), n), ref::argmax(x.data(), n)) << what << " n=" << n;
        };
        for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{33}, int64_t{4096},
                          int64_t{151936}}) {
            auto x = gaussian(n, 11);
            expect_same(x, "gaussian");
            for (int64_t at : {n - 1, n / 2, int64_t{0}}) {  // a maximum at the end, middle, start
                auto y = x;
                y[at] = 100.0f;
                expect_same(y, "one maximum");
                ASSERT_EQ(kernels::argmax(y.data(), n), at);
                y[n - 1] = 100.0f;  // a tie with a later one: the first wins
                ASSERT_EQ(kernels::argmax(y.data(), n), at);
            }
            auto z = x;
            for (int64_t i = 0; i < n; i += 3) z[i] = NAN;  // NaNs at 0 and further on
            expect_same(z, "NaN first");
            z[0] = -1.0f;
            expect_same(z, "NaNs inside");
            std::vector<float> inf(static_cast<size_t>(n), -INFINITY);
            expect_same(inf, "all -inf");
            inf[n / 3] = INFINITY;
            expect_same(inf, "one +inf");
            std::vector<float> zeros(static_cast<size_t>(n), -0.0f);
            zeros[n - 1] = 0.0f;  // +0 == -0: the first zero
            expect_same(zeros, "signed zeros");
        }
    });
}

TEST(SimdOps, DotsAndAxpysMatchReference) {
    for_each_simd_backend([] {
        for (int64_t n : kSizes) {
            const auto a = gaussian(n, 5), b = gaussian(n, 6);
            const auto ah = to_f16(a);
            double abs_sum = 0;
            for (int64_t i = 0; i < n; ++i) abs_sum += std::fabs(a[i] * b[i]);
            EXPECT_NEAR(kernels::dot_f32(a.data(), b.data(), n), ref::dot_f32(a.data(), b.data(), n),
                        kDotTolerance * abs_sum);
            EXPECT_NEAR(kernels::dot_f16_f32(ah.data(), b.data(), n), ref::dot_f16_f32(ah.data(), b.data(), n),
                        kDotTolerance * abs_sum);
            std::vector<float> r = b, c = b;
            ref::axpy_f32(r.data(), 0.37f, a.data(), n);
            kernels::axpy_f32(c.data(), 0.37f, a.data(), n);
            // FMA vs multiply-then-add: one rounding apart, relative to the terms (the sum may cancel)
            for (int64_t i = 0; i < n; ++i)
                ASSERT_NEAR(c[i], r[i], kElementwiseTolerance * (std::fabs(b[i]) + std::fabs(0.37f * a[i]))) << i;
            r = b;
            c = b;
            ref::axpy_f16(r.data(), -1.5f, ah.data(), n);
            kernels::axpy_f16(c.data(), -1.5f, ah.data(), n);
            for (int64_t i = 0; i < n; ++i)
                ASSERT_NEAR(c[i], r[i], kElementwiseTolerance * (std::fabs(b[i]) + std::fabs(1.5f * a[i]))) << i;
            std::vector<uint16_t> hr(n), hc(n);
            ref::f32_to_f16(hr.data(), a.data(), n);
            kernels::f32_to_f16(hc.data(), a.data(), n);
            ASSERT_EQ(hr, hc);  // both round to nearest even
        }
    });
}

// Attention over one block for a group of query heads (GQA; blocks of 13, 16, 40 and 1 slots, 1 to 12 heads): every backend's kernel (the 512-bit ones where the
// head size fits) against the reference loops of dot and axpy, over rows strided as in the paged KV cache.
TEST(SimdOps, AttentionBlocksMatchReference) {
    for_each_simd_backend([] {
        for (int64_t head_dim : {8, 64, 128, 256}) {
            for (auto [n_q, n] :
                 {std::pair<int64_t, int64_t>{1, 13}, {4, 13}, {6, 13}, {7, 13}, {6, 16}, {9, 16}, {6, 40}, {12, 1}}) {
                const int64_t stride = 3 * head_dim, ld = n + 7;  // 3 KV heads per slot row; n slots of a block
                const auto q = gaussian(n_q * head_dim, 11), kv = gaussian(n * stride, 12);
                const auto kvh = to_f16(kv);
                const int64_t head = 1;  // the middle KV head of each row
                std::vector<float> want(n_q * ld, -7.0f), got(n_q * ld, -7.0f);
                const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
                ref::attn_scores_f16(want.data(), ld, q.data(), n_q, kvh.data() + head * head_dim, stride, n, head_dim,
                                     scale);
                kernels::attn_scores_f16(got.data(), ld, q.data(), n_q, kvh.data() + head * head_dim, stride, n,
                                         head_dim, scale);
                for (int64_t j = 0; j < n_q; ++j)
                    for (int64_t p = 0; p < ld; ++p) {
                        const float w = want[j * ld + p];
                        if (p >= n) {  // columns past the block stay untouched
                            ASSERT_EQ(got[j * ld + p], -7.0f);
                            continue;
                        }
                        double abs_sum = 0;
                        for (int64_t i = 0; i < head_dim; ++i)
                            abs_sum +=
                                std::fabs(fp16_to_fp32(kvh[p * stride + head * head_dim + i]) * q[j * head_dim + i]);
                        ASSERT_NEAR(got[j * ld + p], w, kDotTolerance * scale * abs_sum)
                            << "scores head_dim " << head_dim << " n_q " << n_q << " j " << j << " p " << p;
                    }
                auto weights = gaussian(n_q * ld, 13);
                const auto out0 = gaussian(n_q * head_dim, 14);
                std::vector<float> r = out0, o = out0;
                ref::attn_values_f16(r.data(), weights.data(), ld, n_q, kvh.data() + head * head_dim, stride, n,
                                     head_dim);
                kernels::attn_values_f16(o.data(), weights.data(), ld, n_q, kvh.data() + head * head_dim, stride, n,
                                         head_dim);
                for (int64_t j = 0; j < n_q; ++j)
                    for (int64_t i = 0; i < head_dim; ++i) {
                        double abs_sum = std::fabs(out0[j * head_dim + i]);
                        for (int64_t p = 0; p < n; ++p)
                            abs_sum +=
                                std::fabs(weights[j * ld + p] * fp16_to_fp32(kvh[p * stride + head * head_dim + i]));
                        ASSERT_NEAR(o[j * head_dim + i], r[j * head_dim + i], kDotTolerance * abs_sum)
                            << "values head_dim " << head_dim << " n_q " << n_q << " j " << j << " i " << i;
                    }
                // F32 rows: the same loops over dot_f32 / axpy_f32
                std::vector<float> want32(n_q * ld), got32(n_q * ld);
                ref::attn_scores_f32(want32.data(), ld, q.data(), n_q, kv.data(), stride, n, head_dim, scale);
                kernels::attn_scores_f32(got32.data(), ld, q.data(), n_q, kv.data(), stride, n, head_dim, scale);
                for (int64_t j = 0; j < n_q; ++j)
                    for (int64_t p = 0; p < n; ++p)
                        ASSERT_NEAR(got32[j * ld + p], want32[j * ld + p],
                                    kDotTolerance * (std::fabs(want32[j * ld + p]) + 1.0f));
                r = out0;
                o = out0;
                ref::attn_values_f32(r.data(), weights.data(), ld, n_q, kv.data(), stride, n, head_dim);
                kernels::attn_values_f32(o.data(), weights.data(), ld, n_q, kv.data(), stride, n, head_dim);
                for (size_t i = 0; i < r.size(); ++i) ASSERT_NEAR(o[i], r[i], kDotTolerance * (std::fabs(r[i]) + 1.0f));
            }
        }
    });
}

// The two-step RoPE Forward uses (angles once per token, rotations per layer) gives rope()'s results bit for bit,
// in both pair layouts, with and without frequency factors.
TEST(Ops, RopeInTwoStepsEqualsRope) {
    const int64_t n_heads = 3, head_dim = 64;
    std::vector<float> factors(16);
    for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + 0.25f * static_cast<float>(i);
    for (auto mode : {kernels::RopeMode::norm, kernels::RopeMode::neox})
        for (int64_t n_rot : {32, 64})
            for (int64_t pos : {0, 1, 17, 4095})
                for (const float* ff :
                     {static_cast<const float*>(nullptr), static_cast<const float*>(factors.data())}) {
                    if (ff != nullptr && n_rot != 32) continue;  // factors has n_rot / 2 entries
                    const auto x = gaussian(n_heads * head_dim, 21);
                    std::vector<float> want = x, got = x, cs(n_rot);
                    kernels::rope(want.data(), n_heads, head_dim, n_rot, pos, 500000.0f, ff, mode);
                    kernels::rope_angles(cs.data(), n_rot, pos, 500000.0f, ff);
                    kernels::rope_rotate(got.data(), n_heads, head_dim, n_rot, cs.data(), mode);
                    ASSERT_EQ(got, want) << "n_rot " << n_rot << " pos " << pos;
                    if (pos > 0) {
                        ASSERT_NE(got, x);
                    }
                }
}

// The rotation on every SIMD backend gives the reference loop's bits (the 512-bit one where its vectors fit: 16 pairs
// for neox, 8 for norm; the reference elsewhere), for whole and partial rotations.
TEST(SimdOps, RopeRotateIsTheReference) {
    for_each_simd_backend([] {
        for (auto mode : {kernels::RopeMode::norm, kernels::RopeMode::neox})
            for (auto [head_dim, n_rot] :
                 {std::pair<int64_t, int64_t>{64, 64}, {128, 128}, {128, 64}, {128, 32}, {64, 16}, {80, 80}}) {
                const int64_t n_heads = 3;
                std::vector<float> cs(static_cast<size_t>(n_rot));
                kernels::rope_angles(cs.data(), n_rot, 1234, 1000000.0f, nullptr);
                const auto x = gaussian(n_heads * head_dim, 22);
                std::vector<float> want = x, got = x;
                ref::rope_rotate(want.data(), n_heads, head_dim, n_rot, cs.data(), mode);
                kernels::rope_rotate(got.data(), n_heads, head_dim, n_rot, cs.data(), mode);
                ASSERT_EQ(got, want) << "head_dim " << head_dim << " n_rot " << n_rot;
                ASSERT_NE(got, x);
            }
    });
}

TEST(Ops, DispatchFollowsForcedBackend) {
    const auto saved = kernels::active_backend();
    kernels::force_backend(kernels::Backend::ref);
    EXPECT_EQ(kernels::active_backend(), kernels::Backend::ref);
    const auto a = gaussian(100, 9), b = gaussian(100, 10);
    EXPECT_EQ(kernels::dot_f32(a.data(), b.data(), 100), ref::dot_f32(a.data(), b.data(), 100));
    kernels::force_backend(saved);
}

TEST(Ops, RmsnormHasUnitRms) {
    const auto x = gaussian(4096, 11, 3.0f);
    std::vector<float> ones(4096, 1.0f), out(4096);
    kernels::rmsnorm(out.data(), x.data(), ones.data(), 4096, 0.0f);
    double s = 0;
    for (float v : out) s += double(v) * v;
    EXPECT_NEAR(std::sqrt(s / 4096), 1.0, 1e-5);
}

// RoPE: position 0 is the identity; rotation keeps each pair's norm; norm vs neox pair different dims; the
// angle of pair i is pos * base^(-2i/n_rot) / freq_factor[i].
TEST(Ops, RopeRotatesThePairs) {
    const int64_t n_heads = 3, head_dim = 64, n_rot = 64;
    const auto x = gaussian(n_heads * head_dim, 12);
    for (auto mode : {kernels::RopeMode::norm, kernels::RopeMode::neox}) {
        auto y = x;
        kernels::rope(y.data(), n_heads, head_dim, n_rot, 0, 10000.0f, nullptr, mode);
        EXPECT_EQ(y, x);
        y = x;
        const int64_t pos = 7;
        kernels::rope(y.data(), n_heads, head_dim, n_rot, pos, 10000.0f, nullptr, mode);
        for (int64_t h = 0; h < n_heads; ++h)
            for (int64_t i = 0; i < n_rot / 2; ++i) {
                const int64_t i0 = mode == kernels::RopeMode::norm ? 2 * i : i;
                const int64_t i1 = mode == kernels::RopeMode::norm ? 2 * i + 1 : i + n_rot / 2;
                const float x0 = x[h * head_dim + i0], x1 = x[h * head_dim + i1];
                const double theta = pos * std::pow(10000.0, -2.0 * i / n_rot);
                EXPECT_NEAR(y[h * head_dim + i0], x0 * std::cos(theta) - x1 * std::sin(theta), 2e-5);
                EXPECT_NEAR(y[h * head_dim + i1], x0 * std::sin(theta) + x1 * std::cos(theta), 2e-5);
            }
    }
    // frequency factors divide the angle; a partial n_rot leaves the tail alone
    std::vector<float> factors(16, 2.0f);
    auto a = x, b = x;
    kernels::rope(a.data(), 1, head_dim, 32, 10, 10000.0f, factors.data(), kernels::RopeMode::norm);
    for (int64_t i = 0; i < 16; ++i) {
        const double theta = 10 * std::pow(10000.0, -2.0 * i / 32) / 2.0;
        EXPECT_NEAR(a[2 * i], x[2 * i] * std::cos(theta) - x[2 * i + 1] * std::sin(theta), 2e-5);
    }
    for (int64_t i = 32; i < head_dim; ++i) EXPECT_EQ(a[i], x[i]);
}

TEST(Ops, GetRowDequantizesOneRow) {
    const int64_t n = 256;
    const auto w = gaussian(n * 3, 13);
    std::vector<uint16_t> wh = to_f16(w);
    std::vector<float> out(n);
    kernels::get_row(TensorType::F16, wh.data(), n, 2, out.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], fp16_to_fp32(wh[2 * n + i]));
}

}  // namespace
}  // namespace duet
