// types.h: the store's native types (no JSON). Times are milliseconds since the Unix epoch (TimeMs).
// An std::optional field that is empty means "not set / inherit the default" and is stored as NULL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::store {

using TimeMs = int64_t;

// ---- conversations ----

struct ConversationSettings {
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::optional<int64_t> max_tokens;
    std::optional<std::string> system_prompt;
    std::optional<bool> send_system_prompt;
    bool operator==(const ConversationSettings&) const = default;
};

struct Conversation {
    std::string id;  // random, URL-safe ([A-Za-z0-9_-]{22})
    std::string title;
    TimeMs created_at = 0;
    TimeMs updated_at = 0;
    std::string mode = "auto";  // auto / expert / daily / a model name
    ConversationSettings settings;
    int64_t message_count = 0;  // filled by reads; ignored by writes
};

enum class Role { user, assistant, system, tool };
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

struct MessageTimings {
    std::optional<double> ttft_ms;
    std::optional<double> tokens_per_second;
    std::optional<double> reasoning_ms;
    std::optional<int64_t> prompt_tokens;
    std::optional<int64_t> completion_tokens;
    bool operator==(const MessageTimings&) const = default;
};

// What a caller supplies for a new message.
struct MessageDraft {
    Role role = Role::user;
    std::string content;
    std::optional<std::string> reasoning;
    std::optional<std::string> model;
    std::optional<std::string> route;  // the router's explanation, opaque to the store (the server's JSON text)
    std::optional<std::string> system_prompt_sent;
    std::optional<std::string> finish_reason;
    MessageTimings timings;
    std::optional<TimeMs> created_at;  // kept by imports; empty: now
};

struct Message : MessageDraft {
    int64_t id = 0;
    int64_t ordinal = 0;  // 0, 1, 2, ... within its conversation, no gaps
};

struct ConversationWithMessages {
    Conversation conversation;
    std::vector<Message> messages;
};

// Keyset paging for the newest-first list: the position after the last conversation of a page.
struct PageCursor {
    TimeMs updated_at = 0;
    int64_t seq = 0;
    std::string to_string() const;                                  // "updated_at.seq"
    static std::optional<PageCursor> parse(std::string_view text);  // empty when malformed
};

struct ListQuery {
    int limit = 50;                   // 1..1000
    std::optional<PageCursor> after;  // empty: from the newest
    std::string search;               // substring of title or any message content; "" = all; %, _ literal
};

struct ConversationPage {
    std::vector<Conversation> conversations;
    std::optional<PageCursor> next;  // empty: this was the last page
};

// One stored system prompt: model "" is the default prompt. prompt/send empty: not set (built-in default).
struct SystemPromptEntry {
    std::string model;
    std::optional<std::string> prompt;
    std::optional<bool> send;
    bool operator==(const SystemPromptEntry&) const = default;
};

// ---- the arena ----

enum class Verdict { a, b, tie, both_bad };      // a battle's vote
enum class Pick { a, b, both, neither };         // answers to "keep chatting?", "understood?", "too AI?"
std::string_view verdict_name(Verdict verdict);  // "a", "b", "tie", "both_bad"
std::optional<Verdict> parse_verdict(std::string_view name);
std::string_view pick_name(Pick pick);  // "a", "b", "both", "neither"
std::optional<Pick> parse_pick(std::string_view name);

struct BattleDraft {
    std::string model_a;  // the model shown on side A
    std::string model_b;
    std::optional<std::string> route;        // the router's route (expert / daily)
    std::optional<std::string> router_pick;  // the model the router would have picked
    std::optional<std::string> language;
    std::optional<std::string> session;
    std::optional<TimeMs> created_at;  // empty: now
};

struct Battle : BattleDraft {
    int64_t id = 0;
};

struct BattleTurn {
    int64_t turn = 0;  // 0, 1, ... (assigned by record_turn)
    std::string prompt;
    std::string answer_a;
    std::string answer_b;
    std::optional<std::string> reasoning_a, reasoning_b;
    std::optional<double> ttft_ms_a, ttft_ms_b;
    std::optional<double> tokens_per_second_a, tokens_per_second_b;
    std::optional<int64_t> completion_tokens_a, completion_tokens_b;
    TimeMs created_at = 0;
};

struct Vote {
    Verdict winner = Verdict::tie;
    std::optional<Pick> keep_chatting, understood, too_ai;  // a / b are the battle's sides
    std::optional<std::string> session;
    TimeMs created_at = 0;  // 0: now
};

// A battle with its vote, as the leaderboard reads it.
struct BattleRecord {
    Battle battle;
    std::optional<Vote> vote;
    int64_t n_turns = 0;
};

struct BattleDetail {
    BattleRecord record;
    std::vector<BattleTurn> turns;
};

struct StudyDraft {
    std::string name;
    std::string model_a;
    std::string model_b;
    int64_t minutes_per_model = 10;
    std::vector<std::string> questions;
    int64_t participant_count = 12;
};

struct Study : StudyDraft {
    int64_t id = 0;
    TimeMs created_at = 0;
};

struct Participant {
    int64_t id = 0;
    int64_t study_id = 0;
    int64_t slot = 0;         // 0 .. participant_count-1
    std::string invite_code;  // unique, URL-safe
    bool a_first = true;      // counterbalanced: even slots chat with model_a first
    std::optional<TimeMs> joined_at;
};

struct StudyAnswer {
    int64_t participant_id = 0;
    int64_t question_idx = 0;
    std::optional<Pick> choice;  // a / b are the study's model_a / model_b (not the order shown)
    std::optional<std::string> free_text;
    TimeMs created_at = 0;
};

struct StudyResults {
    Study study;
    std::vector<Participant> participants;
    std::vector<StudyAnswer> answers;
};

}  // namespace duet::store
