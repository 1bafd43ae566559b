// test_common.cpp: f16/bf16 conversion, Status/Result, tensor type table.
#include <gtest/gtest.h>

#include <cmath>

#include "common/fp16.h"
#include "common/status.h"
#include "common/tensor_type.h"

namespace duet {
namespace {

TEST(Fp16, EveryHalfRoundTripsExactly) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        float f = fp16_to_fp32(static_cast<uint16_t>(h));
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
            continue;
        }
        ASSERT_EQ(fp32_to_fp16(f), h) << "half bits " << h;
    }
}

TEST(Fp16, RoundsToNearestEven) {
    EXPECT_EQ(fp32_to_fp16(1.0f + 1.0f / 2048.0f), 0x3c00);  // halfway between 1 and next: even (1)
    EXPECT_EQ(fp32_to_fp16(1.0f + 3.0f / 2048.0f), 0x3c02);  // halfway: rounds up to even
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);               // overflow to inf
    EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);               // max half
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);  // halfway to 0: even (0)
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.5f, -25)), 0x0001);
}

TEST(Bf16, RoundTripAndRounding) {
    for (uint32_t b = 0; b < 0x10000; b += 7) {
        float f = bf16_to_fp32(static_cast<uint16_t>(b));
        if (std::isnan(f)) continue;
        ASSERT_EQ(fp32_to_bf16(f), b);
    }
    EXPECT_EQ(fp32_to_bf16(fp32_from_bits(0x3f808000u)), 0x3f80);  // tie -> even
    EXPECT_EQ(fp32_to_bf16(fp32_from_bits(0x3f818000u)), 0x3f82);  // tie -> even (up)
}

Result<int> parse_positive(int v) {
    if (v <= 0) return Status::invalid_argument("value %d is not positive", v);
    return v;
}

Status use_try(int v, int* out) {
    DUET_TRY(int x, parse_positive(v));
    *out = x * 2;
    return {};
}

TEST(Status, ResultCarriesValueOrError) {
    int out = 0;
    EXPECT_TRUE(use_try(3, &out).ok());
    EXPECT_EQ(out, 6);
    Status s = use_try(-1, &out);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::invalid_argument);
    EXPECT_EQ(s.message(), "value -1 is not positive");
    EXPECT_EQ(s.with_context("cfg: ").message(), "cfg: value -1 is not positive");
}

TEST(TensorType, SizesMatchGgml) {
    EXPECT_EQ(traits(TensorType::Q4_0).type_size, 18);
    EXPECT_EQ(traits(TensorType::Q8_0).type_size, 34);
    EXPECT_EQ(traits(TensorType::Q4_K).type_size, 144);
    EXPECT_EQ(traits(TensorType::Q5_K).type_size, 176);
    EXPECT_EQ(traits(TensorType::Q6_K).type_size, 210);
    EXPECT_EQ(traits(TensorType::Q8_K).type_size, 292);
    EXPECT_EQ(row_size(TensorType::Q4_K, 4096), 4096 / 256 * 144u);
    EXPECT_FALSE(tensor_type_traits(4).has_value());  // removed Q4_2
    EXPECT_EQ(tensor_type_from_name("Q4_K"), TensorType::Q4_K);
}

}  // namespace
}  // namespace duet
