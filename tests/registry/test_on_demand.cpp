// test_on_demand.cpp: Registry load on demand with fake backends and a fake clock: a request waits for the load
// and gets the model, a load timeout is a 503-style unavailable, LRU eviction under a small budget, in-flight
// protection, keep_alive expiry (the model's and a request's), failed loads, health, residency counters, and a
// real GGUF (stories260K) loaded, unloaded and loaded again.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "registry/fake_serving.h"
#include "registry/registry.h"
#include "support/fixtures.h"

namespace duet::test {
namespace {

using registry::ModelOptions;
using registry::ModelState;
using registry::Registry;
using registry::Residency;

// What a fake backend does and what happened to it. open() may be held at a gate until the test opens it.
struct Fake {
    size_t file_bytes = 1000;
    bool gated = false;
    Status open_error;
    std::mutex mutex;
    std::condition_variable cv;
    bool gate_open = false, in_open = false;
    int opens = 0, starts = 0, closes = 0;
    size_t given_kv = 0;

    void open_gate() {
        std::lock_guard<std::mutex> lock(mutex);
        gate_open = true;
        cv.notify_all();
    }
    void wait_in_open() {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return in_open; });
    }
};

class FakeBackend final : public registry::ModelBackend {
public:
    explicit FakeBackend(Fake* fake) : fake_(fake) {}
    std::string source() const override { return "fake.gguf"; }
    Result<size_t> open(const registry::LoadSettings&) override {
        std::unique_lock<std::mutex> lock(fake_->mutex);
        ++fake_->opens;
        fake_->in_open = true;
        fake_->cv.notify_all();
        if (fake_->gated) fake_->cv.wait(lock, [&] { return fake_->gate_open; });
        fake_->in_open = false;
        if (!fake_->open_error.ok()) return fake_->open_error;
        return size_t{100};  // KV bytes per block
    }
    size_t weight_bytes() const override { return fake_->file_bytes; }
    Result<registry::Serving> start(const registry::LoadSettings&, size_t kv) override {
        std::lock_guard<std::mutex> lock(fake_->mutex);
        ++fake_->starts;
        fake_->given_kv = kv;
        registry::Serving s;
        s.engine = std::make_shared<IdleEngine>();
        s.codec = std::make_shared<NullCodec>();
        s.context_length = 64;
        return s;
    }
    void close() override {
        std::lock_guard<std::mutex> lock(fake_->mutex);
        ++fake_->closes;
    }
    size_t file_bytes() const override { return fake_->file_bytes; }

private:
    Fake* fake_;
};

ModelOptions lazy(double keep_alive = -1, size_t kv = 500) {
    ModelOptions o;
    o.preload = false;
    o.keep_alive_seconds = keep_alive;
    o.kv_memory_bytes = kv;
    return o;
}

registry::LoadSettings budget(size_t bytes) {
    registry::LoadSettings s;
    s.memory_budget_bytes = bytes;
    return s;
}

struct Clock {
    double now = 1000;
    std::function<double()> fn() {
        return [this] { return now; };
    }
};

registry::ResidencyInfo info(const Registry& r, const std::string& name) {
    for (const auto& i : r.residency())
        if (i.name == name) return i;
    return {};
}

TEST(OnDemand, ALazyModelLoadsOnItsFirstRequestAndStaysWhileLeased) {
    Fake a;
    Registry r;
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy()).ok());
    ASSERT_TRUE(r.load_all().ok()) << "nothing to preload";
    EXPECT_EQ(r.entries()[0]->state(), ModelState::unloaded);
    EXPECT_EQ(a.opens, 0);
    EXPECT_TRUE(r.health("a").ok()) << "unloaded but loadable";
    {
        auto lease = r.acquire("a", 30);
        ASSERT_TRUE(lease.ok()) << lease.status().message();
        ASSERT_NE(lease->serving(), nullptr);
        EXPECT_EQ(lease->serving()->engine->context_length(), 64);
        EXPECT_EQ(r.entries()[0]->state(), ModelState::ready);
        EXPECT_EQ(info(r, "a").in_flight, 1);
        EXPECT_EQ(a.given_kv, 500u);
        EXPECT_EQ(info(r, "a").memory_bytes, 1500u) << "weights + KV reserve";
    }
    EXPECT_EQ(info(r, "a").in_flight, 0);
    EXPECT_EQ(info(r, "a").loads, 1);
    EXPECT_EQ(a.opens, 1);
    auto again = r.acquire("", 0);  // the default, already loaded: no wait needed
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(a.opens, 1);
    EXPECT_EQ(r.acquire("nope", 1).status().code(), StatusCode::not_found);
}

TEST(OnDemand, ARequestDuringTheLoadWaitsAndGetsTheModel) {
    Fake a;
    a.gated = true;
    Registry r;
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy()).ok());
    auto first = std::async(std::launch::async, [&] { return r.acquire("a", 600); });
    a.wait_in_open();  // the loader is inside open(): the model is loading
    EXPECT_EQ(r.entries()[0]->state(), ModelState::loading);
    EXPECT_EQ(info(r, "a").state, Residency::loading);
    EXPECT_TRUE(r.health("a").ok());
    auto second = std::async(std::launch::async, [&] { return r.acquire("a", 600); });
    a.open_gate();
    auto one = first.get();
    auto two = second.get();
    ASSERT_TRUE(one.ok()) << one.status().message();
    ASSERT_TRUE(two.ok()) << two.status().message();
    EXPECT_EQ(one->serving(), two->serving()) << "one load for both";
    EXPECT_EQ(a.opens, 1);
    EXPECT_EQ(info(r, "a").in_flight, 2);
}

TEST(OnDemand, ALoadThatOutlastsTheTimeoutIsUnavailableAndLaterServes) {
    Fake a;
    a.gated = true;
    Registry r;
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy()).ok());
    auto late = r.acquire("a", 0);  // timeout 0: answer at once
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.status().code(), StatusCode::unavailable);
    EXPECT_NE(late.status().message().find("load timeout"), std::string::npos) << late.status().message();
    a.wait_in_open();
    a.open_gate();
    auto lease = r.acquire("a", 600);
    ASSERT_TRUE(lease.ok()) << lease.status().message();
    EXPECT_EQ(a.opens, 1) << "the timed-out request's load went on";
}

TEST(OnDemand, LeastRecentlyUsedModelsAreEvictedWhenTheBudgetIsFull) {
    Fake a, b, c;
    Clock clock;
    Registry r(budget(3500));  // each takes 1000 + 500: two fit
    r.set_clock(clock.fn());
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy()).ok());
    ASSERT_TRUE(r.add("b", std::make_unique<FakeBackend>(&b), lazy()).ok());
    ASSERT_TRUE(r.add("c", std::make_unique<FakeBackend>(&c), lazy()).ok());
    ASSERT_TRUE(r.acquire("a", 60).ok());
    clock.now += 1;
    ASSERT_TRUE(r.acquire("b", 60).ok());
    clock.now += 1;
    ASSERT_TRUE(r.acquire("a", 60).ok());  // a used last: b is the least recently used
    clock.now += 1;
    ASSERT_TRUE(r.acquire("c", 60).ok());
    EXPECT_EQ(info(r, "a").state, Residency::loaded);
    EXPECT_EQ(info(r, "b").state, Residency::unloaded);
    EXPECT_EQ(info(r, "c").state, Residency::loaded);
    EXPECT_EQ(info(r, "b").evictions, 1);
    EXPECT_EQ(info(r, "b").unloads, 1);
    EXPECT_EQ(b.closes, 1);
    EXPECT_EQ(r.memory_used_bytes(), 3000u);
    EXPECT_EQ(r.memory_budget_bytes(), 3500u);
}

TEST(OnDemand, TheDefaultKvReserveFitsTheBudget) {
    // No kv_memory anywhere: the reserve is a share of the memory available (hundreds of MiB at least), which
    // alone would exceed a small budget; it is capped to an equal share of the budget after the weights.
    Fake a, b, big;
    big.file_bytes = 7000;
    registry::LoadSettings s = budget(10000);
    s.kv_memory_bytes = 0;
    Registry r(s);
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy(-1, 0)).ok());
    ASSERT_TRUE(r.add("b", std::make_unique<FakeBackend>(&b), lazy(-1, 0)).ok());
    ASSERT_TRUE(r.add("big", std::make_unique<FakeBackend>(&big), lazy(-1, 0)).ok());
    ASSERT_TRUE(r.acquire("a", 60).ok());
    ASSERT_TRUE(r.acquire("b", 60).ok());
    EXPECT_EQ(a.given_kv, 10000u / 3 - 1000);  // three local models: a third of the budget each, less the weights
    EXPECT_EQ(info(r, "a").state, Residency::loaded);
    EXPECT_EQ(info(r, "b").state, Residency::loaded);
    auto lease = r.acquire("big", 60);  // weights over its share: it gets what the budget leaves and runs alone
    ASSERT_TRUE(lease.ok()) << lease.status().message();
    EXPECT_EQ(big.given_kv, 3000u);
    EXPECT_EQ(info(r, "a").state, Residency::unloaded);
    EXPECT_EQ(info(r, "b").state, Residency::unloaded);
}

TEST(OnDemand, AModelWithARequestInFlightIsNeverEvicted) {
    Fake a, b;
    Registry r(budget(2000));  // one at a time
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy()).ok());
    ASSERT_TRUE(r.add("b", std::make_unique<FakeBackend>(&b), lazy()).ok());
    auto running = r.acquire("a", 60);
    ASSERT_TRUE(running.ok());
    auto blocked = r.acquire("b", 0);
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.status().code(), StatusCode::unavailable);
    EXPECT_NE(blocked.status().message().find("waiting for memory"), std::string::npos) << blocked.status().message();
    EXPECT_EQ(info(r, "a").state, Residency::loaded);
    EXPECT_EQ(a.closes, 0);
    // A request for b waits; when a's request ends, a is evicted and b loads.
    auto waiting = std::async(std::launch::async, [&] { return r.acquire("b", 600); });
    running = Result<registry::Lease>(registry::Lease());  // the request on a ends
    auto got = waiting.get();
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(info(r, "a").state, Residency::unloaded);
    EXPECT_EQ(info(r, "a").evictions, 1);
    EXPECT_EQ(info(r, "b").state, Residency::loaded);
}

TEST(OnDemand, TooBigForTheBudgetIsUnavailableAndUnhealthy) {
    Fake a;
    a.file_bytes = 5000;
    Registry r(budget(2000));
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy()).ok());
    auto lease = r.acquire("a", 600);
    ASSERT_FALSE(lease.ok());
    EXPECT_NE(lease.status().message().find("more than the whole memory budget"), std::string::npos)
        << lease.status().message();
    const Status health = r.health("a");
    EXPECT_EQ(health.code(), StatusCode::unavailable);
    EXPECT_NE(health.message().find("budget"), std::string::npos) << health.message();
    EXPECT_EQ(a.opens, 0);
}

TEST(OnDemand, KeepAliveUnloadsIdleModelsOnTheInjectedClock) {
    Fake a, pinned;
    Clock clock;
    Registry r;
    r.set_clock(clock.fn());
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy(/*keep_alive=*/60)).ok());
    ASSERT_TRUE(r.add("pinned", std::make_unique<FakeBackend>(&pinned), lazy(/*keep_alive=*/-1)).ok());
    {
        auto lease = r.acquire("a", 60);
        ASSERT_TRUE(lease.ok());
        ASSERT_TRUE(r.acquire("pinned", 60).ok());
        clock.now += 1000;
        EXPECT_EQ(r.unload_expired(), 0u) << "a request is in flight";
        clock.now = 2000;
    }  // a's request ends at 2000
    clock.now = 2059;
    EXPECT_EQ(r.unload_expired(), 0u);
    EXPECT_EQ(r.entries()[0]->state(), ModelState::ready);
    clock.now = 2060;
    EXPECT_EQ(r.unload_expired(), 1u);
    EXPECT_EQ(r.entries()[0]->state(), ModelState::unloaded);
    EXPECT_EQ(r.entries()[0]->serving(), nullptr);
    EXPECT_EQ(a.closes, 1);
    EXPECT_EQ(info(r, "a").unloads, 1);
    EXPECT_EQ(info(r, "a").evictions, 0);
    clock.now = 1e9;
    EXPECT_EQ(r.unload_expired(), 0u) << "keep_alive -1: forever";
    EXPECT_EQ(r.entries()[1]->state(), ModelState::ready);
    // The next request loads it again.
    ASSERT_TRUE(r.acquire("a", 60).ok());
    EXPECT_EQ(a.opens, 2);
}

TEST(OnDemand, ARequestsKeepAliveZeroUnloadsAsSoonAsItEnds) {
    Fake a;
    Clock clock;
    Registry r;
    r.set_clock(clock.fn());
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy(/*keep_alive=*/300)).ok());
    ASSERT_TRUE(r.acquire("a", 60, /*keep_alive=*/0.0).ok());  // the lease ends here
    EXPECT_EQ(r.unload_expired(), 1u);
    EXPECT_EQ(info(r, "a").state, Residency::unloaded);
}

TEST(OnDemand, AFailedLoadIsReportedWithItsReasonAndRetriedByTheNextRequest) {
    Fake a;
    a.open_error = Status::invalid_data("bad magic");
    Registry r;
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), lazy()).ok());
    auto lease = r.acquire("a", 600);
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.status().code(), StatusCode::unavailable);
    EXPECT_NE(lease.status().message().find("bad magic"), std::string::npos) << lease.status().message();
    EXPECT_NE(lease.status().message().find("fake.gguf"), std::string::npos) << lease.status().message();
    EXPECT_NE(r.health("a").message().find("bad magic"), std::string::npos);
    EXPECT_EQ(info(r, "a").load_failures, 1);
    EXPECT_EQ(r.memory_used_bytes(), 0u);
    a.open_error = Status::ok_status();
    ASSERT_TRUE(r.acquire("a", 600).ok());
    EXPECT_TRUE(r.health("a").ok());
}

TEST(OnDemand, PreloadedModelsOverTheBudgetFailAtStart) {
    Fake a, b;
    Registry r(budget(2000));
    ModelOptions preload = lazy();
    preload.preload = true;
    ASSERT_TRUE(r.add("a", std::make_unique<FakeBackend>(&a), preload).ok());
    ASSERT_TRUE(r.add("b", std::make_unique<FakeBackend>(&b), preload).ok());
    const Status st = r.load_all();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("memory budget"), std::string::npos) << st.message();
    EXPECT_EQ(a.opens, 0);
}

TEST(OnDemand, ARealGgufUnloadsAndLoadsAgain) {
    DUET_REQUIRE_FIXTURES();
    Clock clock;
    registry::LoadSettings settings;
    settings.kv_memory_bytes = size_t{1} << 20;
    settings.engine.n_threads = 1;
    Registry r(settings);
    r.set_clock(clock.fn());
    ASSERT_TRUE(r.add_gguf("stories", fixture("stories260K/stories260K.gguf"), lazy(/*keep_alive=*/10, 0)).ok());
    EXPECT_TRUE(r.entries()[0]->capabilities().chat) << "declared before the first load";
    for (int round = 0; round < 2; ++round) {
        {
            auto lease = r.acquire("stories", 600);
            ASSERT_TRUE(lease.ok()) << lease.status().message();
            EXPECT_FALSE(lease->serving()->codec->encode("Once upon a time", true, false).empty());
            EXPECT_GT(lease->serving()->engine->context_length(), 0);
        }
        clock.now += 10;
        EXPECT_EQ(r.unload_expired(), 1u);
        EXPECT_EQ(r.entries()[0]->state(), ModelState::unloaded);
    }
    EXPECT_EQ(info(r, "stories").loads, 2);
    EXPECT_GT(info(r, "stories").memory_bytes, size_t{1} << 20) << "weights + 1 MiB of KV";
}

}  // namespace
}  // namespace duet::test
