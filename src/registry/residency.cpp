// residency.cpp: ResidencyPlanner: the state machine of residency.h, LRU eviction under the budget, keep_alive.
#include "registry/residency.h"

#include <algorithm>

#include "common/assert.h"

namespace duet::registry {

const char* residency_name(Residency state) {
    switch (state) {
        case Residency::unloaded:
            return "unloaded";
        case Residency::loading:
            return "loading";
        case Residency::loaded:
            return "loaded";
        case Residency::unloading:
            return "unloading";
    }
    return "unloaded";
}

ResidencyPlanner::ResidencyPlanner(size_t budget_bytes) : budget_bytes_(budget_bytes) {}

size_t ResidencyPlanner::add(std::string name, size_t need_bytes, double keep_alive_seconds) {
    ResidentModel m;
    m.name = std::move(name);
    m.need_bytes = need_bytes;
    m.keep_alive_seconds = keep_alive_seconds;
    models_.push_back(std::move(m));
    return models_.size() - 1;
}

void ResidencyPlanner::set_need(size_t i, size_t need_bytes) {
    DUET_ASSERT(i < models_.size() &&
                (models_[i].state == Residency::unloaded || models_[i].state == Residency::loading));
    models_[i].need_bytes = need_bytes;
}

size_t ResidencyPlanner::used_bytes() const {
    size_t used = 0;
    for (const auto& m : models_)
        if (m.state != Residency::unloaded) used += m.need_bytes;
    return used;
}

ResidencyPlanner::Plan ResidencyPlanner::want(size_t i) {
    DUET_ASSERT(i < models_.size());
    ResidentModel& m = models_[i];
    Plan plan;
    if (m.state == Residency::loaded) {
        plan.verdict = Verdict::ready;
        return plan;
    }
    if (m.state != Residency::unloaded) return plan;  // loading or unloading: wait for it
    if (budget_bytes_ == 0) {
        m.state = Residency::loading;
        plan.verdict = Verdict::load;
        return plan;
    }
    if (m.need_bytes > budget_bytes_) {
        plan.verdict = Verdict::too_big;
        return plan;
    }
    const size_t used = used_bytes();
    size_t free = budget_bytes_ > used ? budget_bytes_ - used : 0;
    if (m.need_bytes > free) {
        // The idle loaded models, least recently used first; take them until this one fits.
        std::vector<size_t> idle;
        for (size_t k = 0; k < models_.size(); ++k)
            if (idle_loaded(models_[k])) idle.push_back(k);
        std::stable_sort(idle.begin(), idle.end(),
                         [&](size_t a, size_t b) { return models_[a].last_used < models_[b].last_used; });
        for (size_t k : idle) {
            if (free >= m.need_bytes) break;
            plan.evict.push_back(k);
            free += models_[k].need_bytes;
        }
        if (free < m.need_bytes) {  // busy models hold the rest: evict nothing yet
            plan.evict.clear();
            return plan;
        }
        for (size_t k : plan.evict) {
            models_[k].state = Residency::unloading;
            models_[k].keep_alive_override.reset();
        }
    }
    m.state = Residency::loading;
    plan.verdict = Verdict::load;
    return plan;
}

void ResidencyPlanner::begin_load(size_t i) {
    DUET_ASSERT(i < models_.size() && models_[i].state == Residency::unloaded);
    models_[i].state = Residency::loading;
}

void ResidencyPlanner::add_waiter(size_t i) {
    DUET_ASSERT(i < models_.size());
    ++models_[i].waiting;
}

void ResidencyPlanner::remove_waiter(size_t i) {
    DUET_ASSERT(i < models_.size() && models_[i].waiting > 0);
    --models_[i].waiting;
}

void ResidencyPlanner::acquire(size_t i) {
    DUET_ASSERT(i < models_.size() && models_[i].state == Residency::loaded);
    ++models_[i].in_flight;
}

void ResidencyPlanner::release(size_t i, double now, std::optional<double> keep_alive) {
    DUET_ASSERT(i < models_.size() && models_[i].in_flight > 0);
    ResidentModel& m = models_[i];
    --m.in_flight;
    m.last_used = std::max(m.last_used, now);
    if (keep_alive) m.keep_alive_override = keep_alive;
}

void ResidencyPlanner::load_finished(size_t i, bool ok, size_t actual_bytes, double now) {
    DUET_ASSERT(i < models_.size() && models_[i].state == Residency::loading);
    ResidentModel& m = models_[i];
    m.last_load_failed = !ok;
    if (!ok) {
        m.state = Residency::unloaded;
        return;
    }
    m.state = Residency::loaded;
    if (actual_bytes > 0) m.need_bytes = actual_bytes;
    m.last_used = now;
}

void ResidencyPlanner::unload_finished(size_t i) {
    DUET_ASSERT(i < models_.size() && models_[i].state == Residency::unloading && models_[i].in_flight == 0);
    models_[i].state = Residency::unloaded;
    models_[i].keep_alive_override.reset();
}

bool ResidencyPlanner::begin_unload(size_t i) {
    DUET_ASSERT(i < models_.size());
    ResidentModel& m = models_[i];
    if (!idle_loaded(m)) return false;
    m.state = Residency::unloading;
    m.keep_alive_override.reset();
    return true;
}

std::vector<size_t> ResidencyPlanner::expire(double now) {
    std::vector<size_t> out;
    for (size_t i = 0; i < models_.size(); ++i) {
        const ResidentModel& m = models_[i];
        if (!idle_loaded(m)) continue;
        const double alive = keep_alive(m);
        if (alive < 0 || m.last_used + alive > now) continue;
        out.push_back(i);
    }
    for (size_t i : out) begin_unload(i);
    return out;
}

std::optional<double> ResidencyPlanner::next_expiry() const {
    std::optional<double> next;
    for (const auto& m : models_) {
        if (!idle_loaded(m)) continue;
        const double alive = keep_alive(m);
        if (alive < 0) continue;
        const double at = m.last_used + alive;
        if (!next || at < *next) next = at;
    }
    return next;
}

}  // namespace duet::registry
