// test_encoder_ops.cpp: the encoder's element-wise ops: GELU (table vs its reference twin over every fp16 input,
// and against the tanh formula in double) and LayerNorm (against double-precision math).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/fp16.h"
#include "kernels/cpu/gelu_table.h"
#include "kernels/kernels.h"
#include "kernels/ref/ops.h"
#include "support/gaussian.h"

namespace duet {
namespace {

// fp16 rounding of the input (2^-11 |x|, carried through a slope |gelu'| <= 1.13) and of the result (2^-11 |y|).
constexpr double kGeluFp16Relative = 6e-4;
constexpr double kGeluFp16Absolute = 1e-7;
constexpr double kLayerNormTolerance = 2e-6;  // absolute, on O(1) outputs

double gelu_tanh_double(double x) {
    return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * x * (1.0 + 0.044715 * x * x)));
}

TEST(EncoderOps, GeluTableEqualsReferenceForEveryHalf) {
    std::vector<float> x;
    for (uint32_t h = 0; h < 65536; ++h) {
        const float v = fp16_to_fp32(static_cast<uint16_t>(h));
        if (std::isfinite(v)) x.push_back(v);
    }
    x.push_back(-10.0f), x.push_back(10.0f), x.push_back(0.1234567f), x.push_back(-3.3333333f);
    std::vector<float> got(x.size()), want(x.size()), via_kernels(x.size());
    cpu::gelu_table(got.data(), x.data(), static_cast<int64_t>(x.size()));
    ref::gelu(want.data(), x.data(), static_cast<int64_t>(x.size()));
    kernels::gelu(via_kernels.data(), x.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_EQ(fp32_to_bits(got[i]), fp32_to_bits(want[i])) << "x=" << x[i];
        ASSERT_EQ(fp32_to_bits(via_kernels[i]), fp32_to_bits(want[i])) << "x=" << x[i];
    }
}

TEST(EncoderOps, GeluIsTheTanhApproximationAtHalfPrecision) {
    for (float x = -12.0f; x <= 12.0f; x += 0.01f) {
        float y = 0;
        ref::gelu(&y, &x, 1);
        if (x <= -10.0f) EXPECT_EQ(y, 0.0f);
        else if (x >= 10.0f) EXPECT_EQ(y, x);
        else
            EXPECT_NEAR(y, gelu_tanh_double(x),
                        kGeluFp16Relative * (std::fabs(x) + std::fabs(gelu_tanh_double(x))) + kGeluFp16Absolute)
                << x;
    }
}

TEST(EncoderOps, LayerNormMatchesDoubleMath) {
    for (int64_t n : {1, 7, 64, 384, 1000}) {
        auto x = test::gaussian(n, 1, 2.0f);
        auto w = test::gaussian(n, 2, 0.1f);
        const auto b = test::gaussian(n, 3, 0.1f);
        for (float& v : x) v += 0.5f;  // a mean to subtract
        for (float& v : w) v += 1.0f;
        std::vector<float> got(n);
        kernels::layernorm(got.data(), x.data(), w.data(), b.data(), n, 1e-12f);
        double mean = 0, var = 0;
        for (float v : x) mean += v;
        mean /= n;
        for (float v : x) var += (v - mean) * (v - mean);
        var /= n;  // biased, as ggml_norm
        for (int64_t i = 0; i < n; ++i) {
            const double want = n == 1 ? b[i] : (x[i] - mean) / std::sqrt(var + 1e-12) * w[i] + b[i];
            ASSERT_NEAR(got[i], want, kLayerNormTolerance) << "n=" << n << " i=" << i;
        }
        std::vector<float> in_place = x;
        kernels::layernorm(in_place.data(), in_place.data(), w.data(), b.data(), n, 1e-12f);
        EXPECT_EQ(in_place, got);
    }
}

}  // namespace
}  // namespace duet
