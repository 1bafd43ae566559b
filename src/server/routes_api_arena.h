// routes_api_arena.h: the arena's /api routes (blind A/B battles, votes, reveal, leaderboard, export) and what the
// `duet arena report` command shares with them (battles from the store, the report as JSON).
//
//   POST /api/arena/battles               {"prompt", "models"?: [x, y]} -> SSE: {"battle": id}, then answers
//   POST /api/arena/battles/{id}/turns    {"prompt"}                    -> SSE: the next turn (same events)
//   POST /api/arena/battles/{id}/vote     {"winner": a|b|tie|both_bad, "keep_chatting"|"understood"|"too_ai":
//                                          a|b|both|neither} -> the reveal (rate-limited per session: 429)
//   GET  /api/arena/battles/{id}          before the vote: turns with masked answers, no names; after: the reveal
//   GET  /api/arena/leaderboard           ?bootstrap=N&seed=S: the report (arena_report_json)
//   GET  /api/arena/export                ?format=csv (default): every turn of every battle as CSV;
//                                         ?format=jsonl: one battle per line (vote and turns nested)
//   /api/arena/studies, /api/arena/study/{code}: the study mode (routes_api_study.cpp)
//
// A battle's SSE events (one JSON object per `data:` line, then [DONE]):
//   {"battle": 7}                                  first event of POST /battles only
//   {"side": "a", "content": "I am [hidden], ..."} answer text as it streams (names masked, reasoning never sent)
//   {"side": "b", "done": true}                    that side finished
//   {"turn": 0, "done": true}                      both finished and the turn is stored
//   {"error": {...}}                               a model failed; the turn is not stored
// Sides are drawn at random per battle (which model is "a"); the two answers stream at the same time.
// The session: the page's duet_session cookie, else a duet_arena cookie the first battle sets (else one shared
// "anonymous" bucket, e.g. curl without cookies). Votes are counted against it (VoteLimiter).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "arena/battle.h"
#include "arena/leaderboard.h"
#include "arena/study.h"
#include "common/status.h"
#include "server/route_table.h"
#include "server/server.h"
#include "store/types.h"

namespace duet::store {
class ArenaStore;
class Store;
}  // namespace duet::store

namespace duet::server {

struct ArenaOptions {
    int votes_per_minute = 30;  // per session; 0 = no limit
    int max_turns = 8;          // turns per battle
    int max_tokens = 1024;      // per answer
    int bootstrap_rounds = 1000;
};

// At most max_votes per key in any window of window_seconds (a sliding log of accepted votes per key).
class VoteLimiter {
public:
    VoteLimiter(int max_votes, double window_seconds) : max_votes_(max_votes), window_(window_seconds) {}
    // true: counted. false: over the limit; *retry_after gets the seconds until the oldest vote leaves the window.
    bool try_take(const std::string& key, double now_seconds, double* retry_after);
    // Undoes the last try_take of `key` (the vote was refused for another reason).
    void give_back(const std::string& key);

private:
    int max_votes_;
    double window_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::deque<double>> taken_;
};

// Every voted battle in the store as the statistics see it (unvoted ones are left out).
Result<std::vector<arena::Battle>> load_arena_battles(store::ArenaStore& arena);
// The report as JSON: GET /api/arena/leaderboard and `duet arena report --json` print the same.
std::string arena_report_json(const arena::ArenaReport& report);

// A study's free texts are stored as two extra questions appended at creation, in the study's terms.
inline const std::array<std::string, 2> kStudyFreeTextQuestions = {"(free text) about model_a",
                                                                   "(free text) about model_b"};
inline bool is_study_free_text(const std::string& question) {
    return question == kStudyFreeTextQuestions[0] || question == kStudyFreeTextQuestions[1];
}

// A study's results as the statistics see them: GET /api/arena/studies/{id} and `duet arena report` show these.
struct StudyReport {
    store::StudyResults stored;                   // the study, its participants and raw answers
    std::vector<int64_t> answered;                // participant ids with at least one answer, ascending
    int64_t joined = 0;                           // participants who opened their invite
    arena::StudySummary summary;                  // per question: share naming each model (Wilson 95%), AI-speak counts
    std::vector<arena::StudyFreeText> free_text;  // in the order stored
};
Result<StudyReport> load_study_report(store::ArenaStore& arena, int64_t study_id);

RouteTable arena_routes(Server::State& state, std::shared_ptr<store::Store> store, ArenaOptions options);
// The study mode's routes (routes_api_study.cpp: organiser /api/arena/studies, participant /api/arena/study/{code}).
RouteTable study_routes(Server::State& state, std::shared_ptr<store::Store> store, ArenaOptions options);

}  // namespace duet::server
