// scheduler.h: vLLM-v1-style scheduling: each step fills a token budget from running, then waiting requests.
//
// Pure bookkeeping over plain structs (no model): schedule() says which requests compute how many tokens
// with which block tables; update_from_output() appends the sampled tokens and finishes requests.
//
// Per request, the tokens one step covers (allocate_slots() makes the blocks cover them):
//
//   | computed (K/V cached) | prefix hit (admission only) | new: n_new_tokens this step | not yet |
//   0             num_computed_tokens                                                tokens.size()
//
//   n_new_tokens = min(tokens.size() - num_computed_tokens, budget left, long_prefill_chunk)
//
// One rule covers prefill, chunked prefill and decode: a long prompt takes at most long_prefill_chunk tokens a
// step, so decoding requests (1 token each, served first) are never starved. Policy (FCFS):
//   loop 1, running requests, oldest first: allocate; when the pool is out of blocks, preempt the NEWEST
//     running request (free its blocks, num_computed_tokens = 0, back to the FRONT of the waiting queue;
//     its tokens are recomputed later, often from prefix-cache hits) and retry;
//   loop 2, waiting requests, in order, only in a step without preemption: prefix lookup, allocate, admit.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "engine/kv_cache_manager.h"
#include "engine/request.h"

namespace duet::engine {

struct SchedulerConfig {
    int32_t n_blocks = 0;
    int32_t block_size = 16;
    int32_t max_batch_tokens = 512;    // token budget per step
    int32_t max_num_seqs = 64;         // running requests at most
    int32_t long_prefill_chunk = 256;  // tokens per request per step at most
    int32_t max_model_len = 0;         // context length: prompt + generated tokens at most
    bool enable_prefix_caching = true;
};

struct ScheduledRequest {
    Request* request = nullptr;
    int32_t num_computed_tokens = 0;       // start of this step's tokens (hits included)
    int32_t n_new_tokens = 0;              // tokens [num_computed_tokens, + n_new_tokens) computed this step
    std::span<const BlockId> block_table;  // the request's blocks (valid until the next schedule())
    // True when this step reaches the end of the known tokens: the last token's logits give the next one.
    bool samples() const { return num_computed_tokens + n_new_tokens == request->n_tokens(); }
};

struct SchedulerOutput {
    std::vector<ScheduledRequest> scheduled;  // running requests first, then newly admitted ones
    std::vector<uint64_t> preempted;          // ids preempted in this step
    int32_t n_tokens = 0;                     // sum of n_new_tokens
    bool empty() const { return scheduled.empty(); }
};

// What the model runner gives back, parallel to SchedulerOutput::scheduled.
struct SampledOutput {
    TokenId token = -1;                         // -1 when the step did not reach the end of the tokens
    std::optional<TokenLogprob> logprob;        // when n_logprobs >= 0
    std::vector<TokenLogprob> prompt_logprobs;  // once, in the step that completes the prompt, when asked
};
struct RunnerOutput {
    std::vector<SampledOutput> outputs;
};

// What changed for one request in one step (the engine turns it into a Delta).
struct RequestUpdate {
    uint64_t id = 0;
    std::vector<TokenId> new_tokens;
    std::vector<TokenLogprob> logprobs;
    std::vector<TokenLogprob> prompt_logprobs;
    FinishReason finish = FinishReason::none;
    int32_t n_prompt_tokens = 0, n_cached_prompt_tokens = 0, n_generated_tokens = 0;
};

class Scheduler {
public:
    explicit Scheduler(const SchedulerConfig& config);

    // Submit-time checks: a request that can never run (empty prompt, prompt + max_tokens over the context or
    // over the whole KV pool, negative max_tokens) is rejected instead of waiting forever.
    Status check_request(const RequestParams& params) const;
    // Queues a request (status waiting). Precondition: check_request() passed and the id is new.
    void add_request(std::unique_ptr<Request> request);
    // Finishes a request now (abort, error), freeing its blocks. Returns its final update; nullopt if unknown.
    std::optional<RequestUpdate> finish_request(uint64_t id, FinishReason reason);

    SchedulerOutput schedule();
    // Advances num_computed_tokens, appends sampled tokens, checks stops (stop ids, max_tokens, context end),
    // frees finished requests. Returns one update per request that produced something or finished.
    std::vector<RequestUpdate> update_from_output(const SchedulerOutput& output, const RunnerOutput& runner_output);

    bool has_unfinished() const { return !running_.empty() || !waiting_.empty(); }
    int32_t n_running() const { return static_cast<int32_t>(running_.size()); }
    int32_t n_waiting() const { return static_cast<int32_t>(waiting_.size()); }
    uint64_t n_preemptions() const { return n_preemptions_; }  // since construction
    const Request* find(uint64_t id) const;
    const SchedulerConfig& config() const { return config_; }
    KvCacheManager& kv() { return kv_; }
    const KvCacheManager& kv() const { return kv_; }

private:
    // Policies, one rule each.
    int32_t n_new_tokens(const Request& request, int32_t num_computed_tokens, int32_t budget) const;
    bool can_admit(int32_t budget) const;
    void preempt(Request& request);
    FinishReason stop_reason(const Request& request) const;

    bool schedule_running(Request& request, int32_t& budget, SchedulerOutput& out);
    bool schedule_waiting(Request& request, int32_t& budget, SchedulerOutput& out);
    RequestUpdate finish(Request& request, FinishReason reason);

    SchedulerConfig config_;
    KvCacheManager kv_;
    std::unordered_map<uint64_t, std::unique_ptr<Request>> requests_;
    std::deque<Request*> waiting_;
    std::vector<Request*> running_;  // admission order: oldest first
    uint64_t n_preemptions_ = 0;
};

}  // namespace duet::engine
