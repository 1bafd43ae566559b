// jinja_parser.cpp: recursive-descent parser for the Jinja subset used by chat templates: statements and
// blocks here, expressions in jinja_parse_expr.cpp.
#include "tokenizer/template/jinja_parser.h"

#include "tokenizer/template/jinja_parser_impl.h"

namespace duet::tok::jinja {

namespace {

constexpr std::string_view kEndTags[] = {"endif",    "elif",    "else",      "endfor",        "endset",
                                         "endmacro", "endcall", "endfilter", "endgeneration", "endraw"};

}  // namespace

std::string describe_token(const Token& t) {
    switch (t.type) {
        case TokenType::eof:
            return "end of template";
        case TokenType::text:
            return "text";
        case TokenType::string:
            return "string '" + t.text.substr(0, 40) + "'";
        case TokenType::expr_end:
            return "'}}'";
        case TokenType::stmt_end:
            return "'%}'";
        default:
            return "'" + t.text + "'";
    }
}

Result<Body> Parser::parse_all() {
    Body body;
    std::string found;
    DUET_RETURN_IF_ERROR(parse_body(body, {}, found));
    return body;
}

// ---- statements ----

// Parses until a `{% <end> %}` tag whose name is in `ends`; consumes `{%` and the name, sets `found`.
Status Parser::parse_body(Body& body, std::initializer_list<std::string_view> ends, std::string& found) {
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

Status Parser::parse_statement(Body& body) {
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
Status Parser::parse_targets(std::vector<std::string>& targets) {
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
Status Parser::parse_filter_chain(ExprPtr& out, const Token& at) {
    bool first = true;
    while (first || at_op("|")) {
        if (at_op("|")) next();
        first = false;
        DUET_RETURN_IF_ERROR(parse_filter(out));
    }
    return {};
}

Result<Body> parse_template(std::string_view source) {
    DUET_TRY(std::vector<Token> tokens, tokenize(source));
    Parser parser(std::move(tokens));
    return parser.parse_all();
}

}  // namespace duet::tok::jinja
