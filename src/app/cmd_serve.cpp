// cmd_serve.cpp: `duet serve`: arguments -> server::ServeConfig -> serve_until_signal() (registry + server).
#include <malloc.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_args.h"
#include "common/log.h"
#include "hub/cache.h"
#include "hub/model_ref.h"
#include "kernels/kernels.h"
#include "common/duration.h"
#include "server/serve.h"
#include "server/serve_config.h"
#include "store/database.h"
#include "upstream/upstream_args.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet serve -m NAME=FILE.gguf [-m NAME2=FILE2.gguf ...] [--upstream NAME=URL ...] [options]\n"
    "       duet serve --config duet.yaml [options]\n\n"
    "OpenAI-compatible HTTP server: /v1/chat/completions, /v1/completions, /v1/models, /tokenize, /detokenize,\n"
    "/health, /metrics. Binds 127.0.0.1 unless --host says otherwise.\n\n"
    "  -m, --model NAME=FILE  a model to serve (repeatable; the first is the default); FILE alone: NAME = file stem;\n"
    "                         FILE may be ORG/REPO[:QUANT] of a model `duet pull` downloaded\n"
    "                         NAME=script:FILE.jsonl: a scripted test model (answers from a script; for tests)\n"
    "  --config FILE          models, upstreams, roles, memory budget from a YAML file (see README); -m and\n"
    "                         --upstream add to its models, other options override its settings\n"
    "load on demand (see README; models from the config file load on their first request by default):\n"
    "  --memory-budget SIZE   weights + KV of the loaded local models together, e.g. 8G; past it the least\n"
    "                         recently used idle models are unloaded (default: no budget)\n"
    "  --keep-alive DUR       how long an idle model stays loaded: 5m, 300, -1 = forever (default: the config\n"
    "                         file's keep_alive, else 5m for its models and forever for -m models)\n"
    "  --load-timeout S       seconds a request waits for its model to load before a 503 (default 120)\n"
    "  --host ADDR            listen address (default 127.0.0.1; a non-loopback address needs --api-key or "
    "--insecure)\n"
    "  --port N               port (default 8080; 0 = any free port, printed on stdout)\n"
    "  --api-key K            require 'Authorization: Bearer K' on every route but /health\n"
    "  --insecure             allow a non-loopback --host without an API key\n"
    "  --ctx N                context length per request (default: the model's)\n"
    "  --kv-memory SIZE       KV cache budget shared by all models, e.g. 512M, 2G (default: a quarter of the\n"
    "                         memory available after the weights, 256M..16G)\n"
    "  --max-queue N          requests in flight per model before 503 (default 256)\n"
    "  --max-seqs N           requests running at once per model (default 64)\n"
    "  --batch-window MS      an idle model waits until no request has come for MS (8 x MS at most) so that a\n"
    "                         burst's prompts share one step (default 1; 0 = start at once)\n"
    "  --kv-type f16|f32      KV cache element type (default f16)\n"
    "  -t, --threads N        compute threads per model (default: hardware threads, at most 8)\n"
    "  --http-threads N       HTTP worker threads (default 64; each open stream holds one)\n"
    "  --max-body SIZE        largest request body, after de-chunking and inflating gzip (default 8M)\n"
    "front door (see README):\n"
    "  --max-connections N              open connections in all (default 4096)\n"
    "  --max-connections-per-client N   open connections per client address (default 256)\n"
    "  --max-requests-per-connection N  keep-alive requests on one connection (default 100)\n"
    "  --header-timeout S               seconds for a request head to arrive (default 10)\n"
    "  --body-timeout S                 seconds for a request body to arrive (default 60)\n"
    "  --idle-timeout S                 seconds a keep-alive connection may wait for its next request (default 30)\n"
    "  --write-timeout S                seconds a response write may make no progress (default 30)\n"
    "upstreams (remote OpenAI-compatible servers: vLLM, llama-server, another duet; see README):\n"
    "  --upstream NAME=URL[#MODEL]      serve NAME by forwarding to URL (e.g. http://gpu1:8000/v1), sending\n"
    "                                   \"model\": MODEL (default NAME); repeat NAME with more URLs for a pool\n"
    "  --upstream-key K                 sent upstream as 'Authorization: Bearer K'\n"
    "  --upstream-retries N             tries per request on connect errors and 502/503 (default 3)\n"
    "  --upstream-timeout S             seconds an upstream may stay silent, first token included (default 300)\n"
    "  --upstream-health S              seconds between health checks (default 5; 0: none)\n"
    "  --data-dir DIR         where conversations are kept (DIR/duet.db; default $XDG_DATA_HOME/duet or\n"
    "                         ~/.local/share/duet)\n"
    "  --store URL            keep them in PostgreSQL instead (postgres://USER[:PASSWORD]@HOST[:PORT]/DB; several\n"
    "                         replicas may share one database); SQLite in --data-dir is the default\n"
    "  --arena-votes-per-minute N  arena votes accepted per session and minute (default 30; 0 = no limit)\n"
    "router (see README: model duet-auto routes each message, duet-expert / duet-daily pin a role):\n"
    "  --expert NAME          the served chat model for English/technical messages (default: the one named expert)\n"
    "  --daily NAME           the served chat model for everyday Chinese (default: the one named daily)\n"
    "  --route-config FILE    the router's keyword list (default: the built-in data/router/keywords.txt)\n"
    "  --route-model FILE     the router's fitted model, from duet route fit (default: the built-in one)\n";

Result<size_t> parse_size(std::string_view s) { return server::parse_byte_size(s); }

using server::ModelSpec;

// Not a file but ORG/REPO[:QUANT|/FILE.gguf]: a model `duet pull` downloaded, found in its manifest.
Status resolve_model_ref(ModelSpec* m) {
    std::error_code ec;
    if (m->path.rfind("script:", 0) != 0 && !std::filesystem::exists(m->path, ec) &&
        hub::looks_like_model_ref(m->path)) {
        DUET_TRY(m->path, hub::resolve_local(hub::ModelCache(hub::default_cache_dir()), m->path));
    }
    return Status::ok_status();
}

// --config FILE: its models and upstreams first (the first model is the default), its settings as defaults
// that the command line overrides. Errors: FILE:LINE: reason.
Status apply_config_file(const std::string& path, server::ServeConfig* config, std::optional<double>* keep_alive,
                         std::vector<server::ConfigModel>* file_models) {
    DUET_TRY(server::ServeConfigFile file, server::load_serve_config(path));
    for (auto& m : file.models) {
        if (Status st = resolve_model_ref(&m.spec); !st.ok())
            return Status::invalid_argument("%s:%d: model '%s': %s", path.c_str(), m.line, m.spec.name.c_str(),
                                            st.message().c_str());
        file_models->push_back(m);
    }
    for (auto& u : file.upstreams) config->upstreams.push_back(std::move(u));
    if (!file.expert_model.empty()) config->expert_model = file.expert_model;
    if (!file.daily_model.empty()) config->daily_model = file.daily_model;
    if (file.memory_budget_bytes) config->load.memory_budget_bytes = *file.memory_budget_bytes;
    if (file.kv_memory_bytes) config->load.kv_memory_bytes = *file.kv_memory_bytes;
    if (file.load_timeout_seconds) config->server.load_timeout_seconds = *file.load_timeout_seconds;
    if (file.context_length) config->load.engine.context_length = *file.context_length;
    if (file.keep_alive_seconds) *keep_alive = file.keep_alive_seconds;
    return Status::ok_status();
}

Result<ModelSpec> parse_model_spec(const std::string& spec) {
    ModelSpec m;
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) {
        m.path = spec;
        size_t slash = spec.find_last_of('/');
        std::string stem = spec.substr(slash == std::string::npos ? 0 : slash + 1);
        if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".gguf") == 0) stem.resize(stem.size() - 5);
        m.name = stem;
    } else {
        m.name = spec.substr(0, eq);
        m.path = spec.substr(eq + 1);
    }
    if (m.name.empty() || m.path.empty())
        return Status::invalid_argument("-m '%s': expected NAME=FILE.gguf", spec.c_str());
    DUET_RETURN_IF_ERROR(resolve_model_ref(&m));
    return m;
}

// Process settings for a long-running server with many connections and bursty large requests:
// - few malloc arenas (glibc makes up to 8 per core, one per busy thread: 64 HTTP workers each kept their own
//   ~40 MB after large requests) and a fixed mmap threshold (glibc raises it after each large free, so later large
//   bodies came from the heap and stayed): blocks of 256 KiB and more go back to the system when freed;
// - the soft descriptor limit raised to the hard one, so that the connection caps, not EMFILE, decide.
void prepare_process_for_serving(const server::http::HttpServerOptions& http) {
    mallopt(M_ARENA_MAX, 4);
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < static_cast<rlim_t>(http.max_connections) + 64)
        DUET_LOG_WARN("open-file limit %llu is below --max-connections %d: new connections will wait (ulimit -n)",
                      static_cast<unsigned long long>(files.rlim_cur), http.max_connections);
}

bool is_loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
    server::ServeConfig config;
    std::vector<ModelSpec>& specs = config.models;
    server::ServerOptions& options = config.server;
    engine::EngineOptions& engine_options = config.load.engine;
    engine_options.n_threads = default_threads();
    size_t& kv_memory = config.load.kv_memory_bytes;
    kv_memory = 0;  // 0: the registry sizes it from the memory available once the weights are loaded
    bool insecure = false;
    model::KvType kv_type = model::KvType::f16;
    std::optional<double> keep_alive;  // --keep-alive, else the config file's keep_alive
    std::optional<double> cli_keep_alive;
    std::vector<server::ConfigModel> file_models;

    // --config first, wherever it stands: the command line adds to its models and overrides its settings.
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string_view(argv[i]) != "--config") continue;
        if (Status st = apply_config_file(argv[i + 1], &config, &keep_alive, &file_models); !st.ok())
            return report_error(st);
    }

    ArgReader args(argc, argv);
    while (args.next()) {
        auto value = [&]() { return args.value(); };
        if (args.is("-h", "--help")) {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (args.is("--config")) {
            auto v = value();  // read above
            if (!v.ok()) return report_error(v.status());
        } else if (args.is("--keep-alive") || args.is("--load-timeout")) {
            const std::string name(args.arg());
            auto v = value();
            auto seconds = v.ok() ? parse_duration_seconds(*v) : Result<double>(v.status());
            if (!seconds.ok()) return report_error(seconds.status().with_context(name + ": "));
            if (name == "--keep-alive") cli_keep_alive = *seconds;
            else if (*seconds < 0) return report_error(Status::invalid_argument("--load-timeout must not be negative"));
            else options.load_timeout_seconds = *seconds;
        } else if (args.is("-m", "--model")) {
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            auto spec = parse_model_spec(*v);
            if (!spec.ok()) return report_error(spec.status());
            specs.push_back(*spec);
        } else if (args.is("--host")) {
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            options.http.host = *v;
        } else if (args.is("--port")) {
            auto v = value();
            auto n = v.ok() ? parse_int(*v, "--port") : Result<int64_t>(v.status());
            if (!n.ok() || *n < 0 || *n > 65535)
                return report_error(n.ok() ? Status::invalid_argument("--port must be 0..65535") : n.status());
            options.http.port = static_cast<int>(*n);
        } else if (args.is("--api-key")) {
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            options.api_key = *v;
        } else if (args.is("--arena-votes-per-minute")) {
            auto v = value();
            auto n = v.ok() ? parse_int(*v, "--arena-votes-per-minute") : Result<int64_t>(v.status());
            if (!n.ok() || *n < 0 || *n > 1000000)
                return report_error(n.ok() ? Status::invalid_argument("--arena-votes-per-minute must be 0..1000000")
                                           : n.status());
            config.arena.votes_per_minute = static_cast<int>(*n);
        } else if (args.is("--data-dir")) {
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            if (v->empty()) return report_error(Status::invalid_argument("--data-dir: empty path"));
            config.data_dir = *v;
        } else if (args.is("--store")) {
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            if (!store::is_postgres_location(*v))
                return report_error(Status::invalid_argument(
                    "--store: '%s' is not a postgres:// or postgresql:// URL (for SQLite, use --data-dir DIR)",
                    store::redact_location(*v).c_str()));
            config.store_url = *v;
        } else if (args.is("--expert") || args.is("--daily") || args.is("--route-config") || args.is("--route-model")) {
            const std::string name(args.arg());
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            if (v->empty()) return report_error(Status::invalid_argument("%s: empty value", name.c_str()));
            if (name == "--expert") config.expert_model = *v;
            else if (name == "--daily") config.daily_model = *v;
            else if (name == "--route-config") config.route_keywords_path = *v;
            else config.route_model_path = *v;
        } else if (args.is("--upstream")) {
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            if (Status st = upstream::add_upstream_arg(*v, &config.upstreams); !st.ok()) return report_error(st);
        } else if (args.is("--upstream-key")) {
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            config.upstream_options.api_key = *v;
        } else if (args.is("--upstream-retries") || args.is("--upstream-timeout") || args.is("--upstream-health")) {
            const std::string name(args.arg());
            auto v = value();
            auto n = v.ok() ? parse_int(*v, name) : Result<int64_t>(v.status());
            if (!n.ok()) return report_error(n.status());
            if (*n < (name == "--upstream-retries" ? 1 : 0) || *n > 86400)
                return report_error(Status::invalid_argument("%s out of range", name.c_str()));
            upstream::PoolOptions& o = config.upstream_options;
            if (name == "--upstream-retries") o.max_attempts = static_cast<int>(*n);
            else if (name == "--upstream-timeout") o.first_byte_timeout_seconds = static_cast<double>(*n);
            else o.health_interval_seconds = static_cast<double>(*n);
        } else if (args.is("--insecure")) {
            insecure = true;
        } else if (args.is("--ctx") || args.is("--max-queue") || args.is("--max-seqs") || args.is("-t", "--threads") ||
                   args.is("--http-threads") || args.is("--max-connections") ||
                   args.is("--max-connections-per-client") || args.is("--max-requests-per-connection") ||
                   args.is("--header-timeout") || args.is("--body-timeout") || args.is("--idle-timeout") ||
                   args.is("--write-timeout")) {
            const std::string name(args.arg());
            auto v = value();
            auto n = v.ok() ? parse_int(*v, name) : Result<int64_t>(v.status());
            if (!n.ok()) return report_error(n.status());
            if (*n < 1 || *n > (1 << 24))
                return report_error(Status::invalid_argument("%s out of range", name.c_str()));
            const int32_t x = static_cast<int32_t>(*n);
            if (name == "--ctx") engine_options.context_length = x;
            else if (name == "--max-queue") options.max_queue = engine_options.max_queue = x;
            else if (name == "--max-seqs") engine_options.max_num_seqs = x;
            else if (name == "--http-threads") options.http.n_threads = x;
            else if (name == "--max-connections") options.http.max_connections = x;
            else if (name == "--max-connections-per-client") options.http.max_connections_per_client = x;
            else if (name == "--max-requests-per-connection") options.http.max_requests_per_connection = x;
            else if (name == "--header-timeout") options.http.header_timeout_seconds = x;
            else if (name == "--body-timeout") options.http.body_timeout_seconds = x;
            else if (name == "--idle-timeout") options.http.idle_timeout_seconds = x;
            else if (name == "--write-timeout") options.http.write_timeout_seconds = x;
            else engine_options.n_threads = x;
        } else if (args.is("--kv-memory") || args.is("--max-body") || args.is("--memory-budget")) {
            const std::string name(args.arg());
            auto v = value();
            auto n = v.ok() ? parse_size(*v) : Result<size_t>(v.status());
            if (!n.ok()) return report_error(n.status().with_context(name + ": "));
            if (name == "--kv-memory") kv_memory = *n;
            else if (name == "--memory-budget") config.load.memory_budget_bytes = *n;
            else options.http.max_body_bytes = *n;
        } else if (args.is("--batch-window")) {
            auto v = value();
            auto ms = v.ok() ? parse_float(*v, "--batch-window") : Result<double>(v.status());
            if (!ms.ok()) return report_error(ms.status());
            if (!(*ms >= 0 && *ms <= 1000))
                return report_error(Status::invalid_argument("--batch-window: milliseconds, 0 to 1000"));
            engine_options.batch_window_us = static_cast<int32_t>(*ms * 1000 + 0.5);
        } else if (args.is("--kv-type")) {
            auto v = value();
            if (!v.ok()) return report_error(v.status());
            if (*v == "f16") kv_type = model::KvType::f16;
            else if (*v == "f32") kv_type = model::KvType::f32;
            else return report_error(Status::invalid_argument("--kv-type must be f16 or f32"));
        } else {
            std::fprintf(stderr, "error: unknown option '%s'\n\n%s", std::string(args.arg()).c_str(), kUsage);
            return 2;
        }
    }
    // Keep-alive: a model's own, else --keep-alive, else the file's default, else 5m (Ollama's) for the file's
    // models and forever for -m models (loaded at start, as without a config file).
    if (cli_keep_alive) keep_alive = cli_keep_alive;
    constexpr double kDefaultKeepAliveSeconds = 300;
    for (auto& spec : specs) spec.keep_alive_seconds = keep_alive.value_or(-1);
    std::vector<ModelSpec> all;
    for (auto& m : file_models) {
        m.spec.keep_alive_seconds = m.keep_alive ? *m.keep_alive : keep_alive.value_or(kDefaultKeepAliveSeconds);
        all.push_back(m.spec);
    }
    for (auto& spec : specs) {
        for (const auto& m : all)
            if (m.name == spec.name)
                return report_error(Status::invalid_argument("-m %s: the config file already has a model named '%s'",
                                                             spec.name.c_str(), spec.name.c_str()));
        all.push_back(spec);
    }
    specs = std::move(all);
    if (specs.empty() && config.upstreams.empty()) {
        std::fprintf(stderr, "error: at least one -m NAME=FILE.gguf or --upstream NAME=URL is needed\n\n%s", kUsage);
        return 2;
    }
    if (!is_loopback(options.http.host) && options.api_key.empty() && !insecure)
        return report_error(Status::invalid_argument(
            "--host %s is not a loopback address: set --api-key (or --insecure to serve without one)",
            options.http.host.c_str()));
    if (!is_loopback(options.http.host) && options.api_key.empty())
        DUET_LOG_WARN("serving on %s without an API key (--insecure)", options.http.host.c_str());
    engine_options.kv_type = kv_type;
    prepare_process_for_serving(options.http);

    DUET_LOG_INFO("kernels %s%s", kernels::backend_name(kernels::active_backend()),
                  kernels::amx_prefill_on() ? ", prefill of 48+ tokens on AMX tiles in bf16 (DUET_AMX=0: off)" : "");
    if (Status st = server::serve_until_signal(config); !st.ok()) return report_error(st);
    return 0;
}

}  // namespace duet::app
