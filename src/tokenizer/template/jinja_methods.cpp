// jinja_methods.cpp: Python object model for templates: getattr/getitem, slicing, ordering, iteration, and
// the whitelisted str / dict / list methods (read-only: mutating methods are refused).
#include <algorithm>
#include <cctype>

#include "tokenizer/template/jinja_eval.h"
#include "tokenizer/template/jinja_text.h"

namespace duet::tok::jinja {

namespace {

constexpr std::string_view kStringMethods[] = {"startswith",   "endswith",   "strip",   "lstrip",  "rstrip",
                                               "split",        "rsplit",     "replace", "upper",   "lower",
                                               "title",        "capitalize", "find",    "rfind",   "count",
                                               "join",         "splitlines", "isdigit", "isalpha", "isalnum",
                                               "isspace",      "isupper",    "islower", "format",  "removeprefix",
                                               "removesuffix", "index"};
constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get"};
constexpr std::string_view kListMethods[] = {"index", "count"};
constexpr std::string_view kUnsafeMethods[] = {"append",  "extend", "insert", "pop",        "remove",  "sort",
                                               "reverse", "clear",  "update", "setdefault", "popitem", "copy"};

template <size_t N>
bool listed(const std::string_view (&names)[N], std::string_view name) {
    return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

bool is_integral(const Value& v) { return v.is_int() || v.is_bool(); }

Value bind_method(const Value& self, std::string_view name) {
    auto f = std::make_shared<Function>();
    f->name = std::string(self.type_name()) + "." + std::string(name);
    std::string method(name);
    f->call = [self, method](Runtime& rt, CallArgs& args) { return call_method(rt, self, method, args); };
    return Value::function(std::move(f));
}

// Python's `s.index(sub)` family works in code points; convert a byte offset.
int64_t code_point_index(const std::string& s, size_t byte_offset) {
    return static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, byte_offset)));
}

bool is_none_or_undefined(const Value* v) { return v == nullptr || v->is_none() || v->is_undefined(); }

Result<std::string> string_arg(const CallArgs& args, size_t index, std::string_view name, std::string_view method) {
    const Value* v = args.get(index, name);
    if (v == nullptr || !v->is_string())
        return Status::invalid_argument("%.*s: argument '%.*s' must be a string", static_cast<int>(method.size()),
                                        method.data(), static_cast<int>(name.size()), name.data());
    return v->as_string();
}

Result<Value> affix_test(const std::string& s, const Value* arg, bool prefix, std::string_view method) {
    auto matches = [&](const std::string& a) {
        if (a.size() > s.size()) return false;
        return prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
    };
    if (arg != nullptr && arg->is_string()) return Value(matches(arg->as_string()));
    if (arg != nullptr && arg->is_array()) {
        for (const Value& v : arg->as_array()) {
            if (!v.is_string()) break;
            if (matches(v.as_string())) return Value(true);
        }
        return Value(false);
    }
    return Status::invalid_argument("%.*s: argument must be a string or a tuple of strings",
                                    static_cast<int>(method.size()), method.data());
}

// str.format with "{}", "{0}", "{name}" fields (format specs are ignored) and "{{" / "}}" escapes.
Result<Value> format_string(Runtime& rt, const std::string& fmt, const CallArgs& args) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        char c = fmt[i];
        if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out += '}';
            ++i;
        } else if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out += '{';
            ++i;
        } else if (c == '{') {
            size_t close = fmt.find('}', i);
            if (close == std::string::npos) return Status::invalid_argument("format: unmatched '{'");
            std::string field = fmt.substr(i + 1, close - i - 1);
            field = field.substr(0, field.find_first_of(":!"));
            const Value* v = nullptr;
            if (field.empty()) {
                v = auto_index < args.positional.size() ? &args.positional[auto_index] : nullptr;
                ++auto_index;
            } else if (std::all_of(field.begin(), field.end(),
                                   [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
                size_t n = std::stoul(field.substr(0, 9));
                v = n < args.positional.size() ? &args.positional[n] : nullptr;
            } else {
                v = args.keyword_arg(field);
            }
            if (v == nullptr) return Status::invalid_argument("format: no value for field '{%s}'", field.c_str());
            out += v->to_string();
            i = close;
        } else {
            out += c;
        }
    }
    DUET_RETURN_IF_ERROR(rt.charge(out.size()));
    return Value(std::move(out));
}

Result<Value> string_method(Runtime& rt, const std::string& s, std::string_view name, CallArgs& args) {
    if (name == "startswith" || name == "endswith")
        return affix_test(s, args.get(0, "prefix"), name == "startswith", name);
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        const Value* chars = args.get(0, "chars");
        if (!is_none_or_undefined(chars) && !chars->is_string())
            return Status::invalid_argument("%.*s: chars must be a string", static_cast<int>(name.size()), name.data());
        return Value(py_strip(s, is_none_or_undefined(chars) ? nullptr : &chars->as_string(), name != "rstrip",
                              name != "lstrip"));
    }
    if (name == "split" || name == "rsplit") {
        const Value* sep = args.get(0, "sep");
        const Value* maxsplit = args.get(1, "maxsplit");
        if (!is_none_or_undefined(sep) && !sep->is_string())
            return Status::invalid_argument("split: separator must be a string");
        int64_t limit = maxsplit != nullptr && is_integral(*maxsplit) ? maxsplit->as_int() : -1;
        DUET_TRY(Array parts,
                 py_split(s, is_none_or_undefined(sep) ? nullptr : &sep->as_string(), limit, name == "rsplit"));
        DUET_RETURN_IF_ERROR(rt.charge(s.size() + parts.size() * sizeof(Value)));
        return Value(std::move(parts));
    }
    if (name == "replace") {
        DUET_TRY(std::string old_text, string_arg(args, 0, "old", name));
        DUET_TRY(std::string new_text, string_arg(args, 1, "new", name));
        const Value* count = args.get(2, "count");
        int64_t limit = count != nullptr && is_integral(*count) ? count->as_int() : -1;
        DUET_TRY(std::string out, py_replace(rt, s, old_text, new_text, limit));
        return Value(std::move(out));
    }
    if (name == "upper") return Value(ascii_upper(s));
    if (name == "lower") return Value(ascii_lower(s));
    if (name == "title") return Value(py_title(s));
    if (name == "capitalize") return Value(py_capitalize(s));
    if (name == "find" || name == "rfind" || name == "index") {
        DUET_TRY(std::string sub, string_arg(args, 0, "sub", name));
        size_t pos = name == "rfind" ? s.rfind(sub) : s.find(sub);
        if (pos == std::string::npos) {
            if (name == "index") return Status::invalid_argument("index: substring not found");
            return Value(-1);
        }
        return Value(code_point_index(s, pos));
    }
    if (name == "count") {
        DUET_TRY(std::string sub, string_arg(args, 0, "sub", name));
        if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s)) + 1);
        int64_t n = 0;
        for (size_t pos = s.find(sub); pos != std::string::npos; pos = s.find(sub, pos + sub.size())) ++n;
        return Value(n);
    }
    if (name == "join") {
        const Value* items = args.get(0, "iterable");
        if (items == nullptr) return Status::invalid_argument("join: missing iterable");
        DUET_TRY(Array parts, iterate(*items));
        std::string out;
        for (size_t i = 0; i < parts.size(); ++i) {
            if (!parts[i].is_string())
                return Status::invalid_argument("join: sequence item %zu: expected str instance, %s found", i,
                                                std::string(parts[i].type_name()).c_str());
            if (i > 0) out += s;
            out += parts[i].as_string();
        }
        DUET_RETURN_IF_ERROR(rt.charge(out.size()));
        return Value(std::move(out));
    }
    if (name == "splitlines") {
        Array lines;
        size_t start = 0;
        for (size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '\n' || s[i] == '\r') {
                lines.emplace_back(s.substr(start, i - start));
                if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
                start = i + 1;
            }
        }
        if (start < s.size()) lines.emplace_back(s.substr(start));
        DUET_RETURN_IF_ERROR(rt.charge(s.size() + lines.size() * sizeof(Value)));
        return Value(std::move(lines));
    }
    if (name.substr(0, 2) == "is") {
        auto all = [&](auto pred) {
            return !s.empty() &&
                   std::all_of(s.begin(), s.end(), [&](char c) { return pred(static_cast<unsigned char>(c)); });
        };
        if (name == "isdigit") return Value(all([](unsigned char c) { return std::isdigit(c) != 0; }));
        if (name == "isalpha") return Value(all([](unsigned char c) { return std::isalpha(c) != 0 || c >= 0x80; }));
        if (name == "isalnum") return Value(all([](unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; }));
        if (name == "isspace") {
            auto cps = utf8_decode(s);
            return Value(!cps.empty() && std::all_of(cps.begin(), cps.end(), is_python_space));
        }
        bool has_cased =
            std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
        if (name == "isupper") return Value(has_cased && ascii_upper(s) == s);
        if (name == "islower") return Value(has_cased && ascii_lower(s) == s);
    }
    if (name == "format") return format_string(rt, s, args);
    if (name == "removeprefix" || name == "removesuffix") {
        DUET_TRY(std::string affix, string_arg(args, 0, name == "removeprefix" ? "prefix" : "suffix", name));
        if (affix.size() <= s.size()) {
            if (name == "removeprefix" && s.compare(0, affix.size(), affix) == 0) return Value(s.substr(affix.size()));
            if (name == "removesuffix" && s.compare(s.size() - affix.size(), affix.size(), affix) == 0)
                return Value(s.substr(0, s.size() - affix.size()));
        }
        return Value(s);
    }
    return Status::invalid_argument("str has no method '%.*s'", static_cast<int>(name.size()), name.data());
}

}  // namespace

bool has_method(const Value& self, std::string_view name) {
    switch (self.kind()) {
        case Kind::string:
            return listed(kStringMethods, name);
        case Kind::object:
            return !self.is_namespace() && (listed(kDictMethods, name) || listed(kUnsafeMethods, name));
        case Kind::array:
            return listed(kListMethods, name) || listed(kUnsafeMethods, name);
        default:
            return false;
    }
}

Result<Value> call_method(Runtime& rt, const Value& self, std::string_view name, CallArgs& args) {
    if (listed(kUnsafeMethods, name) && !self.is_string())
        return Status::invalid_argument("%s.%.*s is not allowed: template data is read-only",
                                        std::string(self.type_name()).c_str(), static_cast<int>(name.size()),
                                        name.data());
    if (self.is_string()) return string_method(rt, self.as_string(), name, args);
    if (self.is_object()) {
        const Object& obj = self.as_object();
        if (name == "get") {
            const Value* key = args.get(0, "key");
            const Value* def = args.get(1, "default");
            const Value* found = key != nullptr && key->is_string() ? obj.find(key->as_string()) : nullptr;
            if (found != nullptr) return *found;
            return def != nullptr ? *def : Value::none();
        }
        Array out;
        out.reserve(obj.size());
        for (const auto& [k, v] : obj.entries()) {
            if (name == "keys") out.emplace_back(k);
            else if (name == "values") out.push_back(v);
            else out.push_back(Value::tuple(Array{Value(k), v}));
        }
        DUET_RETURN_IF_ERROR(rt.charge(out.size() * 3 * sizeof(Value)));
        return Value(std::move(out));
    }
    if (self.is_array()) {
        const Value* x = args.get(0, "value");
        if (x == nullptr)
            return Status::invalid_argument("list.%.*s: missing argument", static_cast<int>(name.size()), name.data());
        const Array& items = self.as_array();
        int64_t n = 0;
        for (size_t i = 0; i < items.size(); ++i) {
            if (!items[i].equals(*x)) continue;
            if (name == "index") return Value(static_cast<int64_t>(i));
            ++n;
        }
        if (name == "index") return Status::invalid_argument("list.index: value is not in list");
        return Value(n);
    }
    return Status::invalid_argument("'%s' object has no method '%.*s'", std::string(self.type_name()).c_str(),
                                    static_cast<int>(name.size()), name.data());
}

Result<Value> get_attribute(const Value& object, std::string_view name) {
    if (object.is_undefined())
        return Status::invalid_argument("cannot read attribute '%.*s' of an undefined value",
                                        static_cast<int>(name.size()), name.data());
    if (object.is_object() && !object.is_namespace() && listed(kDictMethods, name)) return bind_method(object, name);
    if (object.is_object()) {
        const Value* v = object.find(name);
        if (v != nullptr) return *v;
        if (has_method(object, name)) return bind_method(object, name);
        return Value::undefined();
    }
    if (has_method(object, name)) return bind_method(object, name);
    return Value::undefined();
}

Result<Value> get_item(const Value& object, const Value& key) {
    if (object.is_undefined())
        return Status::invalid_argument("cannot index an undefined value with %s", key.repr().c_str());
    if ((object.is_array() || object.is_string()) && is_integral(key)) {
        if (object.is_array()) {
            const Array& items = object.as_array();
            int64_t i = key.as_int();
            if (i < 0) i += static_cast<int64_t>(items.size());
            if (i < 0 || i >= static_cast<int64_t>(items.size())) return Value::undefined();
            return items[static_cast<size_t>(i)];
        }
        auto cps = utf8_decode(object.as_string());
        int64_t i = key.as_int();
        if (i < 0) i += static_cast<int64_t>(cps.size());
        if (i < 0 || i >= static_cast<int64_t>(cps.size())) return Value::undefined();
        return Value(utf8_encode(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
    }
    if (object.is_object() && key.is_string()) {
        if (const Value* v = object.find(key.as_string())) return *v;
    }
    if (key.is_string()) return get_attribute(object, key.as_string());
    return Value::undefined();
}

Result<Value> python_slice(Runtime& rt, const Value& object, const Value& start, const Value& stop, const Value& step) {
    if (!object.is_array() && !object.is_string())
        return Status::invalid_argument("'%s' object is not subscriptable", std::string(object.type_name()).c_str());
    auto bound = [](const Value& v, const char* what) -> Result<const Value*> {
        if (v.is_none() || v.is_undefined()) return static_cast<const Value*>(nullptr);
        if (!is_integral(v)) return Status::invalid_argument("slice %s must be an integer or None", what);
        return &v;
    };
    DUET_TRY(const Value* start_v, bound(start, "start"));
    DUET_TRY(const Value* stop_v, bound(stop, "stop"));
    DUET_TRY(const Value* step_v, bound(step, "step"));
    int64_t st = step_v ? step_v->as_int() : 1;
    if (st == 0) return Status::invalid_argument("slice step cannot be zero");
    std::vector<uint32_t> cps;
    if (object.is_string()) cps = utf8_decode(object.as_string());
    const auto len = static_cast<int64_t>(object.is_string() ? cps.size() : object.as_array().size());
    // CPython's PySlice_AdjustIndices.
    auto adjust = [&](const Value* v, int64_t def) {
        if (v == nullptr) return def;
        int64_t i = v->as_int();
        if (i < 0) {
            i += len;
            if (i < 0) i = st < 0 ? -1 : 0;
        } else if (i >= len) {
            i = st < 0 ? len - 1 : len;
        }
        return i;
    };
    int64_t lo = adjust(start_v, st < 0 ? len - 1 : 0);
    int64_t hi = adjust(stop_v, st < 0 ? -1 : len);
    std::vector<size_t> picks;
    for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) picks.push_back(static_cast<size_t>(i));
    DUET_RETURN_IF_ERROR(rt.charge(picks.size() * sizeof(Value)));
    if (object.is_string()) {
        std::string out;
        for (size_t i : picks) utf8_append(out, cps[i]);
        return Value(std::move(out));
    }
    Array out;
    out.reserve(picks.size());
    for (size_t i : picks) out.push_back(object.as_array()[i]);
    return Value(std::move(out));
}

Result<int> python_compare(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) {
            double x = a.as_double(), y = b.as_double();
            return x < y ? -1 : x > y ? 1 : 0;
        }
        return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        int c = a.as_string().compare(b.as_string());
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_array() && b.is_array()) {
        const Array& x = a.as_array();
        const Array& y = b.as_array();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (x[i].equals(y[i])) continue;
            return python_compare(x[i], y[i]);
        }
        return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    return Status::invalid_argument("'<' not supported between instances of '%s' and '%s'",
                                    std::string(a.type_name()).c_str(), std::string(b.type_name()).c_str());
}

Result<Array> iterate(const Value& v) {
    switch (v.kind()) {
        case Kind::array:
            return v.as_array();
        case Kind::object: {
            if (v.is_namespace()) break;
            Array keys;
            keys.reserve(v.as_object().size());
            for (const auto& [k, unused] : v.as_object().entries()) keys.emplace_back(k);
            return keys;
        }
        case Kind::string: {
            Array chars;
            auto cps = utf8_decode(v.as_string());
            chars.reserve(cps.size());
            for (size_t i = 0; i < cps.size(); ++i) chars.emplace_back(utf8_encode(cps, i, i + 1));
            return chars;
        }
        case Kind::undefined:
            return Array{};
        default:
            break;
    }
    return Status::invalid_argument("'%s' object is not iterable", std::string(v.type_name()).c_str());
}

}  // namespace duet::tok::jinja
