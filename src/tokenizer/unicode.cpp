// unicode.cpp: UTF-8 coding, category / lower-case lookups and NFD/NFC over the generated tables.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <bitset>
#include <unordered_map>
#include <unordered_set>

#include "tokenizer/unicode_tables.h"

namespace duet::tok::unicode {

namespace {

// Hangul syllable arithmetic (Unicode 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

// Runs are (first << 8 | value), sorted by first: find the run containing cp.
uint8_t run_value(const uint32_t* runs, size_t n_runs, uint32_t cp) {
    const uint32_t key = (cp << 8) | 0xFF;
    const uint32_t* it = std::upper_bound(runs, runs + n_runs, key);
    if (it == runs) return 0;
    return static_cast<uint8_t>(*(it - 1) & 0xFF);
}

struct NormTables {
    std::unordered_map<uint32_t, const tables::Decomposition*> decomposition;
    std::unordered_map<uint64_t, uint32_t> composition;  // (first << 32 | second) -> composite
    std::unordered_set<uint32_t> nfc_unsafe;             // codepoints the NFC quick check must not skip
    std::bitset<0x10000> bmp_unsafe;                     // the same for the BMP, plus every ccc != 0

    NormTables() {
        for (size_t i = 0; i < tables::kNumDecompositions; ++i) {
            const tables::Decomposition& d = tables::kDecompositions[i];
            decomposition.emplace(d.cp, &d);
            if (d.composable) {
                composition.emplace((uint64_t(d.first) << 32) | d.second, d.cp);
                nfc_unsafe.insert(d.second);
            } else {
                nfc_unsafe.insert(d.cp);  // singletons / exclusions change under NFC
            }
        }
        for (uint32_t cp = kVBase; cp < kVBase + kVCount; ++cp) nfc_unsafe.insert(cp);
        for (uint32_t cp = kTBase + 1; cp < kTBase + kTCount; ++cp) nfc_unsafe.insert(cp);
        for (uint32_t cp : nfc_unsafe)
            if (cp < 0x10000) bmp_unsafe.set(cp);
        for (size_t i = 0; i < tables::kNumCccRuns; ++i) {
            if ((tables::kCccRuns[i] & 0xFF) == 0) continue;
            const uint32_t first = tables::kCccRuns[i] >> 8;
            const uint32_t end = i + 1 < tables::kNumCccRuns ? tables::kCccRuns[i + 1] >> 8 : 0x110000;
            for (uint32_t cp = first; cp < end && cp < 0x10000; ++cp) bmp_unsafe.set(cp);
        }
    }
};

const NormTables& norm_tables() {
    static const NormTables tables;
    return tables;
}

}  // namespace

uint32_t decode_utf8(std::string_view text, size_t* pos) {
    const size_t len = valid_utf8_len(text, *pos);
    if (len == 0) {
        *pos += 1;
        return kReplacementChar;
    }
    const auto* s = reinterpret_cast<const uint8_t*>(text.data()) + *pos;
    uint32_t cp;
    switch (len) {
        case 1:
            cp = s[0];
            break;
        case 2:
            cp = (uint32_t(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
            break;
        case 3:
            cp = (uint32_t(s[0] & 0x0F) << 12) | (uint32_t(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            break;
        default:
            cp = (uint32_t(s[0] & 0x07) << 18) | (uint32_t(s[1] & 0x3F) << 12) | (uint32_t(s[2] & 0x3F) << 6) |
                 (s[3] & 0x3F);
    }
    *pos += len;
    return cp;
}

size_t valid_utf8_len(std::string_view text, size_t pos) {
    if (pos >= text.size()) return 0;
    const auto* s = reinterpret_cast<const uint8_t*>(text.data()) + pos;
    const size_t avail = text.size() - pos;
    const uint8_t c = s[0];
    if (c < 0x80) return 1;
    auto cont = [&](size_t i) { return i < avail && (s[i] & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;   // overlong
        if (c == 0xED && s[1] >= 0xA0) return 0;  // surrogates
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;   // overlong
        if (c == 0xF4 && s[1] >= 0x90) return 0;  // > U+10FFFF
        return 4;
    }
    return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::vector<uint32_t> to_codepoints(std::string_view text) {
    std::vector<uint32_t> cps;
    cps.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) cps.push_back(decode_utf8(text, &pos));
    return cps;
}

Category category(uint32_t cp) {
    if (cp > 0x10FFFF) return Category::unassigned;
    return static_cast<Category>(run_value(tables::kCategoryRuns, tables::kNumCategoryRuns, cp));
}

bool is_whitespace(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

uint32_t to_lower(uint32_t cp) {
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    const tables::CodepointPair* begin = tables::kLowercase;
    const tables::CodepointPair* end = begin + tables::kNumLowercase;
    const auto* it =
        std::lower_bound(begin, end, cp, [](const tables::CodepointPair& p, uint32_t v) { return p.from < v; });
    return (it != end && it->from == cp) ? it->to : cp;
}

uint8_t combining_class(uint32_t cp) {
    if (cp < 0x300 || cp > 0x10FFFF) return 0;
    return run_value(tables::kCccRuns, tables::kNumCccRuns, cp);
}

void decompose(uint32_t cp, std::vector<uint32_t>& out) {
    if (cp >= kSBase && cp < kSBase + kSCount) {
        const uint32_t s = cp - kSBase;
        out.push_back(kLBase + s / kNCount);
        out.push_back(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
        return;
    }
    if (cp < 0xC0) {
        out.push_back(cp);
        return;
    }
    const auto& map = norm_tables().decomposition;
    const auto it = map.find(cp);
    if (it == map.end()) {
        out.push_back(cp);
        return;
    }
    decompose(it->second->first, out);
    if (it->second->second != 0) decompose(it->second->second, out);
}

namespace {

void canonical_order(std::vector<uint32_t>& cps) {
    // Stable sort of each run of non-starters by combining class (insertion sort: runs are short).
    for (size_t i = 1; i < cps.size(); ++i) {
        const uint8_t ccc = combining_class(cps[i]);
        if (ccc == 0) continue;
        size_t j = i;
        while (j > 0) {
            const uint8_t prev = combining_class(cps[j - 1]);
            if (prev == 0 || prev <= ccc) break;
            std::swap(cps[j - 1], cps[j]);
            --j;
        }
    }
}

uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
        return a + (b - kTBase);
    const auto& map = norm_tables().composition;
    const auto it = map.find((uint64_t(a) << 32) | b);
    return it == map.end() ? 0 : it->second;
}

void compose(std::vector<uint32_t>& cps) {
    if (cps.empty()) return;
    size_t starter = 0;
    bool have_starter = combining_class(cps[0]) == 0;
    size_t out = 1;
    int last_ccc = have_starter ? 0 : 256;
    for (size_t i = 1; i < cps.size(); ++i) {
        const uint32_t cp = cps[i];
        const int ccc = combining_class(cp);
        if (have_starter && (last_ccc < ccc || (last_ccc == 0 && out == starter + 1))) {
            const uint32_t composite = compose_pair(cps[starter], cp);
            if (composite != 0) {
                cps[starter] = composite;
                continue;
            }
        }
        if (ccc == 0) {
            starter = out;
            have_starter = true;
            last_ccc = 0;
        } else {
            last_ccc = ccc;
        }
        cps[out++] = cp;
    }
    cps.resize(out);
}

}  // namespace

bool nfc_if_needed(std::string_view text, std::string& out) {
    const NormTables& t = norm_tables();
    bool needed = false;
    for (size_t pos = 0; pos < text.size();) {
        const auto c = static_cast<uint8_t>(text[pos]);
        if (c < 0x80) {
            ++pos;
            continue;
        }
        const size_t len = valid_utf8_len(text, pos);
        if (len == 0) {
            needed = true;
            break;
        }
        const uint32_t cp = decode_utf8(text, &pos);
        if (cp < 0x10000 ? t.bmp_unsafe.test(cp) : (combining_class(cp) != 0 || t.nfc_unsafe.count(cp) != 0)) {
            needed = true;
            break;
        }
    }
    if (!needed) return false;
    std::vector<uint32_t> cps;
    cps.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) decompose(decode_utf8(text, &pos), cps);
    canonical_order(cps);
    compose(cps);
    out.clear();
    for (uint32_t cp : cps) append_utf8(out, cp);
    return true;
}

std::string nfc(std::string_view text) {
    std::string out;
    if (!nfc_if_needed(text, out)) out.assign(text);
    return out;
}

}  // namespace duet::tok::unicode
