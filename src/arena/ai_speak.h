// ai_speak.h: counting stock "AI-speak" phrases in free text (study answers, model replies).
//
// The default list (kAiSpeakPhrases) holds phrases people name when a model "sounds too AI": formulaic
// openers and closers, self-references as an AI, hedged summaries. Matching is by substring; ASCII letters match
// case-insensitively, so "as an ai" counts for "As an AI". Occurrences do not overlap; a phrase that is part of a
// longer listed phrase at the same position counts once, for the longer phrase.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duet::arena {

extern const std::vector<std::string_view> kAiSpeakPhrases;

struct PhraseCount {
    std::string phrase;
    int count = 0;
};

struct AiSpeakCount {
    int total = 0;
    std::vector<PhraseCount> phrases;  // only the phrases found, in list order
};

AiSpeakCount count_ai_speak(std::string_view text, const std::vector<std::string_view>& phrases = kAiSpeakPhrases);

}  // namespace duet::arena
