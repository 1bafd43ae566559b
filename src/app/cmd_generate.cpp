// cmd_generate.cpp: `duet generate`: tokenize a prompt, prefill it in batches, sample token by token, stream text.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_args.h"
#include "common/thread_pool.h"
#include "common/timer.h"
#include "model/batch_single.h"
#include "model/forward.h"
#include "model/sampler.h"
#include "tokenizer/tokenizer.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet generate -m MODEL.gguf -p TEXT [options]\n"
    "  -n N               tokens to generate (default 128); stops early at an end-of-generation token\n"
    "  --temp T           temperature (default 0.8; 0 = greedy)\n"
    "  --top-k K          (default 40; 0 = off)\n"
    "  --top-p P          (default 0.95; 1 = off)\n"
    "  --min-p P          (default 0.05; 0 = off)\n"
    "  --repeat-penalty R (default 1.0 = off; over the last 64 tokens)\n"
    "  --seed S           PRNG seed (default: random)\n"
    "  -t THREADS         (default: hardware threads, max 8)\n"
    "  --kv-type f16|f32  KV cache element type (default f16)\n"
    "  --json             print {\"prompt_ids\":[..],\"completion_ids\":[..],\"text\":\"..\"} only\n"
    "  text streams to stdout; prompt and generation tok/s go to stderr.\n";

constexpr int32_t kBlockSize = 16;
constexpr int32_t kMaxPrefillBatch = 512;

}  // namespace

int cmd_generate(int argc, char** argv) {
    std::string prompt;
    bool have_prompt = false, json = false;
    int64_t n_predict = 128;
    model::SamplingParams sp = cli_sampling_params();
    ModelCommandArgs common;
    auto own = [&](ArgReader& args) -> Result<bool> {
        if (args.is("-p", "--prompt")) {
            DUET_TRY(prompt, args.value());
            have_prompt = true;
        } else if (args.is("-n", "--n-predict")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(n_predict, parse_int(v, "-n"));
            if (n_predict < 0 || n_predict > (1 << 20))
                return Status::invalid_argument("-n: %lld out of range", static_cast<long long>(n_predict));
        } else if (args.is("--temp")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(double t, parse_float(v, "--temp"));
            if (t < 0) return Status::invalid_argument("--temp must be >= 0");
            sp.temperature = static_cast<float>(t);
        } else if (args.is("--top-k")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(int64_t k, parse_int(v, "--top-k"));
            if (k < 0 || k > INT32_MAX) return Status::invalid_argument("--top-k must be >= 0");
            sp.top_k = static_cast<int32_t>(k);
        } else if (args.is("--top-p")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(double p, parse_float(v, "--top-p"));
            if (p <= 0 || p > 1) return Status::invalid_argument("--top-p must be in (0, 1]");
            sp.top_p = static_cast<float>(p);
        } else if (args.is("--min-p")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(double p, parse_float(v, "--min-p"));
            if (p < 0 || p > 1) return Status::invalid_argument("--min-p must be in [0, 1]");
            sp.min_p = static_cast<float>(p);
        } else if (args.is("--repeat-penalty")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(double p, parse_float(v, "--repeat-penalty"));
            if (p <= 0) return Status::invalid_argument("--repeat-penalty must be > 0");
            sp.repetition_penalty = static_cast<float>(p);
        } else if (args.is("--seed", "-s")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(sp.seed, parse_u64(v, "--seed"));
            sp.has_seed = true;
        } else if (args.is("--json")) {
            json = true;
        } else {
            return false;
        }
        return true;
    };
    Status parsed = parse_model_command(argc, argv, kUsage, &common, own);
    if (parsed.ok() && !have_prompt)
        parsed = Status::invalid_argument("-m MODEL.gguf and -p TEXT are required\n%s", kUsage);
    if (!parsed.ok()) return report_error(parsed);
    const std::string& model_path = common.model_path;
    const int64_t n_threads = common.n_threads;

    model::LoadOptions opts;
    const double t_load = now_seconds();
    auto loaded = model::Model::load(model_path, opts);
    if (!loaded.ok()) return report_error(loaded.status());
    if (Status s = model::require_decoder(**loaded); !s.ok()) return report_error(s);
    const model::Model& m = **loaded;
    auto tokenizer = tok::Tokenizer::from_gguf(m.file());
    if (!tokenizer.ok()) return report_error(tokenizer.status().with_context("model '" + model_path + "': "));
    const tok::Tokenizer& vocab = **tokenizer;
    const double load_seconds = now_seconds() - t_load;

    std::vector<model::TokenId> prompt_ids = vocab.encode(prompt, /*add_special=*/true, /*parse_special=*/true);
    if (prompt_ids.empty()) {
        if (vocab.bos_id() < 0)
            return report_error(Status::invalid_argument("empty prompt and the vocabulary has no BOS"));
        prompt_ids.push_back(vocab.bos_id());
    }
    for (model::TokenId id : prompt_ids)
        if (id < 0 || id >= m.config().n_vocab)
            return report_error(
                Status::invalid_data("prompt token %d outside the model's vocabulary (%d)", id, m.config().n_vocab));

    const int32_t n_prompt = static_cast<int32_t>(prompt_ids.size());
    const int32_t n_total = n_prompt + static_cast<int32_t>(n_predict);
    if (n_total > m.config().n_ctx_train)
        std::fprintf(stderr, "warning: %d positions exceed the model's training context %d\n", n_total,
                     m.config().n_ctx_train);
    model::SingleSequence seq(n_total, kBlockSize);
    model::KvCache kv(m.config(), seq.n_blocks(), kBlockSize, common.kv_type);
    ThreadPool pool(static_cast<int>(n_threads));
    model::Forward forward(m, kv, std::min(n_prompt, kMaxPrefillBatch), &pool);

    // One batch of `count` tokens starting at `start`; logits of the last one.
    auto run = [&](const model::TokenId* ids, int32_t start, int32_t count) -> Result<std::span<const float>> {
        return forward.run(seq.batch({ids, static_cast<size_t>(count)}, start));
    };

    const double t_prompt = now_seconds();
    std::span<const float> logits;
    for (int32_t start = 0; start < n_prompt; start += kMaxPrefillBatch) {
        auto out = run(prompt_ids.data() + start, start, std::min(kMaxPrefillBatch, n_prompt - start));
        if (!out.ok()) return report_error(out.status());
        logits = *out;
    }
    const double prompt_seconds = now_seconds() - t_prompt;

    model::Sampler sampler(sp);
    tok::StreamingDecoder decoder(vocab, {}, /*skip_special=*/true);
    std::vector<model::TokenId> history = prompt_ids, completion;
    history.reserve(n_total);
    std::string text;
    const double t_gen = now_seconds();
    int32_t n_decoded = 0;
    for (int64_t i = 0; i < n_predict; ++i) {
        const model::TokenId next = sampler.sample(logits, history);
        if (vocab.is_end_of_generation(next)) break;
        completion.push_back(next);
        history.push_back(next);
        const std::string piece = decoder.feed(next);
        text += piece;
        if (!json && !piece.empty()) {
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
        }
        if (i + 1 == n_predict) break;
        auto out = run(&history.back(), static_cast<int32_t>(history.size()) - 1, 1);
        if (!out.ok()) return report_error(out.status());
        logits = *out;
        ++n_decoded;
    }
    const double gen_seconds = now_seconds() - t_gen;
    const std::string rest = decoder.flush();
    text += rest;

    if (json) {
        nlohmann::json j;
        j["prompt_ids"] = prompt_ids;
        j["completion_ids"] = completion;
        j["text"] = text;
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        std::fwrite(rest.data(), 1, rest.size(), stdout);
        std::fputc('\n', stdout);
    }
    std::fprintf(stderr,
                 "load %.2f s | prompt: %d tokens, %.2f tok/s | generation: %zu tokens, %.2f tok/s (%d threads)\n",
                 load_seconds, n_prompt, prompt_seconds > 0 ? n_prompt / prompt_seconds : 0.0, completion.size(),
                 gen_seconds > 0 && n_decoded > 0 ? n_decoded / gen_seconds : 0.0, static_cast<int>(n_threads));
    return 0;
}

}  // namespace duet::app
