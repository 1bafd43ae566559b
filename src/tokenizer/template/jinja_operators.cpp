// jinja_operators.cpp: Python semantics of the binary operators (+ - * / // % ** ~), comparisons and `in`.
#include <cmath>
#include <limits>

#include "tokenizer/template/jinja_eval.h"

namespace duet::tok::jinja {

namespace {

Status type_error(std::string_view op, const Value& a, const Value& b) {
    return Status::invalid_argument("unsupported operand type(s) for %s: '%s' and '%s'", std::string(op).c_str(),
                                    std::string(a.type_name()).c_str(), std::string(b.type_name()).c_str());
}

bool is_integral(const Value& v) { return v.is_int() || v.is_bool(); }

Result<Value> contains(const Value& needle, const Value& haystack) {
    switch (haystack.kind()) {
        case Kind::string:
            if (!needle.is_string())
                return Status::invalid_argument("'in <string>' requires string as left operand, not %s",
                                                std::string(needle.type_name()).c_str());
            return Value(haystack.as_string().find(needle.as_string()) != std::string::npos);
        case Kind::array:
            for (const Value& item : haystack.as_array())
                if (item.equals(needle)) return Value(true);
            return Value(false);
        case Kind::object:
            return Value(needle.is_string() && haystack.find(needle.as_string()) != nullptr);
        case Kind::undefined:
            return Value(false);
        default:
            return Status::invalid_argument("argument of type '%s' is not iterable",
                                            std::string(haystack.type_name()).c_str());
    }
}

}  // namespace

Result<bool> compare_values(std::string_view op, const Value& a, const Value& b) {
    if (op == "==") return a.equals(b);
    if (op == "!=") return !a.equals(b);
    if (op == "in" || op == "not in") {
        DUET_TRY(Value found, contains(a, b));
        return found.as_bool() == (op == "in");
    }
    DUET_TRY(int c, python_compare(a, b));
    if (op == "<") return c < 0;
    if (op == "<=") return c <= 0;
    if (op == ">") return c > 0;
    return c >= 0;
}

namespace {

Result<Value> repeat(Runtime& rt, const Value& seq, int64_t n) {
    if (n <= 0) return seq.is_string() ? Value("") : Value::array();
    size_t unit = seq.is_string() ? seq.as_string().size() : seq.as_array().size();
    if (unit != 0 && static_cast<uint64_t>(n) > rt.limits().max_output_bytes / unit)
        return Status::out_of_range("sequence repetition too large");
    auto count = static_cast<size_t>(n);
    if (seq.is_string()) {
        DUET_RETURN_IF_ERROR(rt.charge(unit * count));
        std::string out;
        out.reserve(unit * count);
        for (size_t i = 0; i < count; ++i) out += seq.as_string();
        return Value(std::move(out));
    }
    if (unit * count > rt.limits().max_collection_size) return Status::out_of_range("list repetition too large");
    DUET_RETURN_IF_ERROR(rt.charge(unit * count * sizeof(Value)));
    Array out;
    for (size_t i = 0; i < count; ++i) out.insert(out.end(), seq.as_array().begin(), seq.as_array().end());
    return Value(std::move(out));
}

}  // namespace

Result<Value> binary_operator(Runtime& rt, std::string_view op, const Value& a, const Value& b) {
    if (op == "~") {
        std::string s = a.to_string();
        s += b.to_string();
        DUET_RETURN_IF_ERROR(rt.charge(s.size()));
        return Value(std::move(s));
    }
    if (a.is_undefined() || b.is_undefined())
        return Status::invalid_argument("undefined value used with operator '%s'", std::string(op).c_str());
    if (op == "+") {
        if (a.is_string() && b.is_string()) {
            DUET_RETURN_IF_ERROR(rt.charge(a.as_string().size() + b.as_string().size()));
            std::string s;
            s.reserve(a.as_string().size() + b.as_string().size());
            s += a.as_string();
            s += b.as_string();
            return Value(std::move(s));
        }
        if (a.is_array() && b.is_array()) {
            size_t n = a.as_array().size() + b.as_array().size();
            if (n > rt.limits().max_collection_size) return Status::out_of_range("list too large");
            DUET_RETURN_IF_ERROR(rt.charge(n * sizeof(Value)));
            Array out = a.as_array();
            out.insert(out.end(), b.as_array().begin(), b.as_array().end());
            return Value(std::move(out));
        }
    }
    if (op == "*") {
        if ((a.is_string() || a.is_array()) && is_integral(b)) return repeat(rt, a, b.as_int());
        if (is_integral(a) && (b.is_string() || b.is_array())) return repeat(rt, b, a.as_int());
    }
    if (!a.is_number() || !b.is_number()) return type_error(op, a, b);
    if (is_integral(a) && is_integral(b) && op != "/") {
        int64_t x = a.as_int(), y = b.as_int(), r = 0;
        if (op == "+" && !__builtin_add_overflow(x, y, &r)) return Value(r);
        if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return Value(r);
        if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return Value(r);
        if (op == "//" || op == "%") {
            if (y == 0) return Status::invalid_argument("integer division or modulo by zero");
            if (x == std::numeric_limits<int64_t>::min() && y == -1) return Status::out_of_range("integer overflow");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors toward negative infinity
                --q;
                m += y;
            }
            return Value(op == "//" ? q : m);
        }
        if (op == "**" && y >= 0) {
            int64_t result = 1;
            for (int64_t i = 0; i < y; ++i) {
                if (__builtin_mul_overflow(result, x, &result)) return Status::out_of_range("integer overflow");
                if (result == 0 || result == 1) break;
            }
            if ((result == 1 && x == -1 && (y % 2) == 1)) result = -1;
            return Value(result);
        }
        if (op != "**") return Status::out_of_range("integer overflow");
    }
    double x = a.as_double(), y = b.as_double();
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "/" || op == "//" || op == "%") {
        if (y == 0.0) return Status::invalid_argument("float division by zero");
        if (op == "/") return Value(x / y);
        if (op == "//") return Value(std::floor(x / y));
        double m = std::fmod(x, y);
        if (m != 0.0 && ((m < 0) != (y < 0))) m += y;
        return Value(m);
    }
    if (op == "**") return Value(std::pow(x, y));
    return type_error(op, a, b);
}

}  // namespace duet::tok::jinja
