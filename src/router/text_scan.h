// text_scan.h: the part of a message the router reads (bounded, cut at UTF-8 boundaries) and a small UTF-8
// decoder. Messages of any size route in bounded time because every signal reads only this window:
//
//   message: | head: first kHeadBytes | ........ skipped ........ | tail: last kTailBytes |
//   window:  | head | "\n" | tail |          (the whole message when it is at most kHeadBytes + kTailBytes)
//
// May include only the standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace duet::router {

constexpr size_t kHeadBytes = 6144;
constexpr size_t kTailBytes = 2048;

struct ScanWindow {
    std::string text;          // what the signals read
    size_t message_bytes = 0;  // size of the whole message
    bool truncated = false;    // true when the middle was skipped
};

ScanWindow make_scan_window(std::string_view message);

// Decodes one codepoint at text[*pos] and advances *pos; invalid or truncated sequences give U+FFFD and
// advance one byte.
uint32_t next_codepoint(std::string_view text, size_t* pos);

inline bool is_ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Script classes used by the signals.
inline bool is_han(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x20000 && cp <= 0x2FFFF);
}
inline bool is_latin_letter(uint32_t cp) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
}
// Letters of other scripts: Greek, Cyrillic, Hebrew, Arabic, Indic, Thai, kana, Hangul.
inline bool is_other_letter(uint32_t cp) {
    return (cp >= 0x370 && cp <= 0x52F) || (cp >= 0x590 && cp <= 0x6FF) || (cp >= 0x900 && cp <= 0xE7F) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF);
}
inline bool is_emoji(uint32_t cp) {
    return (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) || cp == 0xFE0F || cp == 0x200D;
}
// ASCII characters that are much more common in code, logs and config than in prose.
inline bool is_code_char(uint32_t cp) {
    constexpr std::string_view kCodeChars = "{}[];=<>_|\\$#@~`/*&^";
    return cp < 0x80 && kCodeChars.find(static_cast<char>(cp)) != std::string_view::npos;
}

}  // namespace duet::router
