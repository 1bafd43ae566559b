// test_batch_single.cpp: SingleSequence builds the Batch the CLI commands used to build by hand.
#include <gtest/gtest.h>

#include "model/batch_single.h"

namespace duet::model {
namespace {

TEST(SingleSequence, IdentityBlockTableCoversThePositions) {
    SingleSequence seq(33, 16);
    EXPECT_EQ(seq.n_blocks(), 3);
    const std::vector<TokenId> tokens = {5, 6};
    const Batch b = seq.batch(tokens, 0);
    ASSERT_EQ(b.sequences.size(), 1u);
    ASSERT_EQ(b.sequences[0].block_table.size(), 3u);
    for (int32_t i = 0; i < 3; ++i) EXPECT_EQ(b.sequences[0].block_table[i], i);
}

TEST(SingleSequence, PositionsStartWhereToldAndOnlyTheLastWantsLogits) {
    SingleSequence seq(64, 16);
    const std::vector<TokenId> tokens = {1, 2, 3, 4};
    const Batch b = seq.batch(tokens, 10);
    ASSERT_EQ(b.tokens.size(), 4u);
    ASSERT_EQ(b.positions.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(b.tokens[i], tokens[i]);
        EXPECT_EQ(b.positions[i], static_cast<int32_t>(10 + i));
        EXPECT_EQ(b.seq_index[i], 0);
        EXPECT_EQ(b.want_logits[i], i == 3 ? 1 : 0);
    }
    const Batch all = seq.batch(tokens, 60, /*all_logits=*/true);
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(all.want_logits[i], 1);
    EXPECT_EQ(all.positions[3], 63);
}

}  // namespace
}  // namespace duet::model
