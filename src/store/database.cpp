// database.cpp: Statement's helpers and Database::open, which picks the backend from the location.
#include "store/database.h"

#include "store/migrations.h"
#include "store/postgres_db.h"
#include "store/sqlite_db.h"

namespace duet::store {

Status Statement::run() {
    for (;;) {
        DUET_TRY(bool row, step());
        if (!row) return {};
    }
}

Result<int64_t> Statement::run_returning_id() {
    DUET_TRY(bool row, step());
    if (!row) return Status::io_error("store: INSERT … RETURNING gave no row");
    return int64(0);
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

bool is_postgres_location(std::string_view location) {
    return location.rfind("postgres://", 0) == 0 || location.rfind("postgresql://", 0) == 0;
}

std::string redact_location(std::string_view location) {
    if (!is_postgres_location(location)) return std::string(location);
    // scheme://user:password@host... -> scheme://user:***@host...
    size_t authority = location.find("://") + 3;
    size_t at = location.find('@', authority);
    size_t slash = location.find('/', authority);
    std::string out(location);
    if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
        size_t colon = location.find(':', authority);
        if (colon != std::string_view::npos && colon < at) out = out.substr(0, colon + 1) + "***" + out.substr(at);
    }
    // ...?password=secret&... -> ...?password=***&...
    for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
        size_t start = p + 9;
        size_t end = out.find('&', start);
        out = out.substr(0, start) + "***" + (end == std::string::npos ? "" : out.substr(end));
    }
    return out;
}

Result<std::unique_ptr<Database>> Database::open(const std::string& location, DatabaseOptions options) {
    return open_at_version(location, kLatestSchemaVersion, options);
}

Result<std::unique_ptr<Database>> Database::open_at_version(const std::string& location, int version,
                                                            DatabaseOptions options) {
    if (is_postgres_location(location)) return PostgresDatabase::open(location, version);
    return SqliteDatabase::open(location, version, options);
}

}  // namespace duet::store
