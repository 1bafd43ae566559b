// arena_store.h: the arena's rows: battles (two hidden models answer the same prompts), their turns, one vote per
// battle, and studies (two models, N participants with invite codes, one answer per participant per question).
// Same Database (same SQLite file) as the conversations; every write is one committed transaction.
//
//   battle 1--n turn (0, 1, ...)       battle 1--0..1 vote            (a second vote -> already_exists)
//   study 1--n question (0, 1, ...)    study 1--n participant (slot, invite code, a_first = slot is even)
//   participant 1--n answer            (one per question -> a second answer is already_exists)
//
// Errors: not_found (unknown battle / study / invite code / participant), already_exists (double vote or answer),
// invalid_argument (question index outside the study, empty model names, bad counts).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/types.h"

namespace duet::store {

class Database;

class ArenaStore {
public:
    explicit ArenaStore(Database& db);

    Result<Battle> create_battle(const BattleDraft& draft);
    // Many battles in one transaction (bulk import, benchmarks); returns their ids in order.
    Result<std::vector<int64_t>> create_battles(const std::vector<BattleDraft>& drafts);
    // Appends a turn (its `turn` and `created_at` are assigned); returns the stored turn.
    Result<BattleTurn> record_turn(int64_t battle_id, const BattleTurn& turn);
    // The one vote of a battle: unknown battle -> not_found, already voted -> already_exists.
    Status vote(int64_t battle_id, const Vote& vote);
    Result<BattleDetail> battle(int64_t battle_id);

    // Battles with id > after_id in id order, at most `limit` (paging for the leaderboard and exports).
    Result<std::vector<BattleRecord>> list_battles(int64_t after_id, int limit);
    // Every battle in id order, streamed from one read snapshot; `fn` returning false stops early.
    Status for_each_battle(const std::function<bool(const BattleRecord&)>& fn);
    // Every turn of every battle with its battle and vote, in (battle, turn) order (CSV export).
    Status for_each_battle_turn(const std::function<bool(const BattleRecord&, const BattleTurn&)>& fn);

    // Creates the study and its participant_count participants (random invite codes, a_first = even slot).
    Result<StudyResults> create_study(const StudyDraft& draft);
    Result<std::vector<Study>> list_studies();
    // The participant holding this invite code; the first join sets joined_at. Unknown code -> not_found.
    Result<Participant> join_study(const std::string& invite_code);
    // One answer per participant per question: a second one -> already_exists.
    Status answer(int64_t participant_id, int64_t question_idx, const std::optional<Pick>& choice,
                  const std::optional<std::string>& free_text);
    Result<StudyResults> study_results(int64_t study_id);

private:
    Database& db_;
};

}  // namespace duet::store
