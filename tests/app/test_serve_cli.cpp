// test_serve_cli.cpp: `duet serve` start-up order: a model that fails to load ends the process with an error and
// no "listening on" line (that line means the models are loaded).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

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

}  // namespace
}  // namespace duet
