// test_width_probe.cpp: the 256- / 512-bit choice and the streaming prefetch hint (kernels/cpu/width_probe.h) on
// fabricated timings, their cache files (read back, damaged, unwritable) and the CPU model key.
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

TEST(PrefetchProbe, ChoosesNtaOnlyWhenClearlyFaster) {
    EXPECT_EQ(choose_prefetch({1.0, 0.40}), StreamPrefetch::t0);   // the Xeon with AMX: NTA 2.5x slower
    EXPECT_EQ(choose_prefetch({0.90, 1.0}), StreamPrefetch::nta);  // NTA clearly faster (Zen 5)
    EXPECT_EQ(choose_prefetch({0.97, 1.0}), StreamPrefetch::nta);  // exactly 3% faster
    EXPECT_EQ(choose_prefetch({0.99, 1.0}), StreamPrefetch::t0);   // about even
    EXPECT_EQ(choose_prefetch({0.0, 1.0}), StreamPrefetch::t0);    // no measurement: the default
    EXPECT_EQ(choose_prefetch({1.0, 0.0}), StreamPrefetch::t0);
}

TEST(PrefetchProbe, NamesAndCacheLinesRoundTripAndRejectDamage) {
    for (StreamPrefetch hint : {StreamPrefetch::nta, StreamPrefetch::t0}) {
        EXPECT_EQ(parse_stream_prefetch(stream_prefetch_name(hint)), hint);
        EXPECT_EQ(parse_prefetch_cache(format_prefetch_cache(hint, {1.5e-2, 6.0e-3})), hint);
    }
    EXPECT_EQ(format_prefetch_cache(StreamPrefetch::t0, {0.5, 0.25}), "t0 nta=0.5 t0=0.25\n");
    EXPECT_FALSE(parse_stream_prefetch("NTA"));
    EXPECT_FALSE(parse_stream_prefetch("t1"));
    EXPECT_FALSE(parse_prefetch_cache(""));
    EXPECT_FALSE(parse_prefetch_cache("t00 nta=1"));
    EXPECT_FALSE(parse_prefetch_cache("512 t256=1 t512=0.5"));  // a width line is not a hint
}

TEST_F(WidthCacheDir, PrefetchMeasuredOnceThenRead) {
    const std::string path = (dir_ / "duet" / "stream-prefetch-TestCPU-6-167").string();
    int calls = 0;
    const PrefetchChoice first = choose_prefetch_cached(path, [&] {
        ++calls;
        return PrefetchTimings{1.0, 0.4};
    });
    EXPECT_EQ(first.hint, StreamPrefetch::t0);
    EXPECT_FALSE(first.cached);
    EXPECT_DOUBLE_EQ(first.timings.nta, 1.0);
    const PrefetchChoice second = choose_prefetch_cached(path, [&] {
        ++calls;
        return PrefetchTimings{0.5, 1.0};  // would choose nta if it were measured again
    });
    EXPECT_EQ(second.hint, StreamPrefetch::t0);
    EXPECT_TRUE(second.cached);
    EXPECT_EQ(calls, 1);

    std::ofstream(path) << "garbage\n";  // damaged: measured again and rewritten
    EXPECT_EQ(choose_prefetch_cached(path,
                                     [&] {
                                         ++calls;
                                         return PrefetchTimings{0.5, 1.0};
                                     })
                  .hint,
              StreamPrefetch::nta);
    EXPECT_EQ(calls, 2);
    std::ifstream in(path);
    std::string word;
    in >> word;
    EXPECT_EQ(word, "nta");
}

TEST(WidthProbe, CachePathFollowsXdgThenHome) {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const std::string saved_xdg = xdg ? xdg : "";
    ::setenv("XDG_CACHE_HOME", "/tmp/xdg-test", 1);
    EXPECT_EQ(width_cache_path("K-1-2"), "/tmp/xdg-test/duet/vector-width-K-1-2");
    EXPECT_EQ(prefetch_cache_path("K-1-2"), "/tmp/xdg-test/duet/stream-prefetch-K-1-2");
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
    std::printf("[  NOTE    ] this CPU: %s; start-up choice: %s, backend %s; prefetch %s (%s)\n", key.c_str(),
                kernels::width_choice_note(), kernels::backend_name(kernels::active_backend()),
                kernels::prefetch_hint_name(), kernels::prefetch_choice_note());
}

}  // namespace
}  // namespace duet::cpu
