// test_residency.cpp: the residency planner alone (no threads, no clock): LRU eviction under a budget, busy and
// waited-for models kept, too big, keep_alive expiry (the model's, a request's, forever), failed loads retried.
#include <gtest/gtest.h>

#include "registry/residency.h"

namespace duet::test {
namespace {

using registry::Residency;
using registry::ResidencyPlanner;
using Verdict = ResidencyPlanner::Verdict;

// Loads model i at time `now` (it must fit without evictions).
void load(ResidencyPlanner& p, size_t i, double now) {
    const auto plan = p.want(i);
    ASSERT_EQ(plan.verdict, Verdict::load);
    ASSERT_TRUE(plan.evict.empty());
    p.load_finished(i, true, 0, now);
}

// One request on model i from `start` to `end`.
void use(ResidencyPlanner& p, size_t i, double end) {
    ASSERT_EQ(p.want(i).verdict, Verdict::ready);
    p.acquire(i);
    p.release(i, end);
}

TEST(Residency, EvictsTheLeastRecentlyUsedIdleModelsUntilTheNewOneFits) {
    ResidencyPlanner p(100);
    const size_t a = p.add("a", 40, -1), b = p.add("b", 40, -1), c = p.add("c", 40, -1);
    load(p, a, 1);
    load(p, b, 2);
    use(p, a, 3);  // a is now the more recently used
    EXPECT_EQ(p.used_bytes(), 80u);
    auto plan = p.want(c);
    ASSERT_EQ(plan.verdict, Verdict::load);
    ASSERT_EQ(plan.evict, std::vector<size_t>{b});
    EXPECT_EQ(p.model(b).state, Residency::unloading);
    EXPECT_EQ(p.model(c).state, Residency::loading);
    EXPECT_EQ(p.used_bytes(), 120u) << "b's memory counts until its unload finished";
    p.unload_finished(b);
    p.load_finished(c, true, 0, 4);
    EXPECT_EQ(p.used_bytes(), 80u);
    EXPECT_EQ(p.model(a).state, Residency::loaded);
    EXPECT_EQ(p.model(b).state, Residency::unloaded);
}

TEST(Residency, EvictsSeveralWhenOneIsNotEnoughAndMeasuredSizesCount) {
    ResidencyPlanner p(100);
    const size_t a = p.add("a", 30, -1), b = p.add("b", 30, -1), big = p.add("big", 90, -1);
    load(p, a, 1);
    load(p, b, 2);
    auto plan = p.want(big);
    ASSERT_EQ(plan.verdict, Verdict::load);
    EXPECT_EQ(plan.evict, (std::vector<size_t>{a, b}));
    p.unload_finished(a);
    p.unload_finished(b);
    p.load_finished(big, true, 95, 3);  // measured on load
    EXPECT_EQ(p.model(big).need_bytes, 95u);
    EXPECT_EQ(p.used_bytes(), 95u);
}

TEST(Residency, NeverEvictsAModelWithRequestsInFlightOrWaitedFor) {
    ResidencyPlanner p(100);
    const size_t a = p.add("a", 60, -1), b = p.add("b", 60, -1);
    load(p, a, 1);
    p.acquire(a);  // a request runs on a
    auto plan = p.want(b);
    EXPECT_EQ(plan.verdict, Verdict::wait);
    EXPECT_TRUE(plan.evict.empty());
    EXPECT_EQ(p.model(a).state, Residency::loaded);
    EXPECT_EQ(p.model(b).state, Residency::unloaded);
    p.release(a, 2);
    p.add_waiter(a);  // a request is about to take a (it just loaded for it)
    EXPECT_EQ(p.want(b).verdict, Verdict::wait);
    EXPECT_TRUE(p.expire(1e9).empty());
    p.remove_waiter(a);
    plan = p.want(b);
    ASSERT_EQ(plan.verdict, Verdict::load);
    EXPECT_EQ(plan.evict, std::vector<size_t>{a});
}

TEST(Residency, AModelBiggerThanTheWholeBudgetCanNeverLoad) {
    ResidencyPlanner p(100);
    const size_t huge = p.add("huge", 101, -1);
    EXPECT_EQ(p.want(huge).verdict, Verdict::too_big);
    EXPECT_EQ(p.model(huge).state, Residency::unloaded);
    ResidencyPlanner unlimited(0);
    const size_t h = unlimited.add("huge", size_t{1} << 40, -1);
    EXPECT_EQ(unlimited.want(h).verdict, Verdict::load);
}

TEST(Residency, LoadingAndUnloadingModelsAreWaitedFor) {
    ResidencyPlanner p(100);
    const size_t a = p.add("a", 10, -1);
    ASSERT_EQ(p.want(a).verdict, Verdict::load);
    EXPECT_EQ(p.want(a).verdict, Verdict::wait) << "a second request waits for the same load";
    p.load_finished(a, true, 0, 1);
    ASSERT_TRUE(p.begin_unload(a));
    EXPECT_EQ(p.want(a).verdict, Verdict::wait);
    p.unload_finished(a);
    EXPECT_EQ(p.want(a).verdict, Verdict::load);
}

TEST(Residency, KeepAliveExpiresIdleModelsOnly) {
    ResidencyPlanner p(0);
    const size_t a = p.add("a", 10, 60), forever = p.add("forever", 10, -1);
    load(p, a, 0);
    load(p, forever, 0);
    p.acquire(a);
    EXPECT_TRUE(p.expire(1000).empty()) << "in flight";
    p.release(a, 100);
    EXPECT_EQ(p.next_expiry(), 160.0);
    EXPECT_TRUE(p.expire(159.9).empty());
    EXPECT_EQ(p.expire(160), std::vector<size_t>{a});
    EXPECT_EQ(p.model(a).state, Residency::unloading);
    p.unload_finished(a);
    EXPECT_EQ(p.model(forever).state, Residency::loaded);
    EXPECT_FALSE(p.next_expiry().has_value()) << "forever never expires";
}

TEST(Residency, ARequestsKeepAliveHoldsForTheRestOfThisLoad) {
    ResidencyPlanner p(0);
    const size_t a = p.add("a", 10, 300);
    load(p, a, 0);
    p.acquire(a);
    p.release(a, 10, 0.0);  // keep_alive 0: unload as soon as idle
    EXPECT_EQ(p.expire(10), std::vector<size_t>{a});
    p.unload_finished(a);
    load(p, a, 20);  // a new load: the model's own 300 s again
    EXPECT_TRUE(p.expire(319).empty());
    EXPECT_EQ(p.expire(320), std::vector<size_t>{a});
    p.unload_finished(a);
    load(p, a, 400);
    p.acquire(a);
    p.release(a, 400, -1.0);  // forever
    EXPECT_TRUE(p.expire(1e12).empty());
}

TEST(Residency, AFailedLoadFreesItsMemoryAndTheNextRequestTriesAgain) {
    ResidencyPlanner p(100);
    const size_t a = p.add("a", 60, -1);
    ASSERT_EQ(p.want(a).verdict, Verdict::load);
    p.load_finished(a, false, 0, 1);
    EXPECT_EQ(p.model(a).state, Residency::unloaded);
    EXPECT_TRUE(p.model(a).last_load_failed);
    EXPECT_EQ(p.used_bytes(), 0u);
    ASSERT_EQ(p.want(a).verdict, Verdict::load);
    p.load_finished(a, true, 0, 2);
    EXPECT_FALSE(p.model(a).last_load_failed);
}

}  // namespace
}  // namespace duet::test
