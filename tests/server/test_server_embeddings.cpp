// test_server_embeddings.cpp: `duet serve` on a tiny-bert encoder (written by `duet make-model`) answering
// POST /v1/embeddings: every input shape, base64 == float, the same vectors as `duet embed`, the errors, the
// capability checks against a chat model (stories260K, when the fixtures are present), concurrency and metrics.
#include <cstdio>
#include <cstring>
#include <thread>

#include "serve_process.h"

namespace duet::test {
namespace {

std::string make_tiny_bert() {
    const std::string path = temp_dir() + "/embeddings-tiny-bert.gguf";
    const std::string cmd =
        "'" + duet_binary() + "' make-model --preset tiny-bert --type f32 -o '" + path + "' > /dev/null";
    return std::system(cmd.c_str()) == 0 ? path : std::string();
}

std::vector<float> decode_base64_floats(const std::string& text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::vector<unsigned char> bytes;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=') break;
        const int v = value(c);
        EXPECT_GE(v, 0) << "not base64: " << c;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<unsigned char>((acc >> bits) & 0xff));
        }
    }
    EXPECT_EQ(bytes.size() % 4, 0u);
    std::vector<float> out(bytes.size() / 4);
    for (size_t i = 0; i < out.size(); ++i) {
        uint32_t u = 0;
        for (int b = 0; b < 4; ++b) u |= uint32_t{bytes[i * 4 + b]} << (8 * b);  // little-endian
        std::memcpy(&out[i], &u, 4);
    }
    return out;
}

class ServerEmbeddings : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (::access(duet_binary().c_str(), X_OK) != 0) return;
        model_path_ = new std::string(make_tiny_bert());
        if (model_path_->empty()) return;
        std::vector<std::string> extra;
        has_chat_model_ = !fixture("stories260K/stories260K.gguf").empty();
        if (has_chat_model_) extra = {"-m", "stories=" + fixture("stories260K/stories260K.gguf")};
        proc_ = new ServeProcess(extra, "bert", *model_path_);
    }
    static void TearDownTestSuite() {
        delete proc_;
        proc_ = nullptr;
        if (model_path_) std::remove(model_path_->c_str());
        delete model_path_;
        model_path_ = nullptr;
    }
    void SetUp() override {
        if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
        ASSERT_TRUE(model_path_ && !model_path_->empty()) << "duet make-model --preset tiny-bert failed";
        ASSERT_TRUE(proc_ && proc_->ready()) << "duet serve did not become ready";
    }

    static json post(const std::string& path, const json& body, int expect_status) {
        auto r = proc_->client()->Post(path, body.dump(), "application/json");
        EXPECT_TRUE(r);
        if (!r) return json();
        EXPECT_EQ(r->status, expect_status) << r->body;
        return json::parse(r->body, nullptr, false);
    }
    static std::vector<std::vector<float>> vectors_of(const json& response) {
        std::vector<std::vector<float>> out;
        for (size_t i = 0; i < response["data"].size(); ++i) {
            const json& item = response["data"][i];
            EXPECT_EQ(item["index"], i);
            EXPECT_EQ(item["object"], "embedding");
            if (item["embedding"].is_string())
                out.push_back(decode_base64_floats(item["embedding"].get<std::string>()));
            else out.push_back(item["embedding"].get<std::vector<float>>());
        }
        return out;
    }
    static std::vector<std::vector<float>> embed_cli(const std::vector<std::string>& texts) {
        std::string cmd = "'" + duet_binary() + "' embed -t 1 --json -m '" + *model_path_ + "' --";
        for (const auto& t : texts) cmd += " '" + t + "'";
        FILE* p = ::popen(cmd.c_str(), "r");
        std::string out;
        char buf[4096];
        while (p && std::fgets(buf, sizeof buf, p)) out += buf;
        if (p) {
            EXPECT_EQ(::pclose(p), 0);
        }
        json j = json::parse(out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << out;
        return j.is_discarded() ? std::vector<std::vector<float>>{}
                                : j["embeddings"].get<std::vector<std::vector<float>>>();
    }

    static ServeProcess* proc_;
    static std::string* model_path_;
    static bool has_chat_model_;
};

ServeProcess* ServerEmbeddings::proc_ = nullptr;
std::string* ServerEmbeddings::model_path_ = nullptr;
bool ServerEmbeddings::has_chat_model_ = false;

TEST_F(ServerEmbeddings, TextInputsGiveTheSameVectorsAsDuetEmbed) {
    const std::vector<std::string> texts = {"hello world", "the quick brown fox", "你好世界"};
    const json r = post("/v1/embeddings", {{"model", "bert"}, {"input", texts}}, 200);
    EXPECT_EQ(r["object"], "list");
    EXPECT_EQ(r["model"], "bert");
    const auto served = vectors_of(r);
    const auto cli = embed_cli(texts);
    ASSERT_EQ(served.size(), 3u);
    ASSERT_EQ(cli.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        ASSERT_EQ(served[i].size(), 64u);  // tiny-bert's n_embd
        for (size_t j = 0; j < served[i].size(); ++j) ASSERT_EQ(served[i][j], cli[i][j]) << i << "," << j;
    }
    EXPECT_NE(served[0], served[1]);
    // usage counts every input's tokens ([CLS]/[SEP] included), as /tokenize does.
    int64_t tokens = 0;
    for (const auto& t : texts) tokens += post("/tokenize", {{"model", "bert"}, {"content", t}}, 200)["tokens"].size();
    EXPECT_EQ(r["usage"]["prompt_tokens"], tokens);
    EXPECT_EQ(r["usage"]["total_tokens"], tokens);
}

TEST_F(ServerEmbeddings, EveryInputShapeAgrees) {
    const json ids = post("/tokenize", {{"model", "bert"}, {"content", "hello world"}}, 200)["tokens"];
    const json ids2 = post("/tokenize", {{"model", "bert"}, {"content", "good night"}}, 200)["tokens"];
    const auto single = vectors_of(post("/v1/embeddings", {{"model", "bert"}, {"input", "hello world"}}, 200));
    const auto strings =
        vectors_of(post("/v1/embeddings", {{"model", "bert"}, {"input", {"hello world", "good night"}}}, 200));
    const auto one_ids = vectors_of(post("/v1/embeddings", {{"model", "bert"}, {"input", ids}}, 200));
    const auto many_ids =
        vectors_of(post("/v1/embeddings", {{"model", "bert"}, {"input", json::array({ids, ids2})}}, 200));
    ASSERT_EQ(single.size(), 1u);
    ASSERT_EQ(strings.size(), 2u);
    ASSERT_EQ(one_ids.size(), 1u);
    ASSERT_EQ(many_ids.size(), 2u);
    EXPECT_EQ(single[0], strings[0]);
    EXPECT_EQ(single[0], one_ids[0]);
    EXPECT_EQ(strings[0], many_ids[0]);
    EXPECT_EQ(strings[1], many_ids[1]);
    double norm = 0;
    for (float v : single[0]) norm += static_cast<double>(v) * v;
    EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST_F(ServerEmbeddings, Base64DecodesToTheFloatOutput) {
    const json input = {"hello world", "a second, longer sentence with more words"};
    const json as_float = post("/v1/embeddings", {{"model", "bert"}, {"input", input}}, 200);
    const json as_b64 =
        post("/v1/embeddings", {{"model", "bert"}, {"input", input}, {"encoding_format", "base64"}}, 200);
    ASSERT_TRUE(as_b64["data"][0]["embedding"].is_string());
    EXPECT_EQ(vectors_of(as_b64), vectors_of(as_float));
    const json explicit_float =
        post("/v1/embeddings", {{"model", "bert"}, {"input", input}, {"encoding_format", "float"}}, 200);
    EXPECT_EQ(vectors_of(explicit_float), vectors_of(as_float));
}

TEST_F(ServerEmbeddings, DimensionsAreRefusedUnlessEqual) {
    const json bad = post("/v1/embeddings", {{"model", "bert"}, {"input", "hi"}, {"dimensions", 32}}, 400);
    EXPECT_EQ(bad["error"]["param"], "dimensions");
    const json ok = post("/v1/embeddings", {{"model", "bert"}, {"input", "hi"}, {"dimensions", 64}}, 200);
    EXPECT_EQ(ok["data"][0]["embedding"].size(), 64u);
}

TEST_F(ServerEmbeddings, BadRequestsAre400NamingTheProblem) {
    auto expect_error = [](const json& body, int status, const std::string& param, const std::string& says) {
        const json r = post("/v1/embeddings", body, status);
        EXPECT_EQ(r["error"]["param"], param) << body.dump();
        EXPECT_NE(r["error"]["message"].get<std::string>().find(says), std::string::npos)
            << r["error"]["message"] << " lacks " << says;
    };
    expect_error({{"input", "hi"}}, 400, "model", "'model' is required");
    expect_error({{"model", "bert"}}, 400, "input", "'input' is required");
    expect_error({{"model", "bert"}, {"input", ""}}, 400, "input", "empty");
    expect_error({{"model", "bert"}, {"input", json::array()}}, 400, "input", "empty");
    expect_error({{"model", "bert"}, {"input", {"ok", ""}}}, 400, "input", "input[1]");
    expect_error({{"model", "bert"}, {"input", json::array({json::array({101, 7}), json::array()})}}, 400, "input",
                 "input[1]");
    expect_error({{"model", "bert"}, {"input", {1, -2}}}, 400, "input", "input[1]");
    expect_error({{"model", "bert"}, {"input", {5, 999999}}}, 400, "input", "out of range");
    expect_error({{"model", "bert"}, {"input", "hi"}, {"encoding_format", "int8"}}, 400, "encoding_format",
                 "encoding_format");
    // Longer than the encoder's 128-token context: the error names the input's index.
    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += "word ";
    expect_error({{"model", "bert"}, {"input", {"short", long_text}}}, 400, "input", "input[1]");
    expect_error({{"model", "nope"}, {"input", "hi"}}, 404, "model", "");
}

TEST_F(ServerEmbeddings, CapabilitiesSeparateEncodersFromChatModels) {
    const json chat =
        post("/v1/chat/completions", {{"model", "bert"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 400);
    EXPECT_EQ(chat["error"]["param"], "model");
    const json completion = post("/v1/completions", {{"model", "bert"}, {"prompt", "hi"}, {"max_tokens", 2}}, 400);
    EXPECT_EQ(completion["error"]["param"], "model");
    auto models = proc_->client()->Get("/v1/models");
    ASSERT_TRUE(models);
    bool listed = false;
    const json model_list = json::parse(models->body);
    for (const auto& m : model_list["data"]) listed = listed || m["id"] == "bert";
    EXPECT_TRUE(listed) << models->body;
    if (!has_chat_model_) GTEST_SKIP() << "SKIPPED: no stories260K fixture for the chat-model half";
    const json to_chat = post("/v1/embeddings", {{"model", "stories"}, {"input", "hi"}}, 400);
    EXPECT_EQ(to_chat["error"]["param"], "model");
}

TEST_F(ServerEmbeddings, ConcurrentRequestsGetTheirOwnVectorsAndAreCounted) {
    const double before = proc_->metric("duet_embeddings_requests_total");
    const std::vector<std::string> texts = {"one", "two words", "three little words", "four of them here"};
    std::vector<std::vector<float>> alone;
    for (const auto& t : texts)
        alone.push_back(vectors_of(post("/v1/embeddings", {{"model", "bert"}, {"input", t}}, 200))[0]);
    std::vector<std::vector<float>> together(16);
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i)
        threads.emplace_back([&, i] {
            auto r = proc_->client()->Post("/v1/embeddings", json{{"model", "bert"}, {"input", texts[i % 4]}}.dump(),
                                           "application/json");
            if (r && r->status == 200)
                together[i] = json::parse(r->body)["data"][0]["embedding"].get<std::vector<float>>();
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 16; ++i) EXPECT_EQ(together[i], alone[i % 4]) << "request " << i;
    EXPECT_EQ(proc_->metric("duet_embeddings_requests_total"), std::max(before, 0.0) + 20);
}

}  // namespace
}  // namespace duet::test
