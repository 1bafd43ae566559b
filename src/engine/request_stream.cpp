// request_stream.cpp: mutex + condition variable queue of Deltas for one request.
#include "engine/request_stream.h"

#include <algorithm>
#include <chrono>

namespace duet::engine {

void DeltaChannel::push(Delta delta) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        deltas_.push_back(std::move(delta));
    }
    ready_.notify_one();
}

std::optional<Delta> DeltaChannel::pop(double timeout_seconds) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (final_read_) return std::nullopt;
    constexpr double kMaxWaitSeconds = 1e7;  // keeps now() + timeout inside the clock's range
    const auto timeout = std::chrono::duration<double>(std::clamp(timeout_seconds, 0.0, kMaxWaitSeconds));
    if (!ready_.wait_for(lock, timeout, [&] { return !deltas_.empty(); })) return std::nullopt;
    Delta delta = std::move(deltas_.front());
    deltas_.pop_front();
    if (delta.finish != FinishReason::none) final_read_ = true;
    return delta;
}

}  // namespace duet::engine
