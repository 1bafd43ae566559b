// metrics.h: Prometheus text exposition with vLLM's metric names, one label set per model (model_name="NAME").
//
// Latency histograms are observed by HTTP workers when a request finishes; gauges and token counters are read
// from each engine's stats() at scrape time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine_api.h"
#include "registry/registry.h"

namespace duet::server {

class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double value);
    // name_bucket{labels,le=...}, name_sum, name_count lines.
    void render(std::string* out, const std::string& name, const std::string& labels) const;

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket (not cumulative), last = +Inf
    double sum_ = 0;
    uint64_t count_ = 0;
};

struct RequestObservation {
    double ttft_seconds = -1;  // < 0: no token was produced
    std::vector<double> inter_token_seconds;
    double e2e_seconds = 0;
    double queue_seconds = 0;
    const char* finish_reason = "stop";
};

class Metrics {
public:
    Metrics();
    ~Metrics();
    void observe(const std::string& model, const RequestObservation& observation);
    // One /v1/embeddings request answered: duet_embeddings_{requests,inputs,tokens}_total.
    void count_embeddings(const std::string& model, int64_t n_inputs, int64_t n_tokens);
    // The whole exposition; `engines` gives each model's current engine stats.
    std::string render(const std::vector<std::pair<std::string, engine::EngineStats>>& engines) const;

private:
    struct PerModel;
    PerModel& model(const std::string& name);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<PerModel>> models_;
};

// Load on demand (duet_model_*): per model its state, memory, loads, load failures, unloads, evictions and load
// seconds; duet_memory_{budget,used}_bytes for the process. Models not loaded on demand (remote ones) are left out.
void render_residency_metrics(const std::vector<registry::ResidencyInfo>& models, size_t budget_bytes,
                              size_t used_bytes, std::string* out);

}  // namespace duet::server
