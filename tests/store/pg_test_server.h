// pg_test_server.h: the store suites run against both backends. Backend names the engine of a parameterised test;
// the PostgreSQL side uses one throwaway server per test run (tests/store/pg_test_server.sh, started by the ctest
// fixture `store_pg`, or by this binary itself when run directly) and gives every test a fresh schema in it.
// Where PostgreSQL is not installed the PostgreSQL cases skip with a loud message.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "store/store.h"
#include "store/test_util.h"

namespace duet::store::testing {

enum class Backend { sqlite, postgres };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
    return info.param == Backend::sqlite ? "sqlite" : "postgres";
}

// The server's base URL, or an error saying why there is none (not installed, failed to start).
Result<std::string> pg_server_url();
// A URL whose connections see only a new, empty schema (search_path) on the test server.
Result<std::string> fresh_pg_location();

// Where a test's database lives: DIR/duet.db for SQLite, a fresh schema for PostgreSQL. An error means skip.
Result<std::string> test_location(Backend backend, const TempDir& dir);

}  // namespace duet::store::testing

// In a test body or SetUp: `location` gets the test's database, or the test skips, loudly, without PostgreSQL.
#define DUET_STORE_LOCATION_OR_SKIP(location, backend, dir)                                                          \
    std::string location;                                                                                            \
    {                                                                                                                \
        auto duet_where = ::duet::store::testing::test_location((backend), (dir));                                   \
        if (!duet_where.ok())                                                                                        \
            GTEST_SKIP() << "*** PostgreSQL unavailable, test SKIPPED: " << duet_where.status().message() << " ***"; \
        location = std::move(duet_where).value();                                                                    \
    }
