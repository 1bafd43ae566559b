// hub_client.cpp: HubClient over libcurl: one easy handle per call, redirects followed, bytes hashed on arrival.
#include "hub/hub_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

#include "hub/sha256.h"

namespace duet::hub {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxErrorBody = 2048;
constexpr size_t kFileBuffer = size_t{1} << 20;

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

CurlHandle new_handle() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    return CurlHandle(curl_easy_init());
}

// Each '/'-separated segment percent-encoded.
std::string escape_path(CURL* curl, const std::string& path) {
    std::string out;
    size_t start = 0;
    while (true) {
        const size_t slash = path.find('/', start);
        const std::string seg = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        char* esc = curl_easy_escape(curl, seg.c_str(), static_cast<int>(seg.size()));
        out += esc != nullptr ? esc : seg;
        curl_free(esc);
        if (slash == std::string::npos) break;
        out += '/';
        start = slash + 1;
    }
    return out;
}

// Common options; returns the header list the handle points to (keep it alive for the call).
HeaderList configure(CURL* curl, const HubOptions& o, const std::string& url) {
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "duet-pull/1");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, o.stall_timeout_seconds);
    curl_slist* headers = nullptr;
    if (!o.token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + o.token).c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    return HeaderList(headers);
}

std::string http_error_hint(long status) {
    if (status == 401 || status == 403)
        return ": the repository is gated or private (accept its terms on the hub and set HF_TOKEN)";
    if (status == 404) return ": no such repository, revision or file (or it is private: set HF_TOKEN)";
    if (status == 429) return ": rate-limited by the hub; try again later";
    return "";
}

Status http_error(const std::string& what, const std::string& url, long status, const std::string& body) {
    std::string excerpt = body.substr(0, 200);
    for (char& c : excerpt)
        if (c == '\n' || c == '\r') c = ' ';
    return Status::io_error("hub: %s: HTTP %ld from %s%s%s%s", what.c_str(), status, url.c_str(),
                            http_error_hint(status).c_str(), excerpt.empty() ? "" : " — ", excerpt.c_str());
}

size_t append_to_string(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<std::string*>(user);
    s->append(data, size * n);
    return size * n;
}

// State of one file transfer, shared with libcurl's callbacks.
struct Transfer {
    CURL* curl = nullptr;
    FILE* file = nullptr;
    std::unique_ptr<Sha256> hash;
    uint64_t offset = 0;   // bytes of the .part kept before this transfer
    uint64_t fetched = 0;  // bytes received in this transfer
    long status = 0;       // the final response's HTTP status, once the body starts
    bool failed_write = false;
    std::string error_body;
    std::string part_path;
    const ProgressFn* progress = nullptr;
    std::chrono::steady_clock::time_point start;
};

size_t write_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t bytes = size * n;
    if (t->status == 0) {
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
        if (t->status == 200 && t->offset > 0) {  // the server ignored the Range: start again from byte 0
            if (::ftruncate(fileno(t->file), 0) != 0 || std::fseek(t->file, 0, SEEK_SET) != 0) {
                t->failed_write = true;
                return 0;
            }
            t->offset = 0;
            t->hash = std::make_unique<Sha256>();
        }
    }
    if (t->status >= 300) {
        if (t->error_body.size() < kMaxErrorBody) t->error_body.append(data, std::min(bytes, kMaxErrorBody));
        return bytes;
    }
    if (std::fwrite(data, 1, bytes, t->file) != bytes) {
        t->failed_write = true;
        return 0;
    }
    t->hash->update(data, bytes);
    t->fetched += bytes;
    return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (t->progress != nullptr && *t->progress && t->status < 300) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t->start).count();
        (*t->progress)(t->fetched, s);
    }
    return 0;
}

}  // namespace

HubOptions hub_options_from_env() {
    HubOptions o;
    if (const char* e = std::getenv("HF_ENDPOINT"); e != nullptr && *e != '\0') o.endpoint = e;
    while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
    if (const char* t = std::getenv("HF_TOKEN"); t != nullptr) o.token = t;
    if (const char* off = std::getenv("HF_HUB_OFFLINE"); off != nullptr) {
        const std::string v = off;
        o.offline = v == "1" || v == "true" || v == "TRUE" || v == "yes" || v == "ON" || v == "on";
    }
    return o;
}

HubClient::HubClient(HubOptions options) : options_(std::move(options)) {}

Result<std::vector<RepoFile>> HubClient::list_files(const std::string& repo) const {
    CurlHandle curl = new_handle();
    if (!curl) return Status::io_error("hub: curl_easy_init failed");
    const std::string url = options_.endpoint + "/api/models/" + repo + "/revision/" +
                            escape_path(curl.get(), options_.revision) + "?blobs=true";
    HeaderList headers = configure(curl.get(), options_, url);
    std::string body;
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_to_string);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    const CURLcode rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK)
        return Status::io_error("hub: listing %s: %s (%s)", repo.c_str(), curl_easy_strerror(rc), url.c_str());
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return http_error("listing " + repo, url, status, body);
    return parse_repo_files(body, "listing " + repo + " (" + url + ")");
}

Result<DownloadStats> HubClient::download(const std::string& repo, const RepoFile& file, const std::string& dest,
                                          const std::function<void(uint64_t)>& on_start,
                                          const ProgressFn& progress) const {
    const std::string what = repo + "/" + file.path;
    std::error_code ec;
    fs::create_directories(fs::path(dest).parent_path(), ec);
    if (ec)
        return Status::io_error("hub: %s: cannot create '%s': %s", what.c_str(), fs::path(dest).parent_path().c_str(),
                                ec.message().c_str());
    Transfer t;
    t.part_path = dest + ".part";
    t.hash = std::make_unique<Sha256>();
    // The .part stays flock()ed until it is renamed: a second pull of the same file fails instead of interleaving.
    const int fd = ::open(t.part_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return Status::io_error("hub: %s: cannot write '%s': %s", what.c_str(), t.part_path.c_str(),
                                std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return Status::unavailable("hub: %s: another duet pull is downloading it (into '%s')", what.c_str(),
                                   t.part_path.c_str());
    }
    struct stat st {};
    uint64_t on_disk = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    if (file.size > 0 && on_disk > file.size) on_disk = 0;  // longer than the file: start over
    if (on_disk == 0 && ::ftruncate(fd, 0) != 0) {
        ::close(fd);
        return Status::io_error("hub: %s: cannot truncate '%s'", what.c_str(), t.part_path.c_str());
    }
    t.file = ::fdopen(fd, "r+b");
    if (t.file == nullptr) {
        ::close(fd);
        return Status::io_error("hub: %s: fdopen '%s' failed", what.c_str(), t.part_path.c_str());
    }
    const std::unique_ptr<FILE, int (*)(FILE*)> close_part(t.file, std::fclose);  // after the rename: keeps the lock
    std::setvbuf(t.file, nullptr, _IOFBF, kFileBuffer);
    if (on_disk > 0) {
        DUET_RETURN_IF_ERROR(hash_file_prefix(t.part_path, on_disk, *t.hash));
        if (std::fseek(t.file, static_cast<long>(on_disk), SEEK_SET) != 0)
            return Status::io_error("hub: %s: cannot seek in '%s'", what.c_str(), t.part_path.c_str());
    }
    t.offset = on_disk;
    if (on_start) on_start(on_disk);

    DownloadStats stats;
    stats.resumed_from = on_disk;
    CURLcode rc = CURLE_OK;
    std::string url;
    t.start = std::chrono::steady_clock::now();
    if (file.size == 0 || on_disk < file.size) {
        CurlHandle curl = new_handle();
        if (!curl) return Status::io_error("hub: curl_easy_init failed");
        t.curl = curl.get();
        t.progress = &progress;
        url = options_.endpoint + "/" + repo + "/resolve/" + escape_path(curl.get(), options_.revision) + "/" +
              escape_path(curl.get(), file.path);
        HeaderList headers = configure(curl.get(), options_, url);
        // CURLOPT_RANGE, not RESUME_FROM: the answer's body arrives as sent, and write_body() tells 206 from 200.
        const std::string range = std::to_string(on_disk) + "-";
        if (on_disk > 0) curl_easy_setopt(curl.get(), CURLOPT_RANGE, range.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_body);
        curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
        rc = curl_easy_perform(curl.get());
        if (t.status == 0) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &t.status);
    }
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t.start).count();
    stats.bytes_fetched = t.fetched;
    const bool flushed = std::fflush(t.file) == 0;
    if (t.failed_write || !flushed)
        return Status::io_error("hub: %s: writing '%s' failed: %s", what.c_str(), t.part_path.c_str(),
                                std::strerror(errno));
    if (t.status >= 300) return http_error("downloading " + what, url, t.status, t.error_body);
    const uint64_t have = t.offset + t.fetched;
    if (rc != CURLE_OK)
        return Status::io_error(
            "hub: downloading %s: %s after %llu of %llu bytes (kept in '%s'; run the same "
            "command again to resume)",
            what.c_str(), curl_easy_strerror(rc), static_cast<unsigned long long>(have),
            static_cast<unsigned long long>(file.size), t.part_path.c_str());
    if (file.size > 0 && have != file.size) {
        fs::remove(t.part_path, ec);
        return Status::invalid_data("hub: downloading %s: got %llu bytes, the hub lists %llu", what.c_str(),
                                    static_cast<unsigned long long>(have), static_cast<unsigned long long>(file.size));
    }
    stats.sha256 = t.hash->hex();
    if (!file.sha256.empty()) {
        const std::string& got = stats.sha256;
        if (got != file.sha256) {
            fs::remove(t.part_path, ec);
            return Status::invalid_data(
                "hub: downloading %s: sha256 mismatch: the hub lists %s, the download is %s "
                "(the partial file was deleted)",
                what.c_str(), file.sha256.c_str(), got.c_str());
        }
    }
    fs::rename(t.part_path, dest, ec);
    if (ec)
        return Status::io_error("hub: %s: cannot rename '%s': %s", what.c_str(), t.part_path.c_str(),
                                ec.message().c_str());
    return stats;
}

}  // namespace duet::hub
