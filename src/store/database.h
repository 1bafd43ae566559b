// database.h: the store's backend seam. ConversationStore, ArenaStore and the migrations talk to a Database
// (transactions), a Connection (prepared statements) and a Statement (bind, step, read columns) and never learn
// which engine is behind them:
//
//   location "…/duet.db"                         -> SQLite file   (sqlite_db.h: WAL, one writer + reader pool)
//   location "postgres://…" / "postgresql://…"   -> PostgreSQL    (postgres_db.h: libpq, a connection pool)
//
//   write(fn):  take the writer -> begin_write() -> fn(conn) -> COMMIT   (ROLLBACK when fn fails)
//   read(fn):   take a reader   -> begin_read()  -> fn(conn) -> COMMIT   (one consistent snapshot)
//
// SQL is written once, in SQLite's dialect with `?N` parameters, restricted to what both engines accept
// (RETURNING instead of last_insert_rowid, ON CONFLICT upserts, row-value comparisons). The PostgreSQL backend
// rewrites `?N` to `$N` and LIKE to ILIKE (SQLite's LIKE ignores ASCII case; ILIKE under the "C" collation
// the PostgreSQL schema uses does the same); migrations.cpp maps the column types of the shared DDL.
//
// May include: common/. Backends (sqlite_db.h, postgres_db.h) are included only inside src/store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace duet::store {

enum class Dialect { sqlite, postgres };

// What a backend's prepared statement does; Statement is the value callers hold.
class StatementBackend {
public:
    virtual ~StatementBackend() = default;
    virtual void bind_int64(int index, int64_t value) = 0;
    virtual void bind_double(int index, double value) = 0;
    virtual void bind_text(int index, std::string_view value) = 0;
    virtual void bind_null(int index) = 0;
    virtual Result<bool> step() = 0;
    virtual bool is_null(int col) const = 0;
    virtual int64_t int64(int col) const = 0;
    virtual double real(int col) const = 0;
    virtual std::string text(int col) const = 0;
    virtual void reset() = 0;  // back to unexecuted, parameters unbound
};

// A cached prepared statement borrowed from its Connection; reset and unbound when destroyed.
class Statement {
public:
    explicit Statement(StatementBackend* impl) : impl_(impl) {}
    Statement(Statement&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& operator=(Statement&&) = delete;
    ~Statement() {
        if (impl_) impl_->reset();
    }

    // Parameters are 1-based (`?1`). Text is copied.
    Statement& bind(int index, int64_t value) { return impl_->bind_int64(index, value), *this; }
    Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    Statement& bind(int index, bool value) { return bind(index, static_cast<int64_t>(value ? 1 : 0)); }
    Statement& bind(int index, double value) { return impl_->bind_double(index, value), *this; }
    Statement& bind(int index, std::string_view value) { return impl_->bind_text(index, value), *this; }
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind_null(int index) { return impl_->bind_null(index), *this; }
    template <typename T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // true: a row is ready; false: done. A unique / primary key violation is StatusCode::already_exists.
    Result<bool> step() { return impl_->step(); }
    // Step to the end, expecting no rows.
    Status run();
    // For `INSERT … RETURNING <key>`: steps once and returns the key column.
    Result<int64_t> run_returning_id();

    // Columns are 0-based.
    bool is_null(int col) const { return impl_->is_null(col); }
    int64_t int64(int col) const { return impl_->int64(col); }
    double real(int col) const { return impl_->real(col); }
    std::string text(int col) const { return impl_->text(col); }
    std::optional<int64_t> opt_int64(int col) const;
    std::optional<double> opt_real(int col) const;
    std::optional<std::string> opt_text(int col) const;
    std::optional<bool> opt_bool(int col) const;

private:
    StatementBackend* impl_;
};

class Connection {
public:
    virtual ~Connection() = default;
    virtual Dialect dialect() const = 0;
    // The cached statement for this SQL text (prepared once per connection). `sql` must be one statement.
    virtual Result<Statement> prepare(const char* sql) = 0;
    // Runs SQL without parameters (schema, BEGIN/COMMIT); may hold several statements.
    virtual Status exec(const char* sql) = 0;
    // Rows inserted, updated or deleted by the last statement run on this connection.
    virtual int64_t changes() const = 0;
    // Opens a write transaction that excludes every other writer of the database, in this process or another
    // (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN + a transaction-scoped advisory lock).
    virtual Status begin_write() = 0;
    // Opens a read-only transaction over one snapshot.
    virtual Status begin_read() = 0;
    virtual bool in_transaction() const = 0;
    // Whether the schema has this table (the migrations' first question).
    virtual Result<bool> has_table(const char* name) = 0;
};

struct DatabaseOptions {
    // SQLite only. true: synchronous=FULL (the WAL is fsynced at every commit: acknowledged writes survive power
    // loss). false: synchronous=NORMAL (survives kill -9, may lose the last commits on power loss). PostgreSQL
    // follows its server's synchronous_commit.
    bool synchronous_full = true;
    bool create = true;  // SQLite only: create the file when missing
};

// True for the locations that name a PostgreSQL server (postgres:// or postgresql:// URLs).
bool is_postgres_location(std::string_view location);
// The location with any password replaced by "***" (for logs and error messages).
std::string redact_location(std::string_view location);

class Database {
public:
    // Opens a SQLite file or connects to PostgreSQL (see the top of this file) and runs the schema migrations (see
    // migrations.h). A database written by a newer duet (schema version above the latest this binary knows) is
    // refused with StatusCode::unsupported.
    static Result<std::unique_ptr<Database>> open(const std::string& location, DatabaseOptions options = {});
    // Same, but migrates only up to `version` (tests: build an old database to upgrade later).
    static Result<std::unique_ptr<Database>> open_at_version(const std::string& location, int version,
                                                             DatabaseOptions options = {});
    virtual ~Database() = default;

    // fn runs inside a write transaction; writers are serialized (across processes too). COMMIT when fn returns ok
    // (its Status returned after the commit succeeded), ROLLBACK otherwise.
    virtual Status write(const std::function<Status(Connection&)>& fn) = 0;
    // fn runs inside one read transaction (a consistent snapshot).
    virtual Status read(const std::function<Status(Connection&)>& fn) = 0;
    virtual Dialect dialect() const = 0;

    int schema_version() const { return schema_version_; }
    // The file path or the URL (password redacted).
    const std::string& location() const { return location_; }

protected:
    int schema_version_ = 0;
    std::string location_;
};

}  // namespace duet::store
