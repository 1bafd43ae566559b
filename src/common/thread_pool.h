// thread_pool.h: a fixed pool of spinning workers for per-op parallelism (the ith/nth split of ggml).
//
// run(fn) calls fn(ith, nth) on every thread (the caller is thread 0) and returns when all are done.
// Workers spin briefly on an atomic generation counter before sleeping, so one op's fork/join costs
// microseconds; a decode step runs a few hundred ops. No allocation per call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace duet {

class ThreadPool {
public:
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int n_threads() const { return n_threads_; }

    // Calls fn(ith, nth) for ith in [0, nth) in parallel; fn must not throw.
    template <typename F>
    void run(F&& fn) {
        run_erased(&invoke<std::remove_reference_t<F>>, static_cast<void*>(&fn));
    }

private:
    using Trampoline = void (*)(void* ctx, int ith, int nth);
    template <typename F>
    static void invoke(void* ctx, int ith, int nth) {
        (*static_cast<F*>(ctx))(ith, nth);
    }
    void run_erased(Trampoline fn, void* ctx);
    void worker_main(int ith);

    int n_threads_;
    std::vector<std::thread> workers_;
    Trampoline fn_ = nullptr;
    void* ctx_ = nullptr;
    alignas(64) std::atomic<uint64_t> generation_{0};
    alignas(64) std::atomic<int> n_pending_{0};
    std::atomic<bool> stop_{false};
    std::atomic<int> n_sleeping_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
};

// Split [0, n) into nth nearly equal contiguous chunks; returns [begin, end) of chunk ith.
inline void split_range(int64_t n, int ith, int nth, int64_t* begin, int64_t* end) {
    const int64_t per = (n + nth - 1) / nth;
    *begin = std::min<int64_t>(n, per * ith);
    *end = std::min<int64_t>(n, *begin + per);
}

}  // namespace duet
