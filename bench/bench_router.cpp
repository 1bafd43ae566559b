// bench_router.cpp: one routing decision of the built-in router (no encoder) for messages of 200 characters in
// the policy's main shapes, a 1 MB message, the keyword automaton alone, and the percentiles of single decisions on
// 200-character messages (the "p99 < 0.2 ms": counters p50/p99/max in µs, wall clock and thread CPU time;
// on a busy machine the wall figures include preemption, the CPU ones do not).
//   build/bench/duet_bench_bench_router --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   build/bench/duet_bench_bench_router --benchmark_filter=percentiles
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "router/router.h"
#include "router/text_scan.h"

namespace {

using duet::router::Router;

const Router& router() {
    static const Router r = [] {
        auto made = Router::create_default();
        if (!made.ok()) {
            std::fprintf(stderr, "%s\n", made.status().message().c_str());
            std::abort();
        }
        return std::move(made).value();
    }();
    return r;
}

// Repeats `unit` until the text has `chars` codepoints.
std::string of_chars(const std::string& unit, size_t chars) {
    std::string out;
    size_t n = 0;
    for (size_t i = 0; n < chars; i = (i + 1) % unit.size()) {
        const auto c = static_cast<unsigned char>(unit[i]);
        if ((c & 0xC0) != 0x80) {
            if (n == chars) break;
            ++n;
        }
        out.push_back(unit[i]);
    }
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0) out.pop_back();
    return out;
}

const std::string kChinese =
    "老板让我写个周报，但我这周就改了个bug，咋写才显得忙？今天又是被生活毒打的一天，晚上吃点啥好呢。";
const std::string kMixed =
    "React hooks里useEffect的依赖数组到底咋写？docker compose 启动 redis 一直报错 connection refused。";
const std::string kEnglish =
    "How do I rebase my feature branch onto main without losing commits? The CI pipeline keeps failing. ";
const std::string kCode =
    "def load(path):\n    with open(path) as f:\n        return json.load(f)  # KeyError: 'user_id'\n";

void decide(benchmark::State& state, const std::string& unit) {
    const std::string text = of_chars(unit, 200);
    for (auto _ : state) benchmark::DoNotOptimize(router().decide(text));
    state.SetLabel(std::to_string(text.size()) + " bytes");
}

void BM_decide_200_chinese(benchmark::State& s) { decide(s, kChinese); }
void BM_decide_200_mixed(benchmark::State& s) { decide(s, kMixed); }
void BM_decide_200_english(benchmark::State& s) { decide(s, kEnglish); }
void BM_decide_200_code(benchmark::State& s) { decide(s, kCode); }

void BM_decide_1mb(benchmark::State& state) {
    std::string text;
    while (text.size() < (1u << 20)) text += kMixed;
    for (auto _ : state) benchmark::DoNotOptimize(router().decide(text));
}

void BM_keywords_200_mixed(benchmark::State& state) {
    const std::string text = of_chars(kMixed, 200);
    for (auto _ : state) benchmark::DoNotOptimize(router().keywords().match(text));
}

double thread_cpu_us() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) * 1e-3;
}

// Each iteration times one decision (the four 200-character shapes in turn); the counters are percentiles over all.
void BM_decide_200_percentiles(benchmark::State& state) {
    const std::string texts[] = {of_chars(kChinese, 200), of_chars(kMixed, 200), of_chars(kEnglish, 200),
                                 of_chars(kCode, 200)};
    std::vector<double> wall_us, cpu_us;
    size_t i = 0;
    for (auto _ : state) {
        const auto w0 = std::chrono::steady_clock::now();
        const double c0 = thread_cpu_us();
        benchmark::DoNotOptimize(router().decide(texts[i++ % 4]));
        cpu_us.push_back(thread_cpu_us() - c0);
        wall_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - w0).count());
    }
    auto percentile = [](std::vector<double>& v, double q) {
        if (v.empty()) return 0.0;
        const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
        return v[k];
    };
    state.counters["wall_p50_us"] = percentile(wall_us, 0.50);
    state.counters["wall_p99_us"] = percentile(wall_us, 0.99);
    state.counters["wall_max_us"] = percentile(wall_us, 1.0);
    state.counters["cpu_p50_us"] = percentile(cpu_us, 0.50);
    state.counters["cpu_p99_us"] = percentile(cpu_us, 0.99);
    state.counters["cpu_max_us"] = percentile(cpu_us, 1.0);
    state.counters["decisions"] = static_cast<double>(wall_us.size());
}

BENCHMARK(BM_decide_200_chinese);
BENCHMARK(BM_decide_200_mixed);
BENCHMARK(BM_decide_200_english);
BENCHMARK(BM_decide_200_code);
BENCHMARK(BM_decide_1mb);
BENCHMARK(BM_keywords_200_mixed);
BENCHMARK(BM_decide_200_percentiles)->Iterations(20000);

}  // namespace

BENCHMARK_MAIN();
