// pretokenizer.cpp: the regex table per `tokenizer.ggml.pre` and the PCRE2 splitting loop. (Not clang-formatted: its Unicode regex tables cannot be laid out stably.)
// clang-format off
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <utility>

namespace duet::tok {

namespace {

// Unicode White_Space as a character-class body (\s of Python / Rust regex; PCRE2's UCP \s lacks U+0085).
constexpr std::string_view kWhiteSpaceClass = "\\t-\\r\\x{85}\\p{Z}";

// Rewrites \s and \S into explicit White_Space classes (inside and outside [...]).
std::string expand_whitespace(std::string_view pattern) {
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            const char n = pattern[i + 1];
            if (n == 's') {
                if (in_class) {
                    out += kWhiteSpaceClass;
                } else {
                    out += '[';
                    out += kWhiteSpaceClass;
                    out += ']';
                }
            } else if (n == 'S' && !in_class) {
                out += "[^";
                out += kWhiteSpaceClass;
                out += ']';
            } else {
                out += c;
                out += n;
            }
            ++i;
            continue;
        }
        if (c == '[' && !in_class) in_class = true;
        else if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

// Regexes are facts of each vocabulary's original tokenizer (HF tokenizer.json / llama.cpp's table).
constexpr const char* kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

struct PreEntry {
    std::string_view name;
    std::vector<std::string> patterns;
};

const std::vector<PreEntry>& pre_table() {
    static const std::vector<PreEntry> table = {
        {"llama-bpe", {kLlama3}},
        {"llama3", {kLlama3}},
        {"llama-v3", {kLlama3}},
        {"qwen2", {kQwen2}},
        {"deepseek-r1-qwen", {kQwen2}},
        {"gpt-2", {kGpt2}},
        // Greek-extended / letterlike singletons are written as \x{...}: NFC would rewrite the literal characters.
        {"deepseek-llm",
         {"[\r\n]",
          "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
          "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
          "\\s+$",
          "[一-龥ࠀ-一가-퟿]+",
          "\\p{N}+"}},
        {"deepseek-coder", {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"}},
        {"default",
         {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
    };
    return table;
}

// Per-thread PCRE2 scratch: match data (only the whole-match pair is used) and a JIT stack.
struct MatchScratch {
    pcre2_match_data* data = nullptr;
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* jit_stack = nullptr;
    MatchScratch() {
        data = pcre2_match_data_create(1, nullptr);
        context = pcre2_match_context_create(nullptr);
        jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
        if (context && jit_stack) pcre2_jit_stack_assign(context, nullptr, jit_stack);
    }
    ~MatchScratch() {
        pcre2_match_data_free(data);
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(jit_stack);
    }
};

MatchScratch& scratch() {
    thread_local MatchScratch s;
    return s;
}

}  // namespace

struct PreTokenizer::Stage {
    pcre2_code* code = nullptr;
    ~Stage() { pcre2_code_free(code); }

    // Append matches and gaps of `text` to words.
    void split(std::string_view text, std::vector<std::string_view>& words) const {
        MatchScratch& s = scratch();
        const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
        size_t start = 0, gap_start = 0;
        while (start < text.size()) {
            const int rc = pcre2_match(code, subject, text.size(), start, 0, s.data, s.context);
            if (rc == PCRE2_ERROR_NOMATCH || rc < 0) break;  // errors (e.g. JIT stack) leave the rest as one word
            const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.data);
            size_t m_begin = ov[0], m_end = ov[1];
            if (m_end <= m_begin) {  // empty match: move on by one byte
                start = m_begin + 1;
                continue;
            }
            if (m_begin > gap_start) words.push_back(text.substr(gap_start, m_begin - gap_start));
            words.push_back(text.substr(m_begin, m_end - m_begin));
            gap_start = start = m_end;
        }
        if (gap_start < text.size()) words.push_back(text.substr(gap_start));
    }
};

PreTokenizer::PreTokenizer() = default;
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

Result<PreTokenizer> PreTokenizer::from_patterns(const std::vector<std::string>& patterns) {
    PreTokenizer pre;
    for (const std::string& raw : patterns) {
        const std::string pattern = expand_whitespace(raw);
        int error = 0;
        PCRE2_SIZE error_offset = 0;
        const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY;
        pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                                         &error, &error_offset, nullptr);
        if (code == nullptr) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(error, message, sizeof(message));
            return Status::invalid_argument("pre-tokenizer: bad regex at offset %zu: %s", size_t(error_offset),
                                            reinterpret_cast<const char*>(message));
        }
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
        auto stage = std::make_unique<Stage>();
        stage->code = code;
        pre.stages_.push_back(std::move(stage));
    }
    return pre;
}

Result<PreTokenizer> PreTokenizer::for_name(std::string_view pre_name) {
    if (pre_name.empty()) pre_name = "default";
    for (const PreEntry& entry : pre_table())
        if (entry.name == pre_name) return from_patterns(entry.patterns);
    std::string known;
    for (std::string_view name : supported_pre_names()) known += (known.empty() ? "" : ", ") + std::string(name);
    return Status::unsupported("tokenizer: unsupported tokenizer.ggml.pre '%.*s' (supported: %s)",
                               int(pre_name.size()), pre_name.data(), known.c_str());
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& words) const {
    words.clear();
    if (text.empty()) return;
    if (stages_.empty()) {
        words.push_back(text);
        return;
    }
    stages_[0]->split(text, words);
    thread_local std::vector<std::string_view> next;
    for (size_t i = 1; i < stages_.size(); ++i) {
        next.clear();
        for (std::string_view piece : words) stages_[i]->split(piece, next);
        words.swap(next);
    }
}

size_t PreTokenizer::n_stages() const { return stages_.size(); }

std::vector<std::string_view> supported_pre_names() {
    std::vector<std::string_view> names;
    for (const PreEntry& entry : pre_table()) names.push_back(entry.name);
    return names;
}

}  // namespace duet::tok
