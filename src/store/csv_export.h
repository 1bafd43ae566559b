// csv_export.h: every battle turn as one CSV row (RFC 4180: fields with a comma, quote or newline are quoted,
// quotes doubled) for offline analysis. Columns (header row first):
//   battle_id, created_at, model_a, model_b, route, router_pick, language, turn, prompt, answer_a, answer_b,
//   ttft_ms_a, ttft_ms_b, tokens_per_second_a, tokens_per_second_b, completion_tokens_a, completion_tokens_b,
//   winner, keep_chatting, understood, too_ai
// Empty field = not set. Battles without a turn have no row.
// write_battles_jsonl: the same battles as JSON Lines, one battle per line with its vote and turns nested
// (codec_json.h: battle_to_json; unset values are null; reasoning included). Battles without a turn have no line.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "common/status.h"

namespace duet::store {

class ArenaStore;

Status write_battles_csv(ArenaStore& arena, std::ostream& out);
Status write_battles_jsonl(ArenaStore& arena, std::ostream& out);

// One CSV field, quoted when needed.
std::string csv_field(std::string_view text);

}  // namespace duet::store
