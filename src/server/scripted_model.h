// scripted_model.h: a test model that answers from a script, token by token at a set pace (`-m NAME=script:FILE`).
//
// For UI and end-to-end tests that must assert exact output (markdown, reasoning, XSS payloads). FILE is JSON
// Lines; each line is one rule, tried in order against the last user message; the first that matches answers:
//
//   {"contains": "hello", "reply": "Hi **there**", "pace_ms": 20}
//   {"match": "^edit(ed)?:", "reply": "...", "reasoning": "first I think", "chunk": 4}
//   {"default": true, "reply": "You said: {{user}} (system prompt: {{system}})"}
//
//   contains / match / default   substring, ECMAScript regex, or always (exactly one of them)
//   reply                        the answer; {{user}} = the last user message, {{system}} = the system prompt
//                                received ("(none)" when absent), {{model}} = this model's name
//   reasoning                    optional: streamed first inside <think>...</think> (split out by the server)
//   pace_ms                      delay before each chunk (default 20; 0 = as fast as possible)
//   chunk                        "word" (default: a word with its trailing spaces), or N bytes per chunk
//   first_delay_ms               extra delay before the first chunk (default 0)
// A message that no rule matches gets "(no scripted reply)". Lines that are empty or start with '#' are skipped.
//
// The backend is an EngineApi plus a byte-level TextCodec: token ids are bytes (256 = end of text), so usage
// counts bytes; the chat "template" joins messages as RS role US content, which the engine reads back.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/model_backend.h"

namespace duet::server::scripted {

struct Rule {
    enum class Kind { contains, regex, fallback };
    Kind kind = Kind::fallback;
    std::string pattern;
    std::regex regex;
    std::string reply, reasoning;
    int pace_ms = 20;
    int first_delay_ms = 0;
    int chunk_bytes = 0;  // 0: word by word
    int line = 0;         // in the script file
};

struct Script {
    std::vector<Rule> rules;
    // The first rule that matches `last_user`, or nullptr.
    const Rule* pick(std::string_view last_user) const;
};

// Parses a script; errors name the file and line ("script.jsonl:3: 'pace_ms' must be a number >= 0").
Result<Script> parse_script(std::string_view text, std::string_view file_name);
Result<Script> load_script(const std::string& path);

// What the model was asked: read back from the prompt bytes the codec made.
struct Prompt {
    std::string system;     // empty: none
    std::string last_user;  // the last user message (a raw completion prompt: all of it)
    bool has_system = false;
};
std::string encode_prompt(const std::vector<registry::ChatMessage>& messages);
Prompt decode_prompt(std::string_view bytes);

// The chunks the answer streams as: reasoning (inside <think>...</think>) first, then the reply, placeholders
// filled in. Concatenated, they are the model's raw output text.
std::vector<std::string> playback(const Rule* rule, const Prompt& prompt, std::string_view model_name);
std::vector<std::string> split_chunks(std::string_view text, int chunk_bytes);

// The served model (a ready registry entry): engine (one playback thread) + byte codec. Each request plays at the
// pace of the rule that answers it.
registry::Serving make_serving(std::string name, Script script);

}  // namespace duet::server::scripted
