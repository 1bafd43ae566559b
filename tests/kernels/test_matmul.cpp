// test_matmul.cpp: SIMD (AVX2, NEON) matmul and activation quantizers vs their reference twins, reference dot products vs
// float math on dequantized weights, thread-count independence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "common/fp16.h"
#include "common/thread_pool.h"
#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/formats.h"
#include "kernels/kernels.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/quants.h"
#include "kernels/ref/vec_dot.h"
#include "kernels/gaussian_rows.h"
#include "kernels/twin_error.h"
#include "kernels/simd_backends.h"
#include "support/gaussian.h"
#include "support/threads.h"

namespace duet {
namespace {

// AVX2 vs reference on the same quantized activations: only the float summation order differs.
constexpr double kTwinTolerance = 2e-5;  // max |avx2 - ref| / RMS(ref)
// Reference quantized dot vs double-precision dot on dequantized weights and unrounded activations: the effect
// of the 8-bit activation rounding (on a handful of outputs, so a generous bound).
constexpr double kActivationRoundingTolerance = 0.06;  // max |ref - unrounded| / RMS(unrounded)

constexpr TensorType kMatmulTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                                       TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                                       TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

struct Shape {
    int64_t n, d, n_tokens;
};
constexpr Shape kShapes[] = {
    {32, 17, 3},   {256, 257, 1},  {256, 3, 33},  {4096, 17, 8}, {1536, 3, 33}, {8960, 1, 1},
    {8960, 17, 3}, {4096, 257, 1}, {1536, 1, 8},  {192, 5, 1},   {320, 4, 2},  // 192, 320: Q4_0 pairs without a full group of 4
    {172, 5, 3},                                                 // float rows not a multiple of 8 (stories260K n_ff)
    {1536, 9, 2},  {1536, 13, 6},  {640, 21, 7},  {1536, 8, 4},  // batch tiles and their tails
    {96, 6, 5},    {320, 9, 70},   {1536, 5, 68},                // Q4_0 groups of 8 blocks: partial, chunks
    {128, 5, 4},   {384, 7, 3},    {1536, 6, 1}};                // the 512-bit kernels: one quad, row tails

// Under emulation (qemu in the arm64 CI stage sets DUET_TEST_QUICK=1) the twin test takes a subset that still has
// decode rows, every token-tile tail, a batch above the tile, rows not a multiple of 8 and K-quant super-blocks;
// the full set takes ~40 s natively, far too long at qemu's speed.
constexpr Shape kQuickShapes[] = {{32, 17, 3},  {256, 3, 33}, {192, 5, 1},  {320, 4, 2}, {172, 5, 3},
                                  {1536, 9, 2}, {640, 21, 7}, {1536, 8, 4}, {96, 6, 5},  {512, 7, 1}};
bool quick() {
    const char* q = std::getenv("DUET_TEST_QUICK");
    return q != nullptr && q[0] == '1';
}
std::span<const Shape> twin_shapes() {
    if (quick()) return kQuickShapes;
    return kShapes;
}

using test::gaussian;

struct Problem {
    TensorType type;
    Shape shape;
    std::vector<uint8_t> w;
    std::vector<float> x;
};

Problem make_problem(TensorType type, Shape s, uint32_t seed) {
    return {type, s, test::gaussian_rows(type, s.n, s.d, seed), gaussian(s.n * s.n_tokens, seed + 1)};
}

std::vector<float> run_matmul(const Problem& p, kernels::Backend backend, ThreadPool* pool) {
    kernels::force_backend(backend);
    std::vector<float> y(static_cast<size_t>(p.shape.d * p.shape.n_tokens), NAN);
    const size_t scratch_bytes = kernels::matmul_scratch_size(p.type, p.shape.n, p.shape.n_tokens);
    void* scratch = std::aligned_alloc(64, (scratch_bytes + 64) / 64 * 64);
    kernels::matmul(p.type, p.w.data(), p.shape.n, p.shape.d, p.x.data(), p.shape.n_tokens, y.data(), scratch, pool);
    std::free(scratch);
    return y;
}

using test::BackendGuard;
using test::simd_backends;

TEST(Matmul, SimdBackendsMatchReferenceEveryTypeAndShape) {
    const auto backends = simd_backends();
    if (backends.empty()) GTEST_SKIP() << "no SIMD backend on this CPU/build";
    BackendGuard guard;
    ThreadPool pool(test::pool_threads(2));
    uint32_t seed = 1;
    for (TensorType type : kMatmulTypes) {
        for (const Shape& s : twin_shapes()) {
            if (s.n % traits(type).block_size != 0) continue;
            const Problem p = make_problem(type, s, seed++);  // once for every backend (slow under emulation)
            const auto y_ref = run_matmul(p, kernels::Backend::ref, &pool);
            // Unit-gaussian rows: a dot has magnitude ~sqrt(n); with few outputs (d=1, one token) their RMS
            // can fall far below that by chance, so it is the floor of the scale.
            const double scale = std::max(test::rms(y_ref), std::sqrt(static_cast<double>(s.n)));
            for (kernels::Backend backend : backends) {
                const auto y_simd = run_matmul(p, backend, &pool);
                EXPECT_LE(test::max_abs_diff(y_simd, y_ref) / scale, kTwinTolerance)
                    << kernels::backend_name(backend) << " " << tensor_type_name(type) << " n=" << s.n << " d=" << s.d
                    << " n_tokens=" << s.n_tokens;
            }
        }
    }
}

// Q8_0 bytes at the ends of their range (-128 only a crafted file holds; 127, -127), where a kernel that biases
// them to unsigned (the VNNI 8-lane batch kernel) or sums products in narrow integers would break first. Batches
// of 1-9 tokens cover the decode kernel, both sides of the 8-lane threshold and a partial token tile; n = 416 is
// one full group of 8 blocks and a partial one of 5.
TEST(Matmul, Q8_0ExtremeBytesMatchReference) {
    const auto backends = simd_backends();
    if (backends.empty()) GTEST_SKIP() << "no SIMD backend on this CPU/build";
    BackendGuard guard;
    constexpr int64_t n = 416, d = 11;
    const int8_t extremes[] = {-128, 127, -127, 0, 1, -1};
    Problem p{TensorType::Q8_0, Shape{n, d, 9}, std::vector<uint8_t>(row_size(TensorType::Q8_0, n) * d),
              gaussian(n * 9, 5)};
    auto* blocks = reinterpret_cast<block_q8_0*>(p.w.data());
    for (int64_t b = 0; b < d * n / kQK; ++b) {
        blocks[b].d = fp32_to_fp16(0.01f * static_cast<float>(1 + b % 7));
        for (int k = 0; k < kQK; ++k)
            blocks[b].qs[k] = b % 3 == 0 ? extremes[k % 2] : extremes[(b + k) % 6];  // some blocks all +-max
    }
    for (int64_t i = 0; i < n * 9; ++i) p.x[static_cast<size_t>(i)] = i % 2 ? 1.0f : -1.0f;  // full-scale bytes
    ThreadPool pool(test::pool_threads(2));
    for (int64_t n_tokens = 1; n_tokens <= 9; ++n_tokens) {
        Problem q = p;
        q.shape.n_tokens = n_tokens;
        q.x.resize(static_cast<size_t>(n * n_tokens));
        const auto y_ref = run_matmul(q, kernels::Backend::ref, &pool);
        const double scale = std::max(test::rms(y_ref), 1.0);
        for (kernels::Backend backend : backends) {
            const auto y_simd = run_matmul(q, backend, &pool);
            for (size_t i = 0; i < y_ref.size(); ++i)
                ASSERT_LE(std::fabs(double(y_simd[i]) - y_ref[i]) / scale, kTwinTolerance)
                    << kernels::backend_name(backend) << " n_tokens=" << n_tokens << " output " << i;
        }
    }
}

// The activation row as the dot products see it: dequantized from its activation format.
std::vector<float> activation_as_seen(TensorType type, const float* x, int64_t n) {
    std::vector<float> out(x, x + n);
    const auto format = ref::activation_format(type);
    if (format == ref::ActivationFormat::q8_1f) {
        std::vector<block_q8_1f> q(static_cast<size_t>(n / kQK));
        quantize_row_q8_1f(x, q.data(), n);
        for (int64_t i = 0; i < n; ++i) out[i] = q[i / kQK].d * q[i / kQK].qs[i % kQK];
    } else if (format == ref::ActivationFormat::q8_K) {
        std::vector<block_q8_K> q(static_cast<size_t>(n / kQK_K));
        quantize_row_q8_K(x, q.data(), n);
        dequantize_row(TensorType::Q8_K, q.data(), out.data(), n);
        for (const auto& b : q)  // bsums are consistent with qs
            for (int g = 0; g < 16; ++g) {
                int sum = 0;
                for (int j = 0; j < 16; ++j) sum += b.qs[16 * g + j];
                EXPECT_EQ(sum, b.bsums[g]);
            }
    }
    return out;
}

TEST(Matmul, ReferenceDotMatchesDequantizedFloatMath) {
    BackendGuard guard;
    uint32_t seed = 100;
    for (TensorType type : kMatmulTypes) {
        for (const Shape& s : {Shape{256, 5, 3}, Shape{1536, 3, 2}}) {
            const Problem p = make_problem(type, s, seed++);
            const auto y = run_matmul(p, kernels::Backend::ref, nullptr);
            std::vector<float> exact(y.size()), exact_unrounded(y.size()), wrow(static_cast<size_t>(s.n));
            for (int64_t r = 0; r < s.d; ++r) {
                dequantize_row(type, p.w.data() + static_cast<size_t>(r) * row_size(type, s.n), wrow.data(), s.n);
                for (int64_t t = 0; t < s.n_tokens; ++t) {
                    const auto xs = activation_as_seen(type, p.x.data() + t * s.n, s.n);
                    double sum = 0, sum_unrounded = 0;
                    for (int64_t i = 0; i < s.n; ++i) {
                        sum += double(wrow[static_cast<size_t>(i)]) * xs[static_cast<size_t>(i)];
                        sum_unrounded += double(wrow[static_cast<size_t>(i)]) * p.x[t * s.n + i];
                    }
                    exact[static_cast<size_t>(t * s.d + r)] = static_cast<float>(sum);
                    exact_unrounded[static_cast<size_t>(t * s.d + r)] = static_cast<float>(sum_unrounded);
                }
            }
            const double scale = test::rms(exact);
            for (size_t i = 0; i < y.size(); ++i) {
                ASSERT_NEAR(y[i], exact[i], kTwinTolerance * scale)
                    << tensor_type_name(type) << " n=" << s.n << " index " << i;
                ASSERT_NEAR(y[i], exact_unrounded[i], kActivationRoundingTolerance * scale)
                    << tensor_type_name(type) << " n=" << s.n << " index " << i;
            }
        }
    }
}

TEST(Matmul, OneAndTwoThreadsGiveIdenticalResults) {
    DUET_REQUIRE_THREADS();
    BackendGuard guard;
    ThreadPool pool1(1), pool2(2);
    uint32_t seed = 500;
    for (auto backend : kernels::all_backends()) {
        if (!kernels::backend_supported(backend)) continue;
        for (TensorType type : {TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K, TensorType::F16}) {
            const int64_t n = quick() ? 256 : 1536;
            for (const Shape& s : {Shape{n, quick() ? 33 : 257, 1}, Shape{n, 61, 9}, Shape{n, 63, 3}}) {
                const Problem p = make_problem(type, s, seed++);
                const auto y1 = run_matmul(p, backend, &pool1);
                const auto y2 = run_matmul(p, backend, &pool2);
                const auto y0 = run_matmul(p, backend, nullptr);
                ASSERT_EQ(y1, y2) << tensor_type_name(type);
                ASSERT_EQ(y0, y2) << tensor_type_name(type);
            }
        }
    }
}

// matmul_many (q/k/v sharing one quantization and one parallel region) gives exactly matmul()'s results, for
// ops of one type and of mixed types (Q4_K_M puts a Q6_K attn_v next to Q4_K attn_q / attn_k; runs of alike ops
// share a region), on every backend.
TEST(Matmul, ManyEqualsOneByOne) {
    BackendGuard guard;
    ThreadPool pool(test::pool_threads(2));
    const int64_t n = quick() ? 256 : 1536, n_tokens = 5;
    const std::vector<std::pair<TensorType, int64_t>> sets[] = {
        {{TensorType::Q4_0, 64}, {TensorType::Q4_0, 17}, {TensorType::Q4_0, 256}},
        {{TensorType::Q4_K, 64}, {TensorType::Q4_K, 32}, {TensorType::Q6_K, 32}},
        {{TensorType::Q6_K, 32}, {TensorType::Q4_K, 48}, {TensorType::Q4_K, 16}, {TensorType::Q6_K, 64}},
        {{TensorType::F16, 40}, {TensorType::F16, 8}}};
    const auto x = gaussian(n * n_tokens, 7);
    for (auto backend : kernels::all_backends()) {
        if (!kernels::backend_supported(backend)) continue;
        kernels::force_backend(backend);
        uint32_t seed = 900;
        for (const auto& set : sets) {
            std::vector<Problem> problems;
            std::vector<std::vector<float>> y_many;
            std::vector<kernels::MatmulOp> ops;
            size_t scratch_bytes = 0;
            for (const auto& [type, d] : set) {
                problems.push_back(make_problem(type, Shape{n, d, n_tokens}, seed++));
                problems.back().x = x;
                scratch_bytes = std::max(scratch_bytes, kernels::matmul_scratch_size(type, n, n_tokens));
                y_many.emplace_back(static_cast<size_t>(d * n_tokens), NAN);
            }
            for (size_t k = 0; k < set.size(); ++k)
                ops.push_back({set[k].first, problems[k].w.data(), set[k].second, y_many[k].data()});
            void* scratch = std::aligned_alloc(64, (scratch_bytes + 64) / 64 * 64);
            kernels::matmul_many(ops, n, x.data(), n_tokens, scratch, &pool);
            std::free(scratch);
            for (size_t k = 0; k < set.size(); ++k)
                EXPECT_EQ(y_many[k], run_matmul(problems[k], backend, &pool))
                    << kernels::backend_name(backend) << " " << tensor_type_name(set[k].first) << " op " << k;
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)  // the AVX2 quantizers exist only in x86 builds
TEST(ActivationQuant, Avx2QuantizersAreBitIdenticalToReference) {
    if (!cpu::cpu_has_avx2()) GTEST_SKIP() << "CPU without AVX2";
    for (int64_t n : {256, 4096, 8960}) {
        auto x = gaussian(n, static_cast<uint32_t>(n));
        x[3] = 0.0f;
        std::vector<block_q8_1f> a(static_cast<size_t>(n / kQK)), b(a.size());
        quantize_row_q8_1f(x.data(), a.data(), n);
        cpu::quantize_row_q8_1f_avx2(x.data(), b.data(), n);
        ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(block_q8_1f))) << n;
        std::vector<block_q8_K> c(static_cast<size_t>(n / kQK_K)), e(c.size());
        quantize_row_q8_K(x.data(), c.data(), n);
        cpu::quantize_row_q8_K_avx2(x.data(), e.data(), n);
        ASSERT_EQ(0, std::memcmp(c.data(), e.data(), c.size() * sizeof(block_q8_K))) << n;
    }
    // an all-zero block
    std::vector<float> zeros(256, 0.0f);
    block_q8_K zk{};
    cpu::quantize_row_q8_K_avx2(zeros.data(), &zk, 256);
    EXPECT_EQ(zk.d, 0.0f);
}

// The rows16 kernels' quantizer on 512-bit vectors writes the AVX2 one's bytes (Q4_0's offset 8, Q8_0's 128), on
// rows with a zero value, an all-zero block and a block whose largest magnitude is negative.
TEST(ActivationQuant, Rows16Avx512QuantizerIsBitIdenticalToAvx2) {
    if (!cpu::cpu_has_avx512_vnni()) GTEST_SKIP() << "CPU without AVX-512 VNNI";
    for (int64_t n : {32, 1536, 8960}) {
        auto x = gaussian(n, static_cast<uint32_t>(n) + 7);
        x[3] = 0.0f;
        if (n >= 64) {
            std::fill(x.begin() + 32, x.begin() + 64, 0.0f);
            x[0] = -9.0f;
        }
        for (int32_t offset : {8, 128}) {
            std::vector<cpu::XRows16> a(static_cast<size_t>(n / kQK)), b(a.size());
            cpu::quantize_row_rows16_avx2(x.data(), a.data(), n, offset);
            cpu::quantize_row_rows16_avx512(x.data(), b.data(), n, offset);
            ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(cpu::XRows16))) << n << " " << offset;
        }
    }
}
#endif

}  // namespace
}  // namespace duet
