// jinja_parser_impl.h: the recursive-descent parser's class, shared by jinja_parser.cpp (statements) and
// jinja_parse_expr.cpp (expressions, Jinja2 precedence). Internal to the Jinja implementation.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/template/jinja_lexer.h"
#include "tokenizer/template/jinja_parser.h"

namespace duet::tok::jinja {

std::string describe_token(const Token& t);

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}
    Result<Body> parse_all();

private:
    // ---- token helpers ----
    const Token& peek(size_t k = 0) const {
        size_t i = std::min(pos_ + k, tokens_.size() - 1);
        return tokens_[i];
    }
    const Token& next() {
        const Token& t = peek();
        if (pos_ < tokens_.size() - 1) ++pos_;
        return t;
    }
    bool at_op(std::string_view op, size_t k = 0) const { return peek(k).type == TokenType::op && peek(k).text == op; }
    bool at_name(std::string_view name, size_t k = 0) const {
        return peek(k).type == TokenType::name && peek(k).text == name;
    }
    Status error_at(const Token& t, const std::string& what) const {
        return Status::invalid_argument("template: line %d: %s", t.line, what.c_str());
    }
    Status unexpected(const Token& t, std::string_view expected = {}) const {
        std::string what = "unexpected " + describe_token(t);
        if (!expected.empty()) what += " (expected " + std::string(expected) + ")";
        return error_at(t, what);
    }
    Status expect_op(std::string_view op) {
        if (!at_op(op)) return unexpected(peek(), "'" + std::string(op) + "'");
        next();
        return {};
    }
    Status expect_stmt_end() {
        if (peek().type != TokenType::stmt_end) return unexpected(peek(), "'%}'");
        next();
        return {};
    }
    Result<std::string> expect_name() {
        if (peek().type != TokenType::name) return unexpected(peek(), "a name");
        return next().text;
    }

    ExprPtr make(ExprKind kind, const Token& at) {
        auto e = std::make_unique<Expr>();
        e->kind = kind;
        e->line = at.line;
        return e;
    }
    // Computes the subtree height and rejects trees deeper than kMaxExpressionDepth.
    Status finish(Expr& e) {
        int depth = 0;
        for (const auto& c : e.children)
            if (c) depth = std::max(depth, c->depth);
        for (const auto& c : e.kw_values)
            if (c) depth = std::max(depth, c->depth);
        e.depth = depth + 1;
        if (e.depth > kMaxExpressionDepth) return error_at(peek(), "expression too deeply nested");
        return {};
    }

    // Guards recursion through parentheses, unary operators and nested conditionals.
    struct NestingGuard {
        explicit NestingGuard(int& n) : n_(n) { ++n_; }
        ~NestingGuard() { --n_; }
        int& n_;
    };
    Status check_nesting() const {
        if (expr_nesting_ > kMaxExpressionNesting) return error_at(peek(), "expression nested too deeply");
        return {};
    }

    // ---- statements ----
    Status parse_body(Body& body, std::initializer_list<std::string_view> ends, std::string& found);
    Status parse_statement(Body& body);
    Status parse_targets(std::vector<std::string>& targets);
    Status parse_filter_chain(ExprPtr& out, const Token& at);
    // One filter application `name` or `name(args)` (the '|' already consumed) wrapped around `out`.
    Status parse_filter(ExprPtr& out);

    // ---- expressions (Jinja2 precedence, loosest first) ----
    Status parse_tuple(ExprPtr& out, bool with_condexpr);
    Status parse_expression(ExprPtr& out, bool with_condexpr);
    Status parse_condexpr(ExprPtr& out);
    // One left-associative binary level: operand (op operand)*, where `ops` are its operators ("or", "and" are
    // names) and parse_operand(ExprPtr&) parses the next tighter level. Defined in jinja_parse_expr.cpp.
    template <class ParseOperand>
    Status parse_binary_level(ExprPtr& out, std::initializer_list<std::string_view> ops, ParseOperand parse_operand);
    Status parse_or(ExprPtr& out);
    Status parse_and(ExprPtr& out);
    Status parse_not(ExprPtr& out);
    Status parse_compare(ExprPtr& out);
    Status parse_math1(ExprPtr& out);  // + -
    Status parse_concat(ExprPtr& out);
    Status parse_math2(ExprPtr& out);  // * / // %
    Status parse_pow(ExprPtr& out);
    Status parse_unary(ExprPtr& out, bool with_filter);
    Status parse_primary(ExprPtr& out);
    Status parse_postfix(ExprPtr& out);
    Status parse_subscript(ExprPtr& out);
    Status parse_call_args(Expr& call);
    Status parse_filter_expr(ExprPtr& out);

    std::vector<Token> tokens_;
    size_t pos_ = 0;
    int block_nesting_ = 0;
    int expr_nesting_ = 0;
};

}  // namespace duet::tok::jinja
