// bench_url.cpp: `duet bench --url URL`: a load generator for any OpenAI-compatible server. Streams fixed-length
// completions at each concurrency level and reports TTFT, TPOT, ITL and E2E latency (vLLM's definitions in
// docs/performance.md), request and output-token throughput, as Markdown or JSON; progress on stderr.
#include "app/bench_url.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "app/model_args.h"
#include "common/strformat.h"
#include "common/timer.h"
#include "openai/client.h"

namespace duet::app {

namespace {

using nlohmann::json;

constexpr const char* kUsage =
    "usage: duet bench --url URL --model NAME [--concurrency 1,2,4,8] [--requests N] [--prompt-tokens P]\n"
    "                  [--max-tokens M] [--endpoint completions|chat] [--api-key K] [--json]\n"
    "Load-tests an OpenAI-compatible server (duet serve, vLLM, llama.cpp): N streamed requests per concurrency\n"
    "level, each ~P prompt tokens (a unique prefix per request, so the prefix cache does not help) and exactly M\n"
    "output tokens where the server honours ignore_eos / min_tokens. Reports TTFT, TPOT, ITL, E2E (mean, median,\n"
    "p99 in ms) and request / output-token throughput. URL: http(s)://host:port (a trailing /v1 is accepted).\n";

struct Options {
    std::string url, model, api_key, endpoint = "completions";
    std::vector<int64_t> concurrency = {1, 2, 4, 8};
    int64_t n_requests = 32, prompt_tokens = 128, max_tokens = 64;
    bool json_output = false;
};

struct Sample {
    bool ok = false;
    std::string error;
    double ttft = 0, e2e = 0;
    int32_t output_tokens = 0, prompt_tokens = 0;
    std::vector<double> itl;
};

struct Summary {
    double mean = 0, median = 0, p99 = 0;
};

Summary summarize(std::vector<double> v) {
    Summary s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / v.size();
    auto pct = [&](double p) {  // linear interpolation between closest ranks (numpy's default)
        const double pos = p * (v.size() - 1);
        const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    };
    s.median = pct(0.5);
    s.p99 = pct(0.99);
    return s;
}

// ~n tokens of ordinary words behind a unique nonce (most tokenizers give one token per common word).
std::string make_prompt(int64_t n_tokens, uint64_t nonce) {
    static const char* kWords[] = {"the",   "cat",   "sat",  "on", "a",     "mat",   "and",  "looked", "at",    "sky",
                                   "while", "birds", "sang", "in", "green", "trees", "near", "old",    "river", "bank"};
    std::string p = strformat("Request %llu:", static_cast<unsigned long long>(nonce));
    for (int64_t i = 0; i < std::max<int64_t>(1, n_tokens - 4); ++i) {
        p += ' ';
        p += kWords[(nonce * 7 + i) % 20];
    }
    return p;
}

Sample run_one(const Options& o, const openai::Client& client, uint64_t nonce) {
    Sample s;
    const bool chat = o.endpoint == "chat";
    json body = {{"model", o.model},   {"max_tokens", o.max_tokens}, {"min_tokens", o.max_tokens},
                 {"ignore_eos", true}, {"temperature", 0},           {"stream_options", {{"include_usage", true}}}};
    const std::string prompt = make_prompt(o.prompt_tokens, nonce);
    if (chat) body["messages"] = json::array({{{"role", "user"}, {"content", prompt}}});
    else body["prompt"] = prompt;

    int32_t n_content_chunks = 0;
    double last = 0;
    const double start = now_seconds();
    auto on_chunk = [&](const openai::StreamChunk& chunk) {
        if (chunk.json.contains("usage") && chunk.json["usage"].is_object()) {
            s.output_tokens = chunk.json["usage"].value("completion_tokens", 0);
            s.prompt_tokens = chunk.json["usage"].value("prompt_tokens", 0);
        }
        if (openai::chunk_text(chunk.json).empty()) return true;
        if (n_content_chunks == 0) s.ttft = chunk.arrival_seconds - start;
        else s.itl.push_back(chunk.arrival_seconds - last);
        last = chunk.arrival_seconds;
        ++n_content_chunks;
        return true;
    };
    const openai::CallResult result =
        chat ? client.chat_stream(body, on_chunk) : client.completion_stream(body, on_chunk);
    if (!result.ok() || n_content_chunks == 0) {
        s.error = result.ok() ? "no content chunks" : result.error->describe();
        return s;
    }
    s.e2e = last - start;
    if (s.output_tokens == 0) s.output_tokens = n_content_chunks;
    s.ok = true;
    return s;
}

struct LevelResult {
    int64_t concurrency = 0, n_ok = 0, n_failed = 0, output_tokens = 0, prompt_tokens = 0;
    double wall = 0;
    Summary ttft, tpot, itl, e2e;
    std::string first_error;
};

LevelResult run_level(const Options& o, const openai::Client& client, int64_t concurrency, uint64_t* nonce) {
    std::vector<Sample> samples(static_cast<size_t>(o.n_requests));
    std::atomic<int64_t> next{0}, done{0};
    std::mutex print_mutex;
    const uint64_t base = *nonce;
    *nonce += static_cast<uint64_t>(o.n_requests);
    const double start = now_seconds();
    auto progress = [&](int64_t n) {
        std::lock_guard<std::mutex> lock(print_mutex);
        const int width = 30;
        const int filled = static_cast<int>(width * n / std::max<int64_t>(1, o.n_requests));
        std::fprintf(stderr, "\rconcurrency %3lld [%s%s] %lld/%lld", static_cast<long long>(concurrency),
                     std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
                     static_cast<long long>(n), static_cast<long long>(o.n_requests));
        std::fflush(stderr);
    };
    progress(0);
    std::vector<std::thread> workers;
    for (int64_t w = 0; w < concurrency; ++w)
        workers.emplace_back([&] {
            for (int64_t i; (i = next.fetch_add(1)) < o.n_requests;) {
                samples[static_cast<size_t>(i)] = run_one(o, client, base + static_cast<uint64_t>(i));
                progress(done.fetch_add(1) + 1);
            }
        });
    for (auto& t : workers) t.join();
    std::fprintf(stderr, "\n");
    LevelResult r;
    r.concurrency = concurrency;
    r.wall = now_seconds() - start;
    std::vector<double> ttft, tpot, itl, e2e;
    for (const auto& s : samples) {
        if (!s.ok) {
            r.n_failed++;
            if (r.first_error.empty()) r.first_error = s.error;
            continue;
        }
        r.n_ok++;
        r.output_tokens += s.output_tokens;
        r.prompt_tokens += s.prompt_tokens;
        ttft.push_back(s.ttft * 1e3);
        e2e.push_back(s.e2e * 1e3);
        for (double g : s.itl) itl.push_back(g * 1e3);
        if (s.output_tokens > 1) tpot.push_back((s.e2e - s.ttft) * 1e3 / (s.output_tokens - 1));
    }
    r.ttft = summarize(ttft);
    r.tpot = summarize(tpot);
    r.itl = summarize(itl);
    r.e2e = summarize(e2e);
    return r;
}

json summary_json(const Summary& s) { return {{"mean_ms", s.mean}, {"median_ms", s.median}, {"p99_ms", s.p99}}; }

}  // namespace

int cmd_bench_url(int argc, char** argv) {
    Options o;
    ArgReader args(argc, argv);
    while (args.next()) {
        if (args.is("-h", "--help")) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (args.is("--json")) {
            o.json_output = true;
            continue;
        }
        const std::string name(args.arg());
        auto v = args.value();
        if (!v.ok()) return report_error(v.status());
        if (name == "--url") {
            o.url = *v;
        } else if (name == "--model" || name == "-m") {
            o.model = *v;
        } else if (name == "--api-key") {
            o.api_key = *v;
        } else if (name == "--endpoint") {
            if (*v != "chat" && *v != "completions")
                return report_error(Status::invalid_argument("--endpoint must be chat or completions"));
            o.endpoint = *v;
        } else if (name == "--concurrency" || name == "-c") {
            auto list = parse_int_list(*v, ',', "--concurrency");
            if (!list.ok()) return report_error(list.status());
            for (int64_t c : *list)
                if (c < 1 || c > 1024) return report_error(Status::invalid_argument("--concurrency: 1..1024"));
            o.concurrency = *list;
        } else if (name == "--requests" || name == "--prompt-tokens" || name == "--max-tokens") {
            auto n = parse_int(*v, name);
            if (!n.ok()) return report_error(n.status());
            if (*n < 1 || *n > (1 << 20))
                return report_error(Status::invalid_argument("%s out of range", name.c_str()));
            (name == "--requests" ? o.n_requests : name == "--prompt-tokens" ? o.prompt_tokens : o.max_tokens) = *n;
        } else {
            std::fprintf(stderr, "error: unknown option '%s'\n\n%s", name.c_str(), kUsage);
            return 2;
        }
    }
    if (o.url.empty() || o.model.empty()) {
        std::fprintf(stderr, "error: --url and --model are required\n\n%s", kUsage);
        return 2;
    }
    openai::ClientOptions client_options;
    client_options.base_url = o.url;
    client_options.api_key = o.api_key;
    const openai::Client client(client_options);
    if (client.origin().empty())
        return report_error(
            Status::invalid_argument("--url must start with http:// or https:// (got '%s')", o.url.c_str()));

    uint64_t nonce = std::random_device{}();
    std::vector<LevelResult> results;
    for (int64_t c : o.concurrency) results.push_back(run_level(o, client, c, &nonce));

    bool any_ok = false;
    for (const auto& r : results) any_ok |= r.n_ok > 0;
    if (o.json_output) {
        json levels = json::array();
        for (const auto& r : results)
            levels.push_back({{"concurrency", r.concurrency},
                              {"completed", r.n_ok},
                              {"failed", r.n_failed},
                              {"first_error", r.first_error},
                              {"wall_seconds", r.wall},
                              {"request_throughput", r.n_ok / r.wall},
                              {"output_token_throughput", r.output_tokens / r.wall},
                              {"total_token_throughput", (r.output_tokens + r.prompt_tokens) / r.wall},
                              {"mean_prompt_tokens", r.n_ok ? double(r.prompt_tokens) / r.n_ok : 0.0},
                              {"mean_output_tokens", r.n_ok ? double(r.output_tokens) / r.n_ok : 0.0},
                              {"ttft", summary_json(r.ttft)},
                              {"tpot", summary_json(r.tpot)},
                              {"itl", summary_json(r.itl)},
                              {"e2e", summary_json(r.e2e)}});
        json out = {{"url", o.url},
                    {"model", o.model},
                    {"endpoint", o.endpoint},
                    {"requests", o.n_requests},
                    {"prompt_tokens", o.prompt_tokens},
                    {"max_tokens", o.max_tokens},
                    {"levels", levels}};
        std::printf("%s\n", out.dump(2).c_str());
    } else {
        std::printf(
            "## duet bench --url %s (model %s, %s, %lld requests/level, ~%lld prompt tokens, %lld output "
            "tokens)\n\n",
            o.url.c_str(), o.model.c_str(), o.endpoint.c_str(), static_cast<long long>(o.n_requests),
            static_cast<long long>(o.prompt_tokens), static_cast<long long>(o.max_tokens));
        std::printf(
            "| conc | ok | fail | req/s | out tok/s | TTFT ms mean/med/p99 | TPOT ms mean/med/p99 | "
            "ITL ms mean/med/p99 | E2E ms mean/med/p99 |\n|---|---|---|---|---|---|---|---|---|\n");
        auto cell = [](const Summary& s) { return strformat("%.1f / %.1f / %.1f", s.mean, s.median, s.p99); };
        for (const auto& r : results)
            std::printf("| %lld | %lld | %lld | %.2f | %.1f | %s | %s | %s | %s |\n",
                        static_cast<long long>(r.concurrency), static_cast<long long>(r.n_ok),
                        static_cast<long long>(r.n_failed), r.n_ok / r.wall, r.output_tokens / r.wall,
                        cell(r.ttft).c_str(), cell(r.tpot).c_str(), cell(r.itl).c_str(), cell(r.e2e).c_str());
        for (const auto& r : results)
            if (!r.first_error.empty())
                std::printf("\nconcurrency %lld: first error: %s\n", static_cast<long long>(r.concurrency),
                            r.first_error.c_str());
    }
    return any_ok ? 0 : 1;
}

}  // namespace duet::app
