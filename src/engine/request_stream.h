// request_stream.h: the per-request delta channel between the engine loop (producer) and a reader (consumer).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "engine/engine_api.h"

namespace duet::engine {

// Shared by the engine loop and the reader's RequestStream. The loop pushes; the reader pops.
class DeltaChannel {
public:
    explicit DeltaChannel(uint64_t id, double submit_time) : id_(id), submit_time_(submit_time) {}

    uint64_t id() const { return id_; }
    void push(Delta delta);                            // engine loop; wakes the reader
    std::optional<Delta> pop(double timeout_seconds);  // reader; nullopt on timeout or after the final delta
    bool reader_gone() const { return reader_gone_.load(std::memory_order_relaxed); }
    void mark_reader_gone() { reader_gone_.store(true, std::memory_order_relaxed); }

    // Engine-loop-only bookkeeping (no lock needed: one thread).
    double submit_time() const { return submit_time_; }
    double first_scheduled_time = -1;
    double first_token_time = -1;

private:
    uint64_t id_;
    double submit_time_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Delta> deltas_;
    bool final_read_ = false;
    std::atomic<bool> reader_gone_{false};
};

// The reader's end; dropping it before the final delta tells the engine the client is gone (request aborted).
class ChannelStream final : public RequestStream {
public:
    explicit ChannelStream(std::shared_ptr<DeltaChannel> channel) : channel_(std::move(channel)) {}
    ~ChannelStream() override { channel_->mark_reader_gone(); }
    std::optional<Delta> next(double timeout_seconds) override { return channel_->pop(timeout_seconds); }
    uint64_t id() const override { return channel_->id(); }

private:
    std::shared_ptr<DeltaChannel> channel_;
};

}  // namespace duet::engine
