// pool.h: one upstream model name and its replicas (`--upstream NAME=URL[#model]`, repeated per URL): which replica
// a request goes to, each replica's circuit breaker, health checks and the counters /metrics shows.
//
//   pick:  replicas not yet tried by this request whose breaker lets a request through
//          -> affinity key set: the first of them clockwise on the hash ring from the key (a conversation's first
//             messages always land on the replica that holds its prefix cache), unless it has `affinity_spill`
//             more requests in flight than the least loaded one
//          -> else (or spilled): least outstanding requests (ties: round robin)
//
//   breaker per replica (failures: connect errors, timeouts, 5xx, streams cut; a 4xx is the client's fault):
//
//        closed --(breaker_failures in a row)--> open --(breaker_open_seconds)--> half-open: one trial request
//          ^                                      ^                                   |
//          +------------- success (or a passing health check) ------------------------+-- failure: open again
//
//   health checks (a thread, every health_interval_seconds; 0: none): GET <prefix>/v1/models on each replica;
//   a pass counts as a success, a failure as a failure (so a dead replica is fenced off before a request finds it).
//
// Thread safety: every method may be called from any thread. Includes common, registry/remote_model.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "registry/remote_model.h"

namespace duet::upstream {

struct PoolOptions {
    std::string api_key;            // sent upstream as "Authorization: Bearer ..." (--upstream-key)
    int max_attempts = 3;           // tries per request: the first plus retries (connect errors, 502/503)
    double backoff_seconds = 0.05;  // before retry k: backoff * 2^(k-1) (capped), +-20% jitter
    double backoff_max_seconds = 1.0;
    int breaker_failures = 3;            // failures in a row that open a replica's breaker
    double breaker_open_seconds = 5;     // how long it stays open before a trial request
    double health_interval_seconds = 5;  // 0: no health checks
    double connect_timeout_seconds = 3;
    double first_byte_timeout_seconds = 300;  // longest silence while reading (a slow first token included)
    int affinity_spill = 8;                   // see the diagram above
    int affinity_messages = 2;                // how many leading chat messages make the affinity key
};

struct ReplicaSpec {
    std::string url;    // http(s)://host:port[/prefix][/v1]
    std::string model;  // the model name sent upstream ("" -> the pool's name)
};

// How one try on a replica ended (metrics label, breaker input).
enum class Outcome { ok, client_error, server_error, connect_error, timeout, stream_cut, cancelled };
const char* outcome_name(Outcome outcome);
bool counts_as_failure(Outcome outcome);

enum class BreakerState { closed, open, half_open };

class Pool final : public registry::RemoteModel {
public:
    // Errors: no replicas, a URL that is not http(s)://host...
    static Result<std::shared_ptr<Pool>> create(std::string name, std::vector<ReplicaSpec> replicas,
                                                PoolOptions options);
    ~Pool() override;  // stops the health checks

    struct Replica {
        std::string url, model;
        std::string origin, prefix;  // "http://host:port" and the path in front of /v1
    };

    const std::string& name() const { return name_; }
    const PoolOptions& options() const { return options_; }
    size_t size() const { return replicas_.size(); }
    const Replica& replica(size_t i) const;

    // A replica for one try, or nullopt when none may take it (all tried, or breakers open). The replica's
    // outstanding count is raised (and its half-open trial taken) until finish(). `affinity_key` 0: none.
    std::optional<size_t> pick(uint64_t affinity_key, const std::vector<size_t>& tried);
    // Ends a try: lowers the outstanding count, feeds the breaker, counts the outcome; `first_byte_seconds` >= 0
    // when the replica answered (time from sending to its first body byte).
    void finish(size_t replica, Outcome outcome, double first_byte_seconds = -1);
    void count_retry();

    // The replica an affinity key maps to when every replica is available (for tests and logs).
    size_t ring_owner(uint64_t affinity_key) const;
    BreakerState breaker_state(size_t replica) const;
    int32_t outstanding(size_t replica) const;

    // Health checks on a thread (no-op when health_interval_seconds is 0); check_health_now() runs one round.
    void start_health_checks();
    void check_health_now();

    // Prometheus lines: duet_upstream_{requests_total,retries_total,in_flight,breaker_open,first_byte_seconds}.
    void render_metrics(std::string* out) const;

    // registry::RemoteModel
    std::string source() const override;
    bool healthy() const override;

private:
    struct ReplicaState;
    Pool(std::string name, PoolOptions options);
    bool allows(const ReplicaState& r, double now) const;    // caller holds mutex_
    void record(ReplicaState& r, bool failure, double now);  // caller holds mutex_
    void health_loop();

    std::string name_;
    PoolOptions options_;
    std::vector<std::unique_ptr<ReplicaState>> replicas_;
    std::vector<std::pair<uint64_t, size_t>> ring_;  // (point, replica), sorted
    mutable std::mutex mutex_;
    uint64_t round_robin_ = 0;
    std::atomic<uint64_t> retries_{0};
    std::thread health_thread_;
    std::condition_variable health_wake_;
    bool stopping_ = false;
};

// 64-bit hash of bytes (FNV-1a, then a splitmix64 finaliser so that nearby inputs spread over the ring).
uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0);

}  // namespace duet::upstream
