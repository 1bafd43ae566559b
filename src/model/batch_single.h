// batch_single.h: one sequence as a model::Batch: the block table (blocks 0, 1, 2 ... in order) and the per-token
// arrays that generate, bench, logits --tokens and bench_model would otherwise each build by hand.
//
//   SingleSequence seq(n_positions, block_size);            // table covers positions [0, n_blocks * block_size)
//   KvCache kv(config, seq.n_blocks(), block_size, type);
//   forward.run(seq.batch(tokens, start));                   // tokens at [start, start + n), logits of the last
//
// The returned Batch points into this object: valid until the next batch() call. Buffers are sized once for
// n_positions tokens, so batch() does not allocate.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/batch.h"

namespace duet::model {

class SingleSequence {
public:
    SingleSequence(int32_t n_positions, int32_t block_size);
    SingleSequence(const SingleSequence&) = delete;  // the Batch spans point into the members
    SingleSequence& operator=(const SingleSequence&) = delete;

    int32_t n_blocks() const { return static_cast<int32_t>(table_.size()); }
    // tokens.size() tokens at positions [start, start + tokens.size()) (within n_positions); logits for the last
    // token only, or for every token when all_logits.
    Batch batch(std::span<const TokenId> tokens, int32_t start, bool all_logits = false);

private:
    std::vector<BlockId> table_;
    BatchSequence sequence_;
    std::vector<int32_t> positions_, seq_index_;
    std::vector<uint8_t> want_logits_;
};

}  // namespace duet::model
