// postgres_db.h: the PostgreSQL backend of the store seam (database.h), over libpq. Chosen by a location of the
// form postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS] (libpq's URI syntax; `host=/run/postgresql` in PARAMS for
// a Unix socket). Several duet replicas may share one database.
//
//   PostgresDatabase: a pool of connections (at most kMaxIdle kept idle; a broken one is dropped, not reused)
//   write(fn):  BEGIN -> pg_advisory_xact_lock(duet's key) -> fn(conn) -> COMMIT
//   read(fn):   BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY -> fn(conn) -> COMMIT
//
// The advisory lock serializes writers across every replica, as SQLite's single writer does across processes,
// so the stores' read-then-write transactions (next ordinal, next turn, "already voted?") keep their meaning.
// Writes are human-paced (a message, a vote); reads never wait for the lock.
//
// Statements are prepared once per connection (PQprepare, named s1, s2, …), parameters travel as text and result
// columns come back as text (doubles round-trip exactly: PostgreSQL 12+ prints the shortest exact form).
//
// May include: common/, store/database.h, <libpq-fe.h>. Nothing outside src/store includes this file.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/database.h"

namespace duet::store {

// SQLite-dialect SQL -> PostgreSQL: `?N` -> `$N` and LIKE -> ILIKE, outside quoted strings. `max_param` receives
// the highest N seen (0 when none).
std::string to_postgres_sql(std::string_view sql, int* max_param = nullptr);

class PostgresConnection;

class PostgresStatement final : public StatementBackend {
public:
    PostgresStatement(PostgresConnection* conn, std::string name, std::string sql, int n_params)
        : conn_(conn), name_(std::move(name)), sql_(std::move(sql)), params_(static_cast<size_t>(n_params)) {}
    ~PostgresStatement() override { reset(); }
    void bind_int64(int index, int64_t value) override;
    void bind_double(int index, double value) override;
    void bind_text(int index, std::string_view value) override;
    void bind_null(int index) override;
    Result<bool> step() override;
    bool is_null(int col) const override;
    int64_t int64(int col) const override;
    double real(int col) const override;
    std::string text(int col) const override;
    void reset() override;

private:
    void set(int index, std::optional<std::string> value);

    PostgresConnection* conn_;
    std::string name_;
    std::string sql_;
    std::vector<std::optional<std::string>> params_;
    PGresult* result_ = nullptr;
    int row_ = -1;
};

class PostgresConnection final : public Connection {
public:
    static Result<std::unique_ptr<PostgresConnection>> connect(const std::string& url, const std::string& shown);
    ~PostgresConnection() override;

    Dialect dialect() const override { return Dialect::postgres; }
    Result<Statement> prepare(const char* sql) override;
    Status exec(const char* sql) override;
    int64_t changes() const override { return changes_; }
    Status begin_write() override;
    Status begin_read() override;
    bool in_transaction() const override;
    Result<bool> has_table(const char* name) override;

    bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
    PGconn* handle() { return conn_; }
    // The Status for a failed result (SQLSTATE mapped to a StatusCode), "store: <message>: <what>".
    Status error(const PGresult* result, std::string_view what) const;
    void set_changes(int64_t n) { changes_ = n; }

private:
    explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
    PGconn* conn_;
    int64_t changes_ = 0;
    std::unordered_map<std::string, std::unique_ptr<PostgresStatement>> statements_;  // keyed by SQL text
};

class PostgresDatabase final : public Database {
public:
    static constexpr size_t kMaxIdle = 8;
    // Connects, checks the server answers, and migrates up to `target_version`.
    static Result<std::unique_ptr<Database>> open(const std::string& url, int target_version);
    Status write(const std::function<Status(Connection&)>& fn) override;
    Status read(const std::function<Status(Connection&)>& fn) override;
    Dialect dialect() const override { return Dialect::postgres; }

private:
    PostgresDatabase() = default;
    Result<std::unique_ptr<PostgresConnection>> take();
    void give_back(std::unique_ptr<PostgresConnection> conn);
    Status in_transaction(bool writing, const std::function<Status(Connection&)>& fn);

    std::string url_;
    std::mutex idle_mutex_;
    std::vector<std::unique_ptr<PostgresConnection>> idle_;
};

}  // namespace duet::store
