// registry_core.h: what a Registry and its Leases share (internal to src/registry): the entries, the residency
// planner, the loader's job queue and the clock, under one mutex. Leases keep it alive, so a Lease released after
// its Registry is gone still finds its bookkeeping.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "registry/registry.h"
#include "registry/residency.h"

namespace duet::registry {

struct RegistryCore {
    struct LoadJob {
        size_t index;               // planner index of the model to load
        std::vector<size_t> evict;  // planner indices to unload first (already marked unloading)
    };

    LoadSettings settings;
    std::mutex mutex;
    std::condition_variable changed;  // any residency change, a job, a release, stopping
    std::vector<std::shared_ptr<ModelEntry>> entries;
    std::vector<ModelEntry*> by_index;  // planner index -> entry
    ResidencyPlanner planner;
    std::function<double()> clock;
    bool background_expiry = true;
    std::deque<LoadJob> jobs;
    bool stopping = false;
    bool loader_started = false;

    explicit RegistryCore(LoadSettings s) : settings(std::move(s)), planner(settings.memory_budget_bytes) {}
    double now() const { return clock(); }
};

// The KV reserve of an on-demand entry and so its memory estimate (under the mutex), decided once.
void decide_share(RegistryCore& core, ModelEntry& entry);

// Bytes of memory this process can still use: MemAvailable, lowered by a cgroup v2 limit; 0 if unknown.
size_t available_memory_bytes();

}  // namespace duet::registry
