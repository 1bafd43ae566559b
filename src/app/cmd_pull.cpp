// cmd_pull.cpp: `duet pull ORG/REPO[:QUANT|/FILE.gguf]`: a GGUF from the Hugging Face hub into the model cache.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/commands.h"
#include "app/model_args.h"
#include "hub/pull.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet pull ORG/REPO[:QUANT|/FILE.gguf] [options]\n\n"
    "Downloads one GGUF file from the Hugging Face hub into the model cache and prints its local path on stdout.\n"
    "ORG/REPO alone means quant Q4_K_M; :QUANT picks another (case-insensitive, e.g. :q8_0); /FILE.gguf names the\n"
    "file. An interrupted download resumes from its .part file; the file's sha256 is checked against the hub's.\n"
    "Then `duet serve -m NAME=ORG/REPO:QUANT` serves it by name.\n\n"
    "  --offline          use only the cache (also HF_HUB_OFFLINE=1)\n"
    "  --revision REV     branch, tag or commit (default main)\n"
    "  --models-dir DIR   the cache (default $DUET_MODELS_DIR, else ~/.cache/duet/models)\n"
    "  -q, --quiet        no progress bar\n"
    "  -h, --help         this text\n\n"
    "Environment: HF_TOKEN (sent as 'Authorization: Bearer', for gated or private repos), HF_ENDPOINT (default\n"
    "https://huggingface.co), HF_HUB_OFFLINE.\n"
    "Exit status: 0 on success; 1 with 'error: <message>' on stderr otherwise.\n";

}  // namespace

int cmd_pull(int argc, char** argv) {
    hub::HubOptions options = hub::hub_options_from_env();
    std::string spec, models_dir = hub::default_cache_dir();
    bool quiet = false;
    ArgReader args(argc, argv);
    auto parse = [&]() -> Status {
        while (args.next()) {
            if (args.is("-h", "--help")) {
                std::fputs(kUsage, stdout);
                std::exit(0);
            } else if (args.is("--offline")) {
                options.offline = true;
            } else if (args.is("--revision")) {
                DUET_TRY(options.revision, args.value());
            } else if (args.is("--models-dir")) {
                DUET_TRY(models_dir, args.value());
            } else if (args.is("-q", "--quiet")) {
                quiet = true;
            } else if (args.arg().starts_with("-") || !spec.empty()) {
                return Status::invalid_argument("unexpected argument '%s'\n%s", std::string(args.arg()).c_str(),
                                                kUsage);
            } else {
                spec = args.arg();
            }
        }
        if (spec.empty()) return Status::invalid_argument("which model? give ORG/REPO[:QUANT|/FILE.gguf]\n%s", kUsage);
        return {};
    };
    if (Status s = parse(); !s.ok()) return report_error(s);

    const hub::HubClient client(options);
    const hub::ModelCache cache(models_dir);
    auto pulled = hub::pull(client, cache, spec, quiet ? nullptr : stderr);
    if (!pulled.ok()) return report_error(pulled.status());
    const hub::ManifestEntry& e = pulled->entry;
    if (pulled->from_cache)
        std::fprintf(stderr, "%s: %s is in the cache (%s)\n", e.name().c_str(), e.file.c_str(),
                     format_bytes(static_cast<double>(e.size)).c_str());
    else {
        const uint64_t resumed = pulled->stats.resumed_from;
        const std::string resumed_note =
            resumed > 0 ? ", resumed at " + format_bytes(static_cast<double>(resumed)) : std::string();
        std::fprintf(stderr, "%s: %s verified (sha256 %s, %s%s)\n", e.name().c_str(), e.file.c_str(),
                     e.sha256.substr(0, 12).c_str(), format_bytes(static_cast<double>(e.size)).c_str(),
                     resumed_note.c_str());
    }
    std::printf("%s\n", e.path.c_str());
    return 0;
}

}  // namespace duet::app
