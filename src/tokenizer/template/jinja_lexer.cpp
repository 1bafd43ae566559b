// jinja_lexer.cpp: template source -> tokens, with Jinja2's trim_blocks / lstrip_blocks / `-` `+` semantics.
#include "tokenizer/template/jinja_lexer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "tokenizer/template/jinja_value.h"

namespace duet::tok::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// What the end of the previous tag asks of the text that follows it.
enum class TrailingStrip { none, one_newline, all_whitespace };

class Lexer {
public:
    explicit Lexer(std::string src) : src_(std::move(src)) {}

    Result<std::vector<Token>> run() {
        size_t pos = 0;
        TrailingStrip strip = TrailingStrip::none;
        bool line_starting = true;
        while (pos <= src_.size()) {
            size_t tag = find_tag(pos);
            std::string text = src_.substr(pos, tag - pos);
            if (strip == TrailingStrip::all_whitespace) {
                size_t n = 0;
                while (n < text.size() && is_space(text[n])) ++n;
                text.erase(0, n);
            } else if (strip == TrailingStrip::one_newline && !text.empty() && text[0] == '\n') {
                text.erase(0, 1);
            }
            if (tag == src_.size()) {
                push_text(std::move(text), pos);
                break;
            }
            char kind = src_[tag + 1];  // '{', '%' or '#'
            char modifier = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
            if (modifier == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (kind != '{' && modifier != '+') {
                // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag.
                size_t line_pos = text.rfind('\n');
                line_pos = line_pos == std::string::npos ? 0 : line_pos + 1;
                bool only_ws = std::all_of(text.begin() + static_cast<std::ptrdiff_t>(line_pos), text.end(),
                                           [](char c) { return is_space(c); });
                if ((line_pos > 0 || line_starting) && only_ws) text.erase(line_pos);
            }
            push_text(std::move(text), pos);
            size_t inner = tag + 2 + ((modifier == '-' || (modifier == '+' && kind != '{')) ? 1 : 0);
            size_t end = 0;
            char end_modifier = '\0';
            if (kind == '#') {
                size_t close = src_.find("#}", inner);
                if (close == std::string::npos) return error(tag, "unclosed comment");
                end = close + 2;
                if (close > inner && (src_[close - 1] == '-' || src_[close - 1] == '+')) end_modifier = src_[close - 1];
            } else {
                DUET_TRY(end, lex_tag(kind, tag, inner, end_modifier));
            }
            // Whitespace control after the tag.
            if (end_modifier == '-') {
                strip = TrailingStrip::all_whitespace;
                size_t n = end;
                while (n < src_.size() && is_space(src_[n])) ++n;
                line_starting = n > end && src_[n - 1] == '\n';
            } else if (kind != '{' && end_modifier != '+') {
                strip = TrailingStrip::one_newline;
                line_starting = end < src_.size() && src_[end] == '\n';
            } else {
                strip = TrailingStrip::none;
                line_starting = false;
            }
            pos = end;
        }
        Token eof;
        eof.type = TokenType::eof;
        set_position(eof, src_.size());
        tokens_.push_back(eof);
        return std::move(tokens_);
    }

private:
    // Offset of the next "{{", "{%" or "{#" at or after pos, or src_.size().
    size_t find_tag(size_t pos) const {
        while (pos + 1 < src_.size()) {
            size_t brace = src_.find('{', pos);
            if (brace == std::string::npos || brace + 1 >= src_.size()) break;
            char next = src_[brace + 1];
            if (next == '{' || next == '%' || next == '#') return brace;
            pos = brace + 1;
        }
        return src_.size();
    }

    void push_text(std::string text, size_t offset) {
        if (text.empty()) return;
        Token t;
        t.type = TokenType::text;
        t.text = std::move(text);
        set_position(t, offset);
        tokens_.push_back(std::move(t));
    }

    void set_position(Token& t, size_t offset) const {
        // Line starts are found by a forward scan that resumes where the previous lookup stopped.
        if (offset < scan_offset_) {
            scan_offset_ = 0;
            scan_line_ = 1;
            scan_line_start_ = 0;
        }
        for (; scan_offset_ < offset && scan_offset_ < src_.size(); ++scan_offset_)
            if (src_[scan_offset_] == '\n') {
                ++scan_line_;
                scan_line_start_ = scan_offset_ + 1;
            }
        t.line = scan_line_;
        t.column = static_cast<int>(offset - scan_line_start_) + 1;
    }

    Status error(size_t offset, const std::string& what) const {
        Token t;
        set_position(t, offset);
        return Status::invalid_argument("template: line %d, column %d: %s", t.line, t.column, what.c_str());
    }

    // Tokens of one {{ ... }} or {% ... %} tag starting at `inner`; returns the offset after the closing delimiter.
    Result<size_t> lex_tag(char kind, size_t tag, size_t inner, char& end_modifier) {
        Token begin;
        begin.type = kind == '{' ? TokenType::expr_begin : TokenType::stmt_begin;
        begin.text = kind == '{' ? "{{" : "{%";
        set_position(begin, tag);
        tokens_.push_back(begin);
        const char close = kind == '{' ? '}' : '%';
        int depth = 0;  // open brackets: a closing delimiter inside {...} is not the tag end
        size_t pos = inner;
        while (true) {
            while (pos < src_.size() && is_space(src_[pos])) ++pos;
            if (pos >= src_.size()) return error(tag, kind == '{' ? "unclosed '{{'" : "unclosed '{%'");
            if (depth == 0) {
                size_t p = pos;
                char modifier = '\0';
                if ((src_[p] == '-' || (src_[p] == '+' && kind == '%')) && p + 2 < src_.size() &&
                    src_[p + 1] == close && src_[p + 2] == '}') {
                    modifier = src_[p];
                    ++p;
                }
                if (p + 1 < src_.size() && src_[p] == close && src_[p + 1] == '}') {
                    Token end;
                    end.type = kind == '{' ? TokenType::expr_end : TokenType::stmt_end;
                    end.text = kind == '{' ? "}}" : "%}";
                    set_position(end, pos);
                    tokens_.push_back(end);
                    end_modifier = modifier;
                    return p + 2;
                }
            }
            Token t;
            set_position(t, pos);
            char c = src_[pos];
            if (is_ident_start(c)) {
                size_t start = pos;
                while (pos < src_.size() && is_ident_char(src_[pos])) ++pos;
                t.type = TokenType::name;
                t.text = src_.substr(start, pos - start);
            } else if (is_digit(c)) {
                DUET_RETURN_IF_ERROR(lex_number(t, pos));
            } else if (c == '\'' || c == '"') {
                DUET_RETURN_IF_ERROR(lex_string(t, pos));
            } else {
                static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", "<=", ">="};
                std::string_view rest(src_.data() + pos, src_.size() - pos);
                t.type = TokenType::op;
                for (std::string_view op : kTwoChar)
                    if (rest.substr(0, 2) == op) t.text = std::string(op);
                if (t.text.empty()) {
                    if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) == std::string_view::npos) {
                        std::string what = "unexpected character '";
                        what += c;
                        return error(pos, what + "'");
                    }
                    t.text = std::string(1, c);
                }
                pos += t.text.size();
                if (c == '(' || c == '[' || c == '{') ++depth;
                if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
            }
            tokens_.push_back(std::move(t));
        }
    }

    Status lex_number(Token& t, size_t& pos) {
        size_t start = pos;
        auto digits = [&] {
            while (pos < src_.size() &&
                   (is_digit(src_[pos]) || (src_[pos] == '_' && pos + 1 < src_.size() && is_digit(src_[pos + 1]))))
                ++pos;
        };
        digits();
        bool is_float = false;
        // After a '.', `a.1.2` is two integer subscripts, not the float 1.2 (Jinja2's lookbehind).
        bool after_dot = !tokens_.empty() && tokens_.back().type == TokenType::op && tokens_.back().text == ".";
        if (!after_dot && pos + 1 < src_.size() && src_[pos] == '.' && is_digit(src_[pos + 1])) {
            is_float = true;
            ++pos;
            digits();
        }
        if (!after_dot && pos < src_.size() && (src_[pos] == 'e' || src_[pos] == 'E')) {
            size_t save = pos++;
            if (pos < src_.size() && (src_[pos] == '+' || src_[pos] == '-')) ++pos;
            if (pos < src_.size() && is_digit(src_[pos])) {
                is_float = true;
                digits();
            } else {
                pos = save;
            }
        }
        std::string spelling;
        for (size_t i = start; i < pos; ++i)
            if (src_[i] != '_') spelling += src_[i];
        if (is_float) {
            t.type = TokenType::floating;
            t.float_value = std::strtod(spelling.c_str(), nullptr);
        } else {
            t.type = TokenType::integer;
            errno = 0;
            t.int_value = std::strtoll(spelling.c_str(), nullptr, 10);
            if (errno == ERANGE) return error(start, "integer literal too large");
        }
        t.text = std::move(spelling);
        return {};
    }

    // Python string literal with unicode-escape semantics (\n, \t, \xhh, \uXXXX, ...; unknown escapes kept).
    Status lex_string(Token& t, size_t& pos) {
        size_t start = pos;
        char quote = src_[pos++];
        std::string value;
        while (true) {
            if (pos >= src_.size()) return error(start, "unterminated string literal");
            char c = src_[pos++];
            if (c == quote) break;
            if (c != '\\') {
                value += c;
                continue;
            }
            if (pos >= src_.size()) return error(start, "unterminated string literal");
            char e = src_[pos++];
            auto hex = [&](int n) -> long {
                if (pos + static_cast<size_t>(n) > src_.size()) return -1;
                long v = 0;
                for (int i = 0; i < n; ++i) {
                    char h = src_[pos + static_cast<size_t>(i)];
                    if (!std::isxdigit(static_cast<unsigned char>(h))) return -1;
                    v = v * 16 + (is_digit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
                }
                pos += static_cast<size_t>(n);
                return v;
            };
            switch (e) {
                case '\n':
                    break;
                case '\\':
                    value += '\\';
                    break;
                case '\'':
                    value += '\'';
                    break;
                case '"':
                    value += '"';
                    break;
                case 'n':
                    value += '\n';
                    break;
                case 't':
                    value += '\t';
                    break;
                case 'r':
                    value += '\r';
                    break;
                case 'a':
                    value += '\a';
                    break;
                case 'b':
                    value += '\b';
                    break;
                case 'f':
                    value += '\f';
                    break;
                case 'v':
                    value += '\v';
                    break;
                case 'x':
                case 'u':
                case 'U': {
                    long cp = hex(e == 'x' ? 2 : e == 'u' ? 4 : 8);
                    if (cp < 0 || cp > 0x10FFFF) return error(start, "bad escape in string literal");
                    utf8_append(value, static_cast<uint32_t>(cp));
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int i = 0; i < 2 && pos < src_.size() && src_[pos] >= '0' && src_[pos] <= '7'; ++i)
                            v = v * 8 + (src_[pos++] - '0');
                        utf8_append(value, static_cast<uint32_t>(v));
                    } else {
                        value += '\\';
                        value += e;
                    }
            }
        }
        t.type = TokenType::string;
        t.text = std::move(value);
        return {};
    }

    std::string src_;
    std::vector<Token> tokens_;
    mutable size_t scan_offset_ = 0;
    mutable int scan_line_ = 1;
    mutable size_t scan_line_start_ = 0;
};

// Jinja2 normalizes "\r\n" and "\r" to "\n" and drops one trailing newline.
std::string normalize_newlines(std::string_view source) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out += source[i];
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source) {
    Lexer lexer(normalize_newlines(source));
    return lexer.run();
}

}  // namespace duet::tok::jinja
