// sampler.h: next-token sampling (penalties, temperature, top-k, top-p, min-p) with a seeded PRNG, and logprobs.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "model/batch.h"

namespace duet::model {

// The one set of sampling settings: built at an edge, carried unchanged through the engine (RequestParams ->
// Request) to the sampler. The defaults here change nothing (the model's own distribution); each edge sets its
// own in one place: the API's (OpenAI's: temperature 1, top-p 1, no top-k, no min-p) in openai/types.h
// (GenerationOptions, converted in server/request_flow.cpp), the CLI's (llama.cpp's: temperature 0.8, top-k 40,
// top-p 0.95, min-p 0.05) in app/model_args.cpp (cli_sampling_params).
struct SamplingParams {
    float temperature = 1.0f;         // <= 0: greedy (argmax, lowest id on ties)
    int32_t top_k = 0;                // <= 0: off
    float top_p = 1.0f;               // >= 1: off
    float min_p = 0.0f;               // <= 0: off; keep tokens with p >= min_p * p_max
    float repetition_penalty = 1.0f;  // 1: off; logit > 0 ? logit / rp : logit * rp, for tokens in the history
    float presence_penalty = 0.0f;    // logit -= presence for tokens in the history
    float frequency_penalty = 0.0f;   // logit -= frequency * count in the history
    int32_t penalty_last_n = 64;      // penalties look at the last n history tokens; < 0: all of them
    uint64_t seed = 0;
    bool has_seed = false;  // false: seeded from std::random_device
};

// xoshiro256** seeded through splitmix64: reproducible across platforms.
class Rng {
public:
    explicit Rng(uint64_t seed);
    uint64_t next();
    double uniform();  // [0, 1), 53 bits
private:
    uint64_t s_[4];
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);

    // Chooses the next token from logits (n_vocab,). history: the sequence's previous tokens (prompt and
    // generated), used by the penalties. banned: ids treated as logit -inf (never chosen while any other id is
    // left; ids outside the vocabulary are ignored), e.g. stop ids before min_tokens. Order: penalties and bans ->
    // greedy if temperature <= 0, else temperature -> top-k -> top-p -> min-p -> draw. The logits are copied
    // only when there are penalties or bans. Allocates only on the first call (buffers of n_vocab).
    TokenId sample(std::span<const float> logits, std::span<const TokenId> history,
                   std::span<const TokenId> banned = {});

    const SamplingParams& params() const { return params_; }

private:
    struct Candidate {
        float logit;
        TokenId id;
    };
    SamplingParams params_;
    Rng rng_;
    std::vector<Candidate> candidates_;
    std::vector<float> penalized_;
};

// Index of the largest logit (lowest index on ties).
TokenId argmax(std::span<const float> logits);

// out (n,) = log_softmax(logits (n,)), computed stably (max subtracted). out may alias logits.
void log_softmax(std::span<const float> logits, std::span<float> out);

// logprob of `token` and the k most likely tokens (descending) under softmax(logits).
struct TokenLogprobs {
    TokenId token = 0;
    float logprob = 0.0f;
    std::vector<std::pair<TokenId, float>> top;
};
TokenLogprobs token_logprobs(std::span<const float> logits, TokenId token, int32_t k);

}  // namespace duet::model
