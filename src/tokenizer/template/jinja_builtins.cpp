// jinja_builtins.cpp: Jinja2's filters and tests, and the global functions chat templates call
// (namespace, range, dict, raise_exception, strftime_now). tojson follows transformers: json.dumps with
// ensure_ascii=False.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <ctime>

#include "tokenizer/template/jinja_eval.h"
#include "tokenizer/template/jinja_text.h"

namespace duet::tok::jinja {

namespace {

bool is_integral(const Value& v) { return v.is_int() || v.is_bool(); }
bool is_missing(const Value* v) { return v == nullptr || v->is_none() || v->is_undefined(); }

Status need(const Value* v, std::string_view filter, std::string_view what) {
    if (v != nullptr) return {};
    return Status::invalid_argument("%.*s: missing argument '%.*s'", static_cast<int>(filter.size()), filter.data(),
                                    static_cast<int>(what.size()), what.data());
}

Result<size_t> length_of(const Value& v) {
    switch (v.kind()) {
        case Kind::string:
            return utf8_length(v.as_string());
        case Kind::array:
            return v.as_array().size();
        case Kind::object:
            if (!v.is_namespace()) return v.as_object().size();
            break;
        case Kind::undefined:
            return size_t{0};
        default:
            break;
    }
    return Status::invalid_argument("object of type '%s' has no len()", std::string(v.type_name()).c_str());
}

// `attribute` of filters like map/selectattr/sort: dotted path, integer parts index lists.
Result<Value> lookup_path(const Value& item, const std::string& path) {
    Value current = item;
    size_t start = 0;
    while (true) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bool numeric =
            !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (current.is_undefined()) return current;
        if (numeric && part.size() < 10) {
            DUET_TRY(current, get_item(current, Value(static_cast<int64_t>(std::stoll(part)))));
        } else {
            DUET_TRY(current, get_item(current, Value(part)));
        }
        if (dot == std::string::npos) return current;
        start = dot + 1;
    }
}

Result<std::string> attribute_arg(const CallArgs& args, size_t index, std::string_view filter) {
    const Value* a = args.get(index, "attribute");
    if (a == nullptr || !a->is_string())
        return Status::invalid_argument("%.*s: 'attribute' must be a string", static_cast<int>(filter.size()),
                                        filter.data());
    return a->as_string();
}

// select / reject / selectattr / rejectattr.
Result<Value> select_items(Runtime& rt, const Value& operand, CallArgs& args, bool by_attribute, bool keep_if) {
    DUET_TRY(Array items, iterate(operand));
    std::string attribute;
    size_t next = 0;
    if (by_attribute) {
        DUET_TRY(attribute, attribute_arg(args, 0, "selectattr"));
        next = 1;
    }
    std::string test_name;
    CallArgs test_args;
    if (next < args.positional.size()) {
        if (!args.positional[next].is_string()) return Status::invalid_argument("select: test name must be a string");
        test_name = args.positional[next].as_string();
        test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next) + 1,
                                    args.positional.end());
    }
    Array out;
    for (const Value& item : items) {
        Value subject = item;
        if (by_attribute) {
            DUET_TRY(subject, lookup_path(item, attribute));
        }
        bool passed = false;
        if (test_name.empty()) {
            passed = subject.truthy();
        } else {
            CallArgs copy = test_args;
            DUET_TRY(passed, apply_test(rt, test_name, subject, copy));
        }
        if (passed == keep_if) out.push_back(item);
    }
    DUET_RETURN_IF_ERROR(rt.charge(out.size() * sizeof(Value)));
    return Value(std::move(out));
}

Result<Value> map_items(Runtime& rt, const Value& operand, CallArgs& args) {
    DUET_TRY(Array items, iterate(operand));
    Array out;
    out.reserve(items.size());
    if (const Value* attr = args.keyword_arg("attribute")) {
        if (!attr->is_string()) return Status::invalid_argument("map: 'attribute' must be a string");
        const Value* def = args.keyword_arg("default");
        for (const Value& item : items) {
            DUET_TRY(Value v, lookup_path(item, attr->as_string()));
            out.push_back(v.is_undefined() && def != nullptr ? *def : v);
        }
    } else {
        if (args.positional.empty() || !args.positional[0].is_string())
            return Status::invalid_argument("map: needs a filter name or attribute=");
        std::string filter = args.positional[0].as_string();
        for (const Value& item : items) {
            CallArgs filter_args;
            filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
            filter_args.keyword = args.keyword;
            DUET_TRY(Value v, apply_filter(rt, filter, item, filter_args));
            out.push_back(std::move(v));
        }
    }
    DUET_RETURN_IF_ERROR(rt.charge(out.size() * sizeof(Value)));
    return Value(std::move(out));
}

Result<Value> sort_items(Runtime& rt, const Value& operand, CallArgs& args) {
    DUET_TRY(Array items, iterate(operand));
    const Value* reverse = args.get(0, "reverse");
    const Value* case_sensitive = args.get(1, "case_sensitive");
    const Value* attribute = args.get(2, "attribute");
    bool fold = !(case_sensitive != nullptr && case_sensitive->truthy());
    std::vector<std::pair<Value, Value>> keyed;
    for (const Value& item : items) {
        Value key = item;
        if (!is_missing(attribute) && attribute->is_string()) {
            DUET_TRY(key, lookup_path(item, attribute->as_string()));
        }
        if (fold && key.is_string()) key = Value(ascii_lower(key.as_string()));
        keyed.emplace_back(std::move(key), item);
    }
    Status error;
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        auto c = python_compare(a.first, b.first);
        if (!c.ok()) {
            if (error.ok()) error = c.status();
            return false;
        }
        return c.value() < 0;
    });
    DUET_RETURN_IF_ERROR(error);
    Array out;
    for (auto& [k, v] : keyed) out.push_back(std::move(v));
    if (reverse != nullptr && reverse->truthy()) std::reverse(out.begin(), out.end());
    DUET_RETURN_IF_ERROR(rt.charge(out.size() * sizeof(Value)));
    return Value(std::move(out));
}

Result<Value> tojson(Runtime& rt, const Value& operand, CallArgs& args) {
    // transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
    JsonOptions options;
    if (const Value* v = args.get(0, "ensure_ascii")) options.ensure_ascii = v->truthy();
    if (const Value* v = args.get(1, "indent"); !is_missing(v)) {
        if (v->is_string()) return Status::unsupported("tojson: string indent is not supported");
        if (!is_integral(*v)) return Status::invalid_argument("tojson: indent must be an integer");
        options.indent = static_cast<int>(std::clamp<int64_t>(v->as_int(), 0, 64));
    }
    if (const Value* v = args.get(2, "separators"); !is_missing(v)) {
        if (!v->is_array() || v->as_array().size() != 2 || !v->as_array()[0].is_string() ||
            !v->as_array()[1].is_string())
            return Status::invalid_argument("tojson: separators must be a pair of strings");
        options.item_separator = v->as_array()[0].as_string();
        options.key_separator = v->as_array()[1].as_string();
        options.custom_separators = true;
    }
    if (const Value* v = args.get(3, "sort_keys")) options.sort_keys = v->truthy();
    std::string out, error;
    if (!to_json(operand, options, out, error)) return Status::invalid_argument("%s", error.c_str());
    DUET_RETURN_IF_ERROR(rt.charge(out.size()));
    if (out.size() > rt.limits().max_output_bytes) return Status::out_of_range("tojson: result too large");
    return Value(std::move(out));
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

Result<Value> to_number(const Value& v, bool want_float, const Value* def) {
    Value fallback = def != nullptr ? *def : (want_float ? Value(0.0) : Value(0));
    if (v.is_bool() || v.is_int()) return want_float ? Value(v.as_double()) : Value(v.as_int());
    if (v.is_float()) {
        if (want_float) return v;
        if (!std::isfinite(v.as_double()) || std::fabs(v.as_double()) > 9.2e18) return fallback;
        return Value(static_cast<int64_t>(v.as_double()));
    }
    if (v.is_string()) {
        std::string s = py_strip(v.as_string(), nullptr, true, true);
        if (s.empty()) return fallback;
        char* end = nullptr;
        errno = 0;
        if (!want_float) {
            long long n = std::strtoll(s.c_str(), &end, 10);
            if (end == s.c_str() + s.size() && errno == 0) return Value(static_cast<int64_t>(n));
        }
        double d = std::strtod(s.c_str(), &end);
        if (end != s.c_str() + s.size()) return fallback;
        if (want_float) return Value(d);
        if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return fallback;
        return Value(static_cast<int64_t>(d));
    }
    return fallback;
}

Result<Value> indent_filter(const Value& operand, CallArgs& args) {
    std::string s = operand.to_string();
    const Value* width = args.get(0, "width");
    const Value* first = args.get(1, "first");
    const Value* blank = args.get(2, "blank");
    std::string pad;
    if (width != nullptr && width->is_string()) pad = width->as_string();
    else
        pad =
            std::string(static_cast<size_t>(
                            std::clamp<int64_t>(width != nullptr && is_integral(*width) ? width->as_int() : 4, 0, 256)),
                        ' ');
    std::string out;
    size_t start = 0;
    bool first_line = true;
    while (start <= s.size()) {
        size_t nl = s.find('\n', start);
        std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        bool add = first_line ? (first != nullptr && first->truthy())
                              : (!line.empty() || (blank != nullptr && blank->truthy()));
        if (add) out += pad;
        out += line;
        if (nl == std::string::npos) break;
        out += '\n';
        start = nl + 1;
        first_line = false;
    }
    return Value(std::move(out));
}

}  // namespace

Result<Value> apply_filter(Runtime& rt, std::string_view name, const Value& v, CallArgs& args) {
    if (name == "trim") {
        const Value* chars = args.get(0, "chars");
        std::string s = v.to_string();
        return Value(py_strip(s, !is_missing(chars) && chars->is_string() ? &chars->as_string() : nullptr, true, true));
    }
    if (name == "length" || name == "count") {
        DUET_TRY(size_t n, length_of(v));
        return Value(static_cast<int64_t>(n));
    }
    if (name == "tojson") return tojson(rt, v, args);
    if (name == "upper") return Value(ascii_upper(v.to_string()));
    if (name == "lower") return Value(ascii_lower(v.to_string()));
    if (name == "title") return Value(py_title(v.to_string()));
    if (name == "capitalize") return Value(py_capitalize(v.to_string()));
    if (name == "string") return Value(v.to_string());
    if (name == "safe") return v;
    if (name == "e" || name == "escape" || name == "forceescape") return Value(html_escape(v.to_string()));
    if (name == "replace") {
        const Value* old_text = args.get(0, "old");
        const Value* new_text = args.get(1, "new");
        const Value* count = args.get(2, "count");
        DUET_RETURN_IF_ERROR(need(old_text, name, "old"));
        DUET_RETURN_IF_ERROR(need(new_text, name, "new"));
        DUET_TRY(std::string out, py_replace(rt, v.to_string(), old_text->to_string(), new_text->to_string(),
                                             count != nullptr && is_integral(*count) ? count->as_int() : -1));
        return Value(std::move(out));
    }
    if (name == "default" || name == "d") {
        const Value* def = args.get(0, "default_value");
        const Value* boolean = args.get(1, "boolean");
        bool use_default = v.is_undefined() || (boolean != nullptr && boolean->truthy() && !v.truthy());
        if (!use_default) return v;
        return def != nullptr ? *def : Value("");
    }
    if (name == "join") {
        const Value* sep = args.get(0, "d");
        const Value* attribute = args.get(1, "attribute");
        DUET_TRY(Array items, iterate(v));
        std::string out;
        for (size_t i = 0; i < items.size(); ++i) {
            if (i > 0 && sep != nullptr) out += sep->to_string();
            Value item = items[i];
            if (!is_missing(attribute)) {
                DUET_TRY(item, lookup_path(item, attribute->to_string()));
            }
            out += item.to_string();
            if (out.size() > rt.limits().max_output_bytes) return Status::out_of_range("join: result too large");
        }
        DUET_RETURN_IF_ERROR(rt.charge(out.size()));
        return Value(std::move(out));
    }
    if (name == "first" || name == "last") {
        DUET_TRY(Array items, iterate(v));
        if (items.empty()) return Value::undefined();
        return name == "first" ? items.front() : items.back();
    }
    if (name == "list") {
        DUET_TRY(Array items, iterate(v));
        return Value(std::move(items));
    }
    if (name == "reverse") {
        if (v.is_string()) return python_slice(rt, v, Value(), Value(), Value(-1));
        DUET_TRY(Array items, iterate(v));
        std::reverse(items.begin(), items.end());
        return Value(std::move(items));
    }
    if (name == "unique") {
        DUET_TRY(Array items, iterate(v));
        Array out;
        for (const Value& item : items) {
            bool seen = false;
            for (const Value& o : out) seen = seen || o.equals(item);
            if (!seen) out.push_back(item);
        }
        return Value(std::move(out));
    }
    if (name == "items") {
        if (v.is_undefined()) return Value::array();
        if (!v.is_object() || v.is_namespace()) return Status::invalid_argument("items: expected a mapping");
        CallArgs none;
        return call_method(rt, v, "items", none);
    }
    if (name == "dictsort") {
        if (!v.is_object() || v.is_namespace()) return Status::invalid_argument("dictsort: expected a mapping");
        CallArgs none;
        DUET_TRY(Value pairs, call_method(rt, v, "items", none));
        Array items = pairs.as_array();
        std::stable_sort(items.begin(), items.end(), [](const Value& a, const Value& b) {
            return ascii_lower(a.as_array()[0].as_string()) < ascii_lower(b.as_array()[0].as_string());
        });
        const Value* reverse = args.get(2, "reverse");
        if (reverse != nullptr && reverse->truthy()) std::reverse(items.begin(), items.end());
        return Value(std::move(items));
    }
    if (name == "select" || name == "reject") return select_items(rt, v, args, false, name == "select");
    if (name == "selectattr" || name == "rejectattr") return select_items(rt, v, args, true, name == "selectattr");
    if (name == "map") return map_items(rt, v, args);
    if (name == "sort") return sort_items(rt, v, args);
    if (name == "attr") {
        const Value* attribute = args.get(0, "name");
        DUET_RETURN_IF_ERROR(need(attribute, name, "name"));
        // Python getattr only: dict keys are not attributes, namespace attributes and methods are.
        if (v.is_object() && !v.is_namespace() && !has_method(v, attribute->to_string())) return Value::undefined();
        return get_attribute(v, attribute->to_string());
    }
    if (name == "int" || name == "float") return to_number(v, name == "float", args.get(0, "default"));
    if (name == "abs") {
        if (v.is_float()) return Value(std::fabs(v.as_double()));
        if (is_integral(v)) {
            if (v.as_int() == INT64_MIN) return Status::out_of_range("abs: integer overflow");
            return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
        }
        return Status::invalid_argument("abs: bad operand type '%s'", std::string(v.type_name()).c_str());
    }
    if (name == "round") {
        if (!v.is_number()) return Status::invalid_argument("round: expected a number");
        const Value* precision = args.get(0, "precision");
        const Value* method = args.get(1, "method");
        int64_t p =
            precision != nullptr && is_integral(*precision) ? std::clamp<int64_t>(precision->as_int(), 0, 15) : 0;
        double scale = std::pow(10.0, static_cast<double>(p));
        double x = v.as_double() * scale;
        std::string m = method != nullptr ? method->to_string() : "common";
        double r = m == "floor" ? std::floor(x) : m == "ceil" ? std::ceil(x) : std::nearbyint(x);  // half to even
        return Value(r / scale);
    }
    if (name == "sum" || name == "min" || name == "max") {
        DUET_TRY(Array items, iterate(v));
        const Value* attribute = args.keyword_arg("attribute");
        if (!is_missing(attribute)) {
            for (Value& item : items) {
                DUET_TRY(item, lookup_path(item, attribute->to_string()));
            }
        }
        if (name == "sum") {
            const Value* start = args.get(1, "start");
            Value total = start != nullptr ? *start : Value(0);
            for (const Value& item : items) {
                if (!item.is_number() || !total.is_number())
                    return Status::invalid_argument("sum: items must be numbers");
                if (total.is_float() || item.is_float()) total = Value(total.as_double() + item.as_double());
                else total = Value(total.as_int() + item.as_int());
            }
            return total;
        }
        if (items.empty()) return Value::undefined();
        Value best = items[0];
        for (const Value& item : items) {
            Value a = item, b = best;
            if (a.is_string() && b.is_string()) {
                a = Value(ascii_lower(a.as_string()));
                b = Value(ascii_lower(b.as_string()));
            }
            DUET_TRY(int c, python_compare(a, b));
            if ((name == "min" && c < 0) || (name == "max" && c > 0)) best = item;
        }
        return best;
    }
    if (name == "indent") return indent_filter(v, args);
    if (name == "wordcount") {
        DUET_TRY(Array words, py_split(v.to_string(), nullptr, -1, false));
        return Value(static_cast<int64_t>(words.size()));
    }
    return Status::invalid_argument("unknown filter '%.*s'", static_cast<int>(name.size()), name.data());
}

Result<bool> apply_test(Runtime& rt, std::string_view name, const Value& v, CallArgs& args) {
    const Value* arg = args.get(0, "other");
    auto need_arg = [&]() { return need(arg, name, "other"); };
    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.is_none();
    if (name == "boolean") return v.is_bool();
    if (name == "true") return v.is_bool() && v.as_bool();
    if (name == "false") return v.is_bool() && !v.as_bool();
    if (name == "integer") return v.is_int();
    if (name == "float") return v.is_float();
    if (name == "number") return v.is_number();
    if (name == "string") return v.is_string();
    if (name == "mapping") return v.is_object() && !v.is_namespace();
    if (name == "iterable")
        return v.is_string() || v.is_array() || (v.is_object() && !v.is_namespace()) || v.is_undefined();
    if (name == "sequence")
        return v.is_string() || v.is_array() || (v.is_object() && !v.is_namespace()) || v.is_undefined();
    if (name == "callable") return v.is_function();
    if (name == "lower") return v.is_string() && ascii_lower(v.as_string()) == v.as_string();
    if (name == "upper") return v.is_string() && ascii_upper(v.as_string()) == v.as_string();
    if (name == "escaped") return false;
    if (name == "odd" || name == "even") {
        if (!is_integral(v))
            return Status::invalid_argument("%.*s: expected an integer", static_cast<int>(name.size()), name.data());
        return (v.as_int() % 2 != 0) == (name == "odd");
    }
    if (name == "divisibleby") {
        DUET_RETURN_IF_ERROR(need_arg());
        if (!is_integral(v) || !is_integral(*arg) || arg->as_int() == 0)
            return Status::invalid_argument("divisibleby: expected non-zero integers");
        if (arg->as_int() == -1) return true;
        return v.as_int() % arg->as_int() == 0;
    }
    if (name == "sameas") {
        DUET_RETURN_IF_ERROR(need_arg());
        if (v.kind() != arg->kind()) return false;
        if (v.is_none() || v.is_undefined() || v.is_bool()) return v.equals(*arg);
        if (v.is_int())
            return v.as_int() == arg->as_int() && v.as_int() >= -5 && v.as_int() <= 256;  // CPython small ints
        if (v.is_array()) return &v.as_array() == &arg->as_array();
        if (v.is_object()) return &v.as_object() == &arg->as_object();
        if (v.is_string()) return &v.as_string() == &arg->as_string();
        return v.equals(*arg);
    }
    if (name == "eq" || name == "equalto" || name == "==") {
        DUET_RETURN_IF_ERROR(need_arg());
        return v.equals(*arg);
    }
    if (name == "ne" || name == "!=") {
        DUET_RETURN_IF_ERROR(need_arg());
        return !v.equals(*arg);
    }
    if (name == "lt" || name == "le" || name == "gt" || name == "ge" || name == "lessthan" || name == "greaterthan" ||
        name == "<" || name == "<=" || name == ">" || name == ">=") {
        DUET_RETURN_IF_ERROR(need_arg());
        DUET_TRY(int c, python_compare(v, *arg));
        if (name == "lt" || name == "lessthan" || name == "<") return c < 0;
        if (name == "le" || name == "<=") return c <= 0;
        if (name == "gt" || name == "greaterthan" || name == ">") return c > 0;
        return c >= 0;
    }
    if (name == "in") {
        DUET_RETURN_IF_ERROR(need_arg());
        if (arg->is_string()) return v.is_string() && arg->as_string().find(v.as_string()) != std::string::npos;
        DUET_TRY(Array items, iterate(*arg));
        for (const Value& item : items)
            if (item.equals(v)) return true;
        return false;
    }
    if (name == "filter" || name == "test") {
        (void)rt;
        return v.is_string();  // no user-defined filters/tests: only builtins exist
    }
    return Status::invalid_argument("unknown test '%.*s'", static_cast<int>(name.size()), name.data());
}

Value global_function(std::string_view name) {
    auto make = [](std::string fname, std::function<Result<Value>(Runtime&, CallArgs&)> fn) {
        auto f = std::make_shared<Function>();
        f->name = std::move(fname);
        f->call = std::move(fn);
        return Value::function(std::move(f));
    };
    if (name == "namespace" || name == "dict") {
        bool ns = name == "namespace";
        return make(std::string(name), [ns](Runtime& rt, CallArgs& args) -> Result<Value> {
            Object obj;
            for (const Value& p : args.positional) {
                if (!p.is_object())
                    return Status::invalid_argument("namespace/dict: positional argument must be a mapping");
                for (const auto& [k, v] : p.as_object().entries()) obj.set(k, v);
            }
            for (const auto& [k, v] : args.keyword) obj.set(k, v);
            DUET_RETURN_IF_ERROR(rt.charge(obj.size() * sizeof(Value)));
            if (!ns) return Value(std::move(obj));
            Value result = Value::namespace_object(std::move(obj));
            rt.adopt_namespace(result);
            return result;
        });
    }
    if (name == "range") {
        return make("range", [](Runtime& rt, CallArgs& args) -> Result<Value> {
            int64_t bounds[3] = {0, 0, 1};
            size_t n = args.positional.size();
            if (n < 1 || n > 3) return Status::invalid_argument("range expected 1 to 3 arguments, got %zu", n);
            for (size_t i = 0; i < n; ++i)
                if (!is_integral(args.positional[i]))
                    return Status::invalid_argument("range: arguments must be integers");
            if (n == 1) bounds[1] = args.positional[0].as_int();
            else
                for (size_t i = 0; i < n; ++i) bounds[i] = args.positional[i].as_int();
            if (bounds[2] == 0) return Status::invalid_argument("range: step must not be zero");
            Array out;
            for (int64_t i = bounds[0]; bounds[2] > 0 ? i < bounds[1] : i > bounds[1];) {
                if (out.size() >= rt.limits().max_collection_size) return Status::out_of_range("range: too many items");
                out.emplace_back(i);
                if (__builtin_add_overflow(i, bounds[2], &i)) break;
            }
            DUET_RETURN_IF_ERROR(rt.charge(out.size() * sizeof(Value)));
            return Value(std::move(out));
        });
    }
    if (name == "raise_exception") {
        return make("raise_exception", [](Runtime&, CallArgs& args) -> Result<Value> {
            std::string message = args.positional.empty() ? std::string() : args.positional[0].to_string();
            return Status::invalid_argument("raise_exception: %s", message.c_str());
        });
    }
    if (name == "strftime_now") {
        return make("strftime_now", [](Runtime&, CallArgs& args) -> Result<Value> {
            if (args.positional.empty() || !args.positional[0].is_string())
                return Status::invalid_argument("strftime_now: expected a format string");
            std::time_t now = std::time(nullptr);
            std::tm local{};
            localtime_r(&now, &local);
            char buf[256];
            size_t n = std::strftime(buf, sizeof buf, args.positional[0].as_string().c_str(), &local);
            return Value(std::string(buf, n));
        });
    }
    return Value::undefined();
}

}  // namespace duet::tok::jinja
