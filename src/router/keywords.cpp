// keywords.cpp: parsing the keyword file, the Aho-Corasick automaton for words, PCRE2 for regexes.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "router/keywords.h"

#include <pcre2.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>

#include "router/text_scan.h"

namespace duet::router {

uint64_t fnv1a64(std::string_view text, uint64_t seed) {
    uint64_t h = seed;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

// Aho-Corasick over lower-cased bytes. The root has a dense table; other states keep sorted child lists.
struct KeywordSet::Automaton {
    struct State {
        std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
        int32_t fail = 0;
        std::vector<int32_t> outputs;  // entries whose pattern ends here (own and via fail links)
    };
    std::vector<State> states{1};
    int32_t root_next[256] = {};

    int32_t child(int32_t s, uint8_t b) const {
        if (s == 0) return root_next[b];
        const auto& ch = states[s].children;
        auto it = std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, uint8_t v) { return p.first < v; });
        return (it != ch.end() && it->first == b) ? it->second : -1;
    }

    void insert(std::string_view pattern, int32_t entry) {
        int32_t s = 0;
        for (char c : pattern) {
            const auto b = static_cast<uint8_t>(ascii_lower(c));
            int32_t next = (s == 0) ? (root_next[b] ? root_next[b] : -1) : child(s, b);
            if (next < 0) {
                next = static_cast<int32_t>(states.size());
                states.emplace_back();
                if (s == 0) {
                    root_next[b] = next;
                } else {
                    auto& ch = states[s].children;
                    auto it =
                        std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, uint8_t v) { return p.first < v; });
                    ch.insert(it, {b, next});
                }
            }
            s = next;
        }
        states[s].outputs.push_back(entry);
    }

    void build_links() {
        std::deque<int32_t> queue;
        for (int b = 0; b < 256; ++b)
            if (root_next[b]) {
                states[root_next[b]].fail = 0;
                queue.push_back(root_next[b]);
            }
        while (!queue.empty()) {
            const int32_t s = queue.front();
            queue.pop_front();
            for (const auto& [b, next] : states[s].children) {
                int32_t f = states[s].fail;
                while (f != 0 && child(f, b) < 0) f = states[f].fail;
                const int32_t target = child(f, b);
                states[next].fail = (target > 0 && target != next) ? target : 0;
                const auto& inherited = states[states[next].fail].outputs;
                states[next].outputs.insert(states[next].outputs.end(), inherited.begin(), inherited.end());
                queue.push_back(next);
            }
        }
    }

    int32_t step(int32_t s, uint8_t b) const {
        while (true) {
            const int32_t next = child(s, b);
            if (next > 0) return next;
            if (s == 0) return 0;
            s = states[s].fail;
        }
    }
};

struct KeywordSet::Regexes {
    struct Code {
        int32_t entry;
        pcre2_code* code;
    };
    std::vector<Code> codes;
    ~Regexes() {
        for (auto& c : codes) pcre2_code_free(c.code);
    }
};

namespace {

struct MatchData {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~MatchData() { pcre2_match_data_free(data); }
};

pcre2_match_data* thread_match_data() {
    thread_local MatchData md;
    return md.data;
}

// Splits off the next whitespace-delimited field of `rest`.
std::string_view next_field(std::string_view& rest) {
    size_t i = 0;
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\t') ++j;
    std::string_view field = rest.substr(i, j - i);
    rest = rest.substr(j);
    return field;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const size_t before = i;
        const uint32_t cp = next_codepoint(s, &i);
        if (cp == 0xFFFD && !(i - before == 3 && s.substr(before, 3) == "\xEF\xBF\xBD")) return false;
    }
    return true;
}

}  // namespace

KeywordSet::KeywordSet() = default;
KeywordSet::~KeywordSet() = default;
KeywordSet::KeywordSet(KeywordSet&&) noexcept = default;
KeywordSet& KeywordSet::operator=(KeywordSet&&) noexcept = default;

Result<KeywordSet> KeywordSet::parse(std::string_view text, std::string_view source) {
    KeywordSet set;
    set.fingerprint_ = fnv1a64(text);
    set.automaton_ = std::make_unique<Automaton>();
    set.regexes_ = std::make_unique<Regexes>();
    const std::string src(source);
    int line_no = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = trim(text.substr(pos, end - pos));
        pos = end + 1;
        ++line_no;
        if (line.empty() || line.front() == '#') {
            if (end == text.size()) break;
            continue;
        }
        auto fail = [&](const std::string& reason) {
            return Status::invalid_data("%s:%d: %s", src.c_str(), line_no, reason.c_str());
        };
        if (!valid_utf8(line)) return fail("invalid UTF-8");
        std::string_view rest = line;
        const std::string_view route = next_field(rest);
        const std::string_view weight_s = next_field(rest);
        const std::string_view group = next_field(rest);
        const std::string_view kind = next_field(rest);
        const std::string_view pattern = trim(rest);
        if (pattern.empty())
            return fail("expected 'ROUTE WEIGHT GROUP KIND PATTERN' (5 fields), got '" + std::string(line) + "'");
        KeywordEntry e;
        e.line = line_no;
        const auto role = parse_role(route);
        if (!role) return fail("unknown route '" + std::string(route) + "' (expected expert or daily)");
        e.role = *role;
        const std::string w(weight_s);
        char* w_end = nullptr;
        const double weight = std::strtod(w.c_str(), &w_end);
        if (w_end != w.c_str() + w.size() || !std::isfinite(weight) || weight <= 0.0 || weight > 100.0)
            return fail("weight '" + w + "' is not a number in (0, 100]");
        e.weight = static_cast<float>(weight);
        e.group = std::string(group);
        if (kind == "word") e.kind = KeywordKind::word;
        else if (kind == "regex") e.kind = KeywordKind::regex;
        else return fail("unknown kind '" + std::string(kind) + "' (expected word or regex)");
        e.pattern = std::string(pattern);
        const auto index = static_cast<int32_t>(set.entries_.size());
        if (e.kind == KeywordKind::regex) {
            int err = 0;
            PCRE2_SIZE err_offset = 0;
            pcre2_code* code =
                pcre2_compile(reinterpret_cast<PCRE2_SPTR>(e.pattern.data()), e.pattern.size(),
                              PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE, &err, &err_offset, nullptr);
            if (code == nullptr) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(err, msg, sizeof msg);
                return fail(strformat("regex error at offset %zu: %s", static_cast<size_t>(err_offset),
                                      reinterpret_cast<const char*>(msg)));
            }
            pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
            set.regexes_->codes.push_back({index, code});
        } else {
            set.automaton_->insert(e.pattern, index);
        }
        set.entries_.push_back(std::move(e));
        if (end == text.size()) break;
    }
    set.automaton_->build_links();
    return set;
}

Result<KeywordSet> KeywordSet::load_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io_error("keywords: cannot read '%s'", path.c_str());
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path);
}

KeywordScores KeywordSet::match(std::string_view window) const {
    KeywordScores scores;
    if (entries_.empty()) return scores;
    std::vector<int64_t> first(entries_.size(), -1);  // first match offset per entry
    const Automaton& ac = *automaton_;
    int32_t s = 0;
    for (size_t i = 0; i < window.size(); ++i) {
        s = ac.step(s, static_cast<uint8_t>(ascii_lower(window[i])));
        for (int32_t e : ac.states[s].outputs) {
            if (first[e] >= 0) continue;
            const std::string& p = entries_[e].pattern;
            const size_t start = i + 1 - p.size();
            const bool left_ok = !is_ascii_alnum(p.front()) || start == 0 || !is_ascii_alnum(window[start - 1]);
            const bool right_ok = !is_ascii_alnum(p.back()) || i + 1 == window.size() || !is_ascii_alnum(window[i + 1]);
            if (left_ok && right_ok) first[e] = static_cast<int64_t>(start);
        }
    }
    pcre2_match_data* md = thread_match_data();
    for (const auto& rc : regexes_->codes) {
        const int r =
            pcre2_match(rc.code, reinterpret_cast<PCRE2_SPTR>(window.data()), window.size(), 0, 0, md, nullptr);
        if (r >= 0) first[rc.entry] = static_cast<int64_t>(pcre2_get_ovector_pointer(md)[0]);
    }
    for (size_t e = 0; e < entries_.size(); ++e) {
        if (first[e] < 0) continue;
        scores.hits.push_back({static_cast<int>(e), static_cast<size_t>(first[e])});
        (entries_[e].role == Role::expert ? scores.expert : scores.daily) += entries_[e].weight;
    }
    return scores;
}

size_t KeywordSet::memory_bytes() const {
    size_t n = sizeof(*this) + entries_.capacity() * sizeof(KeywordEntry);
    for (const auto& e : entries_) n += e.pattern.capacity() + e.group.capacity();
    if (automaton_) {
        n += sizeof(Automaton) + automaton_->states.capacity() * sizeof(Automaton::State);
        for (const auto& st : automaton_->states)
            n += st.children.capacity() * sizeof(st.children[0]) + st.outputs.capacity() * sizeof(int32_t);
    }
    return n;
}

}  // namespace duet::router
