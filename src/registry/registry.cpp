// registry.cpp: Registry: entries in the order added, start-up loading over one KV budget, lookups by name.
// Load on demand (acquire, the loader thread, leases) is registry_on_demand.cpp.
#include "registry/registry.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "common/assert.h"
#include "common/log.h"
#include "common/strformat.h"
#include "engine/engine.h"
#include "registry/encoder_backend.h"
#include "registry/gguf_backend.h"
#include "registry/registry_core.h"

namespace duet::registry {

// Bytes of memory this process can still use: MemAvailable, lowered by a cgroup v2 limit (containers); 0 if unknown.
size_t available_memory_bytes() {
    size_t available = 0;
    if (FILE* f = std::fopen("/proc/meminfo", "r")) {
        char line[256];
        unsigned long long kb = 0;
        while (std::fgets(line, sizeof(line), f))
            if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) available = static_cast<size_t>(kb) * 1024;
        std::fclose(f);
    }
    unsigned long long limit = 0, current = 0;
    FILE* max = std::fopen("/sys/fs/cgroup/memory.max", "r");
    FILE* now = std::fopen("/sys/fs/cgroup/memory.current", "r");
    if (max && now && std::fscanf(max, "%llu", &limit) == 1 && std::fscanf(now, "%llu", &current) == 1 &&
        limit > current)
        available = std::min<size_t>(available ? available : SIZE_MAX, static_cast<size_t>(limit - current));
    if (max) std::fclose(max);
    if (now) std::fclose(now);
    return available;
}

namespace {

// 6544 -> "6,544"
std::string with_commas(long long n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

}  // namespace

const char* role_name(Role role) {
    switch (role) {
        case Role::none:
            return "none";
        case Role::expert:
            return "expert";
        case Role::daily:
            return "daily";
    }
    return "none";
}

const char* state_name(ModelState state) {
    switch (state) {
        case ModelState::unloaded:
            return "unloaded";
        case ModelState::unloading:
            return "unloading";
        case ModelState::loading:
            return "loading";
        case ModelState::ready:
            return "ready";
        case ModelState::failed:
            return "failed";
    }
    return "failed";
}

Result<Role> parse_role(std::string_view name) {
    for (Role r : {Role::none, Role::expert, Role::daily})
        if (name == role_name(r)) return r;
    return Status::invalid_argument("role '%.*s': expected none, expert or daily", static_cast<int>(name.size()),
                                    name.data());
}

// ---- ModelEntry ------------------------------------------------------------------------------------------------

ModelEntry::ModelEntry(std::string name, ModelOptions options, std::unique_ptr<ModelBackend> backend)
    : name_(std::move(name)), options_(options), backend_(std::move(backend)) {
    capabilities_ = backend_->declared_capabilities();
}

ModelEntry::~ModelEntry() { backend_->stop(); }

std::string ModelEntry::error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
}

std::shared_ptr<const Serving> ModelEntry::serving() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return serving_;
}

Capabilities ModelEntry::capabilities() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return capabilities_;
}

void ModelEntry::mark_ready(Serving serving) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        capabilities_ = serving.capabilities;
        context_length_.store(serving.context_length, std::memory_order_release);
        serving_ = std::make_shared<const Serving>(std::move(serving));
        error_.clear();
    }
    set_state(ModelState::ready);
}

void ModelEntry::mark_failed(const Status& status) {
    // Name the file unless the reason already does (gguf and mmap errors quote the path themselves).
    const std::string where = backend_->source();
    std::string message = "model '" + name_ + "': ";
    if (status.message().find(where) == std::string::npos) message += where + ": ";
    message += status.message();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::move(message);
        serving_.reset();
    }
    set_state(ModelState::failed);
}

// ---- Registry --------------------------------------------------------------------------------------------------

Registry::Registry(LoadSettings settings) : core_(std::make_shared<RegistryCore>(std::move(settings))) {
    core_->clock = [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    };
}

Registry::~Registry() {
    {
        std::lock_guard<std::mutex> lock(core_->mutex);
        core_->stopping = true;
    }
    core_->changed.notify_all();
    if (loader_.joinable()) loader_.join();
    stop_all();
}

Result<std::shared_ptr<ModelEntry>> Registry::insert(std::string name, std::unique_ptr<ModelBackend> backend,
                                                     ModelOptions options) {
    if (name.empty()) return Status::invalid_argument("registry: a model needs a name");
    if (!backend) return Status::invalid_argument("registry: model '%s' has no backend", name.c_str());
    std::lock_guard<std::mutex> lock(core_->mutex);
    for (const auto& e : core_->entries)
        if (e->name() == name) return Status::invalid_argument("model name '%s' given twice", name.c_str());
    if (options.created_unix == 0) options.created_unix = static_cast<int64_t>(std::time(nullptr));
    core_->entries.push_back(std::make_shared<ModelEntry>(std::move(name), options, std::move(backend)));
    return core_->entries.back();
}

Status Registry::add(std::string name, std::unique_ptr<ModelBackend> backend, Role role, int64_t created_unix) {
    ModelOptions options;
    options.role = role;
    options.created_unix = created_unix;
    return add(std::move(name), std::move(backend), options);
}

Status Registry::add(std::string name, std::unique_ptr<ModelBackend> backend, const ModelOptions& options) {
    DUET_TRY(auto entry, insert(std::move(name), std::move(backend), options));
    std::lock_guard<std::mutex> lock(core_->mutex);
    entry->planner_index_ = static_cast<int>(core_->planner.add(entry->name(), 0, options.keep_alive_seconds));
    core_->by_index.push_back(entry.get());
    if (options.preload) {
        core_->planner.begin_load(static_cast<size_t>(entry->planner_index_));
        entry->set_state(ModelState::loading);
    } else {
        entry->set_state(ModelState::unloaded);
    }
    return Status::ok_status();
}

Status Registry::add_ready(std::string name, Serving serving, Role role, int64_t created_unix) {
    if (!serving.engine || !serving.codec)
        return Status::invalid_argument("registry: model '%s' needs an engine and a codec", name.c_str());
    if (serving.context_length == 0) serving.context_length = serving.engine->context_length();
    ModelOptions options;
    options.role = role;
    options.created_unix = created_unix;
    DUET_TRY(auto entry, insert(std::move(name), std::make_unique<ReadyBackend>(serving), options));
    entry->mark_ready(std::move(serving));
    return Status::ok_status();
}

namespace {
// A remote model as a registry entry: nothing to open, nothing to start but handing the remote over.
class RemoteBackend final : public ModelBackend {
public:
    explicit RemoteBackend(std::shared_ptr<RemoteModel> remote) : remote_(std::move(remote)) {}
    std::string source() const override { return remote_->source(); }
    Result<size_t> open(const LoadSettings&) override { return size_t{0}; }
    Result<Serving> start(const LoadSettings&, size_t) override {
        Serving serving;
        serving.remote = remote_;
        serving.capabilities = {.chat = true, .completions = true, .embeddings = false};
        return serving;
    }

private:
    std::shared_ptr<RemoteModel> remote_;
};
}  // namespace

Status Registry::add_remote(std::string name, std::shared_ptr<RemoteModel> remote, Role role, int64_t created_unix) {
    if (!remote) return Status::invalid_argument("registry: model '%s' has no remote", name.c_str());
    auto backend = std::make_unique<RemoteBackend>(remote);
    DUET_TRY(Serving serving, backend->start(core_->settings, 0));
    ModelOptions options;
    options.role = role;
    options.created_unix = created_unix;
    DUET_TRY(auto entry, insert(std::move(name), std::move(backend), options));
    entry->remote_ = remote;
    entry->mark_ready(std::move(serving));
    return Status::ok_status();
}

bool Registry::has_remote() const {
    std::lock_guard<std::mutex> lock(core_->mutex);
    for (const auto& e : core_->entries)
        if (e->is_remote()) return true;
    return false;
}

Status Registry::add_gguf(std::string name, std::string path, Role role) {
    ModelOptions options;
    options.role = role;
    return add_gguf(std::move(name), std::move(path), options);
}

Status Registry::add_gguf(std::string name, std::string path, const ModelOptions& options) {
    if (is_encoder_gguf(path)) return add(std::move(name), std::make_unique<EncoderBackend>(std::move(path)), options);
    return add(std::move(name), std::make_unique<GgufBackend>(std::move(path)), options);
}

Status Registry::load_all() {
    std::unique_lock<std::mutex> lock(core_->mutex);
    std::vector<std::shared_ptr<ModelEntry>> loading;
    bool split = true;  // every local model preloaded, none with its own KV size: one budget in equal token slots
    for (const auto& e : core_->entries) {
        if (!e->on_demand()) continue;
        if (!e->options().preload || e->options().kv_memory_bytes > 0) split = false;
        if (e->state() == ModelState::loading && !e->share_decided_) loading.push_back(e);
    }
    Status first_failure;
    auto fail = [&](ModelEntry& entry, const Status& status) {
        entry.mark_failed(status);
        ++entry.load_failures_;
        core_->planner.load_finished(static_cast<size_t>(entry.planner_index_), false, 0, core_->now());
        DUET_LOG_ERROR("%s", entry.error().c_str());
        if (first_failure.ok()) first_failure = Status(status.code(), entry.error());
    };
    const size_t memory_budget = core_->settings.memory_budget_bytes;

    if (!split) {  // each with its own KV reserve, as when loaded on demand; the budget is checked first
        size_t need = 0;
        for (const auto& e : loading) {
            decide_share(*core_, *e);
            need += core_->planner.model(static_cast<size_t>(e->planner_index_)).need_bytes;
        }
        if (memory_budget > 0 && need > memory_budget) {
            const Status st = Status::invalid_argument(
                "the preloaded models need %s (weights + KV reserve), more than the memory budget of %s: preload "
                "fewer of them or raise the budget",
                format_bytes(static_cast<double>(need)).c_str(),
                format_bytes(static_cast<double>(memory_budget)).c_str());
            for (const auto& e : loading) fail(*e, st);
            return Status(st.code(), st.message());
        }
        for (const auto& e : loading) {
            load_now(*e, lock);
            if (e->state() == ModelState::failed && first_failure.ok())
                first_failure = Status::unavailable("%s", e->error().c_str());
        }
        ensure_loader();
        return first_failure;
    }
    lock.unlock();
    const auto started_at = std::chrono::steady_clock::now();

    // Step 1: open every entry and learn its KV bytes per block.
    std::vector<std::shared_ptr<ModelEntry>> opened;
    std::vector<size_t> bytes_per_block;
    for (const auto& e : loading) {
        auto bytes = e->backend_->open(core_->settings);
        if (!bytes.ok()) {
            lock.lock();
            fail(*e, bytes.status());
            lock.unlock();
            continue;
        }
        opened.push_back(e);
        bytes_per_block.push_back(*bytes);
    }

    // Step 2: split the budget among the entries that hold a KV cache (same token slots each), then start.
    std::vector<size_t> needing;
    for (size_t b : bytes_per_block)
        if (b > 0) needing.push_back(b);
    size_t budget = core_->settings.kv_memory_bytes;
    size_t weights = 0;
    for (const auto& e : opened) weights += e->backend_->weight_bytes();
    if (budget == 0) {
        const size_t available = available_memory_bytes();
        budget = engine::default_kv_memory(available, weights);
        DUET_LOG_INFO("KV budget %s: a quarter of the %s available after %s of weights (--kv-memory sets it)",
                      format_bytes(static_cast<double>(budget)).c_str(),
                      available ? format_bytes(static_cast<double>(available)).c_str() : "unknown memory",
                      format_bytes(static_cast<double>(weights)).c_str());
    }
    if (memory_budget > 0 && weights + budget > memory_budget) {
        const Status st = Status::invalid_argument(
            "the models need %s of weights and %s of KV, more than the memory budget of %s: lower --kv-memory, load "
            "them on demand (config file: preload: false) or raise the budget",
            format_bytes(static_cast<double>(weights)).c_str(), format_bytes(static_cast<double>(budget)).c_str(),
            format_bytes(static_cast<double>(memory_budget)).c_str());
        lock.lock();
        for (const auto& e : opened) {
            e->backend_->close();
            fail(*e, st);
        }
        return Status(st.code(), st.message());
    }
    const std::vector<size_t> shares = engine::split_kv_memory(budget, needing);
    for (size_t i = 0, k = 0; i < opened.size(); ++i) {
        const size_t share = bytes_per_block[i] > 0 ? shares[k++] : 0;
        ModelEntry& entry = *opened[i];
        auto serving = entry.backend_->start(core_->settings, share);
        lock.lock();
        if (!serving.ok()) {
            fail(entry, serving.status());
            lock.unlock();
            continue;
        }
        entry.mark_ready(std::move(serving).value());
        entry.kv_share_ = share;
        entry.share_decided_ = true;
        ++entry.loads_;
        entry.load_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
        core_->planner.load_finished(static_cast<size_t>(entry.planner_index_), true,
                                     entry.backend_->weight_bytes() + share, core_->now());
        lock.unlock();
        if (share == 0) continue;
        // The budget split: the context is what one sequence can hold, never more.
        const int32_t block = core_->settings.engine.block_size;
        const long long kv_tokens = static_cast<long long>(share / bytes_per_block[i]) * block;
        DUET_LOG_INFO("%s: %s tokens of KV, context %s (%s of KV; %s)", entry.name().c_str(),
                      with_commas(kv_tokens).c_str(), with_commas(entry.context_length()).c_str(),
                      format_bytes(static_cast<double>(share)).c_str(), entry.source().c_str());
        const int32_t asked = core_->settings.engine.context_length;
        if (asked > entry.context_length())
            DUET_LOG_WARN("%s: --ctx %s does not fit in its %s tokens of KV: context %s (raise --kv-memory)",
                          entry.name().c_str(), with_commas(asked).c_str(), with_commas(kv_tokens).c_str(),
                          with_commas(entry.context_length()).c_str());
    }
    lock.lock();
    ensure_loader();
    return first_failure;
}

Result<std::shared_ptr<const ModelEntry>> Registry::find(std::string_view name) const {
    std::shared_ptr<const ModelEntry> found;
    {
        std::lock_guard<std::mutex> lock(core_->mutex);
        if (core_->entries.empty()) return Status::unavailable("no model is loaded yet");
        if (name.empty()) {
            found = core_->entries.front();
        } else {
            for (const auto& e : core_->entries)
                if (e->name() == name) found = e;
        }
    }
    if (!found) return Status::not_found("model '%.*s' does not exist", static_cast<int>(name.size()), name.data());
    switch (found->state()) {
        case ModelState::ready:
            return found;
        case ModelState::loading:
            return Status::unavailable("model '%s' is loading", found->name().c_str());
        case ModelState::unloaded:
        case ModelState::unloading:
            return Status::unavailable("model '%s' is not loaded", found->name().c_str());
        case ModelState::failed:
            return Status::unavailable("%s", found->error().c_str());
    }
    return found;
}

std::vector<std::shared_ptr<const ModelEntry>> Registry::entries() const {
    std::lock_guard<std::mutex> lock(core_->mutex);
    return {core_->entries.begin(), core_->entries.end()};
}

std::vector<std::shared_ptr<const ModelEntry>> Registry::ready_entries() const {
    std::vector<std::shared_ptr<const ModelEntry>> out;
    std::lock_guard<std::mutex> lock(core_->mutex);
    for (const auto& e : core_->entries)
        if (e->ready()) out.push_back(e);
    return out;
}

bool Registry::all_ready() const {
    std::lock_guard<std::mutex> lock(core_->mutex);
    if (core_->entries.empty()) return false;
    for (const auto& e : core_->entries)
        if (!e->ready()) return false;
    return true;
}

size_t Registry::size() const {
    std::lock_guard<std::mutex> lock(core_->mutex);
    return core_->entries.size();
}

void Registry::stop_all() {
    std::vector<std::shared_ptr<ModelEntry>> all;
    {
        std::lock_guard<std::mutex> lock(core_->mutex);
        core_->stopping = true;  // requests waiting for a load give up; the loader starts nothing new
        all = core_->entries;
    }
    core_->changed.notify_all();
    for (const auto& e : all) e->backend_->stop();
}

}  // namespace duet::registry
