// test_stories260k.cpp: the trained stories260K Llama gives run.c's greedy ids and logits (F32 KV).
#include <gtest/gtest.h>

#include "model_test_util.h"

namespace duet::model::test {
namespace {

nlohmann::json load_json(const std::string& path) { return nlohmann::json::parse(duet::test::read_file(path)); }

// The forward pass on each kernel backend: the reference kernels and the one dispatched by default.
class Stories260KOnBackend : public ::testing::TestWithParam<kernels::Backend> {
protected:
    void SetUp() override {
        original_ = kernels::active_backend();
        if (!kernels::backend_supported(GetParam()))
            GTEST_SKIP() << "SKIPPED: this CPU cannot run the " << kernels::backend_name(GetParam()) << " kernels";
        kernels::force_backend(GetParam());
    }
    void TearDown() override { kernels::force_backend(original_); }
    kernels::Backend original_ = kernels::Backend::ref;
};

TEST(Stories260K, ConfigFromMetadata) {
    DUET_REQUIRE_FIXTURES();
    auto r = Runner::open(duet::test::fixture("stories260K/stories260K.gguf"));
    ASSERT_TRUE(r);
    const ModelConfig& c = r->model->config();
    EXPECT_EQ(c.arch, Arch::llama);
    EXPECT_EQ(c.n_vocab, 512);
    EXPECT_EQ(c.n_embd, 64);
    EXPECT_EQ(c.n_layers, 5);
    EXPECT_EQ(c.n_heads, 8);
    EXPECT_EQ(c.n_kv_heads, 4);
    EXPECT_EQ(c.head_dim, 8);
    EXPECT_EQ(c.n_rot, 8);
    EXPECT_EQ(c.n_ff, 172);
    EXPECT_FLOAT_EQ(c.rope_freq_base, 10000.0f);
    EXPECT_FLOAT_EQ(c.rms_eps, 1e-5f);
    EXPECT_EQ(c.rope_mode, kernels::RopeMode::norm);
    EXPECT_FALSE(c.tied_output);  // output.weight is stored (a copy of token_embd)
    EXPECT_FALSE(c.has_qkv_bias);
}

TEST_P(Stories260KOnBackend, GreedyIdsAndFirstLogitsMatchRunC) {
    DUET_REQUIRE_FIXTURES();
    const auto ref = load_json(duet::test::fixture("stories260K/stories260K_greedy.json"));
    ASSERT_EQ(ref["cases"].size(), 7u);
    for (const auto& c : ref["cases"]) {
        SCOPED_TRACE("prompt '" + c["prompt"].get<std::string>() + "'");
        auto r = Runner::open(duet::test::fixture("stories260K/stories260K.gguf"), KvType::f32);
        ASSERT_TRUE(r);
        const auto prompt = c["prompt_ids"].get<std::vector<TokenId>>();
        const auto want = c["completion_ids"].get<std::vector<TokenId>>();
        auto table = r->new_table(static_cast<int32_t>(prompt.size() + want.size() + 1));
        Rows steps;
        const int n = static_cast<int>(want.size()) + (c["stopped_on_bos"].get<bool>() ? 1 : 0);
        auto got = r->greedy(prompt, n, table, &steps);
        if (c["stopped_on_bos"].get<bool>()) {
            ASSERT_FALSE(got.empty());
            EXPECT_EQ(got.back(), 1);
            got.pop_back();
        }
        EXPECT_EQ(got, want);

        // All-position logits of the prompt (one batch) for the first positions given.
        if (c.contains("full_logits_first_positions") && !c["full_logits_first_positions"].empty()) {
            const Rows ref_rows = json_rows(c["full_logits_first_positions"]);
            std::vector<TokenId> seq = prompt;
            seq.insert(seq.end(), want.begin(), want.end());
            seq.resize(ref_rows.size());
            auto r2 = Runner::open(duet::test::fixture("stories260K/stories260K.gguf"), KvType::f32);
            Rows rows = r2->run(seq, 0, r2->new_table(static_cast<int32_t>(seq.size())));
            EXPECT_LT(max_abs_diff(rows, ref_rows), 1e-4);
        }
        // Per-position argmax of the prompt equals run.c's.
        const auto argmax_ref = c["argmax_ids_per_position"].get<std::vector<TokenId>>();
        Rows prompt_rows = r->run(prompt, 0, r->new_table(static_cast<int32_t>(prompt.size())));
        for (size_t p = 0; p < prompt_rows.size() && p < argmax_ref.size(); ++p)
            EXPECT_EQ(argmax(prompt_rows[p]), argmax_ref[p]) << "position " << p;
    }
}

TEST_P(Stories260KOnBackend, IntermediatesKCacheAfterRope) {
    DUET_REQUIRE_FIXTURES();
    const auto ref = load_json(duet::test::fixture("stories260K/stories260K_intermediates.json"));
    auto r = Runner::open(duet::test::fixture("stories260K/stories260K.gguf"), KvType::f32);
    ASSERT_TRUE(r);
    const std::vector<TokenId> ids = {1, 403, 407, 261, 378};
    auto table = r->new_table(5);
    Rows rows = r->run(ids, 0, table);
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_LT(max_abs_diff(rows, json_rows(ref["logits_full_depth"])), 1e-4);
    const auto& kref = ref["k_cache_post_rope"];
    const auto& vref = ref["v_cache"];
    for (int layer = 0; layer < 5; ++layer)
        for (int pos = 0; pos < 5; ++pos) {
            const float* k = static_cast<const float*>(r->kv->k_slot(layer, table[0], pos));
            const float* v = static_cast<const float*>(r->kv->v_slot(layer, table[0], pos));
            EXPECT_LT(max_abs_diff(std::vector<float>(k, k + 32), kref[layer][pos].get<std::vector<float>>()), 5e-5)
                << "layer " << layer << " pos " << pos;
            EXPECT_LT(max_abs_diff(std::vector<float>(v, v + 32), vref[layer][pos].get<std::vector<float>>()), 5e-5)
                << "layer " << layer << " pos " << pos;
        }
}

INSTANTIATE_TEST_SUITE_P(Backends, Stories260KOnBackend,
                         ::testing::ValuesIn(kernels::all_backends().begin(), kernels::all_backends().end()),
                         [](const auto& info) { return std::string(kernels::backend_name(info.param)); });

}  // namespace
}  // namespace duet::model::test
