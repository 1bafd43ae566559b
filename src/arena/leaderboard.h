// leaderboard.h: the arena leaderboard (Bradley-Terry ratings with bootstrap intervals, win-rate matrix, battle
// counts) and the full report: splits by route and language, position bias, router agreement.
//
// Pipeline:
//   battles --(usable ones, models sorted by name)--> PairCounts --fit--> point ratings
//        \--(seeded bootstrap: resample the battles with replacement, refit, R times)--> percentile intervals
//
// Bootstrap: resampling N battles with replacement only changes how many times each (left, right, outcome) cell
// occurs, so a resample is drawn as one multinomial(N; cell frequencies) over the cells (sequential binomials),
// which is the same distribution as drawing N battles one by one, at a cost independent of N. The random stream
// is std::mt19937_64 seeded with `seed`, so a report is reproducible for the same battles, seed and build.
// Intervals are the 2.5% and 97.5% percentiles of each model's Elo over the resamples (each resample normalised
// the same way as the point estimate).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arena/battle.h"
#include "arena/bradley_terry.h"
#include "arena/wilson.h"

namespace duet::arena {

struct LeaderboardOptions {
    int bootstrap_rounds = 1000;  // 0 = no intervals (they equal the point estimate)
    uint64_t seed = 1;
    FitOptions fit;               // fit.position_term adds the left-side advantage to the model
    std::string reference_model;  // when set and present: this model is exactly 1000; else the mean Elo is 1000
    double interval_mass = 0.95;  // central mass of the bootstrap interval
};

struct ModelRating {
    std::string model;
    int rank = 0;  // 1 = highest Elo
    double elo = kEloBase;
    double elo_low = kEloBase;
    double elo_high = kEloBase;
    double strength = 1;  // exp(log-strength) on the same normalisation (geometric mean 1, or the reference 1)
    int64_t battles = 0;
    int64_t wins = 0;
    int64_t losses = 0;
    int64_t ties = 0;     // ties and both-bad votes
    double win_rate = 0;  // (wins + ties / 2) / battles; 0 with no battles
};

struct Leaderboard {
    std::vector<ModelRating> ratings;  // best first
    // Matrices over `models` (the order of `ratings`), row i against column j, either side:
    std::vector<std::string> models;
    std::vector<std::optional<double>> win_rate;  // [i*K+j]: i's wins + ties/2 over their battles; none if none
    std::vector<int64_t> battle_count;            // [i*K+j]: battles between i and j
    int64_t battles = 0;                          // usable battles in this board
    int64_t ignored = 0;                          // battles without two different named models
    int64_t both_bad = 0;                         // of `battles`, voted "both bad" (counted as ties in the fit)
    // Left-side advantage on the Elo scale (only with fit.position_term; 0 otherwise).
    double left_advantage_elo = 0;
    double left_advantage_low = 0;
    double left_advantage_high = 0;
    int bootstrap_rounds = 0;
    bool converged = true;  // the point fit converged (see bradley_terry.h)
};

Leaderboard compute_leaderboard(const std::vector<Battle>& battles, const LeaderboardOptions& options);

// Position bias over decisive votes: how often the left pane (A) won.
struct PositionBias {
    int64_t left_wins = 0;
    int64_t right_wins = 0;
    int64_t ties = 0;
    int64_t both_bad = 0;
    Proportion left_win_rate;  // left_wins / (left_wins + right_wins), Wilson 95%
};

// Router agreement: among battles where the router picked one of the two models and the vote was decisive, how
// often the router's pick won. Ties and both-bad votes carry no preference and are not counted.
struct RouterAgreement {
    int64_t with_pick = 0;  // battles with a router pick that is one of the two models
    int64_t pick_not_in_battle = 0;
    int64_t undecided = 0;  // of with_pick: tie or both bad
    Proportion agreement;   // pick == winner, Wilson 95%
};

PositionBias position_bias(const std::vector<Battle>& battles);
RouterAgreement router_agreement(const std::vector<Battle>& battles);

struct ArenaReport {
    Leaderboard overall;
    std::vector<std::pair<std::string, Leaderboard>> by_route;  // sorted by key; "" is reported as "unknown"
    std::vector<std::pair<std::string, Leaderboard>> by_language;
    PositionBias position;
    RouterAgreement router;
    std::vector<std::pair<std::string, RouterAgreement>> router_by_route;
};

// Every split uses the same options (and seed).
ArenaReport build_report(const std::vector<Battle>& battles, const LeaderboardOptions& options);

}  // namespace duet::arena
