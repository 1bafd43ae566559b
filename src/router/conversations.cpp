// conversations.cpp: the bounded LRU table of conversation states.
#include "router/conversations.h"

namespace duet::router {

std::optional<ConversationState> ConversationTable::get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->state;
}

void ConversationTable::put(const std::string& key, ConversationState state) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        it->second->state = state;
        lru_.splice(lru_.begin(), lru_, it->second);
        return;
    }
    lru_.push_front({key, state});
    entries_[key] = lru_.begin();
    if (lru_.size() > capacity_) {
        entries_.erase(lru_.back().key);
        lru_.pop_back();
    }
}

size_t ConversationTable::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lru_.size();
}

}  // namespace duet::router
