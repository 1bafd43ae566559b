// migrations.h: the schema, as an ordered list of migrations. Version N's SQL turns a version N-1 database into
// version N; each runs in its own transaction together with the bump of `schema_version`.
//
//   v1  conversations, messages, settings, system_prompts
//   v2  the arena: battles, battle_turns, votes, studies, study_questions, participants, study_answers
//   v3  messages rebuilt with AUTOINCREMENT ids: an id is never handed out again after its message is deleted
//
// Append new migrations at the end; never edit a shipped one.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace duet::store {

class Connection;

constexpr int kLatestSchemaVersion = 3;

// The PostgreSQL form of a migration's DDL (written in SQLite's dialect): INTEGER -> BIGINT, REAL -> DOUBLE
// PRECISION, TEXT -> TEXT COLLATE "C" (byte order, as SQLite), an INTEGER PRIMARY KEY (SQLite's rowid) -> a BIGINT
// identity column. Same tables, columns, constraints and version numbers on both engines.
std::string postgres_schema(std::string_view sqlite_ddl);

// The version stored in the database (0 for a new, empty file).
Result<int> read_schema_version(Connection& conn);

// Brings the database up to `target` (<= kLatestSchemaVersion). A file already above kLatestSchemaVersion is
// refused with StatusCode::unsupported ("written by a newer duet").
Status migrate(Connection& conn, int target = kLatestSchemaVersion);

}  // namespace duet::store
