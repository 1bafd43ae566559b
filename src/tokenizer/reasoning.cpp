// reasoning.cpp: the <think> / </think> state machine of ReasoningSplitter, safe for tags split across chunks.
#include "tokenizer/reasoning.h"

#include <algorithm>

namespace duet::tok {

namespace {

constexpr std::string_view kOpenTag = "<think>";
constexpr std::string_view kCloseTag = "</think>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// text is a proper prefix of tag (could still become the tag)
bool could_become(std::string_view text, std::string_view tag) {
    return text.size() < tag.size() && tag.compare(0, text.size(), text) == 0;
}

// Longest suffix of text that is a proper prefix of tag.
size_t tag_prefix_tail(std::string_view text, std::string_view tag) {
    for (size_t len = std::min(text.size(), tag.size() - 1); len > 0; --len)
        if (text.compare(text.size() - len, len, tag, 0, len) == 0) return len;
    return 0;
}

std::string rtrim(std::string_view text) {
    size_t end = text.size();
    while (end > 0 && is_space(text[end - 1])) --end;
    return std::string(text.substr(0, end));
}

}  // namespace

ReasoningSplitter::ReasoningSplitter(bool starts_in_reasoning)
    : state_(starts_in_reasoning ? State::reasoning : State::start), saw_reasoning_(starts_in_reasoning) {
    swallow_open_tag_ = starts_in_reasoning;
}

ReasoningDelta ReasoningSplitter::feed(std::string_view text) {
    ReasoningDelta out;
    pending_.append(text);
    process(out, false);
    return out;
}

ReasoningDelta ReasoningSplitter::flush() {
    ReasoningDelta out;
    process(out, true);
    return out;
}

void ReasoningSplitter::process(ReasoningDelta& out, bool final) {
    for (;;) {
        if (skip_leading_space_) {
            size_t n = 0;
            while (n < pending_.size() && is_space(pending_[n])) ++n;
            pending_.erase(0, n);
            if (pending_.empty()) return;
        }
        switch (state_) {
            case State::start:
                if (starts_with(pending_, kOpenTag)) {
                    pending_.erase(0, kOpenTag.size());
                    state_ = State::reasoning;
                    saw_reasoning_ = true;
                    skip_leading_space_ = true;
                    continue;
                }
                if (!final && could_become(pending_, kOpenTag)) return;
                state_ = State::answer;
                continue;
            case State::reasoning: {
                if (swallow_open_tag_) {  // the template opened <think>; the model may repeat it
                    if (starts_with(pending_, kOpenTag)) {
                        pending_.erase(0, kOpenTag.size());
                        swallow_open_tag_ = false;
                        continue;
                    }
                    if (!final && could_become(pending_, kOpenTag)) return;
                    swallow_open_tag_ = false;
                }
                const size_t close = pending_.find(kCloseTag);
                if (close != std::string::npos) {
                    out.reasoning += rtrim(std::string_view(pending_).substr(0, close));
                    pending_.erase(0, close + kCloseTag.size());
                    state_ = State::answer;
                    skip_leading_space_ = true;
                    continue;
                }
                if (final) {
                    out.reasoning += rtrim(pending_);
                    pending_.clear();
                    return;
                }
                // hold back a possible "</think>" start and the whitespace before it (trimmed if the tag comes)
                size_t cut = pending_.size() - tag_prefix_tail(pending_, kCloseTag);
                while (cut > 0 && is_space(pending_[cut - 1])) --cut;
                out.reasoning.append(pending_, 0, cut);
                pending_.erase(0, cut);
                if (cut > 0) skip_leading_space_ = false;
                return;
            }
            case State::answer:
                out.content += pending_;
                pending_.clear();
                skip_leading_space_ = false;
                return;
        }
    }
}

}  // namespace duet::tok
