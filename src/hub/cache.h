// cache.h: the local model cache: GGUF files under one directory and a manifest naming them. No network.
// May include only common/ and hub/model_ref.h.
//
//   $DUET_MODELS_DIR (default ~/.cache/duet/models)/
//     manifest.json                 {"models": [ManifestEntry, ...]}, replaced atomically (write, fsync, rename)
//     manifest.lock                 flock()ed around every read-modify-write of the manifest
//     ORG/REPO/FILE.gguf            a verified download
//     ORG/REPO/FILE.gguf.part       an unfinished one (resumed with an HTTP Range request)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "hub/model_ref.h"

namespace duet::hub {

struct ManifestEntry {
    std::string repo;       // "org/name"
    std::string file;       // path inside the repo
    std::string quant;      // "Q4_K_M", or empty when the file name names none
    std::string sha256;     // verified digest, lowercase hex
    uint64_t size = 0;      // bytes
    std::string path;       // absolute path of the local file
    std::string pulled_at;  // UTC, ISO 8601

    // "org/name:Q4_K_M" (or "org/name/file.gguf" when the name holds no quant).
    std::string name() const;
};

// $DUET_MODELS_DIR, else $HOME/.cache/duet/models.
std::string default_cache_dir();

class ModelCache {
public:
    explicit ModelCache(std::string dir) : dir_(std::move(dir)) {}
    const std::string& dir() const { return dir_; }

    // Where a repo file lives in the cache (the .part file is this + ".part").
    std::string path_for(const std::string& repo, const std::string& file) const;

    // Every entry; an absent manifest is an empty cache; a corrupt one is an error naming the file.
    Result<std::vector<ManifestEntry>> entries() const;
    // Adds or replaces the entry for (repo, file).
    Status upsert(const ManifestEntry& entry) const;
    // Removes the entries and deletes their files.
    Status remove(const std::vector<ManifestEntry>& doomed) const;

private:
    std::string dir_;
};

// Entries that `spec` names: ORG/REPO:QUANT and ORG/REPO/FILE.gguf name one; a bare ORG/REPO names every entry of
// that repo (compare case-insensitively, as the hub does).
Result<std::vector<ManifestEntry>> find_entries(const std::vector<ManifestEntry>& entries, const std::string& spec);

// The local file for ORG/REPO[:QUANT|/FILE.gguf] from the manifest, for `duet serve -m NAME=ORG/REPO:QUANT`. No
// network. A bare ORG/REPO means its Q4_K_M, or its only entry. Not pulled -> not_found saying `duet pull SPEC`.
Result<std::string> resolve_local(const ModelCache& cache, const std::string& spec);

// Current UTC time as "2026-12-02T21:30:00Z".
std::string utc_now_iso8601();

}  // namespace duet::hub
