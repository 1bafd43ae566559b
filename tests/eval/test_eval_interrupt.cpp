// test_eval_interrupt.cpp: Ctrl-C on the real `duet eval run` process: SIGINT while requests are in flight against a
// slow scripted server ends the run with exit 3, the partial results.json says incomplete, and the same command
// run again completes it without sending any request twice. Skips, loudly, when the duet binary is not built.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/scripted_server.h"
#include "support/fixtures.h"

namespace duet::eval {
namespace {

TEST(EvalInterrupt, CtrlCLeavesAResumableRun) {
    const std::string duet = test::duet_binary();
    if (!std::filesystem::exists(duet)) GTEST_SKIP() << "SKIPPED: no duet binary at " << duet << " (build target duet)";
    const std::string dir = test::temp_dir() + "/eval_interrupt";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string suite = dir + "/six.jsonl";
    {
        std::ofstream out(suite);
        for (int i = 0; i < 6; ++i)
            out << R"({"kind":"flow","id":"f)" << i << R"(","language":"en","title":"t","turns":[{"user":"Question )"
                << i << R"(?","checks":[{"check":"mention","any":["answer"]}]}]})"
                << "\n";
    }
    test::ScriptedServer s;
    for (int i = 0; i < 6; ++i) s.script["Question " + std::to_string(i) + "?"] = "The answer " + std::to_string(i);
    s.reply_delay_ms = 300;
    s.start();
    const std::vector<std::string> args = {
        duet,    "eval",       "run",           "--suite", suite, "--target", "a=" + s.url() + "#m",
        "--out", dir + "/out", "--concurrency", "1"};

    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::freopen("/dev/null", "w", stdout);
        std::freopen((dir + "/stderr.txt").c_str(), "w", stderr);
        std::vector<char*> argv;
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    // Interrupt once the second request has arrived (the first item done, the second in flight).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (s.total_requests() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GE(s.total_requests(), 2);
    ::kill(child, SIGINT);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 3) << test::read_file(dir + "/stderr.txt");
    EXPECT_NE(test::read_file(dir + "/stderr.txt").find("rerun the same command"), std::string::npos);
    const nlohmann::json partial = nlohmann::json::parse(test::read_file(dir + "/out/results.json"));
    EXPECT_FALSE(partial["complete"].get<bool>());
    const size_t done = partial["targets"][0]["items"].size();
    EXPECT_GE(done, 2u);  // the in-flight item finished
    EXPECT_LT(done, 6u);
    const int sent = s.total_requests();
    EXPECT_EQ(size_t(sent), done);

    // The same command again: only what is missing is sent, and the run completes.
    std::string command;
    for (const std::string& a : args) command += "'" + a + "' ";
    EXPECT_EQ(std::system((command + ">/dev/null 2>&1").c_str()), 0);
    const nlohmann::json full = nlohmann::json::parse(test::read_file(dir + "/out/results.json"));
    EXPECT_TRUE(full["complete"].get<bool>());
    EXPECT_EQ(full["targets"][0]["items"].size(), 6u);
    EXPECT_EQ(s.total_requests(), 6);
    for (const auto& [key, count] : s.requests()) EXPECT_EQ(count, 1) << key;
}

}  // namespace
}  // namespace duet::eval
