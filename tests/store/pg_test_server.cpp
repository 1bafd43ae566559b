// pg_test_server.cpp: finding or starting the test server and making a fresh schema per test.
#include "store/pg_test_server.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

namespace duet::store::testing {
namespace {

const std::string kScript = std::string(DUET_SOURCE_DIR) + "/tests/store/pg_test_server.sh";

std::string read_url(const std::string& dir) {
    std::ifstream in(dir + "/url");
    std::string url;
    std::getline(in, url);
    return url;
}

bool answers(const std::string& url) { return !url.empty() && PQping(url.c_str()) == PQPING_OK; }

std::string own_server_dir;  // set when this process started the server (stopped at exit)

void stop_own_server() {
    if (!own_server_dir.empty()) (void)std::system(("sh '" + kScript + "' stop '" + own_server_dir + "'").c_str());
}

Result<std::string> find_or_start_server() {
    // The ctest fixture's server (tests/CMakeLists.txt: store_pg_start / store_pg_stop).
    std::string url = read_url(std::string(DUET_BINARY_DIR) + "/store-pg");
    if (answers(url)) return url;
    // Run directly (not under ctest): start one for this process.
    const char* base = std::getenv("TMPDIR");
    std::string dir = std::string(base && *base ? base : "/tmp") + "/duet-store-pg-" + std::to_string(getpid());
    std::fprintf(stderr, "[store tests] starting a PostgreSQL server in %s\n", dir.c_str());
    int rc = std::system(("sh '" + kScript + "' start '" + dir + "'").c_str());
    url = read_url(dir);
    if (rc != 0 || url.empty()) {
        (void)std::system(("sh '" + kScript + "' stop '" + dir + "'").c_str());
        return Status::unavailable("no PostgreSQL server (%s start %s: exit %d; is the postgresql package installed?)",
                                   kScript.c_str(), dir.c_str(), rc);
    }
    own_server_dir = dir;
    std::atexit(stop_own_server);
    return url;
}

}  // namespace

Result<std::string> pg_server_url() {
    static std::once_flag once;
    static Result<std::string> server = Status::unavailable("not looked for");
    std::call_once(once, [] {
        server = find_or_start_server();
        if (!server.ok())
            std::fprintf(stderr, "\n*** store tests: %s: every PostgreSQL case SKIPS ***\n\n",
                         server.status().message().c_str());
    });
    return server;
}

Result<std::string> fresh_pg_location() {
    DUET_TRY(std::string url, pg_server_url());
    static std::atomic<int> counter{0};
    std::string schema = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter.fetch_add(1));
    PGconn* conn = PQconnectdb(url.c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
        error = PQerrorMessage(conn);
    } else {
        PGresult* r = PQexec(conn, ("CREATE SCHEMA " + schema).c_str());
        if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQresultErrorMessage(r);
        PQclear(r);
    }
    PQfinish(conn);
    if (!error.empty()) return Status::unavailable("creating schema %s: %s", schema.c_str(), error.c_str());
    return url + "&options=-csearch_path%3D" + schema;
}

Result<std::string> test_location(Backend backend, const TempDir& dir) {
    if (backend == Backend::sqlite) return dir.file("duet.db");
    return fresh_pg_location();
}

}  // namespace duet::store::testing
