// jinja_parse_expr.cpp: expression grammar of the Jinja parser, loosest first (Jinja2's order):
//   tuple > conditional (a if c else b) > or > and > not > compare (== != < <= > >= in, not in) > + - > ~ >
//   * / // % > ** > unary - + > primary with postfix (.attr [index] [a:b:c] (call)) and | filters / is tests.
#include "tokenizer/template/jinja_parser_impl.h"

namespace duet::tok::jinja {

// ---- expressions (Jinja2 precedence, loosest first) ----

// expr (, expr)* -> a list (Python tuple) when a comma appears.
Status Parser::parse_tuple(ExprPtr& out, bool with_condexpr) {
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

Status Parser::parse_expression(ExprPtr& out, bool with_condexpr) {
    return with_condexpr ? parse_condexpr(out) : parse_or(out);
}

Status Parser::parse_condexpr(ExprPtr& out) {
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

template <class ParseOperand>
Status Parser::parse_binary_level(ExprPtr& out, std::initializer_list<std::string_view> ops,
                                  ParseOperand parse_operand) {
    auto at_level_op = [&] {
        for (std::string_view op : ops)
            if (at_op(op) || at_name(op)) return true;
        return false;
    };
    DUET_RETURN_IF_ERROR(parse_operand(out));
    while (at_level_op()) {
        const Token& at = next();
        ExprPtr rhs;
        DUET_RETURN_IF_ERROR(parse_operand(rhs));
        auto e = make(ExprKind::binary, at);
        e->name = at.text;
        e->children.push_back(std::move(out));
        e->children.push_back(std::move(rhs));
        DUET_RETURN_IF_ERROR(finish(*e));
        out = std::move(e);
    }
    return {};
}

Status Parser::parse_or(ExprPtr& out) {
    return parse_binary_level(out, {"or"}, [this](ExprPtr& operand) { return parse_and(operand); });
}

Status Parser::parse_and(ExprPtr& out) {
    return parse_binary_level(out, {"and"}, [this](ExprPtr& operand) { return parse_not(operand); });
}

Status Parser::parse_not(ExprPtr& out) {
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

Status Parser::parse_compare(ExprPtr& out) {
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

Status Parser::parse_math1(ExprPtr& out) {
    return parse_binary_level(out, {"+", "-"}, [this](ExprPtr& operand) { return parse_concat(operand); });
}

Status Parser::parse_concat(ExprPtr& out) {
    return parse_binary_level(out, {"~"}, [this](ExprPtr& operand) { return parse_math2(operand); });
}

Status Parser::parse_math2(ExprPtr& out) {
    return parse_binary_level(out, {"*", "/", "//", "%"}, [this](ExprPtr& operand) { return parse_pow(operand); });
}

Status Parser::parse_pow(ExprPtr& out) {
    return parse_binary_level(out, {"**"}, [this](ExprPtr& operand) { return parse_unary(operand, true); });
}

Status Parser::parse_unary(ExprPtr& out, bool with_filter) {
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

Status Parser::parse_primary(ExprPtr& out) {
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
        default:
            break;
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

Status Parser::parse_postfix(ExprPtr& out) {
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

Status Parser::parse_subscript(ExprPtr& out) {
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
Status Parser::parse_call_args(Expr& call) {
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

Status Parser::parse_filter(ExprPtr& out) {
    auto f = make(ExprKind::filter, peek());
    DUET_TRY(f->name, expect_name());
    f->children.push_back(std::move(out));
    if (at_op("(")) DUET_RETURN_IF_ERROR(parse_call_args(*f));
    DUET_RETURN_IF_ERROR(finish(*f));
    out = std::move(f);
    return {};
}

Status Parser::parse_filter_expr(ExprPtr& out) {
    while (true) {
        if (at_op("|")) {
            next();
            DUET_RETURN_IF_ERROR(parse_filter(out));
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
                              a.type == TokenType::integer || a.type == TokenType::floating || at_op("(") ||
                              at_op("[") || at_op("{");
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

}  // namespace duet::tok::jinja
