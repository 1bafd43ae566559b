// deploy.h: the deployment table (`duet eval deploy`): per target, what the seed's hand-made table reported,
// measured: load to ready, /health reachability, first load of `/` (bytes, time), new-session time, time to first
// token and the streaming rhythm (inter-chunk interval distribution, characters per chunk, ms per character), and
// the RSS (and, with an NVIDIA GPU, the GPU memory) of the server process. Printed next to the seed's figures (big / small model).
//
//   load to ready   with a launch command: spawn it (sh -c 'exec CMD', its own process group, output to a log
//                   file, kept only when the launch fails), poll GET /health every 50 ms; the time from the spawn
//                   to the first 200. The launched server is the pid for RSS and is stopped (SIGTERM, then
//                   SIGKILL after 10 s) when measured.
//   new session     what opening a new chat costs on duet's page: POST /api/conversations (the page's first call)
//                   plus the first token of a first message no earlier request shared a prefix with (a nonce
//                   leads the prompt). The conversation is deleted afterwards. "-" when the server has no such API.
#pragma once

#include <string>
#include <vector>

#include "eval/runner.h"

namespace duet::eval {

struct DeployFigures {
    std::string name;
    double load_to_ready_s = -1;  // only with a launch command
    int health_polls = 0;         // GET /health calls until ready (launch only)
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
    double ms_per_char = -1;            // streaming time after the first token / characters after the first chunk
    double new_session_ms = -1;         // create_ms + ttft_ms below
    double new_session_create_ms = -1;  // POST /api/conversations
    double new_session_ttft_ms = -1;    // first token of the first message
    double rss_gb = -1;                 // VmRSS of --pid
    double gpu_memory_gb = -1;          // GPU memory of --pid and its descendants (nvidia-smi; -1: none or no GPU)
};

struct DeployOptions {
    int requests = 3;  // streamed chat requests per target
    int max_tokens = 64;
    std::string prompt = "Describe a mechanical keyboard in three sentences.";
    CallPolicy policy;
    int pid = 0;                         // 0: no RSS (a launched server's pid is used when this is 0)
    std::string launch_command;          // "": the server is already running
    double ready_timeout_seconds = 600;  // launch: give up waiting for /health after this
};

DeployFigures measure_deployment(const Target& target, const DeployOptions& options);

// A server started by measure_deployment: spawned, waited for, stopped.
struct LaunchedServer {
    int pid = 0;
    double ready_seconds = -1;
    int health_polls = 0;
    std::string log_path;
};
// Spawns `command` and polls `origin`/health until it answers 200. Errors when the process exits first or the
// timeout passes (the process is then stopped); the message names the log file.
Result<LaunchedServer> launch_until_ready(const std::string& command, const std::string& origin, double timeout_seconds,
                                          const std::string& name);
// SIGTERM to the process group, SIGKILL after `grace_seconds`; reaps the process. The log file is removed unless
// `keep_log` (a launch that failed names its log in the error).
void stop_launched(const LaunchedServer& server, double grace_seconds = 10, bool keep_log = false);

// POST /api/conversations on `origin` (duet's page API): the new conversation's id, or an error (not found when the
// server has no such API). delete_conversation removes it again.
Result<std::string> create_conversation(const std::string& origin, const std::string& api_key);
void delete_conversation(const std::string& origin, const std::string& api_key, const std::string& id);

// VmRSS of a process in bytes (-1 when unreadable).
long long process_rss_bytes(int pid);

// GPU memory of a process and its descendants in bytes, from `nvidia-smi --query-compute-apps=pid,used_memory
// --format=csv,noheader,nounits` (-1 when nvidia-smi is missing or none of them holds GPU memory). Other GPU
// vendors are not read.
long long process_gpu_memory_bytes(int pid);
// The same from that command's output and the set of pids counted (pure: "1234, 5678" lines, MiB).
long long gpu_memory_from_nvidia_smi(const std::string& csv, const std::vector<int>& pids);
// pid and every process below it (from /proc/*/stat parent ids).
std::vector<int> process_tree(int pid);

// The table: one column per measured target, then the seed's figures.
std::string render_deploy_table(const std::vector<DeployFigures>& figures);

}  // namespace duet::eval
