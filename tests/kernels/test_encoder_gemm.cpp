// test_encoder_gemm.cpp: the encoder's many-row kernels (kernels/encoder_kernels.h) against their naive twins
// (kernels/ref/encoder_ops.h) on every SIMD backend this CPU has: the packed matmul with its bias and its GELU
// epilogue (F32, F16, Q8_0;
// panel tails, token tails, a width that is not packed, 1 and 2 threads), the fused q/k/v form, one attention head
// over short sequences, and the residual add + LayerNorm.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/tensor_type.h"
#include "common/thread_pool.h"
#include "kernels/encoder_kernels.h"
#include "kernels/kernels.h"
#include "kernels/ref/encoder_ops.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/quants.h"
#include "simd_backends.h"
#include "support/gaussian.h"

namespace duet {
namespace {

// The packed kernels differ from the twins only in float summation order (Q8_0: the same int8 activations, the
// same exact block sums): errors are float roundings over n terms, bounded relative to sum |w x|.
constexpr double kGemmRelativeToAbsSum = 1e-5;
constexpr double kAttentionTolerance = 1e-5;  // absolute, on outputs that are averages of O(1) values
constexpr double kLayerNormTolerance = 2e-6;  // absolute, on O(1) outputs

struct Matrix {
    TensorType type;
    int64_t n, d;
    std::vector<uint8_t> bytes;
    std::vector<float> values;  // dequantized, for the error bound
};

Matrix make_matrix(TensorType type, int64_t n, int64_t d, uint64_t seed) {
    Matrix m{type, n, d, std::vector<uint8_t>(row_size(type, n) * d), {}};
    m.values = test::gaussian(n * d, seed, 0.5f);
    for (int64_t i = 0; i < d; ++i)
        quantize_row(type, m.values.data() + i * n, m.bytes.data() + i * row_size(type, n), n);
    for (int64_t i = 0; i < d; ++i)
        dequantize_row(type, m.bytes.data() + i * row_size(type, n), m.values.data() + i * n, n);
    return m;
}

void expect_gemm_close(const Matrix& m, const std::vector<float>& x, int64_t T, const std::vector<float>& got,
                       const std::vector<float>& want, const char* what) {
    for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < m.d; ++i) {
            double abs_sum = 0.0;
            for (int64_t k = 0; k < m.n; ++k) abs_sum += std::fabs(m.values[i * m.n + k] * x[t * m.n + k]);
            ASSERT_NEAR(got[t * m.d + i], want[t * m.d + i], kGemmRelativeToAbsSum * (abs_sum + 1.0))
                << what << " " << tensor_type_name(m.type) << " n=" << m.n << " d=" << m.d << " T=" << T << " t=" << t
                << " i=" << i;
        }
}

TEST(EncoderGemm, PackedMatmulWithBiasMatchesTwin) {
    test::BackendGuard guard;
    ThreadPool pool(2);
    for (kernels::Backend backend : test::simd_backends()) {
        for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::Q8_0}) {
            for (int64_t n : {64, 384}) {
                for (int64_t d : {16, 48, 80, 200}) {  // 1, 3 and 5 panels; 200 is not packed
                    const Matrix m = make_matrix(type, n, d, 7 + n + d);
                    const auto bias = test::gaussian(d, 3, 0.2f);
                    kernels::force_backend(backend);
                    const auto packed = kernels::GemmWeights::pack(type, m.bytes.data(), n, d);
                    for (int64_t T : {1, 3, 5, 8, 13, 64}) {
                        const auto x = test::gaussian(n * T, 11 + T, 1.0f);
                        std::vector<uint8_t> scratch(kernels::gemm_scratch_size(type, n, T) + 64);
                        void* aligned =
                            reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) / 64 * 64);
                        std::vector<float> want(T * d), got(T * d), got2(T * d);
                        ref::gemm_bias(type, m.bytes.data(), n, d, bias.data(), x.data(), T, want.data(), aligned,
                                       nullptr);
                        kernels::force_backend(backend);
                        kernels::gemm_bias(packed, bias.data(), x.data(), T, got.data(), aligned, nullptr);
                        kernels::gemm_bias(packed, bias.data(), x.data(), T, got2.data(), aligned, &pool);
                        expect_gemm_close(m, x, T, got, want, kernels::backend_name(backend));
                        EXPECT_EQ(got, got2) << "threads change the result: " << tensor_type_name(type) << " T=" << T;
                        // the GELU epilogue is kernels::gelu of the same sums, bit for bit
                        std::vector<float> fused(T * d), then_gelu = got;
                        kernels::gemm_bias(packed, bias.data(), x.data(), T, fused.data(), aligned, &pool,
                                           /*gelu=*/true);
                        kernels::gelu(then_gelu.data(), then_gelu.data(), T * d);
                        EXPECT_EQ(fused, then_gelu) << "gelu epilogue: " << tensor_type_name(type) << " T=" << T;
                    }
                }
            }
        }
    }
}

TEST(EncoderGemm, ManyOpsEqualSeparateCalls) {
    test::BackendGuard guard;
    ThreadPool pool(2);
    for (kernels::Backend backend : test::simd_backends()) {
        kernels::force_backend(backend);
        for (TensorType type : {TensorType::F16, TensorType::Q8_0}) {
            const int64_t n = 128, T = 17;
            const Matrix a = make_matrix(type, n, 128, 1), b = make_matrix(type, n, 48, 2);
            const auto wa = kernels::GemmWeights::pack(type, a.bytes.data(), n, a.d);
            const auto wb = kernels::GemmWeights::pack(type, b.bytes.data(), n, b.d);
            const auto bias = test::gaussian(128, 5, 0.2f);
            const auto x = test::gaussian(n * T, 9, 1.0f);
            std::vector<uint8_t> scratch(kernels::gemm_scratch_size(type, n, T) + 64);
            void* aligned = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) / 64 * 64);
            std::vector<float> ya(T * a.d), yb(T * b.d), sa(T * a.d), sb(T * b.d);
            const kernels::GemmOp ops[2] = {{&wa, bias.data(), ya.data()}, {&wb, nullptr, yb.data()}};
            kernels::gemm_bias_many(ops, x.data(), T, aligned, &pool);
            kernels::gemm_bias(wa, bias.data(), x.data(), T, sa.data(), aligned, nullptr);
            kernels::gemm_bias(wb, nullptr, x.data(), T, sb.data(), aligned, nullptr);
            EXPECT_EQ(ya, sa) << kernels::backend_name(backend) << " " << tensor_type_name(type);
            EXPECT_EQ(yb, sb) << kernels::backend_name(backend) << " " << tensor_type_name(type);
        }
    }
}

TEST(EncoderAttention, HeadMatchesTwin) {
    test::BackendGuard guard;
    for (kernels::Backend backend : test::simd_backends()) {
        for (int64_t head_dim : {16, 24, 32, 64}) {  // 24: not a multiple of 16, the twin runs
            for (int64_t len : {1, 2, 5, 16, 17, 64}) {
                const int64_t stride = 3 * head_dim;
                const auto q = test::gaussian(len * stride, 1 + len, 1.0f);
                const auto k = test::gaussian(len * stride, 2 + len, 1.0f);
                const auto v = test::gaussian(len * stride, 3 + len, 1.0f);
                std::vector<float> want(len * stride, -7.0f), got(len * stride, -7.0f);
                std::vector<float> scratch(kernels::attention_scratch_floats(len, head_dim));
                const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
                ref::attention_head(q.data(), k.data(), v.data(), want.data(), len, head_dim, stride, scale,
                                    scratch.data());
                kernels::force_backend(backend);
                kernels::attention_head(q.data(), k.data(), v.data(), got.data(), len, head_dim, stride, scale,
                                        scratch.data());
                for (int64_t i = 0; i < len * stride; ++i)
                    ASSERT_NEAR(got[i], want[i], kAttentionTolerance)
                        << kernels::backend_name(backend) << " head_dim=" << head_dim << " len=" << len << " i=" << i;
            }
        }
    }
}

// A key whose score is far above the others takes all the weight: the output is exactly its value row.
TEST(EncoderAttention, DominantKeyGivesItsValueRow) {
    test::BackendGuard guard;
    for (kernels::Backend backend : test::simd_backends()) {
        kernels::force_backend(backend);
        const int64_t head_dim = 32, len = 20, hot = 13;
        std::vector<float> q(len * head_dim, 0.0f), k(len * head_dim, 0.0f), out(len * head_dim);
        const auto v = test::gaussian(len * head_dim, 4, 1.0f);
        for (int64_t t = 0; t < len; ++t) q[t * head_dim] = 1.0f;
        k[hot * head_dim] = 1e4f;
        std::vector<float> scratch(kernels::attention_scratch_floats(len, head_dim));
        kernels::attention_head(q.data(), k.data(), v.data(), out.data(), len, head_dim, head_dim, 1.0f,
                                scratch.data());
        for (int64_t t = 0; t < len; ++t)
            for (int64_t e = 0; e < head_dim; ++e)
                ASSERT_EQ(out[t * head_dim + e], v[hot * head_dim + e]) << kernels::backend_name(backend);
    }
}

TEST(EncoderOps, AddLayerNormMatchesTwin) {
    test::BackendGuard guard;
    for (kernels::Backend backend : test::simd_backends()) {
        for (int64_t n : {1, 7, 16, 128, 384, 1000}) {
            const auto x0 = test::gaussian(n, 1, 2.0f), y = test::gaussian(n, 2, 1.0f);
            const auto w = test::gaussian(n, 3, 0.1f), b = test::gaussian(n, 4, 0.1f);
            auto want = x0, got = x0;
            ref::add_layernorm(want.data(), y.data(), w.data(), b.data(), n, 1e-12f);
            kernels::force_backend(backend);
            kernels::add_layernorm(got.data(), y.data(), w.data(), b.data(), n, 1e-12f);
            for (int64_t i = 0; i < n; ++i)
                ASSERT_NEAR(got[i], want[i], kLayerNormTolerance) << kernels::backend_name(backend) << " n=" << n;
        }
    }
}

}  // namespace
}  // namespace duet
