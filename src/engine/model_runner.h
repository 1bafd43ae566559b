// model_runner.h: turns a SchedulerOutput into one model::Batch, runs the forward pass, samples per request.
//
//   SchedulerOutput                       model::Batch (one mixed batch, buffers sized once)
//   req A: positions [32, 45)   ----->    tokens     | A32 ... A44 | B7 | C0 ... C99 |
//   req B: position 7 (decode)            seq_index  |  0  ...  0  |  1 |  2 ...  2  |
//   req C: positions [0, 100)             want_logits|  0  ...  1  |  1 |  0 ...  0  |  <- C's prompt not done
//
// Logits are wanted only for a request's last scheduled token when that token is the last known one (its
// prompt completes, or it is a decode token), plus every prompt position of a request that asked for prompt
// logprobs. Sampling state (seeded PRNG) lives here per request, so a preempted request resumes its stream.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/scheduler.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "model/sampler.h"

namespace duet::engine {

class ModelRunner {
public:
    // pool may be null (single thread); it must outlive the runner.
    ModelRunner(const model::Model& model, model::KvCache& kv_cache, int32_t max_batch_tokens, int32_t max_num_seqs,
                ThreadPool* pool);

    // Runs every scheduled request's new tokens as one batch; one SampledOutput per scheduled request.
    // An error (invalid batch) computes nothing.
    Result<RunnerOutput> execute(const SchedulerOutput& output);
    // Drops a finished/aborted request's sampler state.
    void remove_request(uint64_t id);

private:
    struct RequestState {
        explicit RequestState(const model::SamplingParams& params) : sampler(params) {}
        model::Sampler sampler;
        // prompt_logprobs[i]: logprob of prompt token i given tokens < i; entry 0 (no context) is logprob 0.
        std::vector<TokenLogprob> prompt_logprobs;
        bool prompt_logprobs_sent = false;
    };
    RequestState& state_for(const Request& request);
    bool wants_prompt_logprobs(const Request& request, const RequestState& state) const;

    model::Forward forward_;
    int32_t n_vocab_;
    std::unordered_map<uint64_t, RequestState> states_;
    // Batch buffers, reserved once for max_batch_tokens / max_num_seqs.
    std::vector<TokenId> tokens_;                  // (n_tokens,)
    std::vector<int32_t> positions_;               // (n_tokens,)
    std::vector<int32_t> seq_index_;               // (n_tokens,)
    std::vector<uint8_t> want_logits_;             // (n_tokens,)
    std::vector<model::BatchSequence> sequences_;  // (n_seqs,)
};

}  // namespace duet::engine
