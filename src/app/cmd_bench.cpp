// cmd_bench.cpp: `duet bench`: engine speed like llama-bench (pp / tg tok/s, GB/s vs measured read bandwidth).
// `duet bench --url ...` (server load test) is dispatched to cmd_bench_url (bench_url.cpp).
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/bench_url.h"
#include "app/commands.h"
#include "app/model_args.h"
#include "common/strformat.h"
#include "common/thread_pool.h"
#include "common/timer.h"
#include "kernels/cpu/bandwidth.h"
#include "kernels/kernels.h"
#include "model/batch_single.h"
#include "model/forward.h"
#include "model/sampler.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet bench -m MODEL.gguf [-p 512] [-n 128] [-t 1,2] [-r 5] [--batch 1,2,4] [--kv-type f16|f32] [--json]\n"
    "       duet bench --url URL ...   (load-test a running server)\n"
    "  pp: one batch of -p prompt tokens on an empty cache; tg: -n tokens one at a time after an empty prompt.\n"
    "  mean +- sd tok/s over -r repetitions (after one warm-up), for each thread count in -t.\n"
    "  GB/s = tg tok/s x weight bytes read per token; %% of the read bandwidth measured in this run.\n"
    "  --batch B,...: also -n decode steps of B streams at once (B sequences, one token each per step), with the\n"
    "  step's wall and CPU time against a 1-stream step.\n";

constexpr int32_t kBlockSize = 16;

struct BenchResult {
    int32_t n_prompt = 0, n_gen = 0, threads = 0;
    double mean = 0, stddev = 0;
    double bandwidth_gbs = 0;  // measured read bandwidth at this thread count
};

// --batch: decode steps of n_streams sequences at once (a server's step with that many streams).
struct StreamsResult {
    int32_t n_gen = 0, threads = 0, n_streams = 0;
    double step_ms = 0, step_cpu_ms = 0;  // median over the repetitions; CPU time per thread (spinning included)
};

double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// n_streams sequences, each with its own n_blocks blocks of the KV cache (sequence s: blocks s * n_blocks ...),
// as one decode batch per step: token s at position pos of sequence s.
class Streams {
public:
    Streams(int32_t n_streams, int32_t n_blocks) : tables_(static_cast<size_t>(n_streams)) {
        for (int32_t s = 0; s < n_streams; ++s) {
            for (int32_t b = 0; b < n_blocks; ++b) tables_[s].push_back(s * n_blocks + b);
            sequences_.push_back({tables_[s]});
            seq_index_.push_back(s);
        }
        positions_.resize(static_cast<size_t>(n_streams));
        want_logits_.assign(static_cast<size_t>(n_streams), 1);
    }
    model::Batch step(std::span<const model::TokenId> tokens, int32_t pos) {
        std::fill(positions_.begin(), positions_.end(), pos);
        return {tokens, positions_, seq_index_, want_logits_, sequences_};
    }

private:
    std::vector<std::vector<model::BlockId>> tables_;
    std::vector<model::BatchSequence> sequences_;
    std::vector<int32_t> positions_, seq_index_;
    std::vector<uint8_t> want_logits_;
};

void mean_sd(const std::vector<double>& v, double* mean, double* sd) {
    double s = 0;
    for (double x : v) s += x;
    *mean = v.empty() ? 0 : s / v.size();
    double q = 0;
    for (double x : v) q += (x - *mean) * (x - *mean);
    *sd = v.size() > 1 ? std::sqrt(q / (v.size() - 1)) : 0.0;
}

// Linux: writing 5 to /proc/self/clear_refs resets the peak RSS (VmHWM).
void reset_peak_rss() {
    if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
        std::fputs("5", f);
        std::fclose(f);
    }
}

// VmHWM from /proc/self/status (honours reset_peak_rss), else getrusage's lifetime maximum.
uint64_t peak_rss_bytes() {
    if (FILE* f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        unsigned long long kb = 0;
        bool found = false;
        while (std::fgets(line, sizeof(line), f) != nullptr)
            if (std::sscanf(line, "VmHWM: %llu kB", &kb) == 1) {
                found = true;
                break;
            }
        std::fclose(f);
        if (found) return kb * 1024;
    }
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--url") == 0) return cmd_bench_url(argc, argv);

    int64_t n_prompt = 512, n_gen = 128, reps = 5;
    std::vector<int64_t> thread_counts = {default_threads()};
    std::vector<int64_t> stream_counts;
    bool json = false;
    ModelCommandArgs common;
    auto own = [&](ArgReader& args) -> Result<bool> {
        if (args.is("-p", "--n-prompt")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(n_prompt, parse_int(v, "-p"));
            if (n_prompt < 0 || n_prompt > 65536) return Status::invalid_argument("-p out of range [0, 65536]");
        } else if (args.is("-n", "--n-gen")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(n_gen, parse_int(v, "-n"));
            if (n_gen < 0 || n_gen > 65536) return Status::invalid_argument("-n out of range [0, 65536]");
        } else if (args.is("-r", "--repetitions")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(reps, parse_int(v, "-r"));
            if (reps < 1 || reps > 1000) return Status::invalid_argument("-r out of range [1, 1000]");
        } else if (args.is("-t", "--threads")) {  // a list here: one run per thread count
            DUET_TRY(std::string v, args.value());
            DUET_TRY(thread_counts, parse_int_list(v, ',', "-t"));
            for (int64_t t : thread_counts)
                if (t < 1 || t > 256)
                    return Status::invalid_argument("-t: %lld out of range [1, 256]", static_cast<long long>(t));
        } else if (args.is("--batch")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(stream_counts, parse_int_list(v, ',', "--batch"));
            for (int64_t b : stream_counts)
                if (b < 1 || b > 64)
                    return Status::invalid_argument("--batch: %lld out of range [1, 64]", static_cast<long long>(b));
        } else if (args.is("--json")) {
            json = true;
        } else {
            return false;
        }
        return true;
    };
    Status parsed = parse_model_command(argc, argv, kUsage, &common, own);
    if (parsed.ok() && n_prompt == 0 && n_gen == 0)
        parsed = Status::invalid_argument("-p and -n are both 0: nothing to run");
    if (!parsed.ok()) return report_error(parsed);
    const std::string& model_path = common.model_path;
    const model::KvType kv_type = common.kv_type;

    // Read bandwidth per thread count first, then reset the RSS high-water mark so the 1 GiB probe buffer
    // does not count as the model's peak RSS.
    std::vector<kernels::ReadBandwidth> bandwidths;
    for (int64_t n_threads : thread_counts)
        bandwidths.push_back(kernels::measure_read_bandwidth(static_cast<int>(n_threads), size_t{1} << 30));
    reset_peak_rss();

    model::LoadOptions opts;
    opts.progress = !json;
    const double t_load = now_seconds();
    auto loaded = model::Model::load(model_path, opts);
    if (!loaded.ok()) return report_error(loaded.status());
    if (Status s = model::require_decoder(**loaded); !s.ok()) return report_error(s);
    const double load_seconds = now_seconds() - t_load;
    const model::Model& m = **loaded;
    const int32_t n_vocab = m.config().n_vocab;
    const size_t bytes_per_token = m.weight_bytes_per_token();

    const int32_t n_positions = static_cast<int32_t>(std::max<int64_t>({n_prompt, n_gen, 1}));
    model::SingleSequence seq(n_positions, kBlockSize);
    const int64_t max_streams =
        stream_counts.empty() ? 1 : *std::max_element(stream_counts.begin(), stream_counts.end());
    // One sequence's blocks for pp / tg; --batch streams each get as many.
    model::KvCache kv(m.config(), seq.n_blocks() * static_cast<int32_t>(max_streams), kBlockSize, kv_type);

    // Prompt tokens: seeded random ids (like llama-bench), so every repetition does the same work.
    model::Rng rng(1234);
    std::vector<model::TokenId> tokens(n_positions);
    for (auto& t : tokens) t = static_cast<model::TokenId>(rng.next() % static_cast<uint64_t>(n_vocab));

    std::vector<BenchResult> results;
    std::vector<StreamsResult> stream_results;
    kernels::ReadBandwidth max_bandwidth;
    for (size_t ti = 0; ti < thread_counts.size(); ++ti) {
        const int64_t n_threads = thread_counts[ti];
        ThreadPool pool(static_cast<int>(n_threads));
        const double bandwidth = bandwidths[ti].gbs;
        if (bandwidth > max_bandwidth.gbs) max_bandwidth = bandwidths[ti];
        model::Forward forward(m, kv, static_cast<int32_t>(std::max<int64_t>({1, n_prompt, max_streams})), &pool);

        // pp: one batch of n_prompt tokens, logits for the last.
        auto run_pp = [&]() -> Status {
            auto out = forward.run(seq.batch({tokens.data(), static_cast<size_t>(n_prompt)}, 0));
            return out.ok() ? Status() : out.status();
        };
        // tg: n_gen single-token steps from position 0, logits every step.
        auto run_tg = [&](int64_t count) -> Status {
            for (int64_t i = 0; i < count; ++i) {
                auto out = forward.run(seq.batch({&tokens[i], 1}, static_cast<int32_t>(i)));
                if (!out.ok()) return out.status();
            }
            return {};
        };
        auto measure = [&](auto&& fn, int64_t n_tokens, int32_t p, int32_t g) -> Status {
            DUET_RETURN_IF_ERROR(fn());  // warm-up
            std::vector<double> rates;
            for (int64_t r = 0; r < reps; ++r) {
                const double t0 = now_seconds();
                DUET_RETURN_IF_ERROR(fn());
                rates.push_back(n_tokens / std::max(1e-9, now_seconds() - t0));
            }
            BenchResult br;
            br.n_prompt = p;
            br.n_gen = g;
            br.threads = static_cast<int32_t>(n_threads);
            br.bandwidth_gbs = bandwidth;
            mean_sd(rates, &br.mean, &br.stddev);
            results.push_back(br);
            if (!json)
                std::fprintf(stderr, "  %s%lld, %lld threads: %.2f +- %.2f tok/s\n", p > 0 ? "pp" : "tg",
                             static_cast<long long>(n_tokens), static_cast<long long>(n_threads), br.mean, br.stddev);
            return {};
        };
        if (n_prompt > 0)
            if (Status s = measure(run_pp, n_prompt, static_cast<int32_t>(n_prompt), 0); !s.ok())
                return report_error(s);
        if (n_gen > 0)
            if (Status s = measure([&] { return run_tg(n_gen); }, n_gen, 0, static_cast<int32_t>(n_gen)); !s.ok())
                return report_error(s);
        // --batch: n_gen steps of B streams from position 0 (a warm-up pass, then -r timed passes; medians).
        for (int64_t n_streams : stream_counts) {
            if (n_gen == 0) break;
            Streams streams(static_cast<int32_t>(n_streams), seq.n_blocks());
            std::vector<model::TokenId> step_tokens(static_cast<size_t>(n_streams));
            auto pass = [&]() -> Status {
                for (int64_t i = 0; i < n_gen; ++i) {
                    for (int64_t s = 0; s < n_streams; ++s)
                        step_tokens[s] = tokens[(i + 7 * s) % static_cast<int64_t>(tokens.size())];
                    auto out = forward.run(streams.step(step_tokens, static_cast<int32_t>(i)));
                    if (!out.ok()) return out.status();
                }
                return {};
            };
            if (Status s = pass(); !s.ok()) return report_error(s);
            std::vector<double> wall, cpu;
            for (int64_t r = 0; r < reps; ++r) {
                const double w0 = now_seconds(), c0 = process_cpu_seconds();
                if (Status s = pass(); !s.ok()) return report_error(s);
                wall.push_back((now_seconds() - w0) * 1e3 / static_cast<double>(n_gen));
                cpu.push_back((process_cpu_seconds() - c0) * 1e3 / static_cast<double>(n_gen * n_threads));
            }
            StreamsResult sr{static_cast<int32_t>(n_gen), static_cast<int32_t>(n_threads),
                             static_cast<int32_t>(n_streams), median(wall), median(cpu)};
            stream_results.push_back(sr);
            if (!json)
                std::fprintf(stderr, "  %lld streams, %lld threads: step %.2f ms (CPU %.2f ms per thread)\n",
                             static_cast<long long>(n_streams), static_cast<long long>(n_threads), sr.step_ms,
                             sr.step_cpu_ms);
        }
    }
    // A stream result's step against the 1-stream step of the same thread count (0 when there is none).
    auto one_stream = [&](const StreamsResult& r, double StreamsResult::*field) {
        for (const StreamsResult& o : stream_results)
            if (o.threads == r.threads && o.n_streams == 1 && o.*field > 0) return r.*field / o.*field;
        return 0.0;
    };

    const uint64_t peak_rss = peak_rss_bytes();

    const bool amx_prefill = kernels::amx_prefill_on();
    if (json) {
        nlohmann::json j;
        j["results"] = nlohmann::json::array();
        for (const auto& r : results) {
            nlohmann::json row = {{"n_prompt", r.n_prompt}, {"n_gen", r.n_gen},
                                  {"threads", r.threads},   {"tokens_per_second", r.mean},
                                  {"stddev", r.stddev},     {"read_bandwidth_gbs", r.bandwidth_gbs}};
            if (r.n_gen > 0) {
                const double gbs = r.mean * bytes_per_token / 1e9;
                row["gbs"] = gbs;
                row["bandwidth_fraction"] = r.bandwidth_gbs > 0 ? gbs / r.bandwidth_gbs : 0.0;
            }
            j["results"].push_back(row);
        }
        j["streams"] = nlohmann::json::array();
        for (const auto& r : stream_results)
            j["streams"].push_back({{"n_gen", r.n_gen},
                                    {"threads", r.threads},
                                    {"n_streams", r.n_streams},
                                    {"step_ms", r.step_ms},
                                    {"step_cpu_ms", r.step_cpu_ms},
                                    {"tokens_per_second", r.step_ms > 0 ? 1e3 * r.n_streams / r.step_ms : 0.0},
                                    {"step_vs_one_stream", one_stream(r, &StreamsResult::step_ms)},
                                    {"step_cpu_vs_one_stream", one_stream(r, &StreamsResult::step_cpu_ms)}});
        j["model"] = model_path;
        j["weights_bytes_per_token"] = bytes_per_token;
        j["read_bandwidth_gbs"] = max_bandwidth.gbs;
        j["read_bandwidth_method"] = max_bandwidth.method;
        j["load_seconds"] = load_seconds;
        j["peak_rss_bytes"] = peak_rss;
        j["kernels"] = kernels::backend_name(kernels::active_backend());
        j["kernels_width_choice"] = kernels::width_choice_note();
        j["kernels_prefetch"] = kernels::prefetch_hint_name();
        j["kernels_prefetch_choice"] = kernels::prefetch_choice_note();
        j["kernels_amx"] = amx_prefill;
        j["kernels_amx_choice"] = kernels::amx_choice_note();
        j["packed_matrices"] = m.packed_matrices();
        j["packed_bytes"] = m.packed_bytes();
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }

    std::printf("| model | size | weights/token | threads | test | t/s | GB/s | %% of read BW |\n");
    std::printf("|---|---:|---:|---:|---|---:|---:|---:|\n");
    const std::string size = format_bytes(static_cast<double>(m.total_weight_bytes()));
    const std::string per_token = format_bytes(static_cast<double>(bytes_per_token));
    for (const auto& r : results) {
        const std::string test = r.n_prompt > 0 ? strformat("pp%d", r.n_prompt) : strformat("tg%d", r.n_gen);
        std::string gbs = "-", pct = "-";
        if (r.n_gen > 0) {
            const double g = r.mean * bytes_per_token / 1e9;
            gbs = strformat("%.1f", g);
            pct = r.bandwidth_gbs > 0 ? strformat("%.0f%% of %.1f", 100.0 * g / r.bandwidth_gbs, r.bandwidth_gbs) : "-";
        }
        std::printf("| %s | %s | %s | %d | %s | %.2f ± %.2f | %s | %s |\n", model_path.c_str(), size.c_str(),
                    per_token.c_str(), r.threads, test.c_str(), r.mean, r.stddev, gbs.c_str(), pct.c_str());
    }
    if (!stream_results.empty()) {
        std::printf(
            "\n| threads | streams | step ms | step CPU ms / thread | tok/s | step / 1-stream step (wall, CPU) |\n");
        std::printf("|---:|---:|---:|---:|---:|---|\n");
        for (const auto& r : stream_results)
            std::printf("| %d | %d | %.2f | %.2f | %.2f | %.2f×, %.2f× |\n", r.threads, r.n_streams, r.step_ms,
                        r.step_cpu_ms, r.step_ms > 0 ? 1e3 * r.n_streams / r.step_ms : 0.0,
                        one_stream(r, &StreamsResult::step_ms), one_stream(r, &StreamsResult::step_cpu_ms));
    }
    std::printf(
        "\nload %.2f s, peak RSS %s, read bandwidth %.1f GB/s (max over thread counts, by %s), "
        "kernels %s%s%s%s, prefetch %s%s%s%s, AMX prefill %s%s%s%s, %d matrices repacked at load (%s)\n",
        load_seconds, format_bytes(static_cast<double>(peak_rss)).c_str(), max_bandwidth.gbs,
        max_bandwidth.method.c_str(), kernels::backend_name(kernels::active_backend()),
        kernels::width_choice_note()[0] ? " (" : "", kernels::width_choice_note(),
        kernels::width_choice_note()[0] ? ")" : "", kernels::prefetch_hint_name(),
        kernels::prefetch_choice_note()[0] ? " (" : "", kernels::prefetch_choice_note(),
        kernels::prefetch_choice_note()[0] ? ")" : "", amx_prefill ? "on" : "off",
        kernels::amx_choice_note()[0] ? " (" : "", kernels::amx_choice_note(), kernels::amx_choice_note()[0] ? ")" : "",
        m.packed_matrices(), format_bytes(static_cast<double>(m.packed_bytes())).c_str());
    return 0;
}

}  // namespace duet::app
