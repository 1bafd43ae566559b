// deploy.h: the deployment table (`duet eval deploy`): per target, what the seed's hand-made table reported,
// measured: /health reachability, first load of `/` (bytes, time), time to first token and the streaming rhythm
// (inter-chunk interval distribution, characters per chunk, ms per character), and the RSS of a local server
// process when its pid is given. Printed next to the seed's figures (big / small model).
#pragma once

#include <string>
#include <vector>

#include "eval/runner.h"

namespace duet::eval {

struct DeployFigures {
    std::string name;
    bool health_ok = false;
    double health_ms = -1;
    int page_status = 0;  // GET / (0: no response)
    size_t page_bytes = 0;
    double page_ms = -1;
    int requests = 0, failed = 0;
    std::string last_error;
    double ttft_p50_ms = -1, ttft_p90_ms = -1;
    double interval_p50_ms = -1, interval_p90_ms = -1;
    double chars_per_chunk = -1;
    double ms_per_char = -1;  // streaming time after the first token / characters after the first chunk
    double rss_gb = -1;       // VmRSS of --pid
};

struct DeployOptions {
    int requests = 3;  // streamed chat requests per target
    int max_tokens = 64;
    std::string prompt = "Describe a mechanical keyboard in three sentences.";
    CallPolicy policy;
    int pid = 0;  // 0: no RSS
};

DeployFigures measure_deployment(const Target& target, const DeployOptions& options);

// VmRSS of a process in bytes (-1 when unreadable).
long long process_rss_bytes(int pid);

// The table: one column per measured target, then the seed's figures.
std::string render_deploy_table(const std::vector<DeployFigures>& figures);

}  // namespace duet::eval
