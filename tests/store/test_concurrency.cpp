// test_concurrency.cpp: several threads (and two Store objects on one database, as two processes or two duet
// replicas would be) appending at once: every append succeeds (no SQLITE_BUSY or lock error reaches the caller), no
// row is lost, ordinals stay 0..n-1 without gaps, and readers see consistent snapshots meanwhile. Each test runs
// on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "store/pg_test_server.h"
#include "store/store.h"
#include "store/test_util.h"

namespace duet::store {
namespace {

using namespace testing;

constexpr int kThreads = 6;
constexpr int kPerThread = 60;

void append_many(ConversationStore& conv, const std::string& id, int thread, std::atomic<int>* failures,
                 std::string* first_error) {
    for (int i = 0; i < kPerThread; ++i) {
        auto m = conv.append(id, user("t" + std::to_string(thread) + "-" + std::to_string(i)));
        if (!m.ok() && failures->fetch_add(1) == 0) *first_error = m.status().message();
    }
}

void check_conversation(ConversationStore& conv, const std::string& id, int n_threads) {
    auto full = conv.get_with_messages(id);
    ASSERT_TRUE(full.ok());
    ASSERT_EQ(full->messages.size(), static_cast<size_t>(n_threads * kPerThread));
    std::set<std::string> contents;
    for (size_t i = 0; i < full->messages.size(); ++i) {
        EXPECT_EQ(full->messages[i].ordinal, static_cast<int64_t>(i));
        contents.insert(full->messages[i].content);
    }
    EXPECT_EQ(contents.size(), full->messages.size());  // each append exactly once
    // Each thread's own messages are in the order it sent them.
    for (int t = 0; t < n_threads; ++t) {
        int next = 0;
        std::string prefix = "t" + std::to_string(t) + "-";
        for (auto& m : full->messages) {
            if (m.content.rfind(prefix, 0) == 0) {
                EXPECT_EQ(m.content, prefix + std::to_string(next++));
            }
        }
        EXPECT_EQ(next, kPerThread);
    }
}

class Concurrency : public ::testing::TestWithParam<Backend> {};

TEST_P(Concurrency, ThreadsAppendingToOneConversationLoseNothing) {
    TempDir dir;
    DUET_STORE_LOCATION_OR_SKIP(location, GetParam(), dir);
    auto store = Store::open_location(location, DatabaseOptions{false, true});  // locking, not fsync, is tested
    ASSERT_TRUE(store.ok());
    ConversationStore& conv = (*store)->conversations();
    auto c = conv.create(titled("shared"));
    ASSERT_TRUE(c.ok());
    std::atomic<int> failures{0};
    std::string first_error;
    std::atomic<bool> done{false};
    std::atomic<int> reader_errors{0};
    std::thread reader([&] {
        int64_t last = 0;
        while (!done.load()) {
            auto full = conv.get_with_messages(c->id);
            if (!full.ok()) ++reader_errors;
            else {
                // A snapshot: the count never goes back and matches message_count.
                if (static_cast<int64_t>(full->messages.size()) < last ||
                    full->conversation.message_count != static_cast<int64_t>(full->messages.size()))
                    ++reader_errors;
                last = static_cast<int64_t>(full->messages.size());
            }
            if (!conv.list(list_query(10, "t1-")).ok()) ++reader_errors;
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t)
        writers.emplace_back(append_many, std::ref(conv), c->id, t, &failures, &first_error);
    for (auto& w : writers) w.join();
    done = true;
    reader.join();
    EXPECT_EQ(failures.load(), 0) << first_error;
    EXPECT_EQ(reader_errors.load(), 0);
    check_conversation(conv, c->id, kThreads);
}

// Two replicas: two Store objects on one database (one file, or one PostgreSQL schema).
TEST_P(Concurrency, TwoStoresOnOneDatabaseWaitForEachOther) {
    TempDir dir;
    DUET_STORE_LOCATION_OR_SKIP(location, GetParam(), dir);
    auto first = Store::open_location(location, DatabaseOptions{false, true});
    auto second = Store::open_location(location, DatabaseOptions{false, true});
    ASSERT_TRUE(first.ok() && second.ok());
    auto c = (*first)->conversations().create(titled("two writers"));
    ASSERT_TRUE(c.ok());
    std::atomic<int> failures{0};
    std::string first_error;
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
        ConversationStore& conv = (t % 2 ? *second : *first)->conversations();
        writers.emplace_back(append_many, std::ref(conv), c->id, t, &failures, &first_error);
    }
    for (auto& w : writers) w.join();
    EXPECT_EQ(failures.load(), 0) << first_error;  // busy_timeout / the advisory lock absorb the waits
    check_conversation((*second)->conversations(), c->id, 4);
}

TEST_P(Concurrency, ConcurrentVotesOnOneBattleAcceptExactlyOne) {
    TempDir dir;
    DUET_STORE_LOCATION_OR_SKIP(location, GetParam(), dir);
    auto store = Store::open_location(location, DatabaseOptions{false, true});
    ASSERT_TRUE(store.ok());
    ArenaStore& arena = (*store)->arena();
    auto b = arena.create_battle(battle_draft("x", "y"));
    ASSERT_TRUE(b.ok());
    std::atomic<int> accepted{0}, refused{0}, other{0};
    std::vector<std::thread> voters;
    for (int t = 0; t < 8; ++t) {
        voters.emplace_back([&, t] {
            Vote v;
            v.winner = t % 2 ? Verdict::a : Verdict::b;
            Status st = arena.vote(b->id, v);
            if (st.ok()) ++accepted;
            else if (st.code() == StatusCode::already_exists) ++refused;
            else ++other;
        });
    }
    for (auto& v : voters) v.join();
    EXPECT_EQ(accepted.load(), 1);
    EXPECT_EQ(refused.load(), 7);
    EXPECT_EQ(other.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, Concurrency, ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

}  // namespace
}  // namespace duet::store
