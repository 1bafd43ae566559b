// jinja_text.cpp: Python str algorithms on UTF-8 (strip, split, replace, case) shared by filters and methods.
#include "tokenizer/template/jinja_text.h"

#include <algorithm>
#include <cctype>

namespace duet::tok::jinja {

std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
    std::vector<uint32_t> strip_set;
    if (chars != nullptr) strip_set = utf8_decode(*chars);
    auto strip_this = [&](uint32_t cp) {
        if (chars == nullptr) return is_python_space(cp);
        return std::find(strip_set.begin(), strip_set.end(), cp) != strip_set.end();
    };
    std::vector<uint32_t> cps = utf8_decode(s);
    size_t begin = 0, end = cps.size();
    if (left)
        while (begin < end && strip_this(cps[begin])) ++begin;
    if (right)
        while (end > begin && strip_this(cps[end - 1])) --end;
    return utf8_encode(cps, begin, end);
}

Result<Array> py_split(std::string_view s, const std::string* sep, int64_t maxsplit, bool from_right) {
    Array parts;
    if (sep != nullptr) {
        if (sep->empty()) return Status::invalid_argument("split: empty separator");
        if (!from_right) {
            size_t start = 0;
            while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
                size_t pos = s.find(*sep, start);
                if (pos == std::string_view::npos) break;
                parts.emplace_back(std::string(s.substr(start, pos - start)));
                start = pos + sep->size();
            }
            parts.emplace_back(std::string(s.substr(start)));
            return parts;
        }
        size_t end = s.size();
        while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
            if (end < sep->size()) break;
            size_t pos = s.rfind(*sep, end - sep->size());
            if (pos == std::string_view::npos) break;
            parts.emplace_back(std::string(s.substr(pos + sep->size(), end - pos - sep->size())));
            end = pos;
        }
        parts.emplace_back(std::string(s.substr(0, end)));
        std::reverse(parts.begin(), parts.end());
        return parts;
    }
    // Whitespace split: runs of whitespace separate, no empty strings.
    std::vector<uint32_t> cps = utf8_decode(s);
    std::vector<std::pair<size_t, size_t>> words;
    size_t i = 0;
    while (i < cps.size()) {
        while (i < cps.size() && is_python_space(cps[i])) ++i;
        if (i == cps.size()) break;
        size_t start = i;
        while (i < cps.size() && !is_python_space(cps[i])) ++i;
        words.emplace_back(start, i);
    }
    if (maxsplit >= 0 && static_cast<int64_t>(words.size()) > maxsplit + 1) {
        // Keep maxsplit words split off one side; the rest (internal whitespace kept) is one part.
        size_t keep = static_cast<size_t>(maxsplit);
        if (!from_right) {
            for (size_t w = 0; w < keep; ++w) parts.emplace_back(utf8_encode(cps, words[w].first, words[w].second));
            std::string rest = utf8_encode(cps, words[keep].first, cps.size());
            parts.emplace_back(py_strip(rest, nullptr, false, true));
        } else {
            size_t first_kept = words.size() - keep;
            parts.emplace_back(py_strip(utf8_encode(cps, 0, words[first_kept - 1].second), nullptr, true, false));
            for (size_t w = first_kept; w < words.size(); ++w)
                parts.emplace_back(utf8_encode(cps, words[w].first, words[w].second));
        }
        return parts;
    }
    for (const auto& [b, e] : words) parts.emplace_back(utf8_encode(cps, b, e));
    return parts;
}

Result<std::string> py_replace(Runtime& rt, std::string_view s, std::string_view old_text, std::string_view new_text,
                               int64_t count) {
    std::string out;
    if (old_text.empty()) {
        std::vector<uint32_t> cps = utf8_decode(s);
        int64_t done = 0;
        for (size_t i = 0; i <= cps.size(); ++i) {
            if (count < 0 || done < count) {
                out += new_text;
                ++done;
            }
            if (i < cps.size()) utf8_append(out, cps[i]);
            if (out.size() > rt.limits().max_output_bytes) return Status::out_of_range("replace: result too large");
        }
        DUET_RETURN_IF_ERROR(rt.charge(out.size()));
        return out;
    }
    size_t start = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        size_t pos = s.find(old_text, start);
        if (pos == std::string_view::npos) break;
        out += s.substr(start, pos - start);
        out += new_text;
        start = pos + old_text.size();
        ++done;
        if (out.size() > rt.limits().max_output_bytes) return Status::out_of_range("replace: result too large");
    }
    out += s.substr(start);
    DUET_RETURN_IF_ERROR(rt.charge(out.size()));
    return out;
}

std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string py_title(std::string_view s) {
    std::string out(s);
    bool previous_cased = false;
    for (char& c : out) {
        auto u = static_cast<unsigned char>(c);
        bool letter = std::isalpha(u) != 0;
        if (letter) c = static_cast<char>(previous_cased ? std::tolower(u) : std::toupper(u));
        previous_cased = letter;
    }
    return out;
}

std::string py_capitalize(std::string_view s) {
    std::string out = ascii_lower(s);
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out;
}

}  // namespace duet::tok::jinja
