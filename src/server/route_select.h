// route_select.h: the router at the server's edge: which model a chat request goes to when it names duet-auto,
// duet-expert or duet-daily, the conversation it belongs to (stickiness), and the router's metrics.
//
//   model "duet-auto"    route the last user message (stickiness by conversation) -> the expert or daily model
//   model "duet-expert"  pinned to the expert model (the decision is still computed and shown)
//   model "duet-daily"   pinned to the daily model
//   any other name       bypasses the router
//
// Conversation key: header x-duet-conversation, else the OpenAI `user` field, else (chat only) a hash of the
// conversation's system and first user message (the same on every turn of one chat). A completion (/v1/completions)
// routes its prompt text and sticks only by header or `user`. Internal to src/server; no JSON here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "openai/types.h"
#include "router/conversations.h"
#include "router/router.h"
#include "server/metrics.h"

namespace duet::server {

enum class RouteMode { automatic, expert, daily };

inline constexpr std::string_view kAutoModel = "duet-auto";
inline constexpr std::string_view kExpertModel = "duet-expert";
inline constexpr std::string_view kDailyModel = "duet-daily";

// The mode a requested model name asks for; nullopt for real model names (bypass).
std::optional<RouteMode> route_mode_for(std::string_view model_name);
const char* route_mode_name(RouteMode mode);  // "auto", "expert", "daily"

// Prometheus counters and a histogram for routed requests.
class RouterMetrics {
public:
    RouterMetrics();
    void observe(RouteMode mode, router::Role role, const std::string& model, const router::Decision& d);
    // duet_router_decisions_total{mode,route,model}, duet_router_decision_seconds (histogram),
    // duet_router_switches_avoided_total, duet_router_switches_total.
    void render(std::string* out) const;

private:
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> decisions_;
    Histogram latency_;
    uint64_t switches_avoided_ = 0;
    uint64_t switches_ = 0;
};

struct RouteSelection {
    RouteMode mode = RouteMode::automatic;
    router::Decision decision;
    std::string model;  // the served model's name
    std::string conversation_key;
};

// What the server holds for routing: the router, the role -> model map, conversations and metrics.
class RouteService {
public:
    RouteService(std::shared_ptr<const router::Router> router, std::string expert_model, std::string daily_model,
                 size_t max_conversations = 10000);

    const std::string& expert_model() const { return expert_model_; }
    const std::string& daily_model() const { return daily_model_; }
    const router::Router& router() const { return *router_; }

    // Routes a chat request (mode from route_mode_for). `conversation_header` and `user` may be empty.
    RouteSelection select(RouteMode mode, const std::vector<openai::ChatMessage>& messages,
                          const std::string& conversation_header, const std::string& user);
    // Routes one text (a completion's prompt) for the conversation `key`; an empty key: no stickiness.
    RouteSelection select_text(RouteMode mode, std::string_view text, std::string key);
    // After the request was admitted: the conversation now lives on `selection`'s role with `prompt_tokens`
    // cached (its prompt; the answer is added by the next turn's prompt). Nothing for an empty key.
    void record(const RouteSelection& selection, int64_t prompt_tokens);

    const RouterMetrics& metrics() const { return metrics_; }

private:
    std::shared_ptr<const router::Router> router_;
    std::string expert_model_, daily_model_;
    router::ConversationTable conversations_;
    RouterMetrics metrics_;
};

std::string conversation_key(const std::string& header, const std::string& user,
                             const std::vector<openai::ChatMessage>& messages);
// A completion's conversation key: "h:" header, else "u:" user, else empty (no stickiness).
std::string completion_conversation_key(const std::string& header, const std::string& user);
// The text the router reads: the last user message (empty when there is none).
std::string_view routed_text(const std::vector<openai::ChatMessage>& messages);

}  // namespace duet::server
