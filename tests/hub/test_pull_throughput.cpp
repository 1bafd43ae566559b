// test_pull_throughput.cpp: a measurement, not a test (disabled; nothing timed is asserted): `duet pull` against
// `curl -o` for the same 200 MiB file from the fake hub on loopback. Run it by hand:
//   build/tests/duet_test_hub --gtest_also_run_disabled_tests --gtest_filter='*PullThroughput*'
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "hub/fake_hub.h"
#include "hub/sha256.h"
#include "support/fixtures.h"

namespace duet::hub {
namespace {

namespace fs = std::filesystem;

double seconds_of(const std::string& cmd) {
    const auto start = std::chrono::steady_clock::now();
    const int rc = std::system(cmd.c_str());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rc == 0 ? s : -1;
}

TEST(PullThroughput, DISABLED_DuetPullAgainstCurl) {
    constexpr size_t kBytes = size_t{200} << 20;
    const std::string content = test::make_bytes(kBytes, 11);
    test::FakeHub hub;
    hub.add_file("acme/Big-GGUF", "big-Q4_K_M.gguf", content);
    const std::string dir = test::temp_dir() + "/throughput";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string env = "-u HF_TOKEN -u HF_HUB_OFFLINE HF_ENDPOINT=" + hub.base_url() + " DUET_MODELS_DIR=" + dir;
    const std::string url = hub.base_url() + "/acme/Big-GGUF/resolve/main/big-Q4_K_M.gguf";
    const double curl_s = seconds_of("curl -sS -L -o " + dir + "/curl.gguf " + url);
    const double curl_sha_s = seconds_of("curl -sS -L " + url + " | tee " + dir + "/curl2.gguf | sha256sum >/dev/null");
    const double pull_s =
        seconds_of("env " + env + " " + test::duet_binary() + " pull -q acme/Big-GGUF:Q4_K_M >/dev/null");
    ASSERT_GT(curl_s, 0);
    ASSERT_GT(pull_s, 0);
    EXPECT_EQ(fs::file_size(dir + "/curl.gguf"), kBytes);
    EXPECT_EQ(fs::file_size(dir + "/acme/Big-GGUF/big-Q4_K_M.gguf"), kBytes);
    const double mib = static_cast<double>(kBytes) / (1 << 20);
    std::printf(
        "200 MiB on loopback: curl -o %.2f s (%.0f MiB/s); curl | tee | sha256sum %.2f s (%.0f MiB/s); "
        "duet pull (write + sha256 + manifest) %.2f s (%.0f MiB/s)\n",
        curl_s, mib / curl_s, curl_sha_s, mib / curl_sha_s, pull_s, mib / pull_s);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace duet::hub
