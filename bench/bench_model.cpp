// bench_model.cpp: forward-pass speed on an in-memory random Qwen2-shaped model: decode (1 token, short and long
// context: weights vs attention), prefill (64 tokens), and the sampler. Decode reports weight GB/s.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#include "common/thread_pool.h"
#include "gguf/gguf.h"
#include "kernels/ref/quants.h"
#include "model/batch_single.h"
#include "model/forward.h"
#include "model/sampler.h"

namespace {

using namespace duet;

// n_embd 1024, 4 layers, 8 heads x 128, 2 KV heads, n_ff 2816, vocab 8192: ~60 M weights.
std::vector<uint8_t> build_model(TensorType type) {
    constexpr int64_t n_embd = 1024, n_layers = 4, n_heads = 8, n_kv = 2, head_dim = 128, n_ff = 2816, n_vocab = 8192;
    gguf::GgufWriter w;
    w.set_string("general.architecture", "qwen2");
    w.set_u32("qwen2.embedding_length", n_embd);
    w.set_u32("qwen2.block_count", n_layers);
    w.set_u32("qwen2.attention.head_count", n_heads);
    w.set_u32("qwen2.attention.head_count_kv", n_kv);
    w.set_u32("qwen2.feed_forward_length", n_ff);
    w.set_u32("qwen2.context_length", 4096);
    model::Rng rng(7);
    auto matrix = [&](const std::string& name, int64_t n, int64_t d) {
        std::vector<float> row(n);
        std::vector<uint8_t> data(row_size(type, n) * d);
        for (int64_t r = 0; r < d; ++r) {
            for (auto& v : row) v = static_cast<float>(rng.uniform() - 0.5) * 0.05f;
            quantize_row(type, row.data(), data.data() + r * row_size(type, n), n);
        }
        w.add_tensor(name, type, {n, d}, std::move(data));
    };
    auto vector = [&](const std::string& name, int64_t n, float v) {
        std::vector<float> x(n, v);
        std::vector<uint8_t> data(n * 4);
        std::memcpy(data.data(), x.data(), data.size());
        w.add_tensor(name, TensorType::F32, {n}, std::move(data));
    };
    matrix("token_embd.weight", n_embd, n_vocab);
    for (int64_t i = 0; i < n_layers; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        vector(b + "attn_norm.weight", n_embd, 1.0f);
        matrix(b + "attn_q.weight", n_embd, n_heads * head_dim);
        matrix(b + "attn_k.weight", n_embd, n_kv * head_dim);
        matrix(b + "attn_v.weight", n_embd, n_kv * head_dim);
        vector(b + "attn_q.bias", n_heads * head_dim, 0.01f);
        vector(b + "attn_k.bias", n_kv * head_dim, 0.01f);
        vector(b + "attn_v.bias", n_kv * head_dim, 0.01f);
        matrix(b + "attn_output.weight", n_heads * head_dim, n_embd);
        vector(b + "ffn_norm.weight", n_embd, 1.0f);
        matrix(b + "ffn_gate.weight", n_embd, n_ff);
        matrix(b + "ffn_up.weight", n_embd, n_ff);
        matrix(b + "ffn_down.weight", n_ff, n_embd);
    }
    vector("output_norm.weight", n_embd, 1.0f);
    matrix("output.weight", n_embd, n_vocab);
    return w.to_bytes();
}

struct Fixture {
    std::vector<uint8_t> bytes;
    std::unique_ptr<model::Model> model;
    std::unique_ptr<model::KvCache> kv;
    std::unique_ptr<ThreadPool> pool;
    std::unique_ptr<model::Forward> forward;
    model::SingleSequence seq{160 * 16, 16};

    Fixture(TensorType type, int threads, int32_t max_batch) : bytes(build_model(type)) {
        auto f = gguf::GgufFile::from_bytes(std::span<const uint8_t>(bytes));
        model::LoadOptions o;
        o.progress = false;
        model = std::move(model::Model::from_gguf(std::move(f).value(), o)).value();
        kv = std::make_unique<model::KvCache>(model->config(), seq.n_blocks(), 16);
        pool = std::make_unique<ThreadPool>(threads);
        forward = std::make_unique<model::Forward>(*model, *kv, max_batch, pool.get());
    }
    // Runs tokens at positions [start, start + n); logits for the last.
    void run(int32_t start, int32_t n) {
        const std::vector<model::TokenId> tok(n, 42);
        auto out = forward->run(seq.batch(tok, start));
        if (!out.ok()) std::abort();
    }
};

void BM_Decode(benchmark::State& state) {
    const auto type = static_cast<TensorType>(state.range(0));
    const int threads = static_cast<int>(state.range(1));
    const int32_t context = static_cast<int32_t>(state.range(2));
    Fixture fx(type, threads, 64);
    for (int32_t p = 0; p < context; p += 64) fx.run(p, std::min<int32_t>(64, context - p));  // fill the cache
    for (auto _ : state) fx.run(context, 1);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * fx.model->weight_bytes_per_token()));
    state.counters["tok/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Decode)
    ->ArgNames({"type", "threads", "ctx"})
    ->Args({static_cast<int64_t>(TensorType::Q4_0), 1, 16})
    ->Args({static_cast<int64_t>(TensorType::Q4_0), 2, 16})
    ->Args({static_cast<int64_t>(TensorType::Q4_0), 2, 2048})
    ->Args({static_cast<int64_t>(TensorType::Q8_0), 2, 16})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Prefill64(benchmark::State& state) {
    const auto type = static_cast<TensorType>(state.range(0));
    Fixture fx(type, static_cast<int>(state.range(1)), 64);
    for (auto _ : state) fx.run(0, 64);
    state.counters["tok/s"] = benchmark::Counter(64.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Prefill64)
    ->ArgNames({"type", "threads"})
    ->Args({static_cast<int64_t>(TensorType::Q4_0), 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_SampleTopK40(benchmark::State& state) {
    std::vector<float> logits(151936);
    model::Rng rng(3);
    for (auto& l : logits) l = static_cast<float>(rng.uniform() * 10);
    model::SamplingParams p;  // the CLI's settings (app's cli_sampling_params): top-k 40, then top-p and min-p
    p.temperature = 0.8f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.min_p = 0.05f;
    p.seed = 1;
    p.has_seed = true;
    model::Sampler s(p);
    std::vector<model::TokenId> history(64, 5);
    for (auto _ : state) benchmark::DoNotOptimize(s.sample(logits, history));
}
BENCHMARK(BM_SampleTopK40)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
