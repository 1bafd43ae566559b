// test_server_on_demand.cpp: load on demand as a client sees it, in process (fake engines behind a registry
// backend that can hold its load): /v1/models states, a chat request that waits for the load, the load timeout as
// an OpenAI-shaped 503 with Retry-After, per-request keep_alive, a stream holding its model loaded,
// /health?model=, and the duet_model_* metrics.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "registry/registry.h"
#include "server_harness.h"

namespace duet::test {
namespace {

struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool closed = false, in_open = false;
    int opens = 0;
    void open() {
        std::lock_guard<std::mutex> lock(mutex);
        closed = false;
        cv.notify_all();
    }
    void wait_in_open() {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return in_open; });
    }
};

// A lazily loaded model: a FakeEngine made at each load, open() held while the gate is closed.
class GatedFakeBackend final : public registry::ModelBackend {
public:
    GatedFakeBackend(Gate* gate, size_t bytes) : gate_(gate), bytes_(bytes) {}
    std::string source() const override { return "gated.gguf"; }
    Result<size_t> open(const registry::LoadSettings&) override {
        std::unique_lock<std::mutex> lock(gate_->mutex);
        ++gate_->opens;
        gate_->in_open = true;
        gate_->cv.notify_all();
        gate_->cv.wait(lock, [&] { return !gate_->closed; });
        gate_->in_open = false;
        return size_t{0};
    }
    Result<registry::Serving> start(const registry::LoadSettings&, size_t) override {
        registry::Serving s;
        FakeEngine::Options slow;
        slow.step_seconds = 0.002;
        s.engine = std::make_shared<FakeEngine>(slow);
        s.codec = std::make_shared<FakeCodec>();
        s.context_length = s.engine->context_length();
        return s;
    }
    size_t file_bytes() const override { return bytes_; }
    bool needs_kv() const override { return false; }

private:
    Gate* gate_;
    size_t bytes_;
};

struct OnDemandServer {
    Gate gate;
    double now = 100;
    std::shared_ptr<registry::Registry> models;
    std::unique_ptr<server::Server> server;

    explicit OnDemandServer(double load_timeout = 600, size_t budget = 0, size_t lazy_bytes = 1000) {
        registry::LoadSettings settings;
        settings.memory_budget_bytes = budget;
        models = std::make_shared<registry::Registry>(settings);
        models->set_clock([this] { return now; });
        registry::ModelOptions lazy;
        lazy.preload = false;
        lazy.keep_alive_seconds = 300;
        EXPECT_TRUE(models->add("lazy", std::make_unique<GatedFakeBackend>(&gate, lazy_bytes), lazy).ok());
        server::ServerOptions options;
        options.http.host = "127.0.0.1";
        options.http.port = 0;
        options.http.n_threads = 16;
        options.load_timeout_seconds = load_timeout;
        server = std::make_unique<server::Server>(options, models);
        server->add_model({"always", std::make_shared<FakeEngine>(), std::make_shared<FakeCodec>(), 1700000000});
        EXPECT_TRUE(server->start().ok());
        server->set_ready(true);
    }
    ~OnDemandServer() {
        gate.open();
        server->stop();
    }
    std::unique_ptr<httplib::Client> client() const {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", server->port());
        c->set_read_timeout(60, 0);
        return c;
    }
    std::string state_of(const std::string& id) const {
        auto r = client()->Get("/v1/models");
        if (!r) return "no answer";
        if (r->status != 200) return "status " + std::to_string(r->status) + ": " + r->body;
        const json list = json::parse(r->body);
        for (const auto& m : list["data"])
            if (m["id"] == id) return m.value("state", "");
        return "absent";
    }
};

const std::string kChat = R"({"model":"lazy","messages":[{"role":"user","content":"hello"}],"max_tokens":4})";

TEST(ServerOnDemand, ModelsListShowsStatesAndAChatRequestWaitsForTheLoad) {
    OnDemandServer s;
    EXPECT_EQ(s.state_of("lazy"), "unloaded");
    EXPECT_EQ(s.state_of("always"), "loaded");
    s.gate.closed = true;
    auto answer = std::async(std::launch::async,
                             [&] { return s.client()->Post("/v1/chat/completions", kChat, "application/json"); });
    s.gate.wait_in_open();
    EXPECT_EQ(s.state_of("lazy"), "loading");
    s.gate.open();
    auto r = answer.get();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["model"], "lazy");
    EXPECT_EQ(s.state_of("lazy"), "loaded");
    EXPECT_EQ(s.gate.opens, 1);
    // The next request finds it loaded.
    auto again = s.client()->Post("/v1/chat/completions", kChat, "application/json");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
    EXPECT_EQ(s.gate.opens, 1);
}

TEST(ServerOnDemand, ALoadPastTheTimeoutIsAnOpenAiShaped503WithRetryAfter) {
    OnDemandServer s(/*load_timeout=*/0);
    s.gate.closed = true;
    auto r = s.client()->Post("/v1/chat/completions", kChat, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_TRUE(is_error_body(r->body));
    EXPECT_NE(json::parse(r->body)["error"]["message"].get<std::string>().find("load timeout"), std::string::npos)
        << r->body;
    EXPECT_FALSE(r->get_header_value("Retry-After").empty());
}

TEST(ServerOnDemand, AStreamKeepsItsModelLoadedAndKeepAliveZeroUnloadsAfterIt) {
    OnDemandServer s;
    const std::string body =
        R"({"model":"lazy","messages":[{"role":"user","content":"hi"}],"max_tokens":40,"stream":true,"keep_alive":0})";
    size_t unloaded_mid_stream = 99;
    bool checked = false;
    std::string streamed;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = body;
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        streamed.append(data, n);
        if (!checked) {
            checked = true;
            s.now += 1000;
            unloaded_mid_stream = s.models->unload_expired();
        }
        return true;
    };
    auto r = s.client()->send(req);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    ASSERT_TRUE(checked);
    EXPECT_EQ(unloaded_mid_stream, 0u) << "a model with a stream in flight is never unloaded";
    EXPECT_NE(streamed.find("[DONE]"), std::string::npos);
    // The stream's lease ends with the response; keep_alive 0 lets it go at once.
    size_t unloaded = 0;
    for (int i = 0; i < 2000 && unloaded == 0; ++i) {  // the server lets go of the request just after the last byte
        unloaded = s.models->unload_expired();
        if (unloaded == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(unloaded, 1u);
    EXPECT_EQ(s.state_of("lazy"), "unloaded");
}

TEST(ServerOnDemand, HealthPerModel) {
    OnDemandServer s(/*load_timeout=*/600, /*budget=*/500, /*lazy_bytes=*/1000);  // lazy can never fit
    auto c = s.client();
    auto ok = c->Get("/health?model=always");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(json::parse(ok->body)["state"], "loaded");
    auto big = c->Get("/health?model=lazy");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 503);
    EXPECT_TRUE(is_error_body(big->body));
    EXPECT_NE(big->body.find("memory budget"), std::string::npos) << big->body;
    auto unknown = c->Get("/health?model=nope");
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 404);
    auto server_health = c->Get("/health");
    ASSERT_TRUE(server_health);
    EXPECT_EQ(server_health->status, 200);
}

TEST(ServerOnDemand, HealthOfAnUnloadedModelThatFitsIs200AndMetricsCountLoads) {
    OnDemandServer s;
    auto h = s.client()->Get("/health?model=lazy");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(json::parse(h->body)["state"], "unloaded");
    auto r = s.client()->Post("/v1/chat/completions", kChat, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    auto m = s.client()->Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_NE(m->body.find("duet_model_loads_total{model_name=\"lazy\"} 1\n"), std::string::npos) << m->body;
    EXPECT_NE(m->body.find("duet_model_loaded{model_name=\"lazy\"} 1\n"), std::string::npos);
    EXPECT_NE(m->body.find("duet_model_evictions_total{model_name=\"lazy\"} 0\n"), std::string::npos);
    EXPECT_NE(m->body.find("duet_model_load_seconds_total{model_name=\"lazy\"}"), std::string::npos);
    EXPECT_EQ(m->body.find("duet_model_loaded{model_name=\"always\"}"), std::string::npos)
        << "models that are never unloaded are left out";
}

TEST(ServerOnDemand, AnInvalidKeepAliveIsA400) {
    OnDemandServer s;
    auto r = s.client()->Post("/v1/chat/completions",
                              R"({"model":"lazy","messages":[{"role":"user","content":"hi"}],"keep_alive":"soon"})",
                              "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(json::parse(r->body)["error"]["param"], "keep_alive");
    EXPECT_EQ(s.gate.opens, 0);
}

}  // namespace
}  // namespace duet::test
