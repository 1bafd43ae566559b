// test_crash.cpp: kill -9 during a write loop loses no acknowledged row.
//
//   parent                                  child (this binary re-executed, DUET_STORE_CRASH_CHILD=...)
//   create DB + 2 conversations
//   fork + exec ------------------------->  2 threads: append(); after it returns write "conv ordinal id text\n"
//   read acknowledgements from the pipe <-  to the pipe (one write() per line, atomic below PIPE_BUF)
//   after a random number of them and a random pause: SIGKILL
//   drain the pipe, reopen the DB: every acknowledged (id, ordinal, content) is there, ordinals have no gaps,
//   PRAGMA integrity_check says "ok"; repeat on the same file.
//
// The child is run from a static initializer (before gtest's main), so it is not a test of its own.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "store/store.h"
#include "store/test_util.h"

namespace duet::store {
namespace {

using namespace testing;

constexpr const char* kChildEnv = "DUET_STORE_CRASH_CHILD";  // "DBPATH|FD|CONV1|CONV2"

// One word (no spaces): the conversation, the child's pid, a counter.
std::string content_for(const std::string& conv, int64_t k) {
    return conv + ":" + std::to_string(getpid()) + ":" + std::to_string(k);
}

[[noreturn]] void child_main(const std::string& spec) {
    std::vector<std::string> parts;
    std::stringstream in(spec);
    for (std::string part; std::getline(in, part, '|');) parts.push_back(part);
    if (parts.size() != 4) _exit(2);
    int fd = std::atoi(parts[1].c_str());
    auto store = Store::open_file(parts[0]);  // synchronous=FULL, the default under test
    if (!store.ok()) _exit(3);
    auto writer = [&](const std::string& conv) {
        for (int64_t k = 0;; ++k) {
            auto m = (*store)->conversations().append(conv, user(content_for(conv, k)));
            if (!m.ok()) _exit(4);
            std::string line =
                conv + " " + std::to_string(m->ordinal) + " " + std::to_string(m->id) + " " + m->content + "\n";
            if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
        }
    };
    std::thread t1(writer, parts[2]);
    std::thread t2(writer, parts[3]);
    t1.join();  // never returns: the parent kills us
    _exit(6);
}

const bool kChildRan = [] {
    if (const char* spec = std::getenv(kChildEnv)) child_main(spec);
    return false;
}();

struct Ack {
    std::string conv;
    int64_t ordinal = 0;
    int64_t id = 0;
    std::string content;
};

// Starts the child, kills it after `acks_before_kill` acknowledgements and `pause_us`, returns every ack it sent.
std::vector<Ack> run_and_kill(const std::string& db, const std::string& c1, const std::string& c2, int acks_before_kill,
                              int pause_us) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        std::string spec = db + "|" + std::to_string(fds[1]) + "|" + c1 + "|" + c2;
        setenv(kChildEnv, spec.c_str(), 1);
        char exe[] = "/proc/self/exe";
        char* argv[] = {exe, nullptr};
        execv(exe, argv);
        _exit(7);
    }
    close(fds[1]);
    std::vector<Ack> acks;
    std::string buffer;
    bool killed = false;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n <= 0) break;  // EOF: the child is dead and every ack it wrote has been read
        buffer.append(chunk, static_cast<size_t>(n));
        size_t nl;
        while ((nl = buffer.find('\n')) != std::string::npos) {
            std::istringstream line(buffer.substr(0, nl));
            buffer.erase(0, nl + 1);
            Ack a;
            line >> a.conv >> a.ordinal >> a.id >> a.content;
            acks.push_back(a);
        }
        if (!killed && static_cast<int>(acks.size()) >= acks_before_kill) {
            std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
            kill(pid, SIGKILL);
            killed = true;
        }
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited on its own, status " << status;
    EXPECT_TRUE(buffer.empty()) << "a torn acknowledgement line: " << buffer;
    return acks;
}

TEST(Crash, KillNineDuringAWriteLoopLosesNoAcknowledgedRow) {
    TempDir dir;
    std::string db = dir.file("duet.db");
    std::string c1, c2;
    {
        auto store = Store::open_file(db);
        ASSERT_TRUE(store.ok());
        c1 = (*store)->conversations().create(titled("one"))->id;
        c2 = (*store)->conversations().create(titled("two"))->id;
    }
    uint32_t seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::map<int64_t, Ack> acknowledged;  // by message id
    for (int round = 0; round < 4; ++round) {
        int acks_before_kill = std::uniform_int_distribution<int>(5, 60)(rng);
        int pause_us = std::uniform_int_distribution<int>(0, 3000)(rng);
        auto acks = run_and_kill(db, c1, c2, acks_before_kill, pause_us);
        ASSERT_GE(static_cast<int>(acks.size()), acks_before_kill) << "round " << round;
        for (auto& a : acks) acknowledged[a.id] = a;

        auto store = Store::open_file(db);
        ASSERT_TRUE(store.ok()) << store.status().message();
        std::string integrity;
        ASSERT_TRUE((*store)
                        ->database()
                        .read([&](Connection& conn) -> Status {
                            DUET_TRY(Statement s, conn.prepare("PRAGMA integrity_check"));
                            DUET_TRY(bool row, s.step());
                            integrity = row ? s.text(0) : "";
                            return {};
                        })
                        .ok());
        EXPECT_EQ(integrity, "ok") << "round " << round;
        std::map<int64_t, Message> stored;
        for (const std::string& conv : {c1, c2}) {
            auto full = (*store)->conversations().get_with_messages(conv);
            ASSERT_TRUE(full.ok());
            for (size_t i = 0; i < full->messages.size(); ++i) {
                const Message& m = full->messages[i];
                ASSERT_EQ(m.ordinal, static_cast<int64_t>(i));
                ASSERT_EQ(m.content.rfind(conv + ":", 0), 0u) << m.content;
                stored[m.id] = m;
            }
        }
        int missing = 0;
        for (auto& [id, a] : acknowledged) {
            auto it = stored.find(id);
            if (it == stored.end() || it->second.ordinal != a.ordinal || it->second.content != a.content) ++missing;
        }
        EXPECT_EQ(missing, 0) << "round " << round << ": " << acknowledged.size() << " acknowledged, " << stored.size()
                              << " stored";
        // At most one unacknowledged commit per writer thread (committed, then killed before the ack).
        EXPECT_LE(stored.size(), acknowledged.size() + 2 * (round + 1));
    }
}

}  // namespace
}  // namespace duet::store
