// test_inspect.cpp: runs the built `duet inspect` on fixtures and on a corrupt file; checks exit codes and output.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "support/fixtures.h"

namespace duet {
namespace {

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `duet inspect <args>`; stdout through the pipe, stderr through a file.
RunResult run_inspect(const std::string& args) {
    static int n_runs = 0;
    const std::string err_path = test::temp_dir() + "/inspect_stderr_" + std::to_string(n_runs++) + ".txt";
    const std::string cmd = "'" + test::duet_binary() + "' inspect " + args + " 2>'" + err_path + "'";
    RunResult r;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
    int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = test::read_file(err_path);
    return r;
}

std::string quoted(const std::string& path) { return "'" + path + "'"; }

// The line of `text` that contains `needle` (empty when none).
std::string line_with(const std::string& text, const std::string& needle) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) return line;
    return {};
}

class InspectTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(std::filesystem::exists(test::duet_binary())) << "duet binary not built: " << test::duet_binary();
    }
};

TEST_F(InspectTest, Stories260KText) {
    DUET_REQUIRE_FIXTURES();
    RunResult r = run_inspect(quoted(test::fixture("stories260K/stories260K.gguf")));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    EXPECT_NE(r.out.find("GGUF v3, 1185376 bytes, alignment 32, data offset 14176"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("general.architecture = \"llama\""), std::string::npos);
    EXPECT_NE(r.out.find("llama.block_count = 5 (u32)"), std::string::npos);
    EXPECT_NE(r.out.find("tokenizer.ggml.tokens = [array of 512 string: \"<unk>\", \"<s>\", \"</s>\", ...]"),
              std::string::npos);
    EXPECT_NE(r.out.find("tensors (48):"), std::string::npos);
    EXPECT_NE(line_with(r.out, "blk.0.ffn_down.weight").find("[172, 64]"), std::string::npos);
    EXPECT_NE(line_with(r.out, "blk.0.ffn_down.weight").find("44032"), std::string::npos);  // 172 * 64 * 4
    EXPECT_NE(r.out.find("totals: 48 tensors, 1171200 bytes"), std::string::npos);
    // From the README's shapes: 2 * 64*512 (embd + output) + 64 + 5 * (2*64*64 + 2*64*32 + 2*64 + 3*64*172).
    EXPECT_NE(line_with(r.out, "parameters:").find("292800"), std::string::npos) << r.out;
    // Output is stored separately: everything but token_embd, plus one 64-float row of it.
    EXPECT_NE(line_with(r.out, "weight bytes per token:").find(std::to_string((292800 - 64 * 512 + 64) * 4)),
              std::string::npos);
    // 2 (K, V) * 5 layers * 4 KV heads * head_dim 8 * 2 bytes * 1024.
    EXPECT_NE(line_with(r.out, "KV bytes per 1K tokens:").find("655360"), std::string::npos);
}

TEST_F(InspectTest, VocabOnlyFileSummarizesLongArrays) {
    DUET_REQUIRE_FIXTURES();
    RunResult r = run_inspect(quoted(test::fixture("vocab-derived/vocab-qwen2.5-instruct.derived.gguf")));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("tokenizer.ggml.tokens = [array of 151936 string: \"!\", \"\\\"\", \"#\", ...]"),
              std::string::npos)
        << r.out;
    const std::string tmpl = line_with(r.out, "tokenizer.chat_template = ");
    EXPECT_LT(tmpl.size(), 200u);  // long strings truncated, on one line
    EXPECT_NE(tmpl.find("..."), std::string::npos);
    EXPECT_NE(r.out.find("tensors (0):"), std::string::npos);
    EXPECT_EQ(r.out.find("parameters:"), std::string::npos);  // not a model
}

uint64_t sum_tensor_bytes(const nlohmann::json& j) {
    uint64_t total = 0;
    for (const auto& t : j["tensors"]) total += t["bytes"].get<uint64_t>();
    return total;
}

TEST_F(InspectTest, JsonTiedModelReadsAllOfTokenEmbd) {
    DUET_REQUIRE_FIXTURES();
    RunResult r = run_inspect("--json " + quoted(test::fixture("reference-logits/qwen2-tiny-tied-Q4_K_M.gguf")));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["version"], 3);
    EXPECT_EQ(j["tensors"].size(), 26u);
    EXPECT_EQ(j["totals"]["tensors"], 26);
    EXPECT_EQ(j["totals"]["by_type"]["q6_K"]["tensors"], 3);
    EXPECT_EQ(j["metadata"]["general.architecture"]["value"], "qwen2");
    EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["count"], 512);
    const auto& m = j["model"];
    EXPECT_TRUE(m["tied_output"].get<bool>());
    EXPECT_EQ(m["weight_bytes_per_token"].get<uint64_t>(), sum_tensor_bytes(j));
    EXPECT_EQ(m["kv_bytes_per_1k_tokens"], 2 * 2 * 2 * 64 * 2 * 1024);  // 2 layers, 2 KV heads, head_dim 64
    uint64_t n_params = 0;
    for (const auto& t : j["tensors"]) {
        uint64_t n = 1;
        for (const auto& d : t["shape"]) n *= d.get<uint64_t>();
        n_params += n;
    }
    EXPECT_EQ(m["parameters"].get<uint64_t>(), n_params);
}

TEST_F(InspectTest, JsonSeparateOutputReadsOneEmbeddingRow) {
    DUET_REQUIRE_FIXTURES();
    RunResult r = run_inspect("--json " + quoted(test::fixture("reference-logits/llama3-tiny-Q8_0.gguf")));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    const auto& m = j["model"];
    EXPECT_FALSE(m["tied_output"].get<bool>());
    uint64_t embd_bytes = 0;
    int64_t embd_rows = 0;
    for (const auto& t : j["tensors"])
        if (t["name"] == "token_embd.weight") {
            embd_bytes = t["bytes"].get<uint64_t>();
            embd_rows = t["shape"][1].get<int64_t>();
        }
    ASSERT_GT(embd_rows, 0);
    EXPECT_EQ(m["weight_bytes_per_token"].get<uint64_t>(), sum_tensor_bytes(j) - embd_bytes + embd_bytes / embd_rows);
}

TEST_F(InspectTest, CorruptFileIsOneErrorLine) {
    DUET_REQUIRE_FIXTURES();
    const std::string full = test::read_file(test::fixture("stories260K/stories260K.gguf"));
    ASSERT_GT(full.size(), 20000u);
    const std::string path = test::temp_dir() + "/truncated stories.gguf";
    {
        std::ofstream out(path, std::ios::binary);
        out.write(full.data(), 20000);  // metadata intact, tensor data cut
    }
    RunResult r = run_inspect(quoted(path));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(r.out.empty()) << r.out;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.rfind("error: gguf: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
    EXPECT_NE(r.err.find("beyond file size 20000"), std::string::npos) << r.err;

    RunResult missing = run_inspect(quoted(test::temp_dir() + "/does-not-exist.gguf"));
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(missing.err.rfind("error: ", 0), 0u) << missing.err;
    EXPECT_EQ(missing.err.find('\n'), missing.err.size() - 1) << missing.err;
}

TEST_F(InspectTest, HelpAndUsageErrors) {
    RunResult help = run_inspect("--help");
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("usage: duet inspect"), std::string::npos);
    RunResult none = run_inspect("");
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_NE(none.err.find("usage: duet inspect"), std::string::npos);
    RunResult bad = run_inspect("--bogus x.gguf");
    EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace duet
