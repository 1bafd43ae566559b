// test_migrations.cpp: a fresh database, upgrading a v1 and a v2 file, refusing a newer schema, refusing a non-database.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <fstream>

#include "store/migrations.h"
#include "store/sqlite_db.h"
#include "store/store.h"
#include "store/test_util.h"

namespace duet::store {
namespace {

using namespace testing;

std::vector<std::string> table_names(Database& db) {
    std::vector<std::string> names;
    Status st = db.read([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"));
        for (;;) {
            DUET_TRY(bool row, s.step());
            if (!row) return {};
            names.push_back(s.text(0));
        }
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return names;
}

std::string pragma_text(Database& db, const char* sql) {
    std::string out;
    Status st = db.read([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare(sql));
        DUET_TRY(bool row, s.step());
        if (row) out = s.text(0);
        return {};
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
}

TEST(Migrations, FreshDatabaseIsAtTheLatestVersionInWalMode) {
    TempDir dir;
    auto db = Database::open(dir.file("duet.db"));
    ASSERT_TRUE(db.ok()) << db.status().message();
    EXPECT_EQ((*db)->schema_version(), kLatestSchemaVersion);
    auto names = table_names(**db);
    for (const char* t : {"conversations", "messages", "settings", "system_prompts", "battles", "battle_turns", "votes",
                          "studies", "study_questions", "participants", "study_answers", "schema_version"})
        EXPECT_NE(std::find(names.begin(), names.end(), t), names.end()) << t;
    EXPECT_EQ(pragma_text(**db, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(pragma_text(**db, "PRAGMA synchronous"), "2");  // FULL
    EXPECT_EQ(pragma_text(**db, "PRAGMA foreign_keys"), "1");
}

TEST(Migrations, NormalSynchronousWhenAsked) {
    TempDir dir;
    auto db = Database::open(dir.file("duet.db"), DatabaseOptions{false, true});
    ASSERT_TRUE(db.ok());
    EXPECT_EQ(pragma_text(**db, "PRAGMA synchronous"), "1");  // NORMAL
}

TEST(Migrations, UpgradesAVersion1FileKeepingItsRows) {
    TempDir dir;
    std::string path = dir.file("duet.db");
    std::string id;
    {
        auto db = Database::open_at_version(path, 1);
        ASSERT_TRUE(db.ok()) << db.status().message();
        EXPECT_EQ((*db)->schema_version(), 1);
        auto names = table_names(**db);
        EXPECT_EQ(std::find(names.begin(), names.end(), "battles"), names.end());  // v2 not there yet
        ConversationStore conversations(**db);
        auto c = conversations.create(titled("from v1"));
        ASSERT_TRUE(c.ok());
        id = c->id;
        ASSERT_TRUE(conversations.append(id, user("hello")).ok());
    }
    auto store = Store::open_file(path);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ((*store)->database().schema_version(), kLatestSchemaVersion);
    auto c = (*store)->conversations().get_with_messages(id);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->conversation.title, "from v1");
    ASSERT_EQ(c->messages.size(), 1u);
    EXPECT_EQ(c->messages[0].content, "hello");
    EXPECT_TRUE((*store)->arena().create_battle(battle_draft("x", "y")).ok());
}

TEST(Migrations, UpgradesAVersion2FileKeepingMessageIdsAndNeverReusingThem) {
    TempDir dir;
    std::string path = dir.file("duet.db");
    std::string id;
    int64_t answer_id = 0;
    {
        auto db = Database::open_at_version(path, 2);
        ASSERT_TRUE(db.ok()) << db.status().message();
        ConversationStore conversations(**db);
        auto c = conversations.create(titled("from v2"));
        ASSERT_TRUE(c.ok());
        id = c->id;
        ASSERT_TRUE(conversations.append(id, user("q")).ok());
        auto a = conversations.append(id, answer("a"));
        ASSERT_TRUE(a.ok());
        answer_id = a->id;
    }
    auto store = Store::open_file(path);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ((*store)->database().schema_version(), kLatestSchemaVersion);
    ConversationStore& conversations = (*store)->conversations();
    auto c = conversations.get_with_messages(id);
    ASSERT_TRUE(c.ok());
    ASSERT_EQ(c->messages.size(), 2u);
    EXPECT_EQ(c->messages[1].id, answer_id);
    EXPECT_EQ(c->messages[1].content, "a");
    ASSERT_TRUE(conversations.replace_tail(id, 1, {}).ok());
    auto again = conversations.append(id, answer("a again"));
    ASSERT_TRUE(again.ok());
    EXPECT_GT(again->id, answer_id);
    ASSERT_TRUE(conversations.remove(id).ok());  // the cascade still works on the rebuilt table
    EXPECT_EQ(conversations.get(id).status().code(), StatusCode::not_found);
}

TEST(Migrations, ReopeningIsANoOp) {
    TempDir dir;
    std::string path = dir.file("duet.db");
    for (int i = 0; i < 3; ++i) {
        auto db = Database::open(path);
        ASSERT_TRUE(db.ok()) << db.status().message();
        EXPECT_EQ((*db)->schema_version(), kLatestSchemaVersion);
    }
}

TEST(Migrations, RefusesAFileFromANewerDuet) {
    TempDir dir;
    std::string path = dir.file("duet.db");
    ASSERT_TRUE(Database::open(path).ok());
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    auto db = Database::open(path);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), StatusCode::unsupported);
    EXPECT_NE(db.status().message().find("newer duet"), std::string::npos) << db.status().message();
    EXPECT_NE(db.status().message().find("99"), std::string::npos) << db.status().message();
}

TEST(Migrations, RefusesAFileThatIsNotADatabase) {
    TempDir dir;
    std::string path = dir.file("duet.db");
    std::ofstream(path) << "this is not an SQLite database, just text that is long enough to have a header......";
    auto db = Database::open(path);
    ASSERT_FALSE(db.ok());
    EXPECT_NE(db.status().message().find(path), std::string::npos) << db.status().message();
}

TEST(Migrations, RejectsAnUnknownTargetVersion) {
    TempDir dir;
    auto db = Database::open_at_version(dir.file("duet.db"), kLatestSchemaVersion + 1);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace duet::store
