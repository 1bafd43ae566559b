// test_pool.cpp: replica choice (hash ring, least outstanding, spill), the circuit breaker, affinity keys and
// --upstream parsing, without any network.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "fake_upstream.h"
#include "upstream/proxy.h"
#include "upstream/upstream_args.h"

namespace duet::test {
namespace {

using upstream::BreakerState;
using upstream::Outcome;

std::shared_ptr<upstream::Pool> three_replicas(upstream::PoolOptions options = test_pool_options()) {
    return make_pool("m", {"http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1", "http://127.0.0.1:3"}, options);
}

json chat(const std::string& system, const std::string& first, const std::vector<std::string>& more = {}) {
    json messages = json::array({{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", first}}});
    for (const auto& m : more) messages.push_back({{"role", "user"}, {"content", m}});
    return {{"model", "m"}, {"messages", messages}};
}

TEST(UpstreamPool, AffinityKeyDependsOnTheFirstMessagesOnly) {
    const uint64_t a = upstream::affinity_key(chat("be brief", "hello"), 2);
    EXPECT_NE(a, 0u);
    EXPECT_EQ(upstream::affinity_key(chat("be brief", "hello", {"and then?", "more"}), 2), a);
    EXPECT_NE(upstream::affinity_key(chat("be brief", "hello there"), 2), a);
    EXPECT_NE(upstream::affinity_key(chat("be long", "hello"), 2), a);
    EXPECT_EQ(upstream::affinity_key(json{{"model", "m"}}, 2), 0u);
    const uint64_t p = upstream::affinity_key(json{{"prompt", "Once upon a time"}}, 2);
    EXPECT_NE(p, 0u);
    EXPECT_NE(upstream::affinity_key(json{{"prompt", "Once upon a time, again"}}, 2), p);
}

TEST(UpstreamPool, SameKeyGoesToTheSameReplicaAndKeysSpreadOverAll) {
    auto pool = three_replicas();
    std::map<size_t, int> per_replica;
    for (int c = 0; c < 300; ++c) {
        const uint64_t key = upstream::affinity_key(chat("sys", "conversation " + std::to_string(c)), 2);
        auto first = pool->pick(key, {});
        ASSERT_TRUE(first);
        EXPECT_EQ(*first, pool->ring_owner(key));
        pool->finish(*first, Outcome::ok);
        for (int turn = 0; turn < 3; ++turn) {
            auto again = pool->pick(key, {});
            ASSERT_TRUE(again);
            EXPECT_EQ(*again, *first) << "conversation " << c << " moved";
            pool->finish(*again, Outcome::ok);
        }
        ++per_replica[*first];
    }
    ASSERT_EQ(per_replica.size(), 3u);
    for (auto [replica, n] : per_replica) EXPECT_GT(n, 40) << "replica " << replica << " got " << n << " of 300";
}

TEST(UpstreamPool, WithoutAKeyLeastOutstandingWins) {
    auto pool = three_replicas();
    std::set<size_t> busy;
    for (int i = 0; i < 3; ++i) {
        auto r = pool->pick(0, {});
        ASSERT_TRUE(r);
        busy.insert(*r);
    }
    EXPECT_EQ(busy.size(), 3u) << "three requests in flight should sit on three replicas";
    pool->finish(1, Outcome::ok);
    auto next = pool->pick(0, {});
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, 1u) << "replica 1 is the only one with nothing in flight";
    EXPECT_EQ(pool->outstanding(0), 1);
    EXPECT_EQ(pool->outstanding(1), 1);
}

TEST(UpstreamPool, AnOverloadedAffinityReplicaSpills) {
    upstream::PoolOptions options = test_pool_options();
    options.affinity_spill = 2;
    auto pool = three_replicas(options);
    const uint64_t key = upstream::affinity_key(chat("sys", "hot conversation"), 2);
    const size_t owner = pool->ring_owner(key);
    EXPECT_EQ(*pool->pick(key, {}), owner);
    EXPECT_EQ(*pool->pick(key, {}), owner);  // 1 in flight vs 0 elsewhere: below the spill
    auto third = pool->pick(key, {});        // 2 in flight vs 0: spills to the least loaded
    ASSERT_TRUE(third);
    EXPECT_NE(*third, owner);
}

TEST(UpstreamPool, TriedReplicasAreSkipped) {
    auto pool = three_replicas();
    const uint64_t key = upstream::affinity_key(chat("sys", "x"), 2);
    const size_t owner = pool->ring_owner(key);
    auto other = pool->pick(key, {owner});
    ASSERT_TRUE(other);
    EXPECT_NE(*other, owner);
    EXPECT_FALSE(pool->pick(key, {0, 1, 2}));
}

TEST(UpstreamPool, BreakerOpensAfterFailuresInARowAndSkipsTheReplica) {
    upstream::PoolOptions options = test_pool_options();
    options.breaker_failures = 3;
    auto pool = make_pool("m", {"http://127.0.0.1:1"}, options);
    for (int i = 0; i < 2; ++i) {
        pool->finish(*pool->pick(0, {}), Outcome::connect_error);
        EXPECT_EQ(pool->breaker_state(0), BreakerState::closed);
    }
    pool->finish(*pool->pick(0, {}), Outcome::ok);  // a success resets the count
    for (int i = 0; i < 2; ++i) pool->finish(*pool->pick(0, {}), Outcome::server_error);
    EXPECT_EQ(pool->breaker_state(0), BreakerState::closed);
    pool->finish(*pool->pick(0, {}), Outcome::timeout);
    EXPECT_EQ(pool->breaker_state(0), BreakerState::open);
    EXPECT_FALSE(pool->pick(0, {})) << "an open breaker takes no requests";
    EXPECT_FALSE(pool->healthy());
}

TEST(UpstreamPool, ClientErrorsDoNotOpenTheBreaker) {
    upstream::PoolOptions options = test_pool_options();
    options.breaker_failures = 1;
    auto pool = make_pool("m", {"http://127.0.0.1:1"}, options);
    for (int i = 0; i < 5; ++i) pool->finish(*pool->pick(0, {}), Outcome::client_error);
    EXPECT_EQ(pool->breaker_state(0), BreakerState::closed);
}

TEST(UpstreamPool, HalfOpenLetsOneTrialThroughAndItsOutcomeDecides) {
    upstream::PoolOptions options = test_pool_options();
    options.breaker_failures = 1;
    options.breaker_open_seconds = 0;  // the cool-down is over at once: the next pick is the trial
    auto pool = make_pool("m", {"http://127.0.0.1:1"}, options);
    pool->finish(*pool->pick(0, {}), Outcome::connect_error);
    EXPECT_EQ(pool->breaker_state(0), BreakerState::open);
    auto trial = pool->pick(0, {});
    ASSERT_TRUE(trial);
    EXPECT_EQ(pool->breaker_state(0), BreakerState::half_open);
    EXPECT_FALSE(pool->pick(0, {})) << "one trial at a time";
    pool->finish(*trial, Outcome::connect_error);
    EXPECT_EQ(pool->breaker_state(0), BreakerState::open);
    trial = pool->pick(0, {});
    ASSERT_TRUE(trial);
    pool->finish(*trial, Outcome::ok);
    EXPECT_EQ(pool->breaker_state(0), BreakerState::closed);
    EXPECT_TRUE(pool->pick(0, {}));
    EXPECT_TRUE(pool->pick(0, {})) << "closed again: any number in flight";
}

TEST(UpstreamPool, HealthChecksFenceOffADeadReplicaAndBringItBack) {
    FakeUpstream alive;
    upstream::PoolOptions options = test_pool_options();
    options.breaker_failures = 2;
    options.connect_timeout_seconds = 1;
    auto pool = make_pool("m", {alive.url(), "http://127.0.0.1:" + std::to_string(refused_port()) + "/v1"}, options);
    pool->check_health_now();
    pool->check_health_now();
    EXPECT_EQ(pool->breaker_state(0), BreakerState::closed);
    EXPECT_EQ(pool->breaker_state(1), BreakerState::open) << "two failed checks in a row";
    EXPECT_EQ(alive.health_checks.load(), 2);
    for (int i = 0; i < 4; ++i) {
        auto r = pool->pick(0, {});
        ASSERT_TRUE(r);
        EXPECT_EQ(*r, 0u);
        pool->finish(*r, Outcome::ok);
    }
}

TEST(UpstreamArgs, NameUrlAndModel) {
    std::vector<upstream::UpstreamSpec> specs;
    ASSERT_TRUE(upstream::add_upstream_arg("big=http://gpu1:8000/v1#meta-llama/Llama-3-8B", &specs).ok());
    ASSERT_TRUE(upstream::add_upstream_arg("big=http://gpu2:8000/v1#meta-llama/Llama-3-8B", &specs).ok());
    ASSERT_TRUE(upstream::add_upstream_arg("other=https://example.org", &specs).ok());
    ASSERT_EQ(specs.size(), 2u);
    EXPECT_EQ(specs[0].name, "big");
    ASSERT_EQ(specs[0].replicas.size(), 2u);
    EXPECT_EQ(specs[0].replicas[1].url, "http://gpu2:8000/v1");
    EXPECT_EQ(specs[0].replicas[1].model, "meta-llama/Llama-3-8B");
    EXPECT_EQ(specs[1].replicas[0].model, "");
    for (const char* bad : {"noequals", "=http://x", "x=", "x=ftp://host", "x=http://host#"}) {
        const Status st = upstream::add_upstream_arg(bad, &specs);
        EXPECT_FALSE(st.ok()) << bad;
        EXPECT_NE(st.message().find(bad), std::string::npos) << st.message();
    }
    EXPECT_FALSE(upstream::Pool::create("m", {{"http://a/v1", ""}, {"http://a/v1", ""}}, {}).ok()) << "same URL twice";
}

}  // namespace
}  // namespace duet::test
