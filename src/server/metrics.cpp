// metrics.cpp: histograms and the Prometheus text rendering for /metrics.
#include "server/metrics.h"

#include <cmath>
#include <memory>

#include "common/strformat.h"

namespace duet::server {

namespace {

// vLLM's bucket edges (seconds).
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25, 0.5,
                                          0.75,  1.0,   2.5,  5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0};
const std::vector<double> kItlBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4, 0.5,
                                         0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
const std::vector<double> kE2eBuckets = {0.3,  0.5,  0.8,  1.0,  1.5,  2.0,   2.5,   5.0,   10.0,  15.0,
                                         20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0};

std::string label_value(const std::string& raw) {
    std::string out;
    for (char c : raw) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return strformat("%.9g", v);
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    counts_[i]++;
    sum_ += value;
    count_++;
}

void Histogram::render(std::string* out, const std::string& name, const std::string& labels) const {
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
        cumulative += counts_[i];
        const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
        *out += strformat("%s_bucket{%s,le=\"%s\"} %llu\n", name.c_str(), labels.c_str(), le.c_str(),
                          static_cast<unsigned long long>(cumulative));
    }
    *out += strformat("%s_sum{%s} %s\n", name.c_str(), labels.c_str(), number(sum_).c_str());
    *out += strformat("%s_count{%s} %llu\n", name.c_str(), labels.c_str(), static_cast<unsigned long long>(count_));
}

struct Metrics::PerModel {
    Histogram ttft{kTtftBuckets};
    Histogram itl{kItlBuckets};
    Histogram e2e{kE2eBuckets};
    Histogram queue{kE2eBuckets};
    std::map<std::string, uint64_t> finished;  // by finish reason
    uint64_t embeddings_requests = 0, embeddings_inputs = 0, embeddings_tokens = 0;
};

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

Metrics::PerModel& Metrics::model(const std::string& name) {
    auto& slot = models_[name];
    if (!slot) slot = std::make_unique<PerModel>();
    return *slot;
}

void Metrics::count_embeddings(const std::string& name, int64_t n_inputs, int64_t n_tokens) {
    std::lock_guard<std::mutex> lock(mutex_);
    PerModel& m = model(name);
    m.embeddings_requests += 1;
    m.embeddings_inputs += static_cast<uint64_t>(n_inputs);
    m.embeddings_tokens += static_cast<uint64_t>(n_tokens);
}

void Metrics::observe(const std::string& name, const RequestObservation& o) {
    std::lock_guard<std::mutex> lock(mutex_);
    PerModel& m = model(name);
    if (o.ttft_seconds >= 0) m.ttft.observe(o.ttft_seconds);
    for (double gap : o.inter_token_seconds) m.itl.observe(gap);
    m.e2e.observe(o.e2e_seconds);
    m.queue.observe(o.queue_seconds);
    m.finished[o.finish_reason]++;
}

std::string Metrics::render(const std::vector<std::pair<std::string, engine::EngineStats>>& engines) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    auto labels_of = [](const std::string& name) { return "model_name=\"" + label_value(name) + "\""; };
    auto gauge = [&](const char* name, const char* help, const char* type, auto value_of) {
        out += strformat("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
        for (const auto& [model_name, stats] : engines)
            out += strformat("%s{%s} %s\n", name, labels_of(model_name).c_str(), number(value_of(stats)).c_str());
    };
    gauge("vllm:num_requests_running", "Requests in the running batch.", "gauge",
          [](const engine::EngineStats& s) { return double(s.n_running); });
    gauge("vllm:num_requests_waiting", "Requests waiting to be scheduled.", "gauge",
          [](const engine::EngineStats& s) { return double(s.n_waiting); });
    gauge("vllm:kv_cache_usage_perc", "Fraction of KV-cache blocks in use (0..1).", "gauge",
          [](const engine::EngineStats& s) { return s.kv_usage; });
    gauge("vllm:prefix_cache_queries", "Prompt tokens looked up in the prefix cache.", "counter",
          [](const engine::EngineStats& s) { return double(s.prefix_queries); });
    gauge("vllm:prefix_cache_hits", "Prompt tokens found in the prefix cache.", "counter",
          [](const engine::EngineStats& s) { return double(s.prefix_hits); });
    gauge("vllm:prompt_tokens_total", "Prefill tokens processed.", "counter",
          [](const engine::EngineStats& s) { return double(s.prompt_tokens_total); });
    gauge("vllm:generation_tokens_total", "Tokens generated.", "counter",
          [](const engine::EngineStats& s) { return double(s.generation_tokens_total); });
    gauge("duet:engine_steps_total", "Batches run through the model (prefill and decode tokens together).", "counter",
          [](const engine::EngineStats& s) { return double(s.steps_total); });

    auto histogram = [&](const char* name, const char* help, Histogram PerModel::*member) {
        out += strformat("# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
        for (const auto& [model_name, stats] : engines) {
            auto it = models_.find(model_name);
            static const PerModel empty;
            const PerModel& m = it == models_.end() ? empty : *it->second;
            (m.*member).render(&out, name, labels_of(model_name));
        }
    };
    histogram("vllm:time_to_first_token_seconds", "Time to first token (server side, from arrival).", &PerModel::ttft);
    histogram("vllm:inter_token_latency_seconds", "Time between streamed token deltas.", &PerModel::itl);
    histogram("vllm:e2e_request_latency_seconds", "End-to-end request latency.", &PerModel::e2e);
    histogram("vllm:request_queue_time_seconds", "Time requests spent waiting in the engine queue.", &PerModel::queue);

    out +=
        "# HELP vllm:request_success_total Finished requests by finish reason.\n"
        "# TYPE vllm:request_success_total counter\n";
    for (const auto& [model_name, stats] : engines) {
        auto it = models_.find(model_name);
        if (it == models_.end()) continue;
        for (const auto& [reason, count] : it->second->finished)
            out += strformat("vllm:request_success_total{%s,finished_reason=\"%s\"} %llu\n",
                             labels_of(model_name).c_str(), reason.c_str(), static_cast<unsigned long long>(count));
    }
    auto embeddings_counter = [&](const char* name, const char* help, uint64_t PerModel::*member) {
        out += strformat("# HELP %s %s\n# TYPE %s counter\n", name, help, name);
        for (const auto& [model_name, stats] : engines) {
            auto it = models_.find(model_name);
            if (it == models_.end() || it->second->embeddings_requests == 0) continue;
            out += strformat("%s{%s} %llu\n", name, labels_of(model_name).c_str(),
                             static_cast<unsigned long long>((*it->second).*member));
        }
    };
    embeddings_counter("duet_embeddings_requests_total", "Answered /v1/embeddings requests.",
                       &PerModel::embeddings_requests);
    embeddings_counter("duet_embeddings_inputs_total", "Inputs embedded.", &PerModel::embeddings_inputs);
    embeddings_counter("duet_embeddings_tokens_total", "Tokens embedded.", &PerModel::embeddings_tokens);
    return out;
}

void render_residency_metrics(const std::vector<registry::ResidencyInfo>& models, size_t budget_bytes,
                              size_t used_bytes, std::string* out) {
    struct Family {
        const char* name;
        const char* type;
        const char* help;
        double (*value)(const registry::ResidencyInfo&);
    };
    static const Family kFamilies[] = {
        {"duet_model_loaded", "gauge", "1 while the model is loaded (0: unloaded, loading or unloading).",
         [](const registry::ResidencyInfo& m) { return m.state == registry::Residency::loaded ? 1.0 : 0.0; }},
        {"duet_model_memory_bytes", "gauge",
         "Weights + KV reserve the model takes when loaded (estimate until loaded).",
         [](const registry::ResidencyInfo& m) { return static_cast<double>(m.memory_bytes); }},
        {"duet_model_loads_total", "counter", "Loads that finished.",
         [](const registry::ResidencyInfo& m) { return static_cast<double>(m.loads); }},
        {"duet_model_load_failures_total", "counter", "Loads that failed.",
         [](const registry::ResidencyInfo& m) { return static_cast<double>(m.load_failures); }},
        {"duet_model_load_seconds_total", "counter", "Seconds spent loading the model.",
         [](const registry::ResidencyInfo& m) { return m.load_seconds; }},
        {"duet_model_unloads_total", "counter", "Unloads (keep_alive ran out, or evicted).",
         [](const registry::ResidencyInfo& m) { return static_cast<double>(m.unloads); }},
        {"duet_model_evictions_total", "counter", "Unloads to make room in the memory budget for another model.",
         [](const registry::ResidencyInfo& m) { return static_cast<double>(m.evictions); }},
    };
    bool any = false;
    for (const auto& m : models) any = any || m.on_demand;
    if (!any) return;
    for (const Family& f : kFamilies) {
        *out += strformat("# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.type);
        for (const auto& m : models)
            if (m.on_demand)
                *out += strformat("%s{model_name=\"%s\"} %s\n", f.name, label_value(m.name).c_str(),
                                  number(f.value(m)).c_str());
    }
    *out += strformat(
        "# HELP duet_memory_budget_bytes The memory budget for local models (0: none).\n"
        "# TYPE duet_memory_budget_bytes gauge\nduet_memory_budget_bytes %zu\n"
        "# HELP duet_memory_used_bytes Memory of the local models loading, loaded or unloading.\n"
        "# TYPE duet_memory_used_bytes gauge\nduet_memory_used_bytes %zu\n",
        budget_bytes, used_bytes);
}

}  // namespace duet::server
