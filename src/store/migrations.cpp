// migrations.cpp: the schema history (see migrations.h). Times are milliseconds since the Unix epoch.
#include "store/migrations.h"

#include <cctype>

#include "store/database.h"

namespace duet::store {
namespace {

// Index i holds the SQL of version i + 1.
constexpr const char* kMigrations[kLatestSchemaVersion] = {
    // v1: conversations and what the chat page keeps.
    R"sql(
CREATE TABLE conversations (
    seq                INTEGER PRIMARY KEY,            -- internal key; messages refer to it
    id                 TEXT NOT NULL UNIQUE,           -- random, URL-safe, what the API shows
    title              TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    mode               TEXT NOT NULL,                  -- auto / expert / daily / a model name
    temperature        REAL,                           -- NULL: inherit
    top_p              REAL,
    max_tokens         INTEGER,
    system_prompt      TEXT,
    send_system_prompt INTEGER
);
CREATE INDEX conversations_by_update ON conversations(updated_at DESC, seq DESC);
CREATE TABLE messages (
    id                 INTEGER PRIMARY KEY,
    conversation_seq   INTEGER NOT NULL REFERENCES conversations(seq) ON DELETE CASCADE,
    ordinal            INTEGER NOT NULL,               -- 0, 1, 2, ... no gaps
    role               TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content            TEXT NOT NULL,
    reasoning          TEXT,
    model              TEXT,
    route              TEXT,                           -- the router's explanation, opaque (JSON text)
    system_prompt_sent TEXT,
    finish_reason      TEXT,
    ttft_ms            REAL,
    tokens_per_second  REAL,
    reasoning_ms       REAL,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    created_at         INTEGER NOT NULL,
    UNIQUE (conversation_seq, ordinal)
);
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE system_prompts (
    model  TEXT PRIMARY KEY,                           -- '' is the default prompt
    prompt TEXT,
    send   INTEGER                                     -- NULL: the built-in default for that model
);
)sql",
    // v2: the arena.
    R"sql(
CREATE TABLE battles (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    model_a     TEXT NOT NULL,                         -- the model shown on side A
    model_b     TEXT NOT NULL,
    route       TEXT,                                  -- the router's route for the first prompt (expert/daily)
    router_pick TEXT,                                  -- the model the router would have picked
    language    TEXT,
    session     TEXT
);
CREATE TABLE battle_turns (
    battle_id           INTEGER NOT NULL REFERENCES battles(id) ON DELETE CASCADE,
    turn                INTEGER NOT NULL,
    prompt              TEXT NOT NULL,
    answer_a            TEXT NOT NULL,
    answer_b            TEXT NOT NULL,
    reasoning_a         TEXT,
    reasoning_b         TEXT,
    ttft_ms_a           REAL,
    ttft_ms_b           REAL,
    tokens_per_second_a REAL,
    tokens_per_second_b REAL,
    completion_tokens_a INTEGER,
    completion_tokens_b INTEGER,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (battle_id, turn)
);
CREATE TABLE votes (
    battle_id     INTEGER PRIMARY KEY REFERENCES battles(id) ON DELETE CASCADE,  -- one vote per battle
    winner        TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie', 'both_bad')),
    keep_chatting TEXT CHECK (keep_chatting IN ('a', 'b', 'both', 'neither')),
    understood    TEXT CHECK (understood IN ('a', 'b', 'both', 'neither')),
    too_ai        TEXT CHECK (too_ai IN ('a', 'b', 'both', 'neither')),
    session       TEXT,
    created_at    INTEGER NOT NULL
);
CREATE TABLE studies (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    model_a           TEXT NOT NULL,
    model_b           TEXT NOT NULL,
    minutes_per_model INTEGER NOT NULL,
    participant_count INTEGER NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE TABLE study_questions (
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    idx      INTEGER NOT NULL,
    text     TEXT NOT NULL,
    PRIMARY KEY (study_id, idx)
);
CREATE TABLE participants (
    id          INTEGER PRIMARY KEY,
    study_id    INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    slot        INTEGER NOT NULL,                      -- 0 .. participant_count-1
    invite_code TEXT NOT NULL UNIQUE,
    a_first     INTEGER NOT NULL,                      -- counterbalanced: model_a first on even slots
    joined_at   INTEGER,
    UNIQUE (study_id, slot)
);
CREATE TABLE study_answers (
    participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    question_idx   INTEGER NOT NULL,
    choice         TEXT CHECK (choice IN ('a', 'b', 'both', 'neither')),  -- a = the study's model_a
    free_text      TEXT,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (participant_id, question_idx)
);
)sql",
    // v3: message ids are never reused (AUTOINCREMENT). With a plain INTEGER PRIMARY KEY, SQLite hands the id of
    // a deleted last row to the next insert, so a regenerated answer came back with the id of the one it replaced.
    R"sql(
CREATE TABLE messages_v3 (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_seq   INTEGER NOT NULL REFERENCES conversations(seq) ON DELETE CASCADE,
    ordinal            INTEGER NOT NULL,               -- 0, 1, 2, ... no gaps
    role               TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content            TEXT NOT NULL,
    reasoning          TEXT,
    model              TEXT,
    route              TEXT,                           -- the router's explanation, opaque (JSON text)
    system_prompt_sent TEXT,
    finish_reason      TEXT,
    ttft_ms            REAL,
    tokens_per_second  REAL,
    reasoning_ms       REAL,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    created_at         INTEGER NOT NULL,
    UNIQUE (conversation_seq, ordinal)
);
INSERT INTO messages_v3 (id, conversation_seq, ordinal, role, content, reasoning, model, route, system_prompt_sent,
                         finish_reason, ttft_ms, tokens_per_second, reasoning_ms, prompt_tokens, completion_tokens,
                         created_at)
    SELECT id, conversation_seq, ordinal, role, content, reasoning, model, route, system_prompt_sent, finish_reason,
           ttft_ms, tokens_per_second, reasoning_ms, prompt_tokens, completion_tokens, created_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v3 RENAME TO messages;
)sql",
};

// What PostgreSQL needs after a migration's translated DDL (index i: version i + 1). v3 copies messages with their
// ids into an identity column, whose sequence must then start above the copied ids.
constexpr const char* kPostgresEpilogues[kLatestSchemaVersion] = {
    nullptr,
    nullptr,
    "SELECT setval(pg_get_serial_sequence('messages', 'id'), coalesce((SELECT max(id) FROM messages), 0) + 1, false)",
};

}  // namespace

std::string postgres_schema(std::string_view sqlite_ddl) {
    // Token by token outside comments: the column types SQLite takes loosely become PostgreSQL's exact ones.
    struct Mapping {
        std::string_view from, to;
    };
    static constexpr Mapping kMappings[] = {
        {"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},  // never reused
        {"INTEGER PRIMARY KEY REFERENCES", "BIGINT PRIMARY KEY REFERENCES"},  // a key that is also a foreign key
        {"INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},  // SQLite's rowid alias
        {"INTEGER", "BIGINT"},
        {"REAL", "DOUBLE PRECISION"},
        {"TEXT", "TEXT COLLATE \"C\""},  // byte order, as SQLite's BINARY collation
    };
    auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    std::string out;
    size_t i = 0;
    while (i < sqlite_ddl.size()) {
        if (sqlite_ddl.compare(i, 2, "--") == 0) {  // a comment runs to the end of the line
            size_t end = sqlite_ddl.find('\n', i);
            if (end == std::string_view::npos) end = sqlite_ddl.size();
            out.append(sqlite_ddl.substr(i, end - i));
            i = end;
            continue;
        }
        bool at_word_start = i == 0 || !is_word(sqlite_ddl[i - 1]);
        bool mapped = false;
        for (const Mapping& m : kMappings) {
            size_t end = i + m.from.size();
            if (at_word_start && sqlite_ddl.compare(i, m.from.size(), m.from) == 0 &&
                (end == sqlite_ddl.size() || !is_word(sqlite_ddl[end]))) {
                out.append(m.to);
                i = end;
                mapped = true;
                break;
            }
        }
        if (!mapped) out += sqlite_ddl[i++];
    }
    return out;
}

Result<int> read_schema_version(Connection& conn) {
    DUET_TRY(bool exists, conn.has_table("schema_version"));
    if (!exists) return 0;
    DUET_TRY(Statement version, conn.prepare("SELECT version FROM schema_version"));
    DUET_TRY(bool has, version.step());
    return has ? static_cast<int>(version.int64(0)) : 0;
}

namespace {

// One migration step in its own write transaction. The version is read again inside it: another process (a
// second replica starting at the same time) may have applied this step while we waited for the write lock.
Status migrate_step(Connection& conn, int v) {
    DUET_TRY(int current, read_schema_version(conn));
    if (current >= v) return {};
    DUET_RETURN_IF_ERROR(conn.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
    const char* sql = kMigrations[v - 1];
    std::string translated;
    if (conn.dialect() == Dialect::postgres) {
        translated = postgres_schema(sql);
        sql = translated.c_str();
    }
    DUET_RETURN_IF_ERROR(conn.exec(sql));
    if (conn.dialect() == Dialect::postgres && kPostgresEpilogues[v - 1])
        DUET_RETURN_IF_ERROR(conn.exec(kPostgresEpilogues[v - 1]));
    DUET_RETURN_IF_ERROR(conn.exec("DELETE FROM schema_version"));
    DUET_TRY(Statement insert, conn.prepare("INSERT INTO schema_version (version) VALUES (?1)"));
    return insert.bind(1, v).run();
}

}  // namespace

Status migrate(Connection& conn, int target) {
    if (target < 0 || target > kLatestSchemaVersion)
        return Status::invalid_argument("migrate: version %d outside [0, %d]", target, kLatestSchemaVersion);
    DUET_TRY(int current, read_schema_version(conn));
    if (current > kLatestSchemaVersion)
        return Status::unsupported(
            "schema version %d was written by a newer duet (this one knows up to %d); upgrade duet or use another "
            "--data-dir / --store",
            current, kLatestSchemaVersion);
    for (int v = current + 1; v <= target; ++v) {
        Status st = conn.begin_write();
        if (st.ok()) st = migrate_step(conn, v);
        if (st.ok()) st = conn.exec("COMMIT");
        if (!st.ok()) {
            if (conn.in_transaction()) (void)conn.exec("ROLLBACK");
            return st.with_context(strformat("migration to schema version %d: ", v));
        }
    }
    return {};
}

}  // namespace duet::store
