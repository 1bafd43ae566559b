// scratch.h: helpers the forward passes (forward.cpp, encoder.cpp) share: aligned scratch reservations and a
// parallel loop over the thread pool. Includes common only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/assert.h"
#include "common/thread_pool.h"

namespace duet::model {

// Reserve n elements, 64-byte aligned (free with std::free). Large reservations are mmap-backed by malloc:
// pages cost memory only once written, so sizing for the largest batch is free until such a batch runs.
template <typename T>
T* reserve(size_t n) {
    const size_t bytes = std::max<size_t>(64, (n * sizeof(T) + 63) / 64 * 64);
    void* p = std::aligned_alloc(64, bytes);
    DUET_ASSERT(p != nullptr);
    return static_cast<T*>(p);
}

// fn(begin, end, ith) over [0, n) split across the pool (or inline when there is none).
template <typename F>
void parallel_for(ThreadPool* pool, int64_t n, F&& fn) {
    if (pool == nullptr || pool->n_threads() == 1 || n <= 1) {
        fn(int64_t{0}, n, 0);
        return;
    }
    pool->run([&](int ith, int nth) {
        int64_t begin = 0, end = 0;
        split_range(n, ith, nth, &begin, &end);
        if (begin < end) fn(begin, end, ith);
    });
}

}  // namespace duet::model
