// store.h: everything duet keeps: the conversation and arena tables, in the SQLite file DIR/duet.db of one data
// directory (the default) or in a PostgreSQL database shared by several replicas (`--store postgres://…`). Callers
// see the same Store either way; database.h is the seam between the two backends.
//
// SQLite durability (the `synchronous` choice): WAL with synchronous=FULL. Each commit fsyncs the WAL before it returns,
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
#include "store/database.h"

namespace duet::store {

class Store {
public:
    // Creates DIR when missing, opens (or creates) DIR/duet.db, runs the migrations.
    static Result<std::unique_ptr<Store>> open(const std::string& data_dir, DatabaseOptions options = {});
    // Opens a SQLite file or a postgres:// URL (see database.h) and runs the migrations.
    static Result<std::unique_ptr<Store>> open_location(const std::string& location, DatabaseOptions options = {});
    // Opens a database file directly (tests, tools).
    static Result<std::unique_ptr<Store>> open_file(const std::string& path, DatabaseOptions options = {}) {
        return open_location(path, options);
    }

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
