// store.h: everything duet keeps on disk, opened from one data directory: the SQLite file DIR/duet.db with its
// conversation and arena tables.
//
// Durability (the `synchronous` choice): WAL with synchronous=FULL. Each commit fsyncs the WAL before it returns,
// so a write the store has acknowledged survives kill -9 *and* a power cut. synchronous=NORMAL would survive a
// process crash too (the WAL is in the OS page cache) but can lose the last commits on power loss. Our writes are
// human-paced (a message, a vote), so one fsync each (~1-10 ms on a disk) is invisible next to a model's answer;
// bulk writes (imports, create_battles) are one transaction, so one fsync.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "store/arena_store.h"
#include "store/conversation_store.h"
#include "store/sqlite_db.h"

namespace duet::store {

class Store {
public:
    // Creates DIR when missing, opens (or creates) DIR/duet.db, runs the migrations.
    static Result<std::unique_ptr<Store>> open(const std::string& data_dir, DatabaseOptions options = {});
    // Opens a database file directly (tests, tools).
    static Result<std::unique_ptr<Store>> open_file(const std::string& path, DatabaseOptions options = {});

    ConversationStore& conversations() { return conversations_; }
    ArenaStore& arena() { return arena_; }
    Database& database() { return *db_; }

private:
    explicit Store(std::unique_ptr<Database> db) : db_(std::move(db)), conversations_(*db_), arena_(*db_) {}
    std::unique_ptr<Database> db_;
    ConversationStore conversations_;
    ArenaStore arena_;
};

}  // namespace duet::store
