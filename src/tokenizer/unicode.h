// unicode.h: UTF-8 coding, general categories, lower-casing and NFD/NFC normalization for the tokenizers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duet::tok::unicode {

constexpr uint32_t kReplacementChar = 0xFFFD;

enum class Category : uint8_t { unassigned = 0, letter, mark, number, punctuation, symbol, separator, control };

// Length of the UTF-8 sequence starting with lead byte `c` (1 for invalid lead / continuation bytes).
inline size_t utf8_len(uint8_t c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

// Decode one codepoint at text[*pos], advancing *pos. Invalid or truncated sequences yield U+FFFD and advance
// by one byte.
uint32_t decode_utf8(std::string_view text, size_t* pos);
// Length of a valid UTF-8 sequence at text[pos] (0 when invalid or truncated).
size_t valid_utf8_len(std::string_view text, size_t pos);
void append_utf8(std::string& out, uint32_t cp);
std::vector<uint32_t> to_codepoints(std::string_view text);  // invalid bytes -> U+FFFD

Category category(uint32_t cp);
bool is_whitespace(uint32_t cp);  // Unicode White_Space
uint32_t to_lower(uint32_t cp);   // simple (1:1) lower-case mapping
uint8_t combining_class(uint32_t cp);

// Full canonical decomposition (NFD) of one codepoint appended to out (Hangul included).
void decompose(uint32_t cp, std::vector<uint32_t>& out);
// NFC of UTF-8 text; invalid bytes become U+FFFD. Fast path: returns false (out untouched) when text is
// already NFC by the quick check (no combining marks, no decomposable or recomposable codepoints).
bool nfc_if_needed(std::string_view text, std::string& out);
std::string nfc(std::string_view text);

}  // namespace duet::tok::unicode
