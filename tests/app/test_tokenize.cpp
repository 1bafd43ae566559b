// test_tokenize.cpp: `duet tokenize` end to end: the built binary run through popen.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

#include "support/fixtures.h"

namespace duet::test {
namespace {

struct RunResult {
    int exit_code = -1;
    std::string out;
};

// Runs `duet tokenize ARGS` (ARGS already shell-quoted); stdout, or stderr with 2>&1 in args.
RunResult run_tokenize(const std::string& args) {
    RunResult r;
    const std::string cmd = "'" + duet_binary() + "' tokenize " + args;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string qwen_vocab() { return "'" + fixture("vocab-derived/vocab-qwen2.5-instruct.derived.gguf") + "'"; }

TEST(Tokenize, JsonIds) {
    DUET_REQUIRE_FIXTURES();
    const RunResult r = run_tokenize("-m " + qwen_vocab() + " --json -- 'Hello world'");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "{\"ids\":[9707,1879]}\n");
}

TEST(Tokenize, ParseSpecialAndAddSpecial) {
    DUET_REQUIRE_FIXTURES();
    RunResult r = run_tokenize("-m " + qwen_vocab() + " --parse-special --json -- 'Hi<|im_end|>'");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "{\"ids\":[13048,151645]}\n");
    const std::string llama = "'" + fixture("vocab-derived/vocab-llama3-instruct.derived.gguf") + "'";
    r = run_tokenize("-m " + llama + " --add-special --json -- Hello world");  // words joined by one space
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "{\"ids\":[128000,9906,1917]}\n");
}

TEST(Tokenize, PiecesOnePerLine) {
    DUET_REQUIRE_FIXTURES();
    const RunResult r = run_tokenize("-m " + qwen_vocab() + " -- \"$(printf 'Hello world\\n\\\\')\"");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "9707\t'Hello'\n1879\t' world'\n198\t'\\n'\n59\t'\\\\'\n");
}

TEST(Tokenize, Errors) {
    DUET_REQUIRE_FIXTURES();
    RunResult r = run_tokenize("-m /no/such/file.gguf -- hi 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
    r = run_tokenize("-- hi 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("error: tokenize: -m MODEL.gguf is required"), std::string::npos) << r.out;
    r = run_tokenize("-m " + qwen_vocab() + " --bogus -- hi 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("unknown argument '--bogus'"), std::string::npos) << r.out;
    // not a GGUF file
    const std::string junk = temp_dir() + "/junk.gguf";
    std::FILE* f = std::fopen(junk.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("definitely not GGUF", f);
    std::fclose(f);
    r = run_tokenize("-m '" + junk + "' -- hi 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace duet::test
