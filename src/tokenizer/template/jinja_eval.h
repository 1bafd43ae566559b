// jinja_eval.h: renders a parsed template against a context, within hard limits (loops, recursion, output).
//
// Sandbox: no I/O, no attribute access beyond dict keys and a fixed list of str/dict/list methods, lists and
// dicts are read-only (append/update are refused), and every template gets the same budget:
//   Limits::max_loop_iterations over all loops, max_call_depth nested macro calls, max_output_bytes of output,
//   max_work_bytes of strings/lists built along the way (so `s ~ s` doubling or 'x' * 10**9 fail fast).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "tokenizer/template/jinja_ast.h"
#include "tokenizer/template/jinja_value.h"

namespace duet::tok::jinja {

struct Limits {
    int64_t max_loop_iterations = 100'000;  // over all loops of one render
    int max_call_depth = 64;                // nested macro calls
    int max_eval_depth = 512;               // interpreter recursion (expressions + blocks + calls)
    size_t max_output_bytes = 16u << 20;    // 16 MiB of rendered text
    size_t max_work_bytes = 512u << 20;     // bytes of strings / list slots built while rendering
    size_t max_collection_size = 1u << 20;  // elements in one list (range(), list * n, ...)
};

struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;

    // Positional argument `index`, else keyword `name`, else nullptr.
    const Value* get(size_t index, std::string_view name) const;
    const Value* keyword_arg(std::string_view name) const;
};

class Runtime;

// A callable value: builtin function, bound method, macro, loop.cycle.
struct Function {
    std::string name;
    std::function<Result<Value>(Runtime&, CallArgs&)> call;
};

// What builtins may ask of the interpreter while it renders.
class Runtime {
public:
    virtual ~Runtime() = default;
    // Account for `bytes` of newly built data; errors once the work budget is spent.
    virtual Status charge(size_t bytes) = 0;
    virtual const Limits& limits() const = 0;
    // Call any callable value (macro, builtin, bound method).
    virtual Result<Value> call(const Value& callee, CallArgs& args) = 0;
    // Namespaces are the only mutable values, so the only way to build a reference cycle (`set ns.me = ns`):
    // the runtime empties every namespace it created when the render ends.
    virtual void adopt_namespace(const Value& ns) = 0;
};

// ---- builtins (jinja_builtins.cpp, jinja_methods.cpp) ----

// `value.name` (Jinja getattr): dict key, namespace attribute, or a bound str/dict/list method; undefined when
// absent. Attribute access on undefined is an error.
Result<Value> get_attribute(const Value& object, std::string_view name);
// `value[key]` (Jinja getitem): list/str index (negative from the end), dict key, method fallback.
Result<Value> get_item(const Value& object, const Value& key);
// Call method `name` of `self` directly (avoids binding when the template writes `x.method(...)`).
// Returns nullopt-like undefined Value with ok status when `self` has no such method.
bool has_method(const Value& self, std::string_view name);
Result<Value> call_method(Runtime& rt, const Value& self, std::string_view name, CallArgs& args);

Result<Value> apply_filter(Runtime& rt, std::string_view name, const Value& operand, CallArgs& args);
Result<bool> apply_test(Runtime& rt, std::string_view name, const Value& operand, CallArgs& args);
// Global functions: namespace, range, dict, raise_exception, strftime_now. Undefined when unknown.
Value global_function(std::string_view name);

// Python-style helpers shared by the builtins.
Result<Value> python_slice(Runtime& rt, const Value& object, const Value& start, const Value& stop, const Value& step);
Result<int> python_compare(const Value& a, const Value& b);  // <0, 0, >0; error for unorderable types

// ---- operators (jinja_operators.cpp) ----

// + - * / // % ** ~ with Python semantics (int overflow, division by zero and undefined operands are errors).
Result<Value> binary_operator(Runtime& rt, std::string_view op, const Value& a, const Value& b);
// == != < <= > >= in, "not in".
Result<bool> compare_values(std::string_view op, const Value& a, const Value& b);
// The items a for loop visits: list items, dict keys, string characters; undefined -> none. Error otherwise.
Result<Array> iterate(const Value& v);

// ---- rendering ----

// Render `body` with `context` (a dict of top-level variables). Errors: "template: line N: <what>".
Result<std::string> render(const Body& body, const Value& context, const Limits& limits = {});

}  // namespace duet::tok::jinja
