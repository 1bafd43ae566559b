// test_version.cpp: `duet --version` prints "duet MAJOR.MINOR.PATCH" on stdout and exits 0.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <string>

#include "support/fixtures.h"

namespace duet {
namespace {

TEST(Version, PrintsTheVersionAndExitsZero) {
    if (::access(test::duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    for (const char* flag : {"--version", "-V"}) {
        const std::string cmd = "'" + test::duet_binary() + "' " + flag;
        FILE* pipe = ::popen(cmd.c_str(), "r");
        ASSERT_NE(pipe, nullptr);
        std::string out;
        char buf[256];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
        const int status = ::pclose(pipe);
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0);
        EXPECT_TRUE(std::regex_match(out, std::regex("duet [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << out;
    }
}

}  // namespace
}  // namespace duet
