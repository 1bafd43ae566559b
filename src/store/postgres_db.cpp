// postgres_db.cpp: PostgresConnection, PostgresStatement and PostgresDatabase over libpq (see the header).
#include "store/postgres_db.h"

#include <cctype>
#include <cstdlib>

#include "common/assert.h"
#include "store/migrations.h"

namespace duet::store {
namespace {

// Every duet replica takes this transaction-scoped advisory lock before writing ("duet" then 1).
constexpr const char* kBeginWrite = "BEGIN; SELECT pg_advisory_xact_lock(7238803524958552065)";
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

void ignore_notice(void*, const char*) {}  // "relation already exists, skipping" and friends

std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

StatusCode code_for_sqlstate(std::string_view state) {
    if (state == "23505") return StatusCode::already_exists;              // unique_violation (primary keys too)
    if (state.substr(0, 2) == "23") return StatusCode::invalid_argument;  // other integrity constraints
    if (state.substr(0, 2) == "22") return StatusCode::out_of_range;      // data exceptions
    if (state.substr(0, 2) == "08" || state.substr(0, 2) == "53" || state.substr(0, 3) == "57P" || state == "40001" ||
        state == "40P01")
        return StatusCode::unavailable;  // connection, resources, shutdown, serialization, deadlock
    return StatusCode::io_error;
}

}  // namespace

std::string to_postgres_sql(std::string_view sql, int* max_param) {
    std::string out;
    int highest = 0;
    char quote = 0;  // inside '...' or "..."
    for (size_t i = 0; i < sql.size(); ++i) {
        char c = sql[i];
        if (quote) {
            out += c;
            if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out += c;
        } else if (c == '?' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
            int n = 0;
            out += '$';
            while (i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
                n = n * 10 + (sql[i + 1] - '0');
                out += sql[++i];
            }
            if (n > highest) highest = n;
        } else if (sql.compare(i, 4, "LIKE") == 0 &&
                   (i == 0 || !std::isalnum(static_cast<unsigned char>(sql[i - 1]))) &&
                   (i + 4 == sql.size() || !std::isalnum(static_cast<unsigned char>(sql[i + 4])))) {
            out += "ILIKE";
            i += 3;
        } else {
            out += c;
        }
    }
    if (max_param) *max_param = highest;
    return out;
}

// ---- PostgresStatement ----

void PostgresStatement::set(int index, std::optional<std::string> value) {
    DUET_ASSERT(index >= 1 && static_cast<size_t>(index) <= params_.size());
    params_[static_cast<size_t>(index) - 1] = std::move(value);
}

void PostgresStatement::bind_int64(int index, int64_t value) { set(index, std::to_string(value)); }
void PostgresStatement::bind_double(int index, double value) { set(index, strformat("%.17g", value)); }
void PostgresStatement::bind_text(int index, std::string_view value) { set(index, std::string(value)); }
void PostgresStatement::bind_null(int index) { set(index, std::nullopt); }

void PostgresStatement::reset() {
    if (result_) PQclear(result_);
    result_ = nullptr;
    row_ = -1;
    for (auto& p : params_) p.reset();
}

Result<bool> PostgresStatement::step() {
    if (!result_) {
        std::vector<const char*> values;
        for (const auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
        PGresult* r = PQexecPrepared(conn_->handle(), name_.c_str(), static_cast<int>(values.size()), values.data(),
                                     nullptr, nullptr, 0);
        ExecStatusType status = PQresultStatus(r);
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            Status err = conn_->error(r, sql_);
            PQclear(r);
            return err;
        }
        const char* tuples = PQcmdTuples(r);
        if (std::string_view(PQcmdStatus(r)).substr(0, 6) != "SELECT")
            conn_->set_changes(tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0);
        result_ = r;
        row_ = -1;
    }
    ++row_;
    return row_ < PQntuples(result_);
}

bool PostgresStatement::is_null(int col) const { return PQgetisnull(result_, row_, col) != 0; }
int64_t PostgresStatement::int64(int col) const { return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10); }
double PostgresStatement::real(int col) const { return std::strtod(PQgetvalue(result_, row_, col), nullptr); }

std::string PostgresStatement::text(int col) const {
    return std::string(PQgetvalue(result_, row_, col), static_cast<size_t>(PQgetlength(result_, row_, col)));
}

// ---- PostgresConnection ----

Result<std::unique_ptr<PostgresConnection>> PostgresConnection::connect(const std::string& url,
                                                                        const std::string& shown) {
    // connect_timeout and application_name first: the URL's own values, when it has them, come later and win.
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"10", "duet", url.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, 1);
    if (!conn) return Status::unavailable("store: '%s': out of memory connecting", shown.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string msg = trimmed(PQerrorMessage(conn));
        PQfinish(conn);
        return Status::unavailable("store: cannot connect to '%s': %s", shown.c_str(), msg.c_str());
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    return std::unique_ptr<PostgresConnection>(new PostgresConnection(conn));
}

PostgresConnection::~PostgresConnection() {
    statements_.clear();  // their results are cleared before the connection goes
    PQfinish(conn_);
}

Status PostgresConnection::error(const PGresult* result, std::string_view what) const {
    std::string where(what.substr(0, 80));
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string message = trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
    if (message.empty()) message = trimmed(PQerrorMessage(conn_));
    StatusCode code = state ? code_for_sqlstate(state) : StatusCode::unavailable;  // no SQLSTATE: the link failed
    return {code, strformat("store: %s: %s", message.c_str(), where.c_str())};
}

Result<Statement> PostgresConnection::prepare(const char* sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return Statement(it->second.get());
    int n_params = 0;
    std::string translated = to_postgres_sql(sql, &n_params);
    std::string name = "duet_s" + std::to_string(statements_.size() + 1);
    PGresult* r = PQprepare(conn_, name.c_str(), translated.c_str(), n_params, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        Status err = error(r, sql);
        PQclear(r);
        return err;
    }
    PQclear(r);
    auto backend = std::make_unique<PostgresStatement>(this, std::move(name), sql, n_params);
    Statement out(backend.get());
    statements_.emplace(sql, std::move(backend));
    return out;
}

Status PostgresConnection::exec(const char* sql) {
    PGresult* r = PQexec(conn_, sql);
    ExecStatusType status = PQresultStatus(r);
    Status st;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) st = error(r, sql);
    PQclear(r);
    return st;
}

Status PostgresConnection::begin_write() { return exec(kBeginWrite); }
Status PostgresConnection::begin_read() { return exec(kBeginRead); }

bool PostgresConnection::in_transaction() const {
    PGTransactionStatusType t = PQtransactionStatus(conn_);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

Result<bool> PostgresConnection::has_table(const char* name) {
    DUET_TRY(Statement s, prepare("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                                  "AND tablename = ?1"));
    DUET_TRY(bool row, s.bind(1, name).step());
    return row && s.int64(0) > 0;
}

// ---- PostgresDatabase ----

Result<std::unique_ptr<Database>> PostgresDatabase::open(const std::string& url, int target_version) {
    std::unique_ptr<PostgresDatabase> db(new PostgresDatabase());
    db->url_ = url;
    db->location_ = redact_location(url);
    DUET_TRY(std::unique_ptr<PostgresConnection> conn, PostgresConnection::connect(url, db->location_));
    DUET_RETURN_IF_ERROR(migrate(*conn, target_version).with_context("store: '" + db->location_ + "': "));
    DUET_TRY(db->schema_version_, read_schema_version(*conn));
    db->give_back(std::move(conn));
    return std::unique_ptr<Database>(std::move(db));
}

Result<std::unique_ptr<PostgresConnection>> PostgresDatabase::take() {
    {
        std::lock_guard<std::mutex> lock(idle_mutex_);
        if (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            return conn;
        }
    }
    return PostgresConnection::connect(url_, location_);
}

void PostgresDatabase::give_back(std::unique_ptr<PostgresConnection> conn) {
    if (conn->in_transaction()) (void)conn->exec("ROLLBACK");
    if (conn->broken() || conn->in_transaction()) return;  // a server restart or a lost link: open a fresh one later
    std::lock_guard<std::mutex> lock(idle_mutex_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
}

Status PostgresDatabase::in_transaction(bool writing, const std::function<Status(Connection&)>& fn) {
    DUET_TRY(std::unique_ptr<PostgresConnection> conn, take());
    Status st = writing ? conn->begin_write() : conn->begin_read();
    if (st.ok()) st = fn(*conn);
    if (st.ok() && PQtransactionStatus(conn->handle()) == PQTRANS_INERROR)  // COMMIT would silently roll back
        st = Status::io_error("store: a statement failed inside a transaction that was about to commit");
    if (st.ok()) st = conn->exec("COMMIT");
    give_back(std::move(conn));  // rolls back what is still open
    return st;
}

Status PostgresDatabase::write(const std::function<Status(Connection&)>& fn) { return in_transaction(true, fn); }
Status PostgresDatabase::read(const std::function<Status(Connection&)>& fn) { return in_transaction(false, fn); }

}  // namespace duet::store
