// route_roles.cpp: choose_route_roles: explicit flags first, then the chat models named after the roles.
#include "server/route_roles.h"

#include <algorithm>
#include <cctype>

namespace duet::server {

namespace {

bool same_ascii_lower(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string served_names(const std::vector<RoleCandidate>& models) {
    std::string out;
    for (const auto& m : models) out += (out.empty() ? "" : ", ") + m.name;
    return out;
}

// The model of one role: the flag's, checked, or the default by name (empty when none fits).
Result<std::string> pick(const std::vector<RoleCandidate>& models, const char* role, const std::string& flag,
                         std::vector<std::string>* notes) {
    if (!flag.empty()) {
        const auto it = std::find_if(models.begin(), models.end(), [&](const auto& m) { return m.name == flag; });
        if (it == models.end())
            return Status::invalid_argument("--%s '%s': no model of that name is served (models: %s)", role,
                                            flag.c_str(), served_names(models).c_str());
        if (!it->can_chat)
            return Status::invalid_argument("--%s '%s': that model cannot chat (an embedding model?)", role,
                                            flag.c_str());
        return flag;
    }
    for (const auto& m : models) {
        if (!same_ascii_lower(m.name, role)) continue;
        if (m.can_chat) return m.name;
        notes->push_back("model '" + m.name + "' cannot chat: it does not play the " + role + " role");
    }
    return std::string();
}

}  // namespace

Result<RoleChoice> choose_route_roles(const std::vector<RoleCandidate>& models, const std::string& expert_flag,
                                      const std::string& daily_flag) {
    RoleChoice choice;
    DUET_TRY(choice.expert, pick(models, "expert", expert_flag, &choice.notes));
    DUET_TRY(choice.daily, pick(models, "daily", daily_flag, &choice.notes));
    if (!choice.expert.empty() && choice.expert == choice.daily)
        return Status::invalid_argument("--expert and --daily name the same model '%s'", choice.expert.c_str());
    if (choice.complete()) return choice;
    const std::string has = !choice.expert.empty()  ? "only the expert role has a model ('" + choice.expert + "')"
                            : !choice.daily.empty() ? "only the daily role has a model ('" + choice.daily + "')"
                                                    : "no model has a role";
    choice.unavailable =
        "duet-auto, duet-expert and duet-daily need an expert and a daily chat model, and " + has +
        ": start duet serve with --expert NAME --daily NAME (or serve chat models named expert and daily)";
    return choice;
}

}  // namespace duet::server
