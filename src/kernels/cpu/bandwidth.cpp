// bandwidth.cpp: STREAM-style read bandwidth: each thread sums its contiguous share of a buffer.
#include "kernels/cpu/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common/thread_pool.h"

namespace duet::kernels {

namespace {

constexpr int kRuns = 5;

// Sum of 64-bit words with 8 independent accumulators (loads, not arithmetic, are the limit).
uint64_t sum_words(const uint64_t* p, size_t n) {
    uint64_t a[8] = {};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) a[k] += p[i + k];
    for (; i < n; ++i) a[0] += p[i];
    uint64_t s = 0;
    for (uint64_t v : a) s += v;
    return s;
}

}  // namespace

double measure_read_bandwidth_gbs(int n_threads, size_t bytes) {
    n_threads = std::max(1, n_threads);
    const size_t n_words = std::max<size_t>(bytes / sizeof(uint64_t), 1024);
    auto* buf = static_cast<uint64_t*>(std::aligned_alloc(4096, (n_words * sizeof(uint64_t) + 4095) / 4096 * 4096));
    if (!buf) return 0.0;
    ThreadPool pool(n_threads);
    // First touch by the threads that will read (NUMA placement), with non-zero data.
    pool.run([&](int ith, int nth) {
        int64_t b, e;
        split_range(static_cast<int64_t>(n_words), ith, nth, &b, &e);
        for (int64_t i = b; i < e; ++i) buf[i] = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
    });
    volatile uint64_t sink = 0;
    double best = 0.0;
    for (int run = 0; run < kRuns; ++run) {
        uint64_t sums[64] = {};
        const auto t0 = std::chrono::steady_clock::now();
        pool.run([&](int ith, int nth) {
            int64_t b, e;
            split_range(static_cast<int64_t>(n_words), ith, nth, &b, &e);
            sums[ith % 64] = sum_words(buf + b, static_cast<size_t>(e - b));
        });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (uint64_t s : sums) sink = sink + s;
        best = std::max(best, static_cast<double>(n_words * sizeof(uint64_t)) / seconds / 1e9);
    }
    std::free(buf);
    return best;
}

}  // namespace duet::kernels
