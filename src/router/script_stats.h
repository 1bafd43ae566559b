// script_stats.h: the script-statistics signal: how much of a message is Han, Latin, code characters or other
// scripts, and whether its Han characters lean traditional or simplified. May include text_scan.h only.
#pragma once

#include <string_view>

namespace duet::router {

struct ScriptStats {
    int n_chars = 0;         // non-whitespace codepoints read
    int n_han = 0;           // CJK unified ideographs
    int n_latin = 0;         // Latin letters (ASCII and Latin-1/Extended)
    int n_digit = 0;         // ASCII digits
    int n_code = 0;          // code-typical ASCII symbols ({ } [ ] ; = < > _ | \ $ # @ ~ ` / * & ^)
    int n_other_letter = 0;  // Greek, Cyrillic, Arabic, Hebrew, Indic, Thai, kana, Hangul
    int n_emoji = 0;
    int n_traditional = 0;  // Han characters that exist only in traditional writing (們, 這, 說, ...)
    int n_simplified = 0;   // their simplified forms (们, 这, 说, ...)

    float ratio(int n) const { return n_chars > 0 ? static_cast<float>(n) / static_cast<float>(n_chars) : 0.0f; }
    float han_ratio() const { return ratio(n_han); }
    float latin_ratio() const { return ratio(n_latin); }
    float code_ratio() const { return ratio(n_code); }
    float other_ratio() const { return ratio(n_other_letter); }
    int n_letters() const { return n_han + n_latin + n_other_letter; }
    // Share of traditional markers among all markers; 0 when there are none.
    float traditional_share() const {
        const int n = n_traditional + n_simplified;
        return n > 0 ? static_cast<float>(n_traditional) / static_cast<float>(n) : 0.0f;
    }
};

ScriptStats compute_script_stats(std::string_view text);

}  // namespace duet::router
