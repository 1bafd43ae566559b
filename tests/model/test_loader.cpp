// test_loader.cpp: config validation and weight binding on small GGUF files built in memory.
#include <gtest/gtest.h>

#include "gguf/gguf.h"
#include "model/model.h"

namespace duet::model {
namespace {

// A tiny llama/qwen2 file; `skip` names tensors to leave out, `bad_shape` one tensor to give a wrong shape.
struct TinySpec {
    std::string arch = "llama";
    uint32_t n_embd = 32, n_layers = 2, n_heads = 4, n_kv_heads = 2, n_ff = 64, n_vocab = 40;
    std::vector<std::string> skip;
    std::string bad_shape;
    bool bias = false;
    int64_t meta_n_heads = -1;  // >= 0: write this head count instead of n_heads (tensors keep n_heads)
};

std::vector<uint8_t> build(const TinySpec& s) {
    gguf::GgufWriter w;
    w.set_string("general.architecture", s.arch);
    const std::string a = s.arch;
    w.set_u32(a + ".embedding_length", s.n_embd);
    w.set_u32(a + ".block_count", s.n_layers);
    w.set_u32(a + ".attention.head_count", s.meta_n_heads >= 0 ? static_cast<uint32_t>(s.meta_n_heads) : s.n_heads);
    w.set_u32(a + ".attention.head_count_kv", s.n_kv_heads);
    w.set_u32(a + ".feed_forward_length", s.n_ff);
    w.set_u32(a + ".context_length", 128);
    w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
    const int64_t head_dim = s.n_embd / s.n_heads;
    auto add = [&](const std::string& name, std::vector<int64_t> ne) {
        for (const auto& k : s.skip)
            if (k == name) return;
        if (name == s.bad_shape) ne[0] += 1;
        int64_t n = 1;
        for (auto e : ne) n *= e;
        w.add_tensor(name, TensorType::F32, ne, std::vector<uint8_t>(n * 4, 0));
    };
    add("token_embd.weight", {s.n_embd, s.n_vocab});
    add("output_norm.weight", {s.n_embd});
    add("output.weight", {s.n_embd, s.n_vocab});
    for (uint32_t i = 0; i < s.n_layers; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        add(p + "attn_norm.weight", {s.n_embd});
        add(p + "attn_q.weight", {s.n_embd, s.n_heads * head_dim});
        add(p + "attn_k.weight", {s.n_embd, s.n_kv_heads * head_dim});
        add(p + "attn_v.weight", {s.n_embd, s.n_kv_heads * head_dim});
        if (s.bias) {
            add(p + "attn_q.bias", {s.n_heads * head_dim});
            add(p + "attn_k.bias", {s.n_kv_heads * head_dim});
            add(p + "attn_v.bias", {s.n_kv_heads * head_dim});
        }
        add(p + "attn_output.weight", {s.n_heads * head_dim, s.n_embd});
        add(p + "ffn_norm.weight", {s.n_embd});
        add(p + "ffn_gate.weight", {s.n_embd, s.n_ff});
        add(p + "ffn_up.weight", {s.n_embd, s.n_ff});
        add(p + "ffn_down.weight", {s.n_ff, s.n_embd});
    }
    return w.to_bytes();
}

Result<std::unique_ptr<Model>> load(const std::vector<uint8_t>& bytes) {
    auto f = gguf::GgufFile::from_bytes(bytes);
    if (!f.ok()) return f.status();
    LoadOptions o;
    o.progress = false;
    return Model::from_gguf(std::move(f).value(), o);
}

TEST(Loader, TinyLlamaDefaults) {
    const auto bytes = build({});
    auto m = load(bytes);
    ASSERT_TRUE(m.ok()) << m.status().message();
    const ModelConfig& c = (*m)->config();
    EXPECT_EQ(c.arch, Arch::llama);
    EXPECT_EQ(c.head_dim, 8);
    EXPECT_EQ(c.n_rot, 8);
    EXPECT_EQ(c.n_vocab, 40);
    EXPECT_FLOAT_EQ(c.rope_freq_base, 10000.0f);
    EXPECT_EQ(c.rope_mode, kernels::RopeMode::norm);
    EXPECT_FALSE(c.tied_output);
    // weights read per token: everything but token_embd, plus one embedding row
    const size_t total = (*m)->total_weight_bytes();
    EXPECT_EQ((*m)->weight_bytes_per_token(), total - 40 * 32 * 4 + 32 * 4);
}

TEST(Loader, Qwen2TiedWithBias) {
    TinySpec s;
    s.arch = "qwen2";
    s.bias = true;
    s.skip = {"output.weight"};
    const auto bytes = build(s);
    auto m = load(bytes);
    ASSERT_TRUE(m.ok()) << m.status().message();
    const ModelConfig& c = (*m)->config();
    EXPECT_EQ(c.rope_mode, kernels::RopeMode::neox);
    EXPECT_TRUE(c.has_qkv_bias);
    EXPECT_TRUE(c.tied_output);
    EXPECT_EQ((*m)->output().data, (*m)->token_embd().data);
    EXPECT_EQ((*m)->weight_bytes_per_token(), (*m)->total_weight_bytes());  // tied: all of token_embd is read
    EXPECT_NE((*m)->layers()[1].bv, nullptr);
}

TEST(Loader, ListsEveryProblemInOneError) {
    TinySpec s;
    s.skip = {"blk.0.attn_q.weight", "blk.1.ffn_norm.weight"};
    s.bad_shape = "blk.1.ffn_down.weight";
    const auto bytes = build(s);
    auto m = load(bytes);
    ASSERT_FALSE(m.ok());
    const std::string msg = m.status().message();
    EXPECT_NE(msg.find("3 tensor problem"), std::string::npos) << msg;
    EXPECT_NE(msg.find("blk.0.attn_q.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("blk.1.ffn_norm.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("blk.1.ffn_down.weight"), std::string::npos) << msg;
}

TEST(Loader, RejectsBadHyperparameters) {
    {
        TinySpec s;
        s.n_kv_heads = 3;  // 4 % 3 != 0
        auto m = load(build(s));
        ASSERT_FALSE(m.ok());
        EXPECT_NE(m.status().message().find("head_count_kv"), std::string::npos) << m.status().message();
    }
    {
        TinySpec s;
        s.meta_n_heads = 0;
        auto m = load(build(s));
        ASSERT_FALSE(m.ok());
        EXPECT_NE(m.status().message().find("head_count"), std::string::npos);
    }
    {
        TinySpec s;
        s.arch = "gpt2";
        auto m = load(build(s));
        ASSERT_FALSE(m.ok());
        EXPECT_EQ(m.status().code(), StatusCode::unsupported);
    }
    {
        TinySpec s;
        s.skip = {"token_embd.weight"};
        auto m = load(build(s));
        ASSERT_FALSE(m.ok());
        EXPECT_NE(m.status().message().find("token_embd.weight"), std::string::npos);
    }
}

TEST(Loader, RopeDimensionCountAboveHeadDimIsRejected) {
    gguf::GgufWriter w;
    const auto base = build({});
    auto f = gguf::GgufFile::from_bytes(base);
    ASSERT_TRUE(f.ok());
    w.copy_metadata(**f, "");
    w.set_u32("llama.rope.dimension_count", 16);  // head_dim is 8
    for (const auto& t : (*f)->tensors())
        w.add_tensor(std::string(t.name), t.type, std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims),
                     std::vector<uint8_t>(t.data, t.data + t.n_bytes));
    const auto bytes = w.to_bytes();
    auto m = load(bytes);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("rope.dimension_count"), std::string::npos) << m.status().message();
}

}  // namespace
}  // namespace duet::model
