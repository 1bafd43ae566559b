// test_packed.cpp: weights repacked at load (kernels/ref/packed.h): the rows16 repacks (Q4_0, Q8_0, Q4_K, Q6_K)
// round-trip, their naive matmul equals the reference on the file rows exactly, and every backend's matmul over the
// packed bytes (the avx512 kernels; the others through the twin) matches the reference within the twin tolerance,
// for decode steps, few streams, token chunks and their tails, with one and two threads (the Q4_K kernel: exactly;
// Q4_0's pair passes: exactly its one-group passes; either prefetch hint: the same results).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/formats.h"
#include "kernels/kernels.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/packed.h"
#include "kernels/ref/quants.h"
#include "kernels/gaussian_rows.h"
#include "kernels/twin_error.h"
#include "kernels/simd_backends.h"
#include "support/gaussian.h"
#include "support/threads.h"

namespace duet {
namespace {

constexpr double kTwinTolerance = 2e-5;  // max |kernel - ref| / RMS(ref), as test_matmul.cpp's twins

struct Shape {
    int64_t n, d, n_tokens;
};
// decode (1), few streams (2-4: Q4_0 in pairs of groups, with an odd group left, rows of an odd block count), one pass
// of 8, chunks of 8 with tails (9, 17, 70); rows of 1 to 280 blocks
constexpr Shape kShapes[] = {{32, 16, 1},   {1536, 32, 1}, {8960, 16, 1}, {128, 48, 2},  {224, 80, 2},
                             {1536, 16, 3}, {96, 64, 3},   {640, 32, 4},  {8960, 32, 4}, {256, 16, 5},
                             {96, 64, 8},   {1536, 32, 9}, {320, 16, 17}, {192, 48, 70}};
// the same for K-quants (rows of whole super-blocks of 256: 1 to 35, an odd count too: q6_k_rows16 pads its groups)
constexpr Shape kShapesK[] = {{256, 16, 1},  {1536, 32, 1}, {8960, 16, 1}, {512, 48, 2},  {1536, 16, 3},
                              {768, 32, 4},  {256, 16, 5},  {256, 64, 6},  {1280, 16, 7}, {512, 64, 8},
                              {1536, 32, 9}, {256, 16, 17}, {512, 48, 70}};

struct Layout {
    WeightLayout layout;
    TensorType type;
};
constexpr Layout kLayouts[] = {{WeightLayout::q4_0_rows16, TensorType::Q4_0},
                               {WeightLayout::q8_0_rows16, TensorType::Q8_0},
                               {WeightLayout::q4_k_rows16, TensorType::Q4_K},
                               {WeightLayout::q6_k_rows16, TensorType::Q6_K}};

std::span<const Shape> shapes_of(const Layout& l) {
    if (l.type == TensorType::Q4_K || l.type == TensorType::Q6_K) return kShapesK;
    return kShapes;
}

struct Problem {
    Layout l;
    Shape s;
    std::vector<uint8_t> w, packed;
    std::vector<float> x;
};

Problem make(Layout l, Shape s, uint32_t seed) {
    Problem p{l, s, test::gaussian_rows(l.type, s.n, s.d, seed), {}, test::gaussian(s.n * s.n_tokens, seed + 1)};
    if (l.type == TensorType::Q8_0) {  // the ends of the byte range in the first block (-128: only a crafted file)
        auto* blk = reinterpret_cast<block_q8_0*>(p.w.data());
        blk->qs[0] = -128;
        blk->qs[1] = 127;
        blk->qs[31] = -127;
    }
    if (l.type == TensorType::Q6_K) {  // the ends of the value and scale ranges in the first super-block
        auto* blk = reinterpret_cast<block_q6_K*>(p.w.data());
        blk->scales[0] = -128;
        blk->scales[15] = 127;
        blk->ql[0] = 0xff;  // values 0 and 64: 63 with qh's bits
        blk->qh[0] = 0xff;  // values 0, 32, 64, 96's high bits
        blk->ql[33] = 0;    // values 33 and 97: 0 with qh's bits
        blk->qh[33] = 0;    // values 129, 161, 193, 225's high bits
    }
    p.packed.resize(kernels::packed_size(l.layout, l.type, s.n, s.d));
    kernels::pack_weights(l.layout, l.type, p.w.data(), s.n, s.d, p.packed.data());
    return p;
}

struct Scratch {
    explicit Scratch(size_t bytes) : p(std::aligned_alloc(64, (bytes + 64) / 64 * 64)) {}
    ~Scratch() { std::free(p); }
    void* p;
};

std::vector<float> run(const Problem& p, bool packed, ThreadPool* pool) {
    std::vector<float> y(static_cast<size_t>(p.s.d * p.s.n_tokens), NAN);
    Scratch scratch(kernels::matmul_scratch_size(p.l.type, p.s.n, p.s.n_tokens));
    kernels::matmul(p.l.type, packed ? p.packed.data() : p.w.data(), p.s.n, p.s.d, p.x.data(), p.s.n_tokens, y.data(),
                    scratch.p, pool, packed ? p.l.layout : WeightLayout::plain);
    return y;
}

TEST(PackedRows16, RepackRoundTripsEveryRow) {
    for (const Layout& l : kLayouts)
        for (const Shape& s : shapes_of(l)) {
            const Problem p = make(l, s, 7);
            if (l.type == TensorType::Q4_K) {  // the scales decoded: 2368 bytes per 16 rows' super-block, not 2304
                ASSERT_EQ(p.packed.size() * 2304, p.w.size() * 2368);
            } else if (l.type == TensorType::Q6_K) {  // groups padded to 64 bytes
                ASSERT_GE(p.packed.size(), p.w.size());
            } else {
                ASSERT_EQ(p.packed.size(), p.w.size());
            }
            ASSERT_NE(p.w, p.packed) << "n=" << s.n << ": the layout moved nothing";
            const size_t rs = row_size(l.type, s.n);
            std::vector<uint8_t> row(rs);
            for (int64_t r = 0; r < s.d; ++r) {
                ref::unpack_row(l.layout, l.type, p.packed.data(), s.n, r, row.data());
                ASSERT_EQ(0, std::memcmp(row.data(), p.w.data() + r * rs, rs))
                    << tensor_type_name(l.type) << " n=" << s.n << " row " << r;
            }
        }
}

TEST(PackedRows16, OnlyTheirTypeWithWholeGroupsFits) {
    EXPECT_TRUE(ref::layout_fits(WeightLayout::q4_0_rows16, TensorType::Q4_0, 64, 32));
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q4_0_rows16, TensorType::Q4_0, 64, 24));  // a partial group
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q4_0_rows16, TensorType::Q8_0, 64, 32));
    EXPECT_TRUE(ref::layout_fits(WeightLayout::q8_0_rows16, TensorType::Q8_0, 64, 32));
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q8_0_rows16, TensorType::Q4_0, 64, 32));
    EXPECT_TRUE(ref::layout_fits(WeightLayout::q4_k_rows16, TensorType::Q4_K, 512, 32));
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q4_k_rows16, TensorType::Q4_K, 512, 24));
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q4_k_rows16, TensorType::Q4_0, 512, 32));
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q4_k_rows16, TensorType::Q5_K, 512, 32));
    EXPECT_TRUE(ref::layout_fits(WeightLayout::plain, TensorType::Q6_K, 256, 3));
    EXPECT_TRUE(ref::layout_fits(WeightLayout::q6_k_rows16, TensorType::Q6_K, 256, 32));
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q6_k_rows16, TensorType::Q6_K, 256, 24));
    EXPECT_FALSE(ref::layout_fits(WeightLayout::q6_k_rows16, TensorType::Q4_K, 256, 32));
}

TEST(PackedRows16, NaiveTwinEqualsReferenceOnFileRows) {
    test::BackendGuard guard;
    kernels::force_backend(kernels::Backend::ref);
    ThreadPool pool(test::pool_threads(2));
    for (const Layout& l : kLayouts)
        for (const Shape& s : shapes_of(l)) {
            const Problem p = make(l, s, 11);
            EXPECT_EQ(run(p, false, &pool), run(p, true, &pool)) << tensor_type_name(l.type) << " n=" << s.n;
        }
}

TEST(PackedRows16, EveryBackendMatchesReference) {
    test::BackendGuard guard;
    kernels::force_amx(false);  // the VNNI kernels' 8-bit activations; AMX's bf16 has its own twin (test_amx.cpp)
    ThreadPool pool(test::pool_threads(2));
    uint32_t seed = 100;
    for (const Layout& l : kLayouts)
        for (const Shape& s : shapes_of(l)) {
            const Problem p = make(l, s, seed++);
            kernels::force_backend(kernels::Backend::ref);
            const auto y_ref = run(p, false, &pool);
            const double scale = std::max(test::rms(y_ref), std::sqrt(static_cast<double>(s.n)));
            for (kernels::Backend backend : test::simd_backends()) {
                kernels::force_backend(backend);
                for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
                    const auto y = run(p, true, tp);
                    EXPECT_LE(test::max_abs_diff(y, y_ref) / scale, kTwinTolerance)
                        << kernels::backend_name(backend) << " " << tensor_type_name(l.type) << " n=" << s.n
                        << " d=" << s.d << " n_tokens=" << s.n_tokens << (tp ? " 2 threads" : " 1 thread");
                }
            }
        }
}

// Runs body() with the avx512 backend forced; false where this CPU/build has none (the caller skips).
template <class Body>
bool on_avx512(const Body& body) {
    for (kernels::Backend backend : test::simd_backends()) {
        if (backend != kernels::Backend::avx512) continue;
        kernels::force_backend(backend);
        body();
        return true;
    }
    return false;
}

// The Q4_K kernel sums in the reference's integers and takes its float steps in its order: on the same activations
// (the AVX2 quantizer equals the reference's but for exact |max| ties, which Gaussian rows do not have) it gives the
// reference's results bit for bit.
TEST(PackedRows16, Q4KKernelEqualsReferenceExactly) {
    test::BackendGuard guard;
    kernels::force_amx(false);  // the VNNI kernel (70 tokens would take AMX's bf16: test_amx.cpp)
    ThreadPool pool(test::pool_threads(2));
    const Layout l{WeightLayout::q4_k_rows16, TensorType::Q4_K};
    const bool ran = on_avx512([&] {
        for (const Shape& s : kShapesK) {
            const Problem p = make(l, s, 300);
            kernels::force_backend(kernels::Backend::ref);
            const auto y_ref = run(p, false, &pool);
            kernels::force_backend(kernels::Backend::avx512);
            EXPECT_EQ(run(p, true, &pool), y_ref) << "n=" << s.n << " d=" << s.d << " n_tokens=" << s.n_tokens;
        }
    });
    if (!ran) GTEST_SKIP() << "no avx512 backend on this CPU/build";
}

// Q4_0's 2..4-token passes take two groups at once (q4_0_pair_pass); 5 tokens take the one-group pass. Both sum in
// the same integers and take the same float steps, so the first 4 tokens' outputs of a 5-token matmul are those of a
// 4-token matmul (2, 3) bit for bit, pairs and the odd group left alike.
TEST(PackedRows16, Q4_0PairPassesEqualOneGroupPassesExactly) {
    test::BackendGuard guard;
    ThreadPool pool(test::pool_threads(2));
    const Layout l{WeightLayout::q4_0_rows16, TensorType::Q4_0};
    const bool ran = on_avx512([&] {
        for (const Shape& s : {Shape{224, 80, 5}, Shape{8960, 32, 5}, Shape{1536, 48, 5}}) {
            const Problem five = make(l, s, 400);
            const auto y5 = run(five, true, &pool);
            for (int64_t nt = 2; nt <= 4; ++nt) {
                Problem few = five;
                few.s.n_tokens = nt;
                few.x.resize(static_cast<size_t>(s.n * nt));
                for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
                    const auto y = run(few, true, tp);
                    const std::vector<float> y5_first(y5.begin(), y5.begin() + static_cast<int64_t>(y.size()));
                    EXPECT_EQ(y, y5_first)
                        << "n=" << s.n << " d=" << s.d << " n_tokens=" << nt << (tp ? " 2 threads" : " 1 thread");
                }
            }
        }
    });
    if (!ran) GTEST_SKIP() << "no avx512 backend on this CPU/build";
}

// The prefetch hint (nta or t0, chosen at start per CPU model) changes only which lines are asked for early, and how
// far ahead: every layout's results are the same bit for bit under both, at every shape, on 1 and 2 threads.
TEST(PackedRows16, BothPrefetchHintsGiveTheSameResults) {
    test::BackendGuard guard;
    const std::string chosen = kernels::prefetch_hint_name();
    ThreadPool pool(test::pool_threads(2));
    EXPECT_FALSE(kernels::force_prefetch_hint("t1"));
    EXPECT_EQ(kernels::prefetch_hint_name(), chosen) << "an unknown name changes nothing";
    const bool ran = on_avx512([&] {
        for (const Layout& l : kLayouts)
            for (const Shape& s : shapes_of(l)) {
                const Problem p = make(l, s, 500);
                for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
                    ASSERT_TRUE(kernels::force_prefetch_hint("nta"));
                    EXPECT_STREQ(kernels::prefetch_hint_name(), "nta");
                    const auto y_nta = run(p, true, tp);
                    ASSERT_TRUE(kernels::force_prefetch_hint("t0"));
                    EXPECT_STREQ(kernels::prefetch_hint_name(), "t0");
                    EXPECT_EQ(run(p, true, tp), y_nta) << tensor_type_name(l.type) << " n=" << s.n << " d=" << s.d
                                                       << " n_tokens=" << s.n_tokens << (tp ? " 2 threads" : "");
                }
            }
    });
    kernels::force_prefetch_hint(chosen);
    if (!ran) GTEST_SKIP() << "no avx512 backend on this CPU/build";
}

TEST(PackedRows16, PreferredOnlyWhereTheBackendHasTheKernel) {
    test::BackendGuard guard;
    for (kernels::Backend backend : test::simd_backends()) {
        kernels::force_backend(backend);
        const bool wide = backend == kernels::Backend::avx512;
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_0, 1536, 256),
                  wide ? WeightLayout::q4_0_rows16 : WeightLayout::plain)
            << kernels::backend_name(backend);
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q8_0, 1536, 256),
                  wide ? WeightLayout::q8_0_rows16 : WeightLayout::plain)
            << kernels::backend_name(backend);
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_0, 1536, 8), WeightLayout::plain);
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_K, 1536, 256),
                  wide ? WeightLayout::q4_k_rows16 : WeightLayout::plain)
            << kernels::backend_name(backend);
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_K, 1536, 8), WeightLayout::plain);
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q6_K, 1536, 256),
                  wide ? WeightLayout::q6_k_rows16 : WeightLayout::plain)
            << kernels::backend_name(backend);
        EXPECT_EQ(kernels::preferred_layout(TensorType::Q6_K, 1536, 8), WeightLayout::plain);
    }
}

}  // namespace
}  // namespace duet
