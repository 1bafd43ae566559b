// test_rope_freqs.cpp: Llama-3.1 `rope_freqs.weight` (per-pair frequency divisors) is bound and applied.
#include <gtest/gtest.h>

#include <cstring>

#include "gguf/gguf.h"
#include "model_test_util.h"

namespace duet::model::test {
namespace {

// llama3-tiny-F32 with an added rope_freqs.weight of `n` floats from `factor(i)`.
template <typename F>
std::vector<uint8_t> with_rope_freqs(const gguf::GgufFile& src, int64_t n, F factor) {
    gguf::GgufWriter w;
    w.copy_metadata(src, "");
    for (const auto& t : src.tensors())
        w.add_tensor(std::string(t.name), t.type, std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims),
                     std::vector<uint8_t>(t.data, t.data + t.n_bytes));
    std::vector<float> f(n);
    for (int64_t i = 0; i < n; ++i) f[i] = factor(i);
    std::vector<uint8_t> bytes(n * 4);
    std::memcpy(bytes.data(), f.data(), bytes.size());
    w.add_tensor("rope_freqs.weight", TensorType::F32, {n}, std::move(bytes));
    return w.to_bytes();
}

Rows run_bytes(const std::vector<uint8_t>& bytes, const std::vector<TokenId>& tokens) {
    auto f = gguf::GgufFile::from_bytes(std::span<const uint8_t>(bytes));
    EXPECT_TRUE(f.ok()) << f.status().message();
    LoadOptions o;
    o.progress = false;
    auto m = Model::from_gguf(std::move(f).value(), o);
    EXPECT_TRUE(m.ok()) << m.status().message();
    if (!m.ok()) return {};
    EXPECT_TRUE((*m)->config().has_rope_freqs);
    EXPECT_NE((*m)->rope_freqs(), nullptr);
    KvCache kv((*m)->config(), 4, 16, KvType::f32);
    Forward fwd(**m, kv, 64, nullptr);
    std::vector<int32_t> pos(tokens.size()), seq(tokens.size(), 0);
    std::iota(pos.begin(), pos.end(), 0);
    std::vector<uint8_t> want(tokens.size(), 1);
    const std::vector<BlockId> table = {0, 1};
    BatchSequence s{table};
    auto out = fwd.run(Batch{tokens, pos, seq, want, {&s, 1}});
    EXPECT_TRUE(out.ok());
    Rows rows;
    const int32_t V = (*m)->config().n_vocab;
    for (size_t i = 0; i < tokens.size(); ++i) rows.emplace_back(out->begin() + i * V, out->begin() + (i + 1) * V);
    return rows;
}

TEST(RopeFreqs, OnesChangeNothingOthersDo) {
    DUET_REQUIRE_FIXTURES();
    const std::string path = duet::test::fixture("reference-logits/llama3-tiny-F32.gguf");
    const auto ref =
        nlohmann::json::parse(duet::test::read_file(duet::test::fixture("reference-logits/llama3-tiny-F32.json")));
    const auto tokens = ref["tokens"].get<std::vector<TokenId>>();
    auto src = gguf::GgufFile::open(path);
    ASSERT_TRUE(src.ok());
    const int64_t n_pairs = ref["hparams"]["head_dim"].get<int64_t>() / 2;

    const Rows ones = run_bytes(with_rope_freqs(**src, n_pairs, [](int64_t) { return 1.0f; }), tokens);
    EXPECT_LT(max_abs_diff(ones, json_rows(ref["logits"])), 1e-4);

    // Llama-3.1 style: the low-frequency half of the pairs divided by 8.
    const Rows scaled =
        run_bytes(with_rope_freqs(**src, n_pairs, [&](int64_t i) { return i < n_pairs / 2 ? 1.0f : 8.0f; }), tokens);
    ASSERT_EQ(scaled.size(), ones.size());
    EXPECT_LT(max_abs_diff(scaled[0], ones[0]), 1e-5);  // position 0: no rotation at all
    EXPECT_GT(max_abs_diff(scaled, ones), 1e-3);
}

TEST(RopeFreqs, WrongLengthIsAnError) {
    DUET_REQUIRE_FIXTURES();
    auto src = gguf::GgufFile::open(duet::test::fixture("reference-logits/llama3-tiny-F32.gguf"));
    ASSERT_TRUE(src.ok());
    const auto bytes = with_rope_freqs(**src, 5, [](int64_t) { return 1.0f; });
    auto f = gguf::GgufFile::from_bytes(std::span<const uint8_t>(bytes));
    ASSERT_TRUE(f.ok());
    auto m = Model::from_gguf(std::move(f).value(), LoadOptions{false, false});
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("rope_freqs.weight"), std::string::npos) << m.status().message();
}

}  // namespace
}  // namespace duet::model::test
