// battle_text.cpp: streaming name masking and the language label (see the header).
#include "arena/battle_text.h"

#include <algorithm>
#include <set>

namespace duet::arena {

const std::vector<std::string_view> kModelFamilyTerms = {
    "llama",     "deepseek", "qwen",    "mistral", "mixtral", "gemma",    "chatgpt",  "gpt",  "openai", "claude",
    "anthropic", "r1",       "alibaba", "通义",    "千问",    "深度求索", "阿里巴巴", "文心", "豆包",
};

namespace {

// Name parts too common to mask ("llama-3-8b-instruct" should not hide the word "instruct" in an answer).
const std::set<std::string, std::less<>> kGenericParts = {"chat", "instruct", "distill", "base",   "model",
                                                          "test", "gguf",     "preview", "latest", "script"};

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_word_byte(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

bool is_number_like(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == 'b' || c == 'm'; });
}

}  // namespace

std::vector<std::string> mask_terms_for(const std::vector<std::string>& model_names) {
    std::set<std::string> terms;
    for (const auto& name : model_names) {
        if (name.empty()) continue;
        terms.insert(lower(name));
        size_t start = 0;
        for (size_t i = 0; i <= name.size(); ++i) {
            if (i < name.size() && std::string_view("-_./:").find(name[i]) == std::string_view::npos) continue;
            std::string part = lower(std::string_view(name).substr(start, i - start));
            if (part.size() >= 3 && !is_number_like(part) && !kGenericParts.count(part)) terms.insert(part);
            start = i + 1;
        }
    }
    for (auto family : kModelFamilyTerms) terms.insert(std::string(family));
    return {terms.begin(), terms.end()};
}

NameMasker::NameMasker(std::vector<std::string> terms) {
    for (auto& t : terms)
        if (!t.empty()) terms_.push_back(lower(t));
    std::sort(terms_.begin(), terms_.end(), [](const std::string& a, const std::string& b) {
        return a.size() > b.size() || (a.size() == b.size() && a < b);
    });
}

std::string NameMasker::feed(std::string_view piece) {
    pending_.append(piece);
    return drain(false);
}

std::string NameMasker::finish() { return drain(true); }

std::string NameMasker::drain(bool final) {
    std::string out;
    size_t i = 0;
    const size_t n = pending_.size();
    while (i < n) {
        const char prev = i > 0 ? pending_[i - 1] : before_;
        bool hold = false, masked = false;
        for (const auto& term : terms_) {
            const size_t avail = std::min(term.size(), n - i);
            size_t k = 0;
            while (k < avail && ascii_lower(pending_[i + k]) == term[k]) ++k;
            if (k < avail) continue;  // differs
            if (is_word_byte(term.front()) && is_word_byte(prev)) continue;
            if (avail < term.size()) {  // the piece ends inside a possible match
                if (!final) hold = true;
                if (hold) break;
                continue;
            }
            const size_t end = i + term.size();
            if (is_word_byte(term.back())) {
                if (end == n && !final) {
                    hold = true;  // "r1" may still become "r10"
                    break;
                }
                if (end < n && is_word_byte(pending_[end])) continue;
            }
            out += kMaskedName;
            i = end;
            masked = true;
            break;
        }
        if (hold) break;
        if (masked) continue;
        out += pending_[i];
        ++i;
    }
    if (i > 0) before_ = pending_[i - 1];
    pending_.erase(0, i);
    return out;
}

std::string mask_names(std::string_view text, const std::vector<std::string>& terms) {
    NameMasker masker(terms);
    std::string out = masker.feed(text);
    out += masker.finish();
    return out;
}

std::string guess_language(std::string_view text) {
    bool ascii_letters = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ascii_letters = true;
            continue;
        }
        // Three-byte sequences E4 B8 80 .. E9 BF BF cover U+4E00..U+9FFF (CJK Unified Ideographs).
        if (c >= 0xE4 && c <= 0xE9 && i + 2 < text.size()) {
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            if ((c1 & 0xC0) == 0x80 && (c > 0xE4 || c1 >= 0xB8)) return "zh";
        }
    }
    return ascii_letters ? "en" : "";
}

}  // namespace duet::arena
