// thread_pool.cpp: spinning fork/join workers; a generation counter publishes each job, a pending counter joins.
//
//   caller (ith 0)                         worker ith (1..n-1)
//   fn_, ctx_ = job; pending = n-1         spin on generation (pause), then sleep on wake_
//   ++generation; notify if any sleeping   sees new generation -> fn(ith, n) -> --pending
//   fn(0, n); spin until pending == 0
#include "common/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DUET_CPU_RELAX() _mm_pause()
#else
#define DUET_CPU_RELAX() std::this_thread::yield()
#endif

namespace duet {

namespace {
// Spin iterations (each a pause, ~tens of ns) before a worker sleeps: keeps back-to-back ops cheap without
// burning a core for long when the pool is idle.
constexpr int kSpinIterations = 1 << 14;
// Pauses the caller spins waiting for the join before it starts yielding (more threads than cores).
constexpr int kJoinSpinIterations = 1 << 12;
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    workers_.reserve(static_cast<size_t>(n_threads_ - 1));
    for (int ith = 1; ith < n_threads_; ++ith) workers_.emplace_back([this, ith] { worker_main(ith); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true, std::memory_order_seq_cst);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wake_.notify_all();
    }
    for (auto& t : workers_) t.join();
}

void ThreadPool::run_erased(Trampoline fn, void* ctx) {
    if (n_threads_ == 1) {
        fn(ctx, 0, 1);
        return;
    }
    fn_ = fn;
    ctx_ = ctx;
    n_pending_.store(n_threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);  // publishes fn_, ctx_, n_pending_
    if (n_sleeping_.load(std::memory_order_seq_cst) > 0) {
        // Taking the mutex orders the new generation with a worker's check of it; notifying after releasing it
        // spares the woken worker from blocking on it at once.
        { std::lock_guard<std::mutex> lock(mutex_); }
        wake_.notify_all();
    }
    fn(ctx, 0, n_threads_);
    int spins = 0;
    while (n_pending_.load(std::memory_order_acquire) != 0) {
        if (++spins < kJoinSpinIterations) DUET_CPU_RELAX();
        else std::this_thread::yield();  // a worker was descheduled: give the core back
    }
}

void ThreadPool::worker_main(int ith) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen = generation_.load(std::memory_order_acquire);
        for (int spins = 0; gen == seen && spins < kSpinIterations; ++spins) {
            DUET_CPU_RELAX();
            gen = generation_.load(std::memory_order_acquire);
        }
        if (gen == seen) {
            n_sleeping_.fetch_add(1, std::memory_order_seq_cst);
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
            n_sleeping_.fetch_sub(1, std::memory_order_seq_cst);
            gen = generation_.load(std::memory_order_acquire);
        }
        seen = gen;
        if (stop_.load(std::memory_order_acquire)) return;
        fn_(ctx_, ith, n_threads_);
        n_pending_.fetch_sub(1, std::memory_order_release);
    }
}

}  // namespace duet
