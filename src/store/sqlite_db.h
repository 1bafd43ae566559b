// sqlite_db.h: the SQLite backend of the store seam (database.h), the only SQLite wrapper in duet.
// SqliteConnection (one sqlite3 handle + its cache of prepared statements), SqliteStatement and SqliteDatabase
// (one writer connection behind a mutex, a pool of reader connections).
//
//   write(fn):  writer_mutex -> BEGIN IMMEDIATE -> fn(writer) -> COMMIT   (ROLLBACK when fn fails)
//   read(fn):   take an idle reader (or open one) -> BEGIN -> fn(reader) -> COMMIT -> back to the pool
//
// Every SQL statement is a string literal with `?N` parameters (prepared statements only, never built from input).
// Durability: journal_mode=WAL, synchronous=FULL by default (see DatabaseOptions): a commit returns only after the
// WAL is fsynced, so an acknowledged write survives kill -9 and power loss.
//
// May include: common/, store/database.h, <sqlite3.h>. Nothing outside src/store includes this file.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/database.h"

namespace duet::store {

class SqliteConnection;

class SqliteStatement final : public StatementBackend {
public:
    SqliteStatement(sqlite3_stmt* stmt, SqliteConnection* conn) : stmt_(stmt), conn_(conn) {}
    ~SqliteStatement() override { sqlite3_finalize(stmt_); }
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
    sqlite3_stmt* stmt_;
    SqliteConnection* conn_;
};

class SqliteConnection final : public Connection {
public:
    // Opens (creating when `create`) and applies the per-connection pragmas.
    static Result<std::unique_ptr<SqliteConnection>> open(const std::string& path, bool create, bool synchronous_full);
    ~SqliteConnection() override;

    Dialect dialect() const override { return Dialect::sqlite; }
    Result<Statement> prepare(const char* sql) override;
    Status exec(const char* sql) override;
    int64_t changes() const override { return sqlite3_changes64(db_); }
    Status begin_write() override { return exec("BEGIN IMMEDIATE"); }
    Status begin_read() override { return exec("BEGIN"); }
    bool in_transaction() const override { return !sqlite3_get_autocommit(db_); }
    Result<bool> has_table(const char* name) override;

    // Maps the last error on this connection to a Status ("store: <sqlite message>: <what>").
    Status error(int rc, std::string_view what) const;

private:
    explicit SqliteConnection(sqlite3* db) : db_(db) {}
    sqlite3* db_;
    std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> statements_;  // keyed by SQL text
};

class SqliteDatabase final : public Database {
public:
    // Opens the file, sets WAL mode and migrates up to `target_version`.
    static Result<std::unique_ptr<Database>> open(const std::string& path, int target_version, DatabaseOptions options);
    Status write(const std::function<Status(Connection&)>& fn) override;
    Status read(const std::function<Status(Connection&)>& fn) override;
    Dialect dialect() const override { return Dialect::sqlite; }

private:
    SqliteDatabase() = default;
    Result<std::unique_ptr<SqliteConnection>> take_reader();
    void return_reader(std::unique_ptr<SqliteConnection> conn);

    DatabaseOptions options_;
    std::mutex writer_mutex_;
    std::unique_ptr<SqliteConnection> writer_;
    std::mutex readers_mutex_;
    std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;
};

}  // namespace duet::store
