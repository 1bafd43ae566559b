// cmd_serve.cpp: `duet serve`: load models, one engine each over a shared KV budget, serve the OpenAI API.
#include <csignal>
#include <cstdio>
#include <memory>
#include <pthread.h>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_args.h"
#include "common/log.h"
#include "engine/engine.h"
#include "kernels/kernels.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "server/server.h"
#include "server/tokenizer_codec.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet serve -m NAME=FILE.gguf [-m NAME2=FILE2.gguf ...] [options]\n\n"
    "OpenAI-compatible HTTP server: /v1/chat/completions, /v1/completions, /v1/models, /tokenize, /detokenize,\n"
    "/health, /metrics. Binds 127.0.0.1 unless --host says otherwise.\n\n"
    "  -m, --model NAME=FILE  a model to serve (repeatable; the first is the default); FILE alone: NAME = file stem\n"
    "  --host ADDR            listen address (default 127.0.0.1; a non-loopback address needs --api-key or --insecure)\n"
    "  --port N               port (default 8080; 0 = any free port, printed on stdout)\n"
    "  --api-key K            require 'Authorization: Bearer K' on every route but /health\n"
    "  --insecure             allow a non-loopback --host without an API key\n"
    "  --ctx N                context length per request (default: the model's)\n"
    "  --kv-memory SIZE       KV cache budget shared by all models, e.g. 512M, 2G (default 256M)\n"
    "  --max-queue N          requests in flight per model before 503 (default 256)\n"
    "  --max-seqs N           requests running at once per model (default 64)\n"
    "  --kv-type f16|f32      KV cache element type (default f16)\n"
    "  -t, --threads N        compute threads per model (default: hardware threads, at most 8)\n"
    "  --http-threads N       HTTP worker threads (default 64; each open stream holds one)\n"
    "  --max-body SIZE        largest request body (default 8M)\n";

Result<size_t> parse_size(std::string_view s) {
    if (s.empty()) return Status::invalid_argument("--kv-memory: empty size");
    size_t multiplier = 1;
    const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
    if (unit == 'K' || unit == 'M' || unit == 'G') {
        multiplier = unit == 'K' ? size_t{1} << 10 : unit == 'M' ? size_t{1} << 20 : size_t{1} << 30;
        s.remove_suffix(1);
    }
    DUET_TRY(int64_t n, parse_int(s, "size"));
    if (n <= 0 || static_cast<uint64_t>(n) > (uint64_t{1} << 50) / multiplier)
        return Status::invalid_argument("size '%.*s' out of range", static_cast<int>(s.size()), s.data());
    return static_cast<size_t>(n) * multiplier;
}

struct ModelSpec {
    std::string name, path;
};

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
    if (m.name.empty() || m.path.empty()) return Status::invalid_argument("-m '%s': expected NAME=FILE.gguf", spec.c_str());
    return m;
}

bool is_loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
    std::vector<ModelSpec> specs;
    server::ServerOptions options;
    engine::EngineOptions engine_options;
    engine_options.n_threads = default_threads();
    size_t kv_memory = size_t{256} << 20;
    bool insecure = false;
    model::KvType kv_type = model::KvType::f16;

    ArgReader args(argc, argv);
    while (args.next()) {
        auto value = [&]() { return args.value(); };
        if (args.is("-h", "--help")) {
            std::fputs(kUsage, stdout);
            return 0;
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
        } else if (args.is("--insecure")) {
            insecure = true;
        } else if (args.is("--ctx") || args.is("--max-queue") || args.is("--max-seqs") || args.is("-t", "--threads") ||
                   args.is("--http-threads")) {
            const std::string name(args.arg());
            auto v = value();
            auto n = v.ok() ? parse_int(*v, name) : Result<int64_t>(v.status());
            if (!n.ok()) return report_error(n.status());
            if (*n < 1 || *n > (1 << 24)) return report_error(Status::invalid_argument("%s out of range", name.c_str()));
            const int32_t x = static_cast<int32_t>(*n);
            if (name == "--ctx") engine_options.context_length = x;
            else if (name == "--max-queue") options.max_queue = engine_options.max_queue = x;
            else if (name == "--max-seqs") engine_options.max_num_seqs = x;
            else if (name == "--http-threads") options.http.n_threads = x;
            else engine_options.n_threads = x;
        } else if (args.is("--kv-memory") || args.is("--max-body")) {
            const std::string name(args.arg());
            auto v = value();
            auto n = v.ok() ? parse_size(*v) : Result<size_t>(v.status());
            if (!n.ok()) return report_error(n.status().with_context(name + ": "));
            if (name == "--kv-memory") kv_memory = *n;
            else options.http.max_body_bytes = *n;
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
    if (specs.empty()) {
        std::fprintf(stderr, "error: at least one -m NAME=FILE.gguf is needed\n\n%s", kUsage);
        return 2;
    }
    for (size_t i = 0; i < specs.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (specs[i].name == specs[j].name)
                return report_error(Status::invalid_argument("model name '%s' given twice", specs[i].name.c_str()));
    if (!is_loopback(options.http.host) && options.api_key.empty() && !insecure)
        return report_error(Status::invalid_argument(
            "--host %s is not a loopback address: set --api-key (or --insecure to serve without one)",
            options.http.host.c_str()));
    if (!is_loopback(options.http.host) && options.api_key.empty())
        DUET_LOG_WARN("serving on %s without an API key (--insecure)", options.http.host.c_str());
    engine_options.kv_type = kv_type;

    // SIGINT/SIGTERM are taken by sigwait() below; block them before any thread starts so none receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Listen first: /health answers 503 while the models load (and a port in use fails fast).
    server::Server srv(options);
    if (Status st = srv.start(); !st.ok()) return report_error(st);
    std::printf("duet serve: listening on http://%s:%d\n", options.http.host.c_str(), srv.port());
    std::fflush(stdout);

    std::vector<std::shared_ptr<const model::Model>> models;
    for (const auto& spec : specs) {
        model::LoadOptions load_options;
        load_options.progress = false;
        auto loaded = model::Model::load(spec.path, load_options);
        if (!loaded.ok()) return report_error(loaded.status().with_context("model '" + spec.name + "': "));
        models.push_back(std::shared_ptr<const model::Model>(std::move(loaded).value()));
    }
    std::vector<const model::Model*> raw;
    for (const auto& m : models) raw.push_back(m.get());
    const std::vector<size_t> budgets = engine::split_kv_memory(kv_memory, raw, engine_options.block_size, kv_type);
    std::vector<std::shared_ptr<engine::Engine>> engines;
    for (size_t i = 0; i < specs.size(); ++i) {
        auto codec = server::make_tokenizer_codec(models[i]->file(), models[i]);
        if (!codec.ok()) return report_error(codec.status().with_context("model '" + specs[i].name + "': "));
        engine::EngineOptions eo = engine_options;
        eo.kv_memory_bytes = budgets[i];
        auto created = engine::Engine::create(models[i], eo);
        if (!created.ok()) return report_error(created.status().with_context("model '" + specs[i].name + "': "));
        std::shared_ptr<engine::Engine> engine(std::move(created).value());
        engine->start();
        engines.push_back(engine);
        srv.add_model({specs[i].name, engine, *codec, static_cast<int64_t>(std::time(nullptr))});
        DUET_LOG_INFO("model '%s' ready: %s, context %d, %d KV blocks (%s)", specs[i].name.c_str(),
                      specs[i].path.c_str(), engine->context_length(), engine->n_blocks(),
                      format_bytes(static_cast<double>(budgets[i])).c_str());
    }
    srv.set_ready(true);
    DUET_LOG_INFO("ready: %zu model(s) on http://%s:%d (kernels %s)", specs.size(), options.http.host.c_str(), srv.port(),
                  kernels::backend_name(kernels::active_backend()));

    int signal_number = 0;
    sigwait(&signals, &signal_number);
    DUET_LOG_INFO("signal %d: shutting down", signal_number);
    // Engines first: their unfinished requests get a final abort delta, so every open stream ends and the HTTP
    // workers can be joined.
    srv.set_ready(false);
    for (auto& e : engines) e->stop();
    srv.stop();
    return 0;
}

}  // namespace duet::app
