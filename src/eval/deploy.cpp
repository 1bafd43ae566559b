// deploy.cpp: measuring the deployment table (see deploy.h). The chat calls go through ModelCaller (no cache).
#include "eval/deploy.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

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

long long process_rss_bytes(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
    return -1;
}

DeployFigures measure_deployment(const Target& target, const DeployOptions& options) {
    DeployFigures f;
    f.name = target.name;
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
    if (options.pid > 0) {
        const long long rss = process_rss_bytes(options.pid);
        if (rss >= 0) f.rss_gb = double(rss) / 1e9;
    }
    return f;
}

std::string render_deploy_table(const std::vector<DeployFigures>& figures) {
    struct Row {
        const char* label;
        const char* seed;
        std::string (*value)(const DeployFigures&);
    };
    static const Row rows[] = {
        {"load to ready (s)", "92 / 28", [](const DeployFigures&) { return std::string("-"); }},
        {"memory RSS (GB)", "9.8 / 3.2", [](const DeployFigures& f) { return cell(f.rss_gb, "%.2f"); }},
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
        {"new session (s)", "2.1 / 0.8", [](const DeployFigures&) { return std::string("-"); }},
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
    out += "load to ready and new session are not measured against a running server; RSS needs --pid NAME=PID\n";
    return out;
}

}  // namespace duet::eval
