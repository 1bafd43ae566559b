// rules.h: the rule engine: matching terms, regexes, questions, refusals and confirmations in a reply, and
// evaluating one Check of a suite against a reply. Pure functions over text; every rule is documented in
// evals/README.md and asserted on fixed transcripts in tests/eval.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eval/suite.h"

namespace duet::eval {

// Compiles a PCRE2 pattern in UTF-8 mode; nullptr and `error` set ("offset 3: missing closing parenthesis").
std::shared_ptr<const Regex> compile_regex(const std::string& pattern, std::string* error);
int count_regex_matches(const Regex& regex, std::string_view text);

// Occurrences of a term: scanning left to right, the longest spelling that matches at a position counts once and
// the scan continues after it ("Keychron K8" counts once, not also as "K8"). ASCII letters ignore case.
int count_term(std::string_view text, const Term& term);
inline bool mentions(std::string_view text, const Term& term) { return count_term(text, term) > 0; }

// A question to the user: '?' or '？' anywhere in the reply.
bool asks_question(std::string_view text);

// Refusal phrases ("I can't help with", "我无法", "抱歉，我不能", …) and confirmation phrases ("as I mentioned",
// "如前所述", …: restating instead of advancing); both lists are in rules.cpp and evals/README.md.
extern const std::vector<std::string_view> kRefusalPhrases;
extern const std::vector<std::string_view> kConfirmationPhrases;
bool is_refusal(std::string_view text);
int count_confirmations(std::string_view text);

// What a check needs besides the reply: the dialogue's entities and, per earlier turn, the ids of the entities
// mentioned in that turn (user message or reply).
struct RuleContext {
    const std::vector<Entity>* entities = nullptr;
    const std::vector<std::vector<std::string>>* introduced = nullptr;
};

struct CheckOutcome {
    std::string what;  // "mention >= 2 of [Keychron|HHKB|...]"
    bool passed = false;
    std::string detail;  // why it failed (or what matched)
};

CheckOutcome evaluate_check(const Check& check, std::string_view reply, const RuleContext& context);

// Ids of the entities a text mentions, in entity order.
std::vector<std::string> entities_in(std::string_view text, const std::vector<Entity>& entities);

}  // namespace duet::eval
