// test_response_cache_db.cpp: the eval response cache file: exact round trip, replace on put, keep on import,
// survives reopening, a file from a newer duet refused, concurrent writers.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "store/response_cache_db.h"
#include "store/test_util.h"

namespace duet::store {
namespace {

CachedResponse response(const std::string& text) {
    CachedResponse r;
    r.text = text;
    r.ttft_seconds = 0.125;
    r.total_seconds = 1.0 / 3.0;
    r.chunk_intervals = {0.01, 0.02, 1e-7};
    r.chunk_chars = {3, 3, 3, 1};
    return r;
}

TEST(ResponseCacheDb, RoundTripsExactlyAndSurvivesReopening) {
    testing::TempDir dir;
    const std::string path = dir.file("cache.sqlite");
    {
        Result<std::unique_ptr<ResponseCacheDb>> db = ResponseCacheDb::open(path);
        ASSERT_TRUE(db.ok()) << db.status().message();
        ASSERT_TRUE((*db)->put("t|u|m|1", response("一二三 four")).ok());
        CachedResponse empty;  // no chunks at all
        ASSERT_TRUE((*db)->put("t|u|m|2", empty).ok());
    }
    Result<std::unique_ptr<ResponseCacheDb>> db = ResponseCacheDb::open(path);
    ASSERT_TRUE(db.ok());
    auto one = (*db)->find("t|u|m|1");
    ASSERT_TRUE(one.ok());
    ASSERT_TRUE(one->has_value());
    EXPECT_EQ(**one, response("一二三 four"));
    auto two = (*db)->find("t|u|m|2");
    ASSERT_TRUE(two.ok() && two->has_value());
    EXPECT_EQ(**two, CachedResponse{});
    auto none = (*db)->find("t|u|m|3");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    EXPECT_EQ(*(*db)->count(), 2);
}

TEST(ResponseCacheDb, PutReplacesImportKeeps) {
    testing::TempDir dir;
    Result<std::unique_ptr<ResponseCacheDb>> db = ResponseCacheDb::open(dir.file("c.sqlite"));
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->put("k", response("first")).ok());
    ASSERT_TRUE((*db)->put("k", response("second")).ok());
    EXPECT_EQ((*(*db)->find("k"))->text, "second");
    Result<int> inserted = (*db)->put_many_if_absent({{"k", response("imported")}, {"new", response("imported")}});
    ASSERT_TRUE(inserted.ok()) << inserted.status().message();
    EXPECT_EQ(*inserted, 1);
    EXPECT_EQ((*(*db)->find("k"))->text, "second");
    EXPECT_EQ((*(*db)->find("new"))->text, "imported");
}

TEST(ResponseCacheDb, UsesWalAndRefusesAFileFromANewerDuet) {
    testing::TempDir dir;
    const std::string path = dir.file("c.sqlite");
    ASSERT_TRUE(ResponseCacheDb::open(path).ok());
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
    sqlite3_finalize(stmt);
    ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 2", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    Result<std::unique_ptr<ResponseCacheDb>> db = ResponseCacheDb::open(path);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), StatusCode::unsupported);
    EXPECT_NE(db.status().message().find("newer duet"), std::string::npos) << db.status().message();
}

TEST(ResponseCacheDb, ConcurrentPutsAllLand) {
    testing::TempDir dir;
    Result<std::unique_ptr<ResponseCacheDb>> db = ResponseCacheDb::open(dir.file("c.sqlite"));
    ASSERT_TRUE(db.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i)
                EXPECT_TRUE((*db)->put(std::to_string(t) + "/" + std::to_string(i), response("r")).ok());
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(*(*db)->count(), 100);
    EXPECT_EQ((*(*db)->find("3/24"))->chunk_chars, response("r").chunk_chars);
}

}  // namespace
}  // namespace duet::store
