// bench_arena.cpp: the arena leaderboard over 100,000 synthetic battles with 1,000 bootstrap resamples
// (issue 14's target: < 2 s), and the full report (overall + route and language splits).
//   duet_bench_bench_arena --benchmark_min_time=0.1
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "arena/leaderboard.h"

namespace {

using duet::arena::Battle;
using duet::arena::Outcome;

// `models` models with evenly spread strengths, random pairs and sides, 10% ties, two routes, two languages.
std::vector<Battle> synthetic_battles(int count, int models, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> pick(0, models - 1);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<Battle> battles;
    battles.reserve(count);
    for (int n = 0; n < count; ++n) {
        int l = pick(rng), r = pick(rng);
        while (r == l) r = pick(rng);
        const double p_left = 1.0 / (1.0 + std::exp(0.2 * (r - l)));
        const double u = unit(rng);
        Battle b;
        b.left_model = "model-" + std::to_string(l);
        b.right_model = "model-" + std::to_string(r);
        b.outcome = u < 0.1 ? Outcome::tie : (unit(rng) < p_left ? Outcome::left_wins : Outcome::right_wins);
        b.route = n % 3 ? "daily" : "expert";
        b.language = n % 2 ? "zh" : "en";
        b.router_pick = n % 5 ? b.left_model : b.right_model;
        battles.push_back(std::move(b));
    }
    return battles;
}

void BM_Leaderboard(benchmark::State& state) {
    const auto battles = synthetic_battles(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), 1);
    duet::arena::LeaderboardOptions options;
    options.bootstrap_rounds = 1000;
    for (auto _ : state) {
        auto board = duet::arena::compute_leaderboard(battles, options);
        benchmark::DoNotOptimize(board);
    }
    state.counters["battles"] = static_cast<double>(battles.size());
}
BENCHMARK(BM_Leaderboard)->Args({100000, 10})->Args({100000, 30})->Unit(benchmark::kMillisecond);

void BM_FullReport(benchmark::State& state) {
    const auto battles = synthetic_battles(100000, 10, 1);
    duet::arena::LeaderboardOptions options;
    options.bootstrap_rounds = 1000;
    for (auto _ : state) {
        auto report = duet::arena::build_report(battles, options);
        benchmark::DoNotOptimize(report);
    }
}
BENCHMARK(BM_FullReport)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
