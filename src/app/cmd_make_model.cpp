// cmd_make_model.cpp: `duet make-model`: a random-weight GGUF with a real model's shapes, metadata and vocabulary.
//
// Weights ~ N(0, 0.02) (norm weights 1 + N(0, 0.02), biases N(0, 0.02)) from a PRNG seeded per (seed, tensor,
// row), so files are byte-identical for a seed whatever the thread count. Tensors are quantized row by row
// while the file is written (streamed: a multi-GB model is never held twice).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_args.h"
#include "app/model_presets.h"
#include "common/thread_pool.h"
#include "common/timer.h"
#include "gguf/gguf.h"
#include "kernels/ref/quants.h"
#include "model/sampler.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet make-model --preset P --type T [--seed S] [--vocab V.gguf] -o OUT.gguf [-t THREADS]\n"
    "  presets: deepseek-r1-distill-qwen-1.5b llama-3-8b-instruct qwen2.5-0.5b tiny-llama tiny-qwen2 demo\n"
    "           encoders (bert): bge-small-zh tiny-bert\n"
    "  types:   f32 f16 q8_0 q4_0 q4_k_m q5_k_m q6_k\n"
    "  --vocab copies every tokenizer.* key of a vocabulary GGUF; without it a byte-level BPE vocabulary\n"
    "  (256 bytes, a few merges, special tokens, padding to the preset's n_vocab) and a chat template are written;\n"
    "  for encoders a generated WordPiece vocabulary (ASCII, CJK characters, [CLS]/[SEP]/[UNK]) instead.\n";

uint64_t hash_name(const std::string& s, uint64_t seed) {
    uint64_t h = 1469598103934665603ull ^ seed;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

// n values ~ N(mean, std) from rng (Box-Muller).
void fill_normal(model::Rng& rng, float* out, int64_t n, float mean, float std) {
    for (int64_t i = 0; i < n; i += 2) {
        const double u1 = 1.0 - rng.uniform();  // (0, 1]
        const double u2 = rng.uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        out[i] = mean + std * static_cast<float>(r * std::cos(2.0 * M_PI * u2));
        if (i + 1 < n) out[i + 1] = mean + std * static_cast<float>(r * std::sin(2.0 * M_PI * u2));
    }
}

struct TensorPlan {
    std::string name;
    TensorType type;
    std::vector<int64_t> ne;  // ne[0] = row length
    float mean, std;
};

// Metadata and tensors of a Llama / Qwen2 decoder, in llama.cpp's order.
std::vector<TensorPlan> plan_decoder(gguf::GgufWriter& w, const ModelPreset& p, WeightScheme scheme) {
    const std::string& a = p.arch;
    const int32_t head_dim = p.n_embd / p.n_heads;
    w.set_u32(a + ".context_length", static_cast<uint32_t>(p.n_ctx));
    w.set_u32(a + ".embedding_length", static_cast<uint32_t>(p.n_embd));
    w.set_u32(a + ".block_count", static_cast<uint32_t>(p.n_layers));
    w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(p.n_ff));
    w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(p.n_heads));
    w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(p.n_kv_heads));
    w.set_u32(a + ".rope.dimension_count", static_cast<uint32_t>(head_dim));
    w.set_f32(a + ".rope.freq_base", p.rope_freq_base);
    w.set_f32(a + ".attention.layer_norm_rms_epsilon", p.rms_eps);
    w.set_u32(a + ".vocab_size", static_cast<uint32_t>(p.n_vocab));

    std::vector<TensorPlan> plan;
    const int64_t q_dim = static_cast<int64_t>(p.n_heads) * head_dim,
                  kv_dim = static_cast<int64_t>(p.n_kv_heads) * head_dim;
    auto matrix = [&](const std::string& name, int64_t n, int64_t d, int32_t layer, bool is_output) {
        plan.push_back({name, tensor_type_for(scheme, name, layer, p.n_layers, n, is_output), {n, d}, 0.0f, 0.02f});
    };
    auto vector = [&](const std::string& name, int64_t n, float mean) {
        plan.push_back({name, TensorType::F32, {n}, mean, 0.02f});
    };
    matrix("token_embd.weight", p.n_embd, p.n_vocab, -1, p.tied);
    for (int32_t i = 0; i < p.n_layers; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        vector(b + "attn_norm.weight", p.n_embd, 1.0f);
        matrix(b + "attn_q.weight", p.n_embd, q_dim, i, false);
        matrix(b + "attn_k.weight", p.n_embd, kv_dim, i, false);
        matrix(b + "attn_v.weight", p.n_embd, kv_dim, i, false);
        if (p.qkv_bias) {
            vector(b + "attn_q.bias", q_dim, 0.0f);
            vector(b + "attn_k.bias", kv_dim, 0.0f);
            vector(b + "attn_v.bias", kv_dim, 0.0f);
        }
        matrix(b + "attn_output.weight", q_dim, p.n_embd, i, false);
        vector(b + "ffn_norm.weight", p.n_embd, 1.0f);
        matrix(b + "ffn_gate.weight", p.n_embd, p.n_ff, i, false);
        matrix(b + "ffn_up.weight", p.n_embd, p.n_ff, i, false);
        matrix(b + "ffn_down.weight", p.n_ff, p.n_embd, i, false);
    }
    vector("output_norm.weight", p.n_embd, 1.0f);
    if (!p.tied) matrix("output.weight", p.n_embd, p.n_vocab, -1, true);

    return plan;
}

// Metadata and tensors of a BERT encoder (llama.cpp's `bert` layout): learned positions, token types, LayerNorms
// with biases (weights 1 + N(0, 0.02)), biases on every matmul.
std::vector<TensorPlan> plan_encoder(gguf::GgufWriter& w, const ModelPreset& p, WeightScheme scheme) {
    const std::string& a = p.arch;
    w.set_u32(a + ".context_length", static_cast<uint32_t>(p.n_ctx));
    w.set_u32(a + ".embedding_length", static_cast<uint32_t>(p.n_embd));
    w.set_u32(a + ".block_count", static_cast<uint32_t>(p.n_layers));
    w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(p.n_ff));
    w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(p.n_heads));
    w.set_f32(a + ".attention.layer_norm_epsilon", p.rms_eps);
    w.set_bool(a + ".attention.causal", false);
    w.set_u32(a + ".pooling_type", p.pooling_type);

    std::vector<TensorPlan> plan;
    auto matrix = [&](const std::string& name, int64_t n, int64_t d, int32_t layer) {
        plan.push_back({name, tensor_type_for(scheme, name, layer, p.n_layers, n, false), {n, d}, 0.0f, 0.02f});
    };
    auto f32_matrix = [&](const std::string& name, int64_t n, int64_t d) {
        plan.push_back({name, TensorType::F32, {n, d}, 0.0f, 0.02f});
    };
    auto vector = [&](const std::string& name, int64_t n, float mean) {
        plan.push_back({name, TensorType::F32, {n}, mean, 0.02f});
    };
    matrix("token_embd.weight", p.n_embd, p.n_vocab, -1);
    f32_matrix("position_embd.weight", p.n_embd, p.n_ctx);
    f32_matrix("token_types.weight", p.n_embd, 2);
    vector("token_embd_norm.weight", p.n_embd, 1.0f);
    vector("token_embd_norm.bias", p.n_embd, 0.0f);
    for (int32_t i = 0; i < p.n_layers; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        for (const char* proj : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
            matrix(b + proj + ".weight", p.n_embd, p.n_embd, i);
            vector(b + proj + ".bias", p.n_embd, 0.0f);
        }
        vector(b + "attn_output_norm.weight", p.n_embd, 1.0f);
        vector(b + "attn_output_norm.bias", p.n_embd, 0.0f);
        matrix(b + "ffn_up.weight", p.n_embd, p.n_ff, i);
        vector(b + "ffn_up.bias", p.n_ff, 0.0f);
        matrix(b + "ffn_down.weight", p.n_ff, p.n_embd, i);
        vector(b + "ffn_down.bias", p.n_embd, 0.0f);
        vector(b + "layer_output_norm.weight", p.n_embd, 1.0f);
        vector(b + "layer_output_norm.bias", p.n_embd, 0.0f);
    }
    return plan;
}

}  // namespace

int cmd_make_model(int argc, char** argv) {
    std::string preset_name, type_name, vocab_path, out_path;
    uint64_t seed = 1;
    int64_t n_threads = default_threads();
    ArgReader args(argc, argv);
    auto parse = [&]() -> Status {
        while (args.next()) {
            if (args.is("-h", "--help")) {
                std::fputs(kUsage, stdout);
                std::exit(0);
            } else if (args.is("--preset")) {
                DUET_TRY(preset_name, args.value());
            } else if (args.is("--type")) {
                DUET_TRY(type_name, args.value());
            } else if (args.is("--seed")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(seed, parse_u64(v, "--seed"));
            } else if (args.is("--vocab")) {
                DUET_TRY(vocab_path, args.value());
            } else if (args.is("-o", "--output")) {
                DUET_TRY(out_path, args.value());
            } else if (args.is("-t", "--threads")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(n_threads, parse_threads(v));
            } else {
                return Status::invalid_argument("unknown option '%s'\n%s", std::string(args.arg()).c_str(), kUsage);
            }
        }
        if (preset_name.empty() || type_name.empty() || out_path.empty())
            return Status::invalid_argument("--preset, --type and -o are required\n%s", kUsage);
        return {};
    };
    if (Status s = parse(); !s.ok()) return report_error(s);
    auto preset_r = find_preset(preset_name);
    if (!preset_r.ok()) return report_error(preset_r.status());
    ModelPreset p = *preset_r;
    auto scheme_r = parse_weight_scheme(type_name);
    if (!scheme_r.ok()) return report_error(scheme_r.status());
    const WeightScheme scheme = *scheme_r;

    gguf::GgufWriter w;
    w.set_string("general.architecture", p.arch);
    w.set_string("general.name", p.name + " (random weights, seed " + std::to_string(seed) + ")");
    w.set_u32("general.file_type", gguf_file_type(scheme));
    w.set_u32("general.quantization_version", 2);

    // Vocabulary first: it fixes n_vocab for the demo preset.
    std::unique_ptr<gguf::GgufFile> vocab_file;
    if (!vocab_path.empty()) {
        auto vf = gguf::GgufFile::open(vocab_path);
        if (!vf.ok()) return report_error(vf.status().with_context("--vocab: "));
        vocab_file = std::move(vf).value();
        auto tokens = vocab_file->get_array("tokenizer.ggml.tokens");
        if (!tokens.ok()) return report_error(tokens.status().with_context("--vocab: "));
        const int64_t n_tokens = static_cast<int64_t>((*tokens)->count);
        // Small presets grow to the vocabulary; real shapes keep their n_vocab (which must hold it).
        const bool small = p.name == "demo" || p.name.rfind("tiny-", 0) == 0;
        const bool encoder = p.arch == "bert";
        if (small && n_tokens > p.n_vocab) p.n_vocab = static_cast<int32_t>(n_tokens);
        if (n_tokens > p.n_vocab)
            return report_error(Status::invalid_argument("--vocab has %lld tokens, more than the preset's n_vocab %d",
                                                         static_cast<long long>(n_tokens), p.n_vocab));
        if (encoder) p.n_vocab = static_cast<int32_t>(n_tokens);  // an encoder's vocabulary sizes token_embd
        w.copy_metadata(*vocab_file, "tokenizer.");
    } else if (p.arch == "bert") {
        auto n = write_wordpiece_vocab(w, p);
        if (!n.ok()) return report_error(n.status());
        p.n_vocab = *n;
    } else {
        auto n = write_byte_vocab(w, p);
        if (!n.ok()) return report_error(n.status());
        p.n_vocab = *n;
    }

    std::vector<TensorPlan> plan = p.arch == "bert" ? plan_encoder(w, p, scheme) : plan_decoder(w, p, scheme);

    ThreadPool pool(static_cast<int>(n_threads));
    size_t total_bytes = 0;
    for (const TensorPlan& t : plan) {
        const int64_t n = t.ne[0];
        const int64_t rows = t.ne.size() > 1 ? t.ne[1] : 1;
        const size_t row_bytes = row_size(t.type, n);
        total_bytes += row_bytes * rows;
        const uint64_t tensor_seed = hash_name(t.name, seed);
        w.add_tensor(t.name, t.type, t.ne, [&pool, t, n, rows, row_bytes, tensor_seed](uint8_t* dst) {
            pool.run([&](int ith, int nth) {
                int64_t begin = 0, end = 0;
                split_range(rows, ith, nth, &begin, &end);
                std::vector<float> row(n);
                for (int64_t r = begin; r < end; ++r) {
                    model::Rng rng(tensor_seed ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(r + 1)));
                    fill_normal(rng, row.data(), n, t.mean, t.std);
                    duet::quantize_row(t.type, row.data(), dst + r * row_bytes, n);
                }
            });
        });
    }

    const double t0 = now_seconds();
    std::fprintf(stderr, "make-model: %s %s seed %llu: %zu tensors, %.3f GB of weights -> %s\n", p.name.c_str(),
                 type_name.c_str(), static_cast<unsigned long long>(seed), plan.size(), total_bytes / 1e9,
                 out_path.c_str());
    if (Status s = w.write(out_path); !s.ok()) return report_error(s);
    std::fprintf(stderr, "make-model: wrote %s in %.1f s\n", out_path.c_str(), now_seconds() - t0);
    return 0;
}

}  // namespace duet::app
