// response_cache_db.cpp: the eval response cache table (see response_cache_db.h). Chunk timings are stored as
// space-separated numbers (%.17g round-trips a double exactly), which keeps the file readable with sqlite3.
#include "store/response_cache_db.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "store/sqlite_db.h"

namespace duet::store {
namespace {

constexpr int kCacheSchemaVersion = 1;

constexpr const char* kCreateResponses = R"sql(
CREATE TABLE IF NOT EXISTS responses (
    key             TEXT PRIMARY KEY,   -- target|url|model|hash of the request body
    text            TEXT NOT NULL,      -- the reply (for a log-likelihood call: the number as text)
    ttft_seconds    REAL NOT NULL,      -- -1: no content chunk
    total_seconds   REAL NOT NULL,
    chunk_intervals TEXT NOT NULL,      -- seconds between content chunks, space-separated
    chunk_chars     TEXT NOT NULL,      -- code points per content chunk, space-separated
    created_at      INTEGER NOT NULL    -- ms since the Unix epoch
);
PRAGMA user_version = 1;
)sql";

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

template <typename T>
std::string join_numbers(const std::vector<T>& values) {
    std::string out;
    char buf[32];
    for (const T& v : values) {
        std::snprintf(buf, sizeof buf, "%.17g", double(v));
        if (!out.empty()) out += ' ';
        out += buf;
    }
    return out;
}

std::vector<double> split_numbers(const std::string& text) {
    std::vector<double> out;
    const char* p = text.c_str();
    for (;;) {
        char* end = nullptr;
        const double v = std::strtod(p, &end);
        if (end == p) break;
        out.push_back(v);
        p = end;
    }
    return out;
}

Status bind_and_run(Statement& insert, const std::string& key, const CachedResponse& r) {
    insert.bind(1, key)
        .bind(2, r.text)
        .bind(3, r.ttft_seconds)
        .bind(4, r.total_seconds)
        .bind(5, join_numbers(r.chunk_intervals))
        .bind(6, join_numbers(r.chunk_chars))
        .bind(7, now_ms());
    return insert.run();
}

}  // namespace

ResponseCacheDb::ResponseCacheDb(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
ResponseCacheDb::~ResponseCacheDb() = default;

Result<std::unique_ptr<ResponseCacheDb>> ResponseCacheDb::open(const std::string& path) {
    DUET_TRY(std::unique_ptr<SqliteConnection> conn,
             SqliteConnection::open(path, /*create=*/true, /*synchronous_full=*/true));
    const std::string where = "response cache '" + path + "': ";
    {
        DUET_TRY(Statement mode, conn->prepare("PRAGMA journal_mode=WAL"));
        DUET_TRY(bool row, mode.step());
        if (!row || mode.text(0) != "wal") return Status::io_error("%scannot switch to WAL mode", where.c_str());
    }
    int version = 0;
    {
        DUET_TRY(Statement v, conn->prepare("PRAGMA user_version"));
        DUET_TRY(bool row, v.step());
        version = row ? int(v.int64(0)) : 0;
    }
    if (version > kCacheSchemaVersion)
        return Status::unsupported("%sschema version %d was written by a newer duet (this one knows %d)", where.c_str(),
                                   version, kCacheSchemaVersion);
    if (version < kCacheSchemaVersion) {
        DUET_RETURN_IF_ERROR(conn->exec(kCreateResponses).with_context(where));
    }
    return std::unique_ptr<ResponseCacheDb>(new ResponseCacheDb(std::move(conn)));
}

Result<std::optional<CachedResponse>> ResponseCacheDb::find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    DUET_TRY(Statement select,
             conn_->prepare("SELECT text, ttft_seconds, total_seconds, chunk_intervals, chunk_chars FROM responses "
                            "WHERE key = ?1"));
    select.bind(1, key);
    DUET_TRY(bool row, select.step());
    if (!row) return std::optional<CachedResponse>();
    CachedResponse r;
    r.text = select.text(0);
    r.ttft_seconds = select.real(1);
    r.total_seconds = select.real(2);
    r.chunk_intervals = split_numbers(select.text(3));
    for (double c : split_numbers(select.text(4))) r.chunk_chars.push_back(int(c));
    return std::optional<CachedResponse>(std::move(r));
}

Status ResponseCacheDb::put(const std::string& key, const CachedResponse& response) {
    std::lock_guard<std::mutex> lock(mutex_);
    DUET_TRY(Statement insert,
             conn_->prepare("INSERT OR REPLACE INTO responses (key, text, ttft_seconds, total_seconds, "
                            "chunk_intervals, chunk_chars, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    return bind_and_run(insert, key, response);
}

Result<int> ResponseCacheDb::put_many_if_absent(const std::vector<std::pair<std::string, CachedResponse>>& rows) {
    std::lock_guard<std::mutex> lock(mutex_);
    DUET_RETURN_IF_ERROR(conn_->exec("BEGIN IMMEDIATE"));
    int inserted = 0;
    Status st;
    for (const auto& [key, response] : rows) {
        auto insert = conn_->prepare(
            "INSERT OR IGNORE INTO responses (key, text, ttft_seconds, total_seconds, chunk_intervals, chunk_chars, "
            "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        st = insert.ok() ? bind_and_run(*insert, key, response) : insert.status();
        if (!st.ok()) break;
        inserted += conn_->changes();
    }
    if (st.ok()) st = conn_->exec("COMMIT");
    if (!st.ok()) {
        if (conn_->in_transaction()) (void)conn_->exec("ROLLBACK");
        return st;
    }
    return inserted;
}

Result<int64_t> ResponseCacheDb::count() {
    std::lock_guard<std::mutex> lock(mutex_);
    DUET_TRY(Statement n, conn_->prepare("SELECT count(*) FROM responses"));
    DUET_TRY(bool row, n.step());
    return row ? n.int64(0) : 0;
}

}  // namespace duet::store
