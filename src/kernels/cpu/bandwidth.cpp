// bandwidth.cpp: the read-bandwidth probe: every method of this CPU over per-thread buffers, best run wins.
#include "kernels/cpu/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/huge_pages.h"
#include "common/thread_pool.h"

namespace duet::kernels {

namespace {

constexpr size_t kChunk = 256;           // bytes every method reads per loop step; buffers are multiples
constexpr size_t kPrefetchAhead = 4096;  // bytes between the prefetch and the load it serves

using SumFn = uint64_t (*)(const unsigned char* p, size_t bytes);

// Plain 64-bit adds, 8 accumulators: what the compiler makes of a simple loop for the baseline ISA.
uint64_t sum_scalar(const unsigned char* p, size_t bytes) {
    const auto* w = reinterpret_cast<const uint64_t*>(p);
    const size_t n = bytes / sizeof(uint64_t);
    uint64_t a[8] = {};
    for (size_t i = 0; i < n; i += 8)
        for (int k = 0; k < 8; ++k) a[k] += w[i + k];
    uint64_t s = 0;
    for (uint64_t v : a) s += v;
    return s;
}

#if defined(__x86_64__)

// 256-bit loads, 4 accumulators, 256 bytes per step; Prefetch: one prefetchnta per 64-byte line, kPrefetchAhead on.
template <bool Prefetch>
__attribute__((target("avx2"))) uint64_t sum_avx2(const unsigned char* p, size_t bytes) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < bytes; i += kChunk) {
        const unsigned char* q = p + i;
        if constexpr (Prefetch)
            for (size_t line = 0; line < kChunk; line += 64)
                _mm_prefetch(reinterpret_cast<const char*>(q + kPrefetchAhead + line), _MM_HINT_NTA);
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(q)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 96)));
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 128)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 160)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 192)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 224)));
    }
    const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

// 512-bit loads, 4 accumulators, 256 bytes per step (one load per cache line).
template <bool Prefetch>
__attribute__((target("avx512f"))) uint64_t sum_avx512(const unsigned char* p, size_t bytes) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < bytes; i += kChunk) {
        const unsigned char* q = p + i;
        if constexpr (Prefetch)
            for (size_t line = 0; line < kChunk; line += 64)
                _mm_prefetch(reinterpret_cast<const char*>(q + kPrefetchAhead + line), _MM_HINT_NTA);
        a0 = _mm512_add_epi64(a0, _mm512_load_si512(q));
        a1 = _mm512_add_epi64(a1, _mm512_load_si512(q + 64));
        a2 = _mm512_add_epi64(a2, _mm512_load_si512(q + 128));
        a3 = _mm512_add_epi64(a3, _mm512_load_si512(q + 192));
    }
    alignas(64) uint64_t lanes[8];
    _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
    uint64_t s = 0;
    for (uint64_t v : lanes) s += v;
    return s;
}

#endif

struct Method {
    const char* name;
    SumFn fn;
};

std::vector<Method> methods_for_this_cpu() {
    std::vector<Method> m = {{"scalar 8x8B", &sum_scalar}};
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) {
        m.push_back({"avx2 4x32B", &sum_avx2<false>});
        m.push_back({"avx2 4x32B + prefetchnta", &sum_avx2<true>});
    }
    if (__builtin_cpu_supports("avx512f")) {
        m.push_back({"avx512 4x64B", &sum_avx512<false>});
        m.push_back({"avx512 4x64B + prefetchnta", &sum_avx512<true>});
    }
#endif
    return m;
}

}  // namespace

std::vector<std::string> read_bandwidth_methods() {
    std::vector<std::string> names;
    for (const Method& m : methods_for_this_cpu()) names.emplace_back(m.name);
    return names;
}

ReadBandwidth measure_read_bandwidth(int n_threads, size_t bytes, int runs) {
    n_threads = std::max(1, n_threads);
    runs = std::max(1, runs);
    // Per thread: a multiple of kChunk, at least 1 MiB.
    const size_t per_thread = std::max<size_t>(bytes / static_cast<size_t>(n_threads) / kChunk * kChunk, 1 << 20);
    // The prefetching methods read up to kPrefetchAhead past the end: allocate that much more.
    const size_t alloc_bytes = huge_page_bytes(per_thread + kPrefetchAhead);  // on huge pages: common/huge_pages.h
    const std::vector<Method> methods = methods_for_this_cpu();

    ThreadPool pool(n_threads);
    std::vector<unsigned char*> buffers(static_cast<size_t>(n_threads), nullptr);
    // Each thread allocates and first-touches its own buffer (its own pages, NUMA-local), with non-zero data.
    pool.run([&](int ith, int) {
        auto* buf = static_cast<unsigned char*>(alloc_huge_pages(alloc_bytes));
        if (!buf) return;
        auto* w = reinterpret_cast<uint64_t*>(buf);
        for (size_t i = 0; i < alloc_bytes / sizeof(uint64_t); ++i) w[i] = (i + 1) * 0x9E3779B97F4A7C15ull;
        buffers[static_cast<size_t>(ith)] = buf;
    });
    ReadBandwidth best;
    if (std::all_of(buffers.begin(), buffers.end(), [](unsigned char* b) { return b != nullptr; })) {
        volatile uint64_t sink = 0;
        for (int run = 0; run < runs; ++run)
            for (const Method& m : methods) {
                uint64_t sums[256] = {};
                const auto t0 = std::chrono::steady_clock::now();
                pool.run([&](int ith, int) { sums[ith % 256] = m.fn(buffers[static_cast<size_t>(ith)], per_thread); });
                const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                for (uint64_t s : sums) sink = sink + s;
                const double gbs = static_cast<double>(per_thread) * n_threads / seconds / 1e9;
                if (gbs > best.gbs) best = {gbs, m.name};
            }
    }
    for (unsigned char* b : buffers) std::free(b);
    return best;
}

double measure_read_bandwidth_gbs(int n_threads, size_t bytes) { return measure_read_bandwidth(n_threads, bytes).gbs; }

}  // namespace duet::kernels
