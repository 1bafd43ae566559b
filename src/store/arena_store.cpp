// arena_store.cpp: battles, turns, votes and studies over the Database.
#include "store/arena_store.h"

#include "store/conversation_store.h"  // random_id, now_ms
#include "store/database.h"

namespace duet::store {

std::string_view verdict_name(Verdict verdict) {
    switch (verdict) {
        case Verdict::a:
            return "a";
        case Verdict::b:
            return "b";
        case Verdict::tie:
            return "tie";
        case Verdict::both_bad:
            return "both_bad";
    }
    return "tie";
}

std::optional<Verdict> parse_verdict(std::string_view name) {
    for (Verdict v : {Verdict::a, Verdict::b, Verdict::tie, Verdict::both_bad})
        if (verdict_name(v) == name) return v;
    return std::nullopt;
}

std::string_view pick_name(Pick pick) {
    switch (pick) {
        case Pick::a:
            return "a";
        case Pick::b:
            return "b";
        case Pick::both:
            return "both";
        case Pick::neither:
            return "neither";
    }
    return "neither";
}

std::optional<Pick> parse_pick(std::string_view name) {
    for (Pick p : {Pick::a, Pick::b, Pick::both, Pick::neither})
        if (pick_name(p) == name) return p;
    return std::nullopt;
}

namespace {

std::optional<std::string_view> pick_text(const std::optional<Pick>& p) {
    return p ? std::optional<std::string_view>(pick_name(*p)) : std::nullopt;
}

std::optional<Pick> read_pick(const Statement& s, int col) {
    auto text = s.opt_text(col);
    return text ? parse_pick(*text) : std::nullopt;
}

// Columns 0..14: the battle, its vote (NULL when none) and its number of turns.
#define DUET_BATTLE_SELECT(where)                                                                      \
    "SELECT b.id, b.created_at, b.model_a, b.model_b, b.route, b.router_pick, b.language, b.session, " \
    "v.winner, v.keep_chatting, v.understood, v.too_ai, v.session, v.created_at, "                     \
    "(SELECT count(*) FROM battle_turns t WHERE t.battle_id = b.id) "                                  \
    "FROM battles b LEFT JOIN votes v ON v.battle_id = b.id " where

BattleRecord read_battle(const Statement& s) {
    BattleRecord r;
    r.battle.id = s.int64(0);
    r.battle.created_at = s.int64(1);
    r.battle.model_a = s.text(2);
    r.battle.model_b = s.text(3);
    r.battle.route = s.opt_text(4);
    r.battle.router_pick = s.opt_text(5);
    r.battle.language = s.opt_text(6);
    r.battle.session = s.opt_text(7);
    if (!s.is_null(8)) {
        Vote v;
        v.winner = parse_verdict(s.text(8)).value_or(Verdict::tie);  // CHECK keeps it valid
        v.keep_chatting = read_pick(s, 9);
        v.understood = read_pick(s, 10);
        v.too_ai = read_pick(s, 11);
        v.session = s.opt_text(12);
        v.created_at = s.int64(13);
        r.vote = v;
    }
    r.n_turns = s.int64(14);
    return r;
}

#define DUET_TURN_COLUMNS                                                                                \
    "t.turn, t.prompt, t.answer_a, t.answer_b, t.reasoning_a, t.reasoning_b, t.ttft_ms_a, t.ttft_ms_b, " \
    "t.tokens_per_second_a, t.tokens_per_second_b, t.completion_tokens_a, t.completion_tokens_b, t.created_at"

BattleTurn read_turn(const Statement& s, int first) {
    BattleTurn t;
    t.turn = s.int64(first + 0);
    t.prompt = s.text(first + 1);
    t.answer_a = s.text(first + 2);
    t.answer_b = s.text(first + 3);
    t.reasoning_a = s.opt_text(first + 4);
    t.reasoning_b = s.opt_text(first + 5);
    t.ttft_ms_a = s.opt_real(first + 6);
    t.ttft_ms_b = s.opt_real(first + 7);
    t.tokens_per_second_a = s.opt_real(first + 8);
    t.tokens_per_second_b = s.opt_real(first + 9);
    t.completion_tokens_a = s.opt_int64(first + 10);
    t.completion_tokens_b = s.opt_int64(first + 11);
    t.created_at = s.int64(first + 12);
    return t;
}

Result<int64_t> insert_battle(Connection& conn, const BattleDraft& d, TimeMs now) {
    if (d.model_a.empty() || d.model_b.empty()) return Status::invalid_argument("battle: empty model name");
    DUET_TRY(Statement s, conn.prepare("INSERT INTO battles (created_at, model_a, model_b, route, router_pick, "
                                       "language, session) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id"));
    s.bind(1, d.created_at.value_or(now)).bind(2, d.model_a).bind(3, d.model_b).bind(4, d.route);
    s.bind(5, d.router_pick).bind(6, d.language).bind(7, d.session);
    return s.run_returning_id();
}

Status require_battle(Connection& conn, int64_t battle_id) {
    DUET_TRY(Statement s, conn.prepare("SELECT 1 FROM battles WHERE id = ?1"));
    DUET_TRY(bool row, s.bind(1, battle_id).step());
    if (!row) return Status::not_found("battle %lld not found", (long long)battle_id);
    return {};
}

Result<Study> select_study(Connection& conn, int64_t study_id) {
    DUET_TRY(Statement s, conn.prepare("SELECT id, name, model_a, model_b, minutes_per_model, participant_count, "
                                       "created_at FROM studies WHERE id = ?1"));
    DUET_TRY(bool row, s.bind(1, study_id).step());
    if (!row) return Status::not_found("study %lld not found", (long long)study_id);
    Study st;
    st.id = s.int64(0);
    st.name = s.text(1);
    st.model_a = s.text(2);
    st.model_b = s.text(3);
    st.minutes_per_model = s.int64(4);
    st.participant_count = s.int64(5);
    st.created_at = s.int64(6);
    DUET_TRY(Statement q, conn.prepare("SELECT text FROM study_questions WHERE study_id = ?1 ORDER BY idx"));
    q.bind(1, study_id);
    for (;;) {
        DUET_TRY(bool more, q.step());
        if (!more) break;
        st.questions.push_back(q.text(0));
    }
    return st;
}

#define DUET_PARTICIPANT_SELECT(where) \
    "SELECT id, study_id, slot, invite_code, a_first, joined_at FROM participants " where

Participant read_participant(const Statement& s) {
    Participant p;
    p.id = s.int64(0);
    p.study_id = s.int64(1);
    p.slot = s.int64(2);
    p.invite_code = s.text(3);
    p.a_first = s.int64(4) != 0;
    p.joined_at = s.opt_int64(5);
    return p;
}

}  // namespace

ArenaStore::ArenaStore(Database& db) : db_(db) {}

Result<Battle> ArenaStore::create_battle(const BattleDraft& draft) {
    Battle b;
    static_cast<BattleDraft&>(b) = draft;
    b.created_at = draft.created_at.value_or(now_ms());
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        DUET_TRY(b.id, insert_battle(conn, b, *b.created_at));
        return {};
    }));
    return b;
}

Result<std::vector<int64_t>> ArenaStore::create_battles(const std::vector<BattleDraft>& drafts) {
    std::vector<int64_t> ids;
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        TimeMs now = now_ms();
        for (const auto& d : drafts) {
            DUET_TRY(int64_t id, insert_battle(conn, d, now));
            ids.push_back(id);
        }
        return {};
    }));
    return ids;
}

Result<BattleTurn> ArenaStore::record_turn(int64_t battle_id, const BattleTurn& turn) {
    BattleTurn t = turn;
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        DUET_RETURN_IF_ERROR(require_battle(conn, battle_id));
        DUET_TRY(Statement n, conn.prepare("SELECT count(*) FROM battle_turns WHERE battle_id = ?1"));
        DUET_TRY(bool row, n.bind(1, battle_id).step());
        t.turn = row ? n.int64(0) : 0;
        t.created_at = now_ms();
        DUET_TRY(Statement s, conn.prepare("INSERT INTO battle_turns (battle_id, turn, prompt, answer_a, answer_b, "
                                           "reasoning_a, reasoning_b, ttft_ms_a, ttft_ms_b, tokens_per_second_a, "
                                           "tokens_per_second_b, completion_tokens_a, completion_tokens_b, "
                                           "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                           "?13, ?14)"));
        s.bind(1, battle_id).bind(2, t.turn).bind(3, t.prompt).bind(4, t.answer_a).bind(5, t.answer_b);
        s.bind(6, t.reasoning_a).bind(7, t.reasoning_b).bind(8, t.ttft_ms_a).bind(9, t.ttft_ms_b);
        s.bind(10, t.tokens_per_second_a).bind(11, t.tokens_per_second_b).bind(12, t.completion_tokens_a);
        s.bind(13, t.completion_tokens_b).bind(14, t.created_at);
        return s.run();
    }));
    return t;
}

Status ArenaStore::vote(int64_t battle_id, const Vote& vote) {
    return db_.write([&](Connection& conn) -> Status {
        DUET_RETURN_IF_ERROR(require_battle(conn, battle_id));
        DUET_TRY(Statement s, conn.prepare("INSERT INTO votes (battle_id, winner, keep_chatting, understood, too_ai, "
                                           "session, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
        s.bind(1, battle_id).bind(2, verdict_name(vote.winner)).bind(3, pick_text(vote.keep_chatting));
        s.bind(4, pick_text(vote.understood)).bind(5, pick_text(vote.too_ai)).bind(6, vote.session);
        s.bind(7, vote.created_at > 0 ? vote.created_at : now_ms());
        Status st = s.run();
        if (st.code() == StatusCode::already_exists)
            return Status::already_exists("battle %lld already has a vote", (long long)battle_id);
        return st;
    });
}

Result<BattleDetail> ArenaStore::battle(int64_t battle_id) {
    BattleDetail out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare(DUET_BATTLE_SELECT("WHERE b.id = ?1")));
        DUET_TRY(bool row, s.bind(1, battle_id).step());
        if (!row) return Status::not_found("battle %lld not found", (long long)battle_id);
        out.record = read_battle(s);
        DUET_TRY(Statement t, conn.prepare("SELECT " DUET_TURN_COLUMNS
                                           " FROM battle_turns t WHERE t.battle_id = ?1 ORDER BY t.turn"));
        t.bind(1, battle_id);
        for (;;) {
            DUET_TRY(bool more, t.step());
            if (!more) return {};
            out.turns.push_back(read_turn(t, 0));
        }
    }));
    return out;
}

Result<std::vector<BattleRecord>> ArenaStore::list_battles(int64_t after_id, int limit) {
    if (limit < 1) return Status::invalid_argument("list battles: limit %d < 1", limit);
    std::vector<BattleRecord> out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare(DUET_BATTLE_SELECT("WHERE b.id > ?1 ORDER BY b.id LIMIT ?2")));
        s.bind(1, after_id).bind(2, limit);
        for (;;) {
            DUET_TRY(bool row, s.step());
            if (!row) return {};
            out.push_back(read_battle(s));
        }
    }));
    return out;
}

Status ArenaStore::for_each_battle(const std::function<bool(const BattleRecord&)>& fn) {
    return db_.read([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare(DUET_BATTLE_SELECT("ORDER BY b.id")));
        for (;;) {
            DUET_TRY(bool row, s.step());
            if (!row || !fn(read_battle(s))) return {};
        }
    });
}

Status ArenaStore::for_each_battle_turn(const std::function<bool(const BattleRecord&, const BattleTurn&)>& fn) {
    return db_.read([&](Connection& conn) -> Status {
        DUET_TRY(Statement s,
                 conn.prepare("SELECT b.id, b.created_at, b.model_a, b.model_b, b.route, b.router_pick, b.language, "
                              "b.session, v.winner, v.keep_chatting, v.understood, v.too_ai, v.session, v.created_at, "
                              "(SELECT count(*) FROM battle_turns n WHERE n.battle_id = b.id), " DUET_TURN_COLUMNS
                              " FROM battles b JOIN battle_turns t ON t.battle_id = b.id "
                              "LEFT JOIN votes v ON v.battle_id = b.id ORDER BY b.id, t.turn"));
        for (;;) {
            DUET_TRY(bool row, s.step());
            if (!row || !fn(read_battle(s), read_turn(s, 15))) return {};
        }
    });
}

Result<StudyResults> ArenaStore::create_study(const StudyDraft& draft) {
    if (draft.model_a.empty() || draft.model_b.empty() || draft.model_a == draft.model_b)
        return Status::invalid_argument("study: needs two different model names");
    if (draft.participant_count < 1 || draft.participant_count > 10000)
        return Status::invalid_argument("study: participant_count %lld outside [1, 10000]",
                                        (long long)draft.participant_count);
    if (draft.minutes_per_model < 1 || draft.minutes_per_model > 1440)
        return Status::invalid_argument("study: minutes_per_model %lld outside [1, 1440]",
                                        (long long)draft.minutes_per_model);
    if (draft.questions.size() > 100) return Status::invalid_argument("study: more than 100 questions");
    StudyResults out;
    static_cast<StudyDraft&>(out.study) = draft;
    out.study.created_at = now_ms();
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        DUET_TRY(Statement s,
                 conn.prepare("INSERT INTO studies (name, model_a, model_b, minutes_per_model, "
                              "participant_count, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id"));
        s.bind(1, draft.name).bind(2, draft.model_a).bind(3, draft.model_b).bind(4, draft.minutes_per_model);
        s.bind(5, draft.participant_count).bind(6, out.study.created_at);
        DUET_TRY(out.study.id, s.run_returning_id());
        for (size_t i = 0; i < draft.questions.size(); ++i) {
            DUET_TRY(Statement q,
                     conn.prepare("INSERT INTO study_questions (study_id, idx, text) VALUES (?1, ?2, ?3)"));
            DUET_RETURN_IF_ERROR(
                q.bind(1, out.study.id).bind(2, static_cast<int64_t>(i)).bind(3, draft.questions[i]).run());
        }
        for (int64_t slot = 0; slot < draft.participant_count; ++slot) {
            Participant p;
            p.study_id = out.study.id;
            p.slot = slot;
            p.invite_code = random_id();
            p.a_first = slot % 2 == 0;
            DUET_TRY(Statement q, conn.prepare("INSERT INTO participants (study_id, slot, invite_code, a_first) "
                                               "VALUES (?1, ?2, ?3, ?4) RETURNING id"));
            DUET_TRY(
                p.id,
                q.bind(1, p.study_id).bind(2, p.slot).bind(3, p.invite_code).bind(4, p.a_first).run_returning_id());
            out.participants.push_back(std::move(p));
        }
        return {};
    }));
    return out;
}

Result<std::vector<Study>> ArenaStore::list_studies() {
    std::vector<Study> out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        std::vector<int64_t> ids;
        {
            DUET_TRY(Statement s, conn.prepare("SELECT id FROM studies ORDER BY id"));
            for (;;) {
                DUET_TRY(bool row, s.step());
                if (!row) break;
                ids.push_back(s.int64(0));
            }
        }
        for (int64_t id : ids) {
            DUET_TRY(Study st, select_study(conn, id));
            out.push_back(std::move(st));
        }
        return {};
    }));
    return out;
}

Result<Participant> ArenaStore::join_study(const std::string& invite_code) {
    Participant p;
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare(DUET_PARTICIPANT_SELECT("WHERE invite_code = ?1")));
        DUET_TRY(bool row, s.bind(1, invite_code).step());
        if (!row) return Status::not_found("invite code not found");
        p = read_participant(s);
        if (!p.joined_at) {
            p.joined_at = now_ms();
            DUET_TRY(Statement u, conn.prepare("UPDATE participants SET joined_at = ?2 WHERE id = ?1"));
            DUET_RETURN_IF_ERROR(u.bind(1, p.id).bind(2, *p.joined_at).run());
        }
        return {};
    }));
    return p;
}

Status ArenaStore::answer(int64_t participant_id, int64_t question_idx, const std::optional<Pick>& choice,
                          const std::optional<std::string>& free_text) {
    return db_.write([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare("SELECT (SELECT count(*) FROM study_questions q WHERE q.study_id = "
                                           "p.study_id) FROM participants p WHERE p.id = ?1"));
        DUET_TRY(bool row, s.bind(1, participant_id).step());
        if (!row) return Status::not_found("participant %lld not found", (long long)participant_id);
        int64_t n_questions = s.int64(0);
        if (question_idx < 0 || question_idx >= n_questions)
            return Status::invalid_argument("answer: question %lld outside [0, %lld)", (long long)question_idx,
                                            (long long)n_questions);
        DUET_TRY(Statement ins, conn.prepare("INSERT INTO study_answers (participant_id, question_idx, choice, "
                                             "free_text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)"));
        ins.bind(1, participant_id).bind(2, question_idx).bind(3, pick_text(choice)).bind(4, free_text);
        ins.bind(5, now_ms());
        Status st = ins.run();
        if (st.code() == StatusCode::already_exists)
            return Status::already_exists("participant %lld already answered question %lld", (long long)participant_id,
                                          (long long)question_idx);
        return st;
    });
}

Result<StudyResults> ArenaStore::study_results(int64_t study_id) {
    StudyResults out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        DUET_TRY(out.study, select_study(conn, study_id));
        DUET_TRY(Statement p, conn.prepare(DUET_PARTICIPANT_SELECT("WHERE study_id = ?1 ORDER BY slot")));
        p.bind(1, study_id);
        for (;;) {
            DUET_TRY(bool row, p.step());
            if (!row) break;
            out.participants.push_back(read_participant(p));
        }
        DUET_TRY(Statement a, conn.prepare("SELECT a.participant_id, a.question_idx, a.choice, a.free_text, "
                                           "a.created_at FROM study_answers a JOIN participants p ON p.id = "
                                           "a.participant_id WHERE p.study_id = ?1 ORDER BY p.slot, a.question_idx"));
        a.bind(1, study_id);
        for (;;) {
            DUET_TRY(bool row, a.step());
            if (!row) return {};
            StudyAnswer ans;
            ans.participant_id = a.int64(0);
            ans.question_idx = a.int64(1);
            ans.choice = read_pick(a, 2);
            ans.free_text = a.opt_text(3);
            ans.created_at = a.int64(4);
            out.answers.push_back(std::move(ans));
        }
    }));
    return out;
}

}  // namespace duet::store
