// model_runner.cpp: batch assembly from the scheduler's output, the forward pass, per-request sampling.
#include "engine/model_runner.h"

#include <algorithm>
#include <span>

#include "common/assert.h"

namespace duet::engine {

namespace {

TokenLogprob to_engine_logprob(model::TokenLogprobs lp) {
    TokenLogprob out;
    out.token = lp.token;
    out.logprob = lp.logprob;
    out.top = std::move(lp.top);
    return out;
}

}  // namespace

ModelRunner::ModelRunner(const model::Model& model, model::KvCache& kv_cache, int32_t max_batch_tokens,
                         int32_t max_num_seqs, ThreadPool* pool)
    : forward_(model, kv_cache, max_batch_tokens, pool), n_vocab_(model.config().n_vocab) {
    tokens_.reserve(max_batch_tokens);
    positions_.reserve(max_batch_tokens);
    seq_index_.reserve(max_batch_tokens);
    want_logits_.reserve(max_batch_tokens);
    sequences_.reserve(max_num_seqs);
}

ModelRunner::RequestState& ModelRunner::state_for(const Request& request) {
    auto it = states_.find(request.id);
    if (it == states_.end()) it = states_.emplace(request.id, RequestState(request.sampling)).first;
    return it->second;
}

void ModelRunner::remove_request(uint64_t id) { states_.erase(id); }

bool ModelRunner::wants_prompt_logprobs(const Request& request, const RequestState& state) const {
    return request.want_prompt_logprobs && !state.prompt_logprobs_sent;
}

Result<RunnerOutput> ModelRunner::execute(const SchedulerOutput& output) {
    tokens_.clear();
    positions_.clear();
    seq_index_.clear();
    want_logits_.clear();
    sequences_.clear();
    for (size_t i = 0; i < output.scheduled.size(); ++i) {
        const ScheduledRequest& s = output.scheduled[i];
        const Request& request = *s.request;
        const bool prompt_lp = wants_prompt_logprobs(request, state_for(request));
        sequences_.push_back({s.block_table});
        for (int32_t j = 0; j < s.n_new_tokens; ++j) {
            const int32_t pos = s.num_computed_tokens + j;
            const bool last = j == s.n_new_tokens - 1 && s.samples();
            tokens_.push_back(request.tokens[pos]);
            positions_.push_back(pos);
            seq_index_.push_back(static_cast<int32_t>(i));
            want_logits_.push_back(last || (prompt_lp && pos < request.n_prompt_tokens - 1) ? 1 : 0);
        }
    }
    const model::Batch batch{tokens_, positions_, seq_index_, want_logits_, sequences_};
    auto logits = forward_.run(batch);
    if (!logits.ok()) return logits.status().with_context("engine: forward pass: ");

    RunnerOutput result;
    result.outputs.resize(output.scheduled.size());
    size_t row = 0;
    auto next_row = [&]() {
        const auto r = logits->subspan(row * static_cast<size_t>(n_vocab_), static_cast<size_t>(n_vocab_));
        ++row;
        return r;
    };
    for (size_t i = 0; i < output.scheduled.size(); ++i) {
        const ScheduledRequest& s = output.scheduled[i];
        const Request& request = *s.request;
        RequestState& state = state_for(request);
        SampledOutput& out = result.outputs[i];
        const bool prompt_lp = wants_prompt_logprobs(request, state);
        const int32_t k = std::max(0, request.n_logprobs);
        if (prompt_lp && state.prompt_logprobs.empty()) {
            state.prompt_logprobs.push_back({request.tokens[0], 0.0f, {}});
        }
        for (int32_t j = 0; j < s.n_new_tokens; ++j) {
            const int32_t pos = s.num_computed_tokens + j;
            const bool last = j == s.n_new_tokens - 1 && s.samples();
            const bool prompt_row = prompt_lp && pos < request.n_prompt_tokens - 1;
            if (!last && !prompt_row) continue;
            const auto logits_row = next_row();
            // Recomputation after a preemption revisits positions: append each prompt logprob once, in order.
            if (prompt_row && state.prompt_logprobs.size() == static_cast<size_t>(pos) + 1) {
                state.prompt_logprobs.push_back(
                    to_engine_logprob(model::token_logprobs(logits_row, request.tokens[pos + 1], k)));
            }
            if (last) {
                // min_tokens: the stop ids cannot be sampled yet (the logprobs below still see the raw logits).
                std::span<const TokenId> banned;
                if (request.n_generated() < request.min_tokens) banned = request.stop_token_ids;
                out.token = state.sampler.sample(logits_row, request.tokens, banned);
                if (request.n_logprobs >= 0) {
                    out.logprob = to_engine_logprob(model::token_logprobs(logits_row, out.token, k));
                }
            }
        }
        if (prompt_lp && s.num_computed_tokens + s.n_new_tokens >= request.n_prompt_tokens) {
            out.prompt_logprobs = std::move(state.prompt_logprobs);
            state.prompt_logprobs_sent = true;
        }
    }
    DUET_ASSERT(row * static_cast<size_t>(n_vocab_) == logits->size());
    return result;
}

}  // namespace duet::engine
