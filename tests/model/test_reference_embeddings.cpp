// test_reference_embeddings.cpp: the BERT encoder against llama.cpp, one test per file of
// fixtures/reference-embeddings (see its README): hparams, final hidden states, pooled vectors before and after
// L2 normalisation, and the 4-sequence batch, at the README's tolerances.
//
// Which reference set: F32 files compare with their plain sets. Our F16 matmul keeps activations in F32, i.e.
// pure F32 arithmetic on the file's weights: that is the `*_dequant_f32` sets, at the tight tolerances (the same
// ones as F32), and the plain sets at the F16 row. Our Q8_0 matmul quantizes activations with a float scale
// (ggml's Q8_0 uses an fp16 one), so Q8_0 files compare with the plain sets at the Q8_0 row.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/encoder.h"
#include "model/model.h"
#include "support/fixtures.h"
#include "support/threads.h"

namespace duet::model {
namespace {

using Rows = std::vector<std::vector<float>>;

struct Tolerance {
    double embeddings;    // normalised pooled vectors (and batch_case)
    double unnormalized;  // pooled vectors before normalisation
    double tokens;        // final hidden states
};
// README "Recommended tolerances": F32 arithmetic with ggml's fp16-table GELU (what duet computes).
constexpr Tolerance kF32Arithmetic = {3e-5, 2e-4, 2e-3};
constexpr Tolerance kF16File = {1e-3, 5e-3, 1e-2};
constexpr Tolerance kQ8_0File = {1.5e-2, 1e-1, 1.5e-1};
constexpr double kQ8_0MinCosine = 0.9995;

Rows rows(const nlohmann::json& j) {
    Rows r;
    for (const auto& row : j) r.push_back(row.get<std::vector<float>>());
    return r;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double m = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

std::unique_ptr<Model> load(const std::string& path) {
    LoadOptions o;
    o.progress = false;
    auto m = Model::load(path, o);
    EXPECT_TRUE(m.ok()) << m.status().message();
    return m.ok() ? std::move(m).value() : nullptr;
}

class ReferenceEmbeddings : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceEmbeddings, MatchesLlamaCpp) {
    DUET_REQUIRE_FIXTURES();
    const std::string base = test::fixture("reference-embeddings/" + GetParam());
    const auto ref = nlohmann::json::parse(test::read_file(base + ".json"));
    auto model = load(base + ".gguf");
    ASSERT_NE(model, nullptr);

    const ModelConfig& c = model->config();
    const auto& h = ref["hparams"];
    EXPECT_EQ(c.arch, Arch::bert);
    EXPECT_EQ(c.family, Family::encoder);
    EXPECT_EQ(c.n_embd, h["n_embd"].get<int>());
    EXPECT_EQ(c.n_layers, h["n_layer"].get<int>());
    EXPECT_EQ(c.n_heads, h["n_head"].get<int>());
    EXPECT_EQ(c.head_dim, h["head_dim"].get<int>());
    EXPECT_EQ(c.n_ff, h["n_ff"].get<int>());
    EXPECT_EQ(c.n_vocab, h["n_vocab"].get<int>());
    EXPECT_EQ(c.n_ctx_train, h["n_ctx_train"].get<int>());
    EXPECT_EQ(c.n_token_types, h["n_token_types"].get<int>());
    EXPECT_EQ(static_cast<int>(c.pooling), h["pooling_type"].get<int>());
    EXPECT_FLOAT_EQ(c.layer_norm_eps, h["layer_norm_eps"].get<float>());

    const std::string type = ref["file_type"].get<std::string>();
    const bool quantized = type != "F32";
    const bool q8_0 = type == "Q8_0";
    // The set computed with the same arithmetic as ours, and its tolerance.
    const std::string suffix = quantized && !q8_0 ? "_dequant_f32" : "";
    const Tolerance tol = q8_0 ? kQ8_0File : kF32Arithmetic;

    ThreadPool pool(test::pool_threads(2));
    Encoder encoder(*model, 256, &pool);
    const auto& inputs = ref["inputs"];
    const Rows want_emb = rows(ref["embeddings" + suffix]);
    const Rows want_unnorm = rows(ref["embeddings_unnormalized" + suffix]);
    double worst_emb = 0, worst_unnorm = 0, worst_tokens = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
        SCOPED_TRACE(inputs[i]["name"].get<std::string>());
        const std::vector<std::vector<TokenId>> seq = {inputs[i]["ids"].get<std::vector<TokenId>>()};

        auto hidden = encoder.hidden_states(seq);
        ASSERT_TRUE(hidden.ok()) << hidden.status().message();
        const Rows want_tokens = rows(ref["token_embeddings" + suffix][i]);
        ASSERT_EQ(hidden->size(), want_tokens.size() * c.n_embd);
        for (size_t t = 0; t < want_tokens.size(); ++t) {
            const std::vector<float> got(hidden->begin() + t * c.n_embd, hidden->begin() + (t + 1) * c.n_embd);
            worst_tokens = std::max(worst_tokens, max_abs_diff(got, want_tokens[t]));
        }

        auto emb = encoder.embed(seq);
        ASSERT_TRUE(emb.ok()) << emb.status().message();
        worst_emb = std::max(worst_emb, max_abs_diff((*emb)[0], want_emb[i]));
        auto unnorm = encoder.embed(seq, /*normalize=*/false);
        ASSERT_TRUE(unnorm.ok());
        worst_unnorm = std::max(worst_unnorm, max_abs_diff((*unnorm)[0], want_unnorm[i]));
        if (q8_0) {
            EXPECT_GE(cosine((*emb)[0], want_emb[i]), kQ8_0MinCosine);
        }
    }
    EXPECT_LE(worst_emb, tol.embeddings);
    EXPECT_LE(worst_unnorm, tol.unnormalized);
    EXPECT_LE(worst_tokens, tol.tokens);
    std::printf("[ %s ] max |diff| vs %s: embeddings %.2g, unnormalized %.2g, token states %.2g\n", GetParam().c_str(),
                suffix.empty() ? "plain sets" : "dequant_f32 sets", worst_emb, worst_unnorm, worst_tokens);

    if (quantized && !q8_0) {  // the file's plain sets (llama.cpp with fp16-rounded activations), F16 row
        const Rows plain = rows(ref["embeddings"]);
        double worst = 0;
        for (size_t i = 0; i < inputs.size(); ++i) {
            const std::vector<std::vector<TokenId>> seq = {inputs[i]["ids"].get<std::vector<TokenId>>()};
            auto emb = encoder.embed(seq);
            ASSERT_TRUE(emb.ok());
            worst = std::max(worst, max_abs_diff((*emb)[0], plain[i]));
        }
        EXPECT_LE(worst, kF16File.embeddings);
    }

    // Four sequences of different lengths in ONE pass: positions restart, no attention across sequences.
    const auto& batch = ref["batch_case"];
    std::vector<std::vector<TokenId>> seqs;
    for (const auto& ids : batch["ids"]) seqs.push_back(ids.get<std::vector<TokenId>>());
    auto got = encoder.embed(seqs);
    ASSERT_TRUE(got.ok()) << got.status().message();
    const Rows want_batch = rows(batch["embeddings" + suffix]);
    ASSERT_EQ(got->size(), want_batch.size());
    const auto indices = batch["input_indices"].get<std::vector<int>>();
    for (size_t j = 0; j < want_batch.size(); ++j) {
        EXPECT_LE(max_abs_diff((*got)[j], want_batch[j]), tol.embeddings) << "batch sequence " << j;
        auto single = encoder.embed(std::vector<std::vector<TokenId>>{seqs[j]});
        ASSERT_TRUE(single.ok());
        EXPECT_LE(max_abs_diff((*got)[j], (*single)[0]), 1e-5) << "batch vs single, sequence " << j;
        EXPECT_EQ(seqs[j], inputs[indices[j]]["ids"].get<std::vector<TokenId>>());
    }
}

INSTANTIATE_TEST_SUITE_P(Files, ReferenceEmbeddings,
                         ::testing::Values("bert-tiny-mean-F32", "bert-tiny-mean-F16", "bert-tiny-mean-Q8_0",
                                           "bert-tiny-cls-F16", "bert-tiny-cls-Q8_0"),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& ch : n)
                                 if (ch == '-') ch = '_';
                             return n;
                         });

}  // namespace
}  // namespace duet::model
