// jinja_parser.cpp: recursive-descent parser for the Jinja subset used by chat templates (Jinja2 precedence).
#include "tokenizer/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

#include "tokenizer/jinja_lexer.h"

namespace duet::tok::jinja {

namespace {

constexpr std::string_view kEndTags[] = {"endif", "elif", "else", "endfor", "endset", "endmacro", "endcall",
                                         "endfilter", "endgeneration", "endraw"};

std::string describe(const Token& t) {
    switch (t.type) {
        case TokenType::eof: return "end of template";
        case TokenType::text: return "text";
        case TokenType::string: return "string '" + t.text.substr(0, 40) + "'";
        case TokenType::expr_end: return "'}}'";
        case TokenType::stmt_end: return "'%}'";
        default: return "'" + t.text + "'";
    }
}

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

    Result<Body> parse_all() {
        Body body;
        std::string found;
        DUET_RETURN_IF_ERROR(parse_body(body, {}, found));
        return body;
    }

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
    bool at_op(std::string_view op, size_t k = 0) const {
        return peek(k).type == TokenType::op && peek(k).text == op;
    }
    bool at_name(std::string_view name, size_t k = 0) const {
        return peek(k).type == TokenType::name && peek(k).text == name;
    }
    Status error_at(const Token& t, const std::string& what) const {
        return Status::invalid_argument("template: line %d: %s", t.line, what.c_str());
    }
    Status unexpected(const Token& t, std::string_view expected = {}) const {
        std::string what = "unexpected " + describe(t);
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

    // Parses until a `{% <end> %}` tag whose name is in `ends`; consumes `{%` and the name, sets `found`.
    Status parse_body(Body& body, std::initializer_list<std::string_view> ends, std::string& found) {
        if (++block_nesting_ > kMaxBlockNesting) return error_at(peek(), "blocks nested too deeply");
        while (true) {
            const Token& t = peek();
            if (t.type == TokenType::eof) {
                if (ends.size() == 0) break;
                return error_at(t, "unexpected end of template (expected '" + std::string(*(ends.end() - 1)) + "')");
            }
            if (t.type == TokenType::text) {
                auto s = std::make_unique<Stmt>();
                s->kind = StmtKind::text;
                s->line = t.line;
                s->text = next().text;
                body.push_back(std::move(s));
            } else if (t.type == TokenType::expr_begin) {
                next();
                auto s = std::make_unique<Stmt>();
                s->kind = StmtKind::output;
                s->line = t.line;
                DUET_RETURN_IF_ERROR(parse_tuple(s->expr, true));
                if (peek().type != TokenType::expr_end) return unexpected(peek(), "'}}'");
                next();
                body.push_back(std::move(s));
            } else if (t.type == TokenType::stmt_begin) {
                const Token& name = peek(1);
                if (name.type == TokenType::name &&
                    std::find(ends.begin(), ends.end(), std::string_view(name.text)) != ends.end()) {
                    next();
                    found = next().text;
                    --block_nesting_;
                    return {};
                }
                next();
                DUET_RETURN_IF_ERROR(parse_statement(body));
            } else {
                return unexpected(t);
            }
        }
        --block_nesting_;
        return {};
    }

    Status parse_statement(Body& body) {
        const Token& tag = peek();
        if (tag.type != TokenType::name) return unexpected(tag, "a statement name");
        const std::string keyword = next().text;
        auto s = std::make_unique<Stmt>();
        s->line = tag.line;
        std::string found;
        if (keyword == "if") {
            s->kind = StmtKind::if_;
            while (true) {
                ExprPtr cond;
                DUET_RETURN_IF_ERROR(parse_tuple(cond, true));
                DUET_RETURN_IF_ERROR(expect_stmt_end());
                s->conditions.push_back(std::move(cond));
                s->bodies.emplace_back();
                DUET_RETURN_IF_ERROR(parse_body(s->bodies.back(), {"elif", "else", "endif"}, found));
                if (found != "elif") break;
            }
            if (found == "else") {
                DUET_RETURN_IF_ERROR(expect_stmt_end());
                DUET_RETURN_IF_ERROR(parse_body(s->else_body, {"endif"}, found));
            }
            DUET_RETURN_IF_ERROR(expect_stmt_end());
        } else if (keyword == "for") {
            s->kind = StmtKind::for_;
            DUET_RETURN_IF_ERROR(parse_targets(s->targets));
            if (!at_name("in")) return unexpected(peek(), "'in'");
            next();
            DUET_RETURN_IF_ERROR(parse_tuple(s->expr, false));
            if (at_name("if")) {
                next();
                DUET_RETURN_IF_ERROR(parse_expression(s->condition, true));
            }
            if (at_name("recursive")) {
                next();
                s->recursive = true;
            }
            DUET_RETURN_IF_ERROR(expect_stmt_end());
            s->bodies.emplace_back();
            DUET_RETURN_IF_ERROR(parse_body(s->bodies[0], {"else", "endfor"}, found));
            if (found == "else") {
                DUET_RETURN_IF_ERROR(expect_stmt_end());
                DUET_RETURN_IF_ERROR(parse_body(s->else_body, {"endfor"}, found));
            }
            DUET_RETURN_IF_ERROR(expect_stmt_end());
        } else if (keyword == "set") {
            DUET_RETURN_IF_ERROR(parse_targets(s->targets));
            if (s->targets.size() == 1 && at_op(".")) {
                next();
                DUET_TRY(s->attribute, expect_name());
            }
            if (at_op("=")) {
                next();
                s->kind = StmtKind::set;
                DUET_RETURN_IF_ERROR(parse_tuple(s->expr, true));
                DUET_RETURN_IF_ERROR(expect_stmt_end());
            } else {
                s->kind = StmtKind::set_block;
                if (s->targets.size() != 1) return unexpected(peek(), "'='");
                if (at_op("|")) DUET_RETURN_IF_ERROR(parse_filter_chain(s->expr, tag));
                DUET_RETURN_IF_ERROR(expect_stmt_end());
                s->bodies.emplace_back();
                DUET_RETURN_IF_ERROR(parse_body(s->bodies[0], {"endset"}, found));
                DUET_RETURN_IF_ERROR(expect_stmt_end());
            }
        } else if (keyword == "macro") {
            s->kind = StmtKind::macro;
            DUET_TRY(std::string name, expect_name());
            s->targets.push_back(name);
            DUET_RETURN_IF_ERROR(expect_op("("));
            while (!at_op(")")) {
                DUET_TRY(std::string param, expect_name());
                s->params.push_back(param);
                ExprPtr def;
                if (at_op("=")) {
                    next();
                    DUET_RETURN_IF_ERROR(parse_expression(def, true));
                }
                s->defaults.push_back(std::move(def));
                if (!at_op(",")) break;
                next();
            }
            DUET_RETURN_IF_ERROR(expect_op(")"));
            DUET_RETURN_IF_ERROR(expect_stmt_end());
            s->bodies.emplace_back();
            DUET_RETURN_IF_ERROR(parse_body(s->bodies[0], {"endmacro"}, found));
            if (peek().type == TokenType::name) next();  // {% endmacro name %}
            DUET_RETURN_IF_ERROR(expect_stmt_end());
        } else if (keyword == "call") {
            s->kind = StmtKind::call_block;
            DUET_RETURN_IF_ERROR(parse_expression(s->expr, true));
            if (s->expr->kind != ExprKind::call) return error_at(tag, "'call' needs a macro call");
            DUET_RETURN_IF_ERROR(expect_stmt_end());
            s->bodies.emplace_back();
            DUET_RETURN_IF_ERROR(parse_body(s->bodies[0], {"endcall"}, found));
            DUET_RETURN_IF_ERROR(expect_stmt_end());
        } else if (keyword == "filter") {
            s->kind = StmtKind::filter_block;
            DUET_RETURN_IF_ERROR(parse_filter_chain(s->expr, tag));
            DUET_RETURN_IF_ERROR(expect_stmt_end());
            s->bodies.emplace_back();
            DUET_RETURN_IF_ERROR(parse_body(s->bodies[0], {"endfilter"}, found));
            DUET_RETURN_IF_ERROR(expect_stmt_end());
        } else if (keyword == "generation") {
            s->kind = StmtKind::scope;
            DUET_RETURN_IF_ERROR(expect_stmt_end());
            s->bodies.emplace_back();
            DUET_RETURN_IF_ERROR(parse_body(s->bodies[0], {"endgeneration"}, found));
            DUET_RETURN_IF_ERROR(expect_stmt_end());
        } else if (keyword == "break" || keyword == "continue") {
            s->kind = keyword == "break" ? StmtKind::break_ : StmtKind::continue_;
            DUET_RETURN_IF_ERROR(expect_stmt_end());
        } else if (std::find(std::begin(kEndTags), std::end(kEndTags), keyword) != std::end(kEndTags)) {
            return error_at(tag, "unexpected '" + keyword + "'");
        } else {
            return error_at(tag, "unknown tag '" + keyword + "'");
        }
        body.push_back(std::move(s));
        return {};
    }

    // `x`, `a, b` or `(a, b)` as assignment / loop targets.
    Status parse_targets(std::vector<std::string>& targets) {
        bool paren = at_op("(");
        if (paren) next();
        while (true) {
            DUET_TRY(std::string name, expect_name());
            targets.push_back(name);
            if (!at_op(",")) break;
            next();
        }
        if (paren) DUET_RETURN_IF_ERROR(expect_op(")"));
        return {};
    }

    // `| f(args) | g` with a null innermost operand ({% filter %} blocks, {% set x | f %}).
    Status parse_filter_chain(ExprPtr& out, const Token& at) {
        bool first = true;
        while (first || at_op("|")) {
            if (at_op("|")) next();
            first = false;
            auto f = make(ExprKind::filter, peek());
            DUET_TRY(f->name, expect_name());
            f->children.push_back(std::move(out));
            if (at_op("(")) DUET_RETURN_IF_ERROR(parse_call_args(*f));
            DUET_RETURN_IF_ERROR(finish(*f));
            out = std::move(f);
        }
        return {};
    }

    // ---- expressions (Jinja2 precedence, loosest first) ----

    // expr (, expr)* -> a list (Python tuple) when a comma appears.
    Status parse_tuple(ExprPtr& out, bool with_condexpr) {
        const Token& start = peek();
        DUET_RETURN_IF_ERROR(parse_expression(out, with_condexpr));
        if (!at_op(",")) return {};
        auto list = make(ExprKind::list, start);
        list->name = "tuple";
        list->children.push_back(std::move(out));
        while (at_op(",")) {
            next();
            TokenType t = peek().type;
            if (t == TokenType::stmt_end || t == TokenType::expr_end || at_op(")") || at_name("in")) break;
            ExprPtr item;
            DUET_RETURN_IF_ERROR(parse_expression(item, with_condexpr));
            list->children.push_back(std::move(item));
        }
        DUET_RETURN_IF_ERROR(finish(*list));
        out = std::move(list);
        return {};
    }

    Status parse_expression(ExprPtr& out, bool with_condexpr) {
        return with_condexpr ? parse_condexpr(out) : parse_or(out);
    }

    Status parse_condexpr(ExprPtr& out) {
        NestingGuard guard(expr_nesting_);
        DUET_RETURN_IF_ERROR(check_nesting());
        const Token& start = peek();
        DUET_RETURN_IF_ERROR(parse_or(out));
        while (at_name("if")) {
            next();
            auto cond = make(ExprKind::conditional, start);
            ExprPtr test, otherwise;
            DUET_RETURN_IF_ERROR(parse_or(test));
            if (at_name("else")) {
                next();
                DUET_RETURN_IF_ERROR(parse_condexpr(otherwise));
            }
            cond->children.push_back(std::move(out));
            cond->children.push_back(std::move(test));
            cond->children.push_back(std::move(otherwise));
            DUET_RETURN_IF_ERROR(finish(*cond));
            out = std::move(cond);
        }
        return {};
    }

    Status binary(ExprPtr& out, const Token& at, std::string op, ExprPtr rhs) {
        auto e = make(ExprKind::binary, at);
        e->name = std::move(op);
        e->children.push_back(std::move(out));
        e->children.push_back(std::move(rhs));
        DUET_RETURN_IF_ERROR(finish(*e));
        out = std::move(e);
        return {};
    }

    Status parse_or(ExprPtr& out) {
        DUET_RETURN_IF_ERROR(parse_and(out));
        while (at_name("or")) {
            const Token& at = next();
            ExprPtr rhs;
            DUET_RETURN_IF_ERROR(parse_and(rhs));
            DUET_RETURN_IF_ERROR(binary(out, at, "or", std::move(rhs)));
        }
        return {};
    }

    Status parse_and(ExprPtr& out) {
        DUET_RETURN_IF_ERROR(parse_not(out));
        while (at_name("and")) {
            const Token& at = next();
            ExprPtr rhs;
            DUET_RETURN_IF_ERROR(parse_not(rhs));
            DUET_RETURN_IF_ERROR(binary(out, at, "and", std::move(rhs)));
        }
        return {};
    }

    Status parse_not(ExprPtr& out) {
        if (!at_name("not")) return parse_compare(out);
        NestingGuard guard(expr_nesting_);
        DUET_RETURN_IF_ERROR(check_nesting());
        auto e = make(ExprKind::unary, next());
        e->name = "not";
        ExprPtr operand;
        DUET_RETURN_IF_ERROR(parse_not(operand));
        e->children.push_back(std::move(operand));
        DUET_RETURN_IF_ERROR(finish(*e));
        out = std::move(e);
        return {};
    }

    Status parse_compare(ExprPtr& out) {
        const Token& start = peek();
        DUET_RETURN_IF_ERROR(parse_math1(out));
        ExprPtr cmp;
        while (true) {
            std::string op;
            if (peek().type == TokenType::op &&
                (at_op("==") || at_op("!=") || at_op("<") || at_op("<=") || at_op(">") || at_op(">="))) {
                op = next().text;
            } else if (at_name("in")) {
                next();
                op = "in";
            } else if (at_name("not") && at_name("in", 1)) {
                next();
                next();
                op = "not in";
            } else {
                break;
            }
            if (!cmp) {
                cmp = make(ExprKind::compare, start);
                cmp->children.push_back(std::move(out));
            }
            ExprPtr rhs;
            DUET_RETURN_IF_ERROR(parse_math1(rhs));
            cmp->compare_ops.push_back(op);
            cmp->children.push_back(std::move(rhs));
        }
        if (cmp) {
            DUET_RETURN_IF_ERROR(finish(*cmp));
            out = std::move(cmp);
        }
        return {};
    }

    Status parse_math1(ExprPtr& out) {
        DUET_RETURN_IF_ERROR(parse_concat(out));
        while (at_op("+") || at_op("-")) {
            const Token& at = next();
            ExprPtr rhs;
            DUET_RETURN_IF_ERROR(parse_concat(rhs));
            DUET_RETURN_IF_ERROR(binary(out, at, at.text, std::move(rhs)));
        }
        return {};
    }

    Status parse_concat(ExprPtr& out) {
        DUET_RETURN_IF_ERROR(parse_math2(out));
        while (at_op("~")) {
            const Token& at = next();
            ExprPtr rhs;
            DUET_RETURN_IF_ERROR(parse_math2(rhs));
            DUET_RETURN_IF_ERROR(binary(out, at, "~", std::move(rhs)));
        }
        return {};
    }

    Status parse_math2(ExprPtr& out) {
        DUET_RETURN_IF_ERROR(parse_pow(out));
        while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
            const Token& at = next();
            ExprPtr rhs;
            DUET_RETURN_IF_ERROR(parse_pow(rhs));
            DUET_RETURN_IF_ERROR(binary(out, at, at.text, std::move(rhs)));
        }
        return {};
    }

    Status parse_pow(ExprPtr& out) {
        DUET_RETURN_IF_ERROR(parse_unary(out, true));
        while (at_op("**")) {
            const Token& at = next();
            ExprPtr rhs;
            DUET_RETURN_IF_ERROR(parse_unary(rhs, true));
            DUET_RETURN_IF_ERROR(binary(out, at, "**", std::move(rhs)));
        }
        return {};
    }

    Status parse_unary(ExprPtr& out, bool with_filter) {
        if (at_op("-") || at_op("+")) {
            NestingGuard guard(expr_nesting_);
            DUET_RETURN_IF_ERROR(check_nesting());
            auto e = make(ExprKind::unary, peek());
            e->name = next().text;
            ExprPtr operand;
            DUET_RETURN_IF_ERROR(parse_unary(operand, false));
            e->children.push_back(std::move(operand));
            DUET_RETURN_IF_ERROR(finish(*e));
            out = std::move(e);
        } else {
            DUET_RETURN_IF_ERROR(parse_primary(out));
        }
        DUET_RETURN_IF_ERROR(parse_postfix(out));
        if (with_filter) DUET_RETURN_IF_ERROR(parse_filter_expr(out));
        return {};
    }

    Status parse_primary(ExprPtr& out) {
        const Token& t = peek();
        switch (t.type) {
            case TokenType::name: {
                next();
                auto e = make(ExprKind::literal, t);
                if (t.text == "true" || t.text == "True") e->value = Value(true);
                else if (t.text == "false" || t.text == "False") e->value = Value(false);
                else if (t.text == "none" || t.text == "None") e->value = Value::none();
                else {
                    e->kind = ExprKind::name;
                    e->name = t.text;
                }
                out = std::move(e);
                return {};
            }
            case TokenType::string: {
                std::string s;
                while (peek().type == TokenType::string) s += next().text;  // adjacent literals concatenate
                out = make(ExprKind::literal, t);
                out->value = Value(std::move(s));
                return {};
            }
            case TokenType::integer:
            case TokenType::floating:
                next();
                out = make(ExprKind::literal, t);
                out->value = t.type == TokenType::integer ? Value(t.int_value) : Value(t.float_value);
                return {};
            default: break;
        }
        if (!at_op("(") && !at_op("[") && !at_op("{")) return unexpected(t);
        NestingGuard guard(expr_nesting_);
        DUET_RETURN_IF_ERROR(check_nesting());
        if (at_op("(")) {
            next();
            if (at_op(")")) {  // empty tuple
                next();
                out = make(ExprKind::list, t);
                out->name = "tuple";
                return {};
            }
            DUET_RETURN_IF_ERROR(parse_tuple(out, true));
            return expect_op(")");
        }
        if (at_op("[")) {
            next();
            auto list = make(ExprKind::list, t);
            while (!at_op("]")) {
                ExprPtr item;
                DUET_RETURN_IF_ERROR(parse_expression(item, true));
                list->children.push_back(std::move(item));
                if (!at_op(",")) break;
                next();
            }
            DUET_RETURN_IF_ERROR(expect_op("]"));
            DUET_RETURN_IF_ERROR(finish(*list));
            out = std::move(list);
            return {};
        }
        next();  // '{'
        auto dict = make(ExprKind::dict, t);
        while (!at_op("}")) {
            ExprPtr key, value;
            DUET_RETURN_IF_ERROR(parse_expression(key, true));
            DUET_RETURN_IF_ERROR(expect_op(":"));
            DUET_RETURN_IF_ERROR(parse_expression(value, true));
            dict->children.push_back(std::move(key));
            dict->children.push_back(std::move(value));
            if (!at_op(",")) break;
            next();
        }
        DUET_RETURN_IF_ERROR(expect_op("}"));
        DUET_RETURN_IF_ERROR(finish(*dict));
        out = std::move(dict);
        return {};
    }

    Status parse_postfix(ExprPtr& out) {
        while (true) {
            if (at_op(".")) {
                const Token& at = next();
                const Token& member = peek();
                if (member.type == TokenType::name) {
                    auto e = make(ExprKind::attribute, at);
                    e->name = next().text;
                    e->children.push_back(std::move(out));
                    DUET_RETURN_IF_ERROR(finish(*e));
                    out = std::move(e);
                } else if (member.type == TokenType::integer) {
                    auto e = make(ExprKind::subscript, at);
                    auto index = make(ExprKind::literal, member);
                    index->value = Value(next().int_value);
                    e->children.push_back(std::move(out));
                    e->children.push_back(std::move(index));
                    DUET_RETURN_IF_ERROR(finish(*e));
                    out = std::move(e);
                } else {
                    return unexpected(member, "an attribute name");
                }
            } else if (at_op("[")) {
                DUET_RETURN_IF_ERROR(parse_subscript(out));
            } else if (at_op("(")) {
                auto call = make(ExprKind::call, peek());
                call->children.push_back(std::move(out));
                DUET_RETURN_IF_ERROR(parse_call_args(*call));
                DUET_RETURN_IF_ERROR(finish(*call));
                out = std::move(call);
            } else {
                return {};
            }
        }
    }

    Status parse_subscript(ExprPtr& out) {
        NestingGuard guard(expr_nesting_);
        DUET_RETURN_IF_ERROR(check_nesting());
        const Token& at = next();  // '['
        ExprPtr start, stop, step;
        if (!at_op(":")) DUET_RETURN_IF_ERROR(parse_expression(start, true));
        if (!at_op(":")) {
            DUET_RETURN_IF_ERROR(expect_op("]"));
            auto e = make(ExprKind::subscript, at);
            e->children.push_back(std::move(out));
            e->children.push_back(std::move(start));
            DUET_RETURN_IF_ERROR(finish(*e));
            out = std::move(e);
            return {};
        }
        next();  // ':'
        if (!at_op("]") && !at_op(":")) DUET_RETURN_IF_ERROR(parse_expression(stop, true));
        if (at_op(":")) {
            next();
            if (!at_op("]")) DUET_RETURN_IF_ERROR(parse_expression(step, true));
        }
        DUET_RETURN_IF_ERROR(expect_op("]"));
        auto e = make(ExprKind::slice, at);
        e->children.push_back(std::move(out));
        e->children.push_back(std::move(start));
        e->children.push_back(std::move(stop));
        e->children.push_back(std::move(step));
        DUET_RETURN_IF_ERROR(finish(*e));
        out = std::move(e);
        return {};
    }

    // `(a, b, key=c)`: positional args go to children (after any operand), keywords to kw_names/kw_values.
    Status parse_call_args(Expr& call) {
        NestingGuard guard(expr_nesting_);
        DUET_RETURN_IF_ERROR(check_nesting());
        DUET_RETURN_IF_ERROR(expect_op("("));
        while (!at_op(")")) {
            ExprPtr arg;
            if (peek().type == TokenType::name && at_op("=", 1)) {
                call.kw_names.push_back(next().text);
                next();
                DUET_RETURN_IF_ERROR(parse_expression(arg, true));
                call.kw_values.push_back(std::move(arg));
            } else {
                if (!call.kw_names.empty()) return error_at(peek(), "positional argument after keyword argument");
                DUET_RETURN_IF_ERROR(parse_expression(arg, true));
                call.children.push_back(std::move(arg));
            }
            if (!at_op(",")) break;
            next();
        }
        return expect_op(")");
    }

    Status parse_filter_expr(ExprPtr& out) {
        while (true) {
            if (at_op("|")) {
                next();
                auto f = make(ExprKind::filter, peek());
                DUET_TRY(f->name, expect_name());
                f->children.push_back(std::move(out));
                if (at_op("(")) DUET_RETURN_IF_ERROR(parse_call_args(*f));
                DUET_RETURN_IF_ERROR(finish(*f));
                out = std::move(f);
            } else if (at_name("is")) {
                next();
                auto t = make(ExprKind::test, peek());
                if (at_name("not")) {
                    next();
                    t->negated = true;
                }
                DUET_TRY(t->name, expect_name());
                t->children.push_back(std::move(out));
                const Token& a = peek();
                bool arg_starts = a.type == TokenType::name || a.type == TokenType::string ||
                                  a.type == TokenType::integer || a.type == TokenType::floating ||
                                  at_op("(") || at_op("[") || at_op("{");
                if (at_op("(")) {
                    DUET_RETURN_IF_ERROR(parse_call_args(*t));
                } else if (arg_starts && !at_name("else") && !at_name("or") && !at_name("and")) {
                    if (at_name("is")) return error_at(a, "cannot chain multiple tests with 'is'");
                    ExprPtr arg;
                    DUET_RETURN_IF_ERROR(parse_primary(arg));
                    DUET_RETURN_IF_ERROR(parse_postfix(arg));
                    t->children.push_back(std::move(arg));
                }
                DUET_RETURN_IF_ERROR(finish(*t));
                out = std::move(t);
            } else if (at_op("(")) {
                auto call = make(ExprKind::call, peek());
                call->children.push_back(std::move(out));
                DUET_RETURN_IF_ERROR(parse_call_args(*call));
                DUET_RETURN_IF_ERROR(finish(*call));
                out = std::move(call);
            } else {
                return {};
            }
        }
    }

    std::vector<Token> tokens_;
    size_t pos_ = 0;
    int block_nesting_ = 0;
    int expr_nesting_ = 0;
};

}  // namespace

Result<Body> parse_template(std::string_view source) {
    DUET_TRY(std::vector<Token> tokens, tokenize(source));
    Parser parser(std::move(tokens));
    return parser.parse_all();
}

}  // namespace duet::tok::jinja
