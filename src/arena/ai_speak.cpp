// ai_speak.cpp: the phrase list and the counter.
#include "arena/ai_speak.h"

#include <algorithm>

namespace duet::arena {

const std::vector<std::string_view> kAiSpeakPhrases = {
    // Chinese
    "综上所述",
    "根据我的分析",
    "作为一个AI",
    "作为一个人工智能",
    "作为AI助手",
    "作为一个语言模型",
    "作为人工智能",
    "我只是一个AI",
    "希望这对你有所帮助",
    "希望对你有帮助",
    "希望以上内容对您有帮助",
    "如果你还有其他问题",
    "如果您还有其他问题",
    "总的来说",
    "总而言之",
    "值得注意的是",
    "需要注意的是",
    "首先，其次，最后",
    // English
    "As an AI",
    "As an AI language model",
    "As a language model",
    "I'm just an AI",
    "I hope this helps",
    "Hope this helps",
    "I hope this information",
    "Feel free to ask",
    "Let me know if you have any other questions",
    "In conclusion",
    "In summary",
    "It's important to note",
    "It is important to note",
    "It's worth noting",
    "Great question",
    "Certainly!",
    "I don't have personal",
    "delve into",
};

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool matches_at(std::string_view text, size_t at, std::string_view phrase) {
    if (text.size() - at < phrase.size()) return false;
    for (size_t i = 0; i < phrase.size(); ++i)
        if (lower(text[at + i]) != lower(phrase[i])) return false;
    return true;
}

}  // namespace

AiSpeakCount count_ai_speak(std::string_view text, const std::vector<std::string_view>& phrases) {
    std::vector<int> counts(phrases.size(), 0);
    AiSpeakCount out;
    size_t at = 0;
    while (at < text.size()) {
        // The longest listed phrase starting here wins ("As an AI language model" over "As an AI").
        int best = -1;
        for (size_t p = 0; p < phrases.size(); ++p)
            if (!phrases[p].empty() && matches_at(text, at, phrases[p]) &&
                (best < 0 || phrases[p].size() > phrases[static_cast<size_t>(best)].size()))
                best = static_cast<int>(p);
        if (best < 0) {
            ++at;
            continue;
        }
        ++counts[static_cast<size_t>(best)];
        ++out.total;
        at += phrases[static_cast<size_t>(best)].size();
    }
    for (size_t p = 0; p < phrases.size(); ++p)
        if (counts[p] > 0) out.phrases.push_back({std::string(phrases[p]), counts[p]});
    return out;
}

}  // namespace duet::arena
