// script_stats.cpp: counting scripts over the scan window, one pass, no allocation.
#include "router/script_stats.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "router/text_scan.h"

namespace duet::router {

namespace {

// Pairs (traditional, simplified) of common characters whose forms differ. Sorted copies are built once.
constexpr std::string_view kTraditional =
    "們這說個會來時為過學對還沒後麼點嗎開關問題見現頭電腦車長門話讓給買賣東國語樣從愛覺聽寫讀飯錢媽爺邊歡經難醫機級"
    "樂習慣師氣麵讓們實際處應該與並幾種當發兩現體無變圖書單號絕盡網頁視訊廣東態雜應數據庫線專業員認識";
constexpr std::string_view kSimplified =
    "们这说个会来时为过学对还没后么点吗开关问题见现头电脑车长门话让给买卖东国语样从爱觉听写读饭钱妈爷边欢经难医机级"
    "乐习惯师气面让们实际处应该与并几种当发两现体无变图书单号绝尽网页视讯广东态杂应数据库线专业员认识";

std::vector<uint32_t> sorted_codepoints(std::string_view s, std::string_view other) {
    std::vector<uint32_t> a, b;
    for (size_t i = 0; i < s.size();) a.push_back(next_codepoint(s, &i));
    for (size_t i = 0; i < other.size();) b.push_back(next_codepoint(other, &i));
    std::vector<uint32_t> out;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        if (a[i] != b[i]) out.push_back(a[i]);  // keep only characters whose two forms differ
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

const std::vector<uint32_t>& traditional_set() {
    static const std::vector<uint32_t> set = sorted_codepoints(kTraditional, kSimplified);
    return set;
}
const std::vector<uint32_t>& simplified_set() {
    static const std::vector<uint32_t> set = sorted_codepoints(kSimplified, kTraditional);
    return set;
}

bool contains(const std::vector<uint32_t>& set, uint32_t cp) { return std::binary_search(set.begin(), set.end(), cp); }

bool is_space(uint32_t cp) {
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == 0x3000 ||
           cp == 0xA0;
}

}  // namespace

ScriptStats compute_script_stats(std::string_view text) {
    ScriptStats s;
    const auto& trad = traditional_set();
    const auto& simp = simplified_set();
    for (size_t i = 0; i < text.size();) {
        const uint32_t cp = next_codepoint(text, &i);
        if (is_space(cp)) continue;
        ++s.n_chars;
        if (is_han(cp)) {
            ++s.n_han;
            if (contains(trad, cp)) ++s.n_traditional;
            else if (contains(simp, cp)) ++s.n_simplified;
        } else if (is_latin_letter(cp)) {
            ++s.n_latin;
        } else if (cp >= '0' && cp <= '9') {
            ++s.n_digit;
        } else if (is_code_char(cp)) {
            ++s.n_code;
        } else if (is_other_letter(cp)) {
            ++s.n_other_letter;
        } else if (is_emoji(cp)) {
            ++s.n_emoji;
        }
    }
    return s;
}

}  // namespace duet::router
