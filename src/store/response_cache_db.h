// response_cache_db.h: the eval response cache as a SQLite file of its own (`duet eval run --out DIR` keeps it at
// DIR/cache.sqlite), separate from the data directory's duet.db: a run's cache travels with its results and is
// deleted with them. One table, one row per model call:
//
//   responses(key PRIMARY KEY, text, ttft_seconds, total_seconds, chunk_intervals, chunk_chars, created_at)
//             key = "target|url|model|hash of the exact request body" (built by eval::cache_key)
//
// WAL with synchronous=FULL: put() returns after its commit is fsynced, so a reply the runner has seen survives
// kill -9 and Ctrl-C (the file never holds a torn entry). Many threads may call find()/put(): one connection behind
// a mutex (calls are model-paced; a lookup is microseconds next to a reply). The file's own schema version lives in
// PRAGMA user_version (1); a file from a newer duet is refused.
//
// May include: common/, store/sqlite_db.h (in the .cpp). Knows nothing of eval's types.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace duet::store {

class Connection;

// One cached model call: the reply text and its timing as measured on the stream.
struct CachedResponse {
    std::string text;
    double ttft_seconds = -1;  // -1: no content chunk
    double total_seconds = 0;
    std::vector<double> chunk_intervals;  // seconds between consecutive content chunks
    std::vector<int> chunk_chars;         // code points per content chunk
    bool operator==(const CachedResponse&) const = default;
};

class ResponseCacheDb {
public:
    // Opens (creating when missing) the cache file at `path` and its table.
    static Result<std::unique_ptr<ResponseCacheDb>> open(const std::string& path);
    ~ResponseCacheDb();

    Result<std::optional<CachedResponse>> find(const std::string& key);
    // Inserts or replaces the row of `key`; committed (fsynced) when it returns ok.
    Status put(const std::string& key, const CachedResponse& response);
    // Many rows in one transaction (an import); rows whose key is already present are kept, not replaced.
    // Returns how many were inserted.
    Result<int> put_many_if_absent(const std::vector<std::pair<std::string, CachedResponse>>& rows);
    Result<int64_t> count();

private:
    explicit ResponseCacheDb(std::unique_ptr<Connection> conn);
    std::mutex mutex_;
    std::unique_ptr<Connection> conn_;
};

}  // namespace duet::store
