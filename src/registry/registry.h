// registry.h: the models this process serves: name, role, state, capabilities, and (while loaded) engine + codec;
// which local models are in memory (load on demand under a memory budget, keep_alive, LRU eviction: the pure
// bookkeeping is residency.h). The server looks models up here and holds a Lease while a request runs on one.
// src/registry owns this list and how entries are loaded (model_backend.h); it may include engine, model,
// tokenizer, gguf and common, never server, openai or JSON.
//
//   add(name, backend, {preload})   preload (the default): state loading until load_all(); else unloaded
//   load_all():  open() every preloaded entry --> KV shares (equal token slots of --kv-memory when every local
//                model is preloaded; else each its own reserve) --> start()      state: ready | failed (error kept)
//   acquire(name, timeout):  ready -> a Lease (the model cannot unload while one is held); unloaded -> the loader
//                thread loads it (after unloading idle least-recently-used models when the budget needs room) and
//                the caller waits up to `timeout`; unavailable when it cannot (load failed, timed out, too big)
//   the loader thread also unloads idle models whose keep_alive ran out:   ready -> unloading -> unloaded
//   find(name):  "" -> the default (the first added); unknown -> not_found; not ready -> unavailable
//
//   add_remote(name, remote)       state: ready at once; entry.remote() set, no engine or codec (its requests are
//                                  forwarded by the server: upstream/pool.h); never unloaded
//   add_ready(name, serving)       ready at once (engines built elsewhere: tests, scripted models); never unloaded
//
// Thread safety: add/load_all from one thread (start-up); acquire/find/entries from any thread at any time.
// Time: seconds from a clock (steady by default; set_clock injects one for tests, and then keep_alive expiry runs
// only when unload_expired() is called, so tests need no sleeps).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "registry/model_backend.h"
#include "registry/residency.h"

namespace duet::registry {

// What the router may use a model for (a plain tag; `none` until the router exists).
enum class Role { none, expert, daily };
enum class ModelState { unloaded, loading, ready, unloading, failed };

const char* role_name(Role role);          // "none", "expert", "daily"
const char* state_name(ModelState state);  // "unloaded", "loading", "ready", "unloading", "failed"
Result<Role> parse_role(std::string_view name);

// How one local model is loaded and kept (the config file's per-model keys, `-m` defaults).
struct ModelOptions {
    Role role = Role::none;
    bool preload = true;             // load at load_all() (start-up); false: on its first request
    double keep_alive_seconds = -1;  // seconds idle before it unloads (< 0: never; 0: as soon as it is idle)
    size_t kv_memory_bytes = 0;      // its KV reserve (0: an equal share of LoadSettings::kv_memory_bytes)
    int32_t context_length = 0;      // tokens per request (0: LoadSettings' engine.context_length)
    int64_t created_unix = 0;        // what /v1/models shows (0: now)
};

// One model's residency and load counters (for /v1/models, /health and /metrics).
struct ResidencyInfo {
    std::string name;
    bool on_demand = false;  // false: remote or built elsewhere (always ready, never unloaded)
    Residency state = Residency::loaded;
    size_t memory_bytes = 0;  // weights + KV reserve (an estimate until its first load)
    int32_t in_flight = 0;
    int64_t loads = 0, load_failures = 0, unloads = 0, evictions = 0;
    double load_seconds = 0;  // total time spent loading it
};

struct RegistryCore;

class ModelEntry {
public:
    ModelEntry(std::string name, ModelOptions options, std::unique_ptr<ModelBackend> backend);
    ~ModelEntry();

    const std::string& name() const { return name_; }
    Role role() const { return options_.role; }
    int64_t created_unix() const { return options_.created_unix; }
    const ModelOptions& options() const { return options_; }
    std::string source() const { return backend_->source(); }  // the file (or URL) it comes from
    ModelState state() const { return state_.load(std::memory_order_acquire); }
    bool ready() const { return state() == ModelState::ready; }
    // Why it failed: "model 'NAME': <file>: <reason>" (empty unless failed).
    std::string error() const;

    // What requests run on while it is loaded; null otherwise. Holding it keeps the engine object alive but not
    // the model loaded: hold a Lease (Registry::acquire) while a request runs.
    std::shared_ptr<const Serving> serving() const;
    // The remote model behind a remote entry; nullptr for local entries.
    const std::shared_ptr<RemoteModel>& remote() const { return remote_; }
    bool is_remote() const { return remote_ != nullptr; }
    // What it serves: its kind's (model_backend.h) until loaded, then the loaded model's.
    Capabilities capabilities() const;
    // Tokens per request of the last load (0 before the first).
    int32_t context_length() const { return context_length_.load(std::memory_order_acquire); }
    // Loaded and unloaded on demand (false: remote, or built elsewhere and always ready).
    bool on_demand() const { return planner_index_ >= 0; }

private:
    friend class Registry;
    friend void decide_share(RegistryCore& core, ModelEntry& entry);
    void mark_ready(Serving serving);
    void mark_failed(const Status& status);
    void set_state(ModelState state) { state_.store(state, std::memory_order_release); }

    const std::string name_;
    const ModelOptions options_;
    std::unique_ptr<ModelBackend> backend_;
    std::shared_ptr<RemoteModel> remote_;
    std::atomic<ModelState> state_{ModelState::loading};
    std::atomic<int32_t> context_length_{0};
    mutable std::mutex mutex_;  // serving_, error_, capabilities_
    std::shared_ptr<const Serving> serving_;
    Capabilities capabilities_;
    std::string error_;
    // Guarded by the registry's mutex:
    int planner_index_ = -1;  // in the ResidencyPlanner; -1: not on demand
    size_t kv_share_ = 0;     // KV bytes it is started with (0: not decided yet)
    bool share_decided_ = false;
    int64_t loads_ = 0, load_failures_ = 0, unloads_ = 0, evictions_ = 0;
    double load_seconds_ = 0;
};

class Registry;

// While held, its model stays loaded (never unloaded or evicted). Movable; releasing it (destruction) marks the
// model used now and, with `keep_alive`, sets how long it stays idle for the rest of this load.
class Lease {
public:
    Lease() = default;
    ~Lease();
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    const std::shared_ptr<const ModelEntry>& entry() const { return entry_; }
    // Null for a remote entry.
    const std::shared_ptr<const Serving>& serving() const { return serving_; }

private:
    friend class Registry;
    void release();
    std::shared_ptr<RegistryCore> core_;  // null: nothing to release (remote or always-ready entries)
    std::shared_ptr<const ModelEntry> entry_;
    std::shared_ptr<const Serving> serving_;
    size_t index_ = 0;
    std::optional<double> keep_alive_;
};

class Registry {
public:
    explicit Registry(LoadSettings settings = {});
    ~Registry();  // stops the loader thread, then stop_all()
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // A new entry in state `loading` (in the order added; the first is the default). Errors: empty name, a name
    // already taken.
    // created_unix: what /v1/models shows (0: now).
    Status add(std::string name, std::unique_ptr<ModelBackend> backend, Role role = Role::none,
               int64_t created_unix = 0);
    // The same with every option (preload false: state unloaded, loaded on its first acquire()).
    Status add(std::string name, std::unique_ptr<ModelBackend> backend, const ModelOptions& options);
    // An entry that is ready at once (an engine and codec built elsewhere: tests, fakes; see ReadyBackend).
    Status add_ready(std::string name, Serving serving, Role role = Role::none, int64_t created_unix = 0);
    // A model served elsewhere (an upstream pool), ready at once: no engine, no codec, no KV share.
    Status add_remote(std::string name, std::shared_ptr<RemoteModel> remote, Role role = Role::none,
                      int64_t created_unix = 0);
    // Convenience for `duet serve -m NAME=FILE.gguf`: add(name, GgufBackend(path), role); EncoderBackend for bert.
    Status add_gguf(std::string name, std::string path, Role role = Role::none);
    Status add_gguf(std::string name, std::string path, const ModelOptions& options);

    // Opens every loading entry, splits the KV budget among those that need one, starts them. An entry that fails
    // is marked failed with its error and the others still load; returns the first failure (ok when all ready).
    // Errors also when the preloaded models together need more than the memory budget.
    Status load_all();

    // The model to run a request on ("" -> the default): loaded now, or loaded on demand while the caller waits
    // up to `timeout_seconds` (0: not at all). `keep_alive`: the request's (seconds; < 0 forever). Errors:
    // not_found; unavailable with the reason: the load failed (file and reason), it needs more than the whole
    // memory budget, it did not load (or find room) within the timeout, shutting down.
    Result<Lease> acquire(std::string_view name, double timeout_seconds,
                          std::optional<double> keep_alive = std::nullopt);
    // Unloads the idle models whose keep_alive ran out by now (the loader thread does this by itself unless a
    // clock was injected); returns how many. Waits for their unloads to finish.
    size_t unload_expired();
    // Whether `name` can serve: ok when ready or loadable; unavailable with the reason otherwise (its last load
    // failed, too big for the budget, no healthy upstream replica); not_found.
    Status health(std::string_view name) const;
    // Every entry's residency and counters, in the order added.
    std::vector<ResidencyInfo> residency() const;
    size_t memory_budget_bytes() const;
    size_t memory_used_bytes() const;  // loading + loaded + unloading models
    // Seconds now (tests: a fake clock; also stops background keep_alive expiry, see unload_expired()).
    void set_clock(std::function<double()> clock);

    // "" -> the default model. Errors: not_found (no such name), unavailable (nothing added yet, still loading,
    // or failed: the message says which and why).
    Result<std::shared_ptr<const ModelEntry>> find(std::string_view name) const;
    // Every entry in the order added, whatever its state.
    std::vector<std::shared_ptr<const ModelEntry>> entries() const;
    std::vector<std::shared_ptr<const ModelEntry>> ready_entries() const;  // remote ones included
    bool has_remote() const;  // any remote entry (lets the server skip the upstream check cheaply)
    bool all_ready() const;   // false while empty
    size_t size() const;

    // Stops every engine (unfinished requests end with an abort delta) and load on demand (waiting requests get
    // unavailable); idempotent.
    void stop_all();

private:
    Result<std::shared_ptr<ModelEntry>> insert(std::string name, std::unique_ptr<ModelBackend> backend,
                                               ModelOptions options);
    void ensure_loader();  // starts the loader thread (under the mutex)
    void loader_loop();
    void load_now(ModelEntry& entry, std::unique_lock<std::mutex>& lock);  // lock held on entry and exit
    void unload_now(ModelEntry& entry, bool evicted, std::unique_lock<std::mutex>& lock);

    std::shared_ptr<RegistryCore> core_;
    std::thread loader_;
};

}  // namespace duet::registry
