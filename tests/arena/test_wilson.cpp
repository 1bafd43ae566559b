// test_wilson.cpp: Wilson score intervals against published values (Newcombe 1998, Table I, method 3).
#include <gtest/gtest.h>

#include <cmath>

#include "arena/wilson.h"

namespace duet::arena {
namespace {

struct Known {
    double k, n, low, high;
};

TEST(Wilson, MatchesPublishedIntervals) {
    const Known cases[] = {
        {10, 12, 0.5520, 0.9530},   // 83% of 12 participants
        {81, 263, 0.2553, 0.3662},  // Newcombe's examples
        {15, 148, 0.0624, 0.1605}, {0, 20, 0.0000, 0.1611}, {1, 29, 0.0061, 0.1718},
    };
    for (const Known& c : cases) {
        const Proportion p = wilson_interval(c.k, c.n);
        EXPECT_NEAR(p.low, c.low, 5e-5) << c.k << "/" << c.n;
        EXPECT_NEAR(p.high, c.high, 5e-5) << c.k << "/" << c.n;
        EXPECT_DOUBLE_EQ(p.estimate, c.k / c.n);
    }
}

TEST(Wilson, AllSuccessesMirrorsNoSuccesses) {
    const Proportion none = wilson_interval(0, 10);
    const Proportion all = wilson_interval(10, 10);
    EXPECT_EQ(none.low, 0.0);
    EXPECT_NEAR(none.high, 0.2775, 5e-5);
    EXPECT_NEAR(all.low, 1.0 - none.high, 1e-12);
    EXPECT_EQ(all.high, 1.0);
}

TEST(Wilson, NoTrialsIsUninformativeNotNaN) {
    for (double n : {0.0, -1.0, std::nan("")}) {
        const Proportion p = wilson_interval(0, n);
        EXPECT_EQ(p.estimate, 0.0);
        EXPECT_EQ(p.low, 0.0);
        EXPECT_EQ(p.high, 1.0);
    }
}

TEST(Wilson, SuccessesAreClampedToTrials) {
    const Proportion p = wilson_interval(15, 12);
    EXPECT_EQ(p.successes, 12);
    EXPECT_EQ(p.estimate, 1.0);
    EXPECT_EQ(p.high, 1.0);
}

TEST(Wilson, FractionalSuccessesLieBetweenNeighbours) {
    const Proportion a = wilson_interval(5, 10), b = wilson_interval(5.5, 10), c = wilson_interval(6, 10);
    EXPECT_LT(a.low, b.low);
    EXPECT_LT(b.low, c.low);
}

}  // namespace
}  // namespace duet::arena
