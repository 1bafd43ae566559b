// conversation_store.cpp: conversations, messages, settings and system prompts over the Database.
#include "store/conversation_store.h"

#include <sys/random.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>

#include "store/database.h"

namespace duet::store {

// ---- small helpers ----

std::string_view role_name(Role role) {
    switch (role) {
        case Role::user:
            return "user";
        case Role::assistant:
            return "assistant";
        case Role::system:
            return "system";
        case Role::tool:
            return "tool";
    }
    return "user";
}

std::optional<Role> parse_role(std::string_view name) {
    for (Role r : {Role::user, Role::assistant, Role::system, Role::tool})
        if (role_name(r) == name) return r;
    return std::nullopt;
}

std::string PageCursor::to_string() const { return strformat("%lld.%lld", (long long)updated_at, (long long)seq); }

std::optional<PageCursor> PageCursor::parse(std::string_view text) {
    size_t dot = text.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 >= text.size() || text.size() > 40) return std::nullopt;
    auto parse_int = [](std::string_view s, int64_t* out) {
        if (s.empty() || s.size() > 19) return false;
        int64_t v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        *out = v;
        return true;
    };
    PageCursor c;
    if (!parse_int(text.substr(0, dot), &c.updated_at) || !parse_int(text.substr(dot + 1), &c.seq)) return std::nullopt;
    return c;
}

std::string random_id() {
    unsigned char bytes[16];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n > 0) got += static_cast<size_t>(n);
    }
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
    return out;  // 128 bits -> 22 characters
}

TimeMs now_ms() {
    static std::atomic<TimeMs> last{0};
    TimeMs now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    TimeMs prev = last.load();
    for (;;) {
        TimeMs next = now > prev ? now : prev + 1;
        if (last.compare_exchange_weak(prev, next)) return next;
    }
}

std::string like_contains_pattern(std::string_view text) {
    std::string out = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    out += '%';
    return out;
}

namespace {

Conversation read_conversation(const Statement& s, int64_t* seq = nullptr) {
    if (seq) *seq = s.int64(0);
    Conversation c;
    c.id = s.text(1);
    c.title = s.text(2);
    c.created_at = s.int64(3);
    c.updated_at = s.int64(4);
    c.mode = s.text(5);
    c.settings.temperature = s.opt_real(6);
    c.settings.top_p = s.opt_real(7);
    c.settings.max_tokens = s.opt_int64(8);
    c.settings.system_prompt = s.opt_text(9);
    c.settings.send_system_prompt = s.opt_bool(10);
    c.message_count = s.int64(11);
    return c;
}

Message read_message(const Statement& s) {
    Message m;
    m.id = s.int64(0);
    m.ordinal = s.int64(1);
    m.role = parse_role(s.text(2)).value_or(Role::user);  // the CHECK constraint keeps it one of the four
    m.content = s.text(3);
    m.reasoning = s.opt_text(4);
    m.model = s.opt_text(5);
    m.route = s.opt_text(6);
    m.system_prompt_sent = s.opt_text(7);
    m.finish_reason = s.opt_text(8);
    m.timings.ttft_ms = s.opt_real(9);
    m.timings.tokens_per_second = s.opt_real(10);
    m.timings.reasoning_ms = s.opt_real(11);
    m.timings.prompt_tokens = s.opt_int64(12);
    m.timings.completion_tokens = s.opt_int64(13);
    m.created_at = s.int64(14);
    return m;
}

#define DUET_CONVERSATION_SELECT(where)                                                                          \
    "SELECT c.seq, c.id, c.title, c.created_at, c.updated_at, c.mode, c.temperature, c.top_p, c.max_tokens, "    \
    "c.system_prompt, c.send_system_prompt, (SELECT count(*) FROM messages m WHERE m.conversation_seq = c.seq) " \
    "FROM conversations c " where

Result<Conversation> select_conversation(Connection& conn, const std::string& id, int64_t* seq) {
    DUET_TRY(Statement s, conn.prepare(DUET_CONVERSATION_SELECT("WHERE c.id = ?1")));
    s.bind(1, id);
    DUET_TRY(bool row, s.step());
    if (!row) return Status::not_found("conversation '%.64s' not found", id.c_str());
    return read_conversation(s, seq);
}

Result<std::vector<Message>> select_messages(Connection& conn, int64_t seq) {
    DUET_TRY(Statement s,
             conn.prepare("SELECT id, ordinal, role, content, reasoning, model, route, system_prompt_sent, "
                          "finish_reason, ttft_ms, tokens_per_second, reasoning_ms, prompt_tokens, completion_tokens, "
                          "created_at FROM messages WHERE conversation_seq = ?1 ORDER BY ordinal"));
    s.bind(1, seq);
    std::vector<Message> out;
    for (;;) {
        DUET_TRY(bool row, s.step());
        if (!row) break;
        out.push_back(read_message(s));
    }
    return out;
}

Result<Message> insert_message(Connection& conn, int64_t seq, int64_t ordinal, const MessageDraft& d, TimeMs now) {
    DUET_TRY(Statement s,
             conn.prepare("INSERT INTO messages (conversation_seq, ordinal, role, content, reasoning, model, route, "
                          "system_prompt_sent, finish_reason, ttft_ms, tokens_per_second, reasoning_ms, "
                          "prompt_tokens, completion_tokens, created_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id"));
    Message m;
    static_cast<MessageDraft&>(m) = d;
    m.ordinal = ordinal;
    m.created_at = d.created_at.value_or(now);
    s.bind(1, seq).bind(2, ordinal).bind(3, role_name(d.role)).bind(4, d.content).bind(5, d.reasoning);
    s.bind(6, d.model).bind(7, d.route).bind(8, d.system_prompt_sent).bind(9, d.finish_reason);
    s.bind(10, d.timings.ttft_ms).bind(11, d.timings.tokens_per_second).bind(12, d.timings.reasoning_ms);
    s.bind(13, d.timings.prompt_tokens).bind(14, d.timings.completion_tokens).bind(15, *m.created_at);
    DUET_TRY(m.id, s.run_returning_id());
    return m;
}

Status touch(Connection& conn, int64_t seq, TimeMs now) {
    DUET_TRY(Statement s, conn.prepare("UPDATE conversations SET updated_at = ?2 WHERE seq = ?1"));
    return s.bind(1, seq).bind(2, now).run();
}

Result<int64_t> insert_conversation(Connection& conn, const Conversation& c) {
    DUET_TRY(Statement s,
             conn.prepare("INSERT INTO conversations (id, title, created_at, updated_at, mode, temperature, top_p, "
                          "max_tokens, system_prompt, send_system_prompt) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING seq"));
    s.bind(1, c.id).bind(2, c.title).bind(3, c.created_at).bind(4, c.updated_at).bind(5, c.mode);
    s.bind(6, c.settings.temperature).bind(7, c.settings.top_p).bind(8, c.settings.max_tokens);
    s.bind(9, c.settings.system_prompt).bind(10, c.settings.send_system_prompt);
    return s.run_returning_id();
}

}  // namespace

// ---- ConversationStore ----

ConversationStore::ConversationStore(Database& db) : db_(db) {}

Result<Conversation> ConversationStore::create(const Conversation& draft) {
    Conversation c = draft;
    c.id = random_id();
    c.created_at = c.updated_at = now_ms();
    c.message_count = 0;
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) { return insert_conversation(conn, c).status(); }));
    return c;
}

Result<Conversation> ConversationStore::get(const std::string& id) {
    std::optional<Conversation> out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        DUET_TRY(out, select_conversation(conn, id, nullptr));
        return {};
    }));
    return std::move(*out);
}

Result<ConversationWithMessages> ConversationStore::get_with_messages(const std::string& id) {
    ConversationWithMessages out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        int64_t seq = 0;
        DUET_TRY(out.conversation, select_conversation(conn, id, &seq));
        DUET_TRY(out.messages, select_messages(conn, seq));
        return {};
    }));
    return out;
}

Result<ConversationPage> ConversationStore::list(const ListQuery& query) {
    if (query.limit < 1 || query.limit > 1000)
        return Status::invalid_argument("list conversations: limit %d outside [1, 1000]", query.limit);
    ConversationPage page;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        // Keyset paging: (updated_at, seq) strictly below the cursor; no cursor = below (max, max).
        // CAST: PostgreSQL cannot infer the type of a parameter that is only tested for NULL.
        DUET_TRY(Statement s, conn.prepare(DUET_CONVERSATION_SELECT(
                                  "WHERE (c.updated_at, c.seq) < (?1, ?2) AND (CAST(?3 AS TEXT) IS NULL OR c.title "
                                  "LIKE ?3 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_seq = "
                                  "c.seq AND m.content LIKE ?3 ESCAPE '\\')) ORDER BY c.updated_at DESC, c.seq DESC "
                                  "LIMIT ?4")));
        constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
        s.bind(1, query.after ? query.after->updated_at : kMax).bind(2, query.after ? query.after->seq : kMax);
        if (query.search.empty()) s.bind_null(3);
        else s.bind(3, like_contains_pattern(query.search));
        s.bind(4, static_cast<int64_t>(query.limit) + 1);
        int64_t last_seq = 0;
        for (;;) {
            DUET_TRY(bool row, s.step());
            if (!row) break;
            if (static_cast<int>(page.conversations.size()) == query.limit) {
                page.next = PageCursor{page.conversations.back().updated_at, last_seq};
                break;
            }
            page.conversations.push_back(read_conversation(s, &last_seq));
        }
        return {};
    }));
    return page;
}

Result<Conversation> ConversationStore::update(const std::string& id, const std::function<void(Conversation&)>& edit) {
    std::optional<Conversation> out;
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        int64_t seq = 0;
        DUET_TRY(Conversation c, select_conversation(conn, id, &seq));
        edit(c);
        c.updated_at = now_ms();
        DUET_TRY(Statement s, conn.prepare("UPDATE conversations SET title = ?2, mode = ?3, temperature = ?4, "
                                           "top_p = ?5, max_tokens = ?6, system_prompt = ?7, "
                                           "send_system_prompt = ?8, updated_at = ?9 WHERE seq = ?1"));
        s.bind(1, seq).bind(2, c.title).bind(3, c.mode).bind(4, c.settings.temperature).bind(5, c.settings.top_p);
        s.bind(6, c.settings.max_tokens).bind(7, c.settings.system_prompt).bind(8, c.settings.send_system_prompt);
        s.bind(9, c.updated_at);
        DUET_RETURN_IF_ERROR(s.run());
        c.id = id;
        out = std::move(c);
        return {};
    }));
    return std::move(*out);
}

Status ConversationStore::remove(const std::string& id) {
    return db_.write([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare("DELETE FROM conversations WHERE id = ?1"));
        DUET_RETURN_IF_ERROR(s.bind(1, id).run());
        if (conn.changes() == 0) return Status::not_found("conversation '%.64s' not found", id.c_str());
        return {};
    });
}

Result<Message> ConversationStore::append(const std::string& conversation_id, const MessageDraft& draft) {
    std::optional<Message> out;
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        int64_t seq = 0;
        DUET_TRY(Conversation c, select_conversation(conn, conversation_id, &seq));
        TimeMs now = now_ms();
        DUET_TRY(out, insert_message(conn, seq, c.message_count, draft, now));
        return touch(conn, seq, now);
    }));
    return std::move(*out);
}

Result<std::vector<Message>> ConversationStore::replace_tail(const std::string& conversation_id, int64_t from_ordinal,
                                                             const std::vector<MessageDraft>& tail) {
    std::vector<Message> out;
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        int64_t seq = 0;
        DUET_TRY(Conversation c, select_conversation(conn, conversation_id, &seq));
        if (from_ordinal < 0 || from_ordinal > c.message_count)
            return Status::out_of_range("replace tail: from_ordinal %lld outside [0, %lld] (the message count)",
                                        (long long)from_ordinal, (long long)c.message_count);
        DUET_TRY(Statement del, conn.prepare("DELETE FROM messages WHERE conversation_seq = ?1 AND ordinal >= ?2"));
        DUET_RETURN_IF_ERROR(del.bind(1, seq).bind(2, from_ordinal).run());
        TimeMs now = now_ms();
        for (size_t i = 0; i < tail.size(); ++i) {
            DUET_TRY(Message m, insert_message(conn, seq, from_ordinal + static_cast<int64_t>(i), tail[i], now));
            out.push_back(std::move(m));
        }
        return touch(conn, seq, now);
    }));
    return out;
}

Result<std::vector<ConversationWithMessages>> ConversationStore::export_conversations(
    const std::optional<std::string>& id) {
    std::vector<ConversationWithMessages> out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        std::vector<std::pair<int64_t, Conversation>> convs;
        if (id) {
            int64_t seq = 0;
            DUET_TRY(Conversation c, select_conversation(conn, *id, &seq));
            convs.emplace_back(seq, std::move(c));
        } else {
            DUET_TRY(Statement s, conn.prepare(DUET_CONVERSATION_SELECT("ORDER BY c.updated_at DESC, c.seq DESC")));
            for (;;) {
                DUET_TRY(bool row, s.step());
                if (!row) break;
                int64_t seq = 0;
                Conversation c = read_conversation(s, &seq);
                convs.emplace_back(seq, std::move(c));
            }
        }
        for (auto& [seq, c] : convs) {
            ConversationWithMessages item;
            item.conversation = std::move(c);
            DUET_TRY(item.messages, select_messages(conn, seq));
            out.push_back(std::move(item));
        }
        return {};
    }));
    return out;
}

Result<std::vector<std::string>> ConversationStore::import_conversations(
    const std::vector<ConversationWithMessages>& items) {
    std::vector<std::string> ids;
    DUET_RETURN_IF_ERROR(db_.write([&](Connection& conn) -> Status {
        for (const auto& item : items) {
            Conversation c = item.conversation;
            c.id = random_id();
            TimeMs now = now_ms();
            if (c.created_at <= 0) c.created_at = now;
            if (c.updated_at <= 0) c.updated_at = now;
            DUET_TRY(int64_t seq, insert_conversation(conn, c));
            for (size_t i = 0; i < item.messages.size(); ++i) {
                DUET_RETURN_IF_ERROR(
                    insert_message(conn, seq, static_cast<int64_t>(i), item.messages[i], now).status());
            }
            ids.push_back(c.id);
        }
        return {};
    }));
    return ids;
}

Result<std::map<std::string, std::string>> ConversationStore::settings() {
    std::map<std::string, std::string> out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare("SELECT key, value FROM settings ORDER BY key"));
        for (;;) {
            DUET_TRY(bool row, s.step());
            if (!row) return {};
            out.emplace(s.text(0), s.text(1));
        }
    }));
    return out;
}

Status ConversationStore::put_settings(const std::map<std::string, std::optional<std::string>>& changes) {
    return db_.write([&](Connection& conn) -> Status {
        for (const auto& [key, value] : changes) {
            if (value) {
                DUET_TRY(Statement s, conn.prepare("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
                DUET_RETURN_IF_ERROR(s.bind(1, key).bind(2, *value).run());
            } else {
                DUET_TRY(Statement s, conn.prepare("DELETE FROM settings WHERE key = ?1"));
                DUET_RETURN_IF_ERROR(s.bind(1, key).run());
            }
        }
        return {};
    });
}

Result<std::vector<SystemPromptEntry>> ConversationStore::system_prompts() {
    std::vector<SystemPromptEntry> out;
    DUET_RETURN_IF_ERROR(db_.read([&](Connection& conn) -> Status {
        DUET_TRY(Statement s, conn.prepare("SELECT model, prompt, send FROM system_prompts ORDER BY model"));
        for (;;) {
            DUET_TRY(bool row, s.step());
            if (!row) return {};
            out.push_back({s.text(0), s.opt_text(1), s.opt_bool(2)});
        }
    }));
    return out;
}

Status ConversationStore::put_system_prompts(const std::vector<SystemPromptEntry>& entries) {
    return db_.write([&](Connection& conn) -> Status {
        for (const auto& e : entries) {
            if (!e.prompt && !e.send) {
                DUET_TRY(Statement s, conn.prepare("DELETE FROM system_prompts WHERE model = ?1"));
                DUET_RETURN_IF_ERROR(s.bind(1, e.model).run());
                continue;
            }
            DUET_TRY(Statement s, conn.prepare("INSERT INTO system_prompts (model, prompt, send) VALUES (?1, ?2, ?3) "
                                               "ON CONFLICT (model) DO UPDATE SET prompt = excluded.prompt, "
                                               "send = excluded.send"));
            DUET_RETURN_IF_ERROR(s.bind(1, e.model).bind(2, e.prompt).bind(3, e.send).run());
        }
        return {};
    });
}

}  // namespace duet::store
