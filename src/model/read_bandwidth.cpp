// read_bandwidth.cpp: read-bandwidth probe: each thread sums its contiguous share of a buffer.
#include "model/read_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common/assert.h"
#include "common/timer.h"

namespace duet::model {

double measure_read_bandwidth_gbs(ThreadPool* pool, size_t bytes, int reps) {
    const size_t n = bytes / sizeof(uint64_t) / 64 * 64;
    auto* data = static_cast<uint64_t*>(std::aligned_alloc(64, n * sizeof(uint64_t)));
    DUET_ASSERT(data != nullptr);
    // Touch with every thread so pages are spread like the data they will read.
    auto parallel = [&](auto&& fn) {
        if (pool == nullptr) fn(0, 1);
        else pool->run(fn);
    };
    parallel([&](int ith, int nth) {
        int64_t b = 0, e = 0;
        split_range(static_cast<int64_t>(n), ith, nth, &b, &e);
        for (int64_t i = b; i < e; ++i) data[i] = static_cast<uint64_t>(i);
    });
    std::atomic<uint64_t> sink{0};
    double best = 0.0;
    for (int r = 0; r < std::max(1, reps); ++r) {
        const double t0 = now_seconds();
        parallel([&](int ith, int nth) {
            int64_t b = 0, e = 0;
            split_range(static_cast<int64_t>(n), ith, nth, &b, &e);
            uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int64_t i = b; i + 4 <= e; i += 4) {
                s0 += data[i];
                s1 += data[i + 1];
                s2 += data[i + 2];
                s3 += data[i + 3];
            }
            sink.fetch_add(s0 + s1 + s2 + s3, std::memory_order_relaxed);
        });
        const double dt = now_seconds() - t0;
        if (dt > 0) best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / dt / 1e9);
    }
    std::free(data);
    return best;
}

}  // namespace duet::model
