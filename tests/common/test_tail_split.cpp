// test_tail_split.cpp: every unit is claimed exactly once, owners walk their share front to back, and a thread
// with nothing left takes the back of another's share.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/tail_split.h"
#include "common/thread_pool.h"

namespace duet {
namespace {

struct Piece {
    int64_t begin, end;
};

TEST(TailSplit, OneThreadWalksEverythingInOrderInShrinkingPieces) {
    TailSplit split(100, 1, 4);
    std::vector<Piece> pieces;
    int64_t b, e;
    while (split.next(0, &b, &e)) pieces.push_back({b, e});
    ASSERT_FALSE(pieces.empty());
    int64_t at = 0;
    for (const Piece& p : pieces) {
        EXPECT_EQ(p.begin, at);
        EXPECT_GE(p.end - p.begin, std::min<int64_t>(4, 100 - at));  // min_chunk, unless less is left
        EXPECT_LE(p.end - p.begin, std::max<int64_t>(4, (100 - at) / 4));
        at = p.end;
    }
    EXPECT_EQ(at, 100);
    EXPECT_EQ(pieces.front().end, 25);  // a quarter of the share first
    EXPECT_FALSE(split.next(0, &b, &e));
}

TEST(TailSplit, AThreadWithAnEmptyShareStealsTheBackOfAnother) {
    TailSplit split(100, 2, 5);  // shares [0, 50) and [50, 100)
    int64_t b, e;
    int64_t own = 0;
    while (split.next(1, &b, &e) && b >= 50) own += e - b;
    EXPECT_EQ(own, 50);
    // the first piece outside its share: the back of thread 0's
    EXPECT_EQ(e, 50);
    EXPECT_EQ(b, 50 - 50 / 4);
    // thread 0 still starts at its front, and the two never overlap
    int64_t b0, e0;
    ASSERT_TRUE(split.next(0, &b0, &e0));
    EXPECT_EQ(b0, 0);
    std::vector<int> hits(100, 0);
    for (int64_t u = 50; u < 100; ++u) ++hits[u];
    for (int64_t u = b; u < e; ++u) ++hits[u];
    for (int64_t u = b0; u < e0; ++u) ++hits[u];
    for (int turn = 0; split.next(turn % 2, &b, &e); ++turn)
        for (int64_t u = b; u < e; ++u) ++hits[u];
    for (int64_t u = 0; u < 100; ++u) EXPECT_EQ(hits[u], 1) << u;
}

TEST(TailSplit, EveryUnitIsClaimedExactlyOnceUnderContention) {
    for (int n_threads : {2, 3, 4}) {
        ThreadPool pool(n_threads);
        for (int64_t n : {0, 1, 7, 64, 1000, 9497}) {
            for (int64_t min_chunk : {1, 3, 64}) {
                std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                TailSplit split(n, n_threads, min_chunk);
                pool.run([&](int ith, int) {
                    int64_t b, e;
                    while (split.next(ith, &b, &e)) {
                        // make one thread slow so that the others steal from it
                        if (ith == 0) std::this_thread::yield();
                        for (int64_t u = b; u < e; ++u) hits[static_cast<size_t>(u)].fetch_add(1);
                    }
                });
                for (int64_t u = 0; u < n; ++u)
                    ASSERT_EQ(hits[static_cast<size_t>(u)].load(), 1)
                        << "unit " << u << " of " << n << ", " << n_threads << " threads, min_chunk " << min_chunk;
            }
        }
    }
}

}  // namespace
}  // namespace duet
