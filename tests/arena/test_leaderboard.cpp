// test_leaderboard.cpp: counts, matrices, ordering, reproducible bootstrap, reference model, splits, position
// bias, router agreement and degenerate inputs (no battles, one model, all ties).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "arena/leaderboard.h"

namespace duet::arena {
namespace {

Battle battle(const std::string& left, const std::string& right, Outcome o, const std::string& route = "",
              const std::string& language = "", const std::string& pick = "") {
    return {left, right, o, route, language, pick};
}

// a beats b 3 of 4 (one tie counted as half of it is not used here), b beats c 2 of 3; a and c never met.
std::vector<Battle> small_arena() {
    return {
        battle("a", "b", Outcome::left_wins, "expert", "zh", "a"),
        battle("b", "a", Outcome::right_wins, "expert", "zh", "a"),
        battle("a", "b", Outcome::left_wins, "daily", "en", "b"),
        battle("b", "a", Outcome::left_wins, "daily", "en", "b"),
        battle("b", "c", Outcome::left_wins, "daily", "zh", "c"),
        battle("c", "b", Outcome::tie, "daily", "zh", "c"),
        battle("c", "b", Outcome::both_bad, "", "", ""),
    };
}

const ModelRating& rating(const Leaderboard& board, const std::string& model) {
    for (const ModelRating& r : board.ratings)
        if (r.model == model) return r;
    ADD_FAILURE() << "no rating for " << model;
    static ModelRating none;
    return none;
}

TEST(Leaderboard, CountsMatricesAndOrder) {
    LeaderboardOptions options;
    options.bootstrap_rounds = 100;
    const Leaderboard board = compute_leaderboard(small_arena(), options);
    ASSERT_EQ(board.models, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(board.battles, 7);
    EXPECT_EQ(board.both_bad, 1);
    EXPECT_EQ(board.ignored, 0);
    EXPECT_EQ(board.ratings[0].rank, 1);
    EXPECT_EQ(board.ratings[2].rank, 3);
    EXPECT_GT(board.ratings[0].elo, board.ratings[1].elo);
    EXPECT_GT(board.ratings[1].elo, board.ratings[2].elo);

    const ModelRating& b = rating(board, "b");
    EXPECT_EQ(b.battles, 7);
    EXPECT_EQ(b.wins, 2);
    EXPECT_EQ(b.losses, 3);
    EXPECT_EQ(b.ties, 2);
    EXPECT_DOUBLE_EQ(b.win_rate, 3.0 / 7.0);

    const size_t k = 3;
    EXPECT_EQ(board.battle_count[0 * k + 1], 4);  // a vs b
    EXPECT_EQ(board.battle_count[1 * k + 0], 4);
    EXPECT_EQ(board.battle_count[1 * k + 2], 3);  // b vs c
    EXPECT_EQ(board.battle_count[0 * k + 2], 0);
    EXPECT_DOUBLE_EQ(*board.win_rate[0 * k + 1], 0.75);
    EXPECT_DOUBLE_EQ(*board.win_rate[1 * k + 0], 0.25);
    EXPECT_DOUBLE_EQ(*board.win_rate[1 * k + 2], 2.0 / 3.0);  // a win and two half wins
    EXPECT_DOUBLE_EQ(*board.win_rate[2 * k + 1], 1.0 / 3.0);
    EXPECT_FALSE(board.win_rate[0 * k + 2].has_value());
    EXPECT_FALSE(board.win_rate[0].has_value());

    double mean = 0;
    for (const ModelRating& r : board.ratings) {
        EXPECT_LE(r.elo_low, r.elo);
        EXPECT_GE(r.elo_high, r.elo);
        mean += r.elo / 3.0;
    }
    EXPECT_NEAR(mean, 1000.0, 1e-9);  // normalised: the mean Elo is 1000
}

TEST(Leaderboard, BootstrapIsReproducibleForASeed) {
    LeaderboardOptions options;
    options.bootstrap_rounds = 300;
    options.seed = 42;
    const Leaderboard one = compute_leaderboard(small_arena(), options);
    const Leaderboard two = compute_leaderboard(small_arena(), options);
    options.seed = 43;
    const Leaderboard other = compute_leaderboard(small_arena(), options);
    bool any_difference = false;
    for (size_t i = 0; i < one.ratings.size(); ++i) {
        EXPECT_EQ(one.ratings[i].elo_low, two.ratings[i].elo_low);
        EXPECT_EQ(one.ratings[i].elo_high, two.ratings[i].elo_high);
        any_difference |= one.ratings[i].elo_low != other.ratings[i].elo_low;
    }
    EXPECT_TRUE(any_difference);
    EXPECT_EQ(one.bootstrap_rounds, 300);
}

TEST(Leaderboard, ReferenceModelIsExactly1000) {
    LeaderboardOptions options;
    options.bootstrap_rounds = 50;
    options.reference_model = "c";
    const Leaderboard board = compute_leaderboard(small_arena(), options);
    const ModelRating& c = rating(board, "c");
    EXPECT_DOUBLE_EQ(c.elo, 1000.0);
    EXPECT_DOUBLE_EQ(c.elo_low, 1000.0);
    EXPECT_DOUBLE_EQ(c.elo_high, 1000.0);
    EXPECT_DOUBLE_EQ(c.strength, 1.0);
    options.reference_model = "nobody";  // unknown: falls back to the mean
    const Leaderboard fallback = compute_leaderboard(small_arena(), options);
    EXPECT_NE(rating(fallback, "c").elo, 1000.0);
}

TEST(Leaderboard, NoBattlesGivesAnEmptyBoard) {
    const Leaderboard board = compute_leaderboard({}, LeaderboardOptions{});
    EXPECT_TRUE(board.ratings.empty());
    EXPECT_TRUE(board.win_rate.empty());
    EXPECT_EQ(board.battles, 0);
    EXPECT_EQ(board.bootstrap_rounds, 0);
    EXPECT_TRUE(board.converged);
}

TEST(Leaderboard, OneModelOrUnnamedSidesAreIgnoredAndCounted) {
    const std::vector<Battle> battles = {battle("a", "a", Outcome::left_wins), battle("", "b", Outcome::tie),
                                         battle("a", "", Outcome::right_wins)};
    const Leaderboard board = compute_leaderboard(battles, LeaderboardOptions{});
    EXPECT_TRUE(board.ratings.empty());
    EXPECT_EQ(board.ignored, 3);
    EXPECT_EQ(board.battles, 0);
}

TEST(Leaderboard, AllTiesGiveEqualFiniteRatings) {
    std::vector<Battle> battles;
    for (int n = 0; n < 30; ++n) {
        battles.push_back(battle("a", "b", Outcome::tie));
        battles.push_back(battle("c", "a", n % 2 ? Outcome::tie : Outcome::both_bad));
    }
    LeaderboardOptions options;
    options.bootstrap_rounds = 200;
    const Leaderboard board = compute_leaderboard(battles, options);
    ASSERT_EQ(board.ratings.size(), 3u);
    for (const ModelRating& r : board.ratings) {
        EXPECT_NEAR(r.elo, 1000.0, 1e-6) << r.model;
        EXPECT_TRUE(std::isfinite(r.elo_low) && std::isfinite(r.elo_high));
        EXPECT_NEAR(r.elo_low, 1000.0, 1e-6);  // every resample is all ties too
        EXPECT_DOUBLE_EQ(r.win_rate, 0.5);
    }
    EXPECT_EQ(board.both_bad, 15);
}

TEST(Leaderboard, ModelThatAlwaysLosesStaysFinite) {
    std::vector<Battle> battles(20, battle("strong", "weak", Outcome::left_wins));
    LeaderboardOptions options;
    options.bootstrap_rounds = 100;
    const Leaderboard board = compute_leaderboard(battles, options);
    for (const ModelRating& r : board.ratings) {
        EXPECT_TRUE(std::isfinite(r.elo) && std::isfinite(r.elo_low) && std::isfinite(r.elo_high));
    }
    EXPECT_EQ(board.ratings[0].model, "strong");
    EXPECT_TRUE(board.converged);
}

TEST(PositionBias, CountsSidesAmongDecisiveVotes) {
    std::vector<Battle> battles;
    for (int n = 0; n < 10; ++n) battles.push_back(battle(n % 2 ? "a" : "b", n % 2 ? "b" : "a", Outcome::left_wins));
    battles.push_back(battle("a", "b", Outcome::right_wins));
    battles.push_back(battle("b", "a", Outcome::right_wins));
    battles.push_back(battle("a", "b", Outcome::tie));
    battles.push_back(battle("a", "b", Outcome::both_bad));
    battles.push_back(battle("a", "a", Outcome::left_wins));  // unusable, not counted
    const PositionBias bias = position_bias(battles);
    EXPECT_EQ(bias.left_wins, 10);
    EXPECT_EQ(bias.right_wins, 2);
    EXPECT_EQ(bias.ties, 1);
    EXPECT_EQ(bias.both_bad, 1);
    EXPECT_DOUBLE_EQ(bias.left_win_rate.estimate, 10.0 / 12.0);
    EXPECT_NEAR(bias.left_win_rate.low, 0.5520, 5e-5);
    EXPECT_NEAR(bias.left_win_rate.high, 0.9530, 5e-5);
}

TEST(RouterAgreement, CountsPicksThatWon) {
    const RouterAgreement agreement = router_agreement(small_arena());
    // Picks: a won (left "a" wins) yes; "a" right wins yes; "b" but a won: no; b left wins with pick b: yes;
    // b beats c with pick c: no; tie with pick c: undecided; the last has no pick.
    EXPECT_EQ(agreement.with_pick, 6);
    EXPECT_EQ(agreement.undecided, 1);
    EXPECT_EQ(agreement.pick_not_in_battle, 0);
    EXPECT_DOUBLE_EQ(agreement.agreement.successes, 3);
    EXPECT_DOUBLE_EQ(agreement.agreement.trials, 5);
    const RouterAgreement outside = router_agreement({battle("a", "b", Outcome::left_wins, "", "", "z")});
    EXPECT_EQ(outside.pick_not_in_battle, 1);
    EXPECT_EQ(outside.agreement.trials, 0);
    EXPECT_EQ(outside.agreement.high, 1.0);
}

TEST(ArenaReport, SplitsByRouteAndLanguage) {
    LeaderboardOptions options;
    options.bootstrap_rounds = 20;
    const ArenaReport report = build_report(small_arena(), options);
    EXPECT_EQ(report.overall.battles, 7);
    ASSERT_EQ(report.by_route.size(), 3u);
    EXPECT_EQ(report.by_route[0].first, "daily");
    EXPECT_EQ(report.by_route[0].second.battles, 4);
    EXPECT_EQ(report.by_route[1].first, "expert");
    EXPECT_EQ(report.by_route[1].second.battles, 2);
    EXPECT_EQ(report.by_route[1].second.models, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(report.by_route[2].first, "unknown");
    ASSERT_EQ(report.by_language.size(), 3u);
    EXPECT_EQ(report.by_language[0].first, "en");
    EXPECT_EQ(report.by_language[0].second.battles, 2);
    EXPECT_EQ(report.by_language[1].first, "unknown");
    EXPECT_EQ(report.by_language[2].first, "zh");
    EXPECT_EQ(report.by_language[2].second.battles, 4);
    ASSERT_EQ(report.router_by_route.size(), 3u);
    EXPECT_DOUBLE_EQ(report.router_by_route[1].second.agreement.estimate, 1.0);  // expert: both picks won
    EXPECT_EQ(report.position.left_wins, 4);
    EXPECT_EQ(report.position.right_wins, 1);
    EXPECT_EQ(report.router.with_pick, 6);
}

}  // namespace
}  // namespace duet::arena
