// registry_on_demand.cpp: load on demand: acquire() and its Lease, the loader thread (loads, LRU evictions,
// keep_alive expiry), health and residency. The decisions are ResidencyPlanner's (residency.h); this file turns
// them into open/start/stop/close calls, made with the mutex released.
#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "common/strformat.h"
#include "engine/engine.h"
#include "registry/registry.h"
#include "registry/registry_core.h"

namespace duet::registry {

namespace {

constexpr double kMaxWaitSliceSeconds = 0.1;  // waiters re-read the (maybe injected) clock at least this often
constexpr double kLoaderIdleSeconds = 1.0;    // the loader's longest sleep with nothing due

std::string bytes_text(size_t bytes) { return format_bytes(static_cast<double>(bytes)); }

}  // namespace

// ---- Lease -----------------------------------------------------------------------------------------------------

Lease::~Lease() { release(); }

Lease::Lease(Lease&& other) noexcept { *this = std::move(other); }

Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        core_ = std::move(other.core_);
        entry_ = std::move(other.entry_);
        serving_ = std::move(other.serving_);
        index_ = other.index_;
        keep_alive_ = other.keep_alive_;
        other.core_.reset();
    }
    return *this;
}

void Lease::release() {
    if (!core_) return;
    {
        std::lock_guard<std::mutex> lock(core_->mutex);
        core_->planner.release(index_, core_->now(), keep_alive_);
    }
    core_->changed.notify_all();  // waiters for room, and the loader (keep_alive 0 unloads at once)
    core_.reset();
}

// ---- Registry: acquire -----------------------------------------------------------------------------------------

void Registry::set_clock(std::function<double()> clock) {
    std::lock_guard<std::mutex> lock(core_->mutex);
    core_->clock = std::move(clock);
    core_->background_expiry = false;
}

// The KV reserve of an on-demand entry and so its memory estimate (under the mutex), once.
void decide_share(RegistryCore& core, ModelEntry& entry) {
    if (entry.share_decided_) return;
    size_t reserve = 0;
    if (entry.backend_->needs_kv()) {
        size_t n_local = 0;
        for (const auto& e : core.entries)
            if (e->on_demand() && e->backend_->needs_kv()) ++n_local;
        n_local = std::max<size_t>(n_local, 1);
        const LoadSettings& s = core.settings;
        if (entry.options().kv_memory_bytes > 0) reserve = entry.options().kv_memory_bytes;
        else if (s.kv_memory_bytes > 0) reserve = s.kv_memory_bytes / n_local;
        else {
            const size_t file = entry.backend_->file_bytes();
            reserve = engine::default_kv_memory(available_memory_bytes(), file) / n_local;
            // The default must fit a budget too: an equal share of it after the weights, else (weights over the
            // share) what the whole budget leaves after them, so the model can at least run alone.
            const size_t budget = s.memory_budget_bytes, budget_share = budget / n_local;
            if (budget > 0 && budget_share > file) reserve = std::min(reserve, budget_share - file);
            else if (budget > file) reserve = std::min(reserve, budget - file);
        }
    }
    entry.kv_share_ = reserve;
    entry.share_decided_ = true;
    core.planner.set_need(static_cast<size_t>(entry.planner_index_), entry.backend_->file_bytes() + reserve);
}

Result<Lease> Registry::acquire(std::string_view name, double timeout_seconds, std::optional<double> keep_alive) {
    std::unique_lock<std::mutex> lock(core_->mutex);
    if (core_->entries.empty()) return Status::unavailable("no model is loaded yet");
    std::shared_ptr<ModelEntry> entry;
    if (name.empty()) entry = core_->entries.front();
    for (const auto& e : core_->entries)
        if (!name.empty() && e->name() == name) entry = e;
    if (!entry) return Status::not_found("model '%.*s' does not exist", static_cast<int>(name.size()), name.data());

    Lease lease;
    lease.entry_ = entry;
    if (!entry->on_demand()) {  // remote, or built elsewhere: ready for good
        if (!entry->ready()) return Status::unavailable("model '%s' is not ready", entry->name().c_str());
        lease.serving_ = entry->serving();
        return lease;
    }
    const size_t i = static_cast<size_t>(entry->planner_index_);
    const double deadline = core_->now() + std::max(timeout_seconds, 0.0);
    const int64_t failures_before = entry->load_failures_;
    bool asked_load = false;
    core_->planner.add_waiter(i);
    struct StopWaiting {
        ResidencyPlanner& planner;
        size_t i;
        ~StopWaiting() { planner.remove_waiter(i); }  // the lock is held at every return below
    } stop_waiting{core_->planner, i};
    for (;;) {
        if (core_->stopping) return Status::unavailable("the server is shutting down");
        // A load this request waited for failed: its reason (the next request tries again).
        if (asked_load && entry->load_failures_ != failures_before)
            return Status::unavailable("%s", entry->error().c_str());
        decide_share(*core_, *entry);
        ResidencyPlanner::Plan plan = core_->planner.want(i);
        if (plan.verdict == ResidencyPlanner::Verdict::ready) {
            core_->planner.acquire(i);
            lease.core_ = core_;
            lease.index_ = i;
            lease.keep_alive_ = keep_alive;
            lease.serving_ = entry->serving();
            return lease;
        }
        if (plan.verdict == ResidencyPlanner::Verdict::too_big)
            return Status::unavailable(
                "model '%s' needs %s (weights + KV reserve), more than the whole memory budget of %s",
                entry->name().c_str(), bytes_text(core_->planner.model(i).need_bytes).c_str(),
                bytes_text(core_->planner.budget_bytes()).c_str());
        if (plan.verdict == ResidencyPlanner::Verdict::load) {
            entry->set_state(ModelState::loading);
            for (size_t k : plan.evict) core_->by_index[k]->set_state(ModelState::unloading);
            core_->jobs.push_back({i, std::move(plan.evict)});
            ensure_loader();
            core_->changed.notify_all();
        }
        const Residency state = core_->planner.model(i).state;
        if (state == Residency::loading) asked_load = true;
        const double remaining = deadline - core_->now();
        if (remaining <= 0) {
            if (state == Residency::unloaded)
                return Status::unavailable(
                    "model '%s' is waiting for memory: the budget of %s is held by models with requests in flight "
                    "(retry later)",
                    entry->name().c_str(), bytes_text(core_->planner.budget_bytes()).c_str());
            return Status::unavailable("model '%s' is %s and was not ready within the load timeout (%g s)",
                                       entry->name().c_str(), residency_name(state), timeout_seconds);
        }
        core_->changed.wait_for(lock, std::chrono::duration<double>(std::min(remaining, kMaxWaitSliceSeconds)));
    }
}

// ---- Registry: the loader thread --------------------------------------------------------------------------------

void Registry::ensure_loader() {
    if (core_->loader_started || core_->stopping) return;
    core_->loader_started = true;
    loader_ = std::thread([this] { loader_loop(); });
}

void Registry::loader_loop() {
    std::unique_lock<std::mutex> lock(core_->mutex);
    while (!core_->stopping) {
        if (!core_->jobs.empty()) {
            RegistryCore::LoadJob job = std::move(core_->jobs.front());
            core_->jobs.pop_front();
            for (size_t k : job.evict) unload_now(*core_->by_index[k], /*evicted=*/true, lock);
            load_now(*core_->by_index[job.index], lock);
            continue;
        }
        double sleep = kLoaderIdleSeconds;
        if (core_->background_expiry) {
            const std::vector<size_t> expired = core_->planner.expire(core_->now());
            for (size_t k : expired) core_->by_index[k]->set_state(ModelState::unloading);
            for (size_t k : expired) unload_now(*core_->by_index[k], /*evicted=*/false, lock);
            if (!expired.empty()) continue;
            if (const auto next = core_->planner.next_expiry())
                sleep = std::clamp(*next - core_->now(), 0.001, kLoaderIdleSeconds);
        }
        core_->changed.wait_for(lock, std::chrono::duration<double>(sleep));
    }
}

void Registry::load_now(ModelEntry& entry, std::unique_lock<std::mutex>& lock) {
    const size_t i = static_cast<size_t>(entry.planner_index_);
    decide_share(*core_, entry);
    entry.set_state(ModelState::loading);
    const size_t share = entry.kv_share_;
    LoadSettings settings = core_->settings;
    if (entry.options().context_length > 0) settings.engine.context_length = entry.options().context_length;
    lock.unlock();
    DUET_LOG_INFO("%s: loading %s", entry.name().c_str(), entry.source().c_str());
    const auto started = std::chrono::steady_clock::now();
    Result<Serving> serving = Status::unavailable("not started");
    auto bytes_per_block = entry.backend_->open(settings);
    if (bytes_per_block.ok()) serving = entry.backend_->start(settings, *bytes_per_block > 0 ? share : 0);
    const Status failure = !bytes_per_block.ok() ? bytes_per_block.status() : serving.status();
    if (!failure.ok()) entry.backend_->close();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const size_t weights = entry.backend_->weight_bytes();
    lock.lock();
    if (!failure.ok()) {
        entry.mark_failed(failure);
        ++entry.load_failures_;
        core_->planner.load_finished(i, false, 0, core_->now());
        DUET_LOG_ERROR("%s", entry.error().c_str());
    } else {
        entry.mark_ready(std::move(serving).value());
        ++entry.loads_;
        entry.load_seconds_ += seconds;
        const size_t kv = *bytes_per_block > 0 ? share : 0;
        core_->planner.load_finished(i, true, weights > 0 ? weights + kv : 0, core_->now());
        DUET_LOG_INFO("%s: loaded in %.2f s (%s of weights, %s of KV, context %d)", entry.name().c_str(), seconds,
                      bytes_text(weights).c_str(), bytes_text(kv).c_str(), entry.context_length());
    }
    core_->changed.notify_all();
}

void Registry::unload_now(ModelEntry& entry, bool evicted, std::unique_lock<std::mutex>& lock) {
    const size_t i = static_cast<size_t>(entry.planner_index_);
    entry.set_state(ModelState::unloading);
    lock.unlock();
    {
        std::lock_guard<std::mutex> entry_lock(entry.mutex_);
        entry.serving_.reset();
    }
    entry.backend_->stop();
    entry.backend_->close();
    lock.lock();
    core_->planner.unload_finished(i);
    entry.set_state(ModelState::unloaded);
    ++entry.unloads_;
    if (evicted) ++entry.evictions_;
    DUET_LOG_INFO("%s: unloaded (%s)", entry.name().c_str(), evicted ? "evicted for room" : "keep_alive ran out");
    core_->changed.notify_all();
}

size_t Registry::unload_expired() {
    std::unique_lock<std::mutex> lock(core_->mutex);
    const std::vector<size_t> expired = core_->planner.expire(core_->now());
    for (size_t k : expired) core_->by_index[k]->set_state(ModelState::unloading);
    for (size_t k : expired) unload_now(*core_->by_index[k], /*evicted=*/false, lock);
    return expired.size();
}

// ---- Registry: what is where -----------------------------------------------------------------------------------

Status Registry::health(std::string_view name) const {
    std::shared_ptr<ModelEntry> entry;
    std::lock_guard<std::mutex> lock(core_->mutex);
    for (const auto& e : core_->entries)
        if (e->name() == name) entry = e;
    if (!entry) return Status::not_found("model '%.*s' does not exist", static_cast<int>(name.size()), name.data());
    if (entry->is_remote())
        return entry->remote()->healthy()
                   ? Status::ok_status()
                   : Status::unavailable("model '%s': no upstream replica is healthy", entry->name().c_str());
    if (!entry->on_demand())
        return entry->ready() ? Status::ok_status()
                              : Status::unavailable("model '%s' is not ready", entry->name().c_str());
    const ResidentModel& m = core_->planner.model(static_cast<size_t>(entry->planner_index_));
    if (m.state == Residency::loaded || m.state == Residency::loading) return Status::ok_status();
    if (m.last_load_failed) return Status::unavailable("%s", entry->error().c_str());
    const size_t budget = core_->planner.budget_bytes();
    if (m.state == Residency::unloaded) decide_share(*core_, *entry);
    if (budget > 0 && m.need_bytes > budget)
        return Status::unavailable(
            "model '%s' needs %s (weights + KV reserve), more than the whole memory budget of %s",
            entry->name().c_str(), bytes_text(m.need_bytes).c_str(), bytes_text(budget).c_str());
    return Status::ok_status();
}

std::vector<ResidencyInfo> Registry::residency() const {
    std::vector<ResidencyInfo> out;
    std::lock_guard<std::mutex> lock(core_->mutex);
    for (const auto& e : core_->entries) {
        ResidencyInfo info;
        info.name = e->name();
        info.on_demand = e->on_demand();
        if (info.on_demand) {
            const ResidentModel& m = core_->planner.model(static_cast<size_t>(e->planner_index_));
            info.state = m.state;
            info.memory_bytes = m.need_bytes;
            info.in_flight = m.in_flight;
        } else {
            info.state = e->ready() ? Residency::loaded : Residency::unloaded;
        }
        info.loads = e->loads_;
        info.load_failures = e->load_failures_;
        info.unloads = e->unloads_;
        info.evictions = e->evictions_;
        info.load_seconds = e->load_seconds_;
        out.push_back(std::move(info));
    }
    return out;
}

size_t Registry::memory_budget_bytes() const { return core_->settings.memory_budget_bytes; }

size_t Registry::memory_used_bytes() const {
    std::lock_guard<std::mutex> lock(core_->mutex);
    return core_->planner.used_bytes();
}

}  // namespace duet::registry
