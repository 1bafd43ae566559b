// residency.h: which local models are in memory: pure bookkeeping (no threads, no clock, no I/O) of load on
// demand: each model's state, the memory budget (weights + KV reserve), least-recently-used eviction, keep_alive
// expiry and in-flight protection. Registry (registry.h) drives it under its mutex and does the loading itself;
// tests drive it with made-up sizes and times.
//
//                 want(): fits, or idle LRU models evicted     load_finished(ok)
//    unloaded ──────────────────────────────────────► loading ─────────────────► loaded ◄──┐ acquire / release
//       ▲  ▲                                             │                        │ │     │ (in_flight, last_used)
//       │  └─────────────────────────────────────────────┘                        │ └─────┘
//       │        load_finished(failed): error kept, the next want() retries        │
//       │                                                                          │ expire(now): idle past keep_alive
//       │              unload_finished()                                           │ want() of another: LRU eviction
//       └───────────────────────────────────── unloading ◄─────────────────────────┘   (both only when idle: no
//                                                                                        request in flight or waiting)
//
// Memory counted against the budget: every model loading, loaded or unloading (its memory is not free until the
// unload finished). want() on an unloaded model answers:
//   load      it fits (after evicting `evict`, now unloading: the caller unloads them, then loads this one)
//   ready     it is loaded: acquire() it now
//   wait      it is loading or unloading, or the budget is held by busy models: ask again after the next change
//   too_big   it needs more than the whole budget: it can never load
// keep_alive: seconds a loaded model stays after its last request ends (< 0: forever; 0: unload at once). A
// request may set it for the rest of this load (release(keep_alive)), like Ollama's keep_alive field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace duet::registry {

enum class Residency { unloaded, loading, loaded, unloading };
const char* residency_name(Residency state);  // "unloaded", "loading", "loaded", "unloading"

struct ResidentModel {
    std::string name;
    Residency state = Residency::unloaded;
    size_t need_bytes = 0;                      // weights + KV reserve (an estimate until the first load)
    double keep_alive_seconds = -1;             // the model's own (< 0: forever)
    std::optional<double> keep_alive_override;  // the last request's keep_alive, until this load ends
    int32_t in_flight = 0;                      // leases held (requests running on it)
    int32_t waiting = 0;                        // requests waiting for it (it is not expired or evicted meanwhile)
    double last_used = 0;                       // when the last lease ended (or the load finished)
    bool last_load_failed = false;
};

class ResidencyPlanner {
public:
    explicit ResidencyPlanner(size_t budget_bytes = 0);  // 0: no budget (nothing is ever evicted for room)

    size_t add(std::string name, size_t need_bytes, double keep_alive_seconds);  // -> its index; state unloaded
    // While unloaded or loading: a better estimate of its memory.
    void set_need(size_t i, size_t need_bytes);

    enum class Verdict { ready, load, wait, too_big };
    struct Plan {
        Verdict verdict = Verdict::wait;
        std::vector<size_t> evict;  // with load: models now unloading, least recently used first
    };
    Plan want(size_t i);
    // Start-up preload: unloaded -> loading without a budget check (the caller checks the sum).
    void begin_load(size_t i);

    // A request starts / stops waiting for model i: while any waits, a freshly loaded model is neither expired nor
    // evicted before the request can acquire() it (keep_alive 0, or two models taking turns in a small budget).
    void add_waiter(size_t i);
    void remove_waiter(size_t i);
    void acquire(size_t i);  // loaded: one more request runs on it
    void release(size_t i, double now, std::optional<double> keep_alive = std::nullopt);
    void load_finished(size_t i, bool ok, size_t actual_bytes, double now);
    void unload_finished(size_t i);

    // Idle loaded models whose keep_alive ran out by `now`: now unloading (the caller unloads them).
    std::vector<size_t> expire(double now);
    // The earliest time an idle loaded model expires (nullopt: none will).
    std::optional<double> next_expiry() const;
    // Asks to unload an idle loaded model now (an operator's request); false when busy or not loaded.
    bool begin_unload(size_t i);

    size_t used_bytes() const;  // loading + loaded + unloading
    size_t budget_bytes() const { return budget_bytes_; }
    size_t size() const { return models_.size(); }
    const ResidentModel& model(size_t i) const { return models_[i]; }

private:
    static bool idle_loaded(const ResidentModel& m) {
        return m.state == Residency::loaded && m.in_flight == 0 && m.waiting == 0;
    }
    double keep_alive(const ResidentModel& m) const {
        return m.keep_alive_override ? *m.keep_alive_override : m.keep_alive_seconds;
    }

    size_t budget_bytes_;
    std::vector<ResidentModel> models_;
};

}  // namespace duet::registry
