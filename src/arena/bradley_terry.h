// bradley_terry.h: Bradley-Terry strengths from pairwise battle counts (ties as half wins), fitted by Newton's
// method on log-strengths; optional position ("left side") term. Pure numerics: no names, no JSON.
//
// Model: model i has log-strength b_i; with the position term a (log theta), the left model i beats the right
// model j with probability
//     P(i beats j | i left) = sigmoid(a + b_i - b_j)        (a = 0 without the position term)
// A tie (or "both bad") counts as half a win for each side, i.e. the weighted log-likelihood
//     L = sum_{i,j} w_ij (a + b_i - b_j) - n_ij log(1 + exp(a + b_i - b_j))
// with n_ij battles that had i on the left and j on the right and w_ij = left wins + ties / 2.
//
// Prior (keeps every estimate finite): each model plays `prior_games` virtual games against a fixed anchor of
// strength exp(0), winning half of them; the position term gets the same prior against "no advantage". With any
// prior > 0 the objective is strictly concave, so the maximum is unique even for a model that never won, for
// models never compared with each other, or with no battles at all (everything then sits at 0).
//
// Convergence rule: Newton steps (the Hessian solved by Cholesky, halved until L does not decrease) until the
// largest change of any parameter is below `tolerance` (in natural-log units), at most `max_iterations` steps.
// The fitted log-strengths are then centred to mean 0 (the geometric mean strength is 1).
#pragma once

#include <cstdint>
#include <vector>

#include "arena/battle.h"

namespace duet::arena {

// Battle counts over K models by ordered pair: [left * K + right].
struct PairCounts {
    explicit PairCounts(int num_models = 0);

    void add(int left, int right, Outcome outcome, int64_t count = 1);

    int num_models = 0;
    std::vector<int64_t> left_wins;   // left model won
    std::vector<int64_t> right_wins;  // right model won
    std::vector<int64_t> ties;        // tie or both bad

    int64_t games(int left, int right) const;
    int64_t total_games() const;
};

struct FitOptions {
    bool position_term = false;  // fit the left-side advantage a; otherwise a = 0
    double prior_games = 1.0;    // virtual games against the anchor (>= 0; 0 = plain maximum likelihood)
    double tolerance = 1e-9;     // stop when max |step| < tolerance (natural-log units)
    int max_iterations = 100;
};

struct FitResult {
    std::vector<double> log_strength;  // b_i, centred to mean 0
    double log_left_advantage = 0;     // a; 0 without the position term
    int iterations = 0;
    bool converged = false;  // false only when max_iterations ran out (e.g. prior 0 and a model never won)
};

// `start` (optional): a previous fit to begin from (e.g. the full-data fit for bootstrap resamples, which then
// need about half the Newton steps); the maximum reached is the same, only the path is shorter.
FitResult fit_bradley_terry(const PairCounts& counts, const FitOptions& options, const FitResult* start = nullptr);

// Elo scale: 1000 + 400 log10(strength). A 400-point gap means 10:1 odds.
inline constexpr double kEloBase = 1000.0;
inline constexpr double kEloPerNaturalLog = 400.0 / 2.302585092994046;  // 400 / ln 10

inline double elo_from_log_strength(double b) { return kEloBase + kEloPerNaturalLog * b; }

}  // namespace duet::arena
