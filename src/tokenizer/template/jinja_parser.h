// jinja_parser.h: tokens -> statement tree, with Jinja2's operator precedence and bounded nesting.
#pragma once

#include <string_view>

#include "common/status.h"
#include "tokenizer/template/jinja_ast.h"

namespace duet::tok::jinja {

constexpr int kMaxBlockNesting = 64;       // {% if %} inside {% for %} inside ...
constexpr int kMaxExpressionNesting = 64;  // parentheses, brackets, unary operators, nested conditionals
constexpr int kMaxExpressionDepth = 256;   // height of one expression tree (long `a + b + c ...` chains)

// Lex and parse a template. Errors: "template: line 3: unexpected 'endfor'".
Result<Body> parse_template(std::string_view source);

}  // namespace duet::tok::jinja
