// duration.cpp: parse_duration_seconds: a number alone is seconds; else number+unit pairs (h, m, s, ms).
#include "common/duration.h"

#include <cctype>
#include <cstdlib>
#include <string>

namespace duet {

Result<double> parse_duration_seconds(std::string_view text) {
    auto bad = [&] {
        return Status::invalid_argument(
            "duration '%.*s': expected seconds (300), a duration (5m, 1h30m, 10s, 500ms) or -1 for forever",
            static_cast<int>(text.size()), text.data());
    };
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) return bad();
    double total = 0;
    bool any_unit = false;
    while (!s.empty()) {
        size_t n = 0;
        while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
        if (n == 0) return bad();
        const std::string number(s.substr(0, n));
        char* end = nullptr;
        const double value = std::strtod(number.c_str(), &end);
        if (end != number.c_str() + number.size()) return bad();
        s.remove_prefix(n);
        size_t u = 0;
        while (u < s.size() && std::isalpha(static_cast<unsigned char>(s[u]))) ++u;
        const std::string_view unit = s.substr(0, u);
        s.remove_prefix(u);
        double scale = 0;
        if (unit.empty() && !any_unit && s.empty()) scale = 1;  // a bare number: seconds
        else if (unit == "h") scale = 3600;
        else if (unit == "m") scale = 60;
        else if (unit == "s") scale = 1;
        else if (unit == "ms") scale = 0.001;
        else return bad();
        any_unit = any_unit || !unit.empty();
        total += value * scale;
    }
    if (negative && total > 0) return -1.0;
    return total;
}

}  // namespace duet
