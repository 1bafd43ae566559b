// scheduler.cpp: the two scheduling loops (running, then waiting), preemption by recompute, stop checks.
#include "engine/scheduler.h"

#include <algorithm>

#include "common/assert.h"

namespace duet::engine {

Scheduler::Scheduler(const SchedulerConfig& config)
    : config_(config), kv_(config.n_blocks, config.block_size, config.enable_prefix_caching) {
    DUET_ASSERT(config.max_batch_tokens > 0 && config.max_num_seqs > 0 && config.long_prefill_chunk > 0);
    DUET_ASSERT(config.max_model_len > 0);
}

Status Scheduler::check_request(const RequestParams& params) const {
    const int64_t n_prompt = static_cast<int64_t>(params.prompt.size());
    if (n_prompt == 0) return Status::invalid_argument("engine: empty prompt");
    if (params.max_tokens < 0) return Status::invalid_argument("engine: max_tokens %d < 0", params.max_tokens);
    if (params.min_tokens < 0 || params.min_tokens > params.max_tokens)
        return Status::invalid_argument("engine: min_tokens %d outside [0, max_tokens %d]", params.min_tokens,
                                        params.max_tokens);
    const int64_t n_total = n_prompt + params.max_tokens;
    if (n_total > config_.max_model_len) {
        return Status::invalid_argument(
            "engine: prompt (%lld tokens) + max_tokens (%d) = %lld exceeds the context length %d",
            static_cast<long long>(n_prompt), params.max_tokens, static_cast<long long>(n_total),
            config_.max_model_len);
    }
    const int64_t n_blocks = (n_total + config_.block_size - 1) / config_.block_size;
    if (n_blocks > config_.n_blocks) {
        return Status::invalid_argument(
            "engine: prompt + max_tokens = %lld tokens needs %lld KV blocks, the pool has %d (%d tokens); "
            "raise --kv-memory or lower max_tokens",
            static_cast<long long>(n_total), static_cast<long long>(n_blocks), config_.n_blocks,
            config_.n_blocks * config_.block_size);
    }
    return Status::ok_status();
}

void Scheduler::add_request(std::unique_ptr<Request> request) {
    Request* r = request.get();
    r->status = RequestStatus::waiting;
    r->block_ids.reserve(kv_.n_blocks_for_tokens(r->n_prompt_tokens + r->max_tokens));
    r->tokens.reserve(static_cast<size_t>(r->n_prompt_tokens) + r->max_tokens);
    const bool inserted = requests_.emplace(r->id, std::move(request)).second;
    DUET_ASSERT(inserted);
    waiting_.push_back(r);
}

const Request* Scheduler::find(uint64_t id) const {
    auto it = requests_.find(id);
    return it == requests_.end() ? nullptr : it->second.get();
}

// ---- policies ---------------------------------------------------------------------------------------------

int32_t Scheduler::n_new_tokens(const Request& request, int32_t num_computed_tokens, int32_t budget) const {
    return std::min({request.n_tokens() - num_computed_tokens, budget, config_.long_prefill_chunk});
}

bool Scheduler::can_admit(int32_t budget) const {
    return budget > 0 && static_cast<int32_t>(running_.size()) < config_.max_num_seqs;
}

void Scheduler::preempt(Request& request) {
    kv_.free(request);
    request.num_computed_tokens = 0;
    request.status = RequestStatus::waiting;
    ++request.n_preemptions;
    ++n_preemptions_;
    waiting_.push_front(&request);
}

FinishReason Scheduler::stop_reason(const Request& request) const {
    if (request.n_generated() > 0) {
        const TokenId last = request.tokens.back();
        const auto& stops = request.stop_token_ids;
        if (std::find(stops.begin(), stops.end(), last) != stops.end()) return FinishReason::stop;
    }
    if (request.n_generated() >= request.max_tokens) return FinishReason::length;
    if (request.n_tokens() >= config_.max_model_len) return FinishReason::length;
    return FinishReason::none;
}

// ---- schedule -----------------------------------------------------------------------------------------------

// Returns false when `request` itself had to be preempted (nothing after it can run either).
bool Scheduler::schedule_running(Request& request, int32_t& budget, SchedulerOutput& out) {
    const int32_t n_new = n_new_tokens(request, request.num_computed_tokens, budget);
    if (n_new <= 0) return true;
    while (!kv_.allocate_slots(request, n_new)) {
        Request* victim = running_.back();  // FCFS: the newest running request goes first
        running_.pop_back();
        preempt(*victim);
        out.preempted.push_back(victim->id);
        if (victim == &request) return false;
    }
    out.scheduled.push_back({&request, request.num_computed_tokens, n_new, {}});
    budget -= n_new;
    return true;
}

// Returns false when the request does not fit now (it stays first in line).
bool Scheduler::schedule_waiting(Request& request, int32_t& budget, SchedulerOutput& out) {
    const ComputedBlocks hit = kv_.get_computed_blocks(request);
    const int32_t n_new = n_new_tokens(request, hit.n_tokens, budget);
    if (!kv_.allocate_slots(request, n_new, hit.blocks)) return false;
    request.num_computed_tokens = hit.n_tokens;
    if (kv_.prefix_caching() && !request.want_prompt_logprobs) kv_.record_lookup(request.n_tokens(), hit.n_tokens);
    if (request.n_cached_prompt_tokens < 0) {
        request.n_cached_prompt_tokens = std::min(hit.n_tokens, request.n_prompt_tokens);
    }
    request.status = RequestStatus::running;
    waiting_.pop_front();
    running_.push_back(&request);
    out.scheduled.push_back({&request, request.num_computed_tokens, n_new, {}});
    budget -= n_new;
    return true;
}

SchedulerOutput Scheduler::schedule() {
    SchedulerOutput out;
    int32_t budget = config_.max_batch_tokens;
    for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
        if (!schedule_running(*running_[i], budget, out)) break;
    }
    if (out.preempted.empty()) {
        while (!waiting_.empty() && can_admit(budget)) {
            if (!schedule_waiting(*waiting_.front(), budget, out)) break;
        }
    }
    for (auto& s : out.scheduled) {
        s.block_table = s.request->block_ids;
        out.n_tokens += s.n_new_tokens;
    }
    return out;
}

// ---- update -------------------------------------------------------------------------------------------------

RequestUpdate Scheduler::finish(Request& request, FinishReason reason) {
    RequestUpdate update;
    update.id = request.id;
    update.finish = reason;
    update.n_prompt_tokens = request.n_prompt_tokens;
    update.n_cached_prompt_tokens = std::max(0, request.n_cached_prompt_tokens);
    update.n_generated_tokens = request.n_generated();
    kv_.free(request);
    request.status = RequestStatus::finished;
    request.finish = reason;
    std::erase(running_, &request);
    std::erase(waiting_, &request);
    return update;
}

std::optional<RequestUpdate> Scheduler::finish_request(uint64_t id, FinishReason reason) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return std::nullopt;
    RequestUpdate update = finish(*it->second, reason);
    requests_.erase(it);
    return update;
}

std::vector<RequestUpdate> Scheduler::update_from_output(const SchedulerOutput& output,
                                                         const RunnerOutput& runner_output) {
    DUET_ASSERT(runner_output.outputs.size() == output.scheduled.size());
    std::vector<RequestUpdate> updates;
    std::vector<uint64_t> finished;
    for (size_t i = 0; i < output.scheduled.size(); ++i) {
        const ScheduledRequest& s = output.scheduled[i];
        const SampledOutput& sampled = runner_output.outputs[i];
        Request& request = *s.request;
        const bool samples = s.samples();
        request.num_computed_tokens = s.num_computed_tokens + s.n_new_tokens;

        RequestUpdate update;
        update.id = request.id;
        update.prompt_logprobs = sampled.prompt_logprobs;
        if (samples && sampled.token >= 0 && request.n_generated() < request.max_tokens) {
            request.tokens.push_back(sampled.token);
            update.new_tokens.push_back(sampled.token);
            if (sampled.logprob) update.logprobs.push_back(*sampled.logprob);
        }
        const FinishReason reason = samples ? stop_reason(request) : FinishReason::none;
        if (reason != FinishReason::none) {
            RequestUpdate final_update = finish(request, reason);
            update.finish = final_update.finish;
            update.n_prompt_tokens = final_update.n_prompt_tokens;
            update.n_cached_prompt_tokens = final_update.n_cached_prompt_tokens;
            update.n_generated_tokens = final_update.n_generated_tokens;
            finished.push_back(request.id);
        }
        if (!update.new_tokens.empty() || !update.prompt_logprobs.empty() || update.finish != FinishReason::none) {
            updates.push_back(std::move(update));
        }
    }
    for (uint64_t id : finished) requests_.erase(id);
    return updates;
}

}  // namespace duet::engine
