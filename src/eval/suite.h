// suite.h: the suites as native structs (multi-turn flows, probes, clarification dialogues, long-context
// generators) and the loader for suite files (JSONL, schema in evals/README.md). Loading checks everything that can be checked before
// a request is sent: JSON syntax, fields and types, regexes compile, entity ids exist, turn references point back.
// Errors name the file, the line and the reason: "evals/flows.jsonl:12: turn 3, check 2: unknown entity 'hhk'".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace duet::eval {

// A compiled PCRE2 pattern (UTF-8 mode); shared so checks stay copyable.
class Regex;

// One thing a reply may mention: it matches when any of its spellings occurs (substring; ASCII letters match
// case-insensitively). Synonyms go in one Term: ["键帽", "keycap", "key cap"].
struct Term {
    std::vector<std::string> spellings;
};

enum class CheckKind {
    mention,        // at least `min` distinct terms of `terms` occur
    not_mention,    // none of `terms` occurs
    regex,          // `pattern` matches at least `min` times
    not_regex,      // `pattern` does not match
    refers_back,    // mentions `entity` (or, without one, at least `min` entities) introduced in turn `turn`
    resolves,       // the pronoun of this turn's message is read as `entity`, not as one of `wrong`
    on_task,        // talks about this turn's sub-task (`terms`) more than about others (`off_topic`)
    asks_question,  // the reply asks the user something (contains ? or ？)
    refuses,        // the reply declines (a refusal phrase, evals/README.md)
    not_refuses,    // the reply does not decline
    max_ai_speak,   // at most `max` AI-speak phrases (arena/ai_speak.h)
};

struct Check {
    CheckKind kind = CheckKind::mention;
    std::vector<Term> terms;
    std::vector<Term> off_topic;
    int min = 1;
    int max = 0;
    std::string pattern;
    std::shared_ptr<const Regex> regex;
    int turn = -1;                   // refers_back: 0-based index of the earlier turn (1-based in files)
    std::string entity;              // refers_back (optional), resolves
    std::string pronoun;             // resolves: the word in the user's message (for reports)
    std::vector<std::string> wrong;  // resolves: entity ids the pronoun must not be read as
};

struct Entity {
    std::string id;
    Term names;
};

struct Turn {
    std::string user;
    std::vector<Check> checks;
};

// A multi-turn flow, or a probe (a flow with `probe` set: cold_start, false_premise, boundary, ai_speak).
struct Flow {
    std::string id;
    std::string title;
    std::string language;
    std::string probe;
    std::vector<Entity> entities;
    std::vector<Turn> turns;
    std::string source;  // "file:line" it was read from
};

// One piece of the hidden intent: given when the model's question touches one of `cues` (or, failing a match, in
// order when the model asks anything).
struct Fact {
    std::vector<std::string> cues;
    std::string answer;
};

struct ClarifyDialogue {
    std::string id;
    std::string language;
    std::string style;    // how the opening is phrased: dialect, typos, emotional, vague
    std::string opening;  // the user's first message
    std::string intent;   // what the user really wants (never sent; for reports)
    std::vector<Fact> facts;
    std::string fallback;       // said when the model neither answers well nor asks anything new
    std::vector<Check> checks;  // a reply satisfying all of these ends the dialogue
    std::vector<Entity> entities;
    int max_rounds = 4;
    std::string source;
};

// A long-context generator (kind "longctx"): documents of any length made from seeded templates, one fact placed
// at a chosen position, a question about it (long_context.h makes the documents).
struct LongContextSpec {
    std::string id;
    std::string language = "en";  // en or zh: the prompts' language and how sentences are joined
    uint64_t seed = 1;
    std::vector<int> lengths;                               // estimated tokens per document
    std::vector<double> positions;                          // 0..1
    std::vector<std::string> filler;                        // sentence templates with {slot}s
    std::map<std::string, std::vector<std::string>> slots;  // values per slot; {code} and {number} are generated
    std::string fact;                                       // the sentence to find, with {slot}s
    std::string question;                                   // asks for the fact; may use the fact's {slot}s
    std::vector<std::string> answer;                        // slots of the fact whose values the reply must all contain
    bool pipeline = true;                                   // also run summarise-then-answer on this spec's documents
    std::string source;                                     // file:line
};

struct Suite {
    std::vector<Flow> flows;
    std::vector<ClarifyDialogue> clarifications;
    std::vector<LongContextSpec> long_contexts;
};

// Parses suite text (one JSON object per line; blank lines and lines starting with '#' are skipped). `source`
// names the text in errors. Fails on the first bad line; ids must be unique within the text.
Result<Suite> parse_suite(const std::string& text, const std::string& source);
Result<Suite> load_suite(const std::string& path);

// Finds an entity by id (nullptr when absent).
const Entity* find_entity(const std::vector<Entity>& entities, const std::string& id);

const char* check_kind_name(CheckKind kind);

}  // namespace duet::eval
