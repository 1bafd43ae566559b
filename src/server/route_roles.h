// route_roles.h: which served models play the router's expert and daily roles (`duet serve --expert NAME --daily
// NAME`, or by default the chat models named `expert` and `daily`), and what a client is told when the router's
// modes are off. Pure: no registry, no HTTP; serve.cpp calls it before loading (names) and after (capabilities).
//
//   --expert NAME given  the model must exist and be able to chat, else `duet serve` fails at start
//   not given            the chat model named "expert" (ASCII case-insensitive); a non-chat one (an encoder) is
//                        skipped with a note
//   both roles found     duet-auto / duet-expert / duet-daily are served
//   otherwise            they are not: a request naming them gets 404 with `unavailable` (what is missing, and how
//                        to configure it)
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace duet::server {

struct RoleCandidate {
    std::string name;
    bool can_chat = true;  // unknown before loading: true
};

struct RoleChoice {
    std::string expert, daily;       // model names; empty when none
    std::vector<std::string> notes;  // defaults skipped and why (for the log)
    std::string unavailable;         // empty when both roles are set
    bool complete() const { return !expert.empty() && !daily.empty(); }
};

// Errors: an explicit name that is not served, cannot chat, or is the other role's model too.
Result<RoleChoice> choose_route_roles(const std::vector<RoleCandidate>& models, const std::string& expert_flag,
                                      const std::string& daily_flag);

}  // namespace duet::server
