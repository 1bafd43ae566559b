// pool.cpp: Pool: replica choice (hash ring, least outstanding), circuit breakers, health checks, counters.
#include "upstream/pool.h"

#include <httplib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "common/log.h"
#include "common/strformat.h"
#include "common/timer.h"

namespace duet::upstream {

namespace {

constexpr int kRingPointsPerReplica = 64;
constexpr std::array<double, 12> kFirstByteBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1,    2.5,   10};
constexpr int kOutcomes = 7;

// http(s)://host[:port][/prefix][/v1][/] -> origin, prefix.
Status split_url(const std::string& url, std::string* origin, std::string* prefix) {
    std::string u = url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    if (u.size() >= 3 && u.compare(u.size() - 3, 3, "/v1") == 0) u.resize(u.size() - 3);
    const size_t scheme = u.rfind("http://", 0) == 0 ? 7 : u.rfind("https://", 0) == 0 ? 8 : 0;
    if (scheme == 0)
        return Status::invalid_argument("upstream URL '%s' does not start with http:// or https://", url.c_str());
    const size_t slash = u.find('/', scheme);
    *origin = u.substr(0, slash);
    *prefix = slash == std::string::npos ? "" : u.substr(slash);
    if (origin->size() == scheme) return Status::invalid_argument("upstream URL '%s' has no host", url.c_str());
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
    if (scheme == 8)
        return Status::invalid_argument("upstream URL '%s': https needs httplib with OpenSSL", url.c_str());
#endif
    return Status::ok_status();
}

}  // namespace

struct Pool::ReplicaState {
    Replica spec;
    int32_t outstanding = 0;
    BreakerState breaker = BreakerState::closed;
    int failures_in_a_row = 0;
    double open_until = 0;
    bool trial_in_flight = false;
    std::array<uint64_t, kOutcomes> outcomes{};
    std::array<uint64_t, kFirstByteBounds.size() + 1> first_byte_buckets{};
    double first_byte_sum = 0;
    uint64_t first_byte_count = 0;
};

const char* outcome_name(Outcome outcome) {
    switch (outcome) {
        case Outcome::ok:
            return "ok";
        case Outcome::client_error:
            return "client_error";
        case Outcome::server_error:
            return "server_error";
        case Outcome::connect_error:
            return "connect_error";
        case Outcome::timeout:
            return "timeout";
        case Outcome::stream_cut:
            return "stream_cut";
        case Outcome::cancelled:
            return "cancelled";
    }
    return "ok";
}

bool counts_as_failure(Outcome outcome) {
    return outcome == Outcome::server_error || outcome == Outcome::connect_error || outcome == Outcome::timeout ||
           outcome == Outcome::stream_cut;
}

uint64_t hash_bytes(std::string_view bytes, uint64_t seed) {
    uint64_t h = 14695981039346656037ull ^ seed;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 1099511628211ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

Pool::Pool(std::string name, PoolOptions options) : name_(std::move(name)), options_(std::move(options)) {}

Result<std::shared_ptr<Pool>> Pool::create(std::string name, std::vector<ReplicaSpec> replicas, PoolOptions options) {
    if (name.empty()) return Status::invalid_argument("upstream: a model needs a name");
    if (replicas.empty()) return Status::invalid_argument("upstream '%s': no URL", name.c_str());
    if (options.max_attempts < 1) options.max_attempts = 1;
    if (options.breaker_failures < 1) options.breaker_failures = 1;
    std::shared_ptr<Pool> pool(new Pool(std::move(name), std::move(options)));
    for (auto& spec : replicas) {
        auto state = std::make_unique<ReplicaState>();
        state->spec.url = spec.url;
        state->spec.model = spec.model.empty() ? pool->name_ : spec.model;
        if (Status st = split_url(spec.url, &state->spec.origin, &state->spec.prefix); !st.ok())
            return st.with_context("upstream '" + pool->name_ + "': ");
        for (const auto& other : pool->replicas_)
            if (other->spec.url == spec.url)
                return Status::invalid_argument("upstream '%s': URL '%s' given twice", pool->name_.c_str(),
                                                spec.url.c_str());
        pool->replicas_.push_back(std::move(state));
    }
    for (size_t i = 0; i < pool->replicas_.size(); ++i)
        for (int k = 0; k < kRingPointsPerReplica; ++k)
            pool->ring_.emplace_back(hash_bytes(pool->replicas_[i]->spec.url, static_cast<uint64_t>(k) + 1), i);
    std::sort(pool->ring_.begin(), pool->ring_.end());
    return pool;
}

Pool::~Pool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    health_wake_.notify_all();
    if (health_thread_.joinable()) health_thread_.join();
}

bool Pool::allows(const ReplicaState& r, double now) const {
    switch (r.breaker) {
        case BreakerState::closed:
            return true;
        case BreakerState::open:
            return now >= r.open_until;  // becomes a half-open trial when picked
        case BreakerState::half_open:
            return !r.trial_in_flight;
    }
    return false;
}

void Pool::record(ReplicaState& r, bool failure, double now) {
    if (!failure) {
        if (r.breaker != BreakerState::closed)
            DUET_LOG_INFO("upstream %s: %s is back (breaker closed)", name_.c_str(), r.spec.url.c_str());
        r.failures_in_a_row = 0;
        r.breaker = BreakerState::closed;
        return;
    }
    ++r.failures_in_a_row;
    const bool trip = r.breaker == BreakerState::half_open || r.failures_in_a_row >= options_.breaker_failures;
    if (trip && !(r.breaker == BreakerState::open && now < r.open_until)) {
        if (r.breaker == BreakerState::closed)
            DUET_LOG_WARN("upstream %s: %s failed %d times in a row: breaker open for %.1f s", name_.c_str(),
                          r.spec.url.c_str(), r.failures_in_a_row, options_.breaker_open_seconds);
        r.breaker = BreakerState::open;
        r.open_until = now + options_.breaker_open_seconds;
    }
}

std::optional<size_t> Pool::pick(uint64_t affinity_key, const std::vector<size_t>& tried) {
    const double now = now_seconds();
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t n = replicas_.size();
    std::vector<bool> usable(n);
    bool any = false;
    int32_t least = INT32_MAX;
    for (size_t i = 0; i < n; ++i) {
        usable[i] = allows(*replicas_[i], now) && std::find(tried.begin(), tried.end(), i) == tried.end();
        if (usable[i]) least = std::min(least, replicas_[i]->outstanding);
        any = any || usable[i];
    }
    if (!any) return std::nullopt;
    std::optional<size_t> chosen;
    if (affinity_key != 0) {
        auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(affinity_key, size_t{0}));
        for (size_t step = 0; step < ring_.size() && !chosen; ++step, ++it) {
            if (it == ring_.end()) it = ring_.begin();
            if (usable[it->second]) chosen = it->second;
        }
        if (chosen && replicas_[*chosen]->outstanding >= least + options_.affinity_spill) chosen.reset();
    }
    if (!chosen) {
        const size_t start = static_cast<size_t>(round_robin_++ % n);
        for (size_t k = 0; k < n; ++k) {
            const size_t i = (start + k) % n;
            if (usable[i] && replicas_[i]->outstanding == least) {
                chosen = i;
                break;
            }
        }
    }
    ReplicaState& r = *replicas_[*chosen];
    if (r.breaker == BreakerState::open) r.breaker = BreakerState::half_open;
    if (r.breaker == BreakerState::half_open) r.trial_in_flight = true;
    ++r.outstanding;
    return chosen;
}

void Pool::finish(size_t replica, Outcome outcome, double first_byte_seconds) {
    const double now = now_seconds();
    std::lock_guard<std::mutex> lock(mutex_);
    ReplicaState& r = *replicas_[replica];
    --r.outstanding;
    const bool was_trial = r.breaker == BreakerState::half_open && r.trial_in_flight;
    if (was_trial) r.trial_in_flight = false;
    ++r.outcomes[static_cast<size_t>(outcome)];
    if (first_byte_seconds >= 0) {
        size_t b = 0;
        while (b < kFirstByteBounds.size() && first_byte_seconds > kFirstByteBounds[b]) ++b;
        ++r.first_byte_buckets[b];
        r.first_byte_sum += first_byte_seconds;
        ++r.first_byte_count;
    }
    if (outcome == Outcome::cancelled || outcome == Outcome::client_error) {
        if (was_trial) record(r, false, now);  // the replica answered: it is up
        return;
    }
    record(r, counts_as_failure(outcome), now);
}

const Pool::Replica& Pool::replica(size_t i) const { return replicas_[i]->spec; }

void Pool::count_retry() { retries_.fetch_add(1); }

size_t Pool::ring_owner(uint64_t affinity_key) const {
    auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(affinity_key, size_t{0}));
    return it == ring_.end() ? ring_.front().second : it->second;
}

BreakerState Pool::breaker_state(size_t replica) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return replicas_[replica]->breaker;
}

int32_t Pool::outstanding(size_t replica) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return replicas_[replica]->outstanding;
}

void Pool::check_health_now() {
    for (auto& replica : replicas_) {
        const Replica& spec = replica->spec;
        httplib::Client client(spec.origin);
        const double timeout = std::max(0.1, options_.connect_timeout_seconds);
        client.set_connection_timeout(static_cast<time_t>(timeout), static_cast<time_t>(std::fmod(timeout, 1) * 1e6));
        client.set_read_timeout(static_cast<time_t>(timeout), static_cast<time_t>(std::fmod(timeout, 1) * 1e6));
        httplib::Headers headers;
        if (!options_.api_key.empty()) headers.emplace("Authorization", "Bearer " + options_.api_key);
        auto res = client.Get(spec.prefix + "/v1/models", headers);
        const bool passed = res && res->status == 200;
        std::lock_guard<std::mutex> lock(mutex_);
        ReplicaState& r = *replica;
        if (!passed && r.breaker == BreakerState::closed)
            DUET_LOG_WARN("upstream %s: health check of %s failed (%s)", name_.c_str(), spec.url.c_str(),
                          res ? strformat("HTTP %d", res->status).c_str() : httplib::to_string(res.error()).c_str());
        if (passed && r.trial_in_flight) continue;  // a trial request decides
        record(r, !passed, now_seconds());
    }
}

void Pool::start_health_checks() {
    if (options_.health_interval_seconds <= 0 || health_thread_.joinable()) return;
    health_thread_ = std::thread([this] { health_loop(); });
}

void Pool::health_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        health_wake_.wait_for(lock, std::chrono::duration<double>(options_.health_interval_seconds),
                              [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        check_health_now();
        lock.lock();
    }
}

std::string Pool::source() const {
    std::string out;
    for (const auto& r : replicas_) out += (out.empty() ? "" : ", ") + r->spec.url;
    return out;
}

bool Pool::healthy() const {
    const double now = now_seconds();
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& r : replicas_)
        if (allows(*r, now)) return true;
    return false;
}

void Pool::render_metrics(std::string* out) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& r : replicas_) {
        const std::string labels = strformat("model_name=\"%s\",upstream=\"%s\"", name_.c_str(), r->spec.url.c_str());
        for (int o = 0; o < kOutcomes; ++o)
            *out += strformat("duet_upstream_requests_total{%s,outcome=\"%s\"} %llu\n", labels.c_str(),
                              outcome_name(static_cast<Outcome>(o)),
                              static_cast<unsigned long long>(r->outcomes[static_cast<size_t>(o)]));
        *out += strformat("duet_upstream_in_flight{%s} %d\n", labels.c_str(), r->outstanding);
        *out += strformat("duet_upstream_breaker_open{%s} %d\n", labels.c_str(),
                          r->breaker == BreakerState::closed ? 0 : 1);
        uint64_t cumulative = 0;
        for (size_t b = 0; b < r->first_byte_buckets.size(); ++b) {
            cumulative += r->first_byte_buckets[b];
            const std::string le = b < kFirstByteBounds.size() ? strformat("%g", kFirstByteBounds[b]) : "+Inf";
            *out += strformat("duet_upstream_first_byte_seconds_bucket{%s,le=\"%s\"} %llu\n", labels.c_str(),
                              le.c_str(), static_cast<unsigned long long>(cumulative));
        }
        *out += strformat("duet_upstream_first_byte_seconds_sum{%s} %.6f\n", labels.c_str(), r->first_byte_sum);
        *out += strformat("duet_upstream_first_byte_seconds_count{%s} %llu\n", labels.c_str(),
                          static_cast<unsigned long long>(r->first_byte_count));
    }
    *out += strformat("duet_upstream_retries_total{model_name=\"%s\"} %llu\n", name_.c_str(),
                      static_cast<unsigned long long>(retries_.load()));
}

}  // namespace duet::upstream
