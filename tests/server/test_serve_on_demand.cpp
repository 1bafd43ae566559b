// test_serve_on_demand.cpp: `duet serve --config` as a process with two generated models (duet make-model) and a
// memory budget that holds one: both start unloaded, each request loads its model and evicts the other, /v1/models
// and /metrics say so; and a config file with an error stops duet serve at start with FILE:LINE: reason.
#include <gtest/gtest.h>

#include <fstream>

#include "serve_process.h"

namespace duet::test {
namespace {

int run(const std::string& command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string state_of(const ServeProcess& proc, const std::string& id) {
    auto r = proc.client()->Get("/v1/models");
    if (!r || r->status != 200) return "no answer";
    const json list = json::parse(r->body);
    for (const auto& m : list["data"])
        if (m["id"] == id) return m.value("state", "");
    return "absent";
}

int chat(const ServeProcess& proc, const std::string& model) {
    const json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", "hello"}}}}, {"max_tokens", 3}};
    auto r = proc.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    return r ? r->status : -1;
}

double metric(const ServeProcess& proc, const std::string& line_start) {
    auto r = proc.client()->Get("/metrics");
    if (!r) return -1;
    const std::string key = "\n" + line_start + " ";  // a sample line, not its # HELP line
    const size_t at = r->body.find(key);
    return at == std::string::npos ? -1 : std::atof(r->body.c_str() + at + key.size());
}

TEST(ServeOnDemand, TwoGeneratedModelsTakeTurnsInABudgetThatHoldsOne) {
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    const std::string dir = temp_dir();
    for (const char* name : {"first", "second"})
        ASSERT_EQ(run("'" + duet_binary() + "' make-model --preset tiny-llama --type f32 --seed 7 -o '" + dir + "/" +
                      name + ".gguf' -t 1 >/dev/null 2>&1"),
                  0);
    // Each takes its file (~5.3 MiB) + 2 MiB of KV (4M shared by two): ~7.3 MiB; 10M holds one.
    const std::string config = dir + "/duet.yaml";
    std::ofstream(config) << "memory_budget: 10M\nkv_memory: 4M\nkeep_alive: 5m\nmodels:\n"
                             "  - name: first\n    model: first.gguf\n"
                             "  - name: second\n    model: second.gguf\n";
    ServeProcess proc({"--config", config}, /*model_name=*/"");
    ASSERT_TRUE(proc.ready()) << "duet serve --config did not become ready";
    EXPECT_EQ(state_of(proc, "first"), "unloaded");
    EXPECT_EQ(state_of(proc, "second"), "unloaded");

    ASSERT_EQ(chat(proc, "first"), 200);
    EXPECT_EQ(state_of(proc, "first"), "loaded");
    EXPECT_EQ(state_of(proc, "second"), "unloaded");

    ASSERT_EQ(chat(proc, "second"), 200);
    EXPECT_EQ(state_of(proc, "first"), "unloaded") << "evicted to make room";
    EXPECT_EQ(state_of(proc, "second"), "loaded");

    ASSERT_EQ(chat(proc, "first"), 200);
    EXPECT_EQ(state_of(proc, "second"), "unloaded");
    EXPECT_EQ(metric(proc, "duet_model_loads_total{model_name=\"first\"}"), 2);
    EXPECT_EQ(metric(proc, "duet_model_evictions_total{model_name=\"first\"}"), 1);
    EXPECT_EQ(metric(proc, "duet_model_evictions_total{model_name=\"second\"}"), 1);
    EXPECT_EQ(metric(proc, "duet_memory_budget_bytes"), 10 << 20);
    const double used = metric(proc, "duet_memory_used_bytes");
    EXPECT_GT(used, 5 << 20);
    EXPECT_LE(used, 10 << 20);
    auto health = proc.client()->Get("/health?model=second");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(json::parse(health->body)["state"], "unloaded");
}

TEST(ServeOnDemand, AConfigFileErrorStopsServeWithTheFileAndLine) {
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    const std::string dir = temp_dir();
    const std::string config = dir + "/bad.yaml";
    std::ofstream(config) << "models:\n  - name: a\n    model: a.gguf\n    keep_alive: soon\n";
    const std::string err = dir + "/bad_stderr.txt";
    const int code = run("'" + duet_binary() + "' serve --config '" + config + "' --port 0 >/dev/null 2>'" + err + "'");
    EXPECT_EQ(code, 2);
    const std::string message = read_file(err);
    EXPECT_NE(message.find(config + ":4: 'keep_alive'"), std::string::npos) << message;
}

}  // namespace
}  // namespace duet::test
