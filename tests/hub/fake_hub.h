// fake_hub.h: a Hugging Face hub on 127.0.0.1 for the pull tests (cpp-httplib server, any free port).
//
//   GET /api/models/ORG/NAME/revision/REV?blobs=true  -> {"siblings": [{"rfilename", "size", "lfs": {...}}]}
//   GET /ORG/NAME/resolve/REV/FILE                   -> 302 to {cdn or this server}/blobs/ORG/NAME/FILE
//   GET /blobs/ORG/NAME/FILE                         -> the bytes (httplib answers Range with 206)
//
// Knobs: a required token (401 without it), a lying sha256 per file, a drop after N bytes on the next download,
// answering 200 to Range requests, a CDN base for cross-host redirects. Counters: bytes of file data sent, the
// Range and Authorization headers the blob route saw.
#pragma once

#include <httplib.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "hub/sha256.h"

namespace duet::test {

class FakeHub {
public:
    struct File {
        std::shared_ptr<const std::string> content;
        std::string reported_sha256;  // what the API says; defaults to the real digest
    };

    FakeHub() {
        server_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/([^/?]+))", [this](const auto& req, auto& res) {
            if (!authorized(req, res)) return;
            const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
            std::lock_guard lock(mu_);
            auto it = repos_.find(repo);
            if (it == repos_.end()) {
                res.status = 404;
                res.set_content(R"({"error":"Repository not found"})", "application/json");
                return;
            }
            nlohmann::json siblings = nlohmann::json::array();
            for (const auto& [path, f] : it->second) {
                nlohmann::json s = {{"rfilename", path}, {"size", f.content->size()}};
                if (path.ends_with(".gguf"))
                    s["lfs"] = {{"sha256", f.reported_sha256}, {"size", f.content->size()}, {"pointerSize", 134}};
                siblings.push_back(s);
            }
            res.set_content(nlohmann::json{{"id", repo}, {"siblings", siblings}}.dump(), "application/json");
        });
        server_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const auto& req, auto& res) {
            if (!authorized(req, res)) return;
            std::lock_guard lock(mu_);
            const std::string base = cdn_base_.empty() ? base_url() : cdn_base_;
            res.set_redirect(base + "/blobs/" + req.matches[1].str() + "/" + req.matches[2].str() + "/" +
                             req.matches[4].str());
        });
        server_.Get(R"(/blobs/([^/]+)/([^/]+)/(.+))", [this](const auto& req, auto& res) { serve_blob(req, res); });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::yield();
    }
    ~FakeHub() { stop(); }

    void stop() {
        server_.stop();
        if (thread_.joinable()) thread_.join();
    }

    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    void add_file(const std::string& repo, const std::string& path, std::string content, std::string lie = {}) {
        std::lock_guard lock(mu_);
        File f;
        f.reported_sha256 = lie.empty() ? hub::sha256_hex(content) : lie;
        f.content = std::make_shared<const std::string>(std::move(content));
        repos_[repo][path] = std::move(f);
    }
    void add_empty_repo(const std::string& repo) {
        std::lock_guard lock(mu_);
        repos_[repo];
    }
    void require_token(std::string token) {
        std::lock_guard lock(mu_);
        token_ = std::move(token);
    }
    // The next blob download sends `n` bytes of its body, then the connection is closed.
    void drop_next_download_after(int64_t n) { drop_after_ = n; }
    // Blob downloads answer 200 with the whole file even to a Range request.
    void ignore_range(bool on) { ignore_range_ = on; }
    // Resolve redirects go to this base (another FakeHub standing in for a CDN) instead of this server.
    void redirect_blobs_to(std::string base) {
        std::lock_guard lock(mu_);
        cdn_base_ = std::move(base);
    }

    uint64_t blob_bytes_sent() const { return blob_bytes_sent_; }
    void reset_counters() { blob_bytes_sent_ = 0; }
    std::vector<std::string> range_headers() const {
        std::lock_guard lock(mu_);
        return ranges_;
    }
    std::vector<std::string> blob_authorization_headers() const {
        std::lock_guard lock(mu_);
        return blob_auth_;
    }

private:
    bool authorized(const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mu_);
        if (token_.empty() || req.get_header_value("Authorization") == "Bearer " + token_) return true;
        res.status = 401;
        res.set_content(R"({"error":"Invalid credentials in Authorization header"})", "application/json");
        return false;
    }

    void serve_blob(const httplib::Request& req, httplib::Response& res) {
        const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
        const std::string path = req.matches[3].str();
        std::shared_ptr<const std::string> content;
        {
            std::lock_guard lock(mu_);
            ranges_.push_back(req.get_header_value("Range"));
            blob_auth_.push_back(req.get_header_value("Authorization"));
            auto r = repos_.find(repo);
            if (r != repos_.end()) {
                auto f = r->second.find(path);
                if (f != r->second.end()) content = f->second.content;
            }
        }
        if (!content) {
            res.status = 404;
            return;
        }
        if (ignore_range_) {  // an old proxy: the whole file, 200, whatever the Range header said
            // httplib slices any body by the request's ranges (keeping 200): forget them to send the whole file.
            const_cast<httplib::Request&>(req).ranges.clear();
            res.status = 200;
            res.set_content(*content, "application/octet-stream");
            blob_bytes_sent_ += content->size();
            return;
        }
        const int64_t drop_after = drop_after_.exchange(-1);
        res.set_content_provider(content->size(), "application/octet-stream",
                                 [this, content, drop_after, sent = int64_t{0}](size_t offset, size_t length,
                                                                                httplib::DataSink& sink) mutable {
                                     constexpr size_t kChunk = 64 * 1024;
                                     size_t n = std::min(length, kChunk);
                                     if (drop_after >= 0) {
                                         if (sent >= drop_after) return false;  // close the connection mid-body
                                         n = std::min<size_t>(n, static_cast<size_t>(drop_after - sent));
                                     }
                                     if (!sink.write(content->data() + offset, n)) return false;
                                     sent += static_cast<int64_t>(n);
                                     blob_bytes_sent_ += n;
                                     return true;
                                 });
    }

    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    mutable std::mutex mu_;
    std::map<std::string, std::map<std::string, File>> repos_;
    std::string token_, cdn_base_;
    std::atomic<int64_t> drop_after_{-1};
    std::atomic<bool> ignore_range_{false};
    std::atomic<uint64_t> blob_bytes_sent_{0};
    std::vector<std::string> ranges_, blob_auth_;
};

// Deterministic pseudo-random bytes (a GGUF's contents do not matter to pull).
inline std::string make_bytes(size_t n, uint32_t seed) {
    std::string s(n, '\0');
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s[i] = static_cast<char>(x & 0xff);
    }
    return s;
}

}  // namespace duet::test
