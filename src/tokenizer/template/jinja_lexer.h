// jinja_lexer.h: splits Jinja template source into text and tag tokens, applying whitespace control.
//
// Configured like transformers' chat-template environment: trim_blocks=True (one newline after `%}` / `#}` is
// dropped), lstrip_blocks=True (spaces/tabs before `{%` / `{#` on their own line are dropped), `{%-` / `-%}`
// strip all whitespace on that side, `{%+` / `+%}` disable lstrip/trim for that tag, newlines are normalized to
// "\n" and one trailing newline of the template is dropped (keep_trailing_newline=False).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace duet::tok::jinja {

enum class TokenType {
    text,        // raw template text (already whitespace-controlled)
    expr_begin,  // {{
    expr_end,    // }}
    stmt_begin,  // {%
    stmt_end,    // %}
    name,        // identifier or keyword
    string,      // string literal (unescaped)
    integer,
    floating,
    op,  // operator or punctuation: + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
    eof,
};

struct Token {
    TokenType type = TokenType::eof;
    std::string text;  // text, name, string value, or operator spelling
    int64_t int_value = 0;
    double float_value = 0.0;
    int line = 1;
    int column = 1;
};

// Tokenize a whole template. Errors: "template: line L, column C: <what>".
Result<std::vector<Token>> tokenize(std::string_view source);

}  // namespace duet::tok::jinja
