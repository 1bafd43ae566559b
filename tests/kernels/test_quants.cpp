// test_quants.cpp: block layouts, quantize -> dequantize error bounds per type, exact dequantization formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "common/fp16.h"
#include "kernels/ref/quants.h"
#include "support/gaussian.h"

namespace duet {
namespace {

using test::gaussian;

double rms(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s / static_cast<double>(v.size()));
}

struct RoundTripBound {
    TensorType type;
    double max_relative_rms_error;  // RMS(dequant(quant(x)) - x) / RMS(x) on Gaussian data
};

// Bounds are ~1.3x what these quantizers reach on N(0,1) data (the ggml quantizers land at about the same).
constexpr RoundTripBound kRoundTripBounds[] = {
    {TensorType::F32, 0.0},     {TensorType::F16, 3e-4},   {TensorType::BF16, 2.2e-3}, {TensorType::Q8_0, 0.0068},
    {TensorType::Q8_K, 0.0087}, {TensorType::Q6_K, 0.023}, {TensorType::Q5_0, 0.054},  {TensorType::Q5_1, 0.048},
    {TensorType::Q5_K, 0.046},  {TensorType::Q4_0, 0.110}, {TensorType::Q4_1, 0.100},  {TensorType::Q4_K, 0.092},
};

TEST(Quants, RoundTripErrorIsBoundedPerType) {
    constexpr int64_t n = 4096;
    const auto x = gaussian(n, 7);
    for (const auto& bound : kRoundTripBounds) {
        std::vector<uint8_t> q(row_size(bound.type, n));
        std::vector<float> back(n);
        quantize_row(bound.type, x.data(), q.data(), n);
        dequantize_row(bound.type, q.data(), back.data(), n);
        std::vector<float> err(n);
        for (int64_t i = 0; i < n; ++i) err[i] = back[i] - x[i];
        const double rel = rms(err) / rms(x);
        EXPECT_LE(rel, bound.max_relative_rms_error) << tensor_type_name(bound.type);
        // and it really quantizes: a type with fewer bits must not be exact
        if (bound.max_relative_rms_error > 0) {
            EXPECT_GT(rel, bound.max_relative_rms_error / 20) << tensor_type_name(bound.type);
        }
        std::printf("%-5s relative RMS error %.5f\n", std::string(tensor_type_name(bound.type)).c_str(), rel);
    }
}

TEST(Quants, ZeroAndConstantBlocksSurvive) {
    for (const auto& bound : kRoundTripBounds) {
        const int64_t n = 512;
        std::vector<uint8_t> q(row_size(bound.type, n));
        std::vector<float> back(n, 99.0f);
        std::vector<float> zeros(n, 0.0f);
        quantize_row(bound.type, zeros.data(), q.data(), n);
        dequantize_row(bound.type, q.data(), back.data(), n);
        for (float v : back) ASSERT_EQ(v, 0.0f) << tensor_type_name(bound.type);
        std::vector<float> ones(n, 0.5f);
        quantize_row(bound.type, ones.data(), q.data(), n);
        dequantize_row(bound.type, q.data(), back.data(), n);
        for (float v : back) ASSERT_NEAR(v, 0.5f, 0.02f) << tensor_type_name(bound.type);
    }
}

TEST(Quants, RowSizesMatchBlockStructs) {
    EXPECT_EQ(row_size(TensorType::Q4_0, 32), sizeof(block_q4_0));
    EXPECT_EQ(row_size(TensorType::Q4_1, 32), sizeof(block_q4_1));
    EXPECT_EQ(row_size(TensorType::Q5_0, 32), sizeof(block_q5_0));
    EXPECT_EQ(row_size(TensorType::Q5_1, 32), sizeof(block_q5_1));
    EXPECT_EQ(row_size(TensorType::Q8_0, 32), sizeof(block_q8_0));
    EXPECT_EQ(row_size(TensorType::Q4_K, 256), sizeof(block_q4_K));
    EXPECT_EQ(row_size(TensorType::Q5_K, 256), sizeof(block_q5_K));
    EXPECT_EQ(row_size(TensorType::Q6_K, 256), sizeof(block_q6_K));
    EXPECT_EQ(row_size(TensorType::Q8_K, 256), sizeof(block_q8_K));
}

// Hand-built blocks, checked against the ggml formulas written out element by element.
TEST(Quants, DequantizeHandBuiltLegacyBlocks) {
    block_q4_0 b4{};
    b4.d = fp32_to_fp16(0.5f);
    for (int j = 0; j < 16; ++j) b4.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    float y[32];
    dequantize_row(TensorType::Q4_0, &b4, y, 32);
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], (j - 8) * 0.5f);
        EXPECT_EQ(y[j + 16], (15 - j - 8) * 0.5f);
    }
    block_q5_1 b5{};
    b5.d = fp32_to_fp16(0.25f);
    b5.m = fp32_to_fp16(-1.0f);
    const uint32_t qh = 0x80000001u;  // element 0 and element 31 get the fifth bit
    std::memcpy(b5.qh, &qh, 4);
    for (int j = 0; j < 16; ++j) b5.qs[j] = 0x33;
    dequantize_row(TensorType::Q5_1, &b5, y, 32);
    EXPECT_EQ(y[0], (3 + 16) * 0.25f - 1.0f);
    EXPECT_EQ(y[1], 3 * 0.25f - 1.0f);
    EXPECT_EQ(y[31], (3 + 16) * 0.25f - 1.0f);
    EXPECT_EQ(y[16], 3 * 0.25f - 1.0f);
}

TEST(Quants, DequantizeHandBuiltQ4K) {
    block_q4_K b{};
    b.d = fp32_to_fp16(2.0f);
    b.dmin = fp32_to_fp16(0.5f);
    // sub-block 0: scale 3, min 1; sub-block 5: scale 33 (high bits in scales[1] bits 6-7), min 17
    b.scales[0] = 3;
    b.scales[4] = 1;
    b.scales[9] = static_cast<uint8_t>((33 & 0x0F) | ((17 & 0x0F) << 4));
    b.scales[1] |= static_cast<uint8_t>((33 >> 4) << 6);
    b.scales[5] |= static_cast<uint8_t>((17 >> 4) << 6);
    for (int l = 0; l < 128; ++l) b.qs[l] = 0x5A;  // low nibble 10, high nibble 5
    float y[256];
    dequantize_row(TensorType::Q4_K, &b, y, 256);
    EXPECT_EQ(y[0], 2.0f * 3 * 10 - 0.5f * 1);
    EXPECT_EQ(y[5 * 32 + 7], 2.0f * 33 * 5 - 0.5f * 17);  // sub-block 5 = high nibbles of qs[64..95]
}

}  // namespace
}  // namespace duet
