// bench_router.cpp: one routing decision of the built-in router (no encoder) for messages of 200 characters in
// the policy's main shapes, a 1 MB message, and the keyword automaton alone.
//   build/bench/duet_bench_bench_router --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstdio>
#include <string>

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

BENCHMARK(BM_decide_200_chinese);
BENCHMARK(BM_decide_200_mixed);
BENCHMARK(BM_decide_200_english);
BENCHMARK(BM_decide_200_code);
BENCHMARK(BM_decide_1mb);
BENCHMARK(BM_keywords_200_mixed);

}  // namespace

BENCHMARK_MAIN();
