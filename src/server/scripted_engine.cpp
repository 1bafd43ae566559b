// scripted_engine.cpp: the scripted model as a served backend: an EngineApi that plays each request's chunks at
// the rule's pace on one thread, and a byte-level TextCodec (ids 0..255 are bytes, 256 ends the text).
//
//   submit: prompt bytes -> decode_prompt -> Script::pick -> playback chunks -> queue (due time)
//   loop:   sleep until the earliest due request -> emit its next chunk as one Delta -> reschedule or finish
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "server/scripted_model.h"
#include "tokenizer/reasoning.h"

namespace duet::server::scripted {

namespace {

using engine::TokenId;
using registry::ReasoningSplitter;
using registry::TextCodec;
using registry::TextDecoder;

constexpr TokenId kEndOfText = 256;
constexpr int32_t kContextBytes = 1 << 20;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class Channel final : public engine::RequestStream {
public:
    explicit Channel(uint64_t id) : id_(id) {}
    std::optional<engine::Delta> next(double timeout_seconds) override {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait_for(lock, std::chrono::duration<double>(timeout_seconds), [&] { return !queue_.empty(); });
        if (queue_.empty()) return std::nullopt;
        engine::Delta d = std::move(queue_.front());
        queue_.pop_front();
        return d;
    }
    uint64_t id() const override { return id_; }
    void push(engine::Delta d) {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(d));
        cv_.notify_all();
    }

private:
    uint64_t id_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<engine::Delta> queue_;
};

class ScriptedEngine final : public engine::EngineApi {
public:
    ScriptedEngine(std::string name, Script script)
        : name_(std::move(name)), script_(std::move(script)), thread_([this] { loop(); }) {}
    ~ScriptedEngine() override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    Result<std::unique_ptr<engine::RequestStream>> submit(engine::RequestParams params) override {
        if (params.prompt.empty()) return Status::invalid_argument("empty prompt");
        std::string bytes;
        for (TokenId t : params.prompt)
            if (t >= 0 && t < 256) bytes += static_cast<char>(t);
        const Prompt prompt = decode_prompt(bytes);
        const Rule* rule = script_.pick(prompt.last_user);
        auto request = std::make_shared<Request>();
        request->chunks = playback(rule, prompt, name_);
        request->pace = std::chrono::milliseconds(rule ? rule->pace_ms : 0);
        request->max_tokens = params.max_tokens;
        request->n_prompt = static_cast<int32_t>(params.prompt.size());
        request->submitted = Clock::now();
        request->due = request->submitted + std::chrono::milliseconds(rule ? rule->first_delay_ms : 0) + request->pace;
        std::lock_guard<std::mutex> lock(mutex_);
        request->channel = std::make_shared<Channel>(++next_id_);
        requests_.push_back(request);
        prompt_tokens_total_ += request->n_prompt;
        cv_.notify_all();
        struct Handle final : engine::RequestStream {
            std::shared_ptr<Channel> channel;
            std::optional<engine::Delta> next(double t) override { return channel->next(t); }
            uint64_t id() const override { return channel->id(); }
        };
        auto handle = std::make_unique<Handle>();
        handle->channel = request->channel;
        return std::unique_ptr<engine::RequestStream>(std::move(handle));
    }

    void abort(uint64_t id) override {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = requests_.begin(); it != requests_.end(); ++it) {
            if ((*it)->channel->id() != id) continue;
            finish(**it, engine::FinishReason::abort, {});
            requests_.erase(it);
            return;
        }
    }

    engine::EngineStats stats() const override {
        std::lock_guard<std::mutex> lock(mutex_);
        engine::EngineStats s;
        s.n_running = static_cast<int32_t>(requests_.size());
        s.prompt_tokens_total = prompt_tokens_total_;
        s.generation_tokens_total = generation_tokens_total_;
        return s;
    }
    int32_t context_length() const override { return kContextBytes; }

private:
    struct Request {
        std::shared_ptr<Channel> channel;
        std::vector<std::string> chunks;
        size_t next_chunk = 0;
        std::chrono::milliseconds pace{0};
        int32_t max_tokens = 0, n_prompt = 0, n_generated = 0;
        Clock::time_point submitted, due;
        double first_token_seconds = 0;
    };

    void finish(Request& r, engine::FinishReason reason, std::vector<TokenId> tokens) {
        engine::Delta d;
        d.tokens = std::move(tokens);
        d.finish = reason;
        d.first_token_seconds = r.first_token_seconds;
        d.total_seconds = seconds_since(r.submitted);
        d.n_prompt_tokens = r.n_prompt;
        d.n_generated_tokens = r.n_generated;
        r.channel->push(std::move(d));
    }

    // Emits the next chunk of r (called with the lock held); true when r is finished.
    bool step(Request& r) {
        std::vector<TokenId> tokens;
        const std::string& chunk = r.chunks[r.next_chunk++];
        for (char c : chunk) {
            if (r.n_generated >= r.max_tokens) break;
            tokens.push_back(static_cast<unsigned char>(c));
            ++r.n_generated;
        }
        generation_tokens_total_ += tokens.size();
        if (r.first_token_seconds == 0) r.first_token_seconds = seconds_since(r.submitted);
        if (r.n_generated >= r.max_tokens && (r.next_chunk < r.chunks.size() || tokens.size() < chunk.size())) {
            finish(r, engine::FinishReason::length, std::move(tokens));
            return true;
        }
        if (r.next_chunk == r.chunks.size()) {
            tokens.push_back(kEndOfText);
            finish(r, engine::FinishReason::stop, std::move(tokens));
            return true;
        }
        engine::Delta d;
        d.tokens = std::move(tokens);
        r.channel->push(std::move(d));
        r.due += r.pace;
        return false;
    }

    void loop() {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stop_) {
            if (requests_.empty()) {
                cv_.wait(lock, [&] { return stop_ || !requests_.empty(); });
                continue;
            }
            auto earliest = std::min_element(requests_.begin(), requests_.end(),
                                             [](const auto& a, const auto& b) { return a->due < b->due; });
            if (Clock::now() < (*earliest)->due) {
                cv_.wait_until(lock, (*earliest)->due);  // a new request or an abort may change the order
                continue;
            }
            auto request = *earliest;
            if (request->chunks.empty() || step(*request)) {
                if (request->chunks.empty()) finish(*request, engine::FinishReason::stop, {kEndOfText});
                requests_.erase(std::find(requests_.begin(), requests_.end(), request));
            }
        }
        for (auto& r : requests_) finish(*r, engine::FinishReason::abort, {});
    }

    std::string name_;
    Script script_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::shared_ptr<Request>> requests_;
    uint64_t next_id_ = 0;
    uint64_t prompt_tokens_total_ = 0, generation_tokens_total_ = 0;
    bool stop_ = false;
    std::thread thread_;
};

// Complete UTF-8 sequences only; stop strings end the text at their first match.
class ByteDecoder final : public TextDecoder {
public:
    explicit ByteDecoder(std::vector<std::string> stops) : stops_(std::move(stops)) {}
    std::string feed(TokenId id) override {
        if (stopped_ || id < 0 || id >= 256) return {};
        pending_ += static_cast<char>(id);
        return release(false);
    }
    std::string flush() override { return release(true); }
    bool stopped() const override { return stopped_; }

private:
    // Bytes of pending_ that form complete UTF-8 sequences (all of it when final).
    size_t complete_prefix(bool final) const {
        if (final) return pending_.size();
        size_t n = pending_.size(), i = n;
        int back = 0;
        while (i > 0 && back < 4 && (static_cast<unsigned char>(pending_[i - 1]) & 0xC0) == 0x80) --i, ++back;
        if (i == 0) return n;
        const unsigned char lead = static_cast<unsigned char>(pending_[i - 1]);
        const int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return need > back + 1 ? i - 1 : n;
    }
    std::string release(bool final) {
        shown_ += pending_.substr(0, complete_prefix(final));
        pending_.erase(0, complete_prefix(final));
        for (const auto& stop : stops_) {
            if (stop.empty()) continue;
            const size_t at = shown_.find(stop);
            if (at != std::string::npos) {
                shown_.resize(at);
                stopped_ = true;
            }
        }
        // Hold back a tail that could still become a stop string.
        size_t hold = 0;
        if (!final && !stopped_)
            for (const auto& stop : stops_)
                for (size_t k = std::min(stop.size() - 1, shown_.size()); k > hold && stop.size() > 0; --k)
                    if (shown_.compare(shown_.size() - k, k, stop, 0, k) == 0) hold = k;
        std::string out = shown_.substr(emitted_, shown_.size() - hold - emitted_);
        emitted_ = shown_.size() - hold;
        return out;
    }
    std::vector<std::string> stops_;
    std::string pending_, shown_;
    size_t emitted_ = 0;
    bool stopped_ = false;
};

class Splitter final : public ReasoningSplitter {
public:
    void push(std::string_view text, std::string* reasoning, std::string* content) override {
        tok::ReasoningDelta d = splitter_.feed(text);
        *reasoning += d.reasoning;
        *content += d.content;
    }
    void flush(std::string* reasoning, std::string* content) override {
        tok::ReasoningDelta d = splitter_.flush();
        *reasoning += d.reasoning;
        *content += d.content;
    }

private:
    tok::ReasoningSplitter splitter_{false};
};

class ByteCodec final : public TextCodec {
public:
    std::vector<TokenId> encode(std::string_view text, bool, bool) const override {
        std::vector<TokenId> ids;
        for (char c : text) ids.push_back(static_cast<unsigned char>(c));
        return ids;
    }
    std::string decode(std::span<const TokenId> ids) const override {
        std::string out;
        for (TokenId id : ids)
            if (id >= 0 && id < 256) out += static_cast<char>(id);
        return out;
    }
    std::string token_piece(TokenId id) const override {
        return id >= 0 && id < 256 ? std::string(1, static_cast<char>(id)) : std::string("<|end|>");
    }
    int32_t n_vocab() const override { return 257; }
    std::vector<TokenId> stop_token_ids() const override { return {kEndOfText}; }
    std::unique_ptr<TextDecoder> make_decoder(std::vector<std::string> stops) const override {
        return std::make_unique<ByteDecoder>(std::move(stops));
    }
    Result<std::vector<TokenId>> encode_chat(const std::vector<registry::ChatMessage>& messages, bool) const override {
        return encode(encode_prompt(messages), false, false);
    }
    std::unique_ptr<ReasoningSplitter> make_reasoning_splitter(std::span<const TokenId>) const override {
        return std::make_unique<Splitter>();
    }
};

}  // namespace

registry::Serving make_serving(std::string name, Script script) {
    registry::Serving serving;
    serving.engine = std::make_shared<ScriptedEngine>(std::move(name), std::move(script));
    serving.codec = std::make_shared<ByteCodec>();
    serving.capabilities.chat = serving.capabilities.completions = true;
    serving.context_length = kContextBytes;
    return serving;
}

}  // namespace duet::server::scripted
