// reasoning.h: splits streamed DeepSeek-R1 style output into reasoning (<think>...</think>) and answer text.
//
//   state:  start --"<think>"--> reasoning --"</think>"--> answer
//             \------- any other text -------------------> answer
//   starts_in_reasoning = true: the template already put "<think>" in the prompt, so the output begins in
//   `reasoning` (a "<think>" that still appears first is swallowed).
// Tags may be split across feed() calls: a text tail that could be the start of a tag is held back until
// decided. Whitespace right after a tag and right before "</think>" is trimmed.
#pragma once

#include <string>
#include <string_view>

namespace duet::tok {

struct ReasoningDelta {
    std::string reasoning;
    std::string content;
    bool empty() const { return reasoning.empty() && content.empty(); }
};

class ReasoningSplitter {
public:
    explicit ReasoningSplitter(bool starts_in_reasoning = false);

    ReasoningDelta feed(std::string_view text);
    ReasoningDelta flush();  // end of stream: releases held-back text (unterminated reasoning stays reasoning)

    bool in_reasoning() const { return state_ == State::reasoning; }
    bool saw_reasoning() const { return saw_reasoning_; }

private:
    enum class State { start, reasoning, answer };
    void process(ReasoningDelta& out, bool final);

    State state_;
    std::string pending_;             // undecided text
    bool skip_leading_space_ = true;  // trim whitespace at the start of the current section
    bool saw_reasoning_ = false;
    bool swallow_open_tag_ = false;  // starts_in_reasoning: a repeated leading "<think>" is dropped
};

}  // namespace duet::tok
