// registry.h: the models this process serves: name, role, state, capabilities, and (once ready) engine + codec.
// The server looks models up here; `duet serve` fills it and calls load_all(); the router will choose among its
// entries by role and capability. src/registry owns this list and how entries are loaded (model_backend.h); it
// may include engine, model, tokenizer, gguf and common, never server, openai or JSON.
//
//   add(name, backend, role)       state: loading
//   load_all():  open() every loading entry --> split the KV budget (equal token slots, split_kv_memory)
//                --> start() each with its share                      state: ready  | failed (error kept)
//   find(name):  "" -> the default (the first added); unknown -> not_found; loading/failed -> unavailable
//
//   add_remote(name, remote)       state: ready at once; entry.remote() set, no engine or codec (its requests are
//                                  forwarded by the server: upstream/pool.h)
//
// Thread safety: add/load_all from one thread (start-up); find/entries from any thread at any time. An entry's
// serving() is written once, before its state turns ready, and never changes afterwards.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/model_backend.h"

namespace duet::registry {

// What the router may use a model for (a plain tag; `none` until the router exists).
enum class Role { none, expert, daily };
enum class ModelState { loading, ready, failed };

const char* role_name(Role role);          // "none", "expert", "daily"
const char* state_name(ModelState state);  // "loading", "ready", "failed"
Result<Role> parse_role(std::string_view name);

class ModelEntry {
public:
    ModelEntry(std::string name, Role role, std::unique_ptr<ModelBackend> backend, int64_t created_unix);
    ~ModelEntry();

    const std::string& name() const { return name_; }
    Role role() const { return role_; }
    int64_t created_unix() const { return created_unix_; }
    std::string source() const { return backend_->source(); }  // the file (or URL) it comes from
    ModelState state() const { return state_.load(std::memory_order_acquire); }
    bool ready() const { return state() == ModelState::ready; }
    // Why it failed: "model 'NAME': <file>: <reason>" (empty unless failed).
    std::string error() const;

    // Valid only when ready() (DUET_ASSERT otherwise).
    const Serving& serving() const;
    // The remote model behind a ready remote entry; nullptr for local entries and entries not ready.
    const std::shared_ptr<RemoteModel>& remote() const;
    bool is_remote() const { return remote() != nullptr; }
    engine::EngineApi& engine() const { return *serving().engine; }
    const std::shared_ptr<engine::EngineApi>& engine_ptr() const { return serving().engine; }
    const TextCodec& codec() const { return *serving().codec; }
    const Capabilities& capabilities() const { return serving().capabilities; }
    int32_t context_length() const { return serving().context_length; }

private:
    friend class Registry;
    void mark_ready(Serving serving);
    void mark_failed(const Status& status);

    const std::string name_;
    const Role role_;
    const int64_t created_unix_;
    std::unique_ptr<ModelBackend> backend_;
    std::atomic<ModelState> state_{ModelState::loading};
    Serving serving_;
    mutable std::mutex error_mutex_;
    std::string error_;
};

class Registry {
public:
    explicit Registry(LoadSettings settings = {});
    ~Registry();  // stop_all()
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // A new entry in state `loading` (in the order added; the first is the default). Errors: empty name, a name
    // already taken.
    // created_unix: what /v1/models shows (0: now).
    Status add(std::string name, std::unique_ptr<ModelBackend> backend, Role role = Role::none,
               int64_t created_unix = 0);
    // An entry that is ready at once (an engine and codec built elsewhere: tests, fakes; see ReadyBackend).
    Status add_ready(std::string name, Serving serving, Role role = Role::none, int64_t created_unix = 0);
    // A model served elsewhere (an upstream pool), ready at once: no engine, no codec, no KV share.
    Status add_remote(std::string name, std::shared_ptr<RemoteModel> remote, Role role = Role::none,
                      int64_t created_unix = 0);
    // Convenience for `duet serve -m NAME=FILE.gguf`: add(name, GgufBackend(path), role); EncoderBackend for bert.
    Status add_gguf(std::string name, std::string path, Role role = Role::none);

    // Opens every loading entry, splits the KV budget among those that need one, starts them. An entry that fails
    // is marked failed with its error and the others still load; returns the first failure (ok when all ready).
    Status load_all();

    // "" -> the default model. Errors: not_found (no such name), unavailable (nothing added yet, still loading,
    // or failed: the message says which and why).
    Result<std::shared_ptr<const ModelEntry>> find(std::string_view name) const;
    // Every entry in the order added, whatever its state.
    std::vector<std::shared_ptr<const ModelEntry>> entries() const;
    std::vector<std::shared_ptr<const ModelEntry>> ready_entries() const;  // remote ones included
    bool has_remote() const;  // any remote entry (lets the server skip the upstream check cheaply)
    bool all_ready() const;   // false while empty
    size_t size() const;

    // Stops every engine (unfinished requests end with an abort delta); idempotent.
    void stop_all();

private:
    Result<std::shared_ptr<ModelEntry>> insert(std::string name, std::unique_ptr<ModelBackend> backend, Role role,
                                               int64_t created_unix);

    LoadSettings settings_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<ModelEntry>> entries_;
};

}  // namespace duet::registry
