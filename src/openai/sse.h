// sse.h: an incremental parser for Server-Sent Events (text/event-stream) as OpenAI-compatible servers send them.
// Bytes go in as they arrive, split anywhere (inside a line, inside "\r\n"); each complete event comes out once.
//
//   "data: {...}\n\n"                  -> event with data "{...}"
//   "data: a\ndata: b\n\n"             -> data "a\nb" (multi-line data joined with '\n')
//   ": keep-alive\n\n"                 -> nothing (comment-only events carry no data)
//   "event: error\ndata: {...}\n\n"    -> event "error", data "{...}"
// Lines end in "\n", "\r\n" or "\r"; "data:x" and "data: x" both give "x" (one leading space is dropped).
// Includes only the standard library.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace duet::openai {

struct SseEvent {
    std::string_view event;  // the "event:" field; empty when absent
    std::string_view data;   // the "data:" lines joined with '\n'
    std::string_view raw;    // the event's lines as received, each with its line end; not the blank line after
};

class SseParser {
public:
    // Called once per complete event that has a data field; return false to stop (feed() then returns false).
    using EventHandler = std::function<bool(const SseEvent&)>;

    // One event may hold at most this many bytes (a server that never ends an event cannot exhaust memory).
    static constexpr size_t kMaxEventBytes = size_t{16} << 20;

    // Feeds bytes; calls `on_event` for each event they complete. Returns false when a handler returned false or
    // an event grew past kMaxEventBytes (then too_large() is true); the parser must not be fed again after that.
    bool feed(std::string_view bytes, const EventHandler& on_event);
    bool too_large() const { return too_large_; }
    // Bytes received but not yet part of a complete event (a stream that ends mid-event leaves some here).
    size_t pending_bytes() const { return raw_.size(); }

private:
    bool finish_line(const EventHandler& on_event);

    std::string raw_;   // the current event's bytes so far
    std::string line_;  // the current line, without its terminator
    std::string event_, data_;
    bool has_data_ = false;
    size_t line_start_ = 0;  // offset in raw_ where the current line starts
    bool after_cr_ = false;  // the last byte was '\r': a following '\n' belongs to the same line end
    bool too_large_ = false;
};

}  // namespace duet::openai
