// keywords.h: the keyword and regex signal. A list of entries (data/router/keywords.txt; format below) is
// compiled once into an Aho-Corasick automaton for the literal words and PCRE2 (JIT) codes for the regexes, then
// matched against a message's scan window: each entry that matches adds its weight to its route's score once.
//
// File format, one entry per line (blank lines and lines starting with '#' are ignored):
//
//   ROUTE  WEIGHT  GROUP  KIND   PATTERN (the rest of the line, outer whitespace trimmed)
//   expert 1.0     tech   word   kubernetes
//   daily  1.5     东北话  word   咋整
//   expert 3.0     shell  regex  ^\s*(sudo|apt|git|docker)\s
//
//   ROUTE   expert | daily
//   WEIGHT  a number in (0, 100]
//   GROUP   a free label (no spaces) shown as evidence, e.g. tech, code, 粤语, emotion
//   KIND    word:  literal; ASCII letters match case-insensitively, and a pattern that starts (ends) with an
//                  ASCII letter or digit only matches where the text has no letter or digit just before (after)
//                  it ("java" does not match inside "javascript"); CJK words match anywhere
//           regex: PCRE2 in UTF mode with ^ and $ at line breaks; case-sensitive unless (?i)
//
// May include common/ and router/ headers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "router/role.h"

namespace duet::router {

enum class KeywordKind { word, regex };

struct KeywordEntry {
    Role role = Role::expert;
    float weight = 1.0f;
    std::string group;
    KeywordKind kind = KeywordKind::word;
    std::string pattern;
    int line = 0;  // 1-based line in the source file
};

struct KeywordHit {
    int entry = 0;      // index into KeywordSet::entries()
    size_t offset = 0;  // byte offset of the first match in the scan window
};

struct KeywordScores {
    float expert = 0.0f;  // sum of weights of matched expert entries (each entry once)
    float daily = 0.0f;
    std::vector<KeywordHit> hits;  // in entry order
};

class KeywordSet {
public:
    // Parses the text of a keyword file; `source` names it in errors ("keywords.txt:12: unknown route 'x'").
    static Result<KeywordSet> parse(std::string_view text, std::string_view source);
    static Result<KeywordSet> load_file(const std::string& path);

    KeywordSet();
    ~KeywordSet();
    KeywordSet(KeywordSet&&) noexcept;
    KeywordSet& operator=(KeywordSet&&) noexcept;

    KeywordScores match(std::string_view window) const;

    const std::vector<KeywordEntry>& entries() const { return entries_; }
    // FNV-1a of the source text: the fit report and the model file record which list they were fitted with.
    uint64_t fingerprint() const { return fingerprint_; }
    size_t memory_bytes() const;

private:
    struct Automaton;
    struct Regexes;
    std::vector<KeywordEntry> entries_;
    std::unique_ptr<Automaton> automaton_;
    std::unique_ptr<Regexes> regexes_;
    uint64_t fingerprint_ = 0;
};

uint64_t fnv1a64(std::string_view text, uint64_t seed = 0xcbf29ce484222325ull);

}  // namespace duet::router
