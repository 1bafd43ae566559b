// request.h: one request's scheduler-side state: its tokens, how many have K/V in the cache, and its blocks.
//
// No prefill or decode phase (vLLM v1): a request has `tokens` (prompt + generated so far) and a progress
// counter `num_computed_tokens`. Each step the scheduler hands it n_new tokens to compute; when that reaches
// the end of `tokens`, the model's logits for the last token give the next token, which is appended.
//
//   tokens:  | computed (K/V in blocks) | to compute ... | <- tokens.size()
//            0                 num_computed_tokens
#pragma once

#include <cstdint>
#include <vector>

#include "engine/engine_api.h"
#include "model/batch.h"
#include "model/sampler.h"

namespace duet::engine {

using model::BlockId;

enum class RequestStatus { waiting, running, finished };

struct Request {
    uint64_t id = 0;
    std::vector<TokenId> tokens;  // prompt + generated so far
    int32_t n_prompt_tokens = 0;
    int32_t num_computed_tokens = 0;  // tokens whose K/V are in the cache (hits included)
    int32_t max_tokens = 16;
    model::SamplingParams sampling;
    int32_t n_logprobs = -1;              // -1: none; k >= 0: logprob of each sampled token and the top k
    std::vector<TokenId> stop_token_ids;  // from the request (the codec's EOS/EOT included); empty when ignore_eos
    int32_t min_tokens = 0;               // stop_token_ids cannot be sampled while n_generated() < min_tokens
    bool want_prompt_logprobs = false;    // needs logits of every prompt position: no prefix reuse

    RequestStatus status = RequestStatus::waiting;
    FinishReason finish = FinishReason::none;
    int32_t n_cached_prompt_tokens = -1;  // prefix-cache hit tokens at first admission (-1: not admitted yet)
    int32_t n_preemptions = 0;

    // KV bookkeeping (KvCacheManager): blocks covering positions [0, block_ids.size() * block_size).
    std::vector<BlockId> block_ids;
    std::vector<uint64_t> block_hashes;  // chained hashes of the full blocks of `tokens` (computed lazily)
    int32_t n_registered_blocks = 0;     // leading blocks whose hash is registered in the prefix cache

    int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }
    int32_t n_generated() const { return n_tokens() - n_prompt_tokens; }
};

}  // namespace duet::engine
