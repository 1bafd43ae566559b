// sqlite_db.cpp: SqliteConnection, SqliteStatement and SqliteDatabase over the SQLite C API.
#include "store/sqlite_db.h"

#include "common/assert.h"
#include "store/migrations.h"

namespace duet::store {

// ---- SqliteStatement ----

void SqliteStatement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

void SqliteStatement::bind_int64(int index, int64_t value) {
    DUET_ASSERT(sqlite3_bind_int64(stmt_, index, value) == SQLITE_OK);
}

void SqliteStatement::bind_double(int index, double value) {
    DUET_ASSERT(sqlite3_bind_double(stmt_, index, value) == SQLITE_OK);
}

void SqliteStatement::bind_text(int index, std::string_view value) {
    // A non-null pointer even for "" so that an empty string is stored as '' and not NULL.
    DUET_ASSERT(sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(), SQLITE_TRANSIENT,
                                    SQLITE_UTF8) == SQLITE_OK);
}

void SqliteStatement::bind_null(int index) { DUET_ASSERT(sqlite3_bind_null(stmt_, index) == SQLITE_OK); }

Result<bool> SqliteStatement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return conn_->error(rc, sqlite3_sql(stmt_));
}

bool SqliteStatement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t SqliteStatement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double SqliteStatement::real(int col) const { return sqlite3_column_double(stmt_, col); }

std::string SqliteStatement::text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

// ---- SqliteConnection ----

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const std::string& path, bool create,
                                                                 bool synchronous_full) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        return Status::io_error("store: cannot open '%s': %s", path.c_str(), msg.c_str());
    }
    std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
    sqlite3_extended_result_codes(db, 1);
    // Several connections (and processes) share the file: wait for a lock instead of failing with SQLITE_BUSY.
    sqlite3_busy_timeout(db, 10000);
    DUET_RETURN_IF_ERROR(conn->exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
                             .with_context("store: '" + path + "': "));
    DUET_RETURN_IF_ERROR(conn->exec("PRAGMA foreign_keys=ON").with_context("store: '" + path + "': "));
    return conn;
}

SqliteConnection::~SqliteConnection() {
    statements_.clear();  // finalized before the handle closes
    sqlite3_close(db_);
}

Result<Statement> SqliteConnection::prepare(const char* sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return Statement(it->second.get());
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return error(rc, sql);
    auto backend = std::make_unique<SqliteStatement>(stmt, this);
    Statement out(backend.get());
    statements_.emplace(sql, std::move(backend));
    return out;
}

Status SqliteConnection::exec(const char* sql) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return error(rc, sql);
    return {};
}

Result<bool> SqliteConnection::has_table(const char* name) {
    DUET_TRY(Statement s, prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1"));
    DUET_TRY(bool row, s.bind(1, name).step());
    return row && s.int64(0) > 0;
}

Status SqliteConnection::error(int rc, std::string_view what) const {
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

// ---- SqliteDatabase ----

Result<std::unique_ptr<Database>> SqliteDatabase::open(const std::string& path, int target_version,
                                                       DatabaseOptions options) {
    std::unique_ptr<SqliteDatabase> db(new SqliteDatabase());
    db->location_ = path;
    db->options_ = options;
    DUET_TRY(db->writer_, SqliteConnection::open(path, options.create, options.synchronous_full));
    SqliteConnection& w = *db->writer_;
    // WAL: readers never block the writer nor each other; the setting is stored in the file.
    {
        DUET_TRY(Statement mode, w.prepare("PRAGMA journal_mode=WAL"));
        DUET_TRY(bool row, mode.step());
        if (!row || mode.text(0) != "wal")
            return Status::io_error("store: '%s': cannot switch to WAL mode", path.c_str());
    }
    DUET_RETURN_IF_ERROR(migrate(w, target_version).with_context("store: '" + path + "': "));
    DUET_TRY(db->schema_version_, read_schema_version(w));
    return std::unique_ptr<Database>(std::move(db));
}

Status SqliteDatabase::write(const std::function<Status(Connection&)>& fn) {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    SqliteConnection& w = *writer_;
    DUET_RETURN_IF_ERROR(w.begin_write());
    Status st = fn(w);
    if (st.ok()) {
        st = w.exec("COMMIT");
        if (st.ok()) return st;
    }
    if (w.in_transaction()) (void)w.exec("ROLLBACK");
    return st;
}

Status SqliteDatabase::read(const std::function<Status(Connection&)>& fn) {
    DUET_TRY(std::unique_ptr<SqliteConnection> r, take_reader());
    Status st = r->begin_read();
    if (st.ok()) {
        st = fn(*r);
        if (r->in_transaction()) {
            Status end = r->exec("COMMIT");
            if (st.ok()) st = end;
        }
    }
    return_reader(std::move(r));
    return st;
}

Result<std::unique_ptr<SqliteConnection>> SqliteDatabase::take_reader() {
    {
        std::lock_guard<std::mutex> lock(readers_mutex_);
        if (!idle_readers_.empty()) {
            auto conn = std::move(idle_readers_.back());
            idle_readers_.pop_back();
            return conn;
        }
    }
    return SqliteConnection::open(location_, false, options_.synchronous_full);
}

void SqliteDatabase::return_reader(std::unique_ptr<SqliteConnection> conn) {
    if (conn->in_transaction()) (void)conn->exec("ROLLBACK");
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (idle_readers_.size() < 8) idle_readers_.push_back(std::move(conn));
}

}  // namespace duet::store
