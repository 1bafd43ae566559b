// hub_client.h: the Hugging Face hub over HTTPS (libcurl, OpenSSL): a repository's file list and a resumable,
// verified download of one file. May include only common/ and hub/.
//
//   list_files:  GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true
//                -> {"siblings": [{"rfilename", "size", "lfs": {"sha256", "size"}}]}
//   download:    GET {endpoint}/{repo}/resolve/{revision}/{file}   (redirects followed, e.g. to a CDN)
//                with "Range: bytes=N-" when FILE.part holds N bytes; a 200 instead of 206 restarts from 0.
//                The bytes are hashed as they arrive (the .part prefix first); a wrong sha256 deletes the .part.
//
// Authorization: Bearer $HF_TOKEN goes to the endpoint's host only (libcurl drops it on a redirect elsewhere).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "hub/model_ref.h"

namespace duet::hub {

struct HubOptions {
    std::string endpoint = "https://huggingface.co";  // no trailing '/'
    std::string token;                                // HF_TOKEN; empty = anonymous
    std::string revision = "main";
    bool offline = false;  // HF_HUB_OFFLINE=1: the cache only
    long connect_timeout_seconds = 30;
    long stall_timeout_seconds = 60;  // abort when below 1 byte/s for this long
};

// HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE from the environment over the defaults.
HubOptions hub_options_from_env();

struct DownloadStats {
    uint64_t resumed_from = 0;   // bytes already in the .part file
    uint64_t bytes_fetched = 0;  // bytes received over the network this time
    double seconds = 0;
    std::string sha256;  // of the whole file, as verified
};

// (bytes fetched this transfer, seconds since it started)
using ProgressFn = std::function<void(uint64_t fetched, double seconds)>;

class HubClient {
public:
    explicit HubClient(HubOptions options);

    // The repository's files with their sizes and LFS sha256. Errors carry the URL, the HTTP status and a hint
    // (401/403: gated or private, set HF_TOKEN; 404: no such repository or revision).
    Result<std::vector<RepoFile>> list_files(const std::string& repo) const;

    // Downloads `file` of `repo` to `dest` through `dest`.part, resuming it; verifies size and sha256 (when the hub
    // gave one) before renaming the .part to `dest`. `on_start(already_on_disk)` is called before the transfer.
    Result<DownloadStats> download(const std::string& repo, const RepoFile& file, const std::string& dest,
                                   const std::function<void(uint64_t)>& on_start, const ProgressFn& progress) const;

    const HubOptions& options() const { return options_; }

private:
    HubOptions options_;
};

// Parses the hub's model-info JSON (the `siblings` form above, or the tree endpoint's array of
// {"type", "path", "size", "lfs": {"oid", "size"}}). Errors name `where`.
Result<std::vector<RepoFile>> parse_repo_files(const std::string& json, const std::string& where);

}  // namespace duet::hub
