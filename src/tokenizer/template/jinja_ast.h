// jinja_ast.h: the parsed template: statements and expressions, each with its source line for errors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/template/jinja_value.h"

namespace duet::tok::jinja {

enum class ExprKind {
    literal,      // value
    name,         // name
    list,         // children = items; name == "tuple" for (a, b)
    dict,         // children = key0, value0, key1, value1, ...
    attribute,    // children[0] = object, name = attribute
    subscript,    // children[0] = object, children[1] = index
    slice,        // children[0] = object, children[1..3] = start, stop, step (nullptr when omitted)
    call,         // children[0] = callee, then positional args; kwargs in kw_names/kw_values
    filter,       // children[0] = operand (nullptr in a {% filter %} block), name = filter, args + kwargs
    test,         // children[0] = operand, name = test, args; negated for `is not`
    unary,        // name = "not" | "-" | "+", children[0]
    binary,       // name = operator (+ - * / // % ** ~ and or in "not in"), children[0..1]
    compare,      // children[0] = first, then one operand per op in compare_ops (chained a < b < c)
    conditional,  // children = then, condition, else (else may be nullptr -> undefined)
};

struct Expr {
    ExprKind kind = ExprKind::literal;
    int line = 0;
    int depth = 1;                                // height of this subtree (bounded by the parser)
    Value value;                                  // literal
    std::string name;                             // name / attribute / filter / test / operator
    std::vector<std::unique_ptr<Expr>> children;  // see ExprKind
    std::vector<std::string> kw_names;            // call / filter / test keyword arguments
    std::vector<std::unique_ptr<Expr>> kw_values;
    std::vector<std::string> compare_ops;  // compare: "==", "<", "in", "not in", ...
    bool negated = false;                  // test: `is not`
};
using ExprPtr = std::unique_ptr<Expr>;

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind {
    text,          // text
    output,        // expr
    if_,           // conditions[i] guards bodies[i]; else_body
    for_,          // targets, expr = iterable, condition = loop filter (may be null), bodies[0], else_body
    set,           // targets (one name, or several for tuple unpacking) or ns.attr (targets[0], attribute), expr
    set_block,     // targets[0] (+ attribute), bodies[0] rendered to a string; expr = optional filter (operand null)
    macro,         // targets[0] = name, params (+ defaults, nullptr when none), bodies[0]
    call_block,    // expr = macro call; bodies[0] is what caller() renders
    filter_block,  // expr = filter expression with null operand, bodies[0]
    break_,
    continue_,
    scope,  // {% generation %} and similar: just renders bodies[0]
};

struct Stmt {
    StmtKind kind = StmtKind::text;
    int line = 0;
    std::string text;
    ExprPtr expr;
    ExprPtr condition;
    std::vector<ExprPtr> conditions;
    std::vector<Body> bodies;
    Body else_body;
    std::vector<std::string> targets;
    std::string attribute;
    std::vector<std::string> params;
    std::vector<ExprPtr> defaults;
    bool recursive = false;
};

}  // namespace duet::tok::jinja
