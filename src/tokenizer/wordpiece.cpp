// wordpiece.cpp: BERT WordPiece: normalize (lower-case, strip accents), split on whitespace / punctuation /
// CJK characters, then greedy longest-match of "▁"+word against the vocab (continuations carry no "##" in
// GGUF vocabularies: the converter stores word starts as "▁word" and continuations bare).
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace duet::tok {

namespace {

bool is_chinese_char(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Normalized words of text, each as UTF-8.
void split_words(const TokenizerImpl& impl, std::string_view text, std::vector<std::string>& words) {
    using unicode::Category;
    words.clear();
    words.emplace_back();
    std::vector<uint32_t> cps;
    for (size_t pos = 0; pos < text.size();) {
        const uint32_t cp = unicode::decode_utf8(text, &pos);
        cps.clear();
        if (impl.strip_accents) unicode::decompose(cp, cps);
        else cps.push_back(cp);
        for (uint32_t c : cps) {
            if (unicode::is_whitespace(c)) {
                if (!words.back().empty()) words.emplace_back();
                continue;
            }
            const Category cat = unicode::category(c);
            if (c == 0 || c == unicode::kReplacementChar || cat == Category::control) continue;
            if (impl.strip_accents && cat == Category::mark) continue;
            const uint32_t lowered = impl.lowercase ? unicode::to_lower(c) : c;
            if (cat == Category::punctuation || (c < 0x7F && cat == Category::symbol) || is_chinese_char(c)) {
                if (!words.back().empty()) words.emplace_back();
                unicode::append_utf8(words.back(), lowered);
                words.emplace_back();
            } else {
                unicode::append_utf8(words.back(), lowered);
            }
        }
    }
    if (words.back().empty()) words.pop_back();
}

}  // namespace

void TokenizerImpl::encode_wordpiece(std::string_view text, std::vector<TokenId>& out) const {
    thread_local std::vector<std::string> words;
    split_words(*this, text, words);
    std::string word;
    for (const std::string& w : words) {
        word = "\xE2\x96\x81" + w;
        const size_t n = word.size();
        const size_t first = out.size();
        for (size_t i = 0; i < n;) {
            size_t j = std::min(n, i + max_token_len);
            TokenId id = -1;
            for (; j > i; --j) {
                id = lookup(std::string_view(word).substr(i, j - i));
                if (id >= 0) break;
            }
            if (id < 0) {  // no piece fits: the whole word is unknown
                out.resize(first);
                break;
            }
            out.push_back(id);
            i = j;
        }
        if (out.size() == first && unk >= 0) out.push_back(unk);
    }
}

}  // namespace duet::tok
