// sqlite_db.h: the only SQLite wrapper in duet. Connection (one sqlite3 handle + its cache of prepared statements),
// Statement (a borrowed cached statement: bind, step, read columns; reset when it goes away) and Database (one
// writer connection behind a mutex, a pool of reader connections).
//
//   write(fn):  writer_mutex -> BEGIN IMMEDIATE -> fn(writer) -> COMMIT   (ROLLBACK when fn fails)
//   read(fn):   take an idle reader (or open one) -> BEGIN -> fn(reader) -> COMMIT -> back to the pool
//
// Every SQL statement is a string literal with `?N` parameters (prepared statements only, never built from input).
// Durability: journal_mode=WAL, synchronous=FULL by default (see DatabaseOptions and src/store/README section in
// the top-level README): a commit returns only after the WAL is fsynced, so an acknowledged write survives kill -9
// and power loss.
//
// May include: common/, <sqlite3.h>. Nothing outside src/store includes this file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace duet::store {

class Connection;

// A cached prepared statement borrowed from its Connection; reset and unbound when destroyed.
class Statement {
public:
    Statement(sqlite3_stmt* stmt, Connection* conn) : stmt_(stmt), conn_(conn) {}
    Statement(Statement&& other) noexcept : stmt_(other.stmt_), conn_(other.conn_) { other.stmt_ = nullptr; }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& operator=(Statement&&) = delete;
    ~Statement();

    // Parameters are 1-based (`?1`). Text is copied (SQLITE_TRANSIENT).
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    Statement& bind(int index, bool value) { return bind(index, static_cast<int64_t>(value ? 1 : 0)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind_null(int index);
    template <typename T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // true: a row is ready; false: done. A constraint violation is StatusCode::already_exists.
    Result<bool> step();
    // Step to the end, expecting no rows.
    Status run();

    // Columns are 0-based.
    bool is_null(int col) const;
    int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    std::optional<int64_t> opt_int64(int col) const;
    std::optional<double> opt_real(int col) const;
    std::optional<std::string> opt_text(int col) const;
    std::optional<bool> opt_bool(int col) const;

private:
    sqlite3_stmt* stmt_;
    Connection* conn_;
};

class Connection {
public:
    // Opens (creating when `create`) and applies the per-connection pragmas.
    static Result<std::unique_ptr<Connection>> open(const std::string& path, bool create, bool synchronous_full);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // The cached statement for this SQL text (prepared once per connection). `sql` must be one statement.
    Result<Statement> prepare(const char* sql);
    // Runs SQL without parameters (schema, BEGIN/COMMIT, pragmas); may hold several statements.
    Status exec(const char* sql);
    int64_t last_insert_rowid() const;
    int changes() const;
    std::string errmsg() const;
    // Maps the last error on this connection to a Status ("store: <what>: <sqlite message>").
    Status error(int rc, std::string_view what) const;
    sqlite3* handle() { return db_; }

private:
    explicit Connection(sqlite3* db) : db_(db) {}
    sqlite3* db_;
    std::unordered_map<std::string, sqlite3_stmt*> statements_;  // keyed by SQL text
};

struct DatabaseOptions {
    // true: synchronous=FULL (the WAL is fsynced at every commit: acknowledged writes survive power loss).
    // false: synchronous=NORMAL (survives a process crash / kill -9, may lose the last commits on power loss).
    bool synchronous_full = true;
    bool create = true;  // create the file when missing
};

class Database {
public:
    // Opens the file, sets WAL mode and runs the schema migrations (see migrations.h). A file written by a newer
    // duet (schema version above the latest this binary knows) is refused with StatusCode::unsupported.
    static Result<std::unique_ptr<Database>> open(const std::string& path, DatabaseOptions options = {});
    // Same, but migrates only up to `version` (tests: build an old database to upgrade later).
    static Result<std::unique_ptr<Database>> open_at_version(const std::string& path, int version,
                                                             DatabaseOptions options = {});
    ~Database();

    // fn runs on the writer connection inside BEGIN IMMEDIATE; writes are serialized by a mutex. COMMIT when fn
    // returns ok (its Status returned after the commit succeeded), ROLLBACK otherwise.
    Status write(const std::function<Status(Connection&)>& fn);
    // fn runs on a reader connection inside one read transaction (a consistent snapshot).
    Status read(const std::function<Status(Connection&)>& fn);

    int schema_version() const { return schema_version_; }
    const std::string& path() const { return path_; }

private:
    Database() = default;
    static Result<std::unique_ptr<Database>> open_impl(const std::string& path, int target_version,
                                                       DatabaseOptions options);
    Result<std::unique_ptr<Connection>> take_reader();
    void return_reader(std::unique_ptr<Connection> conn);

    std::string path_;
    DatabaseOptions options_;
    int schema_version_ = 0;
    std::mutex writer_mutex_;
    std::unique_ptr<Connection> writer_;
    std::mutex readers_mutex_;
    std::vector<std::unique_ptr<Connection>> idle_readers_;
};

}  // namespace duet::store
