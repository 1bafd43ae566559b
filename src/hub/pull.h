// pull.h: `duet pull` as a function: resolve ORG/REPO[:QUANT|/FILE.gguf] on the hub, download into the cache,
// verify, record in the manifest. Offline, only the cache answers. May include only common/ and hub/.
#pragma once

#include <cstdio>
#include <string>

#include "common/status.h"
#include "hub/cache.h"
#include "hub/hub_client.h"

namespace duet::hub {

struct PullResult {
    ManifestEntry entry;
    bool from_cache = false;  // already pulled (same sha256) or offline: nothing downloaded
    DownloadStats stats;
};

// `progress_out`: where the progress bar goes (nullptr: silent).
Result<PullResult> pull(const HubClient& hub, const ModelCache& cache, const std::string& spec, FILE* progress_out);

}  // namespace duet::hub
