// arena_report.cpp: the arena's shared pieces (routes_api_arena.h): battles from the store in the statistics'
// types, the report as JSON, and the per-session vote limiter.
#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "server/routes_api_arena.h"
#include "store/arena_store.h"
#include "store/codec_json.h"

namespace duet::server {

using nlohmann::json;

namespace {

arena::Outcome outcome_of(store::Verdict verdict) {
    switch (verdict) {
        case store::Verdict::a:
            return arena::Outcome::left_wins;
        case store::Verdict::b:
            return arena::Outcome::right_wins;
        case store::Verdict::tie:
            return arena::Outcome::tie;
        case store::Verdict::both_bad:
            return arena::Outcome::both_bad;
    }
    return arena::Outcome::tie;
}

// Elo figures rounded to 0.01 and rates to 1e-4: enough for a table, stable across builds.
double round_to(double x, double step) { return std::round(x / step) * step; }

json proportion_json(const arena::Proportion& p) {
    return {{"successes", p.successes},
            {"trials", p.trials},
            {"estimate", round_to(p.estimate, 1e-4)},
            {"low", round_to(p.low, 1e-4)},
            {"high", round_to(p.high, 1e-4)}};
}

json leaderboard_json(const arena::Leaderboard& board) {
    json ratings = json::array();
    for (const auto& r : board.ratings) {
        ratings.push_back({{"model", r.model},
                           {"rank", r.rank},
                           {"elo", round_to(r.elo, 0.01)},
                           {"elo_low", round_to(r.elo_low, 0.01)},
                           {"elo_high", round_to(r.elo_high, 0.01)},
                           {"battles", r.battles},
                           {"wins", r.wins},
                           {"losses", r.losses},
                           {"ties", r.ties},
                           {"win_rate", round_to(r.win_rate, 1e-4)}});
    }
    const size_t k = board.models.size();
    json win_rate = json::array(), counts = json::array();
    for (size_t i = 0; i < k; ++i) {
        json rate_row = json::array(), count_row = json::array();
        for (size_t j = 0; j < k; ++j) {
            const auto& w = board.win_rate[i * k + j];
            rate_row.push_back(w ? json(round_to(*w, 1e-4)) : json(nullptr));
            count_row.push_back(board.battle_count[i * k + j]);
        }
        win_rate.push_back(std::move(rate_row));
        counts.push_back(std::move(count_row));
    }
    return {{"battles", board.battles},         {"ignored", board.ignored},
            {"both_bad", board.both_bad},       {"bootstrap_rounds", board.bootstrap_rounds},
            {"converged", board.converged},     {"ratings", std::move(ratings)},
            {"models", board.models},           {"win_rate", std::move(win_rate)},
            {"battle_count", std::move(counts)}};
}

json agreement_json(const arena::RouterAgreement& a) {
    return {{"with_pick", a.with_pick},
            {"pick_not_in_battle", a.pick_not_in_battle},
            {"undecided", a.undecided},
            {"agreement", proportion_json(a.agreement)}};
}

template <typename T, typename F>
json split_json(const std::vector<std::pair<std::string, T>>& splits, F&& to_json) {
    json out = json::object();
    for (const auto& [key, value] : splits) out[key.empty() ? "unknown" : key] = to_json(value);
    return out;
}

}  // namespace

Result<std::vector<arena::Battle>> load_arena_battles(store::ArenaStore& store) {
    std::vector<arena::Battle> battles;
    DUET_RETURN_IF_ERROR(store.for_each_battle([&](const store::BattleRecord& r) {
        if (!r.vote) return true;
        arena::Battle b;
        b.left_model = r.battle.model_a;
        b.right_model = r.battle.model_b;
        b.outcome = outcome_of(r.vote->winner);
        b.route = r.battle.route.value_or("");
        b.language = r.battle.language.value_or("");
        b.router_pick = r.battle.router_pick.value_or("");
        battles.push_back(std::move(b));
        return true;
    }));
    return battles;
}

Result<StudyReport> load_study_report(store::ArenaStore& arena, int64_t study_id) {
    StudyReport report;
    DUET_TRY(report.stored, arena.study_results(study_id));
    const store::Study& s = report.stored.study;
    const std::vector<std::string> models = {s.model_a, s.model_b};
    std::vector<std::string> questions;
    for (const auto& q : s.questions)
        if (!is_study_free_text(q)) questions.push_back(q);
    std::vector<arena::StudyAnswer> answers;
    std::set<int64_t> answered;
    for (const auto& a : report.stored.answers) {
        if (a.question_idx < 0 || a.question_idx >= static_cast<int64_t>(s.questions.size())) continue;
        answered.insert(a.participant_id);
        const std::string& question = s.questions[a.question_idx];
        const std::string participant = std::to_string(a.participant_id);
        if (is_study_free_text(question)) {
            if (!a.free_text || a.free_text->empty()) continue;
            const std::string& model = question == kStudyFreeTextQuestions[0] ? s.model_a : s.model_b;
            report.free_text.push_back({participant, model, *a.free_text});
            continue;
        }
        arena::StudyAnswer answer{participant, question, {}};
        if (a.choice == store::Pick::a || a.choice == store::Pick::both) answer.models_named.push_back(s.model_a);
        if (a.choice == store::Pick::b || a.choice == store::Pick::both) answer.models_named.push_back(s.model_b);
        if (a.choice) answers.push_back(std::move(answer));
    }
    report.summary = arena::summarize_study(models, questions, answers, report.free_text);
    report.answered.assign(answered.begin(), answered.end());
    report.joined = std::count_if(report.stored.participants.begin(), report.stored.participants.end(),
                                  [](const store::Participant& p) { return p.joined_at.has_value(); });
    return report;
}

std::string arena_report_json(const arena::ArenaReport& report) {
    json j = leaderboard_json(report.overall);
    j["by_route"] = split_json(report.by_route, leaderboard_json);
    j["by_language"] = split_json(report.by_language, leaderboard_json);
    j["position"] = {{"left_wins", report.position.left_wins},
                     {"right_wins", report.position.right_wins},
                     {"ties", report.position.ties},
                     {"both_bad", report.position.both_bad},
                     {"left_win_rate", proportion_json(report.position.left_win_rate)}};
    j["router"] = agreement_json(report.router);
    j["router_by_route"] = split_json(report.router_by_route, agreement_json);
    return store::dump_json(j);
}

bool VoteLimiter::try_take(const std::string& key, double now, double* retry_after) {
    if (max_votes_ <= 0) return true;
    std::lock_guard<std::mutex> lock(mutex_);
    if (taken_.size() > 10000) {  // forget keys whose votes have all left the window
        for (auto it = taken_.begin(); it != taken_.end();)
            it = it->second.empty() || it->second.back() <= now - window_ ? taken_.erase(it) : std::next(it);
    }
    auto& log = taken_[key];
    while (!log.empty() && log.front() <= now - window_) log.pop_front();
    if (static_cast<int>(log.size()) >= max_votes_) {
        if (retry_after) *retry_after = log.front() + window_ - now;
        return false;
    }
    log.push_back(now);
    return true;
}

void VoteLimiter::give_back(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = taken_.find(key);
    if (it != taken_.end() && !it->second.empty()) it->second.pop_back();
}

}  // namespace duet::server
