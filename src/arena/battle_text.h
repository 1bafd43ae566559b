// battle_text.h: what the arena does to the text of a battle (native types, no JSON): masking anything that names
// a model in an answer until the vote, and a rough language label for the leaderboard's language split.
//
// NameMasker works on a stream: feed() takes the next piece of an answer and returns what may be shown now;
// text that could still become a masked term is held back until the next piece (or finish()) decides it.
//
//   pieces:  "I am Lla" | "ma, hi"        terms: {"llama"}
//   shown:   "I am "    | "[hidden], hi"  ("Lla" waited: it could be the start of "Llama")
//
// Matching: ASCII letters case-insensitively, other bytes exactly; a term that starts (ends) with an ASCII letter
// or digit must not have one just before (after) it, so "phi" would not mask "philosophy" and "r1" not "r10".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace duet::arena {

inline constexpr std::string_view kMaskedName = "[hidden]";

// Model families people recognise in a self-introduction ("I am Llama", "我是DeepSeek", "通义千问").
extern const std::vector<std::string_view> kModelFamilyTerms;

// The terms masked for a battle: its model names (and their '-', '_', '.', '/', ':' separated parts of three or
// more characters that are not numbers) plus kModelFamilyTerms.
std::vector<std::string> mask_terms_for(const std::vector<std::string>& model_names);

class NameMasker {
public:
    explicit NameMasker(std::vector<std::string> terms);
    // The next piece of the answer -> the text that can be shown now (already masked).
    std::string feed(std::string_view piece);
    // The end of the answer: whatever was held back, masked.
    std::string finish();

private:
    std::string drain(bool final);

    std::vector<std::string> terms_;  // lower-cased (ASCII), longest first
    std::string pending_;             // raw text not yet shown
    char before_ = ' ';               // the raw byte shown last (for the word-boundary rule)
};

// The whole text at once.
std::string mask_names(std::string_view text, const std::vector<std::string>& terms);

// "zh" when the text has a CJK ideograph, "en" when it has ASCII letters and no CJK, "" otherwise.
std::string guess_language(std::string_view text);

}  // namespace duet::arena
