// conversations.h: what the server remembers per conversation for stickiness: the role its messages went to and
// how many prompt tokens are cached for it. Keys are whatever identifies a conversation at the edge (the OpenAI
// `user` field, an `x-duet-conversation` header, or a hash of the conversation's first messages). Bounded: the
// least recently used conversation is forgotten first. Thread-safe.
//
//   lru_ (front = most recent)          entries_ (key -> iterator into lru_)
//   [ "c7" ] <-> [ "u:ann" ] <-> ... <-> [ oldest ]   -- dropped when size() would exceed capacity
//
// May include router/ headers and the standard library.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "router/router.h"

namespace duet::router {

class ConversationTable {
public:
    explicit ConversationTable(size_t capacity = 10000) : capacity_(capacity == 0 ? 1 : capacity) {}

    // The conversation's state, marking it most recently used; nullopt when unknown.
    std::optional<ConversationState> get(const std::string& key);
    // Records where the conversation went and its cached prompt tokens after this turn.
    void put(const std::string& key, ConversationState state);

    size_t size() const;
    size_t capacity() const { return capacity_; }

private:
    struct Entry {
        std::string key;
        ConversationState state;
    };
    mutable std::mutex mutex_;
    size_t capacity_;
    std::list<Entry> lru_;
    std::unordered_map<std::string, std::list<Entry>::iterator> entries_;
};

}  // namespace duet::router
