// test_width_probe.cpp: the 256- / 512-bit choice (kernels/cpu/width_probe.h) on fabricated timings, its cache file
// (read back, damaged, unwritable) and the CPU model key.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "kernels/cpu/width_probe.h"
#include "kernels/kernels.h"

namespace duet::cpu {
namespace {

TEST(WidthProbe, Chooses512OnlyWhenClearlyFaster) {
    EXPECT_EQ(choose_width({1.0, 0.55}), VectorWidth::w512);  // a full-width datapath (Zen 5): ~2x
    EXPECT_EQ(choose_width({1.0, 0.90}), VectorWidth::w512);  // exactly 10% faster
    EXPECT_EQ(choose_width({1.0, 0.95}), VectorWidth::w256);  // a split datapath (Zen 4): about even
    EXPECT_EQ(choose_width({1.0, 1.30}), VectorWidth::w256);  // slower (frequency drop)
    EXPECT_EQ(choose_width({0.0, 0.5}), VectorWidth::w256);   // no measurement: the default
    EXPECT_EQ(choose_width({1.0, 0.0}), VectorWidth::w256);
}

TEST(WidthProbe, CacheLineRoundTripsAndRejectsDamage) {
    const std::string line = format_width_cache(VectorWidth::w512, {2.5e-5, 1.25e-5});
    EXPECT_EQ(line.rfind("512 ", 0), 0u) << line;
    EXPECT_EQ(parse_width_cache(line), VectorWidth::w512);
    EXPECT_EQ(parse_width_cache(format_width_cache(VectorWidth::w256, {1, 1})), VectorWidth::w256);
    EXPECT_EQ(parse_width_cache("256"), VectorWidth::w256);
    EXPECT_FALSE(parse_width_cache(""));
    EXPECT_FALSE(parse_width_cache("51"));
    EXPECT_FALSE(parse_width_cache("5120 t256=1"));
    EXPECT_FALSE(parse_width_cache("\x01\xff garbage"));
}

class WidthCacheDir : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("duet-width-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(WidthCacheDir, MeasuresOnceThenReadsTheCache) {
    const std::string path = (dir_ / "duet" / "vector-width-TestCPU-26-2").string();
    int calls = 0;
    auto measure = [&] {
        ++calls;
        return WidthTimings{2.0, 1.0};
    };
    const WidthChoice first = choose_width_cached(path, measure);
    EXPECT_EQ(first.width, VectorWidth::w512);
    EXPECT_FALSE(first.cached);
    EXPECT_DOUBLE_EQ(first.timings.t512, 1.0);
    EXPECT_EQ(calls, 1);
    ASSERT_TRUE(std::filesystem::exists(path)) << "the directory is created";

    const WidthChoice second = choose_width_cached(path, [&] {
        ++calls;
        return WidthTimings{1.0, 2.0};  // would choose 256 if it were measured again
    });
    EXPECT_EQ(second.width, VectorWidth::w512);
    EXPECT_TRUE(second.cached);
    EXPECT_EQ(calls, 1);
}

TEST_F(WidthCacheDir, DamagedCacheIsMeasuredAgainAndRewritten) {
    std::filesystem::create_directories(dir_);
    const std::string path = (dir_ / "vector-width-X").string();
    std::ofstream(path) << "garbage\n";
    int calls = 0;
    const WidthChoice choice = choose_width_cached(path, [&] {
        ++calls;
        return WidthTimings{1.0, 0.97};
    });
    EXPECT_EQ(choice.width, VectorWidth::w256);
    EXPECT_EQ(calls, 1);
    std::ifstream in(path);
    std::string first;
    in >> first;
    EXPECT_EQ(first, "256");
}

TEST_F(WidthCacheDir, UnwritableOrEmptyPathStillChooses) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "file") << "x";  // a file where the cache's directory should be
    const std::string path = (dir_ / "file" / "sub" / "vector-width-X").string();
    int calls = 0;
    auto measure = [&] {
        ++calls;
        return WidthTimings{3.0, 1.0};
    };
    EXPECT_EQ(choose_width_cached(path, measure).width, VectorWidth::w512);
    EXPECT_EQ(choose_width_cached("", measure).width, VectorWidth::w512);
    EXPECT_EQ(calls, 2);
}

TEST(WidthProbe, CachePathFollowsXdgThenHome) {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const std::string saved_xdg = xdg ? xdg : "";
    ::setenv("XDG_CACHE_HOME", "/tmp/xdg-test", 1);
    EXPECT_EQ(width_cache_path("K-1-2"), "/tmp/xdg-test/duet/vector-width-K-1-2");
    ::unsetenv("XDG_CACHE_HOME");
    if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
        EXPECT_EQ(width_cache_path("K"), std::string(home) + "/.cache/duet/vector-width-K");
    }
    if (!saved_xdg.empty()) ::setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
}

TEST(WidthProbe, ModelKeyIsAFileNameAndStable) {
    const std::string key = cpu_model_key();
    EXPECT_FALSE(key.empty());
    EXPECT_EQ(key.find('/'), std::string::npos);
    EXPECT_EQ(key, cpu_model_key());
    std::printf("[  NOTE    ] this CPU: %s; start-up choice: %s, backend %s\n", key.c_str(),
                kernels::width_choice_note(), kernels::backend_name(kernels::active_backend()));
}

}  // namespace
}  // namespace duet::cpu
