// test_batch.cpp: a sequence computed alone equals the same sequence inside a mixed batch (different lengths,
// block boundaries crossed, a shared prefix block computed once); batch validation errors; F16 vs F32 KV.
#include <gtest/gtest.h>

#include "model_test_util.h"

namespace duet::model::test {
namespace {

std::string model_path() { return duet::test::fixture("reference-logits/qwen2-tiny-F32.gguf"); }

std::vector<TokenId> make_tokens(int n, int salt) {
    std::vector<TokenId> t;
    for (int i = 0; i < n; ++i) t.push_back(static_cast<TokenId>((i * 37 + salt * 101 + 11) % 500));
    return t;
}

Rows slice_rows(std::span<const float> logits, int32_t n_vocab, size_t begin, size_t count) {
    Rows rows;
    for (size_t i = begin; i < begin + count; ++i)
        rows.emplace_back(logits.begin() + i * n_vocab, logits.begin() + (i + 1) * n_vocab);
    return rows;
}

TEST(MixedBatch, EqualsSequencesAlone) {
    DUET_REQUIRE_FIXTURES();
    // X and Y share their first 8 tokens (two blocks of 4); Z is unrelated.
    const std::vector<TokenId> x = make_tokens(23, 1);
    std::vector<TokenId> y(x.begin(), x.begin() + 8);
    for (TokenId t : make_tokens(9, 2)) y.push_back(t);
    const std::vector<TokenId> z = make_tokens(6, 3);

    auto alone = Runner::open(model_path(), KvType::f32, 64, 4);
    ASSERT_TRUE(alone);
    const Rows x_alone = alone->run(x, 0, alone->new_table(23));
    const Rows y_alone = alone->run(y, 0, alone->new_table(17));
    const Rows z_alone = alone->run(z, 0, alone->new_table(6));

    auto mixed = Runner::open(model_path(), KvType::f32, 64, 4);
    ASSERT_TRUE(mixed);
    const int32_t V = mixed->n_vocab();
    const std::vector<BlockId> x_table = {0, 1, 2, 3, 4, 5};
    const std::vector<BlockId> y_table = {0, 1, 6, 7, 8};  // shares blocks 0 and 1 (the 8-token prefix)
    const std::vector<BlockId> z_table = {9, 10};
    const BatchSequence seqs[3] = {{x_table}, {y_table}, {z_table}};

    // Step 1: the shared prefix (once, as X) and Z's first 5 tokens.
    {
        std::vector<TokenId> tok;
        std::vector<int32_t> pos, seq;
        for (int i = 0; i < 8; ++i) {
            tok.push_back(x[i]);
            pos.push_back(i);
            seq.push_back(0);
        }
        for (int i = 0; i < 5; ++i) {
            tok.push_back(z[i]);
            pos.push_back(i);
            seq.push_back(2);
        }
        std::vector<uint8_t> want(tok.size(), 1);
        auto out = mixed->forward->run(Batch{tok, pos, seq, want, seqs});
        ASSERT_TRUE(out.ok()) << out.status().message();
        EXPECT_LT(max_abs_diff(slice_rows(*out, V, 0, 8), Rows(x_alone.begin(), x_alone.begin() + 8)), 1e-5);
        EXPECT_LT(max_abs_diff(slice_rows(*out, V, 8, 5), Rows(z_alone.begin(), z_alone.begin() + 5)), 1e-5);
    }
    // Step 2, one mixed batch: Z decodes one token, X continues 8..22, Y continues 8..16 on the shared prefix;
    // interleaved order, logits only for some tokens.
    {
        std::vector<TokenId> tok;
        std::vector<int32_t> pos, seq;
        std::vector<uint8_t> want;
        tok.push_back(z[5]);
        pos.push_back(5);
        seq.push_back(2);
        want.push_back(1);
        for (int i = 8; i < 23; ++i) {
            tok.push_back(x[i]);
            pos.push_back(i);
            seq.push_back(0);
            want.push_back(1);
            if (i < 17) {
                tok.push_back(y[i]);
                pos.push_back(i);
                seq.push_back(1);
                want.push_back(i % 2);
            }
        }
        auto out = mixed->forward->run(Batch{tok, pos, seq, want, seqs});
        ASSERT_TRUE(out.ok()) << out.status().message();
        size_t row = 0;
        double worst = 0;
        for (size_t t = 0; t < tok.size(); ++t) {
            if (!want[t]) continue;
            const Rows& ref = seq[t] == 0 ? x_alone : seq[t] == 1 ? y_alone : z_alone;
            worst = std::max(worst, max_abs_diff(slice_rows(*out, V, row++, 1)[0], ref[pos[t]]));
        }
        EXPECT_EQ(row * V, out->size());
        EXPECT_LT(worst, 1e-5);
    }
}

TEST(MixedBatch, F16CacheIsCloseToF32) {
    DUET_REQUIRE_FIXTURES();
    const std::vector<TokenId> x = make_tokens(20, 4);
    auto a = Runner::open(model_path(), KvType::f32);
    auto b = Runner::open(model_path(), KvType::f16);
    ASSERT_TRUE(a && b);
    const Rows ra = a->run(x, 0, a->new_table(20));
    const Rows rb = b->run(x, 0, b->new_table(20));
    const double d = max_abs_diff(ra, rb);
    EXPECT_LT(d, 1e-2);
}

TEST(MixedBatch, RejectsBadBatches) {
    DUET_REQUIRE_FIXTURES();
    auto r = Runner::open(model_path(), KvType::f32, 8, 16, 4);
    ASSERT_TRUE(r);
    const std::vector<BlockId> table = {0, 1};
    const BatchSequence seqs[1] = {{table}};
    auto run = [&](std::vector<TokenId> tok, std::vector<int32_t> pos, std::vector<int32_t> seq) {
        std::vector<uint8_t> want(tok.size(), 1);
        return r->forward->run(Batch{tok, pos, seq, want, seqs}).status();
    };
    EXPECT_TRUE(run({1, 2}, {0, 1}, {0, 0}).ok());
    EXPECT_FALSE(run({}, {}, {}).ok());                                         // empty
    EXPECT_FALSE(run({1, 2, 3, 4, 5}, {0, 1, 2, 3, 4}, {0, 0, 0, 0, 0}).ok());  // over max_batch_tokens
    EXPECT_FALSE(run({512}, {0}, {0}).ok());                                    // token id >= n_vocab
    EXPECT_FALSE(run({-1}, {0}, {0}).ok());
    EXPECT_FALSE(run({1}, {0}, {1}).ok());   // no sequence 1
    EXPECT_FALSE(run({1}, {32}, {0}).ok());  // position beyond the block table
    EXPECT_FALSE(run({1}, {-1}, {0}).ok());
    EXPECT_FALSE(run({1, 2}, {3, 3}, {0, 0}).ok());  // positions not increasing
    std::vector<TokenId> tok = {1};
    std::vector<int32_t> pos = {0}, seq = {0};
    std::vector<uint8_t> want = {1, 1};
    EXPECT_FALSE(r->forward->run(Batch{tok, pos, seq, want, seqs}).ok());  // span sizes differ
    const std::vector<BlockId> bad = {0, 8};
    const BatchSequence bad_seqs[1] = {{bad}};
    std::vector<int32_t> pos20 = {20};
    std::vector<uint8_t> want1 = {1};
    auto s = r->forward->run(Batch{tok, pos20, seq, want1, bad_seqs}).status();
    EXPECT_FALSE(s.ok());  // block id 8 >= n_blocks
    EXPECT_NE(s.message().find("block_table"), std::string::npos) << s.message();
}

TEST(MixedBatch, NoLogitsWantedGivesEmptySpanButFillsCache) {
    DUET_REQUIRE_FIXTURES();
    auto r = Runner::open(model_path(), KvType::f32);
    ASSERT_TRUE(r);
    const std::vector<TokenId> x = make_tokens(10, 5);
    auto table = r->new_table(10);
    const BatchSequence seqs[1] = {{table}};
    std::vector<int32_t> pos = {0, 1, 2, 3, 4, 5, 6, 7, 8}, seq(9, 0);
    std::vector<uint8_t> want(9, 0);
    auto out = r->forward->run(Batch{{x.data(), 9}, pos, seq, want, seqs});
    ASSERT_TRUE(out.ok());
    EXPECT_TRUE(out->empty());
    const Rows last = r->run({x[9]}, 9, table);
    auto fresh = Runner::open(model_path(), KvType::f32);
    const Rows all = fresh->run(x, 0, fresh->new_table(10));
    EXPECT_LT(max_abs_diff(last[0], all[9]), 1e-5);
}

}  // namespace
}  // namespace duet::model::test
