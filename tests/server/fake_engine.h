// fake_engine.h: a deterministic EngineApi and byte-level TextCodec so the HTTP layer is tested without a model.
//
// FakeEngine emits one token per request every step (~0.5 ms): token i of a request is
//   'a' + (sum(prompt) + i) % 26
// so every prompt has one known output (expected_output()). Prompts containing "FAIL" get an engine error after
// 2 tokens; prompts containing "EOS" end with the EOS token after 3 tokens. KV blocks (16 tokens) are counted per
// running request, so leaks show as stats().kv_usage > 0 at rest.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine_api.h"
#include "server/backend.h"

namespace duet::test {

constexpr engine::TokenId kFakeEos = 256;
constexpr engine::TokenId kFakeBos = 257;
constexpr int32_t kFakeVocab = 258;

inline std::string fake_expected_output(const std::vector<engine::TokenId>& prompt, int n_tokens) {
    int64_t sum = 0;
    for (auto t : prompt) sum += t;
    std::string out;
    for (int i = 0; i < n_tokens; ++i) out += static_cast<char>('a' + (sum + i) % 26);
    return out;
}

class FakeStream final : public engine::RequestStream {
public:
    explicit FakeStream(uint64_t id) : id_(id) {}
    std::optional<engine::Delta> next(double timeout_seconds) override {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!cv_.wait_for(lock, std::chrono::duration<double>(timeout_seconds),
                          [&] { return !queue_.empty() || closed_; }))
            return std::nullopt;
        if (queue_.empty()) return std::nullopt;
        engine::Delta d = std::move(queue_.front());
        queue_.pop_front();
        return d;
    }
    uint64_t id() const override { return id_; }
    void push(engine::Delta d) {
        std::lock_guard<std::mutex> lock(mutex_);
        const bool final_delta = d.finish != engine::FinishReason::none;
        queue_.push_back(std::move(d));
        if (final_delta) closed_ = true;
        cv_.notify_all();
    }

private:
    uint64_t id_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<engine::Delta> queue_;
    bool closed_ = false;
};

class FakeEngine final : public engine::EngineApi {
public:
    struct Options {
        int32_t context_length = 512;
        int32_t max_waiting = 1000;
        int32_t max_running = 1000;
        int32_t n_blocks = 4096;
        double step_seconds = 0.0005;
    };
    FakeEngine() : FakeEngine(Options{}) {}
    explicit FakeEngine(Options options) : options_(options), thread_([this] { loop(); }) {}
    ~FakeEngine() override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    Result<std::unique_ptr<engine::RequestStream>> submit(engine::RequestParams params) override {
        if (params.prompt.empty()) return Status::invalid_argument("empty prompt");
        if (static_cast<int64_t>(params.prompt.size()) + params.max_tokens > options_.context_length)
            return Status::invalid_argument("prompt + max_tokens over the context");
        std::lock_guard<std::mutex> lock(mutex_);
        if (static_cast<int32_t>(waiting_.size()) >= options_.max_waiting) return Status::unavailable("queue full");
        auto req = std::make_shared<Req>();
        req->id = ++next_id_;
        req->params = std::move(params);
        req->stream = std::make_shared<FakeStream>(req->id);
        req->submit_time = clock();
        for (auto t : req->params.prompt) req->sum += t;
        waiting_.push_back(req);
        n_submitted_++;
        cv_.notify_all();
        // The stream handed out shares the channel; the engine keeps its own pointer.
        struct Handle final : engine::RequestStream {
            std::shared_ptr<FakeStream> s;
            std::optional<engine::Delta> next(double t) override { return s->next(t); }
            uint64_t id() const override { return s->id(); }
        };
        auto handle = std::make_unique<Handle>();
        handle->s = req->stream;
        return std::unique_ptr<engine::RequestStream>(std::move(handle));
    }

    void abort(uint64_t id) override {
        std::lock_guard<std::mutex> lock(mutex_);
        aborts_.push_back(id);
        n_abort_calls_++;
        cv_.notify_all();
    }

    engine::EngineStats stats() const override {
        std::lock_guard<std::mutex> lock(mutex_);
        engine::EngineStats s;
        s.n_running = static_cast<int32_t>(running_.size());
        s.n_waiting = static_cast<int32_t>(waiting_.size());
        int64_t blocks = 0;
        for (const auto& r : running_) blocks += (r->params.prompt.size() + r->n_generated + 15) / 16;
        s.kv_usage = double(blocks) / options_.n_blocks;
        s.prefix_queries = prefix_queries_;
        s.prefix_hits = prefix_hits_;
        s.prompt_tokens_total = prompt_tokens_total_;
        s.generation_tokens_total = generation_tokens_total_;
        return s;
    }
    int32_t context_length() const override { return options_.context_length; }

    int64_t n_submitted() const { return n_submitted_.load(); }
    int64_t n_abort_calls() const { return n_abort_calls_.load(); }
    int64_t n_aborted_requests() const { return n_aborted_requests_.load(); }
    bool idle() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return running_.empty() && waiting_.empty();
    }

private:
    struct Req {
        uint64_t id = 0;
        engine::RequestParams params;
        std::shared_ptr<FakeStream> stream;
        int32_t n_generated = 0;
        int64_t sum = 0;
        double submit_time = 0, start_time = 0, first_token_time = 0;
        int32_t n_cached = 0;
    };

    static double clock() {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }

    void finish(const std::shared_ptr<Req>& r, engine::Delta d, engine::FinishReason reason) {
        d.finish = reason;
        const double now = clock();
        d.queue_seconds = r->start_time > 0 ? r->start_time - r->submit_time : now - r->submit_time;
        d.first_token_seconds = r->first_token_time > 0 ? r->first_token_time - r->submit_time : 0;
        d.total_seconds = now - r->submit_time;
        d.n_prompt_tokens = static_cast<int32_t>(r->params.prompt.size());
        d.n_cached_prompt_tokens = r->n_cached;
        d.n_generated_tokens = r->n_generated;
        if (reason == engine::FinishReason::error) d.error = "fake engine fault";
        r->stream->push(std::move(d));
    }

    // Longest block-aligned prefix shared with an earlier prompt (a toy prefix cache).
    int32_t cached_prefix(const std::vector<engine::TokenId>& prompt) {
        int32_t best = 0;
        for (const auto& seen : seen_prompts_) {
            size_t n = 0;
            while (n < seen.size() && n < prompt.size() && seen[n] == prompt[n]) ++n;
            best = std::max<int32_t>(best, static_cast<int32_t>(n / 16 * 16));
        }
        if (best >= static_cast<int32_t>(prompt.size())) best = static_cast<int32_t>(prompt.size()) - 1;
        return std::max(best, 0);
    }

    static bool contains(const std::vector<engine::TokenId>& prompt, const char* word) {
        const std::string w(word);
        std::string text;
        for (auto t : prompt) text += t < 256 ? static_cast<char>(t) : '\x01';
        return text.find(w) != std::string::npos;
    }

    void loop() {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stop_) {
            cv_.wait_for(lock, std::chrono::duration<double>(options_.step_seconds),
                         [&] { return stop_ || !waiting_.empty() || !aborts_.empty() || !running_.empty(); });
            for (uint64_t id : aborts_) {
                auto drop = [&](std::vector<std::shared_ptr<Req>>& v) {
                    for (auto it = v.begin(); it != v.end(); ++it)
                        if ((*it)->id == id) {
                            finish(*it, {}, engine::FinishReason::abort);
                            n_aborted_requests_++;
                            v.erase(it);
                            return;
                        }
                };
                drop(running_);
                std::vector<std::shared_ptr<Req>> w(waiting_.begin(), waiting_.end());
                drop(w);
                waiting_.assign(w.begin(), w.end());
            }
            aborts_.clear();
            while (!waiting_.empty() && static_cast<int32_t>(running_.size()) < options_.max_running) {
                auto r = waiting_.front();
                waiting_.pop_front();
                r->start_time = clock();
                r->n_cached = cached_prefix(r->params.prompt);
                prefix_queries_ += r->params.prompt.size();
                prefix_hits_ += r->n_cached;
                prompt_tokens_total_ += r->params.prompt.size() - r->n_cached;
                seen_prompts_.push_back(r->params.prompt);
                if (r->params.want_prompt_logprobs) {
                    engine::Delta d;
                    for (size_t i = 1; i < r->params.prompt.size(); ++i)
                        d.prompt_logprobs.push_back(
                            {r->params.prompt[i], -0.5f * float(i), {{r->params.prompt[i], -0.5f * float(i)}}});
                    r->stream->push(std::move(d));
                }
                running_.push_back(r);
            }
            std::vector<std::shared_ptr<Req>> still;
            for (auto& r : running_) {
                if (r->params.max_tokens == 0) {
                    finish(r, {}, engine::FinishReason::length);
                    continue;
                }
                engine::Delta d;
                engine::TokenId token = static_cast<engine::TokenId>('a' + (r->sum + r->n_generated) % 26);
                // "EOS" in the prompt: EOS as the 4th token, or right after min_tokens (the real engine masks it).
                if (r->n_generated == std::max(3, r->params.min_tokens) && contains(r->params.prompt, "EOS") &&
                    !r->params.ignore_eos)
                    token = kFakeEos;
                if (r->n_generated == 2 && contains(r->params.prompt, "FAIL")) {
                    finish(r, {}, engine::FinishReason::error);
                    continue;
                }
                d.tokens.push_back(token);
                if (r->params.n_logprobs >= 0) {
                    engine::TokenLogprob lp{token, -0.25f, {}};
                    for (int k = 0; k < r->params.n_logprobs; ++k)
                        lp.top.emplace_back(static_cast<engine::TokenId>('a' + k), -0.25f - k);
                    d.logprobs.push_back(lp);
                }
                if (r->n_generated == 0) r->first_token_time = clock();
                r->n_generated++;
                generation_tokens_total_++;
                const bool stop_token = std::find(r->params.stop_token_ids.begin(), r->params.stop_token_ids.end(),
                                                  token) != r->params.stop_token_ids.end();
                if (stop_token && !r->params.ignore_eos) {
                    finish(r, std::move(d), engine::FinishReason::stop);
                } else if (r->n_generated >= r->params.max_tokens) {
                    finish(r, std::move(d), engine::FinishReason::length);
                } else {
                    r->stream->push(std::move(d));
                    still.push_back(r);
                }
            }
            running_.swap(still);
            if (!running_.empty()) {
                lock.unlock();
                std::this_thread::sleep_for(std::chrono::duration<double>(options_.step_seconds));
                lock.lock();
            }
        }
        for (auto& r : running_) finish(r, {}, engine::FinishReason::abort);
        for (auto& r : waiting_) finish(r, {}, engine::FinishReason::abort);
    }

    Options options_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Req>> waiting_;
    std::vector<std::shared_ptr<Req>> running_;
    std::vector<uint64_t> aborts_;
    std::vector<std::vector<engine::TokenId>> seen_prompts_;
    uint64_t next_id_ = 0;
    uint64_t prefix_queries_ = 0, prefix_hits_ = 0, prompt_tokens_total_ = 0, generation_tokens_total_ = 0;
    std::atomic<int64_t> n_submitted_{0}, n_abort_calls_{0}, n_aborted_requests_{0};
    bool stop_ = false;
    std::thread thread_;
};

// Byte-level: token id b < 256 is byte b; 256 = EOS, 257 = BOS. Chat: "role: content\n" per message, then
// "assistant:". A message whose content is "BAD_TEMPLATE" makes the template fail.
class FakeDecoder final : public server::TextDecoder {
public:
    explicit FakeDecoder(std::vector<std::string> stops) : stops_(std::move(stops)) {}
    std::string feed(engine::TokenId id) override {
        if (stopped_ || id >= 256) return {};
        pending_ += static_cast<char>(id);
        for (const auto& s : stops_) {
            const size_t at = pending_.find(s);
            if (at != std::string::npos) {
                stopped_ = true;
                std::string out = pending_.substr(0, at);
                pending_.clear();
                return out;
            }
        }
        // Hold back the longest suffix that could begin a stop string.
        size_t hold = 0;
        for (const auto& s : stops_)
            for (size_t k = std::min(s.size() - 1, pending_.size()); k > hold; --k)
                if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
                    hold = k;
                    break;
                }
        std::string out = pending_.substr(0, pending_.size() - hold);
        pending_.erase(0, pending_.size() - hold);
        return out;
    }
    std::string flush() override {
        std::string out;
        if (!stopped_) out.swap(pending_);
        return out;
    }
    bool stopped() const override { return stopped_; }

private:
    std::vector<std::string> stops_;
    std::string pending_;
    bool stopped_ = false;
};

class FakeCodec final : public server::TextCodec {
public:
    std::vector<engine::TokenId> encode(std::string_view text, bool add_special, bool) const override {
        std::vector<engine::TokenId> ids;
        if (add_special) ids.push_back(kFakeBos);
        for (unsigned char c : text) ids.push_back(c);
        return ids;
    }
    std::string decode(std::span<const engine::TokenId> ids) const override {
        std::string out;
        for (auto id : ids) out += token_piece(id);
        return out;
    }
    std::string token_piece(engine::TokenId id) const override {
        if (id == kFakeEos) return "</s>";
        if (id == kFakeBos) return "<s>";
        if (id >= 0 && id < 256) return std::string(1, static_cast<char>(id));
        return {};
    }
    int32_t n_vocab() const override { return kFakeVocab; }
    std::vector<engine::TokenId> stop_token_ids() const override { return {kFakeEos}; }
    std::unique_ptr<server::TextDecoder> make_decoder(std::vector<std::string> stops) const override {
        return std::make_unique<FakeDecoder>(std::move(stops));
    }
    Result<std::vector<engine::TokenId>> encode_chat(const std::vector<registry::ChatMessage>& messages,
                                                     bool add_generation_prompt) const override {
        std::string text;
        for (const auto& m : messages) {
            if (m.content == "BAD_TEMPLATE") return Status::invalid_argument("template: cannot render message");
            text += m.role + ": " + m.content + "\n";
        }
        if (add_generation_prompt) text += "assistant:";
        return encode(text, true, false);
    }
    static std::string chat_text(const std::vector<std::pair<std::string, std::string>>& messages) {
        std::string text;
        for (const auto& [role, content] : messages) text += role + ": " + content + "\n";
        return text + "assistant:";
    }
};

}  // namespace duet::test
