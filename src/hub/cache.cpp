// cache.cpp: the model cache directory and its manifest (JSON at this edge only, through nlohmann::json).
#include "hub/cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace duet::hub {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = "manifest.json";
constexpr const char* kLock = "manifest.lock";

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Holds an exclusive flock on the cache's lock file for its lifetime.
class CacheLock {
public:
    explicit CacheLock(const std::string& dir) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        const std::string path = dir + "/" + kLock;
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            status_ = Status::io_error("hub: cannot open '%s': %s", path.c_str(), std::strerror(errno));
            return;
        }
        while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {}
    }
    ~CacheLock() {
        if (fd_ >= 0) ::close(fd_);  // closing releases the lock
    }
    const Status& status() const { return status_; }

private:
    int fd_ = -1;
    Status status_;
};

Result<std::vector<ManifestEntry>> read_manifest(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::vector<ManifestEntry>{};
    std::stringstream text;
    text << in.rdbuf();
    std::vector<ManifestEntry> out;
    try {
        const nlohmann::json doc = nlohmann::json::parse(text.str());
        for (const auto& m : doc.at("models")) {
            ManifestEntry e;
            e.repo = m.at("repo").get<std::string>();
            e.file = m.at("file").get<std::string>();
            e.quant = m.value("quant", "");
            e.sha256 = m.at("sha256").get<std::string>();
            e.size = m.at("size").get<uint64_t>();
            e.path = m.at("path").get<std::string>();
            e.pulled_at = m.value("pulled_at", "");
            out.push_back(std::move(e));
        }
    } catch (const nlohmann::json::exception& e) {
        return Status::invalid_data("hub: manifest '%s' is corrupt: %s", path.c_str(), e.what());
    }
    return out;
}

Status write_manifest_atomically(const std::string& dir, const std::vector<ManifestEntry>& entries) {
    nlohmann::json models = nlohmann::json::array();
    for (const ManifestEntry& e : entries)
        models.push_back({{"repo", e.repo},
                          {"file", e.file},
                          {"quant", e.quant},
                          {"sha256", e.sha256},
                          {"size", e.size},
                          {"path", e.path},
                          {"pulled_at", e.pulled_at}});
    const std::string text = nlohmann::json{{"models", models}}.dump(2) + "\n";
    const std::string final_path = dir + "/" + kManifest;
    const std::string tmp_path = final_path + ".tmp";
    const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::io_error("hub: cannot write '%s': %s", tmp_path.c_str(), std::strerror(errno));
    size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            return Status::io_error("hub: writing '%s': %s", tmp_path.c_str(), std::strerror(err));
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0)
        return Status::io_error("hub: flushing '%s': %s", tmp_path.c_str(), std::strerror(errno));
    if (std::rename(tmp_path.c_str(), final_path.c_str()) != 0)
        return Status::io_error("hub: renaming '%s': %s", tmp_path.c_str(), std::strerror(errno));
    return {};
}

}  // namespace

std::string ManifestEntry::name() const { return quant.empty() ? repo + "/" + file : repo + ":" + quant; }

std::string default_cache_dir() {
    if (const char* dir = std::getenv("DUET_MODELS_DIR"); dir != nullptr && *dir != '\0') return dir;
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.cache/duet/models";
}

std::string ModelCache::path_for(const std::string& repo, const std::string& file) const {
    return dir_ + "/" + repo + "/" + file;
}

Result<std::vector<ManifestEntry>> ModelCache::entries() const { return read_manifest(dir_ + "/" + kManifest); }

Status ModelCache::upsert(const ManifestEntry& entry) const {
    CacheLock lock(dir_);
    DUET_RETURN_IF_ERROR(lock.status());
    DUET_TRY(std::vector<ManifestEntry> all, read_manifest(dir_ + "/" + kManifest));
    std::erase_if(all, [&](const ManifestEntry& e) { return e.repo == entry.repo && e.file == entry.file; });
    all.push_back(entry);
    return write_manifest_atomically(dir_, all);
}

Status ModelCache::remove(const std::vector<ManifestEntry>& doomed) const {
    CacheLock lock(dir_);
    DUET_RETURN_IF_ERROR(lock.status());
    DUET_TRY(std::vector<ManifestEntry> all, read_manifest(dir_ + "/" + kManifest));
    for (const ManifestEntry& d : doomed) {
        std::erase_if(all, [&](const ManifestEntry& e) { return e.repo == d.repo && e.file == d.file; });
        std::error_code ec;
        fs::remove(d.path, ec);
        if (ec) return Status::io_error("hub: cannot delete '%s': %s", d.path.c_str(), ec.message().c_str());
    }
    return write_manifest_atomically(dir_, all);
}

Result<std::vector<ManifestEntry>> find_entries(const std::vector<ManifestEntry>& entries, const std::string& spec) {
    DUET_TRY(ModelRef ref, parse_model_ref(spec));
    const bool bare = ref.file.empty() && spec.find(':') == std::string::npos;
    std::vector<ManifestEntry> out;
    for (const ManifestEntry& e : entries) {
        if (lower(e.repo) != lower(ref.repo)) continue;
        if (bare || (!ref.file.empty() && e.file == ref.file) || (ref.file.empty() && e.quant == ref.quant))
            out.push_back(e);
    }
    return out;
}

Result<std::string> resolve_local(const ModelCache& cache, const std::string& spec) {
    DUET_TRY(std::vector<ManifestEntry> all, cache.entries());
    DUET_TRY(std::vector<ManifestEntry> found, find_entries(all, spec));
    if (found.size() > 1 && spec.find(':') == std::string::npos) {
        // A bare ORG/REPO with several quants pulled: the default quant if it is one of them.
        std::erase_if(found, [](const ManifestEntry& e) { return e.quant != kDefaultQuant; });
        if (found.empty())
            return Status::invalid_argument("'%s': several quants are pulled; name one as %s:QUANT", spec.c_str(),
                                            spec.c_str());
    }
    if (found.empty())
        return Status::not_found("'%s' is not in the model cache (%s): run `duet pull %s` first", spec.c_str(),
                                 cache.dir().c_str(), spec.c_str());
    std::error_code ec;
    if (!fs::is_regular_file(found.front().path, ec))
        return Status::not_found("'%s': the manifest names '%s', which is gone: run `duet pull %s` again", spec.c_str(),
                                 found.front().path.c_str(), spec.c_str());
    return found.front().path;
}

std::string utc_now_iso8601() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace duet::hub
