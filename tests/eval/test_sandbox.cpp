// test_sandbox.cpp: untrusted Python is stopped and reported: infinite loop, sleep past the wall limit, fork
// bomb, memory hog, a write outside the temp dir, a TCP connection to a listener on loopback. Skips loudly when
// python3 is absent; isolation the kernel refuses is reported by the sandbox and skips the matching test loudly.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "eval/sandbox.h"

namespace duet::eval {
namespace {

SandboxLimits test_limits() {
    SandboxLimits limits;
    limits.cpu_seconds = 2;
    limits.wall_seconds = 20;  // generous: the CI machine may be busy; the CPU limit ends the loop test
    return limits;
}

SandboxResult run(const std::string& code, const SandboxLimits& limits = test_limits()) {
    Result<SandboxResult> r = run_python_sandboxed(code, limits);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : SandboxResult{};
}

#define REQUIRE_PYTHON()                                                              \
    do {                                                                              \
        if (find_python3().empty()) GTEST_SKIP() << "SKIPPED: python3 not installed"; \
    } while (0)

std::string notes(const SandboxResult& r) {
    std::string out;
    for (const std::string& n : r.isolation.notes) out += n + "; ";
    return out;
}

TEST(Sandbox, RunsCodeAndWritesOnlyItsTempDir) {
    REQUIRE_PYTHON();
    const SandboxResult r =
        run("import os\nopen('out.txt','w').write('hi')\nprint(open('out.txt').read(), "
            "os.getcwd().startswith('/tmp/duet-sandbox-'))\n");
    EXPECT_EQ(r.outcome, SandboxOutcome::ok) << r.stderr_text;
    EXPECT_EQ(r.stdout_text, "hi True\n");
    EXPECT_EQ(r.exit_code, 0);
    std::cout << "isolation: " << notes(r) << "\n";
}

TEST(Sandbox, FailingAssertIsFailed) {
    REQUIRE_PYTHON();
    const SandboxResult r = run("assert 1 + 1 == 3, 'math'\n");
    EXPECT_EQ(r.outcome, SandboxOutcome::failed);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.stderr_text.find("AssertionError: math"), std::string::npos);
}

TEST(Sandbox, InfiniteLoopHitsTheCpuLimit) {
    REQUIRE_PYTHON();
    const SandboxResult r = run("while True:\n    pass\n");
    EXPECT_EQ(r.outcome, SandboxOutcome::cpu_limit) << sandbox_outcome_name(r.outcome) << " signal " << r.signal;
}

TEST(Sandbox, SleepingPastTheWallLimitIsKilled) {
    REQUIRE_PYTHON();
    SandboxLimits limits = test_limits();
    limits.wall_seconds = 1;
    const SandboxResult r = run("import time\ntime.sleep(60)\n", limits);
    EXPECT_EQ(r.outcome, SandboxOutcome::timeout);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_LT(r.wall_seconds, 30.0);
}

TEST(Sandbox, ForkBombIsStoppedByTheProcessLimit) {
    REQUIRE_PYTHON();
    const SandboxResult probe = run("pass\n");
    if (!probe.isolation.processes) GTEST_SKIP() << "SKIPPED: RLIMIT_NPROC does not apply here: " << notes(probe);
    const SandboxResult r = run("import os\nwhile True:\n    os.fork()\n");
    EXPECT_EQ(r.outcome, SandboxOutcome::process_limit)
        << sandbox_outcome_name(r.outcome) << ": " << r.stderr_text.substr(0, 300);
}

TEST(Sandbox, MemoryHogIsStoppedByTheAddressSpaceLimit) {
    REQUIRE_PYTHON();
    const SandboxResult r = run("x = bytearray(2 << 30)\nprint(len(x))\n");
    EXPECT_EQ(r.outcome, SandboxOutcome::memory_limit) << r.stderr_text;
    EXPECT_EQ(r.stdout_text, "");
}

TEST(Sandbox, WriteOutsideTheTempDirIsRefused) {
    REQUIRE_PYTHON();
    const SandboxResult probe = run("pass\n");
    if (!probe.isolation.filesystem) GTEST_SKIP() << "SKIPPED: no filesystem confinement here: " << notes(probe);
    const std::string target = "/tmp/duet-sandbox-escape-" + std::to_string(getpid());
    const SandboxResult r = run("open('" + target + "', 'w').write('escaped')\n");
    EXPECT_EQ(r.outcome, SandboxOutcome::failed);
    EXPECT_NE(r.stderr_text.find("PermissionError"), std::string::npos) << r.stderr_text;
    EXPECT_FALSE(std::filesystem::exists(target));
    std::filesystem::remove(target);
}

TEST(Sandbox, NetworkAccessToLoopbackIsRefused) {
    REQUIRE_PYTHON();
    const SandboxResult probe = run("pass\n");
    if (!probe.isolation.network) GTEST_SKIP() << "SKIPPED: no network isolation here: " << notes(probe);
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listener, 4), 0);
    socklen_t len = sizeof(addr);
    getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    const int port = ntohs(addr.sin_port);
    const SandboxResult r = run("import socket\nsocket.create_connection(('127.0.0.1', " + std::to_string(port) +
                                "), timeout=3).sendall(b'x')\nprint('connected')\n");
    EXPECT_EQ(r.outcome, SandboxOutcome::failed) << r.stdout_text;
    EXPECT_EQ(r.stdout_text, "");
    EXPECT_NE(r.stderr_text.find("Error"), std::string::npos);
    EXPECT_LT(accept(listener, nullptr, nullptr), 0);  // nobody got through
    close(listener);
}

TEST(Sandbox, OutputIsCappedAndTheTempDirRemoved) {
    REQUIRE_PYTHON();
    SandboxLimits limits = test_limits();
    limits.max_output_bytes = 1000;
    const SandboxResult r = run("import os\nprint(os.getcwd())\nprint('x' * 100000)\n", limits);
    EXPECT_EQ(r.outcome, SandboxOutcome::ok);
    EXPECT_EQ(r.stdout_text.size(), 1000u);
    EXPECT_TRUE(r.output_truncated);
    const std::string dir = r.stdout_text.substr(0, r.stdout_text.find('\n'));
    EXPECT_EQ(dir.rfind("/tmp/duet-sandbox-", 0), 0u);
    EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace duet::eval
