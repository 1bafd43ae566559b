// jinja_value.h: the dynamic value of the Jinja interpreter (None, bool, int, float, str, list, dict, ...).
//
// Values follow Python semantics as Jinja2 sees them: lists and dicts are reference types (copying a Value
// shares the container), dicts keep insertion order, strings are UTF-8 and indexed by code point.
// `undefined` is Jinja2's default Undefined: falsey, renders as "", iterates as empty, errors on arithmetic.
// Namespaces (namespace()) and callables (filters, macros, bound methods) exist only inside the interpreter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace duet::tok::jinja {

class Value;
struct Function;  // a callable (builtin, macro, bound method); defined in jinja_eval.h

enum class Kind { undefined, none, boolean, integer, floating, string, array, object, function };

using Array = std::vector<Value>;

// Insertion-ordered string-keyed map.
class Object {
public:
    const Value* find(std::string_view key) const;
    // Insert, or replace the value of an existing key in place (keeps its position).
    void set(std::string key, Value value);
    size_t size() const;
    const std::vector<std::pair<std::string, Value>>& entries() const;

private:
    std::vector<std::pair<std::string, Value>> entries_;
    std::unordered_map<std::string, size_t> index_;  // built once the object grows past a few keys
};

class Value {
public:
    Value() : kind_(Kind::none) {}  // None
    Value(bool b) : kind_(Kind::boolean), int_(b ? 1 : 0) {}
    Value(int i) : kind_(Kind::integer), int_(i) {}
    Value(int64_t i) : kind_(Kind::integer), int_(i) {}
    Value(double d) : kind_(Kind::floating), float_(d) {}
    Value(std::string s) : kind_(Kind::string), str_(std::make_shared<const std::string>(std::move(s))) {}
    Value(std::string_view s) : Value(std::string(s)) {}
    Value(const char* s) : Value(std::string(s)) {}
    Value(Array a) : kind_(Kind::array), array_(std::make_shared<Array>(std::move(a))) {}
    Value(Object o) : kind_(Kind::object), object_(std::make_shared<Object>(std::move(o))) {}

    static Value undefined() {
        Value v;
        v.kind_ = Kind::undefined;
        return v;
    }
    static Value none() { return Value(); }
    static Value array() { return Value(Array{}); }
    static Value object() { return Value(Object{}); }
    static Value namespace_object(Object o) {
        Value v(std::move(o));
        v.is_namespace_ = true;
        return v;
    }
    static Value tuple(Array a) {
        Value v(std::move(a));
        v.is_tuple_ = true;
        return v;
    }  // repr "(1, 2)"
    static Value function(std::shared_ptr<const Function> f);

    // Builders (arrays and objects are shared by reference: building mutates every copy).
    void push_back(Value v);             // array only
    void set(std::string key, Value v);  // object only

    Kind kind() const { return kind_; }
    bool is_undefined() const { return kind_ == Kind::undefined; }
    bool is_none() const { return kind_ == Kind::none; }
    bool is_bool() const { return kind_ == Kind::boolean; }
    bool is_int() const { return kind_ == Kind::integer; }
    bool is_float() const { return kind_ == Kind::floating; }
    bool is_number() const { return kind_ == Kind::integer || kind_ == Kind::floating || kind_ == Kind::boolean; }
    bool is_string() const { return kind_ == Kind::string; }
    bool is_array() const { return kind_ == Kind::array; }
    bool is_object() const { return kind_ == Kind::object; }
    bool is_namespace() const { return kind_ == Kind::object && is_namespace_; }
    bool is_tuple() const { return kind_ == Kind::array && is_tuple_; }
    bool is_function() const { return kind_ == Kind::function; }

    bool as_bool() const { return int_ != 0; }
    int64_t as_int() const { return int_; }  // integer or boolean
    double as_double() const { return kind_ == Kind::floating ? float_ : static_cast<double>(int_); }
    const std::string& as_string() const { return *str_; }
    const Array& as_array() const { return *array_; }
    const Object& as_object() const { return *object_; }
    Object& mutable_object() const { return *object_; }  // namespaces only (set ns.attr)
    const std::shared_ptr<const Function>& as_function() const { return function_; }

    // Python truthiness: None/undefined/False/0/0.0/""/[]/{} are false.
    bool truthy() const;
    // Object key lookup; nullptr when absent or not an object.
    const Value* find(std::string_view key) const;

    // Python-equality (1 == 1.0 == True, lists/dicts compared deeply, undefined == undefined only).
    bool equals(const Value& other) const;
    // str(value) as Jinja2 renders it: None -> "None", True -> "True", 1.0 -> "1.0", undefined -> "".
    std::string to_string() const;
    // repr(value), used inside list/dict rendering: strings quoted.
    std::string repr() const;
    // Name of the Python type ("str", "int", "list", ...), for error messages.
    std::string_view type_name() const;

private:
    Kind kind_;
    bool is_namespace_ = false;
    bool is_tuple_ = false;
    int64_t int_ = 0;
    double float_ = 0.0;
    std::shared_ptr<const std::string> str_;
    std::shared_ptr<Array> array_;
    std::shared_ptr<Object> object_;
    std::shared_ptr<const Function> function_;
};

inline size_t Object::size() const { return entries_.size(); }
inline const std::vector<std::pair<std::string, Value>>& Object::entries() const { return entries_; }

// Python float repr: shortest round-trip digits, "1.0", "21.5", "1e-05", "1e+16", "inf", "nan".
std::string python_float_repr(double d);

// json.dumps options. indent < 0 means None (one line); without custom_separators Python's defaults apply
// (", " and ": ", or "," and ": " when indented).
struct JsonOptions {
    int indent = -1;
    bool ensure_ascii = false;
    bool sort_keys = false;
    std::string item_separator;
    std::string key_separator;
    bool custom_separators = false;
};
// json.dumps(value, ...). Returns false (and a message) for values JSON cannot hold.
bool to_json(const Value& value, const JsonOptions& options, std::string& out, std::string& error);

// UTF-8 helpers (strings are indexed by code point, like Python str). Invalid bytes decode as U+FFFD-like
// single units so indexing never fails.
std::vector<uint32_t> utf8_decode(std::string_view s);
void utf8_append(std::string& out, uint32_t cp);
std::string utf8_encode(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t utf8_length(std::string_view s);
// Python str.isspace() for one code point.
bool is_python_space(uint32_t cp);

}  // namespace duet::tok::jinja
