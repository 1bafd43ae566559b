// serve_config.h: `duet serve --config FILE`: the YAML config file (README "duet serve: the config file") read into
// the parts of ServeConfig it sets: local models (with load on demand: preload, keep_alive, context, KV), upstream
// pools, the router's roles, the memory budget and the defaults. libyaml (Debian's libyaml-dev) reads the text;
// every error is "FILE:LINE: reason" and nothing is half-applied (the caller exits at start).
//
//   memory_budget: 8G        kv_memory: 1G        keep_alive: 5m        load_timeout: 120        context: 4096
//   models:    - {name, model (FILE.gguf | ORG/REPO[:QUANT] | script:FILE.jsonl), role, preload, keep_alive,
//                 context, kv_memory}
//   upstreams: - {name, urls (a list or one URL), model, key}
//   roles:     {expert: NAME, daily: NAME}
//
// Relative model paths are taken from the config file's folder when a file is there. Model names of the hub
// (ORG/REPO) are left for the caller to resolve (src/app: the hub cache); `line` says where each model was.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/serve.h"
#include "upstream/upstream_args.h"

namespace duet::server {

struct ConfigModel {
    ModelSpec spec;                    // preload false unless the file says preload: true
    std::optional<double> keep_alive;  // its own keep_alive (else the default)
    int line = 0;                      // where its entry starts (1-based)
};

struct ServeConfigFile {
    std::vector<ConfigModel> models;
    std::vector<upstream::UpstreamSpec> upstreams;
    std::string expert_model, daily_model;  // roles: (or a model's role:)
    std::optional<size_t> memory_budget_bytes, kv_memory_bytes;
    std::optional<double> keep_alive_seconds, load_timeout_seconds;
    std::optional<int32_t> context_length;
};

// `file_name` names the text in errors; `base_dir` is where relative model paths are looked up ("" = as given).
Result<ServeConfigFile> parse_serve_config(std::string_view text, const std::string& file_name,
                                           const std::string& base_dir);
// Reads and parses `path` (errors: cannot read, then as above).
Result<ServeConfigFile> load_serve_config(const std::string& path);

// "512M", "2G", "1048576" (bytes; K/M/G/T are powers of 1024). Errors name the text.
Result<size_t> parse_byte_size(std::string_view text);

}  // namespace duet::server
