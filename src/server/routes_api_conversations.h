// routes_api_conversations.h: the chat page's REST API over the store (README, "The page's REST API"):
//
//   GET/POST            /api/conversations               list (paging, search) / create
//   GET/PATCH/DELETE    /api/conversations/{id}          one conversation with its messages / rename, settings
//   POST                /api/conversations/{id}/messages append (201 once committed)
//   PUT                 /api/conversations/{id}/tail     regenerate / edit: replace from an ordinal
//   GET                 /api/conversations/export        ?format=json|md[&id=ID]
//   POST                /api/conversations/import        an export document, all or nothing
//   GET/PUT             /api/settings                    page settings (one flat JSON object)
//   GET/PUT             /api/system-prompts              default + per-model prompt and send toggle
//
// Every route is Access::session (the page's cookie or the API key); state-changing calls whose Origin names
// another site, or whose Sec-Fetch-Site is cross-site, get 403. JSON lives in store/codec_json (the shapes shared
// with export files) and here; the store is called with native types.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/route_table.h"

namespace duet::store {
class Store;
}

namespace duet::server {

// The names of the models served now (for GET /api/system-prompts).
using ModelNames = std::function<std::vector<std::string>()>;

RouteTable api_conversation_routes(std::shared_ptr<store::Store> store, ModelNames model_names);

// The built-in "send a system prompt" default for a model without a stored toggle: false for DeepSeek-R1 distills
// (DeepSeek: no system prompt, instructions in the user turn), recognised by "r1" as a word of the name
// ("r1", "deepseek-r1-distill-qwen-1.5b", "R1_7B"); true otherwise.
bool default_send_system_prompt(std::string_view model_name);

}  // namespace duet::server
