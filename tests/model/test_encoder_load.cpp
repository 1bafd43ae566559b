// test_encoder_load.cpp: an encoder file whose vocabulary or shapes are wrong is refused at load with one error
// line naming the problem; the fixture itself loads. Files are the reference-embeddings model, rewritten in memory.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/encoder.h"
#include "model/model.h"
#include "support/fixtures.h"

namespace duet::model {
namespace {

// The fixture with its metadata edited by `edit_meta` and tensors passed through `edit_tensor` (which may change
// a tensor's shape by returning false to drop it, or by editing `ne` and `bytes`).
using TensorEdit = std::function<bool(const std::string& name, std::vector<int64_t>& ne, std::vector<uint8_t>& bytes)>;
Result<std::unique_ptr<Model>> load_edited(const std::function<void(gguf::GgufWriter&)>& edit_meta,
                                           const TensorEdit& edit_tensor) {
    auto f = gguf::GgufFile::open(test::fixture("reference-embeddings/bert-tiny-mean-F32.gguf"));
    EXPECT_TRUE(f.ok());
    gguf::GgufWriter w;
    w.copy_metadata(**f, "");
    edit_meta(w);
    for (const auto& t : (*f)->tensors()) {
        std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
        std::vector<uint8_t> bytes(t.data, t.data + t.n_bytes);
        const std::string name(t.name);
        if (edit_tensor && !edit_tensor(name, ne, bytes)) continue;
        w.add_tensor(name, t.type, ne, std::move(bytes));
    }
    auto edited = gguf::GgufFile::from_bytes(w.to_bytes());
    if (!edited.ok()) return edited.status();
    LoadOptions o;
    o.progress = false;
    o.prefetch = false;
    return Model::from_gguf(std::move(edited).value(), o);
}

void expect_one_line_error(const Result<std::unique_ptr<Model>>& m, const std::string& needle) {
    ASSERT_FALSE(m.ok());
    const std::string msg = m.status().message();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
}

TEST(EncoderLoad, FixtureLoadsAsAnEncoder) {
    DUET_REQUIRE_FIXTURES();
    auto m = load_edited([](gguf::GgufWriter&) {}, nullptr);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ((*m)->config().family, Family::encoder);
    EXPECT_EQ((*m)->config().pooling, Pooling::mean);
}

TEST(EncoderLoad, VocabularyOfTheWrongSizeIsRefused) {
    DUET_REQUIRE_FIXTURES();
    auto m = load_edited(
        [](gguf::GgufWriter& w) {
            std::vector<std::string> tokens;
            for (int i = 0; i < 1000; ++i) tokens.push_back("t" + std::to_string(i));
            w.set_array_string("tokenizer.ggml.tokens", tokens);
        },
        nullptr);
    expect_one_line_error(m, "vocabulary has 1000 tokens but token_embd.weight has 30522 rows");
}

TEST(EncoderLoad, NonWordPieceVocabularyIsRefused) {
    DUET_REQUIRE_FIXTURES();
    auto m = load_edited([](gguf::GgufWriter& w) { w.set_string("tokenizer.ggml.model", "gpt2"); }, nullptr);
    expect_one_line_error(m, "tokenizer.ggml.model is 'gpt2'");
}

TEST(EncoderLoad, WrongShapeIsRefused) {
    DUET_REQUIRE_FIXTURES();
    auto m = load_edited([](gguf::GgufWriter&) {},
                         [](const std::string& name, std::vector<int64_t>& ne, std::vector<uint8_t>& bytes) {
                             if (name == "blk.1.ffn_up.weight") {  // [64, 256] -> [64, 255]
                                 ne[1] -= 1;
                                 bytes.resize(bytes.size() - 64 * 4);
                             }
                             return true;
                         });
    expect_one_line_error(m, "'blk.1.ffn_up.weight': shape [64, 255] (2 dims), expected [64, 256]");
}

TEST(EncoderLoad, MissingTensorIsRefused) {
    DUET_REQUIRE_FIXTURES();
    auto m = load_edited([](gguf::GgufWriter&) {},
                         [](const std::string& name, std::vector<int64_t>&, std::vector<uint8_t>&) {
                             return name != "blk.0.attn_output_norm.bias";
                         });
    expect_one_line_error(m, "'blk.0.attn_output_norm.bias': missing");
}

TEST(EncoderLoad, EncoderRejectsBadSequences) {
    DUET_REQUIRE_FIXTURES();
    auto m = load_edited([](gguf::GgufWriter&) {}, nullptr);
    ASSERT_TRUE(m.ok());
    Encoder enc(**m, 64, nullptr);
    using Seqs = std::vector<std::vector<TokenId>>;
    EXPECT_FALSE(enc.embed(Seqs{}).ok());
    EXPECT_FALSE(enc.embed(Seqs{{}}).ok());
    EXPECT_FALSE(enc.embed(Seqs{{101, 30522}}).ok());                   // id out of range
    EXPECT_FALSE(enc.embed(Seqs{std::vector<TokenId>(65, 101)}).ok());  // over max_batch_tokens
    // more tokens than one pass holds: split into passes, same vectors as one at a time
    Seqs many(5, std::vector<TokenId>(20, 0));
    for (size_t i = 0; i < many.size(); ++i)
        for (size_t j = 0; j < many[i].size(); ++j) many[i][j] = static_cast<TokenId>(1000 + 37 * i + j);
    auto all = enc.embed(many);
    ASSERT_TRUE(all.ok()) << all.status().message();
    for (size_t i = 0; i < many.size(); ++i) {
        auto one = enc.embed(Seqs{many[i]});
        ASSERT_TRUE(one.ok());
        ASSERT_EQ((*all)[i].size(), (*one)[0].size());
        for (size_t k = 0; k < (*one)[0].size(); ++k) EXPECT_NEAR((*all)[i][k], (*one)[0][k], 1e-6) << i;
    }
}

}  // namespace
}  // namespace duet::model
