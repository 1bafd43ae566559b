// cmd_models.cpp: `duet models list|show NAME|rm NAME`: what `duet pull` put in the model cache.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_args.h"
#include "hub/cache.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet models list [--json] | show NAME [--json] | rm NAME   [--models-dir DIR]\n\n"
    "The models `duet pull` downloaded. NAME is ORG/REPO:QUANT, ORG/REPO/FILE.gguf, or ORG/REPO (all of its\n"
    "quants; rm then needs exactly one).\n\n"
    "  --json             one JSON object (list: {\"models\": [...]}) instead of a table\n"
    "  --models-dir DIR   the cache (default $DUET_MODELS_DIR, else ~/.cache/duet/models)\n"
    "  -h, --help         this text\n\n"
    "Exit status: 0 on success; 1 with 'error: <message>' on stderr otherwise (show/rm of an unknown NAME too).\n";

nlohmann::json to_json(const hub::ManifestEntry& e) {
    return {{"name", e.name()},   {"repo", e.repo}, {"file", e.file}, {"quant", e.quant},
            {"sha256", e.sha256}, {"size", e.size}, {"path", e.path}, {"pulled_at", e.pulled_at}};
}

}  // namespace

int cmd_models(int argc, char** argv) {
    std::string action, name, models_dir = hub::default_cache_dir();
    bool json = false;
    ArgReader args(argc, argv);
    auto parse = [&]() -> Status {
        while (args.next()) {
            if (args.is("-h", "--help")) {
                std::fputs(kUsage, stdout);
                std::exit(0);
            } else if (args.is("--json")) {
                json = true;
            } else if (args.is("--models-dir")) {
                DUET_TRY(models_dir, args.value());
            } else if (args.arg().starts_with("-")) {
                return Status::invalid_argument("unknown option '%s'\n%s", std::string(args.arg()).c_str(), kUsage);
            } else if (action.empty()) {
                action = args.arg();
            } else if (name.empty()) {
                name = args.arg();
            } else {
                return Status::invalid_argument("unexpected argument '%s'\n%s", std::string(args.arg()).c_str(),
                                                kUsage);
            }
        }
        if (action.empty()) action = "list";
        if (action != "list" && action != "show" && action != "rm")
            return Status::invalid_argument("unknown action '%s' (list, show, rm)\n%s", action.c_str(), kUsage);
        if (action != "list" && name.empty())
            return Status::invalid_argument("%s needs a NAME\n%s", action.c_str(), kUsage);
        return {};
    };
    if (Status s = parse(); !s.ok()) return report_error(s);

    const hub::ModelCache cache(models_dir);
    auto all = cache.entries();
    if (!all.ok()) return report_error(all.status());
    if (action == "list") {
        if (json) {
            nlohmann::json models = nlohmann::json::array();
            for (const auto& e : *all) models.push_back(to_json(e));
            std::printf("%s\n", nlohmann::json{{"models", models}}.dump().c_str());
            return 0;
        }
        if (all->empty()) {
            std::printf("no models in %s (duet pull ORG/REPO[:QUANT] adds one)\n", models_dir.c_str());
            return 0;
        }
        std::printf("%-60s %10s  %-20s  %s\n", "NAME", "SIZE", "PULLED", "FILE");
        for (const auto& e : *all)
            std::printf("%-60s %10s  %-20s  %s\n", e.name().c_str(), format_bytes(static_cast<double>(e.size)).c_str(),
                        e.pulled_at.c_str(), e.file.c_str());
        return 0;
    }
    auto found = hub::find_entries(*all, name);
    if (!found.ok()) return report_error(found.status());
    if (found->empty())
        return report_error(Status::not_found("'%s' is not in the model cache (%s)", name.c_str(), models_dir.c_str()));
    if (action == "show") {
        for (const auto& e : *found) {
            if (json) {
                std::printf("%s\n", to_json(e).dump().c_str());
                continue;
            }
            std::printf(
                "name:      %s\nrepo:      %s\nfile:      %s\nquant:     %s\nsize:      %llu (%s)\n"
                "sha256:    %s\npath:      %s\npulled_at: %s\n",
                e.name().c_str(), e.repo.c_str(), e.file.c_str(), e.quant.c_str(),
                static_cast<unsigned long long>(e.size), format_bytes(static_cast<double>(e.size)).c_str(),
                e.sha256.c_str(), e.path.c_str(), e.pulled_at.c_str());
        }
        return 0;
    }
    if (found->size() > 1) {
        std::string names;
        for (const auto& e : *found) names += "\n  " + e.name();
        return report_error(Status::invalid_argument("'%s' names %zu models; remove one at a time:%s", name.c_str(),
                                                     found->size(), names.c_str()));
    }
    if (Status s = cache.remove(*found); !s.ok()) return report_error(s);
    std::printf("removed %s (%s)\n", found->front().name().c_str(), found->front().path.c_str());
    return 0;
}

}  // namespace duet::app
