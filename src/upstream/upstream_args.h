// upstream_args.h: `--upstream NAME=URL[#model]` (repeatable; the same NAME again adds a replica to its pool)
// parsed into pool specs.
// Includes common and upstream/pool.h only.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "upstream/pool.h"

namespace duet::upstream {

struct UpstreamSpec {
    std::string name;
    std::vector<ReplicaSpec> replicas;  // in the order given
    std::string api_key;                // the config file's per-upstream key (empty: --upstream-key)
};

// Adds one `NAME=URL[#model]` to `specs` (a new pool, or a replica of the pool already named NAME).
// Errors: no '=', an empty name or URL, a URL that is not http(s)://, an empty "#model".
Status add_upstream_arg(const std::string& arg, std::vector<UpstreamSpec>* specs);

}  // namespace duet::upstream
