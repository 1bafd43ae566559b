// deploy.cpp: measuring the deployment table (see deploy.h). The chat calls go through ModelCaller (no cache).
#include "eval/deploy.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/timer.h"

namespace duet::eval {

namespace {

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    const size_t i = size_t(std::ceil(p * double(v.size())));
    return v[std::min(i == 0 ? 0 : i - 1, v.size() - 1)];
}

// "http://host:port" of a base URL ("http://host:port/v1" -> "http://host:port").
std::string origin_of(const std::string& url) {
    const size_t scheme = url.find("://");
    const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? url : url.substr(0, slash);
}

std::string cell(double v, const char* fmt) {
    if (v < 0) return "-";
    char buf[48];
    std::snprintf(buf, sizeof buf, fmt, v);
    return buf;
}

}  // namespace

Result<LaunchedServer> launch_until_ready(const std::string& command, const std::string& origin, double timeout_seconds,
                                          const std::string& name) {
    LaunchedServer server;
    char log[256];
    std::snprintf(log, sizeof log, "/tmp/duet-deploy-%d-%s.log", int(::getpid()), name.c_str());
    for (char* c = log + 5; *c; ++c)
        if (*c == '/' || *c == ' ') *c = '_';
    server.log_path = log;
    const int log_fd = ::open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) return Status::io_error("launch %s: cannot create the log %s", name.c_str(), log);
    const std::string shell_command = "exec " + command;
    const double start = now_seconds();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(log_fd);
        return Status::io_error("launch %s: fork failed", name.c_str());
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        const int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) ::dup2(null_fd, 0);
        ::execl("/bin/sh", "sh", "-c", shell_command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(log_fd);
    ::setpgid(pid, pid);  // also from the parent: no race with the first kill
    server.pid = int(pid);
    httplib::Client http(origin);
    http.set_connection_timeout(std::chrono::milliseconds(500));
    http.set_read_timeout(std::chrono::seconds(5));
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return Status::unavailable("launch %s: the server exited with status %d before /health said ok (log: %s)",
                                       name.c_str(), code, log);
        }
        ++server.health_polls;
        if (auto r = http.Get("/health"); r && r->status == 200) {
            server.ready_seconds = now_seconds() - start;
            return server;
        }
        if (now_seconds() - start > timeout_seconds) {
            stop_launched(server, 5, /*keep_log=*/true);
            return Status::unavailable("launch %s: /health not ok after %g s (log: %s)", name.c_str(), timeout_seconds,
                                       log);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void stop_launched(const LaunchedServer& server, double grace_seconds, bool keep_log) {
    if (server.pid <= 0) return;
    ::kill(-server.pid, SIGTERM);
    const double start = now_seconds();
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(server.pid, &status, WNOHANG);
        if (done == server.pid || done < 0) break;
        if (now_seconds() - start > grace_seconds) {
            ::kill(-server.pid, SIGKILL);
            ::waitpid(server.pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!keep_log && !server.log_path.empty()) std::remove(server.log_path.c_str());
}

long long process_rss_bytes(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
    return -1;
}

std::vector<int> process_tree(int pid) {
    std::vector<std::pair<int, int>> parent_of;  // (pid, ppid)
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "stat");
        std::string stat;
        std::getline(in, stat);
        const size_t close = stat.rfind(')');  // the command name may hold spaces and parentheses
        if (close == std::string::npos) continue;
        char state = 0;
        int ppid = 0;
        if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2)
            parent_of.emplace_back(std::atoi(name.c_str()), ppid);
    }
    std::vector<int> tree = {pid};
    for (size_t i = 0; i < tree.size(); ++i)
        for (const auto& [child, parent] : parent_of)
            if (parent == tree[i] && std::find(tree.begin(), tree.end(), child) == tree.end()) tree.push_back(child);
    return tree;
}

long long gpu_memory_from_nvidia_smi(const std::string& csv, const std::vector<int>& pids) {
    long long total = -1;
    std::istringstream in(csv);
    std::string line;
    while (std::getline(in, line)) {
        int pid = 0;
        long long mib = 0;
        if (std::sscanf(line.c_str(), " %d , %lld", &pid, &mib) != 2) continue;
        if (std::find(pids.begin(), pids.end(), pid) == pids.end()) continue;
        total = std::max(total, 0LL) + mib * 1024 * 1024;
    }
    return total;
}

long long process_gpu_memory_bytes(int pid) {
    // Only when nvidia-smi is on PATH; its output is read through a pipe (no shell input from outside).
    FILE* pipe = ::popen(
        "command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-compute-apps=pid,used_memory "
        "--format=csv,noheader,nounits 2>/dev/null",
        "r");
    if (!pipe) return -1;
    std::string csv;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) csv.append(buf, n);
    ::pclose(pipe);
    return gpu_memory_from_nvidia_smi(csv, process_tree(pid));
}

DeployFigures measure_deployment(const Target& target, const DeployOptions& options) {
    DeployFigures f;
    f.name = target.name;
    LaunchedServer launched;
    if (!options.launch_command.empty()) {
        Result<LaunchedServer> started = launch_until_ready(options.launch_command, origin_of(target.url),
                                                            options.ready_timeout_seconds, target.name);
        if (!started.ok()) {
            f.last_error = started.status().message();
            return f;
        }
        launched = *started;
        f.load_to_ready_s = launched.ready_seconds;
        f.health_polls = launched.health_polls;
    }
    httplib::Client http(origin_of(target.url));
    http.set_connection_timeout(std::chrono::seconds(5));
    http.set_read_timeout(std::chrono::seconds(30));
    double start = now_seconds();
    if (auto r = http.Get("/health")) {
        f.health_ok = r->status == 200;
        f.health_ms = (now_seconds() - start) * 1000;
    }
    start = now_seconds();
    if (auto r = http.Get("/")) {
        f.page_status = r->status;
        f.page_bytes = r->body.size();
        f.page_ms = (now_seconds() - start) * 1000;
    }

    ModelCaller caller(target, options.policy, nullptr);
    // New session: the page's first call, then a first message whose prompt no earlier request shares a prefix with.
    const double create_start = now_seconds();
    if (Result<std::string> id = create_conversation(origin_of(target.url), options.policy.api_key); id.ok()) {
        f.new_session_create_ms = (now_seconds() - create_start) * 1000;
        const std::string nonce = std::to_string(std::random_device{}());
        Result<CachedReply> first = caller.chat({{"user", "(" + nonce + ") " + options.prompt}}, options.max_tokens, 0);
        if (first.ok() && first->timing.ttft_seconds >= 0) {
            f.new_session_ttft_ms = first->timing.ttft_seconds * 1000;
            f.new_session_ms = f.new_session_create_ms + f.new_session_ttft_ms;
        } else if (!first.ok()) {
            f.last_error = first.status().message();
        }
        delete_conversation(origin_of(target.url), options.policy.api_key, *id);
    }
    std::vector<double> ttfts, intervals;
    double chars = 0, chunks = 0, stream_seconds = 0, stream_chars = 0;
    for (int i = 0; i < options.requests; ++i) {
        ++f.requests;
        // The seed varies per request so a server-side prefix or response cache does not answer.
        Result<CachedReply> reply = caller.chat({{"user", options.prompt}}, options.max_tokens, uint64_t(i));
        if (!reply.ok()) {
            ++f.failed;
            f.last_error = reply.status().message();
            continue;
        }
        const CallTiming& t = reply->timing;
        if (t.ttft_seconds >= 0) ttfts.push_back(t.ttft_seconds * 1000);
        for (double v : t.chunk_intervals) intervals.push_back(v * 1000);
        for (size_t c = 0; c < t.chunk_chars.size(); ++c) {
            chars += t.chunk_chars[c];
            if (c > 0) stream_chars += t.chunk_chars[c];
        }
        chunks += double(t.chunk_chars.size());
        for (double v : t.chunk_intervals) stream_seconds += v;
    }
    f.ttft_p50_ms = percentile(ttfts, 0.5);
    f.ttft_p90_ms = percentile(ttfts, 0.9);
    f.interval_p50_ms = percentile(intervals, 0.5);
    f.interval_p90_ms = percentile(intervals, 0.9);
    if (chunks > 0) f.chars_per_chunk = chars / chunks;
    if (stream_chars > 0) f.ms_per_char = stream_seconds * 1000 / stream_chars;
    const int pid = options.pid > 0 ? options.pid : launched.pid;
    if (pid > 0) {
        const long long rss = process_rss_bytes(pid);
        if (rss >= 0) f.rss_gb = double(rss) / 1e9;
        const long long gpu = process_gpu_memory_bytes(pid);
        if (gpu >= 0) f.gpu_memory_gb = double(gpu) / 1e9;
    }
    stop_launched(launched);
    return f;
}

std::string render_deploy_table(const std::vector<DeployFigures>& figures) {
    struct Row {
        const char* label;
        const char* seed;
        std::string (*value)(const DeployFigures&);
    };
    static const Row rows[] = {
        {"load to ready (s)", "92 / 28", [](const DeployFigures& f) { return cell(f.load_to_ready_s, "%.2f"); }},
        {"memory RSS (GB)", "9.8 / 3.2", [](const DeployFigures& f) { return cell(f.rss_gb, "%.2f"); }},
        {"GPU memory (GB)", "-", [](const DeployFigures& f) { return cell(f.gpu_memory_gb, "%.2f"); }},
        {"/health", "-",
         [](const DeployFigures& f) {
             return f.health_ok ? cell(f.health_ms, "ok %.0f ms") : std::string("unreachable");
         }},
        {"page first load (s)", "15 / 8",
         [](const DeployFigures& f) {
             return f.page_status == 200 ? cell(f.page_ms / 1000, "%.3f") + " (" + std::to_string(f.page_bytes) + " B)"
                    : f.page_status      ? "HTTP " + std::to_string(f.page_status)
                                         : std::string("-");
         }},
        {"new session (s)", "2.1 / 0.8", [](const DeployFigures& f) { return cell(f.new_session_ms / 1000, "%.3f"); }},
        {"  create conversation (ms)", "-",
         [](const DeployFigures& f) { return cell(f.new_session_create_ms, "%.1f"); }},
        {"  first token, new chat (ms)", "-",
         [](const DeployFigures& f) { return cell(f.new_session_ttft_ms, "%.0f"); }},
        {"first token p50 (ms)", "720 / 380", [](const DeployFigures& f) { return cell(f.ttft_p50_ms, "%.0f"); }},
        {"first token p90 (ms)", "-", [](const DeployFigures& f) { return cell(f.ttft_p90_ms, "%.0f"); }},
        {"chunk interval p50 (ms)", "800 / ~120",
         [](const DeployFigures& f) { return cell(f.interval_p50_ms, "%.1f"); }},
        {"chunk interval p90 (ms)", "-", [](const DeployFigures& f) { return cell(f.interval_p90_ms, "%.1f"); }},
        {"characters per chunk", "block / 1", [](const DeployFigures& f) { return cell(f.chars_per_chunk, "%.1f"); }},
        {"streaming ms per character", "- / ~120", [](const DeployFigures& f) { return cell(f.ms_per_char, "%.1f"); }},
        {"requests failed", "-",
         [](const DeployFigures& f) { return std::to_string(f.failed) + "/" + std::to_string(f.requests); }},
    };
    std::string out;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-28s", "");
    out += buf;
    for (const DeployFigures& f : figures) {
        std::snprintf(buf, sizeof buf, " %22s", f.name.substr(0, 22).c_str());
        out += buf;
    }
    out += "   seed (big / small)\n";
    for (const Row& row : rows) {
        std::snprintf(buf, sizeof buf, "%-28s", row.label);
        out += buf;
        for (const DeployFigures& f : figures) {
            std::snprintf(buf, sizeof buf, " %22s", row.value(f).c_str());
            out += buf;
        }
        out += std::string("   ") + row.seed + "\n";
    }
    for (const DeployFigures& f : figures)
        if (!f.last_error.empty()) out += "last error: " + f.last_error + "\n";
    out +=
        "load to ready needs --launch NAME=CMD (duet starts the server); RSS needs --launch or --pid NAME=PID; GPU\n"
        "memory also needs nvidia-smi (the process and its children); new session needs duet's page API (POST\n"
        "/api/conversations)\n";
    return out;
}

}  // namespace duet::eval
