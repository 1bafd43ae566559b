// codec_json.h: the store's JSON codec: conversations and messages <-> the JSON shapes of the /api/ contract
// (README, "The page's REST API"), the export document and a validating import parser. The server's /api/ routes
// use these so that the API and export files have one shape.
//
// Imported files are untrusted: every error is a Status naming the place ("conversations[2].messages[5].role:
// expected one of ..."); nesting deeper than kMaxJsonDepth, invalid UTF-8, wrong types and oversized strings are
// rejected before anything is written. Nothing here throws to the caller.
//
// May include: store/types.h, common/, nlohmann/json.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/types.h"

namespace duet::store {

constexpr int kExportVersion = 1;
constexpr int kMaxJsonDepth = 64;
constexpr size_t kMaxTitleBytes = 1000;
constexpr size_t kMaxContentBytes = size_t{4} << 20;  // content, reasoning
constexpr size_t kMaxSmallTextBytes = 64 << 10;       // system prompts, route, settings values
constexpr size_t kMaxNameBytes = 256;                 // model, mode, finish_reason

// ---- encoding ----
nlohmann::json conversation_to_json(const Conversation& c);  // without "messages"
nlohmann::json message_to_json(const Message& m);
nlohmann::json conversation_with_messages_to_json(const ConversationWithMessages& c);
// {"format": "duet-conversations", "version": 1, "exported_at": ..., "conversations": [...]}
std::string export_json(const std::vector<ConversationWithMessages>& items, TimeMs exported_at);
// One arena battle with its vote (null when not voted) and turns: a line of the JSON Lines battle export
// (csv_export.h: write_battles_jsonl).
nlohmann::json battle_to_json(const BattleRecord& record, const std::vector<BattleTurn>& turns);
// dump() that never throws: invalid UTF-8 in stored text is replaced with U+FFFD.
std::string dump_json(const nlohmann::json& j);

// ---- decoding (validated) ----
// Parses text with a depth limit; a syntax error names line and column.
Result<nlohmann::json> parse_json(std::string_view text, std::string_view what);
// An export document -> conversations to import (ids in the file are ignored).
Result<std::vector<ConversationWithMessages>> parse_export_json(std::string_view text);
// A message body (role and content required; id/ordinal ignored). `where` prefixes errors ("messages[3]").
Result<MessageDraft> message_draft_from_json(const nlohmann::json& j, const std::string& where);
// Applies a partial settings object: keys present change, a null value clears ("inherit").
Status apply_settings_json(const nlohmann::json& j, const std::string& where, ConversationSettings* settings);
// title / mode / settings keys of a conversation object (POST and PATCH bodies, import).
Status apply_conversation_json(const nlohmann::json& j, const std::string& where, Conversation* c);

}  // namespace duet::store
