// sse.cpp: the event-stream parser, one byte at a time (events are small; clarity over speed).
#include "openai/sse.h"

namespace duet::openai {

bool SseParser::feed(std::string_view bytes, const EventHandler& on_event) {
    for (const char c : bytes) {
        if (after_cr_ && c == '\n') {  // the second half of "\r\n": already ended the line
            after_cr_ = false;
            if (!raw_.empty()) {
                raw_.push_back(c);
                line_start_ = raw_.size();
            }
            continue;
        }
        after_cr_ = false;
        raw_.push_back(c);
        if (c == '\n' || c == '\r') {
            after_cr_ = c == '\r';
            if (!finish_line(on_event)) return false;
            continue;
        }
        line_.push_back(c);
        if (raw_.size() > kMaxEventBytes) {
            too_large_ = true;
            return false;
        }
    }
    return true;
}

bool SseParser::finish_line(const EventHandler& on_event) {
    if (line_.empty()) {  // a blank line ends the event
        bool keep_going = true;
        if (has_data_) keep_going = on_event({event_, data_, std::string_view(raw_).substr(0, line_start_)});
        raw_.clear();
        event_.clear();
        data_.clear();
        has_data_ = false;
        line_start_ = 0;
        return keep_going;
    }
    line_start_ = raw_.size();
    if (line_[0] != ':') {  // ":..." is a comment
        const size_t colon = line_.find(':');
        const std::string_view field = std::string_view(line_).substr(0, colon);
        std::string_view value;
        if (colon != std::string::npos) {
            value = std::string_view(line_).substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        }
        if (field == "data") {
            if (has_data_) data_.push_back('\n');
            data_.append(value);
            has_data_ = true;
        } else if (field == "event") {
            event_.assign(value);
        }
    }
    line_.clear();
    return true;
}

}  // namespace duet::openai
