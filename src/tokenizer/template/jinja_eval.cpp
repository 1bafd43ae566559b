// jinja_eval.cpp: the tree-walking interpreter: scopes, statements, expressions, operators, macros, limits.
#include "tokenizer/template/jinja_eval.h"

#include <cmath>
#include <limits>

namespace duet::tok::jinja {

const Value* CallArgs::keyword_arg(std::string_view name) const {
    for (const auto& [k, v] : keyword)
        if (k == name) return &v;
    return nullptr;
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
    if (index < positional.size()) return &positional[index];
    return keyword_arg(name);
}

namespace {

// One variable scope. Loops open one per iteration, macros one per call; `if` opens none (like Jinja2).
struct Frame {
    std::shared_ptr<Frame> parent;
    std::vector<std::pair<std::string, Value>> vars;

    const Value* find(std::string_view name) const {
        for (const auto& [k, v] : vars)
            if (k == name) return &v;
        return nullptr;
    }
    void set(const std::string& name, Value v) {
        for (auto& [k, old] : vars)
            if (k == name) {
                old = std::move(v);
                return;
            }
        vars.emplace_back(name, std::move(v));
    }
};

enum class Flow { normal, break_loop, continue_loop };

bool is_located(const Status& s) { return s.message().rfind("template:", 0) == 0; }

Status at_line(int line, const Status& s) {
    if (s.ok() || is_located(s)) return s;
    return s.with_context(strformat("template: line %d: ", line));
}

class Interpreter final : public Runtime {
public:
    Interpreter(const Value& context, const Limits& limits)
        : context_(context), limits_(limits), root_(std::make_shared<Frame>()), current_(root_) {}
    ~Interpreter() override {
        for (const Value& ns : namespaces_) ns.mutable_object() = Object();
    }
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    void adopt_namespace(const Value& ns) override { namespaces_.push_back(ns); }

    Status run(const Body& body, std::string& out) {
        out_ = &out;
        Flow flow = Flow::normal;
        return exec_body(body, flow);
    }

    Status charge(size_t bytes) override {
        work_ += bytes;
        if (work_ > limits_.max_work_bytes)
            return Status::out_of_range("template exceeded its work budget (%zu MiB of strings and lists)",
                                        limits_.max_work_bytes >> 20);
        return {};
    }

    const Limits& limits() const override { return limits_; }

    Result<Value> call(const Value& callee, CallArgs& args) override {
        if (!callee.is_function()) {
            if (callee.is_undefined()) return Status::invalid_argument("call of an undefined value");
            return Status::invalid_argument("'%s' object is not callable", std::string(callee.type_name()).c_str());
        }
        return callee.as_function()->call(*this, args);
    }

private:
    struct DepthGuard {
        DepthGuard(int& d) : d_(d) { ++d_; }
        ~DepthGuard() { --d_; }
        int& d_;
    };

    Status emit(std::string_view s) {
        if (out_->size() + s.size() > limits_.max_output_bytes)
            return Status::out_of_range("template output exceeds %zu MiB", limits_.max_output_bytes >> 20);
        out_->append(s);
        return {};
    }

    Status count_iteration() {
        if (++iterations_ > limits_.max_loop_iterations)
            return Status::out_of_range("template exceeded %lld loop iterations",
                                        static_cast<long long>(limits_.max_loop_iterations));
        return {};
    }

    Value lookup(std::string_view name) const {
        for (const Frame* f = current_.get(); f != nullptr; f = f->parent.get())
            if (const Value* v = f->find(name)) return *v;
        if (const Value* v = context_.find(name)) return *v;
        return global_function(name);
    }

    // Runs `body` with output captured into a string.
    Result<std::string> capture(const Body& body) {
        std::string captured;
        std::string* saved = out_;
        out_ = &captured;
        Flow flow = Flow::normal;
        Status s = exec_body(body, flow);
        out_ = saved;
        if (!s.ok()) return s;
        DUET_RETURN_IF_ERROR(charge(captured.size()));
        return captured;
    }

    // ---- statements ----

    Status exec_body(const Body& body, Flow& flow) {
        for (const auto& stmt : body) {
            DUET_RETURN_IF_ERROR(exec(*stmt, flow));
            if (flow != Flow::normal) return {};
        }
        return {};
    }

    Status exec(const Stmt& s, Flow& flow) {
        DepthGuard guard(eval_depth_);
        if (eval_depth_ > limits_.max_eval_depth)
            return at_line(s.line, Status::out_of_range("template recursion too deep"));
        return at_line(s.line, exec_inner(s, flow));
    }

    Status exec_inner(const Stmt& s, Flow& flow) {
        switch (s.kind) {
            case StmtKind::text:
                return emit(s.text);
            case StmtKind::output: {
                DUET_TRY(Value v, eval(*s.expr));
                if (v.is_string()) return emit(v.as_string());
                return emit(v.to_string());
            }
            case StmtKind::if_:
                for (size_t i = 0; i < s.conditions.size(); ++i) {
                    DUET_TRY(Value cond, eval(*s.conditions[i]));
                    if (cond.truthy()) return exec_body(s.bodies[i], flow);
                }
                return exec_body(s.else_body, flow);
            case StmtKind::for_:
                return exec_for(s);
            case StmtKind::set: {
                DUET_TRY(Value v, eval(*s.expr));
                return assign(s, std::move(v));
            }
            case StmtKind::set_block: {
                DUET_TRY(std::string text, capture(s.bodies[0]));
                Value v(std::move(text));
                if (s.expr) {
                    DUET_TRY(v, apply_chain(*s.expr, v));
                }
                return assign(s, std::move(v));
            }
            case StmtKind::macro: {
                current_->set(s.targets[0], make_macro(s));
                return {};
            }
            case StmtKind::call_block:
                return exec_call_block(s);
            case StmtKind::filter_block: {
                DUET_TRY(std::string text, capture(s.bodies[0]));
                DUET_TRY(Value v, apply_chain(*s.expr, Value(std::move(text))));
                return emit(v.to_string());
            }
            case StmtKind::break_:
                flow = Flow::break_loop;
                return {};
            case StmtKind::continue_:
                flow = Flow::continue_loop;
                return {};
            case StmtKind::scope:
                return exec_body(s.bodies[0], flow);
        }
        return {};
    }

    Status bind_targets(Frame& frame, const std::vector<std::string>& targets, const Value& v) {
        if (targets.size() == 1) {
            frame.set(targets[0], v);
            return {};
        }
        DUET_TRY(Array items, iterate(v));
        if (items.size() != targets.size())
            return Status::invalid_argument("cannot unpack %zu values into %zu names", items.size(), targets.size());
        for (size_t i = 0; i < targets.size(); ++i) frame.set(targets[i], items[i]);
        return {};
    }

    Status assign(const Stmt& s, Value v) {
        if (!s.attribute.empty()) {
            Value ns = lookup(s.targets[0]);
            if (!ns.is_namespace())
                return Status::invalid_argument("cannot assign attribute '%s' on non-namespace object '%s'",
                                                s.attribute.c_str(), s.targets[0].c_str());
            ns.mutable_object().set(s.attribute, std::move(v));
            return {};
        }
        return bind_targets(*current_, s.targets, v);
    }

    Status exec_for(const Stmt& s) {
        if (s.recursive) return Status::unsupported("recursive for loops are not supported");
        DUET_TRY(Value iterable, eval(*s.expr));
        DUET_TRY(Array items, iterate(iterable));
        std::shared_ptr<Frame> saved = current_;
        if (s.condition) {  // `for x in xs if cond`: filter first, so loop.length counts kept items
            Array kept;
            for (Value& item : items) {
                DUET_RETURN_IF_ERROR(count_iteration());
                auto frame = std::make_shared<Frame>();
                frame->parent = saved;
                DUET_RETURN_IF_ERROR(bind_targets(*frame, s.targets, item));
                current_ = frame;
                auto cond = eval(*s.condition);
                current_ = saved;
                if (!cond.ok()) return cond.status();
                if (cond->truthy()) kept.push_back(std::move(item));
            }
            items = std::move(kept);
        }
        Flow flow = Flow::normal;
        if (items.empty()) return exec_body(s.else_body, flow);
        const auto n = static_cast<int64_t>(items.size());
        // loop.cycle(a, b, ...) picks by the current position; one function per loop, not per iteration.
        auto position = std::make_shared<int64_t>(0);
        auto cycle_fn = std::make_shared<Function>();
        cycle_fn->name = "loop.cycle";
        cycle_fn->call = [position](Runtime&, CallArgs& args) -> Result<Value> {
            if (args.positional.empty()) return Status::invalid_argument("loop.cycle: no items given");
            return args.positional[static_cast<size_t>(*position) % args.positional.size()];
        };
        const Value cycle = Value::function(std::move(cycle_fn));
        for (int64_t i = 0; i < n; ++i) {
            DUET_RETURN_IF_ERROR(count_iteration());
            auto frame = std::make_shared<Frame>();
            frame->parent = saved;
            const Value& item = items[static_cast<size_t>(i)];
            DUET_RETURN_IF_ERROR(bind_targets(*frame, s.targets, item));
            Object loop;
            loop.set("index", Value(i + 1));
            loop.set("index0", Value(i));
            loop.set("revindex", Value(n - i));
            loop.set("revindex0", Value(n - i - 1));
            loop.set("first", Value(i == 0));
            loop.set("last", Value(i == n - 1));
            loop.set("length", Value(n));
            loop.set("depth", Value(1));
            loop.set("depth0", Value(0));
            loop.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined());
            loop.set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined());
            *position = i;
            loop.set("cycle", cycle);
            frame->set("loop", Value(std::move(loop)));
            current_ = frame;
            Status st = exec_body(s.bodies[0], flow);
            current_ = saved;
            DUET_RETURN_IF_ERROR(st);
            if (flow == Flow::break_loop) break;
            flow = Flow::normal;
        }
        return {};
    }

    Value make_macro(const Stmt& def) {
        auto f = std::make_shared<Function>();
        f->name = def.targets[0];
        std::weak_ptr<Frame> scope = current_;  // weak: the macro lives in this frame, avoid a cycle
        const Stmt* stmt = &def;
        f->call = [stmt, scope](Runtime& rt, CallArgs& args) -> Result<Value> {
            return static_cast<Interpreter&>(rt).call_macro(*stmt, scope, args);
        };
        return Value::function(std::move(f));
    }

    Result<Value> call_macro(const Stmt& def, const std::weak_ptr<Frame>& scope, CallArgs& args) {
        if (call_depth_ >= limits_.max_call_depth)
            return Status::out_of_range("macro calls nested deeper than %d", limits_.max_call_depth);
        DepthGuard guard(call_depth_);
        const std::string& name = def.targets[0];
        if (args.positional.size() > def.params.size())
            return Status::invalid_argument("macro '%s' takes %zu arguments, %zu given", name.c_str(),
                                            def.params.size(), args.positional.size());
        auto frame = std::make_shared<Frame>();
        frame->parent = scope.lock();
        if (!frame->parent) frame->parent = root_;
        for (const auto& [key, value] : args.keyword) {
            bool known = key == "caller";
            for (const auto& p : def.params) known = known || p == key;
            if (!known)
                return Status::invalid_argument("macro '%s' takes no keyword argument '%s'", name.c_str(), key.c_str());
            frame->set(key, value);
        }
        std::shared_ptr<Frame> saved = current_;
        current_ = frame;
        for (size_t i = 0; i < def.params.size(); ++i) {
            if (i < args.positional.size()) {
                frame->set(def.params[i], args.positional[i]);
            } else if (frame->find(def.params[i]) == nullptr) {
                Value v = Value::undefined();
                if (def.defaults[i]) {
                    auto d = eval(*def.defaults[i]);
                    if (!d.ok()) {
                        current_ = saved;
                        return d.status();
                    }
                    v = std::move(d).value();
                }
                frame->set(def.params[i], std::move(v));
            }
        }
        auto text = capture(def.bodies[0]);
        current_ = saved;
        if (!text.ok()) return text.status();
        return Value(std::move(text).value());
    }

    Status exec_call_block(const Stmt& s) {
        const Expr& call_expr = *s.expr;
        DUET_TRY(Value callee, eval(*call_expr.children[0]));
        DUET_TRY(CallArgs args, eval_args(call_expr, 1));
        auto caller = std::make_shared<Function>();
        caller->name = "caller";
        std::weak_ptr<Frame> scope = current_;
        const Body* body = &s.bodies[0];
        caller->call = [body, scope](Runtime& rt, CallArgs&) -> Result<Value> {
            auto& self = static_cast<Interpreter&>(rt);
            std::shared_ptr<Frame> saved = self.current_;
            auto frame = std::make_shared<Frame>();
            frame->parent = scope.lock();
            if (!frame->parent) frame->parent = self.root_;
            self.current_ = frame;
            auto text = self.capture(*body);
            self.current_ = saved;
            if (!text.ok()) return text.status();
            return Value(std::move(text).value());
        };
        args.keyword.emplace_back("caller", Value::function(std::move(caller)));
        DUET_TRY(Value result, call(callee, args));
        return emit(result.to_string());
    }

    // ---- expressions ----

    Result<Value> eval(const Expr& e) {
        DepthGuard guard(eval_depth_);
        if (eval_depth_ > limits_.max_eval_depth)
            return at_line(e.line, Status::out_of_range("template recursion too deep"));
        auto r = eval_inner(e);
        if (!r.ok()) return at_line(e.line, r.status());
        return r;
    }

    Result<CallArgs> eval_args(const Expr& e, size_t first_positional) {
        CallArgs args;
        for (size_t i = first_positional; i < e.children.size(); ++i) {
            DUET_TRY(Value v, eval(*e.children[i]));
            args.positional.push_back(std::move(v));
        }
        for (size_t i = 0; i < e.kw_names.size(); ++i) {
            DUET_TRY(Value v, eval(*e.kw_values[i]));
            args.keyword.emplace_back(e.kw_names[i], std::move(v));
        }
        return args;
    }

    // A filter expression whose innermost operand is null takes `seed` there ({% filter %}, {% set x | f %}).
    Result<Value> apply_chain(const Expr& f, const Value& seed) {
        Value input = seed;
        if (f.children[0]) {
            DUET_TRY(input, apply_chain(*f.children[0], seed));
        }
        DUET_TRY(CallArgs args, eval_args(f, 1));
        return apply_filter(*this, f.name, input, args);
    }

    Result<Value> eval_inner(const Expr& e) {
        switch (e.kind) {
            case ExprKind::literal:
                return e.value;
            case ExprKind::name:
                return lookup(e.name);
            case ExprKind::list: {
                Array items;
                items.reserve(e.children.size());
                for (const auto& c : e.children) {
                    DUET_TRY(Value v, eval(*c));
                    items.push_back(std::move(v));
                }
                DUET_RETURN_IF_ERROR(charge(items.size() * sizeof(Value)));
                return e.name == "tuple" ? Value::tuple(std::move(items)) : Value(std::move(items));
            }
            case ExprKind::dict: {
                Object obj;
                for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
                    DUET_TRY(Value k, eval(*e.children[i]));
                    DUET_TRY(Value v, eval(*e.children[i + 1]));
                    obj.set(k.is_string() ? k.as_string() : k.to_string(), std::move(v));
                }
                DUET_RETURN_IF_ERROR(charge(obj.size() * sizeof(Value)));
                return Value(std::move(obj));
            }
            case ExprKind::attribute: {
                DUET_TRY(Value obj, eval(*e.children[0]));
                return get_attribute(obj, e.name);
            }
            case ExprKind::subscript: {
                DUET_TRY(Value obj, eval(*e.children[0]));
                DUET_TRY(Value key, eval(*e.children[1]));
                return get_item(obj, key);
            }
            case ExprKind::slice: {
                DUET_TRY(Value obj, eval(*e.children[0]));
                Value bounds[3];
                for (size_t i = 0; i < 3; ++i) {
                    if (e.children[i + 1]) {
                        DUET_TRY(bounds[i], eval(*e.children[i + 1]));
                    }
                }
                return python_slice(*this, obj, bounds[0], bounds[1], bounds[2]);
            }
            case ExprKind::call:
                return eval_call(e);
            case ExprKind::filter: {
                DUET_TRY(Value operand, eval(*e.children[0]));
                DUET_TRY(CallArgs args, eval_args(e, 1));
                return apply_filter(*this, e.name, operand, args);
            }
            case ExprKind::test: {
                DUET_TRY(Value operand, eval(*e.children[0]));
                DUET_TRY(CallArgs args, eval_args(e, 1));
                DUET_TRY(bool passed, apply_test(*this, e.name, operand, args));
                return Value(passed != e.negated);
            }
            case ExprKind::unary: {
                DUET_TRY(Value v, eval(*e.children[0]));
                if (e.name == "not") return Value(!v.truthy());
                if (!v.is_number())
                    return Status::invalid_argument("bad operand type for unary %s: '%s'", e.name.c_str(),
                                                    std::string(v.type_name()).c_str());
                if (e.name == "+") return v.is_bool() ? Value(v.as_int()) : v;
                if (v.is_float()) return Value(-v.as_double());
                if (v.as_int() == std::numeric_limits<int64_t>::min()) return Status::out_of_range("integer overflow");
                return Value(-v.as_int());
            }
            case ExprKind::binary: {
                DUET_TRY(Value lhs, eval(*e.children[0]));
                if (e.name == "and") return lhs.truthy() ? eval(*e.children[1]) : Result<Value>(lhs);
                if (e.name == "or") return lhs.truthy() ? Result<Value>(lhs) : eval(*e.children[1]);
                DUET_TRY(Value rhs, eval(*e.children[1]));
                return binary_operator(*this, e.name, lhs, rhs);
            }
            case ExprKind::compare: {
                DUET_TRY(Value lhs, eval(*e.children[0]));
                for (size_t i = 0; i < e.compare_ops.size(); ++i) {
                    DUET_TRY(Value rhs, eval(*e.children[i + 1]));
                    DUET_TRY(bool holds, compare_values(e.compare_ops[i], lhs, rhs));
                    if (!holds) return Value(false);
                    lhs = std::move(rhs);
                }
                return Value(true);
            }
            case ExprKind::conditional: {
                DUET_TRY(Value cond, eval(*e.children[1]));
                if (cond.truthy()) return eval(*e.children[0]);
                if (e.children[2]) return eval(*e.children[2]);
                return Value::undefined();
            }
        }
        return Value::undefined();
    }

    Result<Value> eval_call(const Expr& e) {
        const Expr& callee = *e.children[0];
        if (callee.kind == ExprKind::attribute) {  // x.method(...): call without binding
            DUET_TRY(Value self, eval(*callee.children[0]));
            if (has_method(self, callee.name)) {
                DUET_TRY(CallArgs args, eval_args(e, 1));
                return call_method(*this, self, callee.name, args);
            }
            DUET_TRY(Value fn, get_attribute(self, callee.name));
            DUET_TRY(CallArgs args, eval_args(e, 1));
            if (fn.is_undefined())
                return Status::invalid_argument("'%s' has no method '%s'", std::string(self.type_name()).c_str(),
                                                callee.name.c_str());
            return call(fn, args);
        }
        DUET_TRY(Value fn, eval(callee));
        DUET_TRY(CallArgs args, eval_args(e, 1));
        if (fn.is_undefined() && callee.kind == ExprKind::name)
            return Status::invalid_argument("'%s' is undefined", callee.name.c_str());
        return call(fn, args);
    }

    const Value& context_;
    Limits limits_;
    std::shared_ptr<Frame> root_;
    std::shared_ptr<Frame> current_;
    std::string* out_ = nullptr;
    int64_t iterations_ = 0;
    int call_depth_ = 0;
    int eval_depth_ = 0;
    size_t work_ = 0;
    std::vector<Value> namespaces_;  // created by namespace() during this render
};

}  // namespace

Result<std::string> render(const Body& body, const Value& context, const Limits& limits) {
    Interpreter interpreter(context, limits);
    std::string out;
    DUET_RETURN_IF_ERROR(interpreter.run(body, out));
    return out;
}

}  // namespace duet::tok::jinja
