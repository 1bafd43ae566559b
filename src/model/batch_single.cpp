// batch_single.cpp: SingleSequence: an identity block table and per-token arrays reused for every batch.
#include "model/batch_single.h"

#include "common/assert.h"

namespace duet::model {

SingleSequence::SingleSequence(int32_t n_positions, int32_t block_size) {
    DUET_ASSERT(n_positions >= 0 && block_size > 0);
    const int32_t n_blocks = (n_positions + block_size - 1) / block_size;
    table_.resize(static_cast<size_t>(n_blocks));
    for (int32_t i = 0; i < n_blocks; ++i) table_[static_cast<size_t>(i)] = i;
    sequence_.block_table = table_;
    positions_.resize(static_cast<size_t>(n_positions));
    seq_index_.assign(static_cast<size_t>(n_positions), 0);
    want_logits_.resize(static_cast<size_t>(n_positions));
}

Batch SingleSequence::batch(std::span<const TokenId> tokens, int32_t start, bool all_logits) {
    const size_t n = tokens.size();
    DUET_ASSERT(start >= 0 && static_cast<size_t>(start) + n <= positions_.size());
    for (size_t i = 0; i < n; ++i) {
        positions_[i] = start + static_cast<int32_t>(i);
        want_logits_[i] = all_logits || i + 1 == n;
    }
    return Batch{tokens, {positions_.data(), n}, {seq_index_.data(), n}, {want_logits_.data(), n}, {&sequence_, 1}};
}

}  // namespace duet::model
