// test_packed.cpp: weights repacked at load (kernels/ref/packed.h): the q4_0_rows16 repack round-trips, its naive
// matmul equals the reference on the file rows exactly, and every backend's matmul over the packed bytes (the avx512
// kernel; the others through the twin) matches the reference within the twin tolerance, for decode steps, few
// streams, token chunks and their tails, with one and two threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/formats.h"
#include "kernels/kernels.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/packed.h"
#include "kernels/ref/quants.h"
#include "kernels/simd_backends.h"
#include "support/gaussian.h"
#include "support/threads.h"

namespace duet {
namespace {

constexpr double kTwinTolerance = 2e-5;  // max |kernel - ref| / RMS(ref), as test_matmul.cpp's twins

struct Shape {
    int64_t n, d, n_tokens;
};
// decode (1), few streams (2-4), one pass of 8, chunks of 8 with tails (9, 17, 70); rows of 1 to 280 blocks
constexpr Shape kShapes[] = {{32, 16, 1},  {1536, 32, 1}, {8960, 16, 1}, {128, 48, 2},  {1536, 16, 3}, {640, 32, 4},
                             {256, 16, 5}, {96, 64, 8},   {1536, 32, 9}, {320, 16, 17}, {192, 48, 70}};

struct Problem {
    Shape s;
    std::vector<uint8_t> w, packed;
    std::vector<float> x;
};

Problem make(Shape s, uint32_t seed) {
    Problem p{s,
              std::vector<uint8_t>(row_size(TensorType::Q4_0, s.n) * static_cast<size_t>(s.d)),
              {},
              test::gaussian(s.n * s.n_tokens, seed + 1)};
    const auto wf = test::gaussian(s.n * s.d, seed);
    for (int64_t r = 0; r < s.d; ++r)
        quantize_row(TensorType::Q4_0, wf.data() + r * s.n, p.w.data() + r * row_size(TensorType::Q4_0, s.n), s.n);
    p.packed.resize(p.w.size());
    kernels::pack_weights(WeightLayout::q4_0_rows16, TensorType::Q4_0, p.w.data(), s.n, s.d, p.packed.data());
    return p;
}

struct Scratch {
    explicit Scratch(size_t bytes) : p(std::aligned_alloc(64, (bytes + 64) / 64 * 64)) {}
    ~Scratch() { std::free(p); }
    void* p;
};

std::vector<float> run(const Problem& p, WeightLayout layout, ThreadPool* pool) {
    std::vector<float> y(static_cast<size_t>(p.s.d * p.s.n_tokens), NAN);
    Scratch scratch(kernels::matmul_scratch_size(TensorType::Q4_0, p.s.n, p.s.n_tokens));
    const uint8_t* w = layout == WeightLayout::plain ? p.w.data() : p.packed.data();
    kernels::matmul(TensorType::Q4_0, w, p.s.n, p.s.d, p.x.data(), p.s.n_tokens, y.data(), scratch.p, pool, layout);
    return y;
}

double rms(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s / static_cast<double>(v.size())) + 1e-30;
}

TEST(PackedQ4_0Rows16, RepackRoundTripsEveryRow) {
    for (const Shape& s : kShapes) {
        const Problem p = make(s, 7);
        ASSERT_NE(p.w, p.packed) << "n=" << s.n << ": the layout moved nothing";
        std::vector<block_q4_0> row(static_cast<size_t>(s.n / kQK));
        for (int64_t r = 0; r < s.d; ++r) {
            ref::unpack_row_q4_0_rows16(p.packed.data(), s.n, r, row.data());
            ASSERT_EQ(0, std::memcmp(row.data(), p.w.data() + r * row_size(TensorType::Q4_0, s.n),
                                     row_size(TensorType::Q4_0, s.n)))
                << "n=" << s.n << " row " << r;
        }
    }
}

TEST(PackedQ4_0Rows16, OnlyQ4_0WithWholeGroupsFits) {
    EXPECT_TRUE(ref::layout_fits(WeightLayout::q4_0_rows16, TensorType::Q4_0, 64, 32));
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q4_0_rows16, TensorType::Q4_0, 64, 24));  // a partial group
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q4_0_rows16, TensorType::Q8_0, 64, 32));
    EXPECT_TRUE(ref::layout_fits(WeightLayout::plain, TensorType::Q6_K, 256, 3));
}

TEST(PackedQ4_0Rows16, NaiveTwinEqualsReferenceOnFileRows) {
    test::BackendGuard guard;
    kernels::force_backend(kernels::Backend::ref);
    ThreadPool pool(test::pool_threads(2));
    for (const Shape& s : kShapes) {
        const Problem p = make(s, 11);
        EXPECT_EQ(run(p, WeightLayout::plain, &pool), run(p, WeightLayout::q4_0_rows16, &pool)) << "n=" << s.n;
    }
}

TEST(PackedQ4_0Rows16, EveryBackendMatchesReference) {
    test::BackendGuard guard;
    ThreadPool pool(test::pool_threads(2));
    uint32_t seed = 100;
    for (const Shape& s : kShapes) {
        const Problem p = make(s, seed++);
        kernels::force_backend(kernels::Backend::ref);
        const auto y_ref = run(p, WeightLayout::plain, &pool);
        const double scale = std::max(rms(y_ref), std::sqrt(static_cast<double>(s.n)));
        for (kernels::Backend backend : test::simd_backends()) {
            kernels::force_backend(backend);
            for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
                const auto y = run(p, WeightLayout::q4_0_rows16, tp);
                double max_err = 0;
                for (size_t i = 0; i < y.size(); ++i) max_err = std::max(max_err, std::fabs(double(y[i]) - y_ref[i]));
                EXPECT_LE(max_err / scale, kTwinTolerance)
                    << kernels::backend_name(backend) << " n=" << s.n << " d=" << s.d << " n_tokens=" << s.n_tokens
                    << (tp ? " 2 threads" : " 1 thread");
            }
        }
    }
}

TEST(PackedQ4_0Rows16, PreferredOnlyWhereTheBackendHasTheKernel) {
    test::BackendGuard guard;
    for (kernels::Backend backend : test::simd_backends()) {
        kernels::force_backend(backend);
        const bool wide = backend == kernels::Backend::avx512;
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_0, 1536, 256),
                  wide ? WeightLayout::q4_0_rows16 : WeightLayout::plain)
            << kernels::backend_name(backend);
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_0, 1536, 8), WeightLayout::plain);
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_K, 1536, 256), WeightLayout::plain);
    }
}

}  // namespace
}  // namespace duet
