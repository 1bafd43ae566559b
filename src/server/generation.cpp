// generation.cpp: ChoiceStream: engine deltas -> shown text, reasoning split, stop strings, logprobs, timings.
#include "server/generation.h"

#include "common/timer.h"

namespace duet::server {

ChoiceStream::ChoiceStream(const ModelBackend& backend, std::unique_ptr<engine::RequestStream> stream, Options options)
    : backend_(backend), stream_(std::move(stream)), options_(std::move(options)) {
    id_ = stream_->id();
    decoder_ = backend_.codec->make_decoder(options_.stop);
    if (options_.split_reasoning) splitter_ = backend_.codec->make_reasoning_splitter(options_.prompt);
    for (TokenId id : backend_.codec->stop_token_ids()) stop_ids_.insert(id);
}

ChoiceStream::~ChoiceStream() {
    if (!finished_) backend_.engine->abort(id_);
}

void ChoiceStream::abort() {
    if (finished_) return;
    backend_.engine->abort(id_);
    finished_ = true;
    finish_ = engine::FinishReason::abort;
}

const char* ChoiceStream::finish_reason() const {
    switch (finish_) {
        case engine::FinishReason::stop:
            return "stop";
        case engine::FinishReason::length:
            return "length";
        case engine::FinishReason::error:
            return "error";
        case engine::FinishReason::abort:
        case engine::FinishReason::none:
            break;
    }
    return "abort";
}

LogprobItem ChoiceStream::to_item(const engine::TokenLogprob& lp) const {
    LogprobItem item;
    item.token = backend_.codec->token_piece(lp.token);
    item.logprob = lp.logprob;
    item.top.reserve(lp.top.size());
    for (const auto& [id, logprob] : lp.top) item.top.emplace_back(backend_.codec->token_piece(id), logprob);
    return item;
}

bool ChoiceStream::poll(double timeout_seconds, ChoiceEvent* event) {
    if (finished_) return false;
    std::optional<engine::Delta> delta = stream_->next(timeout_seconds);
    if (!delta) return false;
    handle(*delta, event);
    return true;
}

void ChoiceStream::handle(engine::Delta& delta, ChoiceEvent* event) {
    if (!delta.prompt_logprobs.empty()) {
        prompt_logprobs_.clear();
        for (const auto& lp : delta.prompt_logprobs) prompt_logprobs_.push_back(to_item(lp));
    }
    if (!delta.tokens.empty()) {
        const double now = now_seconds();
        if (last_token_time_ < 0) stats_.server_ttft_seconds = now - options_.arrival_seconds;
        else stats_.inter_token_seconds.push_back(now - last_token_time_);
        last_token_time_ = now;
    }
    std::string text;
    for (size_t i = 0; i < delta.tokens.size() && !decoder_->stopped(); ++i) {
        const TokenId id = delta.tokens[i];
        ++n_tokens_seen_;
        event->n_tokens++;
        if (options_.n_logprobs >= 0 && i < delta.logprobs.size())
            event->logprobs.push_back(to_item(delta.logprobs[i]));
        if (stop_ids_.count(id)) continue;  // end of generation: not shown
        text += decoder_->feed(id);
    }
    if (decoder_->stopped()) {
        // A stop string matched: the engine does not know about it, so the request is aborted there.
        if (delta.finish == engine::FinishReason::none) backend_.engine->abort(id_);
        delta.finish = engine::FinishReason::stop;
    }
    if (delta.finish != engine::FinishReason::none) text += decoder_->flush();
    if (splitter_) splitter_->push(text, &event->reasoning, &event->content);
    else event->content += text;
    if (delta.finish != engine::FinishReason::none) {
        stats_.n_prompt_tokens = delta.n_prompt_tokens;
        stats_.n_cached_prompt_tokens = delta.n_cached_prompt_tokens;
        stats_.n_generated_tokens =
            decoder_->stopped() ? n_tokens_seen_ : std::max(delta.n_generated_tokens, n_tokens_seen_);
        stats_.queue_seconds = delta.queue_seconds;
        stats_.first_token_seconds = delta.first_token_seconds;
        stats_.total_seconds = delta.total_seconds;
        error_ = delta.error;
        finish(delta.finish, event);
    }
}

void ChoiceStream::finish(engine::FinishReason reason, ChoiceEvent* event) {
    if (splitter_) splitter_->flush(&event->reasoning, &event->content);
    finish_ = reason;
    finished_ = true;
}

}  // namespace duet::server
