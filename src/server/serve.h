// serve.h: `duet serve` as one call: listen, load every model into a registry (/health is 503 meanwhile), serve
// until SIGINT/SIGTERM, then stop the engines and the server.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "registry/registry.h"
#include "server/routes_api_arena.h"
#include "server/server.h"
#include "upstream/upstream_args.h"

namespace duet::server {

struct ModelSpec {
    std::string name, path;
    registry::Role role = registry::Role::none;
    // Load on demand (registry.h): preloaded at start (the default for -m) or on its first request; its keep_alive
    // (< 0: forever), KV reserve (0: an equal share of --kv-memory) and context (0: --ctx).
    bool preload = true;
    double keep_alive_seconds = -1;
    size_t kv_memory_bytes = 0;
    int32_t context_length = 0;
};

struct ServeConfig {
    ServerOptions server;
    registry::LoadSettings load;
    std::vector<ModelSpec> models;  // the first is the default
    // The router (route_roles.h): --expert / --daily model names (empty: the chat models named expert and daily),
    // --route-config / --route-model files (empty: the built-in keyword list and router model).
    std::string expert_model, daily_model;
    std::string route_keywords_path, route_model_path;
    // --upstream NAME=URL[#model]: remote models, listed after the local ones (a pool per name).
    std::vector<upstream::UpstreamSpec> upstreams;
    upstream::PoolOptions upstream_options;  // --upstream-key and the pool's settings
    // Where the store keeps conversations (DIR/duet.db): --data-dir, else $XDG_DATA_HOME/duet or
    // ~/.local/share/duet (store/data_dir.h).
    std::string data_dir;
    // --store postgres://…: keep them in PostgreSQL instead (store/database.h); empty: SQLite in data_dir.
    std::string store_url;
    ArenaOptions arena;  // the arena's /api routes (vote rate limit, turns, answer length)
};

// Blocks until a signal; errors: the data directory cannot be opened, the port cannot be bound, a model fails to
// load (named with its file), a router file is invalid (file, line, reason), --expert/--daily name no chat model.
Status serve_until_signal(const ServeConfig& config);

}  // namespace duet::server
