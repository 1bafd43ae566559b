// csv_export.cpp: see csv_export.h.
#include "store/csv_export.h"

#include "store/arena_store.h"
#include "store/codec_json.h"

namespace duet::store {

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

namespace {

std::string field(const std::optional<std::string>& v) { return v ? csv_field(*v) : std::string(); }
std::string field(const std::optional<double>& v) { return v ? strformat("%.3f", *v) : std::string(); }
std::string field(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string(); }
std::string field(const std::optional<Pick>& v) { return v ? std::string(pick_name(*v)) : std::string(); }

}  // namespace

Status write_battles_csv(ArenaStore& arena, std::ostream& out) {
    out << "battle_id,created_at,model_a,model_b,route,router_pick,language,turn,prompt,answer_a,answer_b,"
           "ttft_ms_a,ttft_ms_b,tokens_per_second_a,tokens_per_second_b,completion_tokens_a,completion_tokens_b,"
           "winner,keep_chatting,understood,too_ai\r\n";
    return arena.for_each_battle_turn([&](const BattleRecord& r, const BattleTurn& t) {
        const Battle& b = r.battle;
        out << b.id << ',' << b.created_at.value_or(0) << ',' << csv_field(b.model_a) << ',' << csv_field(b.model_b)
            << ',' << field(b.route) << ',' << field(b.router_pick) << ',' << field(b.language) << ',' << t.turn << ','
            << csv_field(t.prompt) << ',' << csv_field(t.answer_a) << ',' << csv_field(t.answer_b) << ','
            << field(t.ttft_ms_a) << ',' << field(t.ttft_ms_b) << ',' << field(t.tokens_per_second_a) << ','
            << field(t.tokens_per_second_b) << ',' << field(t.completion_tokens_a) << ','
            << field(t.completion_tokens_b) << ',' << (r.vote ? verdict_name(r.vote->winner) : "") << ','
            << field(r.vote ? r.vote->keep_chatting : std::nullopt) << ','
            << field(r.vote ? r.vote->understood : std::nullopt) << ',' << field(r.vote ? r.vote->too_ai : std::nullopt)
            << "\r\n";
        return static_cast<bool>(out);
    });
}

Status write_battles_jsonl(ArenaStore& arena, std::ostream& out) {
    // Turns arrive in (battle, turn) order: a battle's line is written when the next battle starts.
    std::optional<BattleRecord> current;
    std::vector<BattleTurn> turns;
    auto flush = [&]() {
        if (current) out << dump_json(battle_to_json(*current, turns)) << '\n';
        turns.clear();
        return static_cast<bool>(out);
    };
    DUET_RETURN_IF_ERROR(arena.for_each_battle_turn([&](const BattleRecord& r, const BattleTurn& t) {
        if (!current || current->battle.id != r.battle.id) {
            if (!flush()) return false;
            current = r;
        }
        turns.push_back(t);
        return true;
    }));
    flush();
    return Status::ok_status();
}

}  // namespace duet::store
