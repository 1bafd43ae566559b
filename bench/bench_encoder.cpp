// bench_encoder.cpp: encoder latency for one 64-token message (the router's sentence-embedding signal), on 1 and
// 2 threads, over a BERT GGUF named by $DUET_ENCODER_MODEL, e.g. the bge-small-zh shape:
//   duet make-model --preset bge-small-zh --type f16 -o /tmp/bge-small-zh-f16.gguf
//   DUET_ENCODER_MODEL=/tmp/bge-small-zh-f16.gguf build/bench/duet_bench_bench_encoder
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>

#include "common/thread_pool.h"
#include "model/encoder.h"
#include "model/model.h"

namespace {

using namespace duet;

const model::Model* encoder_model() {
    static std::unique_ptr<model::Model> m = [] {
        std::unique_ptr<model::Model> loaded;
        if (const char* path = std::getenv("DUET_ENCODER_MODEL")) {
            model::LoadOptions o;
            o.progress = false;
            auto r = model::Model::load(path, o);
            if (r.ok() && (*r)->config().family == model::Family::encoder) loaded = std::move(r).value();
        }
        return loaded;
    }();
    return m.get();
}

void BM_Embed(benchmark::State& state) {
    const model::Model* m = encoder_model();
    if (m == nullptr) {
        state.SkipWithError("set DUET_ENCODER_MODEL to a bert GGUF (duet make-model --preset bge-small-zh)");
        return;
    }
    const auto n_tokens = static_cast<int32_t>(state.range(0));
    ThreadPool pool(static_cast<int>(state.range(1)));
    model::Encoder encoder(*m, n_tokens, &pool);
    std::vector<std::vector<model::TokenId>> message(1);
    message[0].push_back(101);  // [CLS]
    for (int32_t i = 1; i + 1 < n_tokens; ++i) message[0].push_back(200 + (i * 7919) % (m->config().n_vocab - 200));
    message[0].push_back(102);  // [SEP]
    std::vector<double> ms;     // wall time of each pass, for the percentiles the router's target is stated in
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        auto v = encoder.embed(message);
        benchmark::DoNotOptimize(v);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    auto percentile = [&](double p) { return ms[static_cast<size_t>(p * static_cast<double>(ms.size() - 1))]; };
    state.counters["p50_ms"] = percentile(0.50);
    state.counters["p99_ms"] = percentile(0.99);
    state.counters["tokens/s"] = benchmark::Counter(n_tokens, benchmark::Counter::kIsIterationInvariantRate);
}
// One thread (no pool), the calling thread's CPU time per stage as counters (ms per pass): where the time goes.
void BM_EmbedBreakdown(benchmark::State& state) {
    const model::Model* m = encoder_model();
    if (m == nullptr) {
        state.SkipWithError("set DUET_ENCODER_MODEL to a bert GGUF (duet make-model --preset bge-small-zh)");
        return;
    }
    const auto n_tokens = static_cast<int32_t>(state.range(0));
    model::Encoder encoder(*m, n_tokens, nullptr);
    model::EncoderProfile profile;
    encoder.set_profile(&profile);
    std::vector<std::vector<model::TokenId>> message(1);
    message[0].push_back(101);
    for (int32_t i = 1; i + 1 < n_tokens; ++i) message[0].push_back(200 + (i * 7919) % (m->config().n_vocab - 200));
    message[0].push_back(102);
    for (auto _ : state) {
        auto v = encoder.embed(message);
        benchmark::DoNotOptimize(v);
    }
    for (int s = 0; s < model::EncoderProfile::n_stages; ++s)
        state.counters[model::EncoderProfile::stage_name(s)] =
            static_cast<double>(profile.ns[s]) / 1e6 / static_cast<double>(std::max<int64_t>(1, profile.passes));
}
BENCHMARK(BM_EmbedBreakdown)->ArgNames({"tokens"})->Arg(64)->Unit(benchmark::kMillisecond);

BENCHMARK(BM_Embed)->ArgNames({"tokens", "threads"})->Args({64, 1})->Args({64, 2})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
