// test_bandwidth.cpp: the read-bandwidth probe runs and returns a plausible figure (no timing assertions).
#include <gtest/gtest.h>

#include "kernels/cpu/bandwidth.h"

namespace duet {
namespace {

TEST(Bandwidth, ProbeReturnsAPositiveFiniteRate) {
    for (int n_threads : {1, 2}) {
        const double gbs = kernels::measure_read_bandwidth_gbs(n_threads, size_t{16} << 20);
        EXPECT_GT(gbs, 0.1) << n_threads;
        EXPECT_LT(gbs, 1e5) << n_threads;  // 100 TB/s: a broken timer, not a machine
    }
}

}  // namespace
}  // namespace duet
