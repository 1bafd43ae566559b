// test_serve_cli.cpp: `duet serve` start-up: a model that fails to load ends the process with an error and no
// "listening on" line (that line means the models are loaded), then the page's URL and a curl line to copy; the KV
// budget split and the --ctx warning.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace duet {
namespace {

TEST(ServeCli, AModelThatFailsToLoadIsReportedBeforeAnyListeningLine) {
    if (::access(test::duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    const std::string bad = test::temp_dir() + "/not-a-model.gguf";
    std::ofstream(bad) << "this is not a GGUF file";
    const std::string err = test::temp_dir() + "/serve_stderr.txt";
    const std::string cmd = "'" + test::duet_binary() + "' serve -m bad='" + bad + "' --port 0 2>'" + err + "'";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    const int status = ::pclose(pipe);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_EQ(out.find("listening on"), std::string::npos) << out;
    EXPECT_NE(test::read_file(err).find("model 'bad'"), std::string::npos) << test::read_file(err);
}

TEST(ServeCli, PrintsTheKvSplitAndWarnsWhenCtxDoesNotFit) {
    DUET_REQUIRE_FIXTURES();
    if (::access(test::duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    // stories260K: 640 bytes of f16 KV per token, so 256 KiB hold 25 blocks of 16 = 400 tokens.
    const std::string err = test::temp_dir() + "/serve_split_stderr.txt";
    std::vector<std::string> args = {test::duet_binary(),
                                     "serve",
                                     "-m",
                                     "stories=" + test::fixture("stories260K/stories260K.gguf"),
                                     "--port",
                                     "0",
                                     "-t",
                                     "1",
                                     "--kv-memory",
                                     "256K",
                                     "--ctx",
                                     "1000"};
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::dup2(out[1], 1);
        const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(err_fd, 2);
        ::close(out[0]);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    FILE* stdout_of_serve = ::fdopen(out[0], "r");
    char line[512] = {};
    const bool listening = stdout_of_serve && std::fgets(line, sizeof(line), stdout_of_serve) != nullptr;
    std::string rest;  // the page's URL, then a curl line for the first chat model
    for (char more[512]; listening && rest.find("curl") == std::string::npos &&
                         std::fgets(more, sizeof(more), stdout_of_serve) != nullptr;)
        rest += more;
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (stdout_of_serve) std::fclose(stdout_of_serve);
    ASSERT_TRUE(listening);
    EXPECT_NE(std::string(line).find("listening on"), std::string::npos) << line;
    EXPECT_NE(rest.find("chat page at http://127.0.0.1:"), std::string::npos) << rest;
    EXPECT_NE(rest.find("/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"stories\""),
              std::string::npos)
        << rest;
    const std::string log = test::read_file(err);
    EXPECT_NE(log.find("stories: 400 tokens of KV, context 400"), std::string::npos) << log;
    EXPECT_NE(log.find("--ctx 1,000 does not fit in its 400 tokens of KV: context 400"), std::string::npos) << log;
}

}  // namespace
}  // namespace duet
