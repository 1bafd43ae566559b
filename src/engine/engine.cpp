// engine.cpp: Engine::create, submit/abort from any thread, and the engine loop (schedule -> execute -> update).
#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/assert.h"
#include "common/log.h"
#include "common/timer.h"
#include "engine/model_runner.h"
#include "engine/request_stream.h"
#include "engine/scheduler.h"

namespace duet::engine {

namespace {

constexpr int32_t kDefaultContextLength = 4096;  // when neither the options nor the model give one

Status validate_options(const EngineOptions& o) {
    if (o.n_threads < 1) return Status::invalid_argument("engine: n_threads %d < 1", o.n_threads);
    if (o.block_size < 1 || o.block_size > 1024)
        return Status::invalid_argument("engine: block_size %d outside [1, 1024]", o.block_size);
    if (o.max_batch_tokens < 1) return Status::invalid_argument("engine: max_batch_tokens %d < 1", o.max_batch_tokens);
    if (o.max_num_seqs < 1) return Status::invalid_argument("engine: max_num_seqs %d < 1", o.max_num_seqs);
    if (o.long_prefill_chunk < 1)
        return Status::invalid_argument("engine: long_prefill_chunk %d < 1", o.long_prefill_chunk);
    if (o.max_queue < 1) return Status::invalid_argument("engine: max_queue %d < 1", o.max_queue);
    if (o.context_length < 0) return Status::invalid_argument("engine: context_length %d < 0", o.context_length);
    return Status::ok_status();
}

}  // namespace

struct Engine::Impl {
    std::shared_ptr<const model::Model> model;
    EngineOptions options;
    int32_t context_length = 0;            // min(requested, what the KV pool holds for one sequence)
    int32_t requested_context_length = 0;  // --ctx, else the model's training context
    int32_t n_vocab = 0;

    std::unique_ptr<ThreadPool> pool;
    std::unique_ptr<model::KvCache> kv_cache;
    std::unique_ptr<ModelRunner> runner;
    std::unique_ptr<Scheduler> scheduler;  // engine loop only (and create/stop when the loop is not running)
    std::unordered_map<uint64_t, std::shared_ptr<DeltaChannel>> channels;  // engine loop only

    // Shared between submitters and the loop, under `mutex`.
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<std::pair<std::unique_ptr<Request>, std::shared_ptr<DeltaChannel>>> inbox;
    std::vector<uint64_t> aborts;
    bool stopping = false;
    std::thread thread;
    std::atomic<uint64_t> next_id{1};
    std::atomic<int32_t> n_waiting{0};  // scheduler's waiting queue as of the last step
    std::atomic<int32_t> n_free_blocks{0};
    std::atomic<uint64_t> n_preemptions{0};

    mutable std::mutex stats_mutex;
    EngineStats stats;

    void loop();
    void step();
    void gather_burst(std::unique_lock<std::mutex>& lock);
    void publish(RequestUpdate update, const std::string& error = {});
    void abort_request(uint64_t id, FinishReason reason, const std::string& error = {});
    void admit_inbox_and_aborts(std::vector<std::pair<std::unique_ptr<Request>, std::shared_ptr<DeltaChannel>>>& in,
                                std::vector<uint64_t>& ids);
    void publish_stats();
    void finish_everything();
};

// ---- creation -------------------------------------------------------------------------------------------------

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() { stop(); }

Result<std::unique_ptr<Engine>> Engine::create(std::shared_ptr<const model::Model> model,
                                               const EngineOptions& options) {
    if (!model) return Status::invalid_argument("engine: no model");
    DUET_RETURN_IF_ERROR(model::require_decoder(*model).with_context("engine: "));
    DUET_RETURN_IF_ERROR(validate_options(options));
    const model::ModelConfig& config = model->config();
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->requested_context_length = options.context_length > 0 ? options.context_length
                                     : config.n_ctx_train > 0   ? config.n_ctx_train
                                                                : kDefaultContextLength;
    impl->n_vocab = config.n_vocab;

    const size_t bytes_per_block = model::KvCache::bytes_per_block(config, options.block_size, options.kv_type);
    const size_t n_blocks = bytes_per_block ? options.kv_memory_bytes / bytes_per_block : 0;
    if (n_blocks == 0) {
        return Status::invalid_argument("engine: KV memory %zu bytes is less than one block (%zu bytes of %d tokens)",
                                        options.kv_memory_bytes, bytes_per_block, options.block_size);
    }
    const int32_t n_blocks_i32 = static_cast<int32_t>(std::min<size_t>(n_blocks, INT32_MAX / options.block_size));
    // A request's context is never more than the KV pool holds for one sequence: a longer one could never run
    // (and a default max_tokens of "what the context leaves" would always be refused).
    impl->context_length = std::min(impl->requested_context_length, n_blocks_i32 * options.block_size);

    impl->pool = std::make_unique<ThreadPool>(options.n_threads);
    impl->kv_cache = std::make_unique<model::KvCache>(config, n_blocks_i32, options.block_size, options.kv_type);
    impl->runner = std::make_unique<ModelRunner>(*model, *impl->kv_cache, options.max_batch_tokens,
                                                 options.max_num_seqs, impl->pool.get());
    SchedulerConfig sc;
    sc.n_blocks = n_blocks_i32;
    sc.block_size = options.block_size;
    sc.max_batch_tokens = options.max_batch_tokens;
    sc.max_num_seqs = options.max_num_seqs;
    sc.long_prefill_chunk = options.long_prefill_chunk;
    sc.max_model_len = impl->context_length;
    sc.enable_prefix_caching = options.enable_prefix_caching;
    impl->scheduler = std::make_unique<Scheduler>(sc);
    impl->n_free_blocks = n_blocks_i32;
    impl->model = std::move(model);
    DUET_LOG_DEBUG("engine: %d KV blocks of %d tokens (%zu bytes each), context %d", n_blocks_i32, options.block_size,
                   bytes_per_block, impl->context_length);
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::start() {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->thread.joinable() || impl_->stopping) return;
    impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
}

void Engine::stop() {
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->finish_everything();  // the loop is gone: this thread owns the scheduler now
}

// ---- EngineApi ------------------------------------------------------------------------------------------------

Result<std::unique_ptr<RequestStream>> Engine::submit(RequestParams params) {
    Impl& e = *impl_;
    DUET_RETURN_IF_ERROR(e.scheduler->check_request(params));  // reads only the immutable config
    for (size_t i = 0; i < params.prompt.size(); ++i) {
        if (params.prompt[i] < 0 || params.prompt[i] >= e.n_vocab) {
            return Status::invalid_argument("engine: prompt token %zu is %d, outside the vocabulary [0, %d)", i,
                                            params.prompt[i], e.n_vocab);
        }
    }
    auto request = std::make_unique<Request>();
    request->id = e.next_id.fetch_add(1);
    request->n_prompt_tokens = static_cast<int32_t>(params.prompt.size());
    request->tokens = std::move(params.prompt);
    request->max_tokens = params.max_tokens;
    request->min_tokens = params.min_tokens;
    request->sampling = params.sampling;
    request->n_logprobs = params.n_logprobs;
    request->want_prompt_logprobs = params.want_prompt_logprobs;
    if (!params.ignore_eos) request->stop_token_ids = std::move(params.stop_token_ids);
    auto channel = std::make_shared<DeltaChannel>(request->id, now_seconds());
    {
        std::lock_guard<std::mutex> lock(e.mutex);
        if (e.stopping) return Status::unavailable("engine: stopped");
        const int64_t n_queued = static_cast<int64_t>(e.inbox.size()) + e.n_waiting.load();
        if (n_queued >= e.options.max_queue) {
            return Status::unavailable("engine: queue full (%lld waiting, max_queue %d)",
                                       static_cast<long long>(n_queued), e.options.max_queue);
        }
        e.inbox.emplace_back(std::move(request), channel);
    }
    e.wake.notify_one();
    return std::unique_ptr<RequestStream>(std::make_unique<ChannelStream>(channel));
}

void Engine::abort(uint64_t request_id) {
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        impl_->aborts.push_back(request_id);
    }
    impl_->wake.notify_one();
}

EngineStats Engine::stats() const {
    std::lock_guard<std::mutex> lock(impl_->stats_mutex);
    return impl_->stats;
}

int32_t Engine::context_length() const { return impl_->context_length; }
int32_t Engine::requested_context_length() const { return impl_->requested_context_length; }
int32_t Engine::n_blocks() const { return impl_->scheduler->config().n_blocks; }
int32_t Engine::n_free_blocks() const { return impl_->n_free_blocks.load(); }
const EngineOptions& Engine::options() const { return impl_->options; }
uint64_t Engine::n_preemptions() const { return impl_->n_preemptions.load(); }

// ---- the loop -------------------------------------------------------------------------------------------------

void Engine::Impl::loop() {
    std::vector<std::pair<std::unique_ptr<Request>, std::shared_ptr<DeltaChannel>>> in;
    std::vector<uint64_t> ids;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex);
            wake.wait(lock,
                      [&] { return stopping || !inbox.empty() || !aborts.empty() || scheduler->has_unfinished(); });
            if (stopping) return;
            if (!inbox.empty() && !scheduler->has_unfinished() && options.batch_window_us > 0) gather_burst(lock);
            if (stopping) return;
            in.swap(inbox);
            ids.swap(aborts);
        }
        admit_inbox_and_aborts(in, ids);
        if (scheduler->has_unfinished()) step();
        publish_stats();
    }
}

// The engine was idle and a request arrived: clients often send several at once (a benchmark's streams, an arena's
// pair, an eval's batch), and the first step would otherwise prefill the first alone, then the rest while it decodes,
// and its second token would wait for their whole prefill. Wait until no request has arrived for batch_window_us
// (at most kBurstWindows windows in all) so the burst's prompts share one step. Costs a lone request one window.
void Engine::Impl::gather_burst(std::unique_lock<std::mutex>& lock) {
    constexpr int kBurstWindows = 8;
    const auto window = std::chrono::microseconds(options.batch_window_us);
    const auto deadline = std::chrono::steady_clock::now() + kBurstWindows * window;
    size_t n_seen = inbox.size();
    while (std::chrono::steady_clock::now() < deadline) {
        const auto until = std::min(deadline, std::chrono::steady_clock::now() + window);
        if (!wake.wait_until(lock, until, [&] { return stopping || inbox.size() > n_seen; })) return;  // quiet
        if (stopping) return;
        n_seen = inbox.size();
    }
}

void Engine::Impl::admit_inbox_and_aborts(
    std::vector<std::pair<std::unique_ptr<Request>, std::shared_ptr<DeltaChannel>>>& in, std::vector<uint64_t>& ids) {
    for (auto& [request, channel] : in) {
        channels.emplace(request->id, std::move(channel));
        scheduler->add_request(std::move(request));
    }
    in.clear();
    for (uint64_t id : ids) abort_request(id, FinishReason::abort);
    ids.clear();
    // A reader that dropped its stream is gone: abort its request (frees its blocks now).
    std::vector<uint64_t> gone;
    for (const auto& [id, channel] : channels)
        if (channel->reader_gone()) gone.push_back(id);
    for (uint64_t id : gone) abort_request(id, FinishReason::abort);
}

void Engine::Impl::abort_request(uint64_t id, FinishReason reason, const std::string& error) {
    auto update = scheduler->finish_request(id, reason);
    if (!update) return;  // already finished or unknown
    publish(std::move(*update), error);
}

void Engine::Impl::step() {
    const double now = now_seconds();
    SchedulerOutput out = scheduler->schedule();
    if (out.empty()) {
        // Only after a step that preempted every running request (the next schedule admits again); wait a
        // moment anyway so an unforeseen empty schedule cannot become a busy spin.
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait_for(lock, std::chrono::milliseconds(1));
        return;
    }
    for (const ScheduledRequest& s : out.scheduled) {
        DeltaChannel& channel = *channels.at(s.request->id);
        if (channel.first_scheduled_time < 0) {
            channel.first_scheduled_time = now;
            std::lock_guard<std::mutex> lock(stats_mutex);
            stats.prompt_tokens_total += static_cast<uint64_t>(s.request->n_prompt_tokens);
        }
    }
    auto result = runner->execute(out);
    if (!result.ok()) {
        DUET_LOG_ERROR("%s", result.status().message().c_str());
        std::vector<uint64_t> ids;
        for (const ScheduledRequest& s : out.scheduled) ids.push_back(s.request->id);
        for (uint64_t id : ids) abort_request(id, FinishReason::error, result.status().message());
        scheduler->kv().pool().reset_prefix_cache();  // blocks written in this step hold undefined K/V
        return;
    }
    {
        std::lock_guard<std::mutex> lock(stats_mutex);
        ++stats.steps_total;
    }
    for (RequestUpdate& update : scheduler->update_from_output(out, *result)) publish(std::move(update));
    if (log_level() >= LogLevel::debug) {  // DUET_LOG=debug: one line a step, to see how requests share them
        int32_t n_decoding = 0;
        for (const ScheduledRequest& s : out.scheduled) n_decoding += s.n_new_tokens == 1 ? 1 : 0;
        DUET_LOG_DEBUG("engine: step at %.4f s: %zu requests (%d decoding), %d tokens, %.1f ms", now,
                       out.scheduled.size(), n_decoding, out.n_tokens, (now_seconds() - now) * 1e3);
    }
}

void Engine::Impl::publish(RequestUpdate update, const std::string& error) {
    auto it = channels.find(update.id);
    DUET_ASSERT(it != channels.end());
    DeltaChannel& channel = *it->second;
    const double now = now_seconds();
    Delta delta;
    if (!update.new_tokens.empty() && channel.first_token_time < 0) channel.first_token_time = now;
    {
        std::lock_guard<std::mutex> lock(stats_mutex);
        stats.generation_tokens_total += update.new_tokens.size();
    }
    delta.tokens = std::move(update.new_tokens);
    delta.logprobs = std::move(update.logprobs);
    delta.prompt_logprobs = std::move(update.prompt_logprobs);
    delta.finish = update.finish;
    if (update.finish != FinishReason::none) {
        const double submit = channel.submit_time();
        delta.error = error;
        delta.total_seconds = now - submit;
        delta.queue_seconds = (channel.first_scheduled_time >= 0 ? channel.first_scheduled_time : now) - submit;
        delta.first_token_seconds = channel.first_token_time >= 0 ? channel.first_token_time - submit : 0;
        delta.n_prompt_tokens = update.n_prompt_tokens;
        delta.n_cached_prompt_tokens = update.n_cached_prompt_tokens;
        delta.n_generated_tokens = update.n_generated_tokens;
        runner->remove_request(update.id);
        auto keep = it->second;  // channels.erase() drops the loop's reference; push through our own
        channels.erase(it);
        keep->push(std::move(delta));
        return;
    }
    channel.push(std::move(delta));
}

void Engine::Impl::publish_stats() {
    const KvCacheManager& kv = scheduler->kv();
    n_waiting = scheduler->n_waiting();
    n_free_blocks = kv.pool().n_free_blocks();
    n_preemptions = scheduler->n_preemptions();
    std::lock_guard<std::mutex> lock(stats_mutex);
    stats.n_running = scheduler->n_running();
    stats.n_waiting = scheduler->n_waiting();
    stats.kv_usage = kv.pool().usage();
    stats.prefix_queries = kv.prefix_queries();
    stats.prefix_hits = kv.prefix_hits();
}

void Engine::Impl::finish_everything() {
    std::vector<std::pair<std::unique_ptr<Request>, std::shared_ptr<DeltaChannel>>> in;
    std::vector<uint64_t> ids;
    {
        std::lock_guard<std::mutex> lock(mutex);
        in.swap(inbox);
        aborts.clear();
    }
    admit_inbox_and_aborts(in, ids);
    for (const auto& [id, channel] : channels) ids.push_back(id);
    for (uint64_t id : ids) abort_request(id, FinishReason::abort);
    publish_stats();
}

// ---- KV budget ------------------------------------------------------------------------------------------------

std::vector<size_t> split_kv_memory(size_t total_bytes, std::span<const size_t> bytes_per_block) {
    size_t sum = 0;
    for (size_t b : bytes_per_block) sum += b;
    std::vector<size_t> out(bytes_per_block.size(), 0);
    if (sum == 0) return out;
    const size_t n_blocks = total_bytes / sum;  // the same number of blocks (token slots) for every model
    for (size_t i = 0; i < bytes_per_block.size(); ++i) out[i] = n_blocks * bytes_per_block[i];
    return out;
}

std::vector<size_t> split_kv_memory(size_t total_bytes, std::span<const model::Model* const> models, int32_t block_size,
                                    model::KvType kv_type) {
    std::vector<size_t> per_block;
    for (const model::Model* m : models)
        per_block.push_back(model::KvCache::bytes_per_block(m->config(), block_size, kv_type));
    return split_kv_memory(total_bytes, per_block);
}

size_t default_kv_memory(size_t available_bytes, size_t weight_bytes) {
    if (available_bytes <= weight_bytes) return kMinDefaultKvMemory;
    return std::clamp((available_bytes - weight_bytes) / 4, kMinDefaultKvMemory, kMaxDefaultKvMemory);
}

}  // namespace duet::engine
