// test_serve_config.cpp: the YAML config file of `duet serve --config`: the README's full example read field by
// field, defaults, relative paths beside the file, and errors that name the file, the line and the reason.
#include <gtest/gtest.h>

#include <fstream>

#include "common/duration.h"
#include "server/serve_config.h"
#include "support/fixtures.h"

namespace duet::test {
namespace {

using server::parse_serve_config;

// The example in README.md ("duet serve: the config file"); keep the two the same.
const char* kExample = R"(# duet.yaml: duet serve --config duet.yaml
memory_budget: 12G      # weights + KV reserve of the loaded local models together (default: no budget)
keep_alive: 5m          # how long an idle model stays loaded (default 5m; -1 = forever, 0 = unload when idle)
load_timeout: 120       # seconds a request waits for its model to load, then 503 (default 120)
kv_memory: 2G           # KV memory shared by the local models (default: a quarter of the free memory)
context: 8192           # tokens per request unless a model says otherwise (default: the model's)

models:
  - name: daily
    model: deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B-GGUF:Q4_K_M   # pulled with duet pull, or a .gguf path
    role: daily
    preload: true       # load at start (default false: on its first request)
    keep_alive: -1      # never unload for idleness
  - name: expert
    model: models/llama-3-8b-instruct.Q4_K_M.gguf
    role: expert
    keep_alive: 10m
    context: 4096
    kv_memory: 1G

upstreams:
  - name: big
    urls: [http://gpu1:8000/v1, http://gpu2:8000/v1]
    model: meta-llama/Meta-Llama-3-70B-Instruct    # the name sent upstream (default: big)
    key: sk-upstream                               # sent as Authorization: Bearer (default: --upstream-key)

roles:                  # the router's models (default: a model's role:, else the ones named expert and daily)
  expert: expert
  daily: daily
)";

TEST(ServeConfig, TheReadmeExampleReadsFieldByField) {
    auto parsed = parse_serve_config(kExample, "duet.yaml", "");
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    const server::ServeConfigFile& c = *parsed;
    EXPECT_EQ(c.memory_budget_bytes, size_t{12} << 30);
    EXPECT_EQ(c.keep_alive_seconds, 300.0);
    EXPECT_EQ(c.load_timeout_seconds, 120.0);
    EXPECT_EQ(c.kv_memory_bytes, size_t{2} << 30);
    EXPECT_EQ(c.context_length, 8192);
    ASSERT_EQ(c.models.size(), 2u);
    const auto& daily = c.models[0];
    EXPECT_EQ(daily.spec.name, "daily");
    EXPECT_EQ(daily.spec.path, "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B-GGUF:Q4_K_M");
    EXPECT_EQ(daily.spec.role, registry::Role::daily);
    EXPECT_TRUE(daily.spec.preload);
    EXPECT_EQ(daily.keep_alive, -1.0);
    EXPECT_EQ(daily.line, 9);
    const auto& expert = c.models[1];
    EXPECT_EQ(expert.spec.name, "expert");
    EXPECT_FALSE(expert.spec.preload) << "lazy by default";
    EXPECT_EQ(expert.keep_alive, 600.0);
    EXPECT_EQ(expert.spec.context_length, 4096);
    EXPECT_EQ(expert.spec.kv_memory_bytes, size_t{1} << 30);
    ASSERT_EQ(c.upstreams.size(), 1u);
    EXPECT_EQ(c.upstreams[0].name, "big");
    ASSERT_EQ(c.upstreams[0].replicas.size(), 2u);
    EXPECT_EQ(c.upstreams[0].replicas[1].url, "http://gpu2:8000/v1");
    EXPECT_EQ(c.upstreams[0].replicas[0].model, "meta-llama/Meta-Llama-3-70B-Instruct");
    EXPECT_EQ(c.upstreams[0].api_key, "sk-upstream");
    EXPECT_EQ(c.expert_model, "expert");
    EXPECT_EQ(c.daily_model, "daily");
}

TEST(ServeConfig, DefaultsNamesFromFilesAndPathsBesideTheFile) {
    const std::string dir = temp_dir();
    std::ofstream(dir + "/tiny.gguf") << "x";
    auto parsed = parse_serve_config("models:\n  - model: tiny.gguf\n  - model: /abs/other.gguf\n", "c.yaml", dir);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    ASSERT_EQ(parsed->models.size(), 2u);
    EXPECT_EQ(parsed->models[0].spec.name, "tiny");
    EXPECT_EQ(parsed->models[0].spec.path, dir + "/tiny.gguf");
    EXPECT_EQ(parsed->models[1].spec.name, "other");
    EXPECT_EQ(parsed->models[1].spec.path, "/abs/other.gguf");
    EXPECT_FALSE(parsed->models[0].keep_alive.has_value());
    EXPECT_FALSE(parsed->memory_budget_bytes.has_value());
    auto empty = parse_serve_config("", "empty.yaml", "");
    ASSERT_TRUE(empty.ok()) << empty.status().message();
    EXPECT_TRUE(empty->models.empty());
    auto single_url = parse_serve_config("upstreams:\n  - name: u\n    url: http://h:1/v1\n", "u.yaml", "");
    ASSERT_TRUE(single_url.ok()) << single_url.status().message();
    EXPECT_EQ(single_url->upstreams[0].replicas.size(), 1u);
}

struct BadCase {
    const char* yaml;
    int line;
    const char* reason;
};

TEST(ServeConfig, ErrorsNameTheFileTheLineAndTheReason) {
    const BadCase cases[] = {
        {"memory_budget: 8G\nmodles: []\n", 2, "unknown key 'modles'"},
        {"models:\n  - name: a\n    model: a.gguf\n    keep_alive: soon\n", 4, "keep_alive"},
        {"memory_budget: lots\n", 1, "size 'lots'"},
        {"models:\n  - name: a\n    model: a.gguf\n    preload: maybe\n", 4, "true or false"},
        {"models:\n  - name: a\n    model: a.gguf\n    role: boss\n", 4, "role 'boss'"},
        {"models:\n  - name: a\n", 2, "needs 'model'"},
        {"models:\n  - {name: a, model: a.gguf}\n  - {name: a, model: b.gguf}\n", 3, "given twice"},
        {"models:\n  - name: a\n    model: a.gguf\n    colour: red\n", 4, "unknown key 'colour' in a model"},
        {"models: a.gguf\n", 1, "must be a list"},
        {"upstreams:\n  - name: u\n    urls: [ftp://x]\n", 3, "http"},
        {"upstreams:\n  - name: u\n", 2, "needs 'urls'"},
        {"roles:\n  boss: a\n", 2, "unknown key 'boss' in roles"},
        {"models:\n  - name: a\n    model: [a.gguf\n", 4, "flow sequence"},
        {"keep_alive: 5m\nkeep_alive: 1m\n", 2, "given twice"},
        {"context: -3\n", 1, "whole number"},
        {"load_timeout: -1\n", 1, "must not be negative"},
        {"models:\n  - &x {name: a, model: a.gguf}\n  - *x\n", 3, "aliases"},
        {"- just\n- a list\n", 1, "map of settings"},
        {"models:\n  - {name: u, model: u.gguf}\nupstreams:\n  - {name: u, url: http://h/v1}\n", 2, "both a model"},
    };
    for (const BadCase& c : cases) {
        auto parsed = parse_serve_config(c.yaml, "bad.yaml", "");
        ASSERT_FALSE(parsed.ok()) << c.yaml;
        const std::string message = parsed.status().message();
        EXPECT_EQ(parsed.status().code(), StatusCode::invalid_argument);
        EXPECT_EQ(message.rfind("bad.yaml:" + std::to_string(c.line) + ": ", 0), 0u) << c.yaml << "\n-> " << message;
        EXPECT_NE(message.find(c.reason), std::string::npos) << c.yaml << "\n-> " << message;
    }
}

TEST(ServeConfig, AMissingFileIsAnError) {
    auto parsed = server::load_serve_config(temp_dir() + "/absent.yaml");
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.status().message().find("absent.yaml"), std::string::npos);
}

TEST(ServeConfig, SizesAndDurations) {
    EXPECT_EQ(*server::parse_byte_size("512M"), size_t{512} << 20);
    EXPECT_EQ(*server::parse_byte_size("1.5G"), size_t{3} << 29);
    EXPECT_EQ(*server::parse_byte_size("2GB"), size_t{2} << 30);
    EXPECT_EQ(*server::parse_byte_size("4096"), 4096u);
    EXPECT_FALSE(server::parse_byte_size("0").ok());
    EXPECT_FALSE(server::parse_byte_size("-1G").ok());
    EXPECT_FALSE(server::parse_byte_size("G").ok());
    EXPECT_EQ(*parse_duration_seconds("5m"), 300.0);
    EXPECT_EQ(*parse_duration_seconds("1h30m"), 5400.0);
    EXPECT_EQ(*parse_duration_seconds("250ms"), 0.25);
    EXPECT_EQ(*parse_duration_seconds("42"), 42.0);
    EXPECT_EQ(*parse_duration_seconds("0"), 0.0);
    EXPECT_EQ(*parse_duration_seconds("-1"), -1.0);
    EXPECT_EQ(*parse_duration_seconds("-5m"), -1.0);
    EXPECT_FALSE(parse_duration_seconds("5 minutes").ok());
    EXPECT_FALSE(parse_duration_seconds("m").ok());
    EXPECT_FALSE(parse_duration_seconds("").ok());
    EXPECT_FALSE(parse_duration_seconds("5x").ok());
}

}  // namespace
}  // namespace duet::test
