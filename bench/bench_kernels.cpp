// bench_kernels.cpp: decode matvec weight GB/s per type next to the machine's measured read bandwidth, prefill
// GFLOP/s at batch 512, and attention over an F16 KV cache (the GQA kernels vs the dot / axpy loops). Weights are
// rotated through copies totalling > 6x the 32 MiB L3, so decode numbers measure DRAM, not cache.
//
//   build-kernels/bench/duet_bench_bench_kernels --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (--benchmark_filter=decode|prefill|bandwidth|attention to pick a group)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/fp16.h"
#include "common/thread_pool.h"
#include "kernels/cpu/bandwidth.h"
#include "kernels/kernels.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/quants.h"

namespace duet {
namespace {

// Weights rotate over at least this many bytes, as much as the bandwidth probe reads: a matmul then streams from
// DRAM as in a model's decode step. 192 MiB (6x the 32 MiB L3 of the Zen 5 here) still let ~10% of the reads hit
// the L3 (batch_packed/q4_0/8960x1536, 1 token, 2 threads: 79 GB/s at 192 MiB, 71 at 1 GiB; duet's own decode
// streams its matrices at the lower figure).
constexpr size_t kMinRotationBytes = size_t{1024} << 20;
constexpr size_t kBandwidthBytes = size_t{1} << 30;
constexpr int64_t kPrefillTokens = 512;

double g_bandwidth_gbs[3] = {0, 0, 0};  // by thread count (1, 2)

struct AlignedBuffer {
    explicit AlignedBuffer(size_t bytes)
        : size((bytes + 63) / 64 * 64), data(static_cast<uint8_t*>(std::aligned_alloc(64, size))) {}
    ~AlignedBuffer() { std::free(data); }
    size_t size;
    uint8_t* data;
};

// A weight matrix (d, n) of `type`: 64 distinct quantized random rows tiled over all d rows.
void fill_weights(TensorType type, int64_t n, int64_t d, uint8_t* dst) {
    constexpr int64_t kDistinctRows = 64;
    const size_t rs = row_size(type, n);
    std::mt19937 rng(42);
    std::normal_distribution<float> dist(0.0f, 0.02f);
    std::vector<float> row(static_cast<size_t>(n));
    const int64_t distinct = std::min(d, kDistinctRows);
    for (int64_t r = 0; r < distinct; ++r) {
        for (auto& v : row) v = dist(rng);
        quantize_row(type, row.data(), dst + static_cast<size_t>(r) * rs, n);
    }
    for (int64_t r = distinct; r < d; ++r)
        std::memcpy(dst + static_cast<size_t>(r) * rs, dst + static_cast<size_t>(r % distinct) * rs, rs);
}

double process_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

ThreadPool* pool_for(int n_threads) {
    static std::unique_ptr<ThreadPool> pools[3];
    if (!pools[n_threads]) pools[n_threads] = std::make_unique<ThreadPool>(n_threads);
    return pools[n_threads].get();
}

void bm_decode(benchmark::State& state, TensorType type, int64_t d, int64_t n, int n_threads) {
    const size_t matrix_bytes = row_size(type, n) * static_cast<size_t>(d);
    const size_t n_copies = std::max<size_t>(1, (kMinRotationBytes + matrix_bytes - 1) / matrix_bytes);
    AlignedBuffer weights(matrix_bytes * n_copies);
    fill_weights(type, n, d, weights.data);
    for (size_t c = 1; c < n_copies; ++c) std::memcpy(weights.data + c * matrix_bytes, weights.data, matrix_bytes);
    std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(d));
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (auto& v : x) v = dist(rng);
    AlignedBuffer scratch(kernels::matmul_scratch_size(type, n, 1) + 64);
    ThreadPool* pool = pool_for(n_threads);
    size_t copy = 0;
    const double cpu0 = process_cpu_seconds();
    for (auto _ : state) {
        kernels::matmul(type, weights.data + copy * matrix_bytes, n, d, x.data(), 1, y.data(), scratch.data, pool);
        benchmark::DoNotOptimize(y.data());
        copy = (copy + 1) % n_copies;
    }
    const double cpu_per_thread = (process_cpu_seconds() - cpu0) / n_threads;
    const double bytes = static_cast<double>(matrix_bytes) * static_cast<double>(state.iterations());
    // On a shared machine: GB/s over the CPU time each thread actually ran (spinning included), an estimate of
    // the rate on an idle machine (exact when nothing else runs: then it equals GB/s).
    state.counters["GB/s_cpu"] = bytes / 1e9 / cpu_per_thread;
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
    state.counters["bw_GB/s"] = g_bandwidth_gbs[n_threads];
    state.counters["pct_bw"] =
        benchmark::Counter(bytes / 1e9 / g_bandwidth_gbs[n_threads] * 100.0, benchmark::Counter::kIsRate);
}

// Kernel speed with the weights in L2 (one thread, rates per CPU second): the compute ceiling of the decode
// kernels, independent of DRAM and of other processes on the machine; it must exceed the DRAM bandwidth.
void bm_decode_in_cache(benchmark::State& state, TensorType type, int64_t d, int64_t n) {
    const size_t matrix_bytes = row_size(type, n) * static_cast<size_t>(d);
    AlignedBuffer weights(matrix_bytes);
    fill_weights(type, n, d, weights.data);
    std::vector<float> x(static_cast<size_t>(n), 0.5f), y(static_cast<size_t>(d));
    AlignedBuffer scratch(kernels::matmul_scratch_size(type, n, 1) + 64);
    for (auto _ : state) {
        kernels::matmul(type, weights.data, n, d, x.data(), 1, y.data(), scratch.data, nullptr);
        benchmark::DoNotOptimize(y.data());
    }
    const double bytes = static_cast<double>(matrix_bytes) * static_cast<double>(state.iterations());
    state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
}

// A few-stream decode step's matmul with the weights in L2 (one thread, CPU time): the compute cost of reusing
// each decoded weight block for 1-4 tokens. Equal times for tokens:4 and tokens:1 would mean a 4-stream step costs
// what a 1-stream one does (the weights' DRAM time aside).
// W (d,n) filled in file rows -> the active backend's preferred layout when `packed` (as a model loads it), in a
// buffer of that layout's size; returns the layout.
WeightLayout fill_maybe_packed(TensorType type, int64_t n, int64_t d, bool packed,
                               std::unique_ptr<AlignedBuffer>& out) {
    const WeightLayout layout = packed ? kernels::preferred_layout(type, n, d) : WeightLayout::plain;
    const size_t plain_bytes = row_size(type, n) * static_cast<size_t>(d);
    out = std::make_unique<AlignedBuffer>(kernels::packed_size(layout, type, n, d));
    if (layout == WeightLayout::plain) {
        fill_weights(type, n, d, out->data);
    } else {
        std::vector<uint8_t> plain(plain_bytes);
        fill_weights(type, n, d, plain.data());
        kernels::pack_weights(layout, type, plain.data(), n, d, out->data);
    }
    return layout;
}

void bm_batch_in_cache(benchmark::State& state, TensorType type, int64_t d, int64_t n, int64_t n_tokens, bool packed) {
    std::unique_ptr<AlignedBuffer> w;
    const WeightLayout layout = fill_maybe_packed(type, n, d, packed, w);
    const size_t matrix_bytes = w->size;
    AlignedBuffer& weights = *w;
    std::vector<float> x(static_cast<size_t>(n * n_tokens)), y(static_cast<size_t>(d * n_tokens));
    std::mt19937 rng(4);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (auto& v : x) v = dist(rng);
    AlignedBuffer scratch(kernels::matmul_scratch_size(type, n, n_tokens) + 64);
    for (auto _ : state) {
        kernels::matmul(type, weights.data, n, d, x.data(), n_tokens, y.data(), scratch.data, nullptr, layout);
        benchmark::DoNotOptimize(y.data());
    }
    const double bytes = static_cast<double>(matrix_bytes) * static_cast<double>(state.iterations());
    state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
}

void bm_prefill(benchmark::State& state, TensorType type, int64_t d, int64_t n, int n_threads) {
    const size_t matrix_bytes = row_size(type, n) * static_cast<size_t>(d);
    AlignedBuffer weights(matrix_bytes);
    fill_weights(type, n, d, weights.data);
    std::vector<float> x(static_cast<size_t>(n * kPrefillTokens)), y(static_cast<size_t>(d * kPrefillTokens));
    std::mt19937 rng(2);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (auto& v : x) v = dist(rng);
    AlignedBuffer scratch(kernels::matmul_scratch_size(type, n, kPrefillTokens) + 64);
    ThreadPool* pool = pool_for(n_threads);
    const double cpu0 = process_cpu_seconds();
    for (auto _ : state) {
        kernels::matmul(type, weights.data, n, d, x.data(), kPrefillTokens, y.data(), scratch.data, pool);
        benchmark::DoNotOptimize(y.data());
    }
    const double cpu_per_thread = (process_cpu_seconds() - cpu0) / n_threads;
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(d) * kPrefillTokens;
    state.counters["GFLOP/s_cpu"] = flops * static_cast<double>(state.iterations()) / 1e9 / cpu_per_thread;
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
    state.counters["tok/s"] =
        benchmark::Counter(static_cast<double>(kPrefillTokens * state.iterations()), benchmark::Counter::kIsRate);
}

// A small batch (the decode steps of a server with a few streams, short prefill chunks) over weights rotated
// through DRAM as in bm_decode: tok/s counts batch tokens, so a kernel that reads the weights once per step
// shows near-linear growth with the batch until it becomes compute-bound.
// packed: the weights in the active backend's preferred layout (kernels::preferred_layout), as a model loads them.
void bm_batch(benchmark::State& state, TensorType type, int64_t d, int64_t n, int64_t n_tokens, int n_threads,
              bool packed) {
    std::unique_ptr<AlignedBuffer> one;
    const WeightLayout layout = fill_maybe_packed(type, n, d, packed, one);
    const size_t matrix_bytes = kernels::packed_size(layout, type, n, d);
    const size_t n_copies = std::max<size_t>(1, (kMinRotationBytes + matrix_bytes - 1) / matrix_bytes);
    AlignedBuffer weights(matrix_bytes * n_copies);
    std::memcpy(weights.data, one->data, matrix_bytes);
    for (size_t c = 1; c < n_copies; ++c) std::memcpy(weights.data + c * matrix_bytes, weights.data, matrix_bytes);
    std::vector<float> x(static_cast<size_t>(n * n_tokens)), y(static_cast<size_t>(d * n_tokens));
    std::mt19937 rng(3);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (auto& v : x) v = dist(rng);
    AlignedBuffer scratch(kernels::matmul_scratch_size(type, n, n_tokens) + 64);
    ThreadPool* pool = pool_for(n_threads);
    size_t copy = 0;
    const double cpu0 = process_cpu_seconds();
    for (auto _ : state) {
        kernels::matmul(type, weights.data + copy * matrix_bytes, n, d, x.data(), n_tokens, y.data(), scratch.data,
                        pool, layout);
        benchmark::DoNotOptimize(y.data());
        copy = (copy + 1) % n_copies;
    }
    const double cpu_per_thread = (process_cpu_seconds() - cpu0) / n_threads;
    // weights GB/s over each thread's CPU time (as bm_decode): the step's rate on an otherwise idle machine
    state.counters["GB/s_cpu"] =
        static_cast<double>(matrix_bytes) * static_cast<double>(state.iterations()) / 1e9 / cpu_per_thread;
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(n_tokens);
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
    state.counters["GB/s"] =
        benchmark::Counter(static_cast<double>(matrix_bytes) * static_cast<double>(state.iterations()) / 1e9,
                           benchmark::Counter::kIsRate);
}

void bm_bandwidth(benchmark::State& state, int n_threads) {
    double gbs = 0;
    for (auto _ : state) gbs = kernels::measure_read_bandwidth_gbs(n_threads, kBandwidthBytes);
    state.counters["GB/s"] = gbs;
}

// Attention of one token over `context` positions of an F16 KV cache, one KV head and its n_q query heads, in
// blocks of 16 slots as Forward::attention reads them (rows of 2 KV heads per slot, head_dim 128): scores, softmax,
// values. "loops": the position-at-a-time dot / axpy loops (the twins); otherwise the active backend's kernels.
void bm_attention(benchmark::State& state, int64_t n_q, int64_t context, bool loops) {
    constexpr int64_t kHeadDim = 128, kBlock = 16, kStride = 2 * kHeadDim;
    std::mt19937 rng(5);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<uint16_t> k(static_cast<size_t>(context * kStride)), v(k.size());
    for (auto& h : k) h = fp32_to_fp16(dist(rng));
    for (auto& h : v) h = fp32_to_fp16(dist(rng));
    std::vector<float> q(static_cast<size_t>(n_q * kHeadDim)), scores(static_cast<size_t>(n_q * context)),
        out(static_cast<size_t>(n_q * kHeadDim));
    for (auto& x : q) x = dist(rng);
    const float scale = 0.088f;
    for (auto _ : state) {
        for (int64_t p0 = 0; p0 < context; p0 += kBlock) {
            const int64_t n = std::min(kBlock, context - p0);
            if (loops) {
                for (int64_t j = 0; j < n_q; ++j)
                    for (int64_t p = 0; p < n; ++p)
                        scores[j * context + p0 + p] =
                            scale * kernels::dot_f16_f32(&k[(p0 + p) * kStride], &q[j * kHeadDim], kHeadDim);
            } else {
                kernels::attn_scores_f16(&scores[p0], context, q.data(), n_q, &k[p0 * kStride], kStride, n, kHeadDim,
                                         scale);
            }
        }
        for (int64_t j = 0; j < n_q; ++j) kernels::softmax(&scores[j * context], context);
        std::fill(out.begin(), out.end(), 0.0f);
        for (int64_t p0 = 0; p0 < context; p0 += kBlock) {
            const int64_t n = std::min(kBlock, context - p0);
            if (loops) {
                for (int64_t j = 0; j < n_q; ++j)
                    for (int64_t p = 0; p < n; ++p)
                        kernels::axpy_f16(&out[j * kHeadDim], scores[j * context + p0 + p], &v[(p0 + p) * kStride],
                                          kHeadDim);
            } else {
                kernels::attn_values_f16(out.data(), &scores[p0], context, n_q, &v[p0 * kStride], kStride, n, kHeadDim);
            }
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["positions/s"] =
        benchmark::Counter(static_cast<double>(context * state.iterations()), benchmark::Counter::kIsRate);
}

// Greedy decoding's argmax over one token's logits (R1-1.5B's 151936), in L2: kernels::argmax against the reference
// loop (one compare with the best so far per value).
void bm_argmax(benchmark::State& state, bool reference) {
    const int64_t n = 151936;
    const std::vector<float> logits = [&] {
        std::vector<float> v(static_cast<size_t>(n));
        std::mt19937 rng(6);
        std::normal_distribution<float> dist(0.0f, 3.0f);
        for (auto& x : v) x = dist(rng);
        return v;
    }();
    for (auto _ : state)
        benchmark::DoNotOptimize(reference ? ref::argmax(logits.data(), n) : kernels::argmax(logits.data(), n));
}

// A 4-stream decode step's element-wise ops at R1-1.5B's sizes, in L1/L2, on the active backend (DUET_BACKEND=avx2
// gives the 8-float kernels): SiLU·mul over 4 x 8960 values, RMSNorm of 4 rows of 1536, softmax of 6 heads' scores
// over 128 positions, the KV write's f32 -> f16 of 4 x 256 values, RoPE's rotation of 4 tokens' 12 + 2 heads (neox).
void bm_elementwise(benchmark::State& state, int op) {
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 2.0f);
    std::vector<float> a(4 * 8960), b(a.size()), w(1536), out(a.size());
    for (auto* v : {&a, &b, &w})
        for (float& x : *v) x = dist(rng);
    std::vector<uint16_t> half(a.size());
    for (auto _ : state) {
        switch (op) {
            case 0:
                kernels::silu_mul(out.data(), a.data(), b.data(), 4 * 8960);
                break;
            case 1:
                for (int t = 0; t < 4; ++t) kernels::rmsnorm(&out[t * 1536], &a[t * 1536], w.data(), 1536, 1e-6f);
                break;
            case 2:
                std::copy(a.begin(), a.begin() + 6 * 128, out.begin());
                for (int h = 0; h < 6; ++h) kernels::softmax(&out[h * 128], 128);
                break;
            case 3:
                kernels::f32_to_f16(half.data(), a.data(), 4 * 256);
                break;
            default:
                for (int t = 0; t < 4; ++t)
                    kernels::rope_rotate(&out[t * 14 * 128], 14, 128, 128, &w[t * 128], kernels::RopeMode::neox);
                break;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::DoNotOptimize(half.data());
    }
}

// One fork and join of the thread pool with nothing to do (what each parallel op of a decode step pays on top of
// its work).
void bm_fork_join(benchmark::State& state) {
    ThreadPool* pool = pool_for(2);
    std::atomic<int> calls{0};
    for (auto _ : state) pool->run([&](int, int) { calls.fetch_add(1, std::memory_order_relaxed); });
    benchmark::DoNotOptimize(calls.load());
}

struct DecodeShape {
    int64_t d, n;
    const char* name;
};

}  // namespace
}  // namespace duet

int main(int argc, char** argv) {
    using namespace duet;
    benchmark::Initialize(&argc, argv);
    for (int t = 1; t <= 2; ++t) {
        const kernels::ReadBandwidth r = kernels::measure_read_bandwidth(t, kBandwidthBytes);
        g_bandwidth_gbs[t] = r.gbs;
        std::printf("read bandwidth, %d thread%s: %.1f GB/s (%s, best of 5, %zu MiB)\n", t, t > 1 ? "s" : "", r.gbs,
                    r.method.c_str(), kBandwidthBytes >> 20);
    }
    std::printf("backend: %s (DUET_BACKEND=avx2|ref picks a lower one)\n",
                kernels::backend_name(kernels::active_backend()));
    for (int t = 1; t <= 2; ++t)
        benchmark::RegisterBenchmark(("bandwidth/read/threads:" + std::to_string(t)).c_str(), bm_bandwidth, t)
            ->Iterations(1)
            ->Unit(benchmark::kMillisecond);
    const DecodeShape shapes[] = {{4096, 4096, "4096x4096"},
                                  {14336, 4096, "14336x4096"},
                                  {151936, 1536, "151936x1536"}};
    const TensorType decode_types[] = {TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K,
                                       TensorType::Q8_0, TensorType::F16,  TensorType::Q5_K};
    for (TensorType type : decode_types)
        for (const auto& s : shapes)
            for (int t = 1; t <= 2; ++t) {
                const std::string name =
                    "decode/" + std::string(tensor_type_name(type)) + "/" + s.name + "/threads:" + std::to_string(t);
                benchmark::RegisterBenchmark(name.c_str(), bm_decode, type, s.d, s.n, t)
                    ->UseRealTime()
                    ->Unit(benchmark::kMicrosecond);
            }
    for (TensorType type : decode_types) {
        const std::string name = "decode_in_L2/" + std::string(tensor_type_name(type)) + "/256x4096/threads:1";
        benchmark::RegisterBenchmark(name.c_str(), bm_decode_in_cache, type, 256, 4096)->Unit(benchmark::kMicrosecond);
    }
    for (TensorType type : {TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K, TensorType::Q8_0})
        for (const DecodeShape& s : {DecodeShape{256, 1536, "256x1536"}, DecodeShape{64, 8960, "64x8960"}})
            for (int64_t n_tokens : {1, 2, 3, 4}) {
                for (bool packed : {false, true}) {
                    if (packed && kernels::preferred_layout(type, s.n, s.d) == WeightLayout::plain) continue;
                    const std::string name = std::string(packed ? "batch_in_L2_packed/" : "batch_in_L2/") +
                                             std::string(tensor_type_name(type)) + "/" + s.name +
                                             "/tokens:" + std::to_string(n_tokens);
                    benchmark::RegisterBenchmark(name.c_str(), bm_batch_in_cache, type, s.d, s.n, n_tokens, packed)
                        ->Unit(benchmark::kMicrosecond);
                }
            }
    for (TensorType type : {TensorType::Q4_0, TensorType::Q4_K, TensorType::Q8_0})
        for (int64_t dim : {int64_t{1536}, int64_t{4096}})
            for (int t = 1; t <= 2; ++t) {
                const std::string name = "prefill512/" + std::string(tensor_type_name(type)) + "/" +
                                         std::to_string(dim) + "x" + std::to_string(dim) +
                                         "/threads:" + std::to_string(t);
                benchmark::RegisterBenchmark(name.c_str(), bm_prefill, type, dim, dim, t)
                    ->UseRealTime()
                    ->Unit(benchmark::kMillisecond);
            }
    for (TensorType type : {TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K, TensorType::Q8_0})
        for (const DecodeShape& s : {DecodeShape{8960, 1536, "8960x1536"}, DecodeShape{1536, 8960, "1536x8960"}})
            for (int64_t n_tokens : {1, 2, 3, 4, 8, 16, 32, 48, 64, 256})
                for (int t = 1; t <= 2; ++t) {
                    for (bool packed : {false, true}) {
                        if (packed && kernels::preferred_layout(type, s.n, s.d) == WeightLayout::plain) continue;
                        const std::string name =
                            std::string(packed ? "batch_packed/" : "batch/") + std::string(tensor_type_name(type)) +
                            "/" + s.name + "/tokens:" + std::to_string(n_tokens) + "/threads:" + std::to_string(t);
                        benchmark::RegisterBenchmark(name.c_str(), bm_batch, type, s.d, s.n, n_tokens, t, packed)
                            ->UseRealTime()
                            ->Unit(benchmark::kMicrosecond);
                    }
                }
    for (int64_t n_q : {4, 6})
        for (int64_t context : {128, 1024})
            for (bool loops : {true, false}) {
                const std::string name = std::string("attention/") + (loops ? "loops" : "kernel") +
                                         "/heads_per_kv:" + std::to_string(n_q) + "/context:" + std::to_string(context);
                benchmark::RegisterBenchmark(name.c_str(), bm_attention, n_q, context, loops)
                    ->Unit(benchmark::kMicrosecond);
            }
    for (bool reference : {true, false})
        benchmark::RegisterBenchmark(reference ? "argmax/151936/reference" : "argmax/151936/kernel", bm_argmax,
                                     reference)
            ->Unit(benchmark::kMicrosecond);
    const char* elementwise[] = {"silu_mul/4x8960", "rmsnorm/4x1536", "softmax/6x128", "f32_to_f16/4x256",
                                 "rope_rotate/4x14x128"};
    for (int op = 0; op < 5; ++op)
        benchmark::RegisterBenchmark((std::string("elementwise/") + elementwise[op]).c_str(), bm_elementwise, op)
            ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("pool/fork_join/threads:2", bm_fork_join)->Unit(benchmark::kMicrosecond);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
