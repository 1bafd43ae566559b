// cmd_eval.cpp: `duet eval run` (suites x targets -> results.json, report.html, report.md under --out; resumable
// through the response cache there) and `duet eval compare A.json B.json`. The logic is in src/eval.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/commands.h"
#include "app/model_args.h"
#include "eval/deploy.h"
#include "eval/runner.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet eval run --suite S[,S2...] --target NAME=URL[#model] [--target ...] [options]\n"
    "       duet eval compare A.json B.json\n"
    "       duet eval deploy --target NAME=URL[#model] [--target ...] [--launch NAME=CMD] [--pid NAME=PID]\n"
    "                        [--requests N]\n\n"
    "run options:\n"
    "  --suite S[,S2]         flows, probes, clarify, ceval, humaneval, longctx (files under evals/) or paths\n"
    "  --target NAME=URL[#m]  an OpenAI-compatible server (http://host:port[/v1]) and model; repeat for more\n"
    "  --judge URL[#model]    pairwise judge for the first two targets, asked in both orders\n"
    "  --out DIR              results.json, report.html, report.md and the response cache cache.sqlite (default\n"
    "                         eval-out; a cache.jsonl from an older duet there is imported once)\n"
    "  --context N            long context: documents of 1K, 2K, 4K ... up to what fits in N tokens of the targets'\n"
    "                         own tokenizers (/tokenize where they have one; default: the suite's lengths)\n"
    "  --pipeline EXPERT,DAILY  long context: also summarise <= --chunk-tokens chunks with target EXPERT and answer\n"
    "                         from the summaries with target DAILY (reported as target pipeline:EXPERT>DAILY)\n"
    "                         (default: on when targets named expert and daily are given)\n"
    "  --chunk-tokens N       the pipeline's chunk size in the expert's tokens (estimated without /tokenize;\n"
    "                         default 3000)\n"
    "  --seed N               sent with every request (default 0); requests use temperature 0\n"
    "  --concurrency N        items in flight at once (default 4)\n"
    "  --max-tokens N         per reply (default 512)\n"
    "  --retries N            retries on 5xx, timeouts and transport errors (default 3; backoff 0.5 s doubling)\n"
    "  --timeout S            read timeout per request in seconds (default 120)\n"
    "  --api-key K            sent as a bearer token (default $OPENAI_API_KEY)\n"
    "  --evals-dir DIR        where the named suites live (default ./evals, else next to the binary)\n"
    "  --stop-after N         stop after N items have started (the run stays resumable)\n"
    "Ctrl-C stops taking new items; rerunning the same command continues from the cache.\n\n"
    "deploy: /health, first load of /, new session (POST /api/conversations + first token of a new chat), TTFT and\n"
    "streaming rhythm over N streamed requests (default 3), printed next to the seed's figures.\n"
    "  --launch NAME=CMD      start the server with CMD (sh -c), time load to ready (/health 200), measure its RSS,\n"
    "                         stop it afterwards; e.g. --launch big='duet serve -m big.gguf --port 8081'\n"
    "  --ready-timeout S      give up waiting for /health after S seconds (default 600)\n"
    "  --pid NAME=PID         RSS of an already running server\n"
    "  --max-tokens N (default 64), --api-key K\n";

std::atomic<bool> g_stop{false};

void on_sigint(int) { g_stop.store(true); }

std::string default_evals_dir() {
    if (std::filesystem::exists("evals/flows.jsonl")) return "evals";
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::filesystem::path dir = exe.parent_path();
        for (const auto& candidate : {dir / ".." / "evals", dir / ".." / "share" / "duet" / "evals"})
            if (std::filesystem::exists(candidate / "flows.jsonl")) return candidate.lexically_normal().string();
    }
    return "evals";
}

Status write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::io_error("cannot write %s", path.c_str());
    return {};
}

Result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::not_found("cannot read %s", path.c_str());
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

int eval_run(int argc, char** argv) {
    eval::RunOptions options;
    options.evals_dir = default_evals_dir();
    if (const char* key = std::getenv("OPENAI_API_KEY")) options.policy.api_key = key;
    options.policy.read_timeout_seconds = 120;
    std::string out_dir = "eval-out";
    ArgReader args(argc, argv);
    auto parse = [&]() -> Status {
        while (args.next()) {
            if (args.is("-h", "--help")) {
                std::fputs(kUsage, stdout);
                std::exit(0);
            } else if (args.is("--suite")) {
                DUET_TRY(std::string v, args.value());
                std::stringstream list(v);
                std::string s;
                while (std::getline(list, s, ','))
                    if (!s.empty()) options.suites.push_back(s);
            } else if (args.is("--target")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(eval::Target t, eval::parse_target(v, true));
                for (const eval::Target& other : options.targets)
                    if (other.name == t.name)
                        return Status::invalid_argument("--target: duplicate name '%s'", t.name.c_str());
                options.targets.push_back(t);
            } else if (args.is("--judge")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(eval::Target t, eval::parse_target(v, false));
                options.judge = t;
            } else if (args.is("--out")) {
                DUET_TRY(out_dir, args.value());
            } else if (args.is("--seed")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(options.seed, parse_u64(v, "--seed"));
            } else if (args.is("--concurrency")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--concurrency"));
                if (n < 1 || n > 256) return Status::invalid_argument("--concurrency out of range [1, 256]");
                options.concurrency = int(n);
            } else if (args.is("--max-tokens")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--max-tokens"));
                if (n < 1 || n > 1 << 20) return Status::invalid_argument("--max-tokens out of range");
                options.max_tokens = int(n);
            } else if (args.is("--retries")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--retries"));
                if (n < 0 || n > 20) return Status::invalid_argument("--retries out of range [0, 20]");
                options.policy.max_retries = int(n);
            } else if (args.is("--timeout")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(options.policy.read_timeout_seconds, parse_float(v, "--timeout"));
            } else if (args.is("--api-key")) {
                DUET_TRY(options.policy.api_key, args.value());
            } else if (args.is("--evals-dir")) {
                DUET_TRY(options.evals_dir, args.value());
            } else if (args.is("--context")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--context"));
                if (n < 1500 || n > 10000000)
                    return Status::invalid_argument("--context out of range [1500, 10000000]");
                options.context_tokens = int(n);
            } else if (args.is("--pipeline")) {
                DUET_TRY(std::string v, args.value());
                const size_t comma = v.find(',');
                if (comma == std::string::npos || comma == 0 || comma + 1 == v.size())
                    return Status::invalid_argument("--pipeline: expected EXPERT,DAILY (two --target names)");
                options.pipeline_expert = v.substr(0, comma);
                options.pipeline_daily = v.substr(comma + 1);
            } else if (args.is("--chunk-tokens")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--chunk-tokens"));
                if (n < 100 || n > 1000000)
                    return Status::invalid_argument("--chunk-tokens out of range [100, 1000000]");
                options.chunk_tokens = int(n);
            } else if (args.is("--stop-after")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--stop-after"));
                options.stop_after_items = int(n);
            } else {
                return Status::invalid_argument("unknown option '%s'\n%s", std::string(args.arg()).c_str(), kUsage);
            }
        }
        if (options.suites.empty()) return Status::invalid_argument("--suite is required\n%s", kUsage);
        if (options.targets.empty()) return Status::invalid_argument("--target is required\n%s", kUsage);
        // Targets named expert and daily run the pipeline without --pipeline (duet serve's two roles).
        bool has_expert = false, has_daily = false;
        for (const eval::Target& t : options.targets) {
            has_expert = has_expert || t.name == "expert";
            has_daily = has_daily || t.name == "daily";
        }
        if (options.pipeline_expert.empty() && has_expert && has_daily) {
            options.pipeline_expert = "expert";
            options.pipeline_daily = "daily";
        }
        return {};
    };
    if (Status s = parse(); !s.ok()) return report_error(s);

    // Every suite is checked before anything is sent (run_eval loads them again; they are small).
    if (auto loaded = eval::load_suites(options.suites, options.evals_dir, eval::long_context_options(options));
        !loaded.ok())
        return report_error(loaded.status());
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) return report_error(Status::io_error("--out %s: %s", out_dir.c_str(), ec.message().c_str()));
    options.cache_path = out_dir + "/cache.sqlite";
    options.import_cache_path = out_dir + "/cache.jsonl";  // written by duet before the SQLite cache
    options.stop = &g_stop;
    const bool tty = ::isatty(2);
    options.progress = [tty](const std::string& line) {
        std::fprintf(stderr, tty ? "\r\033[K%s" : "%s\n", line.c_str());
    };
    struct sigaction action {};
    action.sa_handler = on_sigint;
    action.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
    sigaction(SIGINT, &action, nullptr);

    Result<eval::RunResults> results = eval::run_eval(options);
    if (tty) std::fputc('\n', stderr);
    if (!results.ok()) return report_error(results.status());
    using NamedText = std::pair<std::string, std::string>;
    for (const auto& [name, text] : {NamedText{"results.json", eval::results_to_json(*results)},
                                     NamedText{"report.html", eval::render_report_html(*results)},
                                     NamedText{"report.md", eval::render_report_markdown(*results)}})
        if (Status s = write_file(out_dir + "/" + name, text); !s.ok()) return report_error(s);
    std::fputs(eval::render_report_markdown(*results).c_str(), stdout);
    std::fprintf(stderr, "wrote %s/results.json, report.html, report.md\n", out_dir.c_str());
    if (!results->complete) {
        std::fprintf(stderr, "stopped before every item ran: rerun the same command to continue\n");
        return 3;
    }
    return 0;
}

int eval_compare(int argc, char** argv) {
    if (argc != 3) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    eval::RunResults runs[2];
    for (int i = 0; i < 2; ++i) {
        Result<std::string> text = read_file(argv[1 + i]);
        if (!text.ok()) return report_error(text.status());
        Result<eval::RunResults> parsed = eval::results_from_json(*text, argv[1 + i]);
        if (!parsed.ok()) return report_error(parsed.status());
        runs[i] = std::move(*parsed);
    }
    std::fputs(eval::compare_results(runs[0], runs[1]).c_str(), stdout);
    return 0;
}

int eval_deploy(int argc, char** argv) {
    std::vector<eval::Target> targets;
    std::vector<std::pair<std::string, int>> pids;
    std::vector<std::pair<std::string, std::string>> launches;
    eval::DeployOptions options;
    if (const char* key = std::getenv("OPENAI_API_KEY")) options.policy.api_key = key;
    options.policy.max_retries = 0;
    options.policy.read_timeout_seconds = 60;
    ArgReader args(argc, argv);
    auto parse = [&]() -> Status {
        while (args.next()) {
            if (args.is("-h", "--help")) {
                std::fputs(kUsage, stdout);
                std::exit(0);
            } else if (args.is("--target")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(eval::Target t, eval::parse_target(v, true));
                targets.push_back(t);
            } else if (args.is("--pid")) {
                DUET_TRY(std::string v, args.value());
                const size_t eq = v.find('=');
                if (eq == std::string::npos) return Status::invalid_argument("--pid: expected NAME=PID");
                DUET_TRY(int64_t pid, parse_int(std::string_view(v).substr(eq + 1), "--pid"));
                pids.push_back({v.substr(0, eq), int(pid)});
            } else if (args.is("--launch")) {
                DUET_TRY(std::string v, args.value());
                const size_t eq = v.find('=');
                if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
                    return Status::invalid_argument("--launch: expected NAME=COMMAND");
                launches.push_back({v.substr(0, eq), v.substr(eq + 1)});
            } else if (args.is("--ready-timeout")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(options.ready_timeout_seconds, parse_float(v, "--ready-timeout"));
            } else if (args.is("--requests")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--requests"));
                if (n < 1 || n > 1000) return Status::invalid_argument("--requests out of range [1, 1000]");
                options.requests = int(n);
            } else if (args.is("--max-tokens")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--max-tokens"));
                if (n < 1 || n > 1 << 20) return Status::invalid_argument("--max-tokens out of range");
                options.max_tokens = int(n);
            } else if (args.is("--api-key")) {
                DUET_TRY(options.policy.api_key, args.value());
            } else {
                return Status::invalid_argument("unknown option '%s'\n%s", std::string(args.arg()).c_str(), kUsage);
            }
        }
        if (targets.empty()) return Status::invalid_argument("--target is required\n%s", kUsage);
        for (const auto& [name, command] : launches) {
            bool known = false;
            for (const eval::Target& t : targets) known = known || t.name == name;
            if (!known) return Status::invalid_argument("--launch %s: no --target of that name", name.c_str());
        }
        return {};
    };
    if (Status s = parse(); !s.ok()) return report_error(s);
    std::vector<eval::DeployFigures> figures;
    for (const eval::Target& t : targets) {
        eval::DeployOptions o = options;
        for (const auto& [name, pid] : pids)
            if (name == t.name) o.pid = pid;
        for (const auto& [name, command] : launches)
            if (name == t.name) o.launch_command = command;
        if (!o.launch_command.empty())
            std::fprintf(stderr, "starting %s: %s\n", t.name.c_str(), o.launch_command.c_str());
        figures.push_back(eval::measure_deployment(t, o));
    }
    std::fputs(eval::render_deploy_table(figures).c_str(), stdout);
    return 0;
}

}  // namespace

int cmd_eval(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (std::strcmp(argv[1], "run") == 0) return eval_run(argc - 1, argv + 1);
    if (std::strcmp(argv[1], "compare") == 0) return eval_compare(argc - 1, argv + 1);
    if (std::strcmp(argv[1], "deploy") == 0) return eval_deploy(argc - 1, argv + 1);
    std::fprintf(stderr, "error: unknown eval command '%s'\n%s", argv[1], kUsage);
    return 2;
}

}  // namespace duet::app
