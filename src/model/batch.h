// batch.h: the plain-data contract between the engine (scheduler/runner) and the model's forward pass.
//
// One forward call processes a mixed batch: tokens of several sequences, each token at its own position.
// K/V of every sequence live in fixed-size blocks of a shared KV cache, addressed through per-sequence
// block tables (a block may be shared by sequences that share a prefix). The forward pass writes the new
// tokens' K/V into their slots, then attends over positions [0, pos] of the token's own sequence.
//
//   token t:  seq = seq_index[t], pos = positions[t]
//   slot  :   block_tables[seq][pos / block_size] * block_size + pos % block_size
//
// Tokens of one sequence appear in increasing position order; every position < pos of that sequence must
// already be in the cache or earlier in this batch.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace duet::model {

using TokenId = int32_t;
using BlockId = int32_t;

struct BatchSequence {
    std::span<const BlockId> block_table;  // (n_blocks,) blocks covering positions [0, n_blocks * block_size)
};

struct Batch {
    std::span<const TokenId> tokens;       // (n_tokens,)
    std::span<const int32_t> positions;    // (n_tokens,) position of each token in its sequence
    std::span<const int32_t> seq_index;    // (n_tokens,) index into sequences
    std::span<const uint8_t> want_logits;  // (n_tokens,) 1 = compute logits for this token
    std::span<const BatchSequence> sequences;
};

}  // namespace duet::model
