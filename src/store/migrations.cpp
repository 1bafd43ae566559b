// migrations.cpp: the schema history (see migrations.h). Times are milliseconds since the Unix epoch.
#include "store/migrations.h"

#include "store/sqlite_db.h"

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

}  // namespace

Result<int> read_schema_version(Connection& conn) {
    DUET_TRY(Statement exists,
             conn.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"));
    DUET_TRY(bool row, exists.step());
    if (!row || exists.int64(0) == 0) return 0;
    DUET_TRY(Statement version, conn.prepare("SELECT version FROM schema_version"));
    DUET_TRY(bool has, version.step());
    return has ? static_cast<int>(version.int64(0)) : 0;
}

Status migrate(Connection& conn, int target) {
    if (target < 0 || target > kLatestSchemaVersion)
        return Status::invalid_argument("migrate: version %d outside [0, %d]", target, kLatestSchemaVersion);
    DUET_TRY(int current, read_schema_version(conn));
    if (current > kLatestSchemaVersion)
        return Status::unsupported(
            "schema version %d was written by a newer duet (this one knows up to %d); upgrade duet or use another "
            "--data-dir",
            current, kLatestSchemaVersion);
    for (int v = current + 1; v <= target; ++v) {
        DUET_RETURN_IF_ERROR(conn.exec("BEGIN IMMEDIATE"));
        Status st = conn.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        if (st.ok()) st = conn.exec(kMigrations[v - 1]);
        if (st.ok()) st = conn.exec("DELETE FROM schema_version");
        if (st.ok()) {
            auto insert = conn.prepare("INSERT INTO schema_version (version) VALUES (?1)");
            st = insert.ok() ? insert->bind(1, v).run() : insert.status();
        }
        if (st.ok()) st = conn.exec("COMMIT");
        if (!st.ok()) {
            if (!sqlite3_get_autocommit(conn.handle())) (void)conn.exec("ROLLBACK");
            return st.with_context(strformat("migration to schema version %d: ", v));
        }
    }
    return {};
}

}  // namespace duet::store
