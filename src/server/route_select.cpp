// route_select.cpp: mode from the model name, conversation keys, routing with stickiness, router metrics.
#include "server/route_select.h"

#include "common/strformat.h"
#include "router/keywords.h"

namespace duet::server {

namespace {

// Decision latency buckets (seconds): 10 us .. 10 ms.
const std::vector<double> kDecisionBuckets = {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2};

std::string label_value(const std::string& raw) {
    std::string out;
    for (char c : raw) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

std::optional<RouteMode> route_mode_for(std::string_view model_name) {
    if (model_name == kAutoModel) return RouteMode::automatic;
    if (model_name == kExpertModel) return RouteMode::expert;
    if (model_name == kDailyModel) return RouteMode::daily;
    return std::nullopt;
}

const char* route_mode_name(RouteMode mode) {
    switch (mode) {
        case RouteMode::automatic:
            return "auto";
        case RouteMode::expert:
            return "expert";
        case RouteMode::daily:
            return "daily";
    }
    return "auto";
}

RouterMetrics::RouterMetrics() : latency_(kDecisionBuckets) {}

void RouterMetrics::observe(RouteMode mode, router::Role role, const std::string& model, const router::Decision& d) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++decisions_[{route_mode_name(mode), std::string(router::role_name(role)), model}];
    latency_.observe(static_cast<double>(d.latency_us) * 1e-6);
    switches_avoided_ += d.stickiness.switch_avoided;
    switches_ += d.stickiness.switched;
}

void RouterMetrics::render(std::string* out) const {
    std::lock_guard<std::mutex> lock(mutex_);
    *out +=
        "# HELP duet_router_decisions_total Routed chat requests by mode, route and model.\n"
        "# TYPE duet_router_decisions_total counter\n";
    for (const auto& [key, n] : decisions_)
        *out += strformat("duet_router_decisions_total{mode=\"%s\",route=\"%s\",model=\"%s\"} %llu\n",
                          std::get<0>(key).c_str(), std::get<1>(key).c_str(), label_value(std::get<2>(key)).c_str(),
                          static_cast<unsigned long long>(n));
    *out +=
        "# HELP duet_router_decision_seconds Time to route one message.\n"
        "# TYPE duet_router_decision_seconds histogram\n";
    latency_.render(out, "duet_router_decision_seconds", "router=\"duet\"");
    *out += strformat(
        "# HELP duet_router_switches_avoided_total Model switches avoided by conversation stickiness.\n"
        "# TYPE duet_router_switches_avoided_total counter\n"
        "duet_router_switches_avoided_total %llu\n"
        "# HELP duet_router_switches_total Conversations moved to the other model.\n"
        "# TYPE duet_router_switches_total counter\n"
        "duet_router_switches_total %llu\n",
        static_cast<unsigned long long>(switches_avoided_), static_cast<unsigned long long>(switches_));
}

std::string_view routed_text(const std::vector<openai::ChatMessage>& messages) {
    for (auto it = messages.rbegin(); it != messages.rend(); ++it)
        if (it->role == "user") return it->content;
    return {};
}

std::string conversation_key(const std::string& header, const std::string& user,
                             const std::vector<openai::ChatMessage>& messages) {
    if (!header.empty()) return "h:" + header;
    if (!user.empty()) return "u:" + user;
    uint64_t h = router::fnv1a64("duet-conversation");
    for (const auto& m : messages) {
        if (m.role != "system" && m.role != "developer" && m.role != "user") continue;
        h = router::fnv1a64(m.role, h);
        h = router::fnv1a64(m.content, h);
        if (m.role == "user") break;  // the system prompt and the first user message name the chat
    }
    return strformat("m:%016llx", static_cast<unsigned long long>(h));
}

RouteService::RouteService(std::shared_ptr<const router::Router> router, std::string expert_model,
                           std::string daily_model, size_t max_conversations)
    : router_(std::move(router)),
      expert_model_(std::move(expert_model)),
      daily_model_(std::move(daily_model)),
      conversations_(max_conversations) {}

std::string completion_conversation_key(const std::string& header, const std::string& user) {
    if (!header.empty()) return "h:" + header;
    if (!user.empty()) return "u:" + user;
    return {};
}

RouteSelection RouteService::select(RouteMode mode, const std::vector<openai::ChatMessage>& messages,
                                    const std::string& conversation_header, const std::string& user) {
    return select_text(mode, routed_text(messages), conversation_key(conversation_header, user, messages));
}

RouteSelection RouteService::select_text(RouteMode mode, std::string_view text, std::string key) {
    RouteSelection s;
    s.mode = mode;
    s.conversation_key = std::move(key);
    std::optional<router::ConversationState> conv;
    if (!s.conversation_key.empty()) conv = conversations_.get(s.conversation_key);
    // Pinned modes show the router's view but never stick or switch.
    s.decision = router_->decide(text, mode == RouteMode::automatic && conv ? &*conv : nullptr);
    if (mode == RouteMode::expert) s.decision.role = router::Role::expert;
    if (mode == RouteMode::daily) s.decision.role = router::Role::daily;
    s.model = s.decision.role == router::Role::expert ? expert_model_ : daily_model_;
    metrics_.observe(mode, s.decision.role, s.model, s.decision);
    return s;
}

void RouteService::record(const RouteSelection& selection, int64_t prompt_tokens) {
    if (selection.conversation_key.empty()) return;
    conversations_.put(selection.conversation_key, {selection.decision.role, prompt_tokens});
}

}  // namespace duet::server
