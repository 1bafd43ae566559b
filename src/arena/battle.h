// battle.h: one arena battle as the statistics see it (native types only; the store and JSON live elsewhere).
//
// Sides are recorded as shown on screen: `left` is pane A, `right` is pane B. The position matters for the
// position-bias report and the optional position term of the Bradley-Terry fit; everywhere else a battle is the
// unordered pair {left, right} with a winner.
#pragma once

#include <string>

namespace duet::arena {

enum class Outcome {
    left_wins,   // vote "A"
    right_wins,  // vote "B"
    tie,         // vote "tie"
    both_bad,    // vote "both bad": a tie for strengths (neither beat the other), counted apart in the report
};

struct Battle {
    std::string left_model;
    std::string right_model;
    Outcome outcome = Outcome::tie;
    std::string route;        // router route of the prompt: "expert", "daily", or "" when unknown
    std::string language;     // language of the prompt, e.g. "zh", "en", or "" when unknown
    std::string router_pick;  // the model the router would have picked for this prompt, or "" when none
};

// The winner's name for a decisive battle, "" for a tie or both-bad.
inline const std::string& winner_of(const Battle& b) {
    static const std::string none;
    if (b.outcome == Outcome::left_wins) return b.left_model;
    if (b.outcome == Outcome::right_wins) return b.right_model;
    return none;
}

// A battle the statistics can use: two named, different models.
inline bool is_usable(const Battle& b) {
    return !b.left_model.empty() && !b.right_model.empty() && b.left_model != b.right_model;
}

}  // namespace duet::arena
