// conversation_store.h: what the chat page keeps: conversations and their messages, page settings, system
// prompts. Every write is one transaction on the Database's writer connection and returns only after COMMIT, so
// a returned value is durable (synchronous=FULL: survives kill -9 and power loss).
//
//   conversation: id, title, mode, settings --1:n--> message ordinal 0, 1, 2, ... (no gaps)
//   regenerate / edit = replace_tail(from_ordinal, new messages): the tail is dropped and rewritten atomically.
//
// Errors: StatusCode::not_found for an unknown conversation id; out_of_range for a tail beyond the end.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/types.h"

namespace duet::store {

class Database;

class ConversationStore {
public:
    explicit ConversationStore(Database& db);

    // Creates a conversation (id, created_at, updated_at assigned; message_count 0).
    Result<Conversation> create(const Conversation& draft);
    Result<Conversation> get(const std::string& id);
    // The conversation and every message, in ordinal order.
    Result<ConversationWithMessages> get_with_messages(const std::string& id);
    // Newest first (updated_at, then creation order), `query.limit` per page.
    Result<ConversationPage> list(const ListQuery& query);
    // Reads, edits and writes back in one transaction (title, mode, settings; other fields are ignored).
    Result<Conversation> update(const std::string& id, const std::function<void(Conversation&)>& edit);
    Status remove(const std::string& id);  // its messages go with it

    // Appends at the next ordinal; returns the stored message once committed.
    Result<Message> append(const std::string& conversation_id, const MessageDraft& draft);
    // Deletes messages with ordinal >= from_ordinal and appends `tail` from there, atomically.
    // from_ordinal > message count -> out_of_range.
    Result<std::vector<Message>> replace_tail(const std::string& conversation_id, int64_t from_ordinal,
                                              const std::vector<MessageDraft>& tail);

    // Export: one conversation, or every conversation (newest first) when `id` is empty.
    Result<std::vector<ConversationWithMessages>> export_conversations(const std::optional<std::string>& id);
    // Import: every conversation gets a new id; all or nothing. Returns the new ids in input order.
    Result<std::vector<std::string>> import_conversations(const std::vector<ConversationWithMessages>& items);

    // Page settings: key -> value (opaque text; the server stores JSON text).
    Result<std::map<std::string, std::string>> settings();
    // Sets keys with a value, deletes keys mapped to nullopt, in one transaction.
    Status put_settings(const std::map<std::string, std::optional<std::string>>& changes);

    // Stored system prompts ("" = the default prompt first, then models by name).
    Result<std::vector<SystemPromptEntry>> system_prompts();
    // Upserts each entry; an entry with neither prompt nor send removes the stored row.
    Status put_system_prompts(const std::vector<SystemPromptEntry>& entries);

private:
    Database& db_;
};

// A new random id: 16 bytes from getrandom(), base64url without padding (22 characters).
std::string random_id();

// The current time in ms, strictly increasing across calls in this process (so "newest first" is well defined
// even for writes within the same millisecond).
TimeMs now_ms();

// `text` as a LIKE pattern that matches it literally anywhere ('%' + escaped + '%', escape character '\').
std::string like_contains_pattern(std::string_view text);

}  // namespace duet::store
