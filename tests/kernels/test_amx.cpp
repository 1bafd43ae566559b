// test_amx.cpp: prefill on AMX tiles (kernels/cpu/amx.h) for Q4_0, Q8_0, Q4_K and Q6_K in their rows16 layouts:
// the tokens in whole tiles of 16 equal the bf16 twin (ref::matmul_packed_bf16) up to the order of fp32 sums, the
// tail tokens equal the VNNI kernels' twin, steps under 48 tokens take the VNNI kernels unchanged, and bf16 lands no
// farther from the float products than 8-bit activations do. Skipped, loudly, on CPUs without AMX-BF16.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/formats.h"
#include "kernels/kernels.h"
#include "kernels/ref/packed.h"
#include "kernels/ref/quants.h"
#include "kernels/gaussian_rows.h"
#include "kernels/simd_backends.h"
#include "kernels/twin_error.h"
#include "support/gaussian.h"
#include "support/threads.h"

namespace duet {
namespace {

constexpr double kSumOrderTolerance = 1e-5;  // max |kernel - bf16 twin| / RMS: fp32 sums in the tiles' order
constexpr double kTwinTolerance = 2e-5;      // the tail tokens against the VNNI twin, as test_packed.cpp

struct Shape {
    int64_t n, d, n_tokens;
};
// one block and one group; an odd block count (a last unit of one block) with a pair and a single group and three
// token tiles; 65 blocks (rows longer than a chunk) with 8 tail tokens; 280 blocks in chunks, one tail token; 130
// blocks in chunks of 30 (a step long enough for its chunks to shrink)
constexpr Shape kShapes[] = {{32, 16, 48},   {96, 48, 48},   {2080, 32, 56},
                             {1536, 64, 70}, {8960, 16, 49}, {4160, 32, 272}};
// the same for the K-quants' super-blocks of 256 (8 blocks of 32 each): 1 to 35 of them, 72 blocks (longer than a
// chunk)
constexpr Shape kShapesK[] = {{256, 16, 48},  {768, 48, 48},  {2304, 32, 56},
                              {1536, 64, 70}, {8960, 16, 49}, {4352, 32, 272}};
constexpr TensorType kTypes[] = {TensorType::Q4_0, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q6_K};

bool k_quant(TensorType type) { return type == TensorType::Q4_K || type == TensorType::Q6_K; }

struct Problem {
    TensorType type;
    WeightLayout layout;  // the type's rows16 layout (the avx512 backend is on when a Problem is made)
    Shape s;
    std::vector<uint8_t> packed;
    std::vector<float> x;
};

Problem make(TensorType type, Shape s, uint32_t seed) {
    const std::vector<uint8_t> w = test::gaussian_rows(type, s.n, s.d, seed);
    const WeightLayout layout = kernels::preferred_layout(type, s.n, s.d);
    Problem p{type, layout, s, std::vector<uint8_t>(kernels::packed_size(layout, type, s.n, s.d)),
              test::gaussian(s.n * s.n_tokens, seed + 1)};
    kernels::pack_weights(layout, type, w.data(), s.n, s.d, p.packed.data());
    return p;
}

std::vector<float> run(const Problem& p, int64_t n_tokens, ThreadPool* pool) {
    std::vector<float> y(static_cast<size_t>(p.s.d * n_tokens), NAN);
    const size_t bytes = kernels::matmul_scratch_size(p.type, p.s.n, n_tokens);
    void* scratch = std::aligned_alloc(64, (bytes + 64) / 64 * 64);
    kernels::matmul(p.type, p.packed.data(), p.s.n, p.s.d, p.x.data(), n_tokens, y.data(), scratch, pool, p.layout);
    std::free(scratch);
    return y;
}

// The avx512 backend with AMX on; false (the caller skips) where this CPU has no AMX-BF16.
bool amx_on() {
    if (!kernels::backend_supported(kernels::Backend::avx512) || !kernels::force_amx(true)) return false;
    kernels::force_backend(kernels::Backend::avx512);
    return true;
}

TEST(AmxRows16, TiledTokensEqualTheBf16TwinAndTheTailTheVnniTwin) {
    test::BackendGuard guard;
    if (!amx_on()) GTEST_SKIP() << "no AMX-BF16 on this CPU: the AMX kernel is not tested";
    ThreadPool pool(test::pool_threads(2));
    uint32_t seed = 300;
    for (TensorType type : kTypes)
        for (const Shape& s : k_quant(type) ? std::span<const Shape>(kShapesK) : kShapes) {
            const Problem p = make(type, s, seed++);
            const int64_t tiled = s.n_tokens / 16 * 16;
            const size_t tiled_outputs = static_cast<size_t>(tiled * s.d);
            std::vector<float> y_bf16(static_cast<size_t>(s.d * s.n_tokens)), y_vnni(y_bf16.size());
            ref::matmul_packed_bf16(p.layout, type, p.packed.data(), s.n, s.d, p.x.data(), s.n_tokens, y_bf16.data());
            std::vector<uint8_t> ref_scratch(kernels::matmul_scratch_size(type, s.n, s.n_tokens));
            ref::matmul_packed(p.layout, type, p.packed.data(), s.n, s.d, p.x.data(), s.n_tokens, y_vnni.data(),
                               ref_scratch.data(), nullptr);
            const double scale = std::max(test::rms(y_bf16), std::sqrt(static_cast<double>(s.n)));
            const auto tiled_part = [&](const std::vector<float>& v) { return std::span(v).first(tiled_outputs); };
            const auto tail_part = [&](const std::vector<float>& v) { return std::span(v).subspan(tiled_outputs); };
            // the two twins differ by far more than the tolerance: a kernel that took the VNNI path would fail
            ASSERT_GT(test::max_abs_diff(tiled_part(y_bf16), y_vnni) / scale, 20 * kSumOrderTolerance);
            for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
                const auto y = run(p, s.n_tokens, tp);
                const char* threads = tp ? " 2 threads" : " 1 thread";
                EXPECT_LE(test::max_abs_diff(tiled_part(y), y_bf16) / scale, kSumOrderTolerance)
                    << tensor_type_name(type) << " n=" << s.n << " d=" << s.d << " n_tokens=" << s.n_tokens << threads;
                EXPECT_LE(test::max_abs_diff(tail_part(y), tail_part(y_vnni)) / scale, kTwinTolerance)
                    << "tail tokens: " << tensor_type_name(type) << " n=" << s.n << " n_tokens=" << s.n_tokens
                    << threads;
            }
        }
}

TEST(AmxRows16, StepsUnder48TokensTakeTheVnniKernelsUnchanged) {
    test::BackendGuard guard;
    if (!amx_on()) GTEST_SKIP() << "no AMX-BF16 on this CPU: the AMX kernel is not tested";
    for (TensorType type : kTypes) {
        const Problem p = make(type, {1536, 32, 48}, 400);  // 1536 = 6 super-blocks of the K-quants
        const auto with_amx = run(p, 47, nullptr);
        kernels::force_amx(false);
        const auto without = run(p, 47, nullptr);
        EXPECT_EQ(with_amx, without) << tensor_type_name(type);
        kernels::force_amx(true);
        const auto step_of_48 = run(p, 48, nullptr);  // the same first 47 tokens, now on the tiles
        EXPECT_NE(std::vector<float>(step_of_48.begin(), step_of_48.begin() + 47 * 32), without)
            << tensor_type_name(type) << ": 48 tokens did not take the AMX kernel";
    }
}

// bf16 keeps 8 significant bits of every weight and activation; the VNNI kernels round each activation to 1/127 of
// its block's largest. Against the float products of the dequantized weights, AMX's error is the smaller here.
TEST(AmxRows16, NoFartherFromTheFloatProductsThanEightBitActivations) {
    test::BackendGuard guard;
    if (!amx_on()) GTEST_SKIP() << "no AMX-BF16 on this CPU: the AMX kernel is not tested";
    for (TensorType type : kTypes) {
        const Shape s{1536, 64, 48};
        const Problem p = make(type, s, 500);
        std::vector<float> exact(static_cast<size_t>(s.d * s.n_tokens)), row(static_cast<size_t>(s.n));
        std::vector<uint8_t> file_row(row_size(type, s.n));
        for (int64_t r = 0; r < s.d; ++r) {
            ref::unpack_row(p.layout, type, p.packed.data(), s.n, r, file_row.data());
            dequantize_row(type, file_row.data(), row.data(), s.n);
            for (int64_t t = 0; t < s.n_tokens; ++t) {
                double sum = 0;
                for (int64_t k = 0; k < s.n; ++k) sum += static_cast<double>(row[k]) * p.x[t * s.n + k];
                exact[t * s.d + r] = static_cast<float>(sum);
            }
        }
        auto err_rms = [&](const std::vector<float>& y) {
            double e = 0;
            for (size_t i = 0; i < y.size(); ++i) e += (double(y[i]) - exact[i]) * (double(y[i]) - exact[i]);
            return std::sqrt(e / static_cast<double>(y.size()));
        };
        const double amx = err_rms(run(p, s.n_tokens, nullptr));
        kernels::force_amx(false);
        const double vnni = err_rms(run(p, s.n_tokens, nullptr));
        kernels::force_amx(true);
        std::printf("[  NOTE    ] %s: RMS error against the float products: AMX bf16 %.3g, VNNI 8-bit %.3g\n",
                    std::string(tensor_type_name(type)).c_str(), amx, vnni);
        EXPECT_GT(amx, 0.0);
        EXPECT_LT(amx, vnni) << tensor_type_name(type);
    }
}

TEST(AmxRows16, ForcingAmxWithoutItIsRefused) {
    test::BackendGuard guard;
    if (kernels::force_amx(true)) {
        EXPECT_TRUE(kernels::amx_active());
        EXPECT_TRUE(kernels::force_amx(false));
        EXPECT_FALSE(kernels::amx_active());
    } else {
        std::printf("[  NOTE    ] no AMX-BF16 on this CPU: force_amx(true) refused, as it should be\n");
        EXPECT_FALSE(kernels::amx_active());
        EXPECT_TRUE(kernels::force_amx(false));  // off is always possible
    }
}

}  // namespace
}  // namespace duet
