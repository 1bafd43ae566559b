// tail_split.h: units of work [0, n) split into one contiguous share per thread, with stealing at the tail.
//
// A static split ends when its slowest thread does: in a decode step the two halves of a matmul read the same
// bytes, yet one core gets less of the memory bandwidth and the other waits for it at the join (~5% of a decode
// step on 2 threads of Zen 5). Here each thread still walks its own share front to back (one stream, prefetched
// ahead), claiming a quarter of what is left at a time, and a thread whose share is empty takes pieces from the
// back of the others':
//
//     thread 0's share                          thread 1's share
//     [front ->  claimed | left |  <- back ]    [front ->  claimed | left | <- back ]
//                                 ^ thread 1 steals here once its own share is done
//
// Each share is one 64-bit word (front, back) changed by compare-and-swap, so a unit is claimed exactly once.
// Pieces are never smaller than min_chunk units (unless that is all that is left). No allocation.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "common/assert.h"

namespace duet {

class TailSplit {
public:
    static constexpr int kMaxThreads = 64;

    // n units, nth threads (1..kMaxThreads), pieces of at least min_chunk (>= 1) units.
    TailSplit(int64_t n, int nth, int64_t min_chunk) : nth_(nth), min_chunk_(std::max<int64_t>(1, min_chunk)) {
        DUET_ASSERT(nth >= 1 && nth <= kMaxThreads && n >= 0 && n < (int64_t{1} << 32));
        for (int i = 0; i < nth; ++i) {
            const uint64_t begin = static_cast<uint64_t>(n * i / nth), end = static_cast<uint64_t>(n * (i + 1) / nth);
            shares_[i].front_back.store(begin | end << 32, std::memory_order_relaxed);
        }
    }

    // The next piece [*begin, *end) for thread ith: from the front of its own share, else from the back of another
    // thread's (in turn from ith + 1). False when no unit is left anywhere.
    bool next(int ith, int64_t* begin, int64_t* end) {
        if (claim(ith, /*from_front=*/true, begin, end)) return true;
        for (int k = 1; k < nth_; ++k)
            if (claim((ith + k) % nth_, /*from_front=*/false, begin, end)) return true;
        return false;
    }

private:
    bool claim(int share, bool from_front, int64_t* begin, int64_t* end) {
        std::atomic<uint64_t>& word = shares_[share].front_back;
        uint64_t cur = word.load(std::memory_order_relaxed);
        for (;;) {
            const uint64_t front = cur & 0xffffffffu, back = cur >> 32;
            if (front >= back) return false;
            const uint64_t take = std::min<uint64_t>(back - front, std::max<uint64_t>(min_chunk_, (back - front) / 4));
            const uint64_t next = from_front ? (front + take) | back << 32 : front | (back - take) << 32;
            if (word.compare_exchange_weak(cur, next, std::memory_order_relaxed)) {
                *begin = static_cast<int64_t>(from_front ? front : back - take);
                *end = *begin + static_cast<int64_t>(take);
                return true;
            }
        }
    }

    struct alignas(64) Share {
        std::atomic<uint64_t> front_back{0};  // front in the low 32 bits, back in the high 32
    };
    int nth_;
    uint64_t min_chunk_;
    Share shares_[kMaxThreads];
};

}  // namespace duet
