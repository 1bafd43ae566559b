// text_scan.cpp: the bounded scan window and UTF-8 decoding.
#include "router/text_scan.h"

namespace duet::router {

namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Largest n <= want such that text[0, n) does not end inside a UTF-8 sequence.
size_t head_cut(std::string_view text, size_t want) {
    size_t n = want;
    while (n > 0 && n < text.size() && is_continuation(text[n])) --n;
    return n;
}

// Smallest start >= text.size() - want that does not begin inside a UTF-8 sequence.
size_t tail_start(std::string_view text, size_t want) {
    size_t s = text.size() - want;
    while (s < text.size() && is_continuation(text[s])) ++s;
    return s;
}

}  // namespace

ScanWindow make_scan_window(std::string_view message) {
    ScanWindow w;
    w.message_bytes = message.size();
    if (message.size() <= kHeadBytes + kTailBytes) {
        w.text.assign(message);
        return w;
    }
    w.truncated = true;
    const size_t head = head_cut(message, kHeadBytes);
    const size_t tail = tail_start(message, kTailBytes);
    w.text.reserve(head + 1 + (message.size() - tail));
    w.text.append(message.substr(0, head));
    w.text.push_back('\n');
    w.text.append(message.substr(tail));
    return w;
}

uint32_t next_codepoint(std::string_view text, size_t* pos) {
    const size_t i = *pos;
    const auto c0 = static_cast<unsigned char>(text[i]);
    if (c0 < 0x80) {
        *pos = i + 1;
        return c0;
    }
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if ((c0 & 0xE0) == 0xC0) len = 2, cp = c0 & 0x1F, min = 0x80;
    else if ((c0 & 0xF0) == 0xE0) len = 3, cp = c0 & 0x0F, min = 0x800;
    else if ((c0 & 0xF8) == 0xF0) len = 4, cp = c0 & 0x07, min = 0x10000;
    if (len == 0 || i + len > text.size()) {
        *pos = i + 1;
        return 0xFFFD;
    }
    for (size_t k = 1; k < len; ++k) {
        const auto c = static_cast<unsigned char>(text[i + k]);
        if ((c & 0xC0) != 0x80) {
            *pos = i + 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *pos = i + 1;
        return 0xFFFD;
    }
    *pos = i + len;
    return cp;
}

}  // namespace duet::router
