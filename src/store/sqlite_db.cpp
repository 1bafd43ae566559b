// sqlite_db.cpp: Connection, Statement and Database over the SQLite C API.
#include "store/sqlite_db.h"

#include "common/assert.h"
#include "store/migrations.h"

namespace duet::store {

// ---- Statement ----

Statement::~Statement() {
    if (stmt_) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
}

Statement& Statement::bind(int index, int64_t value) {
    DUET_ASSERT(sqlite3_bind_int64(stmt_, index, value) == SQLITE_OK);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    DUET_ASSERT(sqlite3_bind_double(stmt_, index, value) == SQLITE_OK);
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    // A non-null pointer even for "" so that an empty string is stored as '' and not NULL.
    DUET_ASSERT(sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(), SQLITE_TRANSIENT,
                                    SQLITE_UTF8) == SQLITE_OK);
    return *this;
}

Statement& Statement::bind_null(int index) {
    DUET_ASSERT(sqlite3_bind_null(stmt_, index) == SQLITE_OK);
    return *this;
}

Result<bool> Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return conn_->error(rc, sqlite3_sql(stmt_));
}

Status Statement::run() {
    for (;;) {
        DUET_TRY(bool row, step());
        if (!row) return {};
    }
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Statement::text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::optional<int64_t> Statement::opt_int64(int col) const {
    return is_null(col) ? std::nullopt : std::optional<int64_t>(int64(col));
}
std::optional<double> Statement::opt_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional<double>(real(col));
}
std::optional<std::string> Statement::opt_text(int col) const {
    return is_null(col) ? std::nullopt : std::optional<std::string>(text(col));
}
std::optional<bool> Statement::opt_bool(int col) const {
    return is_null(col) ? std::nullopt : std::optional<bool>(int64(col) != 0);
}

// ---- Connection ----

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, bool create, bool synchronous_full) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        return Status::io_error("store: cannot open '%s': %s", path.c_str(), msg.c_str());
    }
    std::unique_ptr<Connection> conn(new Connection(db));
    sqlite3_extended_result_codes(db, 1);
    // Several connections (and processes) share the file: wait for a lock instead of failing with SQLITE_BUSY.
    sqlite3_busy_timeout(db, 10000);
    DUET_RETURN_IF_ERROR(conn->exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
                             .with_context("store: '" + path + "': "));
    DUET_RETURN_IF_ERROR(conn->exec("PRAGMA foreign_keys=ON").with_context("store: '" + path + "': "));
    return conn;
}

Connection::~Connection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
}

Result<Statement> Connection::prepare(const char* sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return Statement(it->second, this);
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return error(rc, sql);
    statements_.emplace(sql, stmt);
    return Statement(stmt, this);
}

Status Connection::exec(const char* sql) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return error(rc, sql);
    return {};
}

int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }
std::string Connection::errmsg() const { return sqlite3_errmsg(db_); }

Status Connection::error(int rc, std::string_view what) const {
    std::string where(what.substr(0, 80));
    std::string msg = strformat("store: %s: %s", sqlite3_errmsg(db_), where.c_str());
    switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
            if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                return {StatusCode::already_exists, msg};
            return {StatusCode::invalid_argument, msg};
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return {StatusCode::unavailable, msg};
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return {StatusCode::invalid_data, msg};
        case SQLITE_TOOBIG:
        case SQLITE_RANGE:
            return {StatusCode::out_of_range, msg};
        default:
            return {StatusCode::io_error, msg};
    }
}

// ---- Database ----

Result<std::unique_ptr<Database>> Database::open(const std::string& path, DatabaseOptions options) {
    return open_impl(path, kLatestSchemaVersion, options);
}

Result<std::unique_ptr<Database>> Database::open_at_version(const std::string& path, int version,
                                                            DatabaseOptions options) {
    return open_impl(path, version, options);
}

Result<std::unique_ptr<Database>> Database::open_impl(const std::string& path, int target_version,
                                                      DatabaseOptions options) {
    std::unique_ptr<Database> db(new Database());
    db->path_ = path;
    db->options_ = options;
    DUET_TRY(db->writer_, Connection::open(path, options.create, options.synchronous_full));
    Connection& w = *db->writer_;
    // WAL: readers never block the writer nor each other; the setting is stored in the file.
    {
        DUET_TRY(Statement mode, w.prepare("PRAGMA journal_mode=WAL"));
        DUET_TRY(bool row, mode.step());
        if (!row || mode.text(0) != "wal")
            return Status::io_error("store: '%s': cannot switch to WAL mode", path.c_str());
    }
    DUET_RETURN_IF_ERROR(migrate(w, target_version).with_context("store: '" + path + "': "));
    DUET_TRY(db->schema_version_, read_schema_version(w));
    return db;
}

Database::~Database() = default;

Status Database::write(const std::function<Status(Connection&)>& fn) {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Connection& w = *writer_;
    DUET_RETURN_IF_ERROR(w.exec("BEGIN IMMEDIATE"));
    Status st = fn(w);
    if (st.ok()) {
        st = w.exec("COMMIT");
        if (st.ok()) return st;
    }
    if (!sqlite3_get_autocommit(w.handle())) (void)w.exec("ROLLBACK");
    return st;
}

Status Database::read(const std::function<Status(Connection&)>& fn) {
    DUET_TRY(std::unique_ptr<Connection> r, take_reader());
    Status st = r->exec("BEGIN");
    if (st.ok()) {
        st = fn(*r);
        if (!sqlite3_get_autocommit(r->handle())) {
            Status end = r->exec("COMMIT");
            if (st.ok()) st = end;
        }
    }
    return_reader(std::move(r));
    return st;
}

Result<std::unique_ptr<Connection>> Database::take_reader() {
    {
        std::lock_guard<std::mutex> lock(readers_mutex_);
        if (!idle_readers_.empty()) {
            auto conn = std::move(idle_readers_.back());
            idle_readers_.pop_back();
            return conn;
        }
    }
    return Connection::open(path_, false, options_.synchronous_full);
}

void Database::return_reader(std::unique_ptr<Connection> conn) {
    if (!sqlite3_get_autocommit(conn->handle())) (void)conn->exec("ROLLBACK");
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (idle_readers_.size() < 8) idle_readers_.push_back(std::move(conn));
}

}  // namespace duet::store
