// pull.cpp: list -> choose -> (already here?) -> download with resume -> verify -> manifest.
#include "hub/pull.h"

#include <filesystem>
#include <memory>
#include <optional>

#include "hub/progress.h"

namespace duet::hub {

namespace fs = std::filesystem;

namespace {

std::optional<ManifestEntry> cached_entry(const ModelCache& cache, const std::string& repo, const RepoFile& file) {
    auto all = cache.entries();
    if (!all.ok()) return std::nullopt;
    for (const ManifestEntry& e : *all) {
        std::error_code ec;
        if (e.repo == repo && e.file == file.path && (file.sha256.empty() || e.sha256 == file.sha256) &&
            fs::is_regular_file(e.path, ec) && fs::file_size(e.path, ec) == e.size && e.size == file.size)
            return e;
    }
    return std::nullopt;
}

}  // namespace

Result<PullResult> pull(const HubClient& hub, const ModelCache& cache, const std::string& spec, FILE* progress_out) {
    DUET_TRY(ModelRef ref, parse_model_ref(spec));
    PullResult result;
    if (hub.options().offline) {
        auto path = resolve_local(cache, ref.to_string());
        if (!path.ok())
            return path.status().with_context("offline (HF_HUB_OFFLINE=1 or --offline), only the cache is used: ");
        DUET_TRY(std::vector<ManifestEntry> all, cache.entries());
        for (const ManifestEntry& e : all)
            if (e.path == *path) result.entry = e;
        result.from_cache = true;
        return result;
    }
    DUET_TRY(std::vector<RepoFile> files, hub.list_files(ref.repo));
    DUET_TRY(RepoFile chosen, choose_file(ref, files));
    if (auto hit = cached_entry(cache, ref.repo, chosen)) {
        result.entry = *hit;
        result.from_cache = true;
        return result;
    }
    const std::string dest = cache.path_for(ref.repo, chosen.path);
    std::unique_ptr<ProgressPrinter> printer;
    auto on_start = [&](uint64_t already) {
        if (progress_out != nullptr)
            printer = std::make_unique<ProgressPrinter>(progress_out, fs::path(chosen.path).filename().string(),
                                                        chosen.size, already);
    };
    ProgressFn progress = [&](uint64_t fetched, double seconds) {
        if (printer) printer->update(fetched, seconds);
    };
    auto stats = hub.download(ref.repo, chosen, dest, on_start, progress);
    if (printer && stats.ok()) printer->finish(stats->bytes_fetched, stats->seconds);
    if (printer && !stats.ok() && progress_out != nullptr) std::fputc('\n', progress_out);
    if (!stats.ok()) return stats.status();
    result.stats = *stats;
    ManifestEntry& e = result.entry;
    e.repo = ref.repo;
    e.file = chosen.path;
    e.quant = quant_of(chosen.path);
    e.sha256 = result.stats.sha256;
    e.size = chosen.size;
    e.path = fs::absolute(dest).lexically_normal().string();
    e.pulled_at = utc_now_iso8601();
    DUET_RETURN_IF_ERROR(cache.upsert(e));
    return result;
}

}  // namespace duet::hub
