// streaming.cpp: StreamingDecoder: token ids -> text that is complete UTF-8 and cannot start a stop string.
#include <algorithm>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace duet::tok {

namespace {

// Length of the longest suffix of `text` that is an incomplete (but so far valid) UTF-8 sequence.
size_t incomplete_utf8_tail(std::string_view text) {
    const size_t n = text.size();
    for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
        const auto lead = static_cast<uint8_t>(text[n - back]);
        if ((lead & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
        if (lead < 0xC2 || lead > 0xF4 || unicode::utf8_len(lead) <= back) return 0;
        if (back >= 2) {  // the second byte's range depends on the lead (no overlongs, surrogates, > U+10FFFF)
            const auto second = static_cast<uint8_t>(text[n - back + 1]);
            uint8_t lo = 0x80, hi = 0xBF;
            if (lead == 0xE0) lo = 0xA0;
            else if (lead == 0xED) hi = 0x9F;
            else if (lead == 0xF0) lo = 0x90;
            else if (lead == 0xF4) hi = 0x8F;
            if (second < lo || second > hi) return 0;
        }
        return back;
    }
    return 0;
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string.
size_t stop_prefix_tail(std::string_view text, const std::vector<std::string>& stops) {
    size_t best = 0;
    for (const std::string& stop : stops) {
        const size_t max_len = std::min(text.size(), stop.size() - 1);
        for (size_t len = max_len; len > best; --len) {
            if (text.compare(text.size() - len, len, stop, 0, len) == 0) {
                best = len;
                break;
            }
        }
    }
    return best;
}

}  // namespace

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, std::vector<std::string> stop_strings, bool skip_special)
    : tokenizer_(tokenizer), stop_strings_(std::move(stop_strings)), skip_special_(skip_special) {
    stop_strings_.erase(std::remove_if(stop_strings_.begin(), stop_strings_.end(),
                                       [](const std::string& s) { return s.empty(); }),
                        stop_strings_.end());
}

std::string StreamingDecoder::feed(TokenId id) {
    if (stopped_) return {};
    const TokenizerImpl& impl = tokenizer_.impl();
    if (!impl.valid(id) || (skip_special_ && tokenizer_.is_special(id))) return {};
    pending_ += impl.pieces[id];
    return take_safe_text();
}

std::string StreamingDecoder::take_safe_text() {
    // 1. a complete stop string: return what precedes the earliest one and stop
    size_t stop_at = std::string::npos;
    for (const std::string& stop : stop_strings_) stop_at = std::min(stop_at, pending_.find(stop));
    if (stop_at != std::string::npos) {
        std::string out = sanitize_utf8(std::string_view(pending_).substr(0, stop_at));
        pending_.clear();
        stopped_ = true;
        return out;
    }
    // 2. hold back a possible stop-string start and an incomplete UTF-8 character
    const size_t hold_stop = stop_prefix_tail(pending_, stop_strings_);
    const size_t hold_utf8 = incomplete_utf8_tail(pending_);
    const size_t ready = pending_.size() - std::max(hold_stop, hold_utf8);
    std::string out = sanitize_utf8(std::string_view(pending_).substr(0, ready));
    pending_.erase(0, ready);
    return out;
}

std::string StreamingDecoder::flush() {
    if (stopped_) return {};
    std::string out = sanitize_utf8(pending_);
    pending_.clear();
    return out;
}

}  // namespace duet::tok
