// leaderboard.cpp: ratings, bootstrap intervals, matrices, splits, position bias and router agreement.
#include "arena/leaderboard.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace duet::arena {

namespace {

constexpr int kOutcomeClasses = 3;  // left win, right win, tie (both bad folds into tie)

const Outcome kClassOutcome[kOutcomeClasses] = {Outcome::left_wins, Outcome::right_wins, Outcome::tie};

// One non-empty (left, right, outcome class) cell and how many battles fell into it.
struct Cell {
    int left;
    int right;
    int klass;
    int64_t count;
};

// Log-strengths shifted so the reference (or, without one, the mean) is 0; the fit is already mean-centred.
void normalise(std::vector<double>& b, int reference) {
    if (reference < 0) return;
    const double shift = b[reference];
    for (double& v : b) v -= shift;
}

// Linear interpolation between order statistics of a sorted sample.
double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    const double pos = q * static_cast<double>(sorted.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double frac = pos - static_cast<double>(lo);
    return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

}  // namespace

Leaderboard compute_leaderboard(const std::vector<Battle>& battles, const LeaderboardOptions& options) {
    Leaderboard board;
    std::map<std::string, int> index;  // sorted names: a stable model order for the fit and the random stream
    for (const Battle& b : battles) {
        if (!is_usable(b)) {
            ++board.ignored;
            continue;
        }
        index.emplace(b.left_model, 0);
        index.emplace(b.right_model, 0);
    }
    std::vector<std::string> names;
    for (auto& [name, i] : index) {
        i = static_cast<int>(names.size());
        names.push_back(name);
    }
    const int k = static_cast<int>(names.size());
    PairCounts counts(k);
    std::vector<ModelRating> ratings(k);
    for (int i = 0; i < k; ++i) ratings[i].model = names[i];
    for (const Battle& b : battles) {
        if (!is_usable(b)) continue;
        const int l = index.at(b.left_model);
        const int r = index.at(b.right_model);
        counts.add(l, r, b.outcome);
        ++board.battles;
        ++ratings[l].battles;
        ++ratings[r].battles;
        switch (b.outcome) {
            case Outcome::left_wins:
                ++ratings[l].wins;
                ++ratings[r].losses;
                break;
            case Outcome::right_wins:
                ++ratings[r].wins;
                ++ratings[l].losses;
                break;
            case Outcome::both_bad:
                ++board.both_bad;
                [[fallthrough]];
            case Outcome::tie:
                ++ratings[l].ties;
                ++ratings[r].ties;
                break;
        }
    }
    for (ModelRating& m : ratings)
        m.win_rate = m.battles ? (static_cast<double>(m.wins) + 0.5 * static_cast<double>(m.ties)) / m.battles : 0.0;

    const auto ref_it = index.find(options.reference_model);
    const int reference = options.reference_model.empty() || ref_it == index.end() ? -1 : ref_it->second;

    FitResult point = fit_bradley_terry(counts, options.fit);
    const FitResult centred_point = point;  // the start of every resample's fit
    normalise(point.log_strength, reference);
    board.converged = point.converged;
    for (int i = 0; i < k; ++i) {
        ratings[i].elo = ratings[i].elo_low = ratings[i].elo_high = elo_from_log_strength(point.log_strength[i]);
        ratings[i].strength = std::exp(point.log_strength[i]);
    }
    board.left_advantage_elo = board.left_advantage_low = board.left_advantage_high =
        kEloPerNaturalLog * point.log_left_advantage;

    // Bootstrap: one multinomial draw over the non-empty cells per round.
    std::vector<Cell> cells;
    for (int l = 0; l < k; ++l)
        for (int r = 0; r < k; ++r) {
            if (l == r) continue;
            const size_t at = static_cast<size_t>(l) * k + r;
            const int64_t by_class[kOutcomeClasses] = {counts.left_wins[at], counts.right_wins[at], counts.ties[at]};
            for (int c = 0; c < kOutcomeClasses; ++c)
                if (by_class[c] > 0) cells.push_back({l, r, c, by_class[c]});
        }
    const int rounds = board.battles > 0 ? std::max(0, options.bootstrap_rounds) : 0;
    board.bootstrap_rounds = rounds;
    if (rounds > 0) {
        std::mt19937_64 rng(options.seed);
        std::vector<std::vector<double>> elo_samples(k, std::vector<double>(rounds));
        std::vector<double> advantage_samples(rounds);
        PairCounts resample(k);
        for (int round = 0; round < rounds; ++round) {
            std::fill(resample.left_wins.begin(), resample.left_wins.end(), 0);
            std::fill(resample.right_wins.begin(), resample.right_wins.end(), 0);
            std::fill(resample.ties.begin(), resample.ties.end(), 0);
            int64_t left_to_draw = board.battles;
            int64_t mass_left = board.battles;  // battles in this cell and the cells after it
            for (size_t c = 0; c < cells.size() && left_to_draw > 0; ++c) {
                int64_t drawn = left_to_draw;
                if (c + 1 < cells.size() && cells[c].count < mass_left) {
                    std::binomial_distribution<int64_t> draw(left_to_draw, static_cast<double>(cells[c].count) /
                                                                               static_cast<double>(mass_left));
                    drawn = draw(rng);
                }
                resample.add(cells[c].left, cells[c].right, kClassOutcome[cells[c].klass], drawn);
                left_to_draw -= drawn;
                mass_left -= cells[c].count;
            }
            FitResult fit = fit_bradley_terry(resample, options.fit, &centred_point);
            normalise(fit.log_strength, reference);
            for (int i = 0; i < k; ++i) elo_samples[i][round] = elo_from_log_strength(fit.log_strength[i]);
            advantage_samples[round] = kEloPerNaturalLog * fit.log_left_advantage;
        }
        const double tail = (1.0 - options.interval_mass) / 2.0;
        for (int i = 0; i < k; ++i) {
            std::sort(elo_samples[i].begin(), elo_samples[i].end());
            ratings[i].elo_low = percentile(elo_samples[i], tail);
            ratings[i].elo_high = percentile(elo_samples[i], 1.0 - tail);
        }
        if (options.fit.position_term) {
            std::sort(advantage_samples.begin(), advantage_samples.end());
            board.left_advantage_low = percentile(advantage_samples, tail);
            board.left_advantage_high = percentile(advantage_samples, 1.0 - tail);
        }
    }

    // Best first; the matrices follow the same order.
    std::vector<int> order(k);
    for (int i = 0; i < k; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        if (ratings[a].elo != ratings[b].elo) return ratings[a].elo > ratings[b].elo;
        return ratings[a].model < ratings[b].model;
    });
    board.ratings.reserve(k);
    for (int rank = 0; rank < k; ++rank) {
        board.ratings.push_back(ratings[order[rank]]);
        board.ratings.back().rank = rank + 1;
        board.models.push_back(ratings[order[rank]].model);
    }
    board.win_rate.assign(static_cast<size_t>(k) * k, std::nullopt);
    board.battle_count.assign(static_cast<size_t>(k) * k, 0);
    for (int row = 0; row < k; ++row)
        for (int col = 0; col < k; ++col) {
            if (row == col) continue;
            const int i = order[row], j = order[col];
            const size_t ij = static_cast<size_t>(i) * k + j, ji = static_cast<size_t>(j) * k + i;
            const int64_t n = counts.games(i, j) + counts.games(j, i);
            const double won = static_cast<double>(counts.left_wins[ij] + counts.right_wins[ji]) +
                               0.5 * static_cast<double>(counts.ties[ij] + counts.ties[ji]);
            board.battle_count[static_cast<size_t>(row) * k + col] = n;
            if (n > 0) board.win_rate[static_cast<size_t>(row) * k + col] = won / static_cast<double>(n);
        }
    return board;
}

PositionBias position_bias(const std::vector<Battle>& battles) {
    PositionBias bias;
    for (const Battle& b : battles) {
        if (!is_usable(b)) continue;
        switch (b.outcome) {
            case Outcome::left_wins:
                ++bias.left_wins;
                break;
            case Outcome::right_wins:
                ++bias.right_wins;
                break;
            case Outcome::tie:
                ++bias.ties;
                break;
            case Outcome::both_bad:
                ++bias.both_bad;
                break;
        }
    }
    bias.left_win_rate =
        wilson_interval(static_cast<double>(bias.left_wins), static_cast<double>(bias.left_wins + bias.right_wins));
    return bias;
}

RouterAgreement router_agreement(const std::vector<Battle>& battles) {
    RouterAgreement agreement;
    int64_t agreed = 0, decisive = 0;
    for (const Battle& b : battles) {
        if (!is_usable(b) || b.router_pick.empty()) continue;
        if (b.router_pick != b.left_model && b.router_pick != b.right_model) {
            ++agreement.pick_not_in_battle;
            continue;
        }
        ++agreement.with_pick;
        const std::string& winner = winner_of(b);
        if (winner.empty()) {
            ++agreement.undecided;
            continue;
        }
        ++decisive;
        if (winner == b.router_pick) ++agreed;
    }
    agreement.agreement = wilson_interval(static_cast<double>(agreed), static_cast<double>(decisive));
    return agreement;
}

namespace {

template <typename Key>
std::vector<std::pair<std::string, std::vector<Battle>>> split_by(const std::vector<Battle>& battles, Key key) {
    std::map<std::string, std::vector<Battle>> groups;
    for (const Battle& b : battles) {
        std::string name = key(b);
        groups[name.empty() ? "unknown" : name].push_back(b);
    }
    return {groups.begin(), groups.end()};
}

}  // namespace

ArenaReport build_report(const std::vector<Battle>& battles, const LeaderboardOptions& options) {
    ArenaReport report;
    report.overall = compute_leaderboard(battles, options);
    for (auto& [route, group] : split_by(battles, [](const Battle& b) { return b.route; })) {
        report.by_route.emplace_back(route, compute_leaderboard(group, options));
        report.router_by_route.emplace_back(route, router_agreement(group));
    }
    for (auto& [language, group] : split_by(battles, [](const Battle& b) { return b.language; }))
        report.by_language.emplace_back(language, compute_leaderboard(group, options));
    report.position = position_bias(battles);
    report.router = router_agreement(battles);
    return report;
}

}  // namespace duet::arena
