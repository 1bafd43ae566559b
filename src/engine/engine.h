// engine.h: the engine for one model: a loop thread running schedule -> execute -> update over a paged KV cache.
//
//   HTTP workers                      engine loop thread (one per model)
//   ------------                      ----------------------------------
//   submit(params) --> inbox -------> drain inbox/aborts
//   abort(id)      --> abort list       scheduler.schedule()            (which requests, how many tokens)
//                                       runner.execute()                (one mixed batch through model::Forward)
//   stream.next()  <-- Delta <------- scheduler.update_from_output()  (append tokens, stop checks, free blocks)
//
// The loop sleeps on a condition variable when there is nothing to do (no busy spin).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "engine/engine_api.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace duet::engine {

struct EngineOptions {
    int32_t n_threads = 2;
    size_t kv_memory_bytes = size_t{256} << 20;  // KV pool size; n_blocks = kv_memory_bytes / bytes_per_block
    int32_t block_size = 16;                     // tokens per KV block
    int32_t max_batch_tokens = 512;              // token budget per step (all requests together)
    int32_t max_num_seqs = 64;                   // running requests at most
    int32_t long_prefill_chunk = 256;            // tokens per request per step at most (chunked prefill)
    int32_t max_queue = 256;                     // waiting requests at most; submit beyond -> queue-full error
    int32_t batch_window_us = 1000;  // idle engine: wait for a burst's other requests until none came for this long
    int32_t context_length = 0;      // 0 = the model's training context (capped by the KV pool)
    model::KvType kv_type = model::KvType::f16;
    bool enable_prefix_caching = true;
};

class Engine : public EngineApi {
public:
    // Builds the KV cache, scheduler and runner; does not start the loop (start() does).
    static Result<std::unique_ptr<Engine>> create(std::shared_ptr<const model::Model> model,
                                                  const EngineOptions& options);
    ~Engine() override;  // stops the loop; pending requests finish with FinishReason::abort

    void start();  // starts the loop thread (idempotent)
    void stop();   // stops and joins it; unfinished requests get a final abort delta

    // Errors: invalid_argument when the request can never fit (prompt + max_tokens over the context or the KV
    // pool, empty prompt, a token id outside the vocabulary); StatusCode::unavailable when the waiting queue is
    // full (see is_queue_full()).
    // Stops: the request's stop_token_ids (the caller passes the model's end-of-generation ids from its
    // TextCodec, the one source of them; the engine adds none); ignore_eos disables them.
    // min_tokens (<= max_tokens, else invalid_argument): none of those stop ids is sampled before then.
    // Prompt logprobs (want_prompt_logprobs): one entry per prompt token, entry i = logprob of token i given
    // tokens < i with n_logprobs alternatives; entry 0 has no context (logprob 0, no alternatives).
    // Such requests compute their whole prompt (no prefix-cache reuse).
    Result<std::unique_ptr<RequestStream>> submit(RequestParams params) override;
    void abort(uint64_t request_id) override;  // frees the request's blocks at the next step
    EngineStats stats() const override;
    // Tokens per request (prompt + completion): the requested context (EngineOptions::context_length, else the
    // model's), but never more than the KV pool holds for one sequence (n_blocks() x block size).
    int32_t context_length() const override;
    int32_t requested_context_length() const;

    // For tests and metrics.
    int32_t n_blocks() const;
    int32_t n_free_blocks() const;   // as of the last step
    uint64_t n_preemptions() const;  // as of the last step
    const EngineOptions& options() const;

    struct Impl;

private:
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Splitting one --kv-memory budget across several models served by one process.
//
// Choice: every model gets the SAME NUMBER OF TOKEN SLOTS, so engine i gets
//   n_blocks = total_bytes / sum_j(bytes_per_block[j]);  bytes_i = n_blocks * bytes_per_block[i]
// i.e. memory proportional to each model's bytes per block (a big model's KV costs more per token). This keeps
// every model able to hold the same context in flight, which is what a router switching between them wants.
std::vector<size_t> split_kv_memory(size_t total_bytes, std::span<const size_t> bytes_per_block);
// Same, from the models (bytes per block from model::KvCache::bytes_per_block(config, block_size, kv_type)).
std::vector<size_t> split_kv_memory(size_t total_bytes, std::span<const model::Model* const> models, int32_t block_size,
                                    model::KvType kv_type);

// The KV budget when none is given: a quarter of the memory available once the weights are resident
// (available - weights), within [kMinDefaultKvMemory, kMaxDefaultKvMemory]; the minimum when nothing is known.
inline constexpr size_t kMinDefaultKvMemory = size_t{256} << 20;
inline constexpr size_t kMaxDefaultKvMemory = size_t{16} << 30;
size_t default_kv_memory(size_t available_bytes, size_t weight_bytes);

}  // namespace duet::engine
