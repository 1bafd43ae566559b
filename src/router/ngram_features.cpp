// ngram_features.cpp: one pass over the codepoints, n-grams hashed as they are formed.
#include "router/ngram_features.h"

#include <string>

#include "router/text_scan.h"

namespace duet::router {

namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

uint64_t mix(uint64_t h, uint64_t v) {
    for (int i = 0; i < 4; ++i) {
        h ^= (v >> (8 * i)) & 0xFF;
        h *= kFnvPrime;
    }
    return h;
}

uint32_t bucket(uint64_t h) {
    h ^= h >> 29;  // fold the high bits in before masking
    return static_cast<uint32_t>(h & (kFeatureBuckets - 1));
}

uint64_t hash_bytes(uint64_t tag, std::string_view s) {
    uint64_t h = mix(kFnvOffset, tag);
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= kFnvPrime;
    }
    return h;
}

enum Tag : uint64_t { kChar1 = 1, kChar2, kChar3, kWord, kWordPair, kWordTri, kSym, kSymPair, kEmoji, kMix };

class Extractor {
public:
    explicit Extractor(std::vector<uint32_t>& out) : out_(out) {}

    void letter(uint32_t cp) {  // Han or other non-Latin letter
        end_word();
        out_.push_back(bucket(mix(mix(kFnvOffset, kChar1), cp)));
        if (run_len_ >= 1) out_.push_back(bucket(mix(mix(mix(kFnvOffset, kChar2), prev1_), cp)));
        if (run_len_ >= 2) out_.push_back(bucket(mix(mix(mix(mix(kFnvOffset, kChar3), prev2_), prev1_), cp)));
        prev2_ = prev1_;
        prev1_ = cp;
        ++run_len_;
        last_sym_ = 0;
    }
    void word_char(char c) {
        run_len_ = 0;
        last_sym_ = 0;
        if (word_.size() < 32) word_.push_back(ascii_lower(c));
    }
    void symbol(uint32_t cp) {
        end_word();
        run_len_ = 0;
        out_.push_back(bucket(mix(mix(kFnvOffset, kSym), cp)));
        if (last_sym_) out_.push_back(bucket(mix(mix(mix(kFnvOffset, kSymPair), last_sym_), cp)));
        last_sym_ = cp;
    }
    void emoji() {
        end_word();
        run_len_ = 0;
        last_sym_ = 0;
        out_.push_back(bucket(mix(kFnvOffset, kEmoji)));
    }
    void separator() {
        end_word();
        run_len_ = 0;
        last_sym_ = 0;
    }
    void end_word() {
        if (word_.empty()) return;
        const uint64_t w = hash_bytes(kWord, word_);
        out_.push_back(bucket(w));
        if (prev_word_) out_.push_back(bucket(mix(mix(mix(kFnvOffset, kWordPair), prev_word_), w)));
        prev_word_ = w;
        const std::string padded = " " + word_ + " ";
        for (size_t i = 0; i + 3 <= padded.size(); ++i)
            out_.push_back(bucket(hash_bytes(kWordTri, padded.substr(i, 3))));
        word_.clear();
    }

private:
    std::vector<uint32_t>& out_;
    uint32_t prev1_ = 0, prev2_ = 0, last_sym_ = 0;
    int run_len_ = 0;
    std::string word_;
    uint64_t prev_word_ = 0;
};

}  // namespace

void extract_ngram_features(std::string_view window, std::vector<uint32_t>& out) {
    Extractor ex(out);
    bool has_han = false, has_latin = false, has_code = false;
    for (size_t i = 0; i < window.size();) {
        const uint32_t cp = next_codepoint(window, &i);
        if (cp < 0x80 && (is_ascii_alnum(static_cast<unsigned char>(cp)) || cp == '_')) {
            ex.word_char(static_cast<char>(cp));
            has_latin = has_latin || (cp > '9');
        } else if (is_han(cp) || is_other_letter(cp) || is_latin_letter(cp)) {
            has_han = has_han || is_han(cp);
            ex.letter(cp);
        } else if (is_emoji(cp)) {
            ex.emoji();
        } else if (cp < 0x80 && cp > ' ' && cp != 0x7F) {
            has_code = has_code || is_code_char(cp);
            ex.symbol(cp);
        } else if (cp >= 0x3000 && cp <= 0x303F) {
            ex.symbol(cp);  // CJK punctuation
        } else if (cp >= 0xFF00 && cp <= 0xFFEF) {
            ex.symbol(cp);  // full-width forms
        } else {
            ex.separator();
        }
    }
    ex.end_word();
    const uint64_t combo = (has_han ? 1 : 0) | (has_latin ? 2 : 0) | (has_code ? 4 : 0);
    out.push_back(bucket(mix(mix(kFnvOffset, kMix), combo)));
}

}  // namespace duet::router
