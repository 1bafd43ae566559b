// test_thread_pool.cpp: every (ith, nth) runs exactly once per call, across many calls and pool sizes.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "common/thread_pool.h"

namespace duet {
namespace {

TEST(ThreadPool, EveryIndexRunsExactlyOncePerCall) {
    for (int n_threads = 1; n_threads <= 4; ++n_threads) {
        ThreadPool pool(n_threads);
        ASSERT_EQ(pool.n_threads(), n_threads);
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n_threads));
        constexpr int kCalls = 300;
        for (int call = 0; call < kCalls; ++call) {
            std::atomic<int> bad_nth{0};
            pool.run([&](int ith, int nth) {
                if (nth != n_threads) bad_nth.fetch_add(1);
                hits[static_cast<size_t>(ith)].fetch_add(1);
            });
            ASSERT_EQ(bad_nth.load(), 0);
            for (int i = 0; i < n_threads; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), call + 1) << i;
        }
    }
}

TEST(ThreadPool, ResultsAreVisibleAfterRunReturns) {
    ThreadPool pool(3);
    std::vector<int64_t> out(1000);
    for (int round = 0; round < 200; ++round) {
        pool.run([&](int ith, int nth) {
            int64_t begin, end;
            split_range(static_cast<int64_t>(out.size()), ith, nth, &begin, &end);
            for (int64_t i = begin; i < end; ++i) out[static_cast<size_t>(i)] = i * round;
        });
        for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], static_cast<int64_t>(i) * round);
    }
}

TEST(ThreadPool, WakesAfterWorkersFellAsleep) {
    ThreadPool pool(2);
    std::atomic<int> count{0};
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));  // longer than the spin phase
        pool.run([&](int, int) { count.fetch_add(1); });
    }
    EXPECT_EQ(count.load(), 6);
}

TEST(ThreadPool, SplitRangeCoversEverythingOnce) {
    for (int64_t n : {0, 1, 7, 64, 1001}) {
        for (int nth = 1; nth <= 5; ++nth) {
            int64_t covered = 0, prev_end = 0;
            for (int ith = 0; ith < nth; ++ith) {
                int64_t b, e;
                split_range(n, ith, nth, &b, &e);
                EXPECT_EQ(b, prev_end);
                EXPECT_LE(b, e);
                covered += e - b;
                prev_end = e;
            }
            EXPECT_EQ(covered, n);
        }
    }
}

}  // namespace
}  // namespace duet
